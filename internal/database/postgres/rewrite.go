package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/stewardhealth/steward/internal/database"
)

const ledgerDDL = `CREATE TABLE IF NOT EXISTS ` + database.LedgerTable + ` (
	run text NOT NULL, table_name text NOT NULL,
	key_fingerprint text NOT NULL, policy_digest text NOT NULL, tables integer NOT NULL,
	policy text NOT NULL, started_at timestamptz NOT NULL, done_at timestamptz NOT NULL,
	PRIMARY KEY (run, table_name))`

// rewriteLock is the transaction-level advisory lock that one rewrite of a database holds at
// a time (advisory locks are per database).
const rewriteLock int64 = 0x5374_6577_6172_6401

// queryer is a pool, a connection or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Ledger reads every row of steward_progress.
func (d *DB) Ledger(ctx context.Context) ([]database.Progress, error) {
	l, err := readLedger(ctx, d.pool)
	if err != nil {
		return nil, fmt.Errorf("read the ledger %s: %w", database.LedgerTable, err)
	}
	return l, nil
}

func readLedger(ctx context.Context, q queryer) ([]database.Progress, error) {
	rows, err := q.Query(ctx, `SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, database.LedgerTable)
	if err != nil {
		return nil, err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, nil
	}
	if !slices.Contains(cols, "key_fingerprint") {
		return nil, database.ErrOldLedger
	}
	rows, err = q.Query(ctx, `SELECT run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at
		FROM `+database.LedgerTable+` ORDER BY done_at, table_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (database.Progress, error) {
		var p database.Progress
		err := r.Scan(&p.ID, &p.Table, &p.KeyFingerprint, &p.PolicyDigest, &p.Tables, &p.Policy, &p.Started, &p.Done)
		p.Started, p.Done = p.Started.UTC(), p.Done.UTC()
		return p, err
	})
}

// Rewrite replaces the rows of a group of tables in one transaction (see the package comment).
func (d *DB) Rewrite(ctx context.Context, g *database.RewriteGroup) (skipped bool, err error) {
	tables := g.Tables
	if _, err := d.pool.Exec(ctx, ledgerDDL); err != nil {
		return false, fmt.Errorf("create the ledger %s: %w", database.LedgerTable, err)
	}
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer tx.Rollback(ctx)

	// One rewrite at a time: a killed run's transaction may still be running on the server,
	// which holds this lock until it has committed or rolled back.
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '1h'"); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", rewriteLock); err != nil {
		return false, fmt.Errorf("wait for another in-place run of this database: %w", err)
	}
	if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = DEFAULT"); err != nil {
		return false, err
	}
	ledger, err := readLedger(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("read the ledger %s: %w", database.LedgerTable, err)
	}
	if skip, err := g.Check(ledger); err != nil || skip {
		return skip, err
	}

	stage := make([]string, len(tables))
	for i, t := range tables {
		stage[i] = quote(fmt.Sprintf("steward_stage_%d", i))
		if _, err := tx.Exec(ctx, createTable(t, stage[i], true)); err != nil {
			return false, fmt.Errorf("stage %s: %w", t.Name, err)
		}
		w := startCopy(ctx, conn.Conn().PgConn(), stage[i], t, nil, d.binaryWriter(ctx, t))
		if err := g.Fill(ctx, t, w); err != nil {
			w.Abort()
			return false, err
		}
		if _, err := w.Close(); err != nil {
			return false, err
		}
	}

	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
	}
	database.Checkpointf("group %s: staged", names[0])
	rows, err := tx.Query(ctx, `
		SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
		FROM pg_constraint con
		JOIN pg_class c ON c.oid = con.conrelid
		LEFT JOIN pg_class r ON r.oid = con.confrelid
		WHERE con.contype = 'f' AND c.relnamespace = current_schema()::regnamespace
		  AND (c.relname = ANY($1) OR r.relname = ANY($1))
		ORDER BY c.relname, con.conname`, names)
	if err != nil {
		return false, err
	}
	type fk struct{ table, name, def string }
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fk, error) {
		var f fk
		err := r.Scan(&f.table, &f.name, &f.def)
		return f, err
	})
	if err != nil {
		return false, err
	}
	for _, f := range fks {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+quote(f.table)+" DROP CONSTRAINT "+quote(f.name)); err != nil {
			return false, err
		}
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = quote(t.Name)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
		return false, fmt.Errorf("truncate %s: %w", strings.Join(names, ", "), err)
	}
	for i, t := range tables {
		cols := columnList(t)
		if _, err := tx.Exec(ctx, "INSERT INTO "+quoted[i]+" ("+cols+") OVERRIDING SYSTEM VALUE SELECT "+cols+" FROM "+stage[i]); err != nil {
			return false, fmt.Errorf("refill %s: %w", t.Name, database.RedactError(err))
		}
	}
	for _, f := range fks {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+quote(f.table)+" ADD CONSTRAINT "+quote(f.name)+" "+f.def); err != nil {
			return false, fmt.Errorf("table %s, foreign key %s: %w", f.table, f.name, database.RedactError(err))
		}
	}
	database.Checkpointf("group %s: swapped", names[0])
	r := g.Run
	for _, t := range tables {
		if _, err := tx.Exec(ctx, `INSERT INTO `+database.LedgerTable+` (run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, now())`, r.ID, t.Name, r.KeyFingerprint, r.PolicyDigest, r.Tables, r.Policy, r.Started); err != nil {
			return false, fmt.Errorf("record %s in the ledger: %w", t.Name, err)
		}
	}
	database.Checkpointf("group %s: recorded", names[0])
	return false, tx.Commit(ctx)
}
