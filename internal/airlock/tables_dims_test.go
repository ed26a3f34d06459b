package airlock

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// loadMore loads rows into the tables' warehouse (agency north).
func loadMore(t *testing.T, db *store.DB, rows map[string][]map[string]any) {
	t.Helper()
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	must(t, err)
	var in []load.Input
	for _, table := range []string{"concept_dimension", "visit_dimension", "observation_fact"} {
		if rs, ok := rows[table]; ok {
			in = append(in, load.Input{Table: table, Source: &rowsSource{schema.Named(table), rs}})
		}
	}
	_, err = load.Run(context.Background(), db, keys, in, load.Options{Agency: "north"})
	must(t, err)
}

func hiddenBy(r *Request, cell string, rule disclosure.Rule) bool {
	for _, e := range r.Files[0].Result.Hidden {
		for _, f := range e.Findings {
			if e.Cell == cell && f.Rule == rule {
				return true
			}
		}
	}
	return false
}

// A concept dimension, as an analyst would try it: its levels (a code and an ontology path)
// overlap and say so; a level of 5 persons is hidden by the threshold on its true persons; a
// level "A or B" beside A (in one table, or in a later one) gives back B's 5 persons by
// their difference and is refused by the ledger over people.
func TestComputedConceptDimension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		// an ontology folder \u\care\ over the clinic's 5 and diet's 95
		loadMore(t, db, map[string][]map[string]any{"concept_dimension": {
			{"concept_path": `\u\care\`, "concept_cd": "", "name_char": "care"},
			{"concept_path": `\u\care\clinic\`, "concept_cd": "G:clinic", "name_char": "clinic"},
			{"concept_path": `\u\care\diet\`, "concept_cd": "G:diet", "name_char": "diet"},
		}})
		diab := cohort(t, wh, bob, "diabetes", []string{"diab"})
		concept := "concept (overlapping levels)"

		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "care", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{`\t\clinic\`, "G:insulin"}})
		must(t, err)
		if r.Status != Released || !hiddenBy(r, concept+`=\t\clinic\`, disclosure.RulePersons) {
			t.Fatalf("concept levels: %s (%s) hidden %+v, want released with the clinic's 5 hidden by the threshold", r.Status, r.Comment, r.Files[0].Result.Hidden)
		}
		got := released(t, w.s, r, "table.csv")
		if !strings.HasPrefix(got, concept+",persons\n") || !strings.Contains(got, "G:insulin,100\n") || !strings.Contains(got, "none of these,95\n") || strings.Contains(got, ",5\n") {
			t.Fatalf("released table:\n%s\nwant overlapping levels said in the header, insulin 100, none of these 95, the clinic hidden", got)
		}
		if pv := r.Files[0].Provenance; pv == nil || pv.Overlapping == "" || len(pv.Levels) != 2 {
			t.Fatalf("provenance %+v: want the levels and that they overlap", pv)
		}

		// A and "A or B" in one table: 100 − 95 = the clinic's 5
		r, err = w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "care", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{`\u\care\`, "G:diet"}})
		must(t, err)
		if r.Status != Refused || !strings.Contains(r.Comment, "ledger over people") {
			t.Fatalf("levels A or B and A in one table: %s (%s), want refused by the ledger over people", r.Status, r.Comment)
		}
		// A alone: one level, which does not overlap its "none of these" (the clinic's 5 and
		// insulin's 100): 105 less the first table's insulin 100 is the clinic's 5 — refused
		// by the ledger naming the first table (it used to be released only because the
		// label-based differencing happened to hide its "none of these", under the same
		// overlapping label as the first table's and 10 apart)
		first, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "care", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{"G:diet"}})
		must(t, err)
		if first.Status != Refused || !strings.Contains(first.Comment, "ledger over people") || !strings.Contains(first.Comment, "releases combined: exp-") {
			t.Fatalf("level A alone: %s (%s), want refused by the ledger naming the first table", first.Status, first.Comment)
		}
		// under another query of the same cohort: another population, which labels cannot link
		again := cohort(t, wh, bob, "diabetes again", []string{"diab"})
		r, err = w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "care", Query: again, Dimensions: []string{"concept", "vital_status"}, Concepts: []string{`\u\care\`}})
		must(t, err)
		// (A's persons are also the first table's "none of these": either release gives B back)
		if r.Status != Refused || !strings.Contains(r.Comment, "ledger over people") || !strings.Contains(r.Comment, "releases combined: exp-") {
			t.Fatalf("level A or B after A: %s (%s), want refused by the ledger naming an earlier release", r.Status, r.Comment)
		}
		for _, bad := range []TableRequest{
			{Purpose: "x", Query: diab, Dimensions: []string{"concept"}},
			{Purpose: "x", Query: diab, Dimensions: []string{"sex"}, Concepts: []string{"G:diet"}},
			{Purpose: "x", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{"G:nothing"}},
			{Purpose: "x", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{"G:diet", "G:diet"}},
		} {
			if _, err := w.s.SubmitTable(ctx, bob, "diab", bad); !errors.Is(err, derrors.Invalid) {
				t.Fatalf("%+v: got %v, want invalid", bad, err)
			}
		}
	})
}

// A visit dimension: a person is in every visit type they have; the 5 with an inpatient
// stay are hidden by the threshold.
func TestComputedVisitDimension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		var visits []map[string]any
		for n := 1; n <= 200; n++ {
			visits = append(visits, map[string]any{"encounter_num": int64(10000 + n), "patient_num": int64(n), "inout_cd": "O", "start_date": "2025-01-01 00:00:00"})
			if n <= 5 {
				visits = append(visits, map[string]any{"encounter_num": int64(20000 + n), "patient_num": int64(n), "inout_cd": "I", "start_date": "2025-01-02 00:00:00"})
			}
		}
		loadMore(t, db, map[string][]map[string]any{"visit_dimension": visits})
		diab := cohort(t, wh, bob, "diabetes", []string{"diab"})
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "visits", Query: diab, Dimensions: []string{"visit_type"}})
		must(t, err)
		if r.Status != Released || !hiddenBy(r, "visit_type (overlapping levels)=I", disclosure.RulePersons) {
			t.Fatalf("visit types: %s (%s) %+v, want released with the 5 inpatients hidden", r.Status, r.Comment, r.Files[0].Result.Hidden)
		}
		if got := released(t, w.s, r, "table.csv"); !strings.Contains(got, "O,200\n") {
			t.Fatalf("released table:\n%s\nwant all 200 in O (overlapping the inpatients)", got)
		}
	})
}

// An agency dimension: refused (403, audited) for an analyst whose access level sees only
// their own agency; computed for CORI's staff, where the contributor rule — on the true
// agencies of each cell's persons, never a declaration — hides a cell of one agency unless
// the project's rules turn it off.
func TestComputedAgencyDimension(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		cli := access.CLI("test")
		must(t, w.acc.CreateUser(ctx, cli, access.User{Name: "cora", Email: "cora@example.org"}, "a long enough password 123"))
		must(t, w.acc.Grant(ctx, cli, "cora", "diab", access.DataAgg))
		must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "cora", Automatic, ""))
		cora := w.who("cora")
		diab := cohort(t, wh, bob, "diabetes", []string{"diab"})
		_, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "by agency", Query: diab, Dimensions: []string{"agency"}})
		if !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), "agency") {
			t.Fatalf("agency dimension by an evaluation-group analyst: got %v, want forbidden naming the dimension", err)
		}
		var n int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.table_refused' AND actor = 'bob' AND detail LIKE '%agency%'`).Scan(&n))
		if n != 1 {
			t.Fatalf("the refusal is audited %d times, want once", n)
		}
		if _, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "by region", Query: diab, Dimensions: []string{"region", "sex"}}); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("region dimension by an evaluation-group analyst: got %v, want forbidden", err)
		}
		mine := cohort(t, wh, cora, "diabetes", []string{"diab"})
		r, err := w.s.SubmitTable(ctx, cora, "diab", TableRequest{Purpose: "by agency", Query: mine, Dimensions: []string{"agency"}})
		must(t, err)
		if r.Status != Released || !strings.Contains(released(t, w.s, r, "table.csv"), "north,200\n") {
			t.Fatalf("agency dimension, contributor rule off: %s (%s), want released", r.Status, r.Comment)
		}
		must(t, w.s.SetSettings(ctx, w.who("olga"), "diab", Settings{Rules: disclosure.Rules{MinPersons: 10}, LinkDays: 7}))
		r, err = w.s.SubmitTable(ctx, cora, "diab", TableRequest{Purpose: "by region", Query: mine, Dimensions: []string{"region"}})
		must(t, err)
		if !hiddenBy(r, "region=west", disclosure.RuleProjects) {
			t.Fatalf("region of one agency under the contributor rule: %s %+v, want hidden by the contributor rule", r.Status, r.Files[0].Result.Hidden)
		}
	})
}

