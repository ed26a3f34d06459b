package sqlserver

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

// BackupOptions describes the one-time backup of a database to an Azure container.
type BackupOptions struct {
	Database     string // the de-identified database
	ContainerURL string // https://ACCOUNT.blob.core.windows.net/CONTAINER, without a token
	Stripes      int    // backup files written in parallel (1–64); one blob holds up to ~200 GB
	// SAS is the grant's token as its token file holds it — the container's URL with the
	// shared access signature as its query string — or "" for a placeholder the DBA replaces.
	// The credential's secret is the query string alone (SQL Server wants no URL and no ?),
	// and a token for another account or container than ContainerURL is refused.
	SAS string
}

// SplitToken checks a token (a container SAS URL, as 'transfer grant' writes it) against the
// container URL the backup writes to, which may be empty to take the token's, and returns the
// container URL and the bare query string the credential's SECRET needs.
func SplitToken(token, containerURL string) (container, secret string, err error) {
	token = strings.TrimSpace(token)
	u, err := url.Parse(token)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", "", errors.New("the token is not a container address with a shared access signature (https://ACCOUNT.blob.core.windows.net/CONTAINER?sv=…&sig=…): give the token file 'transfer grant' wrote, as it is, so that its account and container can be checked")
	}
	if u.Scheme != "https" {
		return "", "", fmt.Errorf("the token's address uses %s: HTTPS only", u.Scheme)
	}
	q := u.Query()
	switch {
	case !q.Has("sig") || !q.Has("sv"):
		return "", "", errors.New("the token has no shared access signature (sv=…&sig=…)")
	case q.Get("sr") != "c":
		return "", "", fmt.Errorf("the token is for a %q resource, not a container (sr=c): BACKUP TO URL needs a container token", q.Get("sr"))
	}
	tc := "https://" + u.Host + "/" + strings.Trim(u.Path, "/")
	if containerURL == "" {
		containerURL = tc
	}
	want, err := url.Parse(strings.TrimRight(containerURL, "/"))
	if err != nil {
		return "", "", fmt.Errorf("--container-url %q: %w", containerURL, err)
	}
	switch {
	case !strings.EqualFold(u.Host, want.Host):
		return "", "", fmt.Errorf("the token is for account host %s, but --container-url is on %s: a credential named by one account's container cannot use another's token", u.Host, want.Host)
	case strings.Trim(u.Path, "/") != strings.Trim(want.Path, "/"):
		return "", "", fmt.Errorf("the token is for container %s, but --container-url names container %s", strings.Trim(u.Path, "/"), strings.Trim(want.Path, "/"))
	}
	return tc, u.RawQuery, nil
}

// SASPlaceholder stands for the token when the script is written without it.
const SASPlaceholder = "<paste the shared-access token here, without the leading ?>"

// JobName is the SQL Agent job's name for a database.
func JobName(database string) string { return "Steward backup of " + database }

