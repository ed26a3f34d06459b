package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/progress"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/azure"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

func grantsDir() string { return filepath.Join(stateDir(), transfer.GrantsDir) }

// accountKey reads the storage account key from file, else $AZURE_STORAGE_KEY.
func accountKey(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("account key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	if k := os.Getenv("AZURE_STORAGE_KEY"); k != "" {
		return k, nil
	}
	return "", usageError(errors.New("no account key: give --account-key-file FILE or set AZURE_STORAGE_KEY"))
}

func grantDetail(g azure.Grant) map[string]string {
	return map[string]string{"account": g.Account, "container": g.Container, "policy": g.ID, "ip_range": g.IPRange,
		"permissions": g.Permissions, "expiry": g.Expiry.Format(time.RFC3339), "endpoint": g.Endpoint}
}

// writeSecret writes s to path, readable by its owner only.
func writeSecret(path, s string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil { // an existing file keeps its mode otherwise
		f.Close()
		return err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newTransferGrant() *cobra.Command {
	var (
		req                          azure.GrantRequest
		acct, endpoint, keyFile, out string
		show, asJSON                 bool
		forTool                      string
	)
	cmd := &cobra.Command{
		Use:   "grant --account A --container C --client-ip RANGE --duration D",
		Short: "Mint a revocable, HTTPS-only, IP-bound upload token for one container (vendor side)",
		Long: `Create the container if missing, add a stored access policy with a fresh identifier
(the container's other policies are kept; a container holds at most 5), and mint a service
SAS bound to it: HTTPS only, the client's IP range, expiring after --duration plus --margin,
with permissions read+create+write (--permissions rcw): create and write upload, read lets an
interrupted upload find what it already sent; cw gives up resuming; widen only if the client's
tool needs it (e.g. l to list). --for sqlserver gives what SQL Server's BACKUP TO URL needs
through a SAS credential, read+write+delete+list (rwdl, as Microsoft's "SQL Server Backup to
URL" article makes the policy); then write the backup job with 'transfer script --sas-file'.
Deleting the policy (steward transfer confirm / revoke) kills the token.

The token goes to a file readable only by you (default $STEWARD_HOME/grants/ID.sas), never to
the terminal unless --show-token; send it to the client's DBA through a secret channel. The
grant (never the key or the token) is recorded in $STEWARD_HOME/grants/ID.json and the audit log.
The account key comes from --account-key-file or AZURE_STORAGE_KEY.`,
		Example: `  steward transfer grant --account acmehandover --container xt-deid-2026 --client-ip 203.0.113.0-203.0.113.255 --duration 3h --account-key-file acct.key
  AZURE_STORAGE_KEY=$(cat acct.key) steward transfer grant --account acmehandover --container xt-deid-2026 --client-ip 203.0.113.7 --duration 90m --margin 1h --out xt.sas`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch forTool {
			case "push":
			case "sqlserver":
				if cmd.Flags().Changed("permissions") {
					return usageError(errors.New("--for sqlserver gives the permissions SQL Server's BACKUP TO URL needs (" + azure.SQLServerBackupPermissions + "): leave --permissions out"))
				}
				req.Permissions = azure.SQLServerBackupPermissions
			default:
				return usageError(fmt.Errorf("--for %q: push (steward transfer push) or sqlserver (BACKUP TO URL through a SAS credential)", forTool))
			}
			key, err := accountKey(keyFile)
			if err != nil {
				return err
			}
			l := ledger()
			req.Taken = l.Taken
			a := azure.Account{Name: acct, Key: key, Endpoint: endpoint}
			g, tok, err := a.Grant(cmd.Context(), req)
			if err != nil {
				return err
			}
			if out == "" {
				out = l.TokenPath(g.ID)
			}
			if err := l.Save(&g); err != nil {
				return fmt.Errorf("record grant %s (policy created; delete policy %s of container %s by hand): %w", g.ID, g.ID, g.Container, err)
			}
			if err := writeSecret(out, strings.TrimSuffix(azure.FormatTokenFile(g, tok), "\n")); err != nil {
				return fmt.Errorf("write the token of grant %s: %w", g.ID, err)
			}
			if err := l.Audit(cmd.Context(), "transfer.grant", "grant:"+g.ID, grantDetail(g)); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON { // the grant's record (never the key; the token only with --show-token) and the token file
				v := struct {
					azure.Grant
					TokenFile string `json:"token_file"`
					Token     string `json:"token,omitempty"`
				}{Grant: g, TokenFile: out}
				if show {
					v.Token = tok
				}
				return printJSON(w, v)
			}
			fmt.Fprintf(w, "grant %s: container %s of account %s, HTTPS only, client IP %s, permissions %s (policy %s)\n",
				g.ID, g.Container, g.Account, g.IPRange, g.Permissions, g.ID)
			fmt.Fprintf(w, "expires %s (in %s)\n", g.Expiry.Format("2006-01-02 15:04 MST"), (req.Duration + req.Margin).String())
			fmt.Fprintf(w, "token written to %s (readable only by you); hand it to the client's DBA through a secret channel\n", out)
			fmt.Fprintf(w, "after the upload: steward transfer confirm --grant %s\n", g.ID)
			if r, _ := azure.ParseIPRange(g.IPRange); isPrivate(r.Start) || isPrivate(r.End) {
				fmt.Fprintf(cmd.ErrOrStderr(), "note: %s is a private or loopback address; the service sees the client's public (egress) address, so the token will only work if that is it\n", g.IPRange)
			}
			if show {
				fmt.Fprintln(w, tok)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&acct, "account", "", "storage account name")
	fl.StringVar(&req.Container, "container", "", "container dedicated to this hand-over (created if missing)")
	fl.StringVar(&req.IPRange, "client-ip", "", "the client's public address or inclusive range a-b (IPv4)")
	fl.DurationVar(&req.Duration, "duration", 0, "expected duration of the backup and upload")
	fl.DurationVar(&req.Margin, "margin", 2*time.Hour, "added to --duration for the token's expiry")
	fl.StringVar(&endpoint, "endpoint", "", "blob endpoint (default https://ACCOUNT.blob.core.windows.net; Azurite: https://127.0.0.1:10000/devstoreaccount1)")
	fl.StringVar(&keyFile, "account-key-file", "", "file holding the account key (default $AZURE_STORAGE_KEY)")
	fl.StringVar(&out, "out", "", "token file (default $STEWARD_HOME/grants/ID.sas)")
	fl.BoolVar(&show, "show-token", false, "also print the token")
	addJSONFlag(fl, &asJSON)
	fl.StringVar(&req.Permissions, "permissions", "rcw", "permission letters of racwdl (cw: no resume)")
	fl.StringVar(&forTool, "for", "push", "what uploads with the token: push, or sqlserver (BACKUP TO URL: permissions rwdl)")
	for _, f := range []string{"account", "container", "client-ip", "duration"} {
		cmd.MarkFlagRequired(f)
	}
	return cmd
}

func isPrivate(ip net.IP) bool { return ip != nil && (ip.IsPrivate() || ip.IsLoopback()) }

func newTransferPush() *cobra.Command {
	var (
		sasFile  string
		o        azure.PushOptions
		blockMiB int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "push --sas-file F DIR",
		Short: "Upload a bundle with the vendor's token, resuming where an interrupted upload stopped (client side)",
		Long: `Upload every file of the bundle in DIR (as listed in DIR/manifest.json), then manifest.json
itself, as block blobs in fixed-size blocks, several in flight, retrying transient failures.
Run the same command again after an interruption: blocks and files already on the service are
not sent again (a rerun must keep the same --block-mib). The token is never printed.`,
		Example: `  steward transfer push --sas-file xt.sas ./xt-bundle
  steward transfer push --sas-file xt.sas --block-mib 16 --concurrency 8 ./xt-bundle`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(sasFile)
			if err != nil {
				return fmt.Errorf("token file: %w", err)
			}
			tf := azure.ParseTokenFile(b)
			if tf.Altered() {
				return fmt.Errorf("token file %s: %w", sasFile, &azure.Refusal{Code: "checksum", Reason: "signature does not match (altered): the token is not the one the vendor wrote (its checksum in the file's comment line differs)",
					Ask: "use the token file exactly as the vendor sent it, or ask the vendor for a new token"})
			}
			token := tf.Token
			o.Expiry = tf.Expiry
			o.BlockSize = int64(blockMiB) << 20
			prog, wait := newUploadProgress(cmd.ErrOrStderr())
			o.Progress = prog
			start := time.Now()
			rep, err := azure.Push(cmd.Context(), token, args[0], o)
			wait()
			el := time.Since(start)
			target := azure.Redact(strings.SplitN(token, "?", 2)[0])
			detail := map[string]string{"bundle": args[0], "files": fmt.Sprint(rep.Files), "bytes_sent": fmt.Sprint(rep.BytesSent),
				"blocks_sent": fmt.Sprint(rep.BlocksSent), "blocks_skipped": fmt.Sprint(rep.BlocksSkipped), "outcome": "done"}
			if err != nil {
				detail["outcome"] = "failed"
			}
			if rerr := ledger().Audit(cmd.Context(), "transfer.push", target, detail); rerr != nil && err == nil {
				err = rerr
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), pushResult{Destination: target, Files: rep.Files, FilesSkipped: rep.FilesSkipped,
					Sent: rep.BlocksSent, Skipped: rep.BlocksSkipped, BytesSent: rep.BytesSent, Seconds: el.Seconds(), Resumable: &rep.Resumable})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pushed %d files to %s (%d already there): %d blocks sent, %d already staged, %.1f MiB in %s (%.1f MiB/s)\n",
				rep.Files, target, rep.FilesSkipped, rep.BlocksSent, rep.BlocksSkipped, float64(rep.BytesSent)/(1<<20),
				el.Round(time.Millisecond), float64(rep.BytesSent)/(1<<20)/max(el.Seconds(), 1e-9))
			if !rep.Resumable {
				fmt.Fprintln(cmd.OutOrStdout(), "note: the token cannot read block lists, so an interrupted upload starts its file over")
			}
			fmt.Fprintln(cmd.OutOrStdout(), "tell the vendor the upload is complete, so that they confirm it and revoke the token")
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&sasFile, "sas-file", "", "file holding the token (the container's SAS URL) the vendor sent")
	fl.IntVar(&blockMiB, "block-mib", azure.DefaultBlockSize>>20, "block size in MiB (keep it when resuming)")
	fl.IntVar(&o.Concurrency, "concurrency", 4, "blocks in flight")
	addJSONFlag(fl, &asJSON)
	cmd.MarkFlagRequired("sas-file")
	return cmd
}

// loadGrantAccount reads a grant's record and the account key it needs.
func loadGrantAccount(id, keyFile string) (azure.Grant, azure.Account, error) {
	var g azure.Grant
	if err := ledger().Load(id, &g); err != nil {
		return g, azure.Account{}, err
	}
	if g.KindOrDefault() != transfer.KindAzure {
		return g, azure.Account{}, fmt.Errorf("grant %s is an %s grant, not an Azure one", id, g.KindOrDefault())
	}
	key, err := accountKey(keyFile)
	return g, azure.Account{Name: g.Account, Key: key, Endpoint: g.Endpoint}, err
}

// revokeAndProve deletes the grant's policy, proves the token dead, and records both.
func revokeAndProve(cmd *cobra.Command, a azure.Account, g azure.Grant, action string, detail map[string]string, wait time.Duration) error {
	w := cmd.OutOrStdout()
	for k, v := range grantDetail(g) {
		detail[k] = v
	}
	rev, err := ledger().Revoke(cmd.Context(), &g, a.Killer(g), action, detail, wait)
	if err != nil {
		return err
	}
	if !rev.Existed {
		fmt.Fprintf(w, "policy %s was already gone from container %s\n", g.ID, g.Container)
	} else {
		fmt.Fprintf(w, "deleted access policy %s of container %s\n", g.ID, g.Container)
	}
	fmt.Fprintf(w, "the token is dead: %s\n", rev.Proof)
	return nil
}

func newTransferConfirm() *cobra.Command {
	var (
		id, keyFile    string
		anyway, asJSON bool
		wait           time.Duration
	)
	cmd := &cobra.Command{
		Use:   "confirm --grant ID",
		Short: "Check the uploaded blobs against the bundle's manifest, then revoke the token (vendor side)",
		Long: `Azure: download the container's manifest.json, check that every file it lists is there with
the right size and SHA-256 (streaming each blob through the hash), and report each file. When
all match, delete the grant's stored access policy and prove the token dead by trying an upload
with it. S3: stream every granted object through SHA-256 and compare it with the digests the
grant recorded from the manifest; then abort the uploads still open and prove every upload id
closed (ListParts answers NoSuchUpload). When a check fails the token stays valid (so the
client can push again) and the exit status is non-zero, unless --revoke-anyway.`,
		Example: `  steward transfer confirm --grant sg-0123456789abcdef --account-key-file acct.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var r transfer.Record
			if err := ledger().Load(id, &r); err != nil {
				return err
			}
			out := &confirmResult{Grant: id, Kind: r.KindOrDefault()}
			if asJSON { // the lines go to stderr, the object to stdout once the command is done
				stdout := cmd.OutOrStdout()
				cmd.SetOut(cmd.ErrOrStderr())
				defer func() {
					cmd.SetOut(stdout)
					if out.Files != nil {
						out.finish(id)
						printJSON(stdout, out)
					}
				}()
			}
			if r.KindOrDefault() == transfer.KindS3 {
				return confirmS3(cmd, id, anyway, wait, out)
			}
			g, a, err := loadGrantAccount(id, keyFile)
			if err != nil {
				return err
			}
			prog, done := newUploadProgress(cmd.ErrOrStderr())
			res, err := a.Check(cmd.Context(), g.Container, prog)
			done()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			bad := 0
			out.Files, out.Extra = []fileCheck{}, append([]string{}, res.Extra...)
			for _, f := range res.Files {
				out.Files = append(out.Files, fileCheck{f.Name, f.Size, f.SHA256, f.Problem})
				if f.Problem == "" {
					fmt.Fprintf(w, "ok    %-32s %14d bytes  sha256 %s…\n", f.Name, f.Size, f.SHA256[:16])
				} else {
					bad++
					fmt.Fprintf(w, "FAIL  %-32s %s\n", f.Name, f.Problem)
				}
			}
			for _, x := range res.Extra {
				fmt.Fprintf(w, "extra %-32s not in the manifest\n", x)
			}
			detail := map[string]string{"files": fmt.Sprint(len(res.Files)), "failed": fmt.Sprint(bad), "extra": fmt.Sprint(len(res.Extra))}
			if bad > 0 && !anyway {
				detail["outcome"] = "checks failed, not revoked"
				if err := ledger().Audit(cmd.Context(), "transfer.confirm", "grant:"+g.ID, detail); err != nil {
					return err
				}
				return fmt.Errorf("%d of %d files do not match the manifest: the token stays valid so that the DBA can push again (or use --revoke-anyway)", bad, len(res.Files))
			}
			detail["outcome"] = "confirmed, revoked"
			if bad > 0 {
				detail["outcome"] = "checks failed, revoked anyway"
			}
			if err := revokeAndProve(cmd, a, g, "transfer.confirm", detail, wait); err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%d of %d files do not match the manifest (token revoked anyway)", bad, len(res.Files))
			}
			fmt.Fprintf(w, "confirmed: the upload matches the manifest (%d file(s))\n", len(res.Files))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&id, "grant", "", "grant id (as transfer grant printed it)")
	fl.StringVar(&keyFile, "account-key-file", "", "file holding the account key (default $AZURE_STORAGE_KEY)")
	fl.BoolVar(&anyway, "revoke-anyway", false, "revoke even when a check fails")
	addJSONFlag(fl, &asJSON)
	fl.DurationVar(&wait, "wait", 90*time.Second, "how long to keep trying the token while the revocation spreads (Azure: up to 30s)")
	cmd.MarkFlagRequired("grant")
	return cmd
}

// revokeGrant revokes the grant of record r, whatever its kind, and proves its token dead.
func revokeGrant(cmd *cobra.Command, r transfer.Record, keyFile string, wait time.Duration) error {
	switch r.KindOrDefault() {
	case transfer.KindAzure:
		g, a, err := loadGrantAccount(r.ID, keyFile)
		if err != nil {
			return err
		}
		return revokeAndProve(cmd, a, g, "transfer.revoke", map[string]string{"outcome": "revoked"}, wait)
	case transfer.KindS3:
		return revokeS3(cmd, r.ID, "transfer.revoke", map[string]string{"outcome": "revoked"}, wait)
	}
	return fmt.Errorf("grant %s: unknown kind %q", r.ID, r.Kind)
}

func newTransferDiagnose() *cobra.Command {
	var id, keyFile, sasFile string
	cmd := &cobra.Command{
		Use:   "diagnose --grant ID [--sas-file F]",
		Short: "Tell, with the account key, why the service refuses a grant's token (vendor side)",
		Long: `Compute what is wrong with a grant's token instead of reading the service's answer (which
does not always say, and which Azurite gives alike for all of these): another account or
container, not HTTPS, a signed field altered, a signature made with another key than the
account's, the stored access policy deleted (revoked), the policy expired, or the policy's
permissions narrower than the grant's. --sas-file is the token file the DBA holds; without it
the token the record mints is checked. Exit status 1 when something is wrong.`,
		Example: `  steward transfer diagnose --grant sg-0123456789abcdef --sas-file xt.sas --account-key-file acct.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			g, a, err := loadGrantAccount(id, keyFile)
			if err != nil {
				return err
			}
			token := ""
			if sasFile != "" {
				b, err := os.ReadFile(sasFile)
				if err != nil {
					return fmt.Errorf("token file: %w", err)
				}
				tf := azure.ParseTokenFile(b)
				if tf.Altered() {
					fmt.Fprintln(cmd.OutOrStdout(), "signature: signature does not match (altered): the token line differs from the checksum in the file's comment line")
				}
				token = tf.Token
			}
			fs, err := a.Diagnose(cmd.Context(), g, token)
			if err != nil {
				return err
			}
			for _, f := range fs {
				fmt.Fprintln(cmd.OutOrStdout(), f)
			}
			if len(fs) > 0 {
				return fmt.Errorf("grant %s: the token is refused: %d finding(s)", g.ID, len(fs))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "grant %s: the token is as the account key signs it and its policy is in place, unexpired, with permissions %s\n", g.ID, g.Permissions)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&id, "grant", "", "grant id")
	fl.StringVar(&sasFile, "sas-file", "", "the token file the DBA holds (default: the token the record mints)")
	fl.StringVar(&keyFile, "account-key-file", "", "file holding the account key (default $AZURE_STORAGE_KEY)")
	cmd.MarkFlagRequired("grant")
	return cmd
}

func newTransferRevoke() *cobra.Command {
	var (
		id, keyFile string
		wait        time.Duration
	)
	cmd := &cobra.Command{
		Use:     "revoke --grant ID",
		Short:   "Delete a grant's access policy without checking the upload, and prove the token dead (vendor side)",
		Example: `  steward transfer revoke --grant sg-0123456789abcdef --account-key-file acct.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var r transfer.Record
			if err := ledger().Load(id, &r); err != nil {
				return err
			}
			return revokeGrant(cmd, r, keyFile, wait)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&id, "grant", "", "grant id")
	fl.StringVar(&keyFile, "account-key-file", "", "file holding the account key (default $AZURE_STORAGE_KEY)")
	fl.DurationVar(&wait, "wait", 90*time.Second, "how long to keep trying the token while the revocation spreads")
	cmd.MarkFlagRequired("grant")
	return cmd
}

// newUploadProgress shows a bar per file on a terminal; otherwise a line for every file in
// progress every progressEvery, and one when each file ends. The returned func ends it.
func newUploadProgress(w io.Writer) (transfer.Progress, func()) {
	if f, ok := w.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
		p := mpb.New(mpb.WithOutput(w), mpb.WithWidth(40))
		return uploadBars{p}, p.Wait
	}
	l := &uploadLines{w: w}
	return l, progress.Every(progressEvery, l.tick)
}

// progressEvery is how often progress lines are written when not on a terminal.
var progressEvery = 5 * time.Second

type uploadBars struct{ p *mpb.Progress }

func (b uploadBars) File(name string, size, done int64) transfer.FileProgress {
	bar := b.p.AddBar(max(size, 0),
		mpb.PrependDecorators(decor.Name(name, decor.WC{W: 24, C: decor.DindentRight}), decor.Counters(decor.SizeB1024(0), "% .1f / % .1f", decor.WCSyncWidth)),
		mpb.AppendDecorators(decor.AverageSpeed(decor.SizeB1024(0), "% .1f", decor.WCSyncSpace), decor.OnComplete(decor.AverageETA(decor.ET_STYLE_MMSS, decor.WCSyncSpace), "done")),
	)
	bar.SetCurrent(done)
	return uploadBar{bar}
}

type uploadBar struct{ bar *mpb.Bar }

func (u uploadBar) Add(n int64) { u.bar.IncrInt64(n) }
func (u uploadBar) Done(err error) {
	if err != nil {
		u.bar.Abort(false)
		return
	}
	u.bar.SetTotal(-1, true)
}

type uploadLines struct {
	w      io.Writer
	mu     sync.Mutex
	active []*uploadLine
}

func (l *uploadLines) File(name string, size, done int64) transfer.FileProgress {
	u := &uploadLine{l: l, name: name, size: size, done: done, start: time.Now()}
	l.mu.Lock()
	l.active = append(l.active, u)
	l.mu.Unlock()
	return u
}

// tick writes a line for every file in progress (every progressEvery).
func (l *uploadLines) tick() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range l.active {
		sent := u.sent.Load()
		el := time.Since(u.start).Seconds()
		if u.size > 0 {
			fmt.Fprintf(l.w, "%-24s %s of %s (%d%%), %.1f MiB/s\n", u.name, mib(u.done+sent), mib(u.size), (u.done+sent)*100/u.size, float64(sent)/(1<<20)/max(el, 1e-9))
		} else {
			fmt.Fprintf(l.w, "%-24s %s, %.1f MiB/s\n", u.name, mib(u.done+sent), float64(sent)/(1<<20)/max(el, 1e-9))
		}
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

type uploadLine struct {
	l          *uploadLines
	name       string
	size, done int64
	sent       atomic.Int64
	start      time.Time
}

func (u *uploadLine) Add(n int64) { u.sent.Add(n) }

func (u *uploadLine) Done(err error) {
	u.l.mu.Lock()
	defer u.l.mu.Unlock()
	for i, a := range u.l.active {
		if a == u {
			u.l.active = append(u.l.active[:i], u.l.active[i+1:]...)
			break
		}
	}
	sent := u.sent.Load()
	switch {
	case err != nil:
		fmt.Fprintf(u.l.w, "%-24s stopped after %d of %d bytes\n", u.name, u.done+sent, u.size)
	case u.size > 0 && u.done == u.size && sent == 0:
		fmt.Fprintf(u.l.w, "%-24s %14d bytes, already done\n", u.name, u.size)
	default:
		fmt.Fprintf(u.l.w, "%-24s %14d bytes, %d now, %d before, %s\n", u.name, max(u.size, u.done+sent), sent, u.done, time.Since(u.start).Round(time.Millisecond))
	}
}

// confirmResult is transfer confirm --json: each manifest file's check, the files that are
// not in the manifest (Azure), and the grant's state afterwards.
type confirmResult struct {
	Grant     string      `json:"grant"`
	Kind      string      `json:"kind"`
	Files     []fileCheck `json:"files"`
	Extra     []string    `json:"extra,omitempty"`
	Matched   bool        `json:"matched"` // every file matched the manifest
	State     string      `json:"state"`   // the grant's state after the command (live: not revoked)
	Confirmed time.Time   `json:"confirmed,omitzero"`
	Revoked   time.Time   `json:"revoked,omitzero"`
	Proof     string      `json:"proof,omitempty"` // how the token was shown dead
}

type fileCheck struct {
	Name    string `json:"name"`
	Size    int64  `json:"size"` // -1: missing
	SHA256  string `json:"sha256,omitempty"`
	Problem string `json:"problem,omitempty"`
}

// finish fills in the verdict and the grant's state from its record.
func (c *confirmResult) finish(id string) {
	c.Matched = !slices.ContainsFunc(c.Files, func(f fileCheck) bool { return f.Problem != "" })
	var r transfer.Record
	if ledger().Load(id, &r) == nil {
		c.State, c.Confirmed, c.Revoked, c.Proof = string(r.State(time.Now())), r.Confirmed, r.Revoked, r.Proof
	}
}

// pushResult is transfer push --json and push-s3 --json: what was sent (blocks for Azure,
// parts for S3) and what an earlier run had sent already.
type pushResult struct {
	Destination     string   `json:"destination"` // the container or bucket and prefix, no token
	Files           int      `json:"files"`
	FilesSkipped    int      `json:"files_already_there"`
	Sent            int      `json:"sent"`         // blocks or parts sent by this run
	Skipped         int      `json:"already_sent"` // blocks staged or parts uploaded by an earlier run
	BytesSent       int64    `json:"bytes_sent"`
	Seconds         float64  `json:"seconds"`
	Resumable       *bool    `json:"resumable,omitempty"`        // Azure: the token may read block lists
	CompletedBefore []string `json:"completed_before,omitempty"` // S3: files an earlier run completed
}
