// Package deidtest holds the fixture the engine's and verify's tests share: a small patient
// and encounter schema in each database kind, its policy, a key, and helpers to read it back.
package deidtest

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
	_ "modernc.org/sqlite"
)

// Policy is the fixture's policy. The fixture: patients keyed by a hashed MRN that encounters reference, so the hash must
// keep the join; names, hosts and addresses that notes repeat; dates that must keep their
// intervals.
const Policy = `version: 1
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
    quasi_identifiers: [zip]
  encounter:
    columns:
      id: keep
      mrn: hash
      admit_at: {shift_date: {by: mrn, days: 30}}
      discharge_at: {shift_date: {by: mrn, days: 30}}
      host: {placeholder: hostname}
      ip: {placeholder: ip}
      site: {pseudonym: Campus}
      ward: keep
`

var wards = []string{"3 West", "4 North", "ICU", "Day Surgery"}

var names = []string{"Jane Doe", "Omar Haddad", "Zoë Lefèvre", "Maria Santos", "Wei Chen", "Aoife Byrne"}

// Row is one patient of the fixture, with the identifiers its notes repeat.
type Row struct {
	MRN, Name, Host, IP, Site string
}

// Rows returns the fixture's first n patients.
func Rows(n int) []Row {
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{
			MRN:  fmt.Sprintf("MRN%08d", 1000+i*7),
			Name: names[i%len(names)] + fmt.Sprintf(" %c", 'A'+rune(i%26)),
			Host: fmt.Sprintf("ws-%03d.stmarys.local", i%40),
			IP:   fmt.Sprintf("10.%d.%d.%d", i%3, i%250, 1+i%200),
			Site: []string{"St. Mary's North", "St. Mary's South"}[i%2],
		}
	}
	return rows
}

// SQL creates and fills the fixture in one kind of database.
func SQL(kind database.Kind, n int) []string {
	ts := "TIMESTAMP"
	if kind == database.MySQL {
		ts = "DATETIME"
	}
	stmts := []string{
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, mrn VARCHAR(12) NOT NULL UNIQUE, name VARCHAR(40),
			birth_date DATE, zip CHAR(5), note TEXT)`,
		`CREATE TABLE encounter (id INTEGER PRIMARY KEY, mrn VARCHAR(12) NOT NULL REFERENCES patient (mrn),
			admit_at ` + ts + ` NOT NULL, discharge_at ` + ts + `, host VARCHAR(30), ip VARCHAR(45), site VARCHAR(20), ward VARCHAR(20))`,
		`CREATE INDEX encounter_admit ON encounter (admit_at)`,
	}
	if kind == database.MySQL {
		stmts[1] = strings.Replace(stmts[1], "REFERENCES patient (mrn)", "", 1) + ""
		stmts = append(stmts, "ALTER TABLE encounter ADD CONSTRAINT encounter_mrn FOREIGN KEY (mrn) REFERENCES patient (mrn)")
	}
	var p, e []string
	for i, r := range Rows(n) {
		note := fmt.Sprintf("Pt %s (%s) seen at %s from %s; call 555-201-%04d", r.Name, r.MRN, r.Host, r.IP, i%10000)
		if i%5 == 0 {
			note = "NULL"
		} else {
			note = sq(note)
		}
		zip := fmt.Sprintf("'%05d'", 10000+i*37%89999)
		if i%11 == 0 {
			zip = "NULL"
		}
		p = append(p, fmt.Sprintf("(%d, '%s', '%s', '%s', %s, %s)", i+1, r.MRN, r.Name,
			time.Date(1940+i%60, time.Month(1+i%12), 1+i%28, 0, 0, 0, 0, time.UTC).Format(time.DateOnly), zip, note))
		admit := time.Date(2024, 1, 1, 8, 30, 0, 0, time.UTC).Add(time.Duration(i) * 37 * time.Minute)
		e = append(e, fmt.Sprintf("(%d, '%s', '%s', '%s', '%s', '%s', %s, '%s')", i+1, r.MRN,
			admit.Format(time.DateTime), admit.Add(time.Duration(1+i%90)*time.Hour).Format(time.DateTime), r.Host, r.IP, sq(r.Site), wards[i%len(wards)]))
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

// Server is a database kind the tests run on.
type Server struct {
	Kind   database.Kind
	Source func(t *testing.T) string // a new database with nothing in it
	Target func(t *testing.T) string // a database that does not exist yet
}

// Servers are SQLite (always) and the real PostgreSQL and MariaDB servers (see dbtest).
var Servers = []Server{
	{database.SQLite,
		func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "source.db") },
		func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "copy.db") }},
	{database.Postgres, func(t *testing.T) string { return dbtest.Postgres(t) }, func(t *testing.T) string { return dbtest.PostgresName(t) }},
	{database.MySQL, func(t *testing.T) string { return dbtest.MySQL(t) }, func(t *testing.T) string { return dbtest.MySQLName(t) }},
}

// Fill creates a source database of the server's kind holding the fixture's first n patients.
func Fill(t *testing.T, s Server, n int) string {
	t.Helper()
	dsn := s.Source(t)
	db := dbtest.SQL(t, dsn)
	for _, q := range SQL(s.Kind, n) {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("fixture: %v\n%.200s", err, q)
		}
	}
	db.Close()
	return dsn
}

// Key is the tests' hashing key.
var Key = func() transform.Key {
	k, err := transform.NewKey([]byte("0123456789abcdef-test-key"))
	if err != nil {
		panic(err)
	}
	return k
}()

// LoadPolicy parses Policy.
func LoadPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	p, err := policy.Parse("fixture.yaml", []byte(Policy))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Dump reads a table as text, ordered by id.
func Dump(t *testing.T, db *sql.DB, table string) [][]string {
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
