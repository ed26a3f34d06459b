package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/stewardhealth/steward/internal/audit"
)

// Audit is the audit log kept in the application database. It implements audit.Store.
type Audit struct{ DB *DB }

var _ audit.Store = Audit{}

// auditLockKey is the PostgreSQL advisory lock that serialises appends (on SQLite the
// transaction's write lock does).
const auditLockKey = 0x5374657761726401

// Append implements audit.Store: in one transaction it reads the last entry, chains e after
// it and inserts it. Concurrent appenders queue on the lock; the primary key on seq would
// refuse a fork if they did not.
func (a Audit) Append(ctx context.Context, e audit.Entry) (audit.Entry, error) {
	err := a.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = a.AppendTx(ctx, tx, e)
		return err
	})
	if err != nil {
		return audit.Entry{}, fmt.Errorf("audit log: append: %w", err)
	}
	return e, nil
}

// AppendTx appends e within tx, so that a change and its audit entry commit together.
func (a Audit) AppendTx(ctx context.Context, tx *sql.Tx, e audit.Entry) (audit.Entry, error) {
	if a.DB.Dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(auditLockKey)); err != nil {
			return e, err
		}
	}
	var last *audit.Entry
	lastStmt, err := a.DB.TxStmt(ctx, tx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`)
	if err != nil {
		return e, err
	}
	row := lastStmt.QueryRowContext(ctx)
	switch l, err := scanEntry(row); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return e, err
	default:
		last = &l
	}
	e = a.DB.AuditKey.Chain(last, e)
	detail := ""
	if len(e.Detail) > 0 {
		b, _ := json.Marshal(e.Detail)
		detail = string(b)
	}
	insert, err := a.DB.TxStmt(ctx, tx, `INSERT INTO audit_log (seq, time, actor, action, object, source, detail, prev, hash, key_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`)
	if err != nil {
		return e, err
	}
	_, err = insert.ExecContext(ctx, e.Seq, FormatTime(e.Time), e.Actor, e.Action, e.Object, e.Source, detail, e.Prev, e.Hash, e.Key)
	return e, err
}

const auditColumns = `seq, time, actor, action, object, source, detail, prev, hash, key_id`

type scanner interface{ Scan(...any) error }

func scanEntry(r scanner) (audit.Entry, error) {
	var e audit.Entry
	var t, detail string
	if err := r.Scan(&e.Seq, &t, &e.Actor, &e.Action, &e.Object, &e.Source, &detail, &e.Prev, &e.Hash, &e.Key); err != nil {
		return e, err
	}
	var err error
	if e.Time, err = ParseTime(t); err != nil {
		return e, fmt.Errorf("audit entry %d: time: %w", e.Seq, err)
	}
	if detail != "" {
		if err := json.Unmarshal([]byte(detail), &e.Detail); err != nil {
			return e, fmt.Errorf("audit entry %d: detail: %w", e.Seq, err)
		}
	}
	return e, nil
}

// Walk implements audit.Store, in the order entries were stored (by rowid on SQLite, so a
// renumbered entry shows up out of place).
func (a Audit) Walk(ctx context.Context, fn func(audit.Entry) error) error {
	order := "seq"
	if a.DB.Dialect == SQLite {
		order = "rowid"
	}
	return a.query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY `+order, nil, fn)
}

// EnsureKeyed appends an audit.keyed entry when the store has a key and its last entry is
// not keyed with it (a store written before keys, or by a tool without the key), so that
// from now on the log ends in a keyed entry, as the verifier requires.
func (a Audit) EnsureKeyed(ctx context.Context) error {
	if a.DB.AuditKey == nil {
		return nil
	}
	var key string
	err := a.DB.QueryRowContext(ctx, `SELECT key_id FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&key)
	if errors.Is(err, sql.ErrNoRows) || err == nil && key == a.DB.AuditKey.ID {
		return nil // an empty log's first entry will be keyed
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit log: %w", err)
	}
	_, err = a.Append(ctx, audit.Entry{Actor: "steward", Action: "audit.keyed", Object: "key/" + a.DB.AuditKey.ID})
	return err
}

// WalkFrom implements audit.FromWalker: the entries from seq on, by sequence number.
func (a Audit) WalkFrom(ctx context.Context, seq int64, fn func(audit.Entry) error) error {
	return a.query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE seq >= $1 ORDER BY seq`, []any{seq}, fn)
}

// Query calls fn for the entries a WHERE … ORDER BY clause selects (the caller's constant
// text, values as $n arguments).
func (a Audit) Query(ctx context.Context, where string, args []any, fn func(audit.Entry) error) error {
	return a.query(ctx, `SELECT `+auditColumns+` FROM audit_log `+where, args, fn)
}

func (a Audit) query(ctx context.Context, q string, args []any, fn func(audit.Entry) error) error {
	rows, err := a.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("audit log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	return nil
}

// Filter selects audit entries; empty fields match everything.
type Filter struct {
	Actor, Action, Object, Source string
	Since, Until                  string // times in TimeFormat or a prefix of it (2026-11-23)
	Agency                        string // only entries whose actor belongs to this agency
	Before                        int64  // entries with seq below this (paging); 0 for the newest
	After                         int64  // entries with seq above this: the page just newer (still newest first)
	Limit                         int
}

// Find returns entries matching f, newest first, at most f.Limit (default 100, at most 1000).
func (a Audit) Find(ctx context.Context, f Filter) ([]audit.Entry, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	for _, c := range []struct{ cond, v string }{
		{"actor = $%d", f.Actor}, {"action = $%d", f.Action}, {"object = $%d", f.Object}, {"source = $%d", f.Source},
		{"time >= $%d", f.Since}, {"time < $%d", f.Until},
		{"actor IN (SELECT name FROM users WHERE agency = $%d)", f.Agency},
	} {
		if c.v != "" {
			add(c.cond, c.v)
		}
	}
	if f.Before > 0 {
		add("seq < $%d", f.Before)
	}
	if f.After > 0 {
		add("seq > $%d", f.After)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	for i, w := range where {
		q += map[bool]string{true: " WHERE ", false: " AND "}[i == 0] + w
	}
	// The page after a cursor is the oldest entries above it, turned newest first.
	order := "DESC"
	if f.After > 0 {
		order = "ASC"
	}
	q += fmt.Sprintf(" ORDER BY seq %s LIMIT %d", order, f.Limit)
	var out []audit.Entry
	err := a.query(ctx, q, args, func(e audit.Entry) error { out = append(out, e); return nil })
	if f.After > 0 {
		slices.Reverse(out)
	}
	return out, err
}
