// Package store opens the application database of the Steward server: who the users are,
// what they may do, and the audit log.
//
// The database is an embedded SQLite file by default (WAL journal, a busy timeout, foreign
// keys on, and every transaction taking the write lock at BEGIN so that concurrent writers
// queue instead of failing) or a PostgreSQL database named by a postgres:// DSN. The schema
// is the same on both: the embedded migrations are plain SQL that both dialects run, applied
// with goose when the store is opened. Queries use $1, $2 … placeholders, which both drivers
// accept.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"github.com/stewardhealth/steward/internal/audit"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Dialect names the database behind a store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the open application database.
type DB struct {
	*sql.DB
	Dialect Dialect
	// AuditKey keys the audit log's chain (the server's key, held outside the store);
	// nil writes unkeyed entries (plain SHA-256), as the command line's tools do.
	AuditKey *audit.Key

	stmts sync.Map // query text → *sql.Stmt, see Prepared
}

// Open opens the database a DSN names — postgres://… or postgresql://… for PostgreSQL,
// otherwise a SQLite file path (optionally sqlite:PATH or file:PATH) — creating a SQLite
// file if missing, and applies the migrations it has not seen.
func Open(ctx context.Context, dsn string) (*DB, error) {
	db, err := open(dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("application database: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func open(dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("application database: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		return &DB{DB: db, Dialect: Postgres}, nil
	}
	path := strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "file:")
	if path == "" {
		return nil, errors.New("application database: empty DSN")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("application database %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(wal)")
	q.Add("_pragma", "foreign_keys(on)")
	q.Add("_pragma", "synchronous(normal)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("application database %s: %w", path, err)
	}
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(0)
	return &DB{DB: db, Dialect: SQLite}, nil
}

func (db *DB) migrate(ctx context.Context) error {
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	// Out of order: migrations are numbered in ranges per line of work, so a store migrated by
	// one build may meet a lower-numbered, independent migration in the next.
	p, err := goose.NewProvider(dialect, db.DB, mustSub(migrations, "migrations"), goose.WithAllowOutofOrder(true))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	return nil
}

// Version returns the schema version the database is at.
func (db *DB) Version(ctx context.Context) (int64, error) {
	var v int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v)
	return v, err
}

// Tx runs fn in a transaction, committing when it returns nil. On SQLite the transaction
// holds the write lock from its start; on PostgreSQL, take locks in fn where needed.
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Prepared returns the statement q, prepared once for the store and kept: each connection
// parses it the first time it runs it, not on every run (the SQLite driver does not cache
// statements itself). Use it for the constant statements of hot paths only; within a
// transaction use TxStmt.
func (db *DB) Prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// TxStmt returns the constant statement q bound to tx, prepared once for the store as Prepared
// does. Until it is, the statement is prepared on tx's own connection and, in the background,
// for the store: preparing for the store inside a transaction could wait for a second
// connection that every other transaction holds while it waits for this one's write lock.
func (db *DB) TxStmt(ctx context.Context, tx *sql.Tx, q string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(q); ok {
		return tx.StmtContext(ctx, st.(*sql.Stmt)), nil
	}
	go db.Prepared(context.WithoutCancel(ctx), q)
	return tx.PrepareContext(ctx, q)
}

// Scanner is a row: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(...any) error }

// List runs a query and scans every row with scan.
func List[T any](ctx context.Context, db *DB, scan func(Scanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Strings runs a query of one text column.
func Strings(ctx context.Context, db *DB, q string, args ...any) ([]string, error) {
	return List(ctx, db, func(r Scanner) (string, error) {
		var v string
		return v, r.Scan(&v)
	}, q, args...)
}

// TimeFormat is how times are kept: UTC, fixed width, to the microsecond, so that text order
// is time order.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// FormatTime writes t as the store keeps it.
func FormatTime(t time.Time) string { return t.UTC().Format(TimeFormat) }

// ParseTime reads a time the store kept; an empty string is the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	return time.Parse(TimeFormat, s)
}

// NullTime scans a nullable time column.
type NullTime struct{ time.Time }

// Scan implements sql.Scanner.
func (n *NullTime) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		n.Time = time.Time{}
		return nil
	case string:
		t, err := ParseTime(v)
		n.Time = t
		return err
	case []byte:
		t, err := ParseTime(string(v))
		n.Time = t
		return err
	}
	return fmt.Errorf("time column holds %T", v)
}

func mustSub(f embed.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
