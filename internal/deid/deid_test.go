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
	"github.com/stewardhealth/steward/internal/database/dbtest"
	_ "github.com/stewardhealth/steward/internal/database/mysql"
	_ "github.com/stewardhealth/steward/internal/database/postgres"
	_ "github.com/stewardhealth/steward/internal/database/sqlite"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// checkDeidentified asserts what a data owner would check in a de-identified copy.
func checkDeidentified(t *testing.T, src, dst *sql.DB, n int) {
	t.Helper()
	for _, table := range []string{"patient", "encounter"} {
		if got := len(deidtest.Dump(t, dst, table)); got != n {
			t.Errorf("%s: got %d rows, want %d", table, got, n)
		}
	}
	// No original identifier survives anywhere, whole or inside text.
	var originals []string
	for _, r := range deidtest.Rows(n) {
		originals = append(originals, r.MRN, r.Name, r.Host, r.IP, r.Site)
	}
	leaks := map[string]int{}
	for _, table := range []string{"patient", "encounter"} {
		for _, row := range deidtest.Dump(t, dst, table) {
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
	before, after := deidtest.Dump(t, src, "encounter"), deidtest.Dump(t, dst, "encounter")
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
	// Each patient's birth date moves by the days its id names under the key, in every kind of
	// database (the id is kept, and read by the shift).
	h := deidtest.Key.NewHasher()
	births := func(db *sql.DB) map[string]time.Time {
		rows, err := db.Query("SELECT id, birth_date FROM patient WHERE birth_date IS NOT NULL")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]time.Time{}
		for rows.Next() {
			var id, d string
			if err := rows.Scan(&id, &d); err != nil {
				t.Fatal(err)
			}
			v, err := time.Parse(time.DateOnly, d[:min(len(d), 10)])
			if err != nil {
				t.Fatalf("birth date of patient %s: %v", id, err)
			}
			out[id] = v
		}
		return out
	}
	was, now := births(src), births(dst)
	if len(was) == 0 || len(now) != len(was) {
		t.Fatalf("birth dates: %d in the source, %d in the copy", len(was), len(now))
	}
	for id, d := range was {
		if want := d.AddDate(0, 0, transform.ShiftDays(h, id, 365)); !now[id].Equal(want) {
			t.Fatalf("patient %s: birth date shifted to %s, want %s", id, now[id].Format(time.DateOnly), want.Format(time.DateOnly))
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
	// The note names the patient and their MRN as the row's own columns do (hashes cut to 12).
	var mrn, name string
	if err := dst.QueryRow("SELECT mrn, name FROM patient WHERE id = 2").Scan(&mrn, &name); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "Pt "+name[:12]+" ("+mrn+")") {
		t.Errorf("scrubbed note %q does not name the patient as the copy's name %q and mrn %q do", note, name[:12], mrn)
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
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			ctx := context.Background()
			src := deidtest.Fill(t, s, n)
			before := deidtest.Dump(t, dbtest.SQL(t, src), "patient")
			dst := s.Target(t)
			rep, err := deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, Target: dst})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(rep.Tables); got != 2 {
				t.Errorf("report: got %d tables, want 2", got)
			}
			if !reflect.DeepEqual(deidtest.Dump(t, dbtest.SQL(t, src), "patient"), before) {
				t.Error("copy mode changed the source")
			}
			checkDeidentified(t, dbtest.SQL(t, src), dbtest.SQL(t, dst), n)

			// The copy has the source's keys: a duplicate hashed MRN is refused.
			_, err = dbtest.SQL(t, dst).Exec("INSERT INTO patient (id, mrn) SELECT 999999, mrn FROM patient WHERE id = 1")
			if err == nil {
				t.Error("the copy accepted a duplicate mrn: the unique constraint was not rebuilt")
			}

			// Same key, same output, with the dictionary and collision sets in files this time
			// (every table, however small), and no file left behind; another key, another output.
			workDir := t.TempDir()
			work, err := filemem.New(workDir, 0)
			if err != nil {
				t.Fatal(err)
			}
			again := s.Target(t)
			rep, err = deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, Target: again, Work: work})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Warnings) > 0 || rep.WorkDir != workDir {
				t.Errorf("work directory %q, warnings %q: want %q and none", rep.WorkDir, rep.Warnings, workDir)
			}
			for _, table := range []string{"patient", "encounter"} {
				if !reflect.DeepEqual(deidtest.Dump(t, dbtest.SQL(t, dst), table), deidtest.Dump(t, dbtest.SQL(t, again), table)) {
					t.Errorf("%s: two runs with one key gave different copies (the second with its tables in files)", table)
				}
			}
			if left, _ := os.ReadDir(workDir); len(left) > 0 {
				t.Errorf("the run left %d files in its work directory", len(left))
			}
			if maps, err := os.ReadFile("/proc/self/maps"); err == nil && strings.Contains(string(maps), workDir) {
				t.Error("the run's files are still mapped after it returned")
			}
			other, _ := transform.NewKey([]byte("another key of sixteen bytes"))
			third := s.Target(t)
			if _, err := deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: other, Source: src, Target: third}); err != nil {
				t.Fatal(err)
			}
			if reflect.DeepEqual(deidtest.Dump(t, dbtest.SQL(t, dst), "patient"), deidtest.Dump(t, dbtest.SQL(t, third), "patient")) {
				t.Error("two keys gave the same copy")
			}
		})
	}
}

