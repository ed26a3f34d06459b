// Package backup takes, rotates, verifies and restores backups of the application store, as
// CORI's Database Backup Policy (seed 002, Part C) asks of its tapes.
//
// A backup is a directory under the backup folder: the store's own backup format (SQLite
// VACUUM INTO, PostgreSQL pg_dump -Fc, written by transfer.Bundle with its manifest.json of
// sizes and SHA-256 digests) and backup.json, the record: its rotation set, when it was
// taken, and every table's row count and checksum at that moment. The counts and checksums
// are read in the same snapshot the dump is taken from (PostgreSQL: an exported snapshot;
// SQLite: writers are held off while the copy is made), and the backup is restored into a
// scratch database and compared with them before backup.json is written — a directory
// without backup.json is not a backup.
//
// Rotation follows the tapes: the first backup of a month joins the monthly set, the first
// of a week the weekly set, every other the daily set; Policy keeps 5 daily, 4 weekly and 2
// monthly backups, removing the oldest of a set when it is full.
package backup

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/transfer"
)

// RecordName is the record's file name in a backup directory.
const RecordName = "backup.json"

// Record is backup.json: what a backup holds and when it was proven restorable.
type Record struct {
	Entry
	Dialect  store.Dialect `json:"dialect"`
	File     string        `json:"file"` // the dump file in the directory
	Tables   []Table       `json:"tables"`
	Verified time.Time     `json:"verified"` // when a restored copy matched Tables
}

// Rows is the number of rows in all tables.
func (r *Record) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rows
	}
	return n
}

// Options says what Take backs up and how.
type Options struct {
	DB    *store.DB // the open application store
	DSN   string    // the DSN it was opened with
	Dir   string    // the backup folder
	Keep  Keep      // rotation; zero: Policy
	Now   time.Time // the time of the backup; zero: now
	Actor string    // who asks, for the audit log
}

// Result is what Take did.
type Result struct {
	Record  *Record
	Dir     string
	Removed []Entry // backups rotated out
}

