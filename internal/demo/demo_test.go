package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

var small = Size{Patients: 300, Encounters: 900}

func build(t testing.TB, seed uint64, size Size) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "demo.db")
	if err := Build(context.Background(), path, seed, size); err != nil {
		t.Fatal(err)
	}
	return path
}

func open(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tableNames(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func columns(t testing.TB, db *sql.DB, table string) []string {
	t.Helper()
	rows, err := db.Query("SELECT name FROM pragma_table_info(?) ORDER BY cid", table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	return cols
}

func count(t testing.TB, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// digest returns a SHA-256 per table over its schema and its rows in id order.
func digest(t testing.TB, path string) map[string]string {
	t.Helper()
	db := open(t, path)
	out := map[string]string{}
	for _, table := range tableNames(t, db) {
		h := sha256.New()
		var ddl string
		if err := db.QueryRow("SELECT sql FROM sqlite_master WHERE name = ?", table).Scan(&ddl); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\n", ddl)
		rows, err := db.Query("SELECT * FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%T:%v\x1f", v, v)
			}
			h.Write([]byte{'\n'})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		out[table] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func TestDeterministic(t *testing.T) {
	a := digest(t, build(t, 42, small))
	b := digest(t, build(t, 42, small))
	if len(a) != 12 {
		t.Errorf("got %d tables, want 12", len(a))
	}
	for table, h := range a {
		if b[table] != h {
			t.Errorf("table %s differs between two builds with the same seed", table)
		}
	}
	c := digest(t, build(t, 43, small))
	for _, table := range []string{"patient", "encounter", "bed_assignment", "transport_request", "audit_event"} {
		if c[table] == a[table] {
			t.Errorf("table %s is the same for seeds 42 and 43", table)
		}
	}
}

func TestDefaultSize(t *testing.T) {
	start := time.Now()
	path := build(t, 1, Size{})
	t.Logf("Build at Default size took %v", time.Since(start))
	db := open(t, path)
	want := map[string]int{
		"enterprise": 2, "campus": 5, "unit": 40,
		"patient": Default.Patients, "encounter": Default.Encounters,
	}
	for _, table := range tableNames(t, db) {
		n := count(t, db, table)
		t.Logf("%-20s %6d rows", table, n)
		if w, ok := want[table]; ok && n != w {
			t.Errorf("%s: %d rows, want %d", table, n, w)
		}
		if n == 0 {
			t.Errorf("%s is empty", table)
		}
	}
	if n := count(t, db, "bed"); n < 700 || n > 900 {
		t.Errorf("bed: %d rows, want about 800", n)
	}
	if a, e := count(t, db, "audit_event"), Default.Encounters; a < 2*e || a > 3*e {
		t.Errorf("audit_event: %d rows for %d encounters, want about 2 each", a, e)
	}
	if info, err := os.Stat(path); err == nil {
		t.Logf("file size %d bytes", info.Size())
	}
}

func TestRowCounts(t *testing.T) {
	for _, size := range []Size{{Patients: 50, Encounters: 20}, {Patients: 10, Encounters: 200}, {Patients: 5, Encounters: 0}} {
		db := open(t, build(t, 7, size))
		if n := count(t, db, "patient"); n != size.Patients {
			t.Errorf("%+v: %d patients", size, n)
		}
		if n := count(t, db, "encounter"); n != size.Encounters {
			t.Errorf("%+v: %d encounters", size, n)
		}
		var without int
		if err := db.QueryRow("SELECT count(*) FROM encounter e WHERE NOT EXISTS (SELECT 1 FROM bed_assignment b WHERE b.encounter_id = e.id)").Scan(&without); err != nil {
			t.Fatal(err)
		}
		if without != 0 {
			t.Errorf("%+v: %d encounters without a bed", size, without)
		}
	}
}

func TestConstraints(t *testing.T) {
	db := open(t, build(t, 3, small))
	rows, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check reports violations")
	}
	rows.Close()
	var fks int
	if err := db.QueryRow("SELECT count(*) FROM sqlite_master m, pragma_foreign_key_list(m.name) WHERE m.type = 'table'").Scan(&fks); err != nil {
		t.Fatal(err)
	}
	if fks < 14 {
		t.Errorf("only %d foreign keys declared", fks)
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q %v", ok, err)
	}
	// Nullable identifying columns really have some NULLs, and date text has the promised shape.
	for _, q := range []string{
		"SELECT count(*) FROM patient WHERE phone IS NULL",
		"SELECT count(*) FROM patient WHERE email IS NULL",
		"SELECT count(*) FROM patient WHERE ssn IS NULL",
		"SELECT count(*) FROM workstation WHERE ip_address LIKE '%:%'",
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s: 0", q)
		}
	}
	dateRe := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	tsRe := regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`)
	for _, c := range []struct {
		q  string
		re *regexp.Regexp
	}{
		{"SELECT birth_date || '', typeof(birth_date) FROM patient", dateRe},
		{"SELECT admit_at || '', typeof(admit_at) FROM encounter", tsRe},
		{"SELECT discharge_at || '', typeof(discharge_at) FROM encounter WHERE discharge_at IS NOT NULL", tsRe},
		{"SELECT start_at || '', typeof(start_at) FROM bed_assignment", tsRe},
		{"SELECT requested_at || '', typeof(requested_at) FROM transport_request", tsRe},
		{"SELECT at || '', typeof(at) FROM audit_event", tsRe},
		{"SELECT mrn || '', typeof(mrn) FROM patient", regexp.MustCompile(`^MRN\d{8}$`)},
		{"SELECT ssn || '', typeof(ssn) FROM patient WHERE ssn IS NOT NULL", regexp.MustCompile(`^\d{3}-\d{2}-\d{4}$`)},
	} {
		// Values are stored as text. ("|| ''" drops the declared type, so
		// the driver does not turn DATE and TIMESTAMP text into time.Time.)
		rows, err := db.Query(c.q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s, typ string
			if err := rows.Scan(&s, &typ); err != nil {
				t.Fatal(err)
			}
			if typ != "text" || !c.re.MatchString(s) {
				t.Errorf("%s: bad value %q of type %s", c.q, s, typ)
				break
			}
		}
		rows.Close()
	}
	// A patient's stays never overlap.
	var overlaps int
	if err := db.QueryRow(`SELECT count(*) FROM encounter a JOIN encounter b
		ON a.patient_id = b.patient_id AND a.id < b.id
		WHERE a.admit_at < coalesce(b.discharge_at, '9999') AND b.admit_at < coalesce(a.discharge_at, '9999')`).Scan(&overlaps); err != nil {
		t.Fatal(err)
	}
	if overlaps != 0 {
		t.Errorf("%d overlapping stays", overlaps)
	}
}

func TestPolicyCoversSchema(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(Policy(), &doc); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(doc["version"]) != "1" || doc["default"] != "error" {
		t.Errorf("version %v, default %v", doc["version"], doc["default"])
	}
	tables, ok := doc["tables"].(map[string]any)
	if !ok {
		t.Fatalf("tables is %T", doc["tables"])
	}
	db := open(t, build(t, 1, Size{Patients: 5, Encounters: 5}))
	schema := map[string][]string{}
	for _, table := range tableNames(t, db) {
		schema[table] = columns(t, db, table)
		entry, ok := tables[table].(map[string]any)
		if !ok {
			t.Errorf("policy has no table %s", table)
			continue
		}
		cols, ok := entry["columns"].(map[string]any)
		if !ok {
			t.Errorf("policy table %s has no columns", table)
			continue
		}
		for _, c := range schema[table] {
			if _, ok := cols[c]; !ok {
				t.Errorf("policy does not list %s.%s", table, c)
			}
		}
	}
	for table, entry := range tables {
		cols, ok := schema[table]
		if !ok {
			t.Errorf("policy names table %s, which does not exist", table)
			continue
		}
		for c := range entry.(map[string]any)["columns"].(map[string]any) {
			if !slices.Contains(cols, c) {
				t.Errorf("policy names column %s.%s, which does not exist", table, c)
			}
		}
	}
}

// TestPolicyComments checks that every rule other than keep says why.
func TestPolicyComments(t *testing.T) {
	rule := regexp.MustCompile(`^      (\w+): (.*)$`)
	n := 0
	for _, line := range strings.Split(string(Policy()), "\n") {
		m := rule.FindStringSubmatch(line)
		if m == nil || m[2] == "keep" {
			continue
		}
		n++
		if !strings.Contains(m[2], "# ") {
			t.Errorf("rule without a reason: %s", strings.TrimSpace(line))
		}
	}
	if n < 20 {
		t.Errorf("only %d non-keep rules found", n)
	}
}

func TestNotesMentionPatients(t *testing.T) {
	db := open(t, build(t, 11, small))
	var lastNames, mrns []string
	rows, err := db.Query("SELECT DISTINCT last_name FROM patient UNION ALL SELECT mrn FROM patient")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		if strings.HasPrefix(s, "MRN") {
			mrns = append(mrns, s)
		} else {
			lastNames = append(lastNames, s)
		}
	}
	rows.Close()
	mentions := func(note string) bool {
		if i := strings.Index(note, "MRN"); i >= 0 && slices.Contains(mrns, note[i:min(i+11, len(note))]) {
			return true
		}
		up := strings.ToUpper(note)
		for _, l := range lastNames {
			if strings.Contains(note, l) || strings.Contains(up, strings.ToUpper(l)) {
				return true
			}
		}
		return false
	}
	for _, table := range []string{"transport_request", "audit_event"} {
		rows, err := db.Query("SELECT note FROM " + table + " WHERE note IS NOT NULL")
		if err != nil {
			t.Fatal(err)
		}
		var total, with, hosts int
		for rows.Next() {
			var note string
			rows.Scan(&note)
			total++
			if mentions(note) {
				with++
			}
			if bytes.Contains([]byte(note), []byte(".local")) || regexp.MustCompile(`\b10\.\d+\.\d+\.\d+\b`).MatchString(note) {
				hosts++
			}
		}
		rows.Close()
		t.Logf("%s: %d notes, %d name a patient, %d name a host or IP", table, total, with, hosts)
		if total == 0 || with*10 < total*3 {
			t.Errorf("%s: only %d of %d notes name a patient", table, with, total)
		}
		if with == total {
			t.Errorf("%s: every note names a patient", table)
		}
		if hosts == 0 {
			t.Errorf("%s: no note names a host or IP", table)
		}
	}
}

func TestExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "taken.db")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := Build(context.Background(), path, 1, small)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Build over an existing file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("Build changed an existing file")
	}
}

func TestBadSizeAndCancel(t *testing.T) {
	dir := t.TempDir()
	if err := Build(context.Background(), filepath.Join(dir, "a.db"), 1, Size{Patients: -1}); err == nil {
		t.Error("negative size accepted")
	}
	if err := Build(context.Background(), filepath.Join(dir, "b.db"), 1, Size{Encounters: 3}); err == nil {
		t.Error("encounters without patients accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(dir, "c.db")
	if err := Build(ctx, path, 1, small); err == nil {
		t.Error("cancelled context accepted")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("failed Build left %s behind", path)
	}
}

func BenchmarkBuildDefault(b *testing.B) {
	for i := 0; i < b.N; i++ {
		path := filepath.Join(b.TempDir(), "demo.db")
		if err := Build(context.Background(), path, uint64(i), Size{}); err != nil {
			b.Fatal(err)
		}
	}
}
