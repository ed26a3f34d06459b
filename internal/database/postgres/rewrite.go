package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/stewardhealth/steward/internal/database"
)

const ledger = `CREATE TABLE IF NOT EXISTS steward_progress (
	run text NOT NULL, table_name text NOT NULL, done_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (run, table_name))`

// Done lists the tables run has rewritten.
func (d *DB) Done(ctx context.Context, run string) (map[string]bool, error) {
	if _, err := d.pool.Exec(ctx, ledger); err != nil {
		return nil, err
	}
	rows, err := d.pool.Query(ctx, "SELECT table_name FROM steward_progress WHERE run = $1", run)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, n := range names {
		done[n] = true
	}
	return done, nil
}

// Rewrite replaces the rows of a group of tables in one transaction (see the package comment).
func (d *DB) Rewrite(ctx context.Context, run string, tables []*database.Table, fill func(context.Context, *database.Table, database.RowWriter) error) error {
	conn, err := d.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)

	stage := make([]string, len(tables))
	for i, t := range tables {
		stage[i] = quote(fmt.Sprintf("steward_stage_%d", i))
		if _, err := tx.Exec(ctx, createTable(t, stage[i], true)); err != nil {
			return fmt.Errorf("stage %s: %w", t.Name, err)
		}
		w := startCopy(ctx, conn.Conn().PgConn(), stage[i], t, nil, d.binaryWriter(ctx, t))
		if err := fill(ctx, t, w); err != nil {
			w.Abort()
			return err
		}
		if _, err := w.Close(); err != nil {
			return err
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
		return err
	}
	type fk struct{ table, name, def string }
	fks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fk, error) {
		var f fk
		err := r.Scan(&f.table, &f.name, &f.def)
		return f, err
	})
	if err != nil {
		return err
	}
	for _, f := range fks {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+quote(f.table)+" DROP CONSTRAINT "+quote(f.name)); err != nil {
			return err
		}
	}
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = quote(t.Name)
	}
	if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(quoted, ", ")); err != nil {
		return fmt.Errorf("truncate %s: %w", strings.Join(names, ", "), err)
	}
	for i, t := range tables {
		cols := columnList(t)
		if _, err := tx.Exec(ctx, "INSERT INTO "+quoted[i]+" ("+cols+") OVERRIDING SYSTEM VALUE SELECT "+cols+" FROM "+stage[i]); err != nil {
			return fmt.Errorf("refill %s: %w", t.Name, database.RedactError(err))
		}
	}
	for _, f := range fks {
		if _, err := tx.Exec(ctx, "ALTER TABLE "+quote(f.table)+" ADD CONSTRAINT "+quote(f.name)+" "+f.def); err != nil {
			return fmt.Errorf("table %s, foreign key %s: %w", f.table, f.name, database.RedactError(err))
		}
	}
	database.Checkpointf("group %s: swapped", names[0])
	for _, t := range tables {
		if _, err := tx.Exec(ctx, "INSERT INTO steward_progress (run, table_name) VALUES ($1, $2)", run, t.Name); err != nil {
			return err
		}
	}
	database.Checkpointf("group %s: recorded", names[0])
	return tx.Commit(ctx)
}