// Take backs the store up into a new directory of opts.Dir, verifies it by restoring it
// into a scratch database, rotates the folder and writes an audit entry.
func Take(ctx context.Context, opts Options) (*Result, error) {
	if opts.Keep == (Keep{}) {
		opts.Keep = Policy
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup folder %s: %w", opts.Dir, err)
	}
	existing, err := List(opts.Dir)
	if err != nil {
		return nil, err
	}
	entries := make([]Entry, len(existing))
	for i, r := range existing {
		entries[i] = r.Entry
	}
	now := opts.Now.UTC()
	set := Classify(entries, now)
	rec := &Record{Entry: Entry{Name: now.Format("20060102T150405Z") + "-" + string(set), Set: set, Taken: now}, Dialect: opts.DB.Dialect}
	out := filepath.Join(opts.Dir, rec.Name)
	dsn, err := dumpDSN(opts.DSN)
	if err != nil {
		return nil, err
	}
	rec.Tables, err = snapshot(ctx, opts.DB, func(snap string) error {
		m, err := transfer.Bundle(ctx, transfer.BundleOptions{Source: dsn.Raw, Out: out, Snapshot: snap})
		if err == nil {
			rec.File = m.Files[0].Name
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("back up the store: %w", err)
	}
	fail := func(err error) (*Result, error) {
		os.RemoveAll(out)
		return nil, err
	}
	got, err := scratchChecksums(ctx, opts.DB, dsn, out, rec.File)
	if err != nil {
		return fail(fmt.Errorf("verify backup %s: %w", rec.Name, err))
	}
	if d := Diff(rec.Tables, got); d != "" {
		return fail(fmt.Errorf("verify backup %s: the restored copy differs from the store: %s", rec.Name, d))
	}
	rec.Verified = time.Now().UTC()
	if err := writeRecord(out, rec); err != nil {
		return fail(err)
	}
	res := &Result{Record: rec, Dir: out, Removed: Expired(append(entries, rec.Entry), opts.Keep)}
	var removed []string
	for _, e := range res.Removed {
		if err := os.RemoveAll(filepath.Join(opts.Dir, e.Name)); err != nil {
			return nil, fmt.Errorf("rotate out backup %s: %w", e.Name, err)
		}
		removed = append(removed, e.Name)
	}
	_, err = store.Audit{DB: opts.DB}.Append(ctx, audit.Entry{Actor: opts.Actor, Source: "cli", Action: "backup.create",
		Object: "backup/" + rec.Name, Detail: map[string]string{"set": string(set), "tables": fmt.Sprint(len(rec.Tables)),
			"rows": fmt.Sprint(rec.Rows()), "verified": "restored and compared", "removed": strings.Join(removed, " ")}})
	return res, err
}

// dumpDSN turns the store's DSN into the form transfer.Bundle reads.
func dumpDSN(s string) (database.DSN, error) {
	if !strings.HasPrefix(s, "postgres://") && !strings.HasPrefix(s, "postgresql://") {
		s = "sqlite:" + strings.TrimPrefix(strings.TrimPrefix(s, "sqlite:"), "file:")
	}
	return database.ParseDSN(s)
}

// snapshot checksums the store and runs dump on exactly the same state: on PostgreSQL both
// read one exported snapshot; on SQLite a write lock is held (readers go on, writers wait)
// from the checksums until the copy is made.
func snapshot(ctx context.Context, db *store.DB, dump func(snapshot string) error) ([]Table, error) {
	if db.Dialect == store.Postgres {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
		if err != nil {
			return nil, err
		}
		defer tx.Rollback()
		var snap string
		if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
			return nil, err
		}
		tables, err := Checksums(ctx, tx, db.Dialect)
		if err != nil {
			return nil, err
		}
		return tables, dump(snap)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN IMMEDIATE`); err != nil {
		return nil, err
	}
	defer conn.ExecContext(context.Background(), `ROLLBACK`)
	tables, err := Checksums(ctx, conn, db.Dialect)
	if err != nil {
		return nil, err
	}
	return tables, dump("")
}

// scratchChecksums restores the backup in dir into a scratch database beside the store's,
// checksums it and removes it.
func scratchChecksums(ctx context.Context, db *store.DB, dsn database.DSN, dir, file string) ([]Table, error) {
	if db.Dialect == store.Postgres {
		name := "steward_scratch_" + randomHex(6)
		if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
			return nil, fmt.Errorf("create scratch database: %w", err)
		}
		defer db.ExecContext(context.Background(), `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
		target, err := otherDatabase(dsn.Raw, name)
		if err != nil {
			return nil, err
		}
		if err := pgRestore(ctx, target, filepath.Join(dir, file)); err != nil {
			return nil, err
		}
		return checksumsOf(ctx, target)
	}
	tmp, err := os.MkdirTemp("", "steward-scratch-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	target := filepath.Join(tmp, file)
	if err := copyFile(filepath.Join(dir, file), target); err != nil {
		return nil, err
	}
	return checksumsOf(ctx, target)
}

// checksumsOf opens a database without migrating it and checksums it.
func checksumsOf(ctx context.Context, dsn string) ([]Table, error) {
	// A reader of a WAL database may meet the lock of a connection that is closing (the
	// restore's own, or a test's): wait for it as the store does instead of failing at once.
	d, driver, src := store.SQLite, "sqlite", "file:"+dsn+"?mode=ro&_pragma=busy_timeout(10000)"
	if strings.HasPrefix(dsn, "postgres") {
		d, driver, src = store.Postgres, "pgx", dsn
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return Checksums(ctx, db, d)
}

// otherDatabase is dsn with its database replaced by name.
func otherDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("invalid DSN %s", database.Redact(dsn))
	}
	u.Path = "/" + name
	return u.String(), nil
}

func pgRestore(ctx context.Context, target, file string) error {
	dsn, err := database.ParseDSN(target)
	if err != nil {
		return err
	}
	t, err := transfer.FindPostgresTool(dsn, "pg_restore")
	if err != nil {
		return err
	}
	return t.Run(ctx, []string{"--no-owner", "--no-privileges", "--exit-on-error", "--no-password", "--dbname=" + t.Database, file}, io.Discard)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", from, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeRecord(dir string, r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+RecordName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, RecordName))
}

// ReadRecord reads dir/backup.json.
func ReadRecord(dir string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, RecordName))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a backup record: %w", filepath.Join(dir, RecordName), err)
	}
	if r.File == "" || r.File != filepath.Base(r.File) || len(r.Tables) == 0 {
		return nil, fmt.Errorf("%s: a backup record names its file and its tables", filepath.Join(dir, RecordName))
	}
	return &r, nil
}

// List returns the verified backups in dir, oldest first. Directories without a record
// (a backup that failed or is being written) are left out.
func List(dir string) ([]*Record, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("backup folder %s: %w", dir, err)
	}
	var out []*Record
	for _, de := range des {
		if !de.IsDir() || strings.HasPrefix(de.Name(), ".") {
			continue
		}
		r, err := ReadRecord(filepath.Join(dir, de.Name()))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Record) int { return a.Taken.Compare(b.Taken) })
	return out, nil
}
