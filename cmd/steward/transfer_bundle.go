package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"filippo.io/age"
	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/local"
)

// transferBundleCommands are the transfer subcommands that make, move and clean up bundles.
func transferBundleCommands() []*cobra.Command {
	return []*cobra.Command{newTransferBundle(), newTransferPushLocal(), newTransferS3Presign(), newTransferPushS3(), newTransferCleanup(), newTransferScript()}
}

// logHandOver appends an entry to the command line's audit log.
func logHandOver(cmd *cobra.Command, action, object string, detail map[string]string) error {
	return ledger().Audit(cmd.Context(), action, object, detail)
}

func newTransferBundle() *cobra.Command {
	var source, out, encryptTo string
	cmd := &cobra.Command{
		Use:   "bundle --source DSN --out DIR [--encrypt-to AGE_RECIPIENT_OR_FILE]",
		Short: "Back up the de-identified copy into a bundle directory with a manifest",
		Long: `Back up the de-identified copy in its database's own format — pg_dump's custom format
(restore with pg_restore), a mariadb-dump/mysqldump SQL script made in one transaction with
routines and triggers (restore with the mysql client), or a VACUUM INTO copy of a SQLite file —
and write manifest.json with every file's size and SHA-256.

With --encrypt-to (an age public key age1…, or a file of them) every file is encrypted to the
vendor's key as it is written; only the vendor's identity can read the bundle.

The directory appears only when the bundle is complete: a failure leaves nothing behind. The
files are readable by their owner only. The password in the DSN reaches pg_dump or mysqldump
through its environment, never its command line.`,
		Example: `  steward transfer bundle --source sqlite:steward-demo/hospital-deid.db --out hospital-bundle
  steward transfer bundle --source postgres://postgres@127.0.0.1:5432/xt_deid --out xt-bundle --encrypt-to vendor.pub`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var rs []age.Recipient
			if encryptTo != "" {
				var err error
				if rs, err = transfer.ParseRecipients(encryptTo); err != nil {
					return err
				}
			}
			prog, done := newUploadProgress(cmd.ErrOrStderr())
			m, err := transfer.Bundle(cmd.Context(), transfer.BundleOptions{Source: source, Out: out, Recipients: rs, Progress: prog})
			done()
			if err != nil {
				return fmt.Errorf("bundle of %s: %w", database.Redact(source), err)
			}
			dir, _ := filepath.Abs(out)
			rec := transfer.BundleRecord{Dir: dir, Created: m.Created, Source: m.Source}
			if d, _ := database.ParseDSN(source); d.Kind == database.SQLite {
				rec.Path, _ = filepath.Abs(d.Path)
			}
			if err := transfer.RecordBundle(stateDir(), rec); err != nil {
				return fmt.Errorf("record the bundle for cleanup: %w", err)
			}
			var total int64
			for _, f := range m.Files {
				total += f.Size
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %12d  %s\n", f.SHA256, f.Size, f.Name)
			}
			enc := "not encrypted"
			if m.Encrypted != "" {
				enc = "encrypted with " + m.Encrypted
			}
			fmt.Fprintf(cmd.OutOrStdout(), "bundle %s: %s of %s %s, %d bytes, %s\n", dir, m.Format, m.Source.Kind, m.Source.Database, total, enc)
			return logHandOver(cmd, "transfer.bundle", dir, map[string]string{
				"source": m.Source.Kind + ":" + m.Source.Database, "format": m.Format, "files": strconv.Itoa(len(m.Files)),
				"bytes": strconv.FormatInt(total, 10), "encrypted": m.Encrypted})
		},
	}
	cmd.Flags().StringVar(&source, "source", "", "DSN of the de-identified copy")
	cmd.Flags().StringVar(&out, "out", "", "bundle directory to create (must not exist)")
	cmd.Flags().StringVar(&encryptTo, "encrypt-to", "", "age public key (age1…) or file of keys to encrypt the files to")
	cmd.MarkFlagRequired("source")
	cmd.MarkFlagRequired("out")
	return cmd
}

