package postgres

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stewardhealth/steward/internal/database"
)

const ledgerDDL = `CREATE TABLE IF NOT EXISTS ` + database.LedgerTable + ` (
	run text NOT NULL, table_name text NOT NULL,
	key_fingerprint text NOT NULL, policy_digest text NOT NULL, tables integer NOT NULL,
	policy text NOT NULL, started_at timestamptz NOT NULL, done_at timestamptz NOT NULL,
	cleared boolean NOT NULL DEFAULT false,
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
	if !slices.Contains(cols, "cleared") {
		return nil, database.ErrOldLedger
	}
	rows, err = q.Query(ctx, `SELECT run, table_name, key_fingerprint, policy_digest, tables, policy, started_at, done_at, cleared
		FROM `+database.LedgerTable+` ORDER BY done_at, table_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (database.Progress, error) {
		var p database.Progress
		err := r.Scan(&p.ID, &p.Table, &p.KeyFingerprint, &p.PolicyDigest, &p.Tables, &p.Policy, &p.Started, &p.Done, &p.Cleared)
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

// recentlyDead reads VACUUM VERBOSE's count of dead rows it had to keep.
var recentlyDead = regexp.MustCompile(`(\d+) dead row versions cannot be removed yet`)

// vacuumFull rewrites a catalog with VACUUM FULL on a connection of its own, and returns how
// many dead rows it had to copy because some snapshot may still see them.
func (d *DB) vacuumFull(ctx context.Context, catalog string) (kept int, err error) {
	cfg := d.pool.Config().ConnConfig.Copy()
	var mu sync.Mutex
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) {
		if m := recentlyDead.FindStringSubmatch(n.Detail + " " + n.Message); m != nil {
			k, _ := strconv.Atoi(m[1])
			mu.Lock()
			kept += k
			mu.Unlock()
		}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "VACUUM (FULL, VERBOSE) "+catalog); err != nil {
		return 0, fmt.Errorf("vacuum full %s: %w", catalog, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return kept, nil
}

// ClearResidue refreshes the statistics of the tables run rewrote and rewrites the catalogs
// that hold statistics. The rewrite itself leaves no original row in the tables' files:
// TRUNCATE gives them new files and empties the old ones at commit. But pg_statistic (and
// pg_statistic_ext_data, for extended statistics) keeps values sampled by the last ANALYZE —
// most common values, histogram bounds — of the originals: ANALYZE replaces them, and VACUUM
// FULL of those catalogs writes them into new files, emptying the old ones that still hold
// the replaced rows (again, until it reports that it kept no dead row for an older snapshot).
// VACUUM FULL of a catalog needs the database's owner or a superuser;
// without, the tables stay uncleared and a warning says what to run.
func (d *DB) ClearResidue(ctx context.Context, run string) ([]string, error) {
	rows, err := d.pool.Query(ctx, "SELECT table_name FROM "+database.LedgerTable+" WHERE run = $1 AND NOT cleared ORDER BY table_name", run)
	if err != nil {
		return nil, fmt.Errorf("read the ledger %s: %w", database.LedgerTable, err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(tables) == 0 {
		return nil, err
	}
	for _, t := range tables {
		if _, err := d.pool.Exec(ctx, "ANALYZE "+quote(t)); err != nil {
			return nil, fmt.Errorf("analyze %s: %w", t, database.RedactError(err))
		}
	}
	database.Checkpoint("residue: analyzed")
	var owner bool
	if err := d.pool.QueryRow(ctx, `SELECT pg_has_role(current_user, datdba, 'MEMBER') OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
		FROM pg_database WHERE datname = current_database()`).Scan(&owner); err != nil {
		return nil, err
	}
	if !owner {
		return []string{fmt.Sprintf("pg_statistic may still hold values ANALYZE sampled from the original rows of %s: only the database's owner or a superuser can rewrite it; have one run VACUUM FULL pg_statistic, pg_statistic_ext_data in database %s (and run this command again, or ship only the bundle)", strings.Join(tables, ", "), d.name)}, nil
	}
	// VACUUM FULL copies the rows that some snapshot may still see (a session of this
	// database, autovacuum's included, that began before the ANALYZE committed; a replication
	// slot), and says how many: it runs again until it copied none of the dead rows.
	var warnings []string
	for _, catalog := range []string{"pg_statistic", "pg_statistic_ext_data"} {
		for wait := time.Now(); ; time.Sleep(200 * time.Millisecond) {
			kept, err := d.vacuumFull(ctx, catalog)
			if err != nil {
				return nil, err
			}
			if kept == 0 {
				database.Checkpointf("residue: %s rewritten", catalog) // after the last pass: the same points in every run
				break
			}
			if time.Since(wait) > time.Minute {
				warnings = append(warnings, fmt.Sprintf("for a minute another session of database %s (or a replication slot) kept a snapshot older than the new statistics of %s: %s still holds %d replaced row(s), sampled from the original rows; run VACUUM FULL %s once it ends (or this command again), or ship only the bundle", d.name, strings.Join(tables, ", "), catalog, kept, catalog))
				return warnings, nil
			}
		}
	}
	if _, err := d.pool.Exec(ctx, "UPDATE "+database.LedgerTable+" SET cleared = true WHERE run = $1 AND table_name = ANY($2)", run, tables); err != nil {
		return nil, fmt.Errorf("record %s as cleared: %w", strings.Join(tables, ", "), err)
	}
	return warnings, nil
}
