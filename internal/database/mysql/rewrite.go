package mysql

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/stewardhealth/steward/internal/database"
)

const ledgerDDL = "CREATE TABLE IF NOT EXISTS " + ledgerTable + ` (
	run VARCHAR(64) NOT NULL,
	table_name VARCHAR(64) NOT NULL,
	done_at DATETIME NOT NULL,
	PRIMARY KEY (run, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

// testHookBeforeCommit, when set, runs inside Rewrite's transaction just before COMMIT.
var testHookBeforeCommit func(ctx context.Context, ex execer) error

func (d *DB) ensureLedger(ctx context.Context) error {
	if _, err := d.db.ExecContext(ctx, ledgerDDL); err != nil {
		return d.errorf("create the ledger table "+ledgerTable+" in", err)
	}
	return nil
}

// Done lists the tables that run has rewritten, from the ledger table steward_progress.
func (d *DB) Done(ctx context.Context, run string) (map[string]bool, error) {
	if err := d.ensureLedger(ctx); err != nil {
		return nil, err
	}
	rows, err := d.db.QueryContext(ctx, "SELECT table_name FROM "+ledgerTable+" WHERE run = ?", run)
	if err != nil {
		return nil, d.errorf("read the ledger of", err)
	}
	done := map[string]bool{}
	err = each(rows, func() error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		done[name] = true
		return nil
	})
	if err != nil {
		return nil, d.errorf("read the ledger of", err)
	}
	return done, nil
}

// Rewrite replaces the rows of tables with those fill writes, all in one transaction; see
// the package comment.
func (d *DB) Rewrite(ctx context.Context, run string, tables []*database.Table,
	fill func(ctx context.Context, t *database.Table, w database.RowWriter) error) error {
	if len(tables) == 0 {
		return nil
	}
	if run == "" || len(run) > 64 {
		return fmt.Errorf("rewrite: the run identifier must have 1 to 64 characters, not %d", len(run))
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
		if strings.HasPrefix(t.Name, "steward_stage_") || t.Name == ledgerTable {
			return fmt.Errorf("rewrite %s: Steward keeps that name for itself", t.Name)
		}
	}
	group := strings.Join(names, ", ")
	if err := d.ensureLedger(ctx); err != nil {
		return err
	}
	if err := d.checkRewritable(ctx, names); err != nil {
		return err
	}

	conn, err := d.db.Conn(ctx)
	if err != nil {
		return d.errorf("rewrite "+group+" in", err)
	}
	committed := false
	defer func() {
		if !committed {
			discard(conn) // with its temporary tables and foreign_key_checks = 0
		}
	}()
	fail := func(err error) error { return d.errorf("rewrite "+group+" in", err) }

	if _, err := conn.ExecContext(ctx, "SET foreign_key_checks = 0"); err != nil {
		return fail(err)
	}
	stages := make([]string, len(tables))
	for i, t := range tables {
		stages[i] = fmt.Sprintf("steward_stage_%d", i)
		if _, err := conn.ExecContext(ctx, "CREATE TEMPORARY TABLE "+quoteIdent(stages[i])+" LIKE "+quoteIdent(t.Name)); err != nil {
			return fail(err)
		}
		// Without AUTO_INCREMENT, since MariaDB's LOAD DATA with a SET clause turns a 0 into
		// a new value even under NO_AUTO_VALUE_ON_ZERO. The INSERT … SELECT keeps the 0.
		for _, c := range t.Columns {
			if c.Identity {
				q := "ALTER TABLE " + quoteIdent(stages[i]) + " MODIFY " + columnDef(c, metaOf(t).column(c.Name), false)
				if _, err := conn.ExecContext(ctx, q); err != nil {
					return fail(err)
				}
			}
		}
	}

	// Stage: the new rows go into the temporary tables; the originals stay as they are.
	targets := make([]*target, len(tables))
	for i, t := range tables {
		tg, err := newTarget(ctx, conn, t, stages[i], t.Name)
		if err != nil {
			return fail(err)
		}
		targets[i] = tg
		inner, err := d.newWriter(ctx, conn, tg)
		if err != nil {
			return fail(err)
		}
		w := &stageWriter{rowWriter: inner}
		if err := fill(ctx, t, w); err != nil {
			w.Abort()
			return fmt.Errorf("rewrite %s: %w", t.Name, err)
		}
		if err := w.finish(); err != nil {
			return fmt.Errorf("rewrite %s: %w", t.Name, err)
		}
	}

	database.Checkpointf("group %s: staged", names[0])
	// Swap: one transaction replaces every table's rows and records them as done.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback() // a no-op after Commit
	for i, t := range tables {
		cols := targets[i].columnList()
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+quoteIdent(t.Name)); err != nil {
			return fail(err)
		}
		q := "INSERT INTO " + quoteIdent(t.Name) + " (" + cols + ") SELECT " + cols + " FROM " + quoteIdent(stages[i])
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fail(err)
		}
		database.Checkpointf("group %s: %s swapped", names[0], t.Name)
		_, err := tx.ExecContext(ctx, "INSERT INTO "+ledgerTable+" (run, table_name, done_at) VALUES (?, ?, UTC_TIMESTAMP())"+
			" ON DUPLICATE KEY UPDATE done_at = VALUES(done_at)", run, t.Name)
		if err != nil {
			return fail(err)
		}
	}
	database.Checkpointf("group %s: recorded", names[0])
	if testHookBeforeCommit != nil {
		if err := testHookBeforeCommit(ctx, tx); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}

	// Done; tidy the connection up for the pool, or drop it.
	for _, s := range stages {
		if _, err := conn.ExecContext(ctx, "DROP TEMPORARY TABLE "+quoteIdent(s)); err != nil {
			return nil // committed: the deferred discard drops the rest
		}
	}
	if _, err := conn.ExecContext(ctx, "SET foreign_key_checks = DEFAULT"); err != nil {
		return nil
	}
	committed = true
	conn.Close()
	return nil
}

// stageWriter is the RowWriter fill gets: fill may close it or leave that to Rewrite, but a
// writer it aborted fails the rewrite.
type stageWriter struct {
	rowWriter
	closed, aborted bool
	err             error
}

func (w *stageWriter) Close() (int64, error) {
	if w.closed || w.aborted {
		return 0, errClosed
	}
	w.closed = true
	n, err := w.rowWriter.Close()
	w.err = err
	return n, err
}

func (w *stageWriter) Abort() {
	if w.closed || w.aborted {
		return
	}
	w.aborted = true
	w.rowWriter.Abort()
}

func (w *stageWriter) finish() error {
	switch {
	case w.aborted:
		return errors.New("the load was aborted")
	case w.closed:
		return w.err
	}
	_, err := w.Close()
	return err
}

// checkRewritable refuses tables that Rewrite cannot change atomically and quietly.
func (d *DB) checkRewritable(ctx context.Context, names []string) error {
	in := strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ")
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	rows, err := d.db.QueryContext(ctx, `SELECT TABLE_NAME, COALESCE(ENGINE, ''), TABLE_TYPE FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (`+in+`)`, args...)
	if err != nil {
		return d.errorf("check the tables of", err)
	}
	seen := map[string]bool{}
	var problems []string
	err = each(rows, func() error {
		var name, engine, kind string
		if err := rows.Scan(&name, &engine, &kind); err != nil {
			return err
		}
		seen[name] = true
		switch {
		case kind == "SYSTEM VERSIONED":
			problems = append(problems, name+" is system-versioned: its history would keep the original rows")
		case kind != "BASE TABLE":
			problems = append(problems, name+" is not a base table")
		case !strings.EqualFold(engine, "InnoDB"):
			problems = append(problems, name+" uses the "+engine+" engine, which cannot roll back: convert it to InnoDB")
		}
		return nil
	})
	if err != nil {
		return d.errorf("check the tables of", err)
	}
	for _, n := range names {
		if !seen[n] {
			problems = append(problems, n+" does not exist")
		}
	}
	rows, err = d.db.QueryContext(ctx, `SELECT EVENT_OBJECT_TABLE, TRIGGER_NAME FROM information_schema.TRIGGERS
		WHERE EVENT_OBJECT_SCHEMA = DATABASE() AND EVENT_OBJECT_TABLE IN (`+in+`) ORDER BY 1, 2`, args...)
	if err != nil {
		return d.errorf("check the triggers of", err)
	}
	err = each(rows, func() error {
		var table, trigger string
		if err := rows.Scan(&table, &trigger); err != nil {
			return err
		}
		problems = append(problems, table+" has trigger "+trigger+", which would fire on the rewrite's DELETE and INSERT: drop it first (and recreate it after)")
		return nil
	})
	if err != nil {
		return d.errorf("check the triggers of", err)
	}
	if len(problems) > 0 {
		sort.Strings(problems)
		return fmt.Errorf("cannot rewrite in place in MySQL database %s on %s: %s", d.name, d.host, strings.Join(problems, "; "))
	}
	return nil
}
