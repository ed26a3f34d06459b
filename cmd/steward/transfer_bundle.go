package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"filippo.io/age"
	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/transfer"
)

// transferBundleCommands are the transfer subcommands that make, move and clean up bundles.
func transferBundleCommands() []*cobra.Command {
	return []*cobra.Command{newTransferBundle(), newTransferCleanup()}
}

// logHandOver appends an entry to the command line's audit log.
func logHandOver(cmd *cobra.Command, action, object string, detail map[string]string) error {
	_, err := audit.FileStore{Path: auditLogPath()}.Append(cmd.Context(), audit.Entry{Actor: handOverActor(), Action: action, Object: object, Detail: detail})
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// handOverActor names who runs the command, for the audit log.
func handOverActor() string {
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "uid:" + strconv.Itoa(os.Getuid())
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
			m, err := transfer.Bundle(cmd.Context(), transfer.BundleOptions{Source: source, Out: out, Recipients: rs})
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
	var yes bool
	cmd := &cobra.Command{
		Use:   "cleanup [--yes]",
		Short: "List, and with --yes remove, what the hand-over left on this machine",
		Long: `List what the hand-over created on this machine: the bundle directories 'transfer bundle'
made, shared-access token files and grant records (under $STEWARD_HOME/grants). With --yes,
remove them; each removal is recorded in the audit log.

Steward does not drop the de-identified databases. Dropping is irreversible, only the DBA knows
whether the copy is still needed (the vendor may ask for a second transfer) or in use, and the
account Steward ran with should not hold that privilege. It prints the exact DROP DATABASE
statement (for SQLite, the file to remove) for the DBA to run once the vendor has confirmed
the transfer.`,
		Example: `  steward transfer cleanup
  steward transfer cleanup --yes`,
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
			for _, l := range ls {
				fmt.Fprintf(out, "%-12s %s\n", l.What, l.Path)
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
			if !yes {
				fmt.Fprintln(out, "\nnothing removed: add --yes to remove the files listed above")
				return nil
			}
			err = transfer.RemoveLeftovers(stateDir(), ls)
			detail := map[string]string{"removed": strconv.Itoa(len(ls))}
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
	cmd.Flags().BoolVar(&yes, "yes", false, "remove what is listed")
	return cmd
}
