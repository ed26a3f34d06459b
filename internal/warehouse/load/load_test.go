package load_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

func TestCSVLoadNamesTheBadRowAndKeepsNothing(t *testing.T) {
	dir := t.TempDir()
	must(t, load.WriteCSV(dir, synthetic.Warehouse{Seed: 3, Patients: 30, Ontology: true}.Inputs()))
	facts := filepath.Join(dir, "observation_fact.csv")
	good, err := os.ReadFile(facts)
	must(t, err)
	lines := strings.Split(string(good), "\n")
	cases := []struct {
		name, header string
		line         int
		edit         func(fields []string) []string
		want         string
	}{
		{"bad number", "", 5, func(f []string) []string { f[9] = "high"; return f }, "observation_fact.csv line 5 column nval_num: not a number"},
		{"bad date", "", 9, func(f []string) []string { f[4] = "31/12/2020"; return f }, "observation_fact.csv line 9 column start_date: not a date"},
		{"missing key", "", 7, func(f []string) []string { f[2] = ""; return f }, "observation_fact.csv line 7 column concept_cd: empty, but required"},
		{"unknown column", strings.Replace(lines[0], "tval_char", "tval", 1), 0, nil, "observation_fact.csv line 1 column tval: not a column of observation_fact"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, c := range cases {
			edited := append([]string(nil), lines...)
			if c.header != "" {
				edited[0] = c.header
			} else {
				edited[c.line-1] = strings.Join(c.edit(strings.Split(edited[c.line-1], ",")), ",")
			}
			must(t, os.WriteFile(facts, []byte(strings.Join(edited, "\n")), 0o644))
			in, done, err := load.CSVInputs(dir)
			if err == nil {
				_, err = load.Run(ctx, db, testKey, in, load.Options{})
				done()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: got error %v, want one containing %q", c.name, err, c.want)
			}
			var n int
			must(t, db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM patient_dimension) + (SELECT COUNT(*) FROM concept_dimension)`).Scan(&n))
			if n != 0 {
				t.Fatalf("%s: %d rows kept after a failed load, want 0", c.name, n)
			}
		}
		must(t, os.WriteFile(facts, good, 0o644))
		in, done, err := load.CSVInputs(dir)
		must(t, err)
		defer done()
		rows, err := load.Run(ctx, db, testKey, in, load.Options{Agency: "north"})
		must(t, err)
		var facts, patients int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM observation_fact WHERE agency = 'north'`).Scan(&facts))
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM patient_dimension WHERE agency = 'north'`).Scan(&patients))
		if want := len(lines) - 2; facts != want || patients != 30 || rows < int64(facts) {
			t.Errorf("loaded %d facts and %d patients (%d rows), want %d and 30", facts, patients, rows, want)
		}
	})
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var testKey = func() *seal.Keys {
	k, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	return k
}()