// A count of events: the persons with events are the cell's (the threshold and the ledger
// count them); one person with 91 % of the events is refused by dominance on the true
// per-person counts; the same table without that person is released with the events summed.
func TestComputedEventsDominance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		var facts []map[string]any
		fact := func(n, i int, code string) {
			facts = append(facts, map[string]any{"encounter_num": int64(n), "patient_num": int64(n), "concept_cd": code, "start_date": "2025-03-01 00:00:00", "instance_num": int64(i)})
		}
		for i := 1; i <= 190; i++ {
			fact(211, i, "EV:a") // one woman: 190 of the 209 events
		}
		for n := 212; n <= 230; n++ {
			fact(n, 1, "EV:a")
			fact(n, 1, "EV:b")
			fact(n, 2, "EV:b")
		}
		loadMore(t, db, map[string][]map[string]any{"observation_fact": facts, "concept_dimension": {
			{"concept_path": `\e\`, "concept_cd": "", "name_char": "events"},
			{"concept_path": `\e\a\`, "concept_cd": "EV:a", "name_char": "a"},
			{"concept_path": `\e\b\`, "concept_cd": "EV:b", "name_char": "b"},
		}})
		heart := cohort(t, wh, bob, "heart", []string{"heart"})
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "events", Query: heart, Dimensions: []string{"vital_status"}, Statistic: "events", Concept: "EV:a"})
		must(t, err)
		if !hiddenBy(r, "vital_status=living", disclosure.RuleDominance) {
			t.Fatalf("events dominated by one person: %s (%s) %+v, want the cell hidden by dominance", r.Status, r.Comment, r.Files[0].Result.Hidden)
		}
		r, err = w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "events", Query: heart, Dimensions: []string{"vital_status"}, Statistic: "events", Concept: `\e\b\`})
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		if r.Status != Released || !strings.Contains(got, "vital_status,persons,events\n") || !strings.Contains(got, "living,19,38\n") {
			t.Fatalf("events of 19 persons, 2 each: %s (%s)\n%s\nwant released with 19 persons and 38 events", r.Status, r.Comment, got)
		}
		if pv := r.Files[0].Provenance; pv == nil || pv.Statistic != warehouse.StatisticEvents || pv.Value != warehouse.EventsOfConcept {
			t.Fatalf("provenance %+v: want events of the concept", pv)
		}
	})
}

// A hand-made upload cannot declare its dimensions overlapping to escape secondary
// suppression: only Steward's computed tables say so.
func TestUploadCannotDeclareOverlap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, _ := tablesWorld(t, db)
		m := meta
		m.Overlapping = slices.Clone(m.Dimensions)
		_, err := w.s.Submit(context.Background(), w.who("bob"), "diab", Submission{Purpose: "by age", Files: []FileInput{{Name: "t.csv", Meta: m, Data: "age_band,project,patients\n18-34,a,40\n35-44,b,4\n"}}})
		if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "overlapping") {
			t.Fatalf("an upload declaring overlapping levels: got %v, want invalid naming overlapping", err)
		}
	})
}

// At approval a computed table with overlapping levels is checked again as at submission
// (the overlap kept with the request): a validated analyst's concept table and events table
// are released by the officer with the same cells hidden; a second pending table whose level
// "A or B" gives back B against the first is refused at its approval.
func TestOverlappingTablesAtApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		ann, olga := w.who("ann"), w.who("olga")
		loadMore(t, db, map[string][]map[string]any{"concept_dimension": {
			{"concept_path": `\u\care\`, "concept_cd": "", "name_char": "care"},
			{"concept_path": `\u\care\clinic\`, "concept_cd": "G:clinic", "name_char": "clinic"},
			{"concept_path": `\u\care\diet\`, "concept_cd": "G:diet", "name_char": "diet"},
		}})
		diab := cohort(t, wh, ann, "diabetes", []string{"diab"})
		p1, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "care", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{"G:clinic", "G:insulin"}})
		must(t, err)
		again := cohort(t, wh, ann, "diabetes again", []string{"diab"})
		p2, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "care", Query: again, Dimensions: []string{"concept"}, Concepts: []string{`\u\care\`}})
		must(t, err)
		if p1.Status != Pending || p2.Status != Pending {
			t.Fatalf("validated analyst's tables: %s, %s; want both pending", p1.Status, p2.Status)
		}
		r, err := w.s.Review(ctx, olga, p1.ID, true, "fine")
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		if r.Status != Released || !strings.Contains(got, "G:insulin,100\n") || !strings.Contains(got, "none of these,95\n") || !strings.Contains(got, "G:clinic,suppressed\n") {
			t.Fatalf("approved concept table: %s\n%s\nwant the clinic alone hidden, as at submission", r.Status, got)
		}
		// \u\care\ is 100 = the clinic's 5 + "none of these" 95 just released
		if _, err := w.s.Review(ctx, olga, p2.ID, true, "fine too"); !errors.Is(err, derrors.Conflict) || !strings.Contains(err.Error(), "ledger over people") {
			t.Fatalf("approving A or B after A's release: got %v, want a conflict from the ledger over people", err)
		}
	})
}
