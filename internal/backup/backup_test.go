package backup

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// A business-day calendar from Thursday 1 January to Friday 13 March 2026, one backup a day.
// Worked out by hand: the first backup of each month is monthly (1 Jan, 2 Feb, 2 Mar), the
// first of each other week weekly (Mondays), the rest daily; at the end the newest 2 monthly,
// 4 weekly and 5 daily remain.
func TestRotationOverAFakeCalendar(t *testing.T) {
	var kept []Entry
	var monthly []string
	for d := date("2026-01-01"); !d.After(date("2026-03-13")); d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
			continue
		}
		e := Entry{Name: d.Format("2006-01-02"), Set: Classify(kept, d), Taken: d}
		if e.Set == Monthly {
			monthly = append(monthly, e.Name)
		}
		kept = append(kept, e)
		for _, x := range Expired(kept, Policy) {
			kept = remove(kept, x)
		}
		count := map[Set]int{}
		for _, k := range kept {
			count[k.Set]++
		}
		if count[Daily] > 5 || count[Weekly] > 4 || count[Monthly] > 2 {
			t.Fatalf("%s: kept %v, more than 5 daily, 4 weekly, 2 monthly", e.Name, count)
		}
	}
	if got := strings.Join(monthly, " "); got != "2026-01-01 2026-02-02 2026-03-02" {
		t.Errorf("monthly backups taken: got %s, want the first business day of each month", got)
	}
	want := map[Set]string{
		Monthly: "2026-02-02 2026-03-02",
		Weekly:  "2026-02-09 2026-02-16 2026-02-23 2026-03-09",
		Daily:   "2026-03-06 2026-03-10 2026-03-11 2026-03-12 2026-03-13",
	}
	for set, w := range want {
		var got []string
		for _, k := range kept {
			if k.Set == set {
				got = append(got, k.Name)
			}
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%s backups kept: got %v, want %s", set, got, w)
		}
	}
}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t.Add(2 * time.Hour) // 02:00 UTC, the nightly run
}

func remove(es []Entry, x Entry) []Entry {
	var out []Entry
	for _, e := range es {
		if e.Name != x.Name {
			out = append(out, e)
		}
	}
	return out
}

