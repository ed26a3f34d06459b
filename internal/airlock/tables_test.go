package airlock

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// rowsSource is a load.Source over rows given by column name.
type rowsSource struct {
	t    *schema.Table
	rows []map[string]any
}

func (r *rowsSource) Next() ([]any, error) {
	if len(r.rows) == 0 {
		return nil, io.EOF
	}
	m := r.rows[0]
	r.rows = r.rows[1:]
	out := make([]any, len(r.t.Cols))
	for i, c := range r.t.Cols {
		v, ok := m[c.Name]
		switch {
		case ok:
		case c.Default != "":
			v = c.Default
		case c.Kind == schema.Text:
			v = ""
		}
		out[i] = v
	}
	return out, nil
}

// The tables' warehouse (agency north): 200 diabetics (1…200, odd F, even M), of whom the
// clinic's 5 (1…5), diet's 95 (6…100) and insulin's 100 (101…200); 52 heart patients
// (201…252): 5 men (201…205), 5 of unknown sex (206…210), 42 women. Everyone living, aged 40, race white.
var groups = map[string][2]int{"diab": {1, 200}, "clinic": {1, 5}, "diet": {6, 100}, "insulin": {101, 200}, "heart": {201, 252}}

func tableWarehouse(t *testing.T, db *store.DB, acc *access.Service) *warehouse.Warehouse {
	t.Helper()
	ctx := context.Background()
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	must(t, err)
	var people, facts, concepts []map[string]any
	for n := 1; n <= 252; n++ {
		sex := "F"
		if n%2 == 0 && n <= 200 || n >= 201 && n <= 205 {
			sex = "M"
		}
		if n >= 206 && n <= 210 {
			sex = ""
		}
		people = append(people, map[string]any{"patient_num": int64(n), "sex_cd": sex, "vital_status_cd": "N", "age_in_years_num": int64(40), "race_cd": "white"})
	}
	for g, r := range groups {
		concepts = append(concepts, map[string]any{"concept_path": `\t\` + g + `\`, "concept_cd": "G:" + g, "name_char": g})
		for n := r[0]; n <= r[1]; n++ {
			facts = append(facts, map[string]any{"encounter_num": int64(n), "patient_num": int64(n), "concept_cd": "G:" + g, "start_date": "2025-01-01 00:00:00"})
		}
	}
	in := []load.Input{
		{Table: "concept_dimension", Source: &rowsSource{schema.Named("concept_dimension"), concepts}},
		{Table: "patient_dimension", Source: &rowsSource{schema.Named("patient_dimension"), people}},
		{Table: "observation_fact", Source: &rowsSource{schema.Named("observation_fact"), facts}},
	}
	_, err = load.Run(ctx, db, keys, in, load.Options{Agency: "north"})
	must(t, err)
	return warehouse.New(db, acc, keys)
}

// tablesWorld is newWorld with the warehouse above, thresholds of more than 10 persons and
// no contributor rule (one agency), bob an automatic exporter and ann a validated one.
func tablesWorld(t *testing.T, db *store.DB) (world, *warehouse.Warehouse) {
	w := newWorld(t, db)
	ctx := context.Background()
	wh := tableWarehouse(t, db, w.acc)
	w.s.Tables = wh
	must(t, w.s.SetSettings(ctx, w.who("olga"), "diab", Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}))
	must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "bob", Automatic, ""))
	must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "ann", Validated, ""))
	return w, wh
}

// cohort stores a query of p's: patients of every group in with, none of without.
func cohort(t *testing.T, wh *warehouse.Warehouse, p access.Principal, name string, with []string, without ...string) string {
	t.Helper()
	q := querydef.Query{Name: name}
	for _, g := range with {
		q.Panels = append(q.Panels, querydef.Panel{Items: []querydef.Item{{Key: `\t\` + g + `\`}}})
	}
	for _, g := range without {
		q.Panels = append(q.Panels, querydef.Panel{Invert: true, Items: []querydef.Item{{Key: `\t\` + g + `\`}}})
	}
	a, err := wh.Run(context.Background(), p, "diab", q)
	must(t, err)
	return a.QueryID
}

func released(t *testing.T, s *Service, r *Request, file string) string {
	t.Helper()
	rc, err := s.open(r, file)
	must(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, err)
	return string(b)
}

// Step 1: a table Steward computes from the warehouse — true counts, the checks on them, the
// provenance kept, released at once for an automatic analyst, queued for a validated one.
func TestComputedTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob, ann := w.who("bob"), w.who("ann")
		heart := cohort(t, wh, bob, "heart", []string{"heart"})

		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "heart by sex", Query: heart, Dimensions: []string{"sex"}})
		must(t, err)
		if r.Status != Released || r.Declared {
			t.Fatalf("automatic analyst's computed table: status %s declared %v (%s), want released, not declared", r.Status, r.Declared, r.Comment)
		}
		got := released(t, w.s, r, "table.csv")
		if !strings.Contains(got, "F,42\n") || strings.Contains(got, "north") || strings.Contains(got, ",5\n") {
			t.Fatalf("released table:\n%s\nwant F's true 42, M's and unknown's 5 suppressed, no agency column", got)
		}
		again, err := w.s.Get(ctx, bob, r.ID)
		must(t, err)
		pv := again.Files[0].Provenance
		if pv == nil || pv.QueryID != heart || pv.By != "bob" || len(pv.Definition) != 64 || strings.Join(pv.Dimensions, ",") != "sex" || pv.At.IsZero() {
			t.Fatalf("provenance %+v: want the query, its definition digest, the dimension, who and when", pv)
		}

		diab := cohort(t, wh, ann, "diabetes", []string{"diab"})
		r, err = w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "diabetes by age and sex", Query: diab, Dimensions: []string{"age", "sex"}})
		must(t, err)
		if r.Status != Pending {
			t.Fatalf("validated analyst's computed table: %s, want pending", r.Status)
		}

		for _, bad := range []TableRequest{
			{Purpose: "x", Query: heart, Dimensions: []string{"sex"}, Statistic: "max"},
			{Purpose: "x", Query: heart, Dimensions: []string{"sex", "age", "race"}},
			{Purpose: "x", Query: heart, Dimensions: []string{"zip"}},
		} {
			if _, err := w.s.SubmitTable(ctx, bob, "diab", bad); !errors.Is(err, derrors.Invalid) {
				t.Fatalf("%+v: got %v, want invalid", bad, err)
			}
		}
		if _, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "x", Query: heart, Dimensions: []string{"sex"}}); !errors.Is(err, derrors.NotFound) {
			t.Fatalf("a table over another analyst's query: got %v, want not found", err)
		}
	})
}
