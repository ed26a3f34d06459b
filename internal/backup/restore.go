package backup

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/transfer"
)

// Restore restores the backup in dir into the database target names — a SQLite file that
// must not exist yet, or a PostgreSQL database that is created when missing and must hold no
// tables — after checking the backup's files against its manifest. It then compares every
// table's row count and checksum with the record and fails naming the first difference; on
// success it writes an audit entry into the restored store. The running store is never
// overwritten: restore beside it, stop the server, and point --db at the restored copy.
func Restore(ctx context.Context, dir, target, actor string, key *audit.Key) (*Record, error) {
	rec, err := ReadRecord(dir)
	if err != nil {
		return nil, err
	}
	m, err := transfer.ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	if err := transfer.Check(dir, m); err != nil {
		return nil, fmt.Errorf("backup %s is damaged: %w", rec.Name, err)
	}
	dsn, err := dumpDSN(target)
	if err != nil {
		return nil, err
	}
	if store.Dialect(dsn.Kind) != rec.Dialect {
		return nil, fmt.Errorf("backup %s is of a %s store; restore it into a %s database", rec.Name, rec.Dialect, rec.Dialect)
	}
	src := filepath.Join(dir, rec.File)
	if rec.Dialect == store.Postgres {
		if err := emptyPostgres(ctx, dsn.Raw); err != nil {
			return nil, err
		}
		if err := pgRestore(ctx, dsn.Raw, src); err != nil {
			return nil, fmt.Errorf("restore backup %s: %w", rec.Name, err)
		}
	} else {
		if _, err := os.Lstat(dsn.Path); err == nil {
			return nil, fmt.Errorf("%s exists: restore into a new file, then move it into place while the server is stopped", dsn.Path)
		}
		if err := os.MkdirAll(filepath.Dir(dsn.Path), 0o700); err != nil {
			return nil, err
		}
		tmp := filepath.Join(filepath.Dir(dsn.Path), "."+filepath.Base(dsn.Path)+".restoring")
		if err := copyFile(src, tmp); err != nil {
			os.Remove(tmp)
			return nil, fmt.Errorf("restore backup %s: %w", rec.Name, err)
		}
		if err := os.Rename(tmp, dsn.Path); err != nil {
			return nil, err
		}
	}
	path := dsn.Raw
	if rec.Dialect == store.SQLite {
		path = dsn.Path
	}
	got, err := checksumsOf(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("check the restored copy: %w", err)
	}
	if d := Diff(rec.Tables, got); d != "" {
		return nil, fmt.Errorf("the restored copy differs from backup %s: %s", rec.Name, d)
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.AuditKey = key
	_, err = store.Audit{DB: db}.Append(ctx, audit.Entry{Actor: actor, Source: "cli", Action: "backup.restore",
		Object: "backup/" + rec.Name, Detail: map[string]string{"tables": fmt.Sprint(len(rec.Tables)), "rows": fmt.Sprint(rec.Rows())}})
	return rec, err
}

// emptyPostgres makes sure the database dsn names exists and holds no tables.
func emptyPostgres(ctx context.Context, dsn string) error {
	name := databaseName(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`).Scan(&n)
	if err != nil && strings.Contains(err.Error(), "3D000") { // database does not exist
		maint, err := otherDatabase(dsn, "postgres")
		if err != nil {
			return err
		}
		m, err := sql.Open("pgx", maint)
		if err != nil {
			return err
		}
		defer m.Close()
		if _, err := m.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
			return fmt.Errorf("create database %s: %w", name, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("database %s: %w", name, err)
	}
	if n > 0 {
		return errors.New("database " + name + " holds tables: restore into a new or empty database")
	}
	return nil
}

// databaseName is the database a postgres:// DSN names.
func databaseName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}