// Check validates the options and returns the container URL in canonical form.
func (o BackupOptions) check() (string, error) {
	if o.Database == "" {
		return "", errors.New("--database is required")
	}
	if o.Stripes < 1 || o.Stripes > 64 {
		return "", fmt.Errorf("--stripes %d: SQL Server writes to 1 to 64 URLs at once", o.Stripes)
	}
	u, err := url.Parse(o.ContainerURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.Trim(u.Path, "/") == "" || strings.Contains(strings.Trim(u.Path, "/"), "/") {
		return "", fmt.Errorf("--container-url %q: give https://ACCOUNT.blob.core.windows.net/CONTAINER", o.ContainerURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("--container-url must not carry the token: give it with --sas-file")
	}
	if strings.ContainsAny(strings.TrimSpace(o.SAS), "\r\n") {
		return "", errors.New("the shared-access token must be one line")
	}
	return "https://" + u.Host + "/" + strings.Trim(u.Path, "/"), nil
}

// BackupURLs are the blobs the backup writes: DATABASE_1.bak … DATABASE_N.bak.
func (o BackupOptions) BackupURLs(container string) []string {
	urls := make([]string, o.Stripes)
	for i := range urls {
		urls[i] = container + "/" + url.PathEscape(o.Database) + "_" + strconv.Itoa(i+1) + ".bak"
	}
	return urls
}

// BackupScript writes the script the DBA runs on the SQL Server holding the de-identified
// copy: the credential holding the shared-access token (named by the container's URL, as
// BACKUP TO URL looks it up), and a SQL Agent job that backs the database up to the container,
// striped, compressed and checksummed, which it then starts.
func BackupScript(w io.Writer, o BackupOptions) error {
	container, err := o.check()
	if err != nil {
		return err
	}
	secret := SASPlaceholder
	if o.SAS != "" {
		if _, secret, err = SplitToken(o.SAS, container); err != nil {
			return err
		}
	}
	var to []string
	for _, u := range o.BackupURLs(container) {
		to = append(to, "URL = "+lit(u))
	}
	backup := "BACKUP DATABASE " + ident(o.Database) + " TO " + strings.Join(to, ", ") +
		" WITH COMPRESSION, CHECKSUM, FORMAT, STATS = 5, MAXTRANSFERSIZE = 4194304, BLOCKSIZE = 65536;"
	job := lit(JobName(o.Database))
	s := &scriptWriter{w: w}
	s.f("-- Steward: one-time backup of %s to %s, through a SQL Agent job.\n", comment(ident(o.Database)), comment(container))
	if o.SAS == "" {
		s.f("-- Replace the placeholder in CREATE CREDENTIAL with the token the vendor sent.\n")
	} else {
		s.f("-- THIS SCRIPT CONTAINS THE SHARED-ACCESS TOKEN: delete it once the job has run.\n")
	}
	s.f("-- Run it after deid.sql has run to its end (it rebuilds the rewritten tables, cleans free space and\n-- empties the log, so that the backup's pages hold no old value; see dbo.steward_progress, step finished).\n")
	s.f("-- Tell the vendor when the job has succeeded; after the vendor confirms, run the clean-up script.\n\n")
	s.f("USE [master];\nIF EXISTS (SELECT 1 FROM sys.credentials WHERE name = %s)\n    DROP CREDENTIAL %s;\n", lit(container), ident(container))
	s.f("CREATE CREDENTIAL %s WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = %s;\nGO\n\n", ident(container), alit(secret))
	s.f("USE [msdb];\nIF EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = %s)\n    EXEC msdb.dbo.sp_delete_job @job_name = %s;\n", job, job)
	s.f("EXEC msdb.dbo.sp_add_job @job_name = %s, @enabled = 1, @description = %s;\n", job,
		lit("One-time backup of the de-identified copy to the vendor's container, made by Steward."))
	s.f("EXEC msdb.dbo.sp_add_jobstep @job_name = %s, @step_name = N'Backup to URL', @subsystem = N'TSQL', @database_name = N'master',\n    @command = %s;\n", job, lit(backup))
	s.f("EXEC msdb.dbo.sp_add_jobserver @job_name = %s, @server_name = N'(local)';\n", job)
	s.f("EXEC msdb.dbo.sp_start_job @job_name = %s;\nGO\n\n", job)
	s.f("-- Follow the job: the step's message shows the percentage (STATS = 5).\n")
	s.f("-- SELECT TOP (5) run_status, message FROM msdb.dbo.sysjobhistory h JOIN msdb.dbo.sysjobs j ON j.job_id = h.job_id WHERE j.name = %s ORDER BY instance_id DESC;\n", job)
	s.f("-- Check the backup once written: RESTORE VERIFYONLY FROM %s;\n", strings.Join(to, ", "))
	return s.err
}

// CleanupScript writes what the DBA runs once the vendor has confirmed the transfer: it
// drops the credential, deletes the job and drops the de-identified database.
func CleanupScript(w io.Writer, o BackupOptions) error {
	container, err := o.check()
	if err != nil {
		return err
	}
	job := lit(JobName(o.Database))
	s := &scriptWriter{w: w}
	s.f("-- Steward: clean-up after the vendor confirmed the transfer of %s.\n", comment(ident(o.Database)))
	s.f("-- It drops the credential, the SQL Agent job and the de-identified copy. Dropping the copy\n-- cannot be undone: run this only after the vendor's confirmation.\n\n")
	s.f("USE [master];\nIF EXISTS (SELECT 1 FROM sys.credentials WHERE name = %s)\n    DROP CREDENTIAL %s;\nGO\n\n", lit(container), ident(container))
	s.f("IF EXISTS (SELECT 1 FROM msdb.dbo.sysjobs WHERE name = %s)\n    EXEC msdb.dbo.sp_delete_job @job_name = %s, @delete_history = 1;\nGO\n\n", job, job)
	s.f("IF DB_ID(%s) IS NOT NULL\nBEGIN\n    ALTER DATABASE %s SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\n    DROP DATABASE %s;\nEND;\nGO\n",
		lit(o.Database), ident(o.Database), ident(o.Database))
	return s.err
}
