// Package sqlite is Steward's adapter for SQLite files, through the pure-Go modernc driver.
//
// The schema is read from sqlite_master and the table_info, index_list and foreign_key_list
// pragmas. Columns are typed by SQLite's affinity rules on their declared type, refined for
// dates (DATE, DATETIME, TIMESTAMP) and lengths (VARCHAR(n)).
//
// Rows are read with each column behind a unary plus ("+col"), which returns the stored value
// unchanged but hides the declared type from the driver, so dates stay the text they were
// stored as instead of being parsed into time.Time and printed back differently.
//
// A copy replays the source's own CREATE statements: tables first (their keys are part of
// the statement), rows loaded in one transaction per table by a prepared INSERT, then
// indexes, views and triggers. In-place mode is handled by the engine, which writes a copy
// beside the file and renames it over the original.
package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	_ "modernc.org/sqlite"
)

func init() { database.Register(database.SQLite, Open) }

// DB is an open SQLite file.
type DB struct {
	db   *sql.DB
	path string
}

// Open opens the file a DSN names. Without create the file must exist.
func Open(ctx context.Context, dsn database.DSN, create bool) (database.DB, error) {
	if !create {
		if _, err := os.Stat(dsn.Path); err != nil {
			return nil, fmt.Errorf("sqlite database %s: %w", dsn.Path, err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if create {
		q.Add("_pragma", "journal_mode(off)")
		q.Add("_pragma", "synchronous(off)")
	}
	db, err := sql.Open("sqlite", "file:"+dsn.Path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite database %s: %w", dsn.Path, err)
	}
	return &DB{db: db, path: dsn.Path}, nil
}

// Kind is database.SQLite.
func (d *DB) Kind() database.Kind { return database.SQLite }

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

// Quote quotes an identifier.
func Quote(name string) string { return `"` + strings.ReplaceAll(name, `"`, `""`) + `"` }

// Schema reads the base tables, their indexes and foreign keys, and the views and triggers.
func (d *DB) Schema(ctx context.Context) (*database.Schema, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master
		WHERE name NOT LIKE 'sqlite_%' AND name <> 'steward_progress' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	s := &database.Schema{}
	type obj struct{ typ, name, tbl, sql string }
	var objs []obj
	for rows.Next() {
		var o obj
		if err := rows.Scan(&o.typ, &o.name, &o.tbl, &o.sql); err != nil {
			rows.Close()
			return nil, err
		}
		objs = append(objs, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	indexSQL := map[string]string{}
	for _, o := range objs {
		switch o.typ {
		case "table":
			s.Tables = append(s.Tables, &database.Table{Name: o.name, Def: o.sql})
		case "index":
			indexSQL[o.name] = o.sql
		case "view", "trigger":
			if o.sql != "" {
				s.Extra = append(s.Extra, o.sql)
			}
		}
	}
	for _, t := range s.Tables {
		if err := d.describe(ctx, t, indexSQL); err != nil {
			return nil, fmt.Errorf("table %s: %w", t.Name, err)
		}
	}
	// A foreign key that names no parent columns refers to the parent's primary key.
	for _, t := range s.Tables {
		for _, fk := range t.ForeignKeys {
			if ref := s.Table(fk.RefTable); ref != nil && len(fk.RefColumns) > 0 && fk.RefColumns[0] == "" {
				fk.RefColumns = append([]string(nil), ref.PrimaryKey...)
			}
		}
	}
	return s, nil
}

var lengthRE = regexp.MustCompile(`\(\s*(\d+)`)

// columnType applies SQLite's affinity rules to a declared type.
func columnType(decl string) (database.Type, int) {
	u := strings.ToUpper(decl)
	length := 0
	if m := lengthRE.FindStringSubmatch(u); m != nil {
		length, _ = strconv.Atoi(m[1])
	}
	switch {
	case strings.Contains(u, "INT"):
		return database.Integer, 0
	case strings.Contains(u, "DATETIME"), strings.Contains(u, "TIMESTAMP"):
		return database.Timestamp, 0
	case strings.Contains(u, "DATE"):
		return database.Date, 0
	case strings.Contains(u, "CHAR"), strings.Contains(u, "CLOB"), strings.Contains(u, "TEXT"):
		return database.Text, length
	case strings.Contains(u, "BLOB"):
		return database.Bytes, 0
	case strings.Contains(u, "REAL"), strings.Contains(u, "FLOA"), strings.Contains(u, "DOUB"):
		return database.Float, 0
	case strings.Contains(u, "BOOL"):
		return database.Bool, 0
	case strings.Contains(u, "DEC"), strings.Contains(u, "NUMERIC"):
		return database.Decimal, 0
	}
	return database.Other, 0
}

func (d *DB) describe(ctx context.Context, t *database.Table, indexSQL map[string]string) error {
	rows, err := d.db.QueryContext(ctx, `SELECT name, type, "notnull", coalesce(dflt_value, ''), pk FROM pragma_table_info(?) ORDER BY cid`, t.Name)
	if err != nil {
		return err
	}
	pk := map[int]string{}
	for rows.Next() {
		c := &database.Column{}
		var notNull, pkPos int
		if err := rows.Scan(&c.Name, &c.Native, &notNull, &c.Default, &pkPos); err != nil {
			rows.Close()
			return err
		}
		c.Type, c.Length = columnType(c.Native)
		if c.Type == database.Integer {
			c.Bits = 64
		}
		c.NotNull = notNull != 0
		if pkPos > 0 {
			pk[pkPos] = c.Name
		}
		t.Columns = append(t.Columns, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for i := 1; i <= len(pk); i++ {
		t.PrimaryKey = append(t.PrimaryKey, pk[i])
	}
	if len(t.PrimaryKey) == 1 {
		if c := t.Column(t.PrimaryKey[0]); c != nil && strings.EqualFold(c.Native, "INTEGER") {
			c.Identity = true // a rowid alias
		}
	}

	rows, err = d.db.QueryContext(ctx, `SELECT name, "unique", origin FROM pragma_index_list(?) ORDER BY name`, t.Name)
	if err != nil {
		return err
	}
	for rows.Next() {
		ix := &database.Index{}
		var unique int
		var origin string
		if err := rows.Scan(&ix.Name, &unique, &origin); err != nil {
			rows.Close()
			return err
		}
		if origin == "pk" {
			continue
		}
		ix.Unique = unique != 0
		ix.Def = indexSQL[ix.Name] // empty for UNIQUE constraints, which the CREATE TABLE holds
		t.Indexes = append(t.Indexes, ix)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, ix := range t.Indexes {
		cols, err := d.db.QueryContext(ctx, `SELECT coalesce(name, '') FROM pragma_index_info(?) ORDER BY seqno`, ix.Name)
		if err != nil {
			return err
		}
		for cols.Next() {
			var name string
			if err := cols.Scan(&name); err != nil {
				cols.Close()
				return err
			}
			if name == "" { // an expression
				ix.Columns = nil
				break
			}
			ix.Columns = append(ix.Columns, name)
		}
		cols.Close()
	}

	rows, err = d.db.QueryContext(ctx, `SELECT id, "table", "from", coalesce("to", '') FROM pragma_foreign_key_list(?) ORDER BY id, seq`, t.Name)
	if err != nil {
		return err
	}
	byID := map[int]*database.ForeignKey{}
	for rows.Next() {
		var id int
		var ref, from, to string
		if err := rows.Scan(&id, &ref, &from, &to); err != nil {
			rows.Close()
			return err
		}
		fk := byID[id]
		if fk == nil {
			fk = &database.ForeignKey{Name: fmt.Sprintf("%s_fk%d", t.Name, id), RefTable: ref}
			byID[id] = fk
			t.ForeignKeys = append(t.ForeignKeys, fk)
		}
		fk.Columns = append(fk.Columns, from)
		fk.RefColumns = append(fk.RefColumns, to)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return d.db.QueryRowContext(ctx, "SELECT count(*) FROM "+Quote(t.Name)).Scan(&t.Rows)
}

// Scan streams every row of t.
func (d *DB) Scan(ctx context.Context, t *database.Table, fn func(database.Row) error) error {
	cols := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = "+" + Quote(c.Name)
	}
	rows, err := d.db.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+Quote(t.Name))
	if err != nil {
		return fmt.Errorf("read %s: %w", t.Name, err)
	}
	defer rows.Close()
	row := make(database.Row, len(cols))
	ptrs := make([]any, len(cols))
	for i := range row {
		ptrs[i] = &row[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("read %s: %w", t.Name, err)
		}
		if err := fn(row); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Parallel is 1: SQLite has one writer.
func (d *DB) Parallel() int { return 1 }

// Existing names the tables, indexes, views and triggers of the file that a copy of s would
// create (they share one namespace).
func (d *DB) Existing(ctx context.Context, s *database.Schema) ([]string, error) {
	want := map[string]bool{}
	for _, t := range s.Tables {
		want[strings.ToLower(t.Name)] = true
		for _, ix := range t.Indexes {
			want[strings.ToLower(ix.Name)] = true
		}
	}
	rows, err := d.db.QueryContext(ctx, "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name string
		if err := rows.Scan(&typ, &name); err != nil {
			return nil, err
		}
		if want[strings.ToLower(name)] {
			out = append(out, typ+" "+name)
		}
	}
	return out, rows.Err()
}

// CreateTables replays the source's CREATE TABLE statements.
func (d *DB) CreateTables(ctx context.Context, s *database.Schema) error {
	for _, t := range s.Tables {
		def := t.Def
		if def == "" {
			return fmt.Errorf("table %s: no CREATE statement to copy", t.Name)
		}
		if _, err := d.db.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("create table %s: %w", t.Name, err)
		}
	}
	return nil
}

// Finish creates the indexes, views and triggers.
func (d *DB) Finish(ctx context.Context, s *database.Schema) error {
	for _, t := range s.Tables {
		for _, ix := range t.Indexes {
			if ix.Def == "" {
				continue
			}
			if _, err := d.db.ExecContext(ctx, ix.Def); err != nil {
				return fmt.Errorf("create index %s on %s: %w", ix.Name, t.Name, err)
			}
		}
	}
	for _, stmt := range s.Extra {
		if _, err := d.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("create view or trigger: %w", err)
		}
	}
	return nil
}

// Writer loads t in one transaction by a prepared INSERT.
func (d *DB) Writer(ctx context.Context, t *database.Table) (database.RowWriter, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	cols := make([]string, len(t.Columns))
	marks := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = Quote(c.Name)
		marks[i] = "?"
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO "+Quote(t.Name)+" ("+strings.Join(cols, ", ")+") VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("prepare insert into %s: %w", t.Name, err)
	}
	return &writer{ctx: ctx, tx: tx, stmt: stmt, table: t.Name}, nil
}

type writer struct {
	ctx   context.Context
	tx    *sql.Tx
	stmt  *sql.Stmt
	table string
	n     int64
}

func (w *writer) Write(row database.Row) error {
	if _, err := w.stmt.ExecContext(w.ctx, row...); err != nil {
		return fmt.Errorf("insert row %d into %s: %w", w.n+1, w.table, err)
	}
	w.n++
	return nil
}

func (w *writer) Close() (int64, error) {
	w.stmt.Close()
	if err := w.tx.Commit(); err != nil {
		return 0, err
	}
	return w.n, nil
}

func (w *writer) Abort() {
	w.stmt.Close()
	w.tx.Rollback()
}

const ledgerDDL = `CREATE TABLE IF NOT EXISTS ` + database.LedgerTable + ` (
	run TEXT NOT NULL, table_name TEXT NOT NULL,
	key_fingerprint TEXT NOT NULL, policy_digest TEXT NOT NULL, tables INTEGER NOT NULL,
	policy TEXT NOT NULL, started_at TEXT NOT NULL, done_at TEXT NOT NULL,
	cleared INTEGER NOT NULL DEFAULT 1,
	PRIMARY KEY (run, table_name))`

// Ledger reads the rows of steward_progress: the engine records the tables of an in-place run
// in the copy it renames over the original, so a finished run is never applied twice.
func (d *DB) Ledger(ctx context.Context) ([]database.Progress, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", database.LedgerTable)
	if err != nil {
		return nil, err
	}
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		cols = append(cols, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, nil
	}
	if !slices.Contains(cols, "cleared") {
		return nil, database.ErrOldLedger
	}
	rows, err = d.db.QueryContext(ctx, "SELECT run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at, cleared FROM "+database.LedgerTable+" ORDER BY done_at, table_name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []database.Progress
	for rows.Next() {
		var p database.Progress
		var started, done string
		if err := rows.Scan(&p.ID, &p.Table, &p.KeyFingerprint, &p.PolicyDigest, &p.Tables, &p.Policy, &started, &done, &p.Cleared); err != nil {
			return nil, err
		}
		p.Started, _ = time.Parse(time.DateTime, started)
		p.Done, _ = time.Parse(time.DateTime, done)
		out = append(out, p)
	}
	return out, rows.Err()
}

// MarkDone records the tables of an in-place run as rewritten. The engine writes a new file,
// which never held an original row, so they are cleared too.
func (d *DB) MarkDone(ctx context.Context, done []database.Progress) error {
	if _, err := d.db.ExecContext(ctx, ledgerDDL); err != nil {
		return err
	}
	for _, p := range done {
		if _, err := d.db.ExecContext(ctx, "INSERT INTO "+database.LedgerTable+" (run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			p.ID, p.Table, p.KeyFingerprint, p.PolicyDigest, p.Tables, p.Policy, p.Started.UTC().Format(time.DateTime), p.Done.UTC().Format(time.DateTime)); err != nil {
			return err
		}
	}
	return nil
}
