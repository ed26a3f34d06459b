package scan

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/policy"
)

// sqliteDB makes a SQLite database from SQL statements and opens it for scanning.
func sqliteDB(t *testing.T, stmts ...string) database.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	raw.Close()
	db, err := database.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestForeignKeysShareRules: a text MRN that is a primary key and referenced elsewhere, and a
// facility code referenced by visits, get the same rule at both ends (Scan fails otherwise,
// since policy.Check would).
func TestForeignKeysShareRules(t *testing.T) {
	db := sqliteDB(t,
		`CREATE TABLE facility (facility_code VARCHAR(10) PRIMARY KEY, facility_name VARCHAR(80))`,
		`CREATE TABLE patient (mrn VARCHAR(20) PRIMARY KEY, last_name VARCHAR(40))`,
		`CREATE TABLE visit (visit_id INTEGER PRIMARY KEY, patient_ref VARCHAR(20) REFERENCES patient (mrn),
			fac VARCHAR(10) REFERENCES facility (facility_code), visit_date DATE)`,
		`INSERT INTO facility VALUES ('STBN1', 'St. Brigid North Hospital'), ('MVMC2', 'Mercy Vale Medical Center')`,
		`INSERT INTO patient VALUES ('MRN0012345', 'Garcia'), ('MRN0012346', 'Smith')`,
		`INSERT INTO visit VALUES (1, 'MRN0012345', 'STBN1', '2024-03-01'), (2, 'MRN0012346', 'MVMC2', '2024-03-02')`,
	)
	res, err := Scan(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2][2]string{{{"visit", "patient_ref"}, {"patient", "mrn"}}, {{"visit", "fac"}, {"facility", "facility_code"}}} {
		a, b := res.Decision(pair[0][0], pair[0][1]), res.Decision(pair[1][0], pair[1][1])
		if !a.Rule.Same(b.Rule) || !b.Identifying() {
			t.Errorf("%s.%s got %s, %s.%s got %s: want the same transforming rule", a.Table, a.Column, a.Rule, b.Table, b.Column, b.Rule)
		}
	}
	if d := res.Decision("visit", "visit_date"); d.Rule.Kind != policy.ShiftDate || d.Rule.By != "visit_id" {
		t.Errorf("visit.visit_date: got %s, want shift_date by visit_id", d.Rule)
	}
}

// TestQuasiIdentifiers reads the marker back from a scanned policy and from a hand-edited one.
func TestQuasiIdentifiers(t *testing.T) {
	db := sqliteDB(t,
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, dob DATE, gender CHAR(1), zip VARCHAR(10), mrn VARCHAR(12), admit_dt TIMESTAMP)`,
		`INSERT INTO patient VALUES (1, '1950-01-02', 'F', '60614', 'MRN0000001', '2024-01-01 10:00:00')`,
	)
	res, err := Scan(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("scan.yaml", res.Policy)
	if err != nil {
		t.Fatal(err)
	}
	got := QuasiIdentifiers(p)
	want := map[string][]string{"patient": {"dob", "gender", "zip", "admit_dt"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("QuasiIdentifiers of the scanned policy = %v, want %v\n%s", got, want, res.Policy)
	}
	hand := `version: 1
default: error
tables:
  patient:
    columns:
      id: keep
      dob:   # quasi-identifier: birth date
        generalize: year
      gender: keep #quasi-identifier: sex
      zip: {generalize: zip3}  # was a quasi-identifier: no longer marked
`
	p, err = policy.Parse("hand.yaml", []byte(hand))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := QuasiIdentifiers(p), map[string][]string{"patient": {"dob", "gender"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("QuasiIdentifiers of a hand-edited policy = %v, want %v", got, want)
	}
}

// TestNoValueInPolicy: no value of an identifying column of the corpus appears in the policy.
func TestNoValueInPolicy(t *testing.T) {
	n := loadNames(t)
	for _, f := range corpusFiles(t) {
		c := loadCorpus(t, f)
		path := filepath.Join(t.TempDir(), c.name+".db")
		res, _, _, _, _ := scanCorpus(t, c, "sqlite:"+path, n)
		db := openSQL(t, "sqlite:"+path)
		for _, table := range c.tables {
			for _, col := range c.cols[table] {
				if !col.identifying {
					continue
				}
				rows, err := db.Query("SELECT DISTINCT CAST(" + col.name + " AS TEXT) FROM " + table + " WHERE " + col.name + " IS NOT NULL")
				if err != nil {
					t.Fatal(err)
				}
				for rows.Next() {
					var v string
					rows.Scan(&v)
					if len(v) >= 4 && strings.Contains(string(res.Policy), v) {
						t.Errorf("%s: a value of %s.%s appears in the policy", c.name, table, col.name)
					}
				}
				rows.Close()
			}
		}
	}
}
