package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/database"
)

const ledgerDDL = "CREATE TABLE IF NOT EXISTS " + ledgerTable + ` (
	run VARCHAR(64) NOT NULL,
	table_name VARCHAR(64) NOT NULL,
	key_fingerprint VARCHAR(64) NOT NULL,
	policy_digest VARCHAR(64) NOT NULL,
	tables INT NOT NULL,
	policy MEDIUMTEXT NOT NULL,
	started_at DATETIME NOT NULL,
	done_at DATETIME NOT NULL,
	cleared TINYINT NOT NULL DEFAULT 0,
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

// Ledger reads every row of the ledger table steward_progress.
func (d *DB) Ledger(ctx context.Context) ([]database.Progress, error) {
	l, err := d.readLedger(ctx, d.db)
	if err != nil && !errors.Is(err, database.ErrOldLedger) {
		return nil, d.errorf("read the ledger of", err)
	}
	return l, err
}

func (d *DB) readLedger(ctx context.Context, ex execer) ([]database.Progress, error) {
	rows, err := ex.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`, ledgerTable)
	if err != nil {
		return nil, err
	}
	var cols []string
	if err := each(rows, func() error {
		var c string
		cols = append(cols, c)
		return rows.Scan(&cols[len(cols)-1])
	}); err != nil {
		return nil, err
	}
	if len(cols) == 0 {
		return nil, nil
	}
	if !slices.Contains(cols, "cleared") {
		return nil, database.ErrOldLedger
	}
	rows, err = ex.QueryContext(ctx, "SELECT run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at, cleared FROM "+ledgerTable+" ORDER BY done_at, table_name")
	if err != nil {
		return nil, err
	}
	var out []database.Progress
	err = each(rows, func() error {
		var p database.Progress
		var started, done string
		if err := rows.Scan(&p.ID, &p.Table, &p.KeyFingerprint, &p.PolicyDigest, &p.Tables, &p.Policy, &started, &done, &p.Cleared); err != nil {
			return err
		}
		p.Started, _ = time.Parse(time.DateTime, started)
		p.Done, _ = time.Parse(time.DateTime, done)
		out = append(out, p)
		return nil
	})
	return out, err
}

// lockName is the name of the lock (GET_LOCK) that one rewrite of the database holds at a
// time: lock names are server-wide and at most 64 characters.
func (d *DB) lockName() string {
	sum := sha256.Sum256([]byte(d.name))
	return "steward_rewrite_" + hex.EncodeToString(sum[:16])
}

// Rewrite replaces the rows of the group's tables with those g.Fill writes, all in one
// transaction; see the package comment.
func (d *DB) Rewrite(ctx context.Context, g *database.RewriteGroup) (skipped bool, err error) {
	tables := g.Tables
	if len(tables) == 0 {
		return false, nil
	}
	if len(g.Run.ID) == 0 || len(g.Run.ID) > 64 {
		return false, fmt.Errorf("rewrite: the run identifier must have 1 to 64 characters, not %d", len(g.Run.ID))
	}
	names := make([]string, len(tables))
	for i, t := range tables {
		names[i] = t.Name
		if strings.HasPrefix(t.Name, "steward_stage_") || t.Name == ledgerTable {
			return false, fmt.Errorf("rewrite %s: Steward keeps that name for itself", t.Name)
		}
	}
	group := strings.Join(names, ", ")
	if err := d.ensureLedger(ctx); err != nil {
		return false, err
	}
	if err := d.checkRewritable(ctx, names); err != nil {
		return false, err
	}

	conn, err := d.db.Conn(ctx)
	if err != nil {
		return false, d.errorf("rewrite "+group+" in", err)
	}
	committed := false
	defer func() {
		if !committed {
			discard(conn) // with its temporary tables, its lock and foreign_key_checks = 0
		}
	}()
	fail := func(err error) (bool, error) { return false, d.errorf("rewrite "+group+" in", err) }

	// One rewrite at a time: a killed run's session may still be running on the server; it
	// holds this lock until the server has committed or rolled back its transaction.
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 3600)", d.lockName()).Scan(&got); err != nil {
		return fail(err)
	}
	if got.Int64 != 1 {
		return false, d.errorf("wait an hour for another in-place run to end: gave up on", errors.New("the lock is still held"))
	}
	ledger, err := d.readLedger(ctx, conn)
	if err != nil {
		if errors.Is(err, database.ErrOldLedger) {
			return false, err
		}
		return fail(err)
	}
	if skip, err := g.Check(ledger); err != nil || skip {
		if _, rerr := conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", d.lockName()); rerr == nil {
			committed = true // nothing to discard
			conn.Close()
		}
		return skip, err
	}

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
		if err := g.Fill(ctx, t, w); err != nil {
			w.Abort()
			return false, fmt.Errorf("rewrite %s: %w", t.Name, err)
		}
		if err := w.finish(); err != nil {
			return false, fmt.Errorf("rewrite %s: %w", t.Name, err)
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
		r := g.Run
		_, err := tx.ExecContext(ctx, "INSERT INTO "+ledgerTable+" (run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at)"+
			" VALUES (?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP())",
			r.ID, t.Name, r.KeyFingerprint, r.PolicyDigest, r.Tables, r.Policy, r.Started.UTC().Format(time.DateTime))
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
			return false, nil // committed: the deferred discard drops the rest
		}
	}
	if _, err := conn.ExecContext(ctx, "SET foreign_key_checks = DEFAULT"); err != nil {
		return false, nil
	}
	if _, err := conn.ExecContext(ctx, "DO RELEASE_LOCK(?)", d.lockName()); err != nil {
		return false, nil
	}
	committed = true
	conn.Close()
	return false, nil
}

