package deid_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	_ "github.com/stewardhealth/steward/internal/database/mysql"
	_ "github.com/stewardhealth/steward/internal/database/postgres"
	_ "github.com/stewardhealth/steward/internal/database/sqlite"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// The fixture: patients keyed by a hashed MRN that encounters reference, so the hash must
// keep the join; names, hosts and addresses that notes repeat; dates that must keep their
// intervals.
const fixturePolicy = `version: 1
default: error
tables:
  patient:
    columns:
      id: keep
      mrn: hash
      name: hash
      birth_date: {shift_date: {by: id, days: 365}}
      zip: {generalize: zip3}
      note: scrub
  encounter:
    columns:
      id: keep
      mrn: hash
      admit_at: {shift_date: {by: mrn, days: 30}}
      discharge_at: {shift_date: {by: mrn, days: 30}}
      host: {placeholder: hostname}
      ip: {placeholder: ip}
      site: {pseudonym: Campus}
`

var names = []string{"Jane Doe", "Omar Haddad", "Zoë Lefèvre", "Maria Santos", "Wei Chen", "Aoife Byrne"}

type fixtureRow struct {
	mrn, name, host, ip, site string
}

func fixtureRows(n int) []fixtureRow {
	rows := make([]fixtureRow, n)
	for i := range rows {
		rows[i] = fixtureRow{
			mrn:  fmt.Sprintf("MRN%08d", 1000+i*7),
			name: names[i%len(names)] + fmt.Sprintf(" %c", 'A'+rune(i%26)),
			host: fmt.Sprintf("ws-%03d.stmarys.local", i%40),
			ip:   fmt.Sprintf("10.%d.%d.%d", i%3, i%250, 1+i%200),
			site: []string{"St. Mary's North", "St. Mary's South"}[i%2],
		}
	}
	return rows
}

