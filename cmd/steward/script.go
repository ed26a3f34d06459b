package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/sqlserver"
	"github.com/stewardhealth/steward/internal/transfer/azure"
)

func checkDialect(d string) error {
	if d != "sqlserver" {
		return usageError(fmt.Errorf("--dialect %q: only sqlserver is supported (Steward connects to the other databases itself)", d))
	}
	return nil
}

func newDeidScript() *cobra.Command {
	var dialect, pol, keyFile, out, keyInclude string
	var embed bool
	cmd := &cobra.Command{
		Use:   "script --dialect sqlserver --policy policy.yaml --key-file steward.key [--out deid.sql]",
		Short: "Write a T-SQL script that applies the policy inside a SQL Server database",
		Long: `Write a T-SQL script that de-identifies a SQL Server database in place by the policy, for
servers Steward does not connect to. The script gives the same values as 'deid run' for the same
key: before changing anything it checks the key's fingerprint and compares its own HMAC-SHA256
(built from HASHBYTES) and rule expressions with values Steward's engine computed for test
vectors, and stops with an error if any differs. It reads column sizes from the live schema,
checks every table, column and type and that both ends of each foreign key get the same rule,
drops the foreign keys on rewritten columns and disables the rewritten tables' triggers, then
rewrites each table in a transaction of its own recorded in dbo.steward_progress (run it again
after an interruption: it goes on where it stopped, never transforming a value twice; another
key or policy is refused). At the end it re-creates the foreign keys WITH CHECK, re-enables the
triggers, rebuilds every rewritten table and index, runs sp_clean_db_free_space, checkpoints
and shrinks the log (SIMPLE recovery), and clears Query Store and the database's plan cache:
see the README for what this does and does not guarantee of the backup. It needs SQL Server
2019 or later and SQLCMD mode (sqlcmd, or SSMS with SQLCMD Mode on).

Reproduced: ` + sqlserver.Covered + `. Other rules (scrub, placeholder url, hash alphabets other
than hex, age_band, hash of integer columns) are refused, naming the table and column:
use 'deid run' on a copy for those.

The key (--key-file, or STEWARD_KEY) computes the self-test values. The script reads the key
at run time from a sqlcmd file that --key-include writes (':setvar StewardKey 0x…', readable by
its owner only), named by the sqlcmd variable StewardKeyFile — never from a command line —
unless --embed-key writes the key into the script itself (then only into --out, owner-only).`,
		Example: `  steward deid script --dialect sqlserver --policy policy.yaml --key-file steward.key --out deid.sql --key-include steward-key.sql
  sqlcmd -S sqlhost -d XT_copy -b -f 65001 -v StewardKeyFile=steward-key.sql -i deid.sql
  (SSMS, SQLCMD Mode:  :setvar StewardKeyFile "C:\secure\steward-key.sql"  then  :r "C:\scripts\deid.sql")`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDialect(dialect); err != nil {
				return err
			}
			p, err := policy.Load(pol)
			if err != nil {
				return err
			}
			key, err := loadKey(keyFile, false, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			o := sqlserver.DeidOptions{Policy: p, Key: key}
			if embed {
				if out == "" {
					return usageError(errors.New("--embed-key writes the key into the script: give --out FILE (written readable by its owner only)"))
				}
				if o.EmbedKey, err = keySecret(keyFile); err != nil {
					return err
				}
			}
			var b bytes.Buffer
			if err := sqlserver.DeidScript(&b, o); err != nil {
				return err
			}
			if keyInclude != "" {
				if embed {
					return usageError(errors.New("--key-include and --embed-key: choose one"))
				}
				secret, err := keySecret(keyFile)
				if err != nil {
					return err
				}
				if err := writeSecret(keyInclude, strings.TrimSuffix(sqlserver.KeyInclude(secret), "\n")); err != nil {
					return fmt.Errorf("key include file: %w", err)
				}
			}
			return writeScript(cmd.OutOrStdout(), out, b.Bytes())
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dialect, "dialect", "sqlserver", "SQL dialect of the script (sqlserver)")
	fl.StringVar(&pol, "policy", "", "policy file (YAML)")
	fl.StringVar(&keyFile, "key-file", "", "file holding the secret hashing key (else $STEWARD_KEY)")
	fl.BoolVar(&embed, "embed-key", false, "write the key into the script instead of reading it from the sqlcmd file StewardKeyFile names")
	fl.StringVar(&keyInclude, "key-include", "", "write the sqlcmd file that gives the script its key (:setvar StewardKey 0x…, mode 0600)")
	fl.StringVar(&out, "out", "", "write the script to this file (mode 0600) instead of standard output")
	cmd.MarkFlagRequired("policy")
	return cmd
}

// keySecret is the key's bytes, read as loadKey reads them.
func keySecret(file string) ([]byte, error) {
	if file == "" {
		return []byte(os.Getenv("STEWARD_KEY")), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("key file: %w", err)
	}
	return bytes.TrimRight(b, "\r\n"), nil
}

// writeScript writes a script to path (owner-only), or to w when path is empty.
func writeScript(w io.Writer, path string, b []byte) error {
	if path == "" {
		_, err := w.Write(b)
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

func newTransferScript() *cobra.Command {
	var dialect, sasFile, out string
	var o sqlserver.BackupOptions
	cmd := &cobra.Command{
		Use:   "script --dialect sqlserver --database DB --container-url URL [--stripes N] [--sas-file F] --out DIR",
		Short: "Write the SQL Server scripts for the backup to an Azure container and the clean-up",
		Long: `Write two T-SQL scripts for the DBA of a SQL Server holding the de-identified copy:

  backup.sql   CREATE CREDENTIAL named by the container URL WITH IDENTITY = 'SHARED ACCESS
               SIGNATURE' and, as SECRET, the token's query string alone (--sas-file is the
               token file 'transfer grant' wrote; a token for another account or container
               than --container-url is refused), or a placeholder to replace; and a SQL
               Agent job (sp_add_job, sp_add_jobstep, sp_add_jobserver) running BACKUP DATABASE
               … TO URL, striped over --stripes blobs, WITH COMPRESSION, CHECKSUM; then starts it.
  cleanup.sql  DROP CREDENTIAL, sp_delete_job and DROP DATABASE, to run once the vendor has
               confirmed the transfer.

One blob holds up to about 200 GB: give one stripe per 100–150 GB of compressed backup. The
files are written readable by their owner only, since backup.sql may hold the token.`,
		Example: `  steward transfer script --dialect sqlserver --database XT_deid --container-url https://vendoracct.blob.core.windows.net/hospital-xt --stripes 4 --out xt-transfer`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDialect(dialect); err != nil {
				return err
			}
			if sasFile != "" {
				b, err := os.ReadFile(sasFile)
				if err != nil {
					return fmt.Errorf("token file: %w", err)
				}
				o.SAS = azure.ParseTokenFile(b).Token
				c, _, err := sqlserver.SplitToken(o.SAS, o.ContainerURL)
				if err != nil {
					return fmt.Errorf("token file %s: %w", sasFile, err)
				}
				o.ContainerURL = c
			}
			if o.ContainerURL == "" {
				return usageError(errors.New("give --container-url, or --sas-file with the grant's token file (its container is then the backup's)"))
			}
			var backup, cleanup bytes.Buffer
			if err := sqlserver.BackupScript(&backup, o); err != nil {
				return err
			}
			if err := sqlserver.CleanupScript(&cleanup, o); err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return err
			}
			for name, b := range map[string][]byte{"backup.sql": backup.Bytes(), "cleanup.sql": cleanup.Bytes()} {
				if err := writeScript(nil, filepath.Join(out, name), b); err != nil {
					return err
				}
			}
			token := "a placeholder for the token: replace it before running"
			if o.SAS != "" {
				token = "the token: delete the file once the job has run"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (credential, job, backup to %d URLs; holds %s) and %s (run after the vendor confirms)\n",
				filepath.Join(out, "backup.sql"), o.Stripes, token, filepath.Join(out, "cleanup.sql"))
			return logHandOver(cmd, "transfer.script", o.ContainerURL, map[string]string{"database": o.Database, "stripes": strconv.Itoa(o.Stripes), "token_included": strconv.FormatBool(o.SAS != "")})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dialect, "dialect", "sqlserver", "SQL dialect of the scripts (sqlserver)")
	fl.StringVar(&o.Database, "database", "", "the de-identified database to back up")
	fl.StringVar(&o.ContainerURL, "container-url", "", "https://ACCOUNT.blob.core.windows.net/CONTAINER (default: the token's)")
	fl.IntVar(&o.Stripes, "stripes", 1, "number of backup blobs written in parallel (1-64)")
	fl.StringVar(&sasFile, "sas-file", "", "the grant's token file, the container's SAS URL (else a placeholder)")
	fl.StringVar(&out, "out", "", "directory to write backup.sql and cleanup.sql to")
	for _, f := range []string{"database", "out"} {
		cmd.MarkFlagRequired(f)
	}
	return cmd
}
