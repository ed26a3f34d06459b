package scan

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
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

// TestQuasiIdentifiers: the scanned policy lists each table's quasi-identifiers for verify.
func TestQuasiIdentifiers(t *testing.T) {
	db := sqliteDB(t,
		`CREATE TABLE patient (id INTEGER PRIMARY KEY, dob DATE, gender CHAR(1), zip VARCHAR(10), mrn VARCHAR(12), admit_dt TIMESTAMP, recorded DATE)`,
		`INSERT INTO patient VALUES (1, '1950-01-02', 'F', '60614', 'MRN0000001', '2024-01-01 10:00:00', '1932-05-01'),
			(2, '1990-11-12', 'M', '44106', 'MRN0000002', '2024-02-01 11:00:00', '2011-09-30')`,
	)
	res, err := Scan(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("scan.yaml", res.Policy)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, q := range p.Table("patient").Quasi {
		got = append(got, q.Name)
	}
	// Shifted admission dates are marked in their comment but left out of the list verify
	// groups by: they are near-unique by design.
	if want := []string{"dob", "gender", "zip", "recorded"}; !reflect.DeepEqual(got, want) {
		t.Errorf("quasi_identifiers of the scanned policy = %v, want %v\n%s", got, want, res.Policy)
	}
	if !strings.Contains(string(res.Policy), "admit_dt: {shift_date: {by: id, days: 365}}  # "+QuasiMarker) {
		t.Errorf("admit_dt is not marked a quasi-identifier in its comment:\n%s", res.Policy)
	}
	// Dates spanning 79 years in a patient table look like birth dates: to be reviewed, and
	// still marked.
	if d := res.Decision("patient", "recorded"); !d.Review || !strings.HasPrefix(d.Comment(), QuasiMarker+" "+ReviewMarker) {
		t.Errorf("patient.recorded: got %q, want a quasi-identifier to review", d.Comment())
	}
}

// TestNoValueInPolicy: no value of an identifying column of the corpus appears in the policy.
func TestNoValueInPolicy(t *testing.T) {
	n := loadNames(t)
	for _, f := range corpusFiles(t) {
		c := loadCorpus(t, f)
		path := filepath.Join(t.TempDir(), c.name+".db")
		res, _, _, _, _ := scanCorpus(t, c, "sqlite:"+path, n)
		db := dbtest.SQL(t, "sqlite:"+path)
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

// TestPostgresTypes: PostgreSQL's own types get rules they can take, and deid run accepts them.
func TestPostgresTypes(t *testing.T) {
	src := dbtest.Postgres(t)
	db := dbtest.SQL(t, src)
	for _, s := range []string{
		`CREATE TABLE device (id uuid PRIMARY KEY, addr inet NOT NULL, config jsonb, photo bytea, tags text[], seen_at timestamptz)`,
		`INSERT INTO device VALUES ('2a0b6c1e-5f1b-4b7e-9a43-0d3f3c2b1a10', '10.20.1.5', '{"owner": "maria.garcia@stbrigid.org"}', '\x00ff', '{icu,cow}', now()),
			('7c9e2f4a-1d2b-4c3e-8f5a-6b7c8d9e0f11', '10.20.1.6/32', '{"owner": "j.smith@stbrigid.org"}', NULL, NULL, now())`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	ctx := context.Background()
	sdb, err := database.Open(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	res, err := Scan(ctx, sdb, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for col, want := range map[string]string{"addr": "{placeholder: ip}", "config": "null", "photo": "null", "tags": "keep", "id": "keep", "seen_at": "keep"} {
		if d := res.Decision("device", col); d.Rule.String() != want {
			t.Errorf("device.%s: got %s  # %s, want %s", col, d.Rule, d.Comment(), want)
		}
	}
	pol, err := policy.Parse("scan.yaml", res.Policy)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := transform.NewKey([]byte("scan-test-key-0123456789abcdef"))
	if _, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: src, Target: dbtest.PostgresName(t)}); err != nil {
		t.Errorf("deid run with the scanned policy: %v", err)
	}
}

// TestOddNames: table and column names that YAML would read as something else are quoted,
// and the policy still parses and fits.
func TestOddNames(t *testing.T) {
	db := sqliteDB(t,
		`CREATE TABLE "Patient List" ("Patient Name" VARCHAR(80), "yes" VARCHAR(10), "on" INTEGER, "Dr.#" VARCHAR(40), "null" TEXT)`,
		`INSERT INTO "Patient List" VALUES ('Maria Garcia', 'Y', 1, 'Smith', NULL)`,
	)
	res, err := Scan(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := policy.Parse("scan.yaml", res.Policy)
	if err != nil {
		t.Fatalf("%v\n%s", err, res.Policy)
	}
	for _, col := range []string{"Patient Name", "yes", "on", "Dr.#", "null"} {
		if _, ok := p.Rule("Patient List", col); !ok {
			t.Errorf("column %q is not in the policy:\n%s", col, res.Policy)
		}
	}
	if d := res.Decision("Patient List", "Patient Name"); !d.Identifying() {
		t.Errorf(`"Patient Name": got %s, want a transforming rule`, d.Rule)
	}
}

// TestShortOrganisationCodes: the initials or abbreviation an enterprise, campus or facility
// table keeps next to its name (ARHS for Allegheny Riverside Health System) names the
// organisation as surely as the name does: it gets a pseudonym or a hash, never keep.
func TestShortOrganisationCodes(t *testing.T) {
	db := sqliteDB(t,
		`CREATE TABLE enterprise (id INTEGER PRIMARY KEY, name VARCHAR(100) NOT NULL, code VARCHAR(10) NOT NULL UNIQUE)`,
		`CREATE TABLE campus (id INTEGER PRIMARY KEY, enterprise_id INTEGER REFERENCES enterprise (id), campus_name VARCHAR(100),
			abbreviation VARCHAR(12), short_name VARCHAR(20), status VARCHAR(10))`,
		`CREATE TABLE facility (id INTEGER PRIMARY KEY, facility_name VARCHAR(100), mnemonic VARCHAR(8), facility_abbr VARCHAR(8), type_code VARCHAR(8))`,
		`INSERT INTO enterprise VALUES (1, 'Allegheny Riverside Health System', 'ARHS'), (2, 'Mercy Vale Health', 'MVH'), (3, 'St. Brigid Health System', 'STB')`,
		`INSERT INTO campus VALUES (1, 1, 'Allegheny Riverside North Campus', 'ARHS-N', 'AR North', 'active'), (2, 2, 'Mercy Vale Medical Center', 'MVMC', 'Mercy Vale', 'active'),
			(3, 3, 'St. Brigid South Campus', 'STBS', 'Brigid South', 'closed')`,
		`INSERT INTO facility VALUES (1, 'Riverside Imaging Center', 'RIC', 'RIMG', 'IMG'), (2, 'Vale Dialysis Clinic', 'VDC', 'VDIAL', 'DIAL')`,
	)
	res, err := Scan(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, col := range [][2]string{{"enterprise", "code"}, {"campus", "abbreviation"}, {"campus", "short_name"}, {"facility", "mnemonic"}, {"facility", "facility_abbr"}} {
		d := res.Decision(col[0], col[1])
		if k := d.Rule.Kind; k != policy.Pseudonym && k != policy.Hash {
			t.Errorf("%s.%s: got %s  # %s, want a pseudonym or a hash", col[0], col[1], d.Rule, d.Comment())
		}
	}
	// What names no organisation stays readable.
	for _, col := range [][2]string{{"campus", "status"}, {"facility", "type_code"}} {
		if d := res.Decision(col[0], col[1]); d.Rule.Kind != policy.Keep {
			t.Errorf("%s.%s: got %s  # %s, want keep", col[0], col[1], d.Rule, d.Comment())
		}
	}
}
