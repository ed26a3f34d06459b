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
	"github.com/stewardhealth/steward/internal/ledger"
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
	// a numeric value (LAB:X) for everyone: 5 each, but one man's (patient 2) planted at 1,000,000
	concepts = append(concepts, map[string]any{"concept_path": `\t\labx\`, "concept_cd": "LAB:X", "name_char": "x"})
	for n := 1; n <= 252; n++ {
		v := 5.0
		if n == 2 {
			v = 1e6
		}
		facts = append(facts, map[string]any{"encounter_num": int64(n), "patient_num": int64(n), "concept_cd": "LAB:X", "start_date": "2025-02-01 00:00:00",
			"valtype_cd": "N", "tval_char": "E", "nval_num": v})
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

		// (by sex, not by age and sex: everyone is aged 40, so the diabetics' zero cell of
		// unknown sex is alone on its line along age, and its margin — the diabetics of unknown
		// sex — gives it back: that table is refused)
		diab := cohort(t, wh, ann, "diabetes", []string{"diab"})
		r, err = w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "diabetes by sex", Query: diab, Dimensions: []string{"sex"}})
		must(t, err)
		if r.Status != Pending {
			t.Fatalf("validated analyst's computed table: %s (%s), want pending", r.Status, r.Comment)
		}
		r, err = w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "diabetes by age and sex", Query: diab, Dimensions: []string{"age", "sex"}})
		must(t, err)
		if r.Status != Refused || !strings.Contains(r.Files[0].Result.Reasons[0], "sex=unknown") {
			t.Fatalf("diabetes by age and sex: %s (%v), want refused: the unknown sex's zero is its margin", r.Status, r.Files[0].Result.Reasons)
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

// Step 2: the four differencing routes of issue 16, with computed tables. Each gives back
// the 5-person clinic (or 10 persons hidden in a table) exactly unless the ledger over
// people refuses it; honest tables beside them are still released.
func TestLedgerOverPeopleRefusesDifferencing(t *testing.T) {
	sex, vital := []string{"sex"}, []string{"vital_status"}
	refused := func(t *testing.T, names ...string) func(*Request, error) {
		return func(r *Request, err error) {
			t.Helper()
			must(t, err)
			if r.Status != Refused || !strings.Contains(r.Comment, "ledger over people") {
				t.Fatalf("differencing table: %s (%s), want refused by the ledger over people", r.Status, r.Comment)
			}
			for _, n := range names {
				if !strings.Contains(r.Comment, n) {
					t.Fatalf("refusal %q does not name release %s", r.Comment, n)
				}
			}
		}
	}
	releasedOK := func(t *testing.T) func(*Request, error) *Request {
		return func(r *Request, err error) *Request {
			t.Helper()
			must(t, err)
			if r.Status != Released {
				t.Fatalf("honest table: %s (%s), want released", r.Status, r.Comment)
			}
			return r
		}
	}
	t.Run("same population under another label", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			ctx := context.Background()
			w, wh := tablesWorld(t, db)
			bob := w.who("bob")
			a := releasedOK(t)(w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "diabetes", []string{"diab"}), Dimensions: sex}))
			r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "adult diabetics", []string{"diab"}, "clinic"), Dimensions: sex})
			refused(t, a.ID)(r, err)
			releasedOK(t)(w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "diabetes again", []string{"diab"}), Dimensions: vital}))
		})
	})
	t.Run("A - C - B", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			ctx := context.Background()
			w, wh := tablesWorld(t, db)
			bob, ann, olga := w.who("bob"), w.who("ann"), w.who("olga")
			a := releasedOK(t)(w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "diabetes", []string{"diab"}), Dimensions: sex}))
			c, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, ann, "diet", []string{"diet"}), Dimensions: sex})
			must(t, err)
			releasedOK(t)(w.s.Review(ctx, olga, c.ID, true, "fine"))
			r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "insulin", []string{"insulin"}), Dimensions: sex})
			refused(t, a.ID, "1 release(s) you may not see")(r, err)
			if strings.Contains(r.Comment, c.ID) {
				t.Fatalf("refusal %q names %s, another analyst's release bob may not see", r.Comment, c.ID)
			}
		})
	})
	t.Run("two pending requests approved one after the other", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			ctx := context.Background()
			w, wh := tablesWorld(t, db)
			ann, olga := w.who("ann"), w.who("olga")
			p1, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, ann, "diabetes", []string{"diab"}), Dimensions: sex})
			must(t, err)
			p2, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, ann, "adult diabetics", []string{"diab"}, "clinic"), Dimensions: sex})
			must(t, err)
			if p1.Status != Pending || p2.Status != Pending {
				t.Fatalf("validated requests: %s, %s, want both pending", p1.Status, p2.Status)
			}
			releasedOK(t)(w.s.Review(ctx, olga, p1.ID, true, "fine"))
			if _, err := w.s.Review(ctx, olga, p2.ID, true, "fine too"); !errors.Is(err, derrors.Conflict) || !strings.Contains(err.Error(), "ledger over people") || !strings.Contains(err.Error(), p1.ID) {
				t.Fatalf("second approval: got %v, want a conflict of the ledger over people naming %s", err, p1.ID)
			}
			if r, _ := w.s.Get(ctx, olga, p2.ID); r.Status != Pending {
				t.Fatalf("after the refused approval: %s, want still pending", r.Status)
			}
		})
	})
	t.Run("linked tables with different labels: hidden cells from a margin", func(t *testing.T) {
		storetest.Each(t, func(t *testing.T, db *store.DB) {
			ctx := context.Background()
			w, wh := tablesWorld(t, db)
			bob := w.who("bob")
			m := releasedOK(t)(w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "heart", []string{"heart"}), Dimensions: vital}))
			r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "cardiology", []string{"heart"}), Dimensions: sex})
			refused(t, m.ID)(r, err)
			releasedOK(t)(w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "diabetes", []string{"diab"}), Dimensions: sex}))
		})
	})
}

// A check the ledger cannot finish within its limits never releases automatically: the
// table waits for a reviewer, saying so (here a table the full check refuses: cut short,
// it is not proven safe, and it is not released either).
func TestLedgerIncompleteGoesToReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "diabetes", []string{"diab"}), Dimensions: []string{"sex"}})
		must(t, err)
		if r.Status != Released {
			t.Fatalf("first table: %s (%s), want released", r.Status, r.Comment)
		}
		w.s.Ledger = ledger.Options{MaxWork: 1}
		r, err = w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "p", Query: cohort(t, wh, bob, "adult diabetics", []string{"diab"}, "clinic"), Dimensions: []string{"sex"}})
		must(t, err)
		if r.Status != Pending || !strings.Contains(r.Comment, "could not be proven safe within limits") {
			t.Fatalf("a check cut short by its limits: %s (%s), want pending review saying so", r.Status, r.Comment)
		}
	})
}

// A sum of a numeric value Steward computes is checked on each person's true value: the men's
// cell, where one planted person holds nearly all of it, is hidden (dominance); the women's,
// of even values, is released with its true sum, mean and median (the unknown sex's 5
// persons are hidden by the count rule). min/max are refused.
func TestComputedValueTableDominance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		a, err := wh.Run(ctx, bob, "diab", querydef.Query{Name: "diabetes or heart", Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\t\diab\`}, {Key: `\t\heart\`}}}}})
		must(t, err)
		diab := a.QueryID
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "x by sex", Query: diab, Dimensions: []string{"sex"}, Statistic: "sum", Concept: "LAB:X"})
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		if r.Status != Released || !strings.Contains(got, "F,142,710\n") || strings.Contains(got, "1000") || strings.Contains(got, "north") {
			t.Fatalf("status %s (%s), released:\n%s\nwant F's true sum 710 over 142 persons, M's dominated cell hidden", r.Status, r.Comment, got)
		}
		dominated := false
		for _, e := range r.Files[0].Result.Hidden {
			for _, f := range e.Findings {
				dominated = dominated || e.Cell == "sex=M" && f.Rule == disclosure.RuleDominance
			}
		}
		if !dominated {
			t.Fatalf("hidden %+v: want sex=M hidden by dominance", r.Files[0].Result.Hidden)
		}
		// a validated analyst's: checked again at approval on the same per-person values
		ann := w.who("ann")
		a, err = wh.Run(ctx, ann, "diab", querydef.Query{Name: "diabetes or heart", Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\t\diab\`}, {Key: `\t\heart\`}}}}})
		must(t, err)
		p, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "x by sex", Query: a.QueryID, Dimensions: []string{"sex"}, Statistic: "sum", Concept: "LAB:X", Name: "x.csv"})
		must(t, err)
		if p.Status != Pending {
			t.Fatalf("validated analyst's value table: %s, want pending", p.Status)
		}
		p, err = w.s.Review(ctx, w.who("olga"), p.ID, true, "fine")
		must(t, err)
		if got := released(t, w.s, p, "x.csv"); p.Status != Released || !strings.Contains(got, "F,142,710\n") || strings.Contains(got, "1000") {
			t.Fatalf("approved: status %s (%s), released:\n%s", p.Status, p.Comment, got)
		}
		// a mean and a median: the cell's statistic, the men's still judged on their values
		for stat, want := range map[string]string{"mean": "F,142,5\n", "median": "F,142,5\n"} {
			r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "x by sex", Query: diab, Dimensions: []string{"sex"}, Statistic: stat, Concept: "LAB:X", Name: stat + ".csv"})
			must(t, err)
			got := released(t, w.s, r, stat+".csv")
			if r.Status != Released || !strings.Contains(got, want) || !strings.Contains(got, ","+stat+"\n") || !strings.Contains(got, "M,suppressed,suppressed\n") {
				t.Fatalf("%s: status %s (%s), released:\n%s", stat, r.Status, r.Comment, got)
			}
		}
		if _, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "x", Query: diab, Dimensions: []string{"sex"}, Statistic: "max", Concept: "LAB:X"}); !errors.Is(err, derrors.Invalid) {
			t.Fatalf("max: got %v, want invalid", err)
		}
	})
}