// fixtureSQL creates and fills the fixture in one kind of database.
func fixtureSQL(kind database.Kind, n int) []string {
	ts := "TIMESTAMP"
	if kind == database.MySQL {
		ts = "DATETIME"
	}
	stmts := []string{
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, mrn VARCHAR(12) NOT NULL UNIQUE, name VARCHAR(40),
			birth_date DATE, zip CHAR(5), note TEXT)`,
		`CREATE TABLE encounter (id INTEGER PRIMARY KEY, mrn VARCHAR(12) NOT NULL REFERENCES patient (mrn),
			admit_at ` + ts + ` NOT NULL, discharge_at ` + ts + `, host VARCHAR(30), ip VARCHAR(45), site VARCHAR(20))`,
		`CREATE INDEX encounter_admit ON encounter (admit_at)`,
	}
	if kind == database.MySQL {
		stmts[1] = strings.Replace(stmts[1], "REFERENCES patient (mrn)", "", 1) + ""
		stmts = append(stmts, "ALTER TABLE encounter ADD CONSTRAINT encounter_mrn FOREIGN KEY (mrn) REFERENCES patient (mrn)")
	}
	var p, e []string
	for i, r := range fixtureRows(n) {
		note := fmt.Sprintf("Pt %s (%s) seen at %s from %s; call 555-201-%04d", r.name, r.mrn, r.host, r.ip, i%10000)
		if i%5 == 0 {
			note = "NULL"
		} else {
			note = sq(note)
		}
		zip := fmt.Sprintf("'%05d'", 10000+i*37%89999)
		if i%11 == 0 {
			zip = "NULL"
		}
		p = append(p, fmt.Sprintf("(%d, '%s', '%s', '%s', %s, %s)", i+1, r.mrn, r.name,
			time.Date(1940+i%60, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), zip, note))
		admit := time.Date(2024, 1, 1, 8, 30, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Minute)
		e = append(e, fmt.Sprintf("(%d, '%s', '%s', '%s', '%s', '%s', %s)", i+1, r.mrn,
			admit.Format(time.DateTime), admit.Add(time.Duration(1+i%90)*time.Hour).Format(time.DateTime), r.host, r.ip, sq(r.site)))
	}
	for len(p) > 0 {
		k := min(len(p), 500)
		stmts = append(stmts, "INSERT INTO patient VALUES "+strings.Join(p[:k], ", "))
		stmts = append(stmts, "INSERT INTO encounter VALUES "+strings.Join(e[:k], ", "))
		p, e = p[k:], e[k:]
	}
	return stmts
}

func sq(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

type server struct {
	kind   database.Kind
	source func(t *testing.T) string // a new database with nothing in it
	target func(t *testing.T) string // a database that does not exist yet
}

var servers = []server{
	{database.SQLite,
		func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "source.db") },
		func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "copy.db") }},
	{database.Postgres, func(t *testing.T) string { return dbtest.Postgres(t) }, func(t *testing.T) string { return dbtest.PostgresName(t) }},
	{database.MySQL, func(t *testing.T) string { return dbtest.MySQL(t) }, func(t *testing.T) string { return dbtest.MySQLName(t) }},
}

// open gives database/sql access to a DSN, for the test's own checks.
func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	d, err := database.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	var db *sql.DB
	switch d.Kind {
	case database.SQLite:
		db, err = sql.Open("sqlite", "file:"+d.Path)
	case database.Postgres:
		db, err = sql.Open("pgx", dsn)
	case database.MySQL:
		rest := strings.TrimPrefix(dsn, "mysql://")
		at := strings.LastIndex(rest, "@")
		slash := strings.Index(rest[at:], "/") + at
		db, err = sql.Open("mysql", rest[:at]+"@tcp("+rest[at+1:slash]+")"+rest[slash:])
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func fill(t *testing.T, s server, n int) string {
	t.Helper()
	dsn := s.source(t)
	db := open(t, dsn)
	for _, q := range fixtureSQL(s.kind, n) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("fixture: %v\n%.200s", err, q)
		}
	}
	db.Close()
	return dsn
}

var testKey = func() transform.Key {
	k, err := transform.NewKey([]byte("0123456789abcdef-test-key"))
	if err != nil {
		panic(err)
	}
	return k
}()

func loadPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("fixture.yaml", []byte(fixturePolicy))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// dump reads a table as text, ordered by id.
func dump(t *testing.T, db *sql.DB, table string) [][]string {
	t.Helper()
	rows, err := db.Query("SELECT * FROM " + table + " ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			if v.Valid {
				r[i] = v.String
			} else {
				r[i] = "<NULL>"
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkDeidentified asserts what a data owner would check in a de-identified copy.
func checkDeidentified(t *testing.T, src, dst *sql.DB, n int) {
	t.Helper()
	for _, table := range []string{"patient", "encounter"} {
		if got := len(dump(t, dst, table)); got != n {
			t.Errorf("%s: got %d rows, want %d", table, got, n)
		}
	}
	// No original identifier survives anywhere, whole or inside text.
	var originals []string
	for _, r := range fixtureRows(n) {
		originals = append(originals, r.mrn, r.name, r.host, r.ip, r.site)
	}
	leaks := map[string]int{}
	for _, table := range []string{"patient", "encounter"} {
		for _, row := range dump(t, dst, table) {
			for _, v := range row {
				for _, o := range originals {
					if strings.Contains(v, o) {
						leaks[table]++
					}
				}
			}
		}
	}
	if len(leaks) > 0 {
		t.Errorf("original identifiers survive in the copy: %v", leaks)
	}
	// The hashed MRN still joins encounters to their patients.
	var joined int
	if err := dst.QueryRow("SELECT count(*) FROM encounter e JOIN patient p ON p.mrn = e.mrn").Scan(&joined); err != nil {
		t.Fatal(err)
	}
	if joined != n {
		t.Errorf("encounters joined to patients: got %d, want %d", joined, n)
	}
	// Nothing overflows its column.
	var longest int
	if err := dst.QueryRow("SELECT max(length(mrn)) FROM patient").Scan(&longest); err != nil {
		t.Fatal(err)
	}
	if longest != 12 {
		t.Errorf("hashed mrn: got %d characters, want the column's 12", longest)
	}
	// Lengths of stay survive the date shift; the shift is within its bound.
	before, after := dump(t, src, "encounter"), dump(t, dst, "encounter")
	for i := range before {
		a0, a1 := parseTime(t, before[i][2]), parseTime(t, after[i][2])
		d0, d1 := parseTime(t, before[i][3]), parseTime(t, after[i][3])
		if d0.Sub(a0) != d1.Sub(a1) {
			t.Fatalf("encounter %s: stay lasted %v, now %v", before[i][0], d0.Sub(a0), d1.Sub(a1))
		}
		if shift := a1.Sub(a0); shift > 30*24*time.Hour || shift < -30*24*time.Hour {
			t.Fatalf("encounter %s: shifted by %v, more than 30 days", before[i][0], shift)
		}
	}
	// Free text stays readable and keeps its shape.
	var note string
	if err := dst.QueryRow("SELECT note FROM patient WHERE id = 2").Scan(&note); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(note, "Pt ") || !strings.Contains(note, ".invalid") || !strings.Contains(note, "198.1") {
		t.Errorf("scrubbed note lost its shape: %q", note)
	}
}

func parseTime(t *testing.T, s string) time.Time {
	for _, layout := range []string{time.DateTime, time.RFC3339, "2006-01-02 15:04:05Z07:00", "2006-01-02T15:04:05Z"} {
		if v, err := time.Parse(layout, s); err == nil {
			return v
		}
	}
	t.Fatalf("not a timestamp: %q", s)
	return time.Time{}
}

func TestCopyMode(t *testing.T) {
	const n = 600
	for _, s := range servers {
		t.Run(string(s.kind), func(t *testing.T) {
			ctx := context.Background()
			src := fill(t, s, n)
			before := dump(t, open(t, src), "patient")
			dst := s.target(t)
			rep, err := deid.Run(ctx, deid.Options{Policy: loadPolicy(t), Key: testKey, Source: src, Target: dst})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rep.Tables); got != 2 {
				t.Errorf("report: got %d tables, want 2", got)
			}
			if !reflect.DeepEqual(dump(t, open(t, src), "patient"), before) {
				t.Error("copy mode changed the source")
			}
			checkDeidentified(t, open(t, src), open(t, dst), n)

			// The copy has the source's keys: a duplicate hashed MRN is refused.
			_, err = open(t, dst).Exec("INSERT INTO patient (id, mrn) SELECT 999999, mrn FROM patient WHERE id = 1")
			if err == nil {
				t.Error("the copy accepted a duplicate mrn: the unique constraint was not rebuilt")
			}

			// Same key, same output; another key, another output.
			again := s.target(t)
			if _, err := deid.Run(ctx, deid.Options{Policy: loadPolicy(t), Key: testKey, Source: src, Target: again}); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dump(t, open(t, dst), "encounter"), dump(t, open(t, again), "encounter")) {
				t.Error("two runs with one key gave different copies")
			}
			other, _ := transform.NewKey([]byte("another key of sixteen bytes"))
			third := s.target(t)
			if _, err := deid.Run(ctx, deid.Options{Policy: loadPolicy(t), Key: other, Source: src, Target: third}); err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(dump(t, open(t, dst), "patient"), dump(t, open(t, third), "patient")) {
				t.Error("two keys gave the same copy")
			}
		})
	}
}

func TestInPlaceMatchesCopy(t *testing.T) {
	const n = 400
	for _, s := range servers {
		t.Run(string(s.kind), func(t *testing.T) {
			ctx := context.Background()
			src := fill(t, s, n)
			ref := fill(t, s, n)
			copyDst := s.target(t)
			if _, err := deid.Run(ctx, deid.Options{Policy: loadPolicy(t), Key: testKey, Source: ref, Target: copyDst}); err != nil {
				t.Fatal(err)
			}
			if _, err := deid.Run(ctx, deid.Options{Policy: loadPolicy(t), Key: testKey, Source: src, InPlace: true}); err != nil {
				t.Fatal(err)
			}
			checkDeidentified(t, open(t, ref), open(t, src), n)
			for _, table := range []string{"patient", "encounter"} {
				if !reflect.DeepEqual(dump(t, open(t, src), table), dump(t, open(t, copyDst), table)) {
					t.Errorf("%s: in-place result differs from copy mode", table)
				}
			}
			// The same command again changes nothing: no value is transformed twice.
			first := dump(t, open(t, src), "patient")
			rep, err := deid.Run(ctx, deid.Options{Policy: loadPolicy(t), Key: testKey, Source: src, InPlace: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(dump(t, open(t, src), "patient"), first) {
				t.Error("a second in-place run transformed values again")
			}
			for _, tr := range rep.Tables {
				if !tr.Skipped {
					t.Errorf("second run: table %s not reported as already done", tr.Name)
				}
			}
		})
	}
}

func TestPolicyErrorsStopBeforeAnyWrite(t *testing.T) {
	src := fill(t, servers[0], 10)
	cases := []struct{ name, policy, want string }{
		{"missing table", fixturePolicy + "  visit:\n    columns:\n      id: keep\n", "fixture.yaml:21:3: table visit does not exist"},
		{"missing column", strings.Replace(fixturePolicy, "      zip: {generalize: zip3}", "      zip: {generalize: zip3}\n      zipp: keep", 1), "column patient.zipp does not exist"},
		{"hash into a date", strings.Replace(fixturePolicy, "birth_date: {shift_date: {by: id, days: 365}}", "birth_date: hash", 1), "patient.birth_date (DATE): hash needs a text or integer column, not date (use shift_date"},
		{"unlisted column", strings.Replace(fixturePolicy, "      note: scrub\n", "", 1), "table patient: column(s) note not in the policy"},
		{"foreign key rules differ", strings.Replace(fixturePolicy, "      mrn: hash\n      admit_at", "      mrn: keep\n      admit_at", 1), "foreign key encounter.mrn → patient.mrn: rules differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, err := policy.Parse("fixture.yaml", []byte(c.policy))
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "copy.db")
			_, err = deid.Run(context.Background(), deid.Options{Policy: pol, Key: testKey, Source: src, Target: "sqlite:" + dst})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got error %v, want one containing %q", err, c.want)
			}
			if _, err := os.Stat(dst); !os.IsNotExist(err) {
				t.Errorf("a copy was written despite the policy error")
			}
		})
	}
}

func TestCollisionInUniqueColumnFails(t *testing.T) {
	src := filepath.Join(t.TempDir(), "codes.db")
	db := open(t, "sqlite:"+src)
	if _, err := db.Exec(`CREATE TABLE voucher (id INTEGER PRIMARY KEY, code VARCHAR(6) NOT NULL UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
		INSERT INTO voucher SELECT n, printf('V%05d', n) FROM g`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	pol, err := policy.Parse("v.yaml", []byte("version: 1\ntables:\n  voucher:\n    columns:\n      id: keep\n      code: hash\n"))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "copy.db")
	_, err = deid.Run(context.Background(), deid.Options{Policy: pol, Key: testKey, Source: "sqlite:" + src, Target: "sqlite:" + dst})
	if err == nil || !strings.Contains(err.Error(), "voucher.code") || !strings.Contains(err.Error(), "alphabet: base32") {
		t.Fatalf("got %v, want a collision error naming voucher.code and the wider alphabet", err)
	}
	if strings.Contains(err.Error(), "V0") {
		t.Errorf("the error shows a value: %v", err)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Error("a failed run left a copy behind")
	}
}