// fill gives the store some rows in several tables, audited.
func fill(t *testing.T, db *store.DB, n int) {
	ctx := context.Background()
	for i := range n {
		if _, err := db.ExecContext(ctx, `INSERT INTO regions (code, name) VALUES ($1, $2)`, fmt.Sprintf("r%d", i), fmt.Sprintf("Région %d ✓", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO agencies (code, name, region) VALUES ($1, $2, $3)`, fmt.Sprintf("a%d", i), "Agency", fmt.Sprintf("r%d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := (store.Audit{DB: db}).Append(ctx, audit.Entry{Actor: "test", Action: "fill", Object: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
}

// A backup restored equals the original: the same tables with the same row counts and
// checksums; a changed value in the copy is caught; a damaged backup file is refused.
func TestBackupRestoreEqualsOriginal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fill(t, db, 25)
		dir := t.TempDir()
		dsn := storeDSN(t, db)
		res, err := Take(ctx, Options{DB: db, DSN: dsn, Dir: dir, Actor: "cli:test"})
		if err != nil {
			t.Fatalf("take: %v", err)
		}
		if res.Record.Set != Monthly || res.Record.Verified.IsZero() {
			t.Errorf("first backup: got set %s verified %v, want monthly and verified", res.Record.Set, res.Record.Verified)
		}
		orig, err := Checksums(ctx, db, db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		// The backup was taken before its own audit entry: the store now has one more.
		if d := Diff(res.Record.Tables, orig); !strings.Contains(d, "audit_log: ") {
			t.Errorf("store after the backup vs the record: got %q, want only audit_log to differ", d)
		}
		target := restoreTarget(t, db.Dialect)
		rec, err := Restore(ctx, res.Dir, target, "cli:test", db.AuditKey)
		if err != nil {
			t.Fatalf("restore: %v", err)
		}
		got := checksumsAt(t, target)
		for _, tb := range got {
			if tb.Name == "audit_log" { // the restore's own audit entry
				continue
			}
			if d := Diff([]Table{find(rec.Tables, tb.Name)}, []Table{tb}); d != "" {
				t.Errorf("restored table %s: %s", tb.Name, d)
			}
		}
		if len(got) != len(rec.Tables) || len(got) < 9 {
			t.Errorf("restored %d tables, backup holds %d (want ≥ 9)", len(got), len(rec.Tables))
		}
		if a := find(got, "audit_log"); a.Rows != find(rec.Tables, "audit_log").Rows+1 {
			t.Errorf("restored audit_log: got %d rows, want the backup's %d + the restore's own entry", a.Rows, find(rec.Tables, "audit_log").Rows)
		}
		if r := find(rec.Tables, "regions"); r.Rows != 25 {
			t.Errorf("backup's regions: got %d rows, want 25", r.Rows)
		}

		// A value changed in the restored copy changes that table's checksum and nothing else.
		exec(t, target, `UPDATE regions SET name = 'changed' WHERE code = 'r7'`)
		changed := find(checksumsAt(t, target), "regions")
		if changed.Rows != 25 || changed.Checksum == find(rec.Tables, "regions").Checksum {
			t.Errorf("regions after one value changed: got %d rows, checksum %s, want 25 rows and a new checksum", changed.Rows, changed.Checksum[:12])
		}

		// A damaged dump is refused before anything is restored.
		f := filepath.Join(res.Dir, rec.File)
		b, _ := os.ReadFile(f)
		b[len(b)/2] ^= 0xff
		os.WriteFile(f, b, 0o600)
		if _, err := Restore(ctx, res.Dir, restoreTarget(t, db.Dialect), "cli:test", db.AuditKey); err == nil || !strings.Contains(err.Error(), "is damaged") {
			t.Errorf("restore of a damaged backup: got %v, want 'is damaged'", err)
		}
	})
}

// Restoring over an existing store is refused.
func TestRestoreRefusesAnExistingTarget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		res, err := Take(ctx, Options{DB: db, DSN: storeDSN(t, db), Dir: t.TempDir(), Actor: "cli:test"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = Restore(ctx, res.Dir, storeDSN(t, db), "cli:test", db.AuditKey)
		if err == nil || !strings.Contains(err.Error(), "exists") && !strings.Contains(err.Error(), "holds tables") {
			t.Errorf("restore over the live store: got %v, want a refusal", err)
		}
	})
}

// Take rotates the folder: a week and a half of nightly backups leaves the monthly, the
// weekly and the five newest daily ones.
func TestTakeRotatesTheFolder(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	fill(t, db, 3)
	dir := t.TempDir()
	var names []string
	for d := date("2026-06-01"); !d.After(date("2026-06-10")); d = d.AddDate(0, 0, 1) {
		res, err := Take(context.Background(), Options{DB: db, DSN: storeDSN(t, db), Dir: dir, Now: d, Actor: "cli:test"})
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		names = append(names, res.Record.Name)
	}
	list, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range list {
		got = append(got, r.Taken.Format("01-02")+" "+string(r.Set))
	}
	// 1 Jun 2026 is a Monday: monthly; 8 Jun weekly; the rest daily, five kept.
	want := "06-01 monthly 06-05 daily 06-06 daily 06-07 daily 06-08 weekly 06-09 daily 06-10 daily"
	if strings.Join(got, " ") != want {
		t.Errorf("kept: got %q, want %q", strings.Join(got, " "), want)
	}
	entries, err := (store.Audit{DB: db}).Find(context.Background(), store.Filter{Action: "backup.create"})
	if err != nil || len(entries) != 10 {
		t.Fatalf("audit entries backup.create: got %d (%v), want 10", len(entries), err)
	}
	if e := entries[0]; e.Detail["removed"] != names[3] {
		t.Errorf("newest audit entry: removed %q, want %s (the oldest of six daily backups)", e.Detail["removed"], names[3])
	}
}

func find(ts []Table, name string) Table {
	for _, t := range ts {
		if t.Name == name {
			return t
		}
	}
	return Table{}
}

// storeDSN is the DSN a store was opened with.
func storeDSN(t testing.TB, db *store.DB) string {
	if db.Dialect == store.SQLite {
		var file string
		var seq int
		var name string
		if err := db.QueryRow(`PRAGMA database_list`).Scan(&seq, &name, &file); err != nil {
			t.Fatal(err)
		}
		return file
	}
	var name string
	if err := db.QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	u := os.Getenv("STEWARD_TEST_POSTGRES")
	dsn, err := otherDatabase(u, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

func restoreTarget(t *testing.T, d store.Dialect) string {
	if d == store.Postgres {
		return dbtest.PostgresName(t)
	}
	return filepath.Join(t.TempDir(), "restored.db")
}

func checksumsAt(t *testing.T, dsn string) []Table {
	got, err := checksumsOf(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func exec(t *testing.T, dsn, q string) {
	driver, src := "sqlite", "file:"+dsn
	if strings.HasPrefix(dsn, "postgres") {
		driver, src = "pgx", dsn
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q); err != nil {
		t.Fatal(err)
	}
}