func TestInPlaceMatchesCopy(t *testing.T) {
	const n = 400
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			ctx := context.Background()
			src := deidtest.Fill(t, s, n)
			ref := deidtest.Fill(t, s, n)
			copyDst := s.Target(t)
			if _, err := deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: ref, Target: copyDst}); err != nil {
				t.Fatal(err)
			}
			if _, err := deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, InPlace: true}); err != nil {
				t.Fatal(err)
			}
			checkDeidentified(t, dbtest.SQL(t, ref), dbtest.SQL(t, src), n)
			for _, table := range []string{"patient", "encounter"} {
				if !reflect.DeepEqual(deidtest.Dump(t, dbtest.SQL(t, src), table), deidtest.Dump(t, dbtest.SQL(t, copyDst), table)) {
					t.Errorf("%s: in-place result differs from copy mode", table)
				}
			}
			// The same command again changes nothing: no value is transformed twice.
			first := deidtest.Dump(t, dbtest.SQL(t, src), "patient")
			rep, err := deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, InPlace: true})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(deidtest.Dump(t, dbtest.SQL(t, src), "patient"), first) {
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
	src := deidtest.Fill(t, deidtest.Servers[0], 10)
	cases := []struct{ name, policy, want string }{
		{"missing table", deidtest.Policy + "  visit:\n    columns:\n      id: keep\n", fmt.Sprintf("fixture.yaml:%d:3: table visit does not exist", strings.Count(deidtest.Policy, "\n")+1)},
		{"missing column", strings.Replace(deidtest.Policy, "      zip: {generalize: zip3}", "      zip: {generalize: zip3}\n      zipp: keep", 1), "column patient.zipp does not exist"},
		{"hash into a date", strings.Replace(deidtest.Policy, "birth_date: {shift_date: {by: id, days: 365}}", "birth_date: hash", 1), "patient.birth_date (DATE): hash needs a text or integer column, not date (use shift_date"},
		{"unlisted column", strings.Replace(deidtest.Policy, "      note: scrub\n", "", 1), "table patient: column(s) note not in the policy"},
		{"foreign key rules differ", strings.Replace(deidtest.Policy, "      mrn: hash\n      admit_at", "      mrn: keep\n      admit_at", 1), "foreign key encounter.mrn → patient.mrn: rules differ"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pol, err := policy.Parse("fixture.yaml", []byte(c.policy))
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(t.TempDir(), "copy.db")
			_, err = deid.Run(context.Background(), deid.Options{Policy: pol, Key: deidtest.Key, Source: src, Target: "sqlite:" + dst})
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
	db := dbtest.SQL(t, "sqlite:"+src)
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
	_, err = deid.Run(context.Background(), deid.Options{Policy: pol, Key: deidtest.Key, Source: "sqlite:" + src, Target: "sqlite:" + dst})
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