func newTransferCleanup() *cobra.Command {
	var (
		yes, revoke bool
		keyFile     string
		wait        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "cleanup [--yes [--revoke]]",
		Short: "List, and with --yes remove, what the hand-over left on this machine",
		Long: `List what the hand-over created on this machine: the bundle directories 'transfer bundle'
made, shared-access token files and grant records (under $STEWARD_HOME/grants). With --yes,
remove them; the removal is recorded in the audit log.

A grant record is what revokes its token, so cleanup never forgets a grant whose token may
still work: while one is live (or expired with its stored access policy still in the
container, where whoever holds the account key can extend it), cleanup --yes refuses and
removes nothing. With --revoke it first revokes each such grant and proves its token dead
(as 'transfer revoke' does; the account key from --account-key-file or AZURE_STORAGE_KEY),
then removes everything.

Steward does not drop the de-identified databases. Dropping is irreversible, only the DBA knows
whether the copy is still needed (the vendor may ask for a second transfer) or in use, and the
account Steward ran with should not hold that privilege. It prints the exact DROP DATABASE
statement (for SQLite, the file to remove) for the DBA to run once the vendor has confirmed
the transfer.`,
		Example: `  steward transfer cleanup
  steward transfer cleanup --yes
  steward transfer cleanup --yes --revoke --account-key-file acct.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			ls, rs, err := transfer.Leftovers(stateDir())
			if err != nil {
				return err
			}
			if len(ls) == 0 {
				fmt.Fprintln(out, "nothing left from a hand-over on this machine")
			}
			now := time.Now()
			for _, l := range ls {
				state := ""
				if l.Grant != nil {
					state = "  (" + string(l.Grant.State(now)) + ")"
				}
				fmt.Fprintf(out, "%-12s %s%s\n", l.What, l.Path, state)
			}
			if len(rs) > 0 {
				fmt.Fprintln(out, "\nSteward does not drop the de-identified databases; once the transfer is confirmed, the DBA runs:")
				for _, r := range rs {
					fmt.Fprintf(out, "  %s\n", r.DropStatement())
				}
			}
			if len(ls) == 0 {
				return nil
			}
			live := transfer.LiveGrants(ls)
			if !yes {
				fmt.Fprintln(out, "\nnothing removed: add --yes to remove the files listed above")
				if len(live) > 0 {
					fmt.Fprintf(out, "%d grant(s) may still be used: --yes also needs --revoke, or revoke them first\n", len(live))
				}
				return nil
			}
			if len(live) > 0 && !revoke {
				err := &transfer.LiveError{Grants: live}
				return errors.Join(fmt.Errorf("nothing removed: %w", err), logHandOver(cmd, "transfer.cleanup", stateDir(), map[string]string{"outcome": "refused: live grants", "live": strconv.Itoa(len(live))}))
			}
			for _, g := range live {
				if err := revokeGrant(cmd, g, keyFile, wait); err != nil {
					return fmt.Errorf("nothing removed: revoke grant %s: %w", g.ID, err)
				}
			}
			if len(live) > 0 { // the records now say revoked
				if ls, _, err = transfer.Leftovers(stateDir()); err != nil {
					return err
				}
			}
			err = transfer.RemoveLeftovers(stateDir(), ls)
			detail := map[string]string{"removed": strconv.Itoa(len(ls)), "revoked": strconv.Itoa(len(live))}
			if err != nil {
				detail["error"] = "some files could not be removed"
			}
			for _, l := range ls {
				detail[l.What+":"+filepath.Base(l.Path)] = l.Path
			}
			if aerr := logHandOver(cmd, "transfer.cleanup", stateDir(), detail); err == nil {
				err = aerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "removed %d items\n", len(ls))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&yes, "yes", false, "remove what is listed")
	fl.BoolVar(&revoke, "revoke", false, "with --yes: revoke every grant that may still be used and prove its token dead first")
	fl.StringVar(&keyFile, "account-key-file", "", "file holding the Azure account key for --revoke (default $AZURE_STORAGE_KEY)")
	fl.DurationVar(&wait, "wait", 90*time.Second, "how long --revoke keeps trying each token while the revocation spreads")
	return cmd
}

func newTransferPushLocal() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "push-local DIR --to FOLDER",
		Short: "Copy a bundle to a folder (a removable disk, a share), checked against its manifest",
		Long: `Copy the files of the bundle in DIR to FOLDER, each under a temporary name renamed when
complete, the manifest last; then read the copies back and check them against the manifest.
A file changed since the bundle was made is refused.`,
		Example: `  steward transfer push-local hospital-bundle --to /media/usb/hospital-bundle`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := transfer.Push(cmd.Context(), args[0], local.Folder{Dir: to})
			if err == nil {
				err = transfer.Check(to, m)
			}
			if err != nil {
				return fmt.Errorf("push %s to %s: %w", args[0], to, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d files copied to %s and checked against the manifest\n", len(m.Files)+1, to)
			return logHandOver(cmd, "transfer.push", to, map[string]string{"destination": "local", "bundle": args[0], "files": strconv.Itoa(len(m.Files))})
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "destination folder (created if missing)")
	cmd.MarkFlagRequired("to")
	return cmd
}
