package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/backup"
	"github.com/stewardhealth/steward/internal/database"
)

func newBackup() *cobra.Command {
	var dsn, dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup [--db DSN] [--dir DIR]",
		Short: "Back up the application store, verified and rotated (5 daily, 4 weekly, 2 monthly)",
		Long: `Back up the server's application database into a new directory of --dir: VACUUM INTO for
SQLite, pg_dump -Fc for PostgreSQL, with manifest.json (sizes, SHA-256) and backup.json (the
rotation set and every table's row count and checksum, read in the same snapshot as the dump).
Each backup is restored into a scratch database and compared table by table before it counts.
The first backup of a month is monthly, the first of a week weekly, the rest daily; the
oldest of a set is removed when it holds more than 5 daily, 4 weekly or 2 monthly backups.
Run it every business day (cron); copy the monthly ones off site.`,
		Example: `  steward backup
  steward backup --db postgres://steward@127.0.0.1:5432/steward --dir /var/backups/steward
  steward backup list
  steward backup restore ~/.local/state/steward/backups/20261123T020000Z-monthly --db /tmp/steward-restored.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			db, _, err := openStore(ctx, dsn)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := backup.Take(ctx, backup.Options{DB: db, DSN: dsn, Dir: dir, Actor: cliPrincipal().User})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, backupJSON{Dir: res.Dir, Record: res.Record, Rows: res.Record.Rows(), Removed: append([]backup.Entry{}, res.Removed...)})
			}
			fmt.Fprintf(out, "backup %s (%s): %d tables, %d rows, restored into a scratch database and identical\n",
				res.Dir, res.Record.Set, len(res.Record.Tables), res.Record.Rows())
			for _, e := range res.Removed {
				fmt.Fprintf(out, "rotated out %s\n", e.Name)
			}
			return nil
		},
	}
	cmd.PersistentFlags().StringVar(&dir, "dir", filepath.Join(stateDir(), "backups"), "the backup folder")
	addJSONFlag(cmd.PersistentFlags(), &asJSON)
	cmd.Flags().StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	cmd.AddCommand(&cobra.Command{
		Use:   "list [--dir DIR]",
		Short: "List the verified backups, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			list, err := backup.List(dir)
			if err != nil {
				return err
			}
			if asJSON {
				v := struct {
					Dir     string       `json:"dir"`
					Backups []backupJSON `json:"backups"`
				}{dir, []backupJSON{}}
				for _, r := range list {
					v.Backups = append(v.Backups, backupJSON{Dir: filepath.Join(dir, r.Name), Record: r, Rows: r.Rows()})
				}
				return printJSON(cmd.OutOrStdout(), v)
			}
			for _, r := range list {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\t%-7s\t%s\t%d tables\t%d rows\n", r.Name, r.Set, r.Dialect, len(r.Tables), r.Rows())
			}
			return nil
		},
	})
	var target, keyFile string
	restore := &cobra.Command{
		Use:   "restore BACKUP-DIR --db NEW-DSN",
		Short: "Restore a backup into a new database and prove it equals the backup",
		Long: `Check the backup's files against its manifest, restore it into --db — a SQLite file that
does not exist yet, or a PostgreSQL database that is created if missing and must be empty —
and compare every table's row count and checksum with backup.json. The running store is
never overwritten: stop the server, then start it with --db pointing at the restored copy
(or move the restored SQLite file into place).`,
		Example: `  steward backup restore ~/.local/state/steward/backups/20261123T020000Z-monthly --db /tmp/steward-restored.db
  steward backup restore /var/backups/steward/20261123T020000Z-daily --db postgres://steward@127.0.0.1:5432/steward_restored`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if keyFile == "" {
				keyFile = serverKeyPath(dsn)
			}
			key, err := audit.LoadKeyFile(keyFile, false)
			if err != nil {
				return fmt.Errorf("%w (the restored store's audit log is keyed with the server key of the store backed up: give --server-key-file)", err)
			}
			rec, err := backup.Restore(cmd.Context(), args[0], target, cliPrincipal().User, key)
			if err != nil {
				return err
			}
			// The restored store goes with the key its audit log is keyed with.
			copied := ""
			if to := serverKeyPath(target); to != keyFile {
				if err := copyKey(keyFile, to); err != nil {
					return err
				}
				copied = to
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					backupJSON
					Restored    string `json:"restored"`                       // the new store (password hidden)
					KeyCopiedTo string `json:"server_key_copied_to,omitempty"` // where the server key went
					ChecksEqual bool   `json:"checksums_equal"`
				}{backupJSON{Dir: args[0], Record: rec, Rows: rec.Rows()}, database.Redact(target), copied, true})
			}
			if copied != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "server key copied to %s\n", copied)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored backup %s (%s, taken %s): %d tables, %d rows, row counts and checksums equal\n",
				rec.Name, rec.Set, rec.Taken.Format("2006-01-02 15:04 MST"), len(rec.Tables), rec.Rows())
			return nil
		},
	}
	restore.Flags().StringVar(&target, "db", "", "the database to restore into (required)")
	restore.Flags().StringVar(&keyFile, "server-key-file", "", "the server key of the store backed up (default: beside --db of the backed-up store, or $"+serverKeyEnv+")")
	restore.MarkFlagRequired("db")
	cmd.AddCommand(restore)
	return cmd
}

// copyKey copies the server key to beside a restored store, owner-only, never over another.
func copyKey(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("server key: %w", err)
	}
	f, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("server key of the restored store: %w", err)
	}
	_, err = f.Write(b)
	return errors.Join(err, f.Sync(), f.Close())
}

// backupJSON is one backup in backup --json, backup list --json and backup restore --json:
// its directory, its record (backup.json: set, time, dialect, each table's rows and
// checksum) and its total of rows.
type backupJSON struct {
	Dir string `json:"dir"`
	*backup.Record
	Rows    int64          `json:"rows"`
	Removed []backup.Entry `json:"rotated_out,omitempty"` // backup --json: removed by the rotation
}
