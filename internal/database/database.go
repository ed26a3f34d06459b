// Package database is the one small interface Steward has over the databases it reads and
// writes: SQLite (the embedded default), PostgreSQL and MySQL/MariaDB.
//
// A row travels through Steward as a Row: one Go value per column, in the table's column
// order. The values are nil (SQL NULL), string, int64, float64, bool or []byte. Adapters read
// dates, timestamps, decimals and anything else the database can print as text, in the
// database's own text form, so that a value that no rule touches is written back exactly as
// it was read.
//
// Each adapter lives in its own package (sqlite, postgres, mysql) and registers itself with
// Register; Open picks the adapter by the DSN's scheme. Programs import the adapters they
// want for their side effect, as with database/sql drivers.
package database

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// Row is one row's values in table column order. See the package comment for the types.
type Row = []any

// DB is an open database.
type DB interface {
	Kind() Kind
	// Schema reads the base tables with their columns, keys, indexes and foreign keys.
	Schema(ctx context.Context) (*Schema, error)
	// Scan calls fn for every row of t, all columns in t.Columns order. The Row passed to
	// fn is reused: fn must not keep it after it returns.
	Scan(ctx context.Context, t *Table, fn func(Row) error) error
	Close() error
}

// Passer is a DB that can hand over, undecoded, the columns a consumer only copies into a
// table of the same kind of database (a copy's or in-place run's kept columns).
type Passer interface {
	// ScanPassing is Scan, except that the non-NULL values of the columns pass marks are
	// opaque: fit only to be written, unchanged, by a RowWriter of the same adapter. NULL is
	// still nil. The values may share memory with other rows' (a value kept keeps more than
	// its own bytes alive): it is for consumers that let go of rows once they are written.
	ScanPassing(ctx context.Context, t *Table, pass []bool, fn func(Row) error) error
}

// RowWriter loads rows into one table by the database's bulk path.
type RowWriter interface {
	// Write adds a row; the writer does not keep the slice after it returns.
	Write(Row) error
	// Close finishes the load and reports how many rows were written.
	Close() (int64, error)
	// Abort gives up the load; nothing partial is left visible where the database allows it.
	Abort()
}

// Target is a database a de-identified copy is written into (copy mode). The engine calls
// CreateTables once, then Writer for every table (possibly several at once), then Finish.
type Target interface {
	DB
	// Existing names what the target already holds that a copy of s would create — its
	// tables, and the names its indexes, sequences and constraints would take where they
	// share a namespace with other tables' — each as "table NAME", "index NAME"…; none for an
	// empty target. The engine refuses a target with any before it creates anything.
	Existing(ctx context.Context, s *Schema) ([]string, error)
	// CreateTables creates the tables of s with their columns only — no indexes or foreign
	// keys yet, so that loading is fast — failing if any already exists.
	CreateTables(ctx context.Context, s *Schema) error
	Writer(ctx context.Context, t *Table) (RowWriter, error)
	// Finish builds primary keys, unique constraints, indexes, foreign keys, sequences and
	// whatever else the source schema had.
	Finish(ctx context.Context, s *Schema) error
	// Parallel is how many tables may be loaded at once.
	Parallel() int
}

// Rewriter rewrites tables where they are (in-place mode). The adapter's package comment says
// how it keeps a table from ever being half-transformed.
type Rewriter interface {
	DB
	// Ledger reads every row of the ledger (LedgerTable), of any run; none when there is no
	// ledger yet.
	Ledger(ctx context.Context) ([]Progress, error)
	// Rewrite replaces the rows of g's tables — a group that foreign keys tie together — with
	// the rows g.Fill writes for each, and records them in the ledger, all at once: after a
	// crash either every table of the group is rewritten and recorded, or none is touched.
	// Before anything else it takes a lock that one rewrite of the database holds at a time,
	// and asks g.Check; skipped reports that Check said the group was done.
	Rewrite(ctx context.Context, g *RewriteGroup) (skipped bool, err error)
	// ClearResidue removes what the rewrites of the tables the ledger records for run, and
	// not yet as cleared, left of their original values in the database's own files — rows
	// deleted in place, statistics sampled from the originals — and records them as
	// cleared. What it cannot do (a privilege missing) it returns as warnings, and leaves
	// the tables to be cleared by the next run. It never touches the server's logs.
	ClearResidue(ctx context.Context, run string) (warnings []string, err error)
}

// Opener opens a DSN of one kind. create asks for a database that may not exist yet (a copy
// target); adapters that can create it do.
type Opener func(ctx context.Context, dsn DSN, create bool) (DB, error)

var (
	mu      sync.Mutex
	openers = map[Kind]Opener{}
)

// Register makes an adapter available to Open.
func Register(k Kind, o Opener) {
	mu.Lock()
	defer mu.Unlock()
	openers[k] = o
}

// Open connects to the database a DSN names.
func Open(ctx context.Context, dsn string) (DB, error) { return open(ctx, dsn, false) }

// OpenTarget connects to a copy target, creating the database when the adapter can.
func OpenTarget(ctx context.Context, dsn string) (Target, error) {
	db, err := open(ctx, dsn, true)
	if err != nil {
		return nil, err
	}
	t, ok := db.(Target)
	if !ok {
		db.Close()
		return nil, fmt.Errorf("%s databases cannot be a copy target", db.Kind())
	}
	return t, nil
}

func open(ctx context.Context, dsn string, create bool) (DB, error) {
	d, err := ParseDSN(dsn)
	if err != nil {
		return nil, err
	}
	mu.Lock()
	o := openers[d.Kind]
	mu.Unlock()
	if o == nil {
		return nil, fmt.Errorf("no adapter for %s databases is built in", d.Kind)
	}
	return o(ctx, d, create)
}

// SortTables orders tables by name, the order every report and plan uses.
func SortTables(ts []*Table) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
}

// Groups splits tables into groups that the foreign keys for which tie reports true bind
// together (the connected components of that reference graph), each sorted by name, the
// groups in the order of their first table.
func Groups(s *Schema, tie func(t *Table, fk *ForeignKey) bool) [][]*Table {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] == "" || parent[x] == x {
			parent[x] = x
			return x
		}
		r := find(parent[x])
		parent[x] = r
		return r
	}
	for _, t := range s.Tables {
		find(t.Name)
		for _, fk := range t.ForeignKeys {
			if s.Table(fk.RefTable) == nil || !tie(t, fk) {
				continue
			}
			a, b := find(t.Name), find(fk.RefTable)
			if a != b {
				if a < b {
					parent[b] = a
				} else {
					parent[a] = b
				}
			}
		}
	}
	byRoot := map[string][]*Table{}
	var roots []string
	for _, t := range s.Tables {
		r := find(t.Name)
		if byRoot[r] == nil {
			roots = append(roots, r)
		}
		byRoot[r] = append(byRoot[r], t)
	}
	groups := make([][]*Table, 0, len(roots))
	for _, r := range roots {
		g := byRoot[r]
		SortTables(g)
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return groups[i][0].Name < groups[j][0].Name })
	return groups
}

// quoted matches the quoted parts of a database's error message, where servers put the
// offending value ("invalid input syntax for type date: \"…\"", "Duplicate entry '…'").
var quoted = regexp.MustCompile(`"[^"]*"|'[^']*'`)

// RedactError hides whatever a database error quotes, since that may be a patient's value,
// keeping the rest of the message and the error chain for errors.Is and errors.As.
func RedactError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	red := quoted.ReplaceAllString(msg, `"…"`)
	if red == msg {
		return err
	}
	return &redacted{msg: red, err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