// ClearResidue rebuilds the tables run rewrote, and the statistics sampled from their
// original rows. InnoDB's DELETE marks rows deleted and purge frees their space, but the
// bytes stay in the pages of the table's file until overwritten: ALTER TABLE … FORCE copies
// the live rows into a new file and drops the old one (with innodb_file_per_table, the
// default; in the shared system tablespace the old pages are freed, not emptied — a warning
// says so). Engine-independent statistics (ANALYZE TABLE … PERSISTENT) keep a column's
// minimum and maximum, and histograms, in mysql.column_stats: they are collected again, and
// that table (Aria) rebuilt by ALTER TABLE … FORCE, which needs privileges on the mysql schema;
// without them a warning says what to run.
func (d *DB) ClearResidue(ctx context.Context, run string) ([]string, error) {
	rows, err := d.db.QueryContext(ctx, "SELECT table_name FROM "+ledgerTable+" WHERE run = ? AND cleared = 0 ORDER BY table_name", run)
	if err != nil {
		return nil, d.errorf("read the ledger of", err)
	}
	var tables []string
	if err := each(rows, func() error {
		var t string
		if err := rows.Scan(&t); err != nil {
			return err
		}
		tables = append(tables, t)
		return nil
	}); err != nil {
		return nil, d.errorf("read the ledger of", err)
	}
	if len(tables) == 0 {
		return nil, nil
	}
	var warnings []string
	var perFile int
	if err := d.db.QueryRowContext(ctx, "SELECT @@innodb_file_per_table").Scan(&perFile); err == nil && perFile == 0 {
		warnings = append(warnings, "innodb_file_per_table is off: the rebuilt tables' old pages stay in the shared tablespace (ibdata1) until reused, with the original rows in them; ship only the bundle")
	}
	args := make([]any, len(tables))
	for i, t := range tables {
		args[i] = t
	}
	in := strings.TrimSuffix(strings.Repeat("?, ", len(tables)), ", ")
	var stats int
	statsErr := d.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM mysql.column_stats WHERE db_name = DATABASE() AND table_name IN ("+in+")", args...).Scan(&stats)
	for _, t := range tables {
		if _, err := d.db.ExecContext(ctx, "ALTER TABLE "+quoteIdent(t)+" FORCE"); err != nil {
			return nil, d.errorf("rebuild "+t+" in", err)
		}
		database.Checkpointf("residue: %s rebuilt", t)
	}
	switch {
	case statsErr != nil:
		warnings = append(warnings, fmt.Sprintf("could not read mysql.column_stats (%v): if ANALYZE TABLE … PERSISTENT ever ran on %s, it holds their columns' smallest and largest original values; have an administrator run ANALYZE TABLE … PERSISTENT FOR ALL on them and ALTER TABLE mysql.column_stats FORCE", database.RedactError(statsErr), strings.Join(tables, ", ")))
		stats = 0
	case stats > 0:
		for _, t := range tables {
			if err := d.tableCommand(ctx, "ANALYZE TABLE "+quoteIdent(t)+" PERSISTENT FOR ALL"); err != nil {
				return nil, d.errorf("analyze "+t+" in", err)
			}
		}
		// ALTER TABLE … FORCE, not OPTIMIZE: OPTIMIZE may judge the table "already up to
		// date" and keep its file, whose pages still hold the replaced rows' bytes (seen once
		// under a loaded CI run: 6 original values left in column_stats.MAD).
		if _, err := d.db.ExecContext(ctx, "ALTER TABLE mysql.column_stats FORCE"); err != nil {
			warnings = append(warnings, fmt.Sprintf("could not rebuild mysql.column_stats (%v): its file may keep the smallest and largest original values of %s's columns; have an administrator run ALTER TABLE mysql.column_stats FORCE (and run this command again, or ship only the bundle)", database.RedactError(err), strings.Join(tables, ", ")))
			return warnings, nil
		}
		database.Checkpoint("residue: mysql.column_stats rebuilt")
	}
	if _, err := d.db.ExecContext(ctx, "UPDATE "+ledgerTable+" SET cleared = 1 WHERE run = ? AND table_name IN ("+in+")", append([]any{run}, args...)...); err != nil {
		return nil, d.errorf("record "+strings.Join(tables, ", ")+" as cleared in", err)
	}
	return warnings, nil
}

// tableCommand runs ANALYZE or OPTIMIZE TABLE, which report failure in their result rows
// (Msg_type error) rather than as an error.
func (d *DB) tableCommand(ctx context.Context, q string) error {
	rows, err := d.db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	var problems []string
	err = each(rows, func() error {
		var table, op, typ, text string
		if err := rows.Scan(&table, &op, &typ, &text); err != nil {
			return err
		}
		if strings.EqualFold(typ, "error") {
			problems = append(problems, table+": "+text)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
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
