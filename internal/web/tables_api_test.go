package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// fakeTables computes by sex: query qm-all has women 1…300 and men 301…550; qm-less the
// same without women 1…5.
type fakeTables struct{}

func (fakeTables) Table(_ context.Context, p access.Principal, project, query string, dims []string, _ string) (warehouse.Table, error) {
	women := roaring.New()
	women.AddRange(1, 301)
	if query == "qm-less" {
		women.RemoveRange(1, 6)
	}
	men := roaring.New()
	men.AddRange(301, 551)
	cell := func(k string, b *roaring.Bitmap) warehouse.TableCell {
		return warehouse.TableCell{Key: []string{k}, Persons: b, Agencies: map[string]int64{"north": int64(b.GetCardinality())}}
	}
	return warehouse.Table{Project: project, QueryID: query, Dimensions: dims, Statistic: warehouse.StatisticPersons, By: p.User,
		Cells: []warehouse.TableCell{cell("F", women), cell("M", men)}}, nil
}

// TableOf is the airlock's entry: a value's statistic when a concept is named, else persons.
func (f fakeTables) TableOf(ctx context.Context, p access.Principal, project, query string, dims []string, spec warehouse.TableSpec) (warehouse.Table, error) {
	if spec.Concept != "" {
		return f.TableValue(ctx, p, project, query, dims, spec)
	}
	return f.Table(ctx, p, project, query, dims, spec.Statistic)
}

// TableValue gives qm-all's cells with the values' sum: every woman 5, the men 5 but for
// one planted at 1,000,000; it answers only the concept LAB:X.
func (f fakeTables) TableValue(ctx context.Context, p access.Principal, project, query string, dims []string, spec warehouse.TableSpec) (warehouse.Table, error) {
	if spec.Concept != "LAB:X" || spec.Statistic != "sum" {
		return warehouse.Table{}, fmt.Errorf("%w: spec %+v", derrors.Invalid, spec)
	}
	t, _ := f.Table(ctx, p, project, query, dims, "")
	t.Statistic, t.Concept = spec.Statistic, spec.Concept
	for i := range t.Cells {
		c := &t.Cells[i]
		c.Values = make([]float64, c.Persons.GetCardinality())
		for j := range c.Values {
			c.Values[j] = 5
		}
		if c.Key[0] == "M" {
			c.Values[7] = 1e6
		}
		c.Sums = map[string]float64{"north": 0}
		for _, v := range c.Values {
			c.Sums["north"] += v
		}
	}
	return t, nil
}

// The API takes a value's statistic: statistic and concept reach the warehouse, and the
// men's cell, dominated by one person's value, is hidden from the released sum (and with two
// cells, the women's too, by secondary suppression).
func TestAPIComputedValueTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		al.Tables = fakeTables{}
		cli := access.CLI("test")
		if err := al.SetSettings(context.Background(), cli, "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"x by sex","query":"qm-all","dimensions":["sex"],"statistic":"sum","concept":"LAB:X"}`)
		var r airlock.Request
		json.Unmarshal([]byte(body), &r)
		dominated := false
		for _, e := range r.Files[0].Result.Hidden {
			for _, f := range e.Findings {
				dominated = dominated || e.Cell == "sex=M" && f.Rule == disclosure.RuleDominance
			}
		}
		if code != 201 || r.Status != airlock.Released || !dominated || r.Files[0].Provenance == nil || r.Files[0].Provenance.Concept != "LAB:X" {
			t.Fatalf("value table: got %d %s, want 201 with the men's cell hidden by dominance (the women's by secondary suppression)", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"x","query":"qm-all","dimensions":["sex"],"statistic":"max","concept":"LAB:X"}`); code != 400 {
			t.Fatalf("max: got %d %s, want 400", code, body)
		}
	})
}

// The API of computed tables: an automatic analyst's table is released at once (not a
// hand-made upload); a second one over a cohort five women smaller is refused by the ledger
// over people, naming the first.
func TestAPIComputedTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		al.Tables = fakeTables{}
		cli := access.CLI("test")
		if err := al.SetSettings(context.Background(), cli, "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"]}`)
		var first airlock.Request
		json.Unmarshal([]byte(body), &first)
		if code != 201 || first.Status != airlock.Released || first.Declared || first.Files[0].Provenance == nil {
			t.Fatalf("computed table: got %d %s, want 201 released with its provenance", code, body)
		}
		code, body, _ = f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-less","dimensions":["sex"]}`)
		var second airlock.Request
		json.Unmarshal([]byte(body), &second)
		if code != 201 || second.Status != airlock.Refused || !strings.Contains(second.Comment, first.ID) {
			t.Fatalf("differencing table: got %d %s, want refused naming %s", code, body, first.ID)
		}
		// a structural zero declared through the API: never automatic, the reason shown
		code, body, _ = f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"],"structural_zeros":[["M"]],"structural_reason":"no men by design"}`)
		var declared airlock.Request
		json.Unmarshal([]byte(body), &declared)
		if code != 201 || declared.Status != airlock.Pending || !strings.Contains(declared.Comment, "no men by design") {
			t.Fatalf("declared structural zero: got %d %s, want 201 pending with the reason", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"],"structural_zeros":[["X"]],"structural_reason":"r"}`); code != 400 || !strings.Contains(body, "structural_zeros[0]") {
			t.Fatalf("a declared cell not in the table: got %d %s, want 400 naming structural_zeros[0]", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["olga"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"]}`); code != 403 {
			t.Fatalf("a user not on the SPOC's list: got %d %s, want 403", code, body)
		}
	})
}

// The API of the new dimensions over a real warehouse: concept levels (a code and a folder)
// reach it and come back overlapping; an agency dimension asked by an analyst of the
// evaluation-group level is 403 and audited; a count of events is released with its column.
func TestAPIComputedTableDimensions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f, al, tok := airlockFixture(t, db)
		keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: 5, Patients: 400, Ontology: true}.Inputs(), load.Options{Agency: "north"}); err != nil {
			t.Fatal(err)
		}
		wh := warehouse.New(db, f.svc, keys)
		al.Tables = wh
		if err := al.SetSettings(ctx, access.CLI("test"), "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		vera, err := f.svc.Principal(ctx, "vera", "test")
		if err != nil {
			t.Fatal(err)
		}
		a, err := wh.Run(ctx, vera, "diab", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\i2b2\Diagnoses\`}}}}})
		if err != nil {
			t.Fatal(err)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"],
			`{"purpose":"comorbidities","query":"`+a.QueryID+`","dimensions":["concept"],"concepts":["ICD10:E","\\i2b2\\Diagnoses\\ICD10\\I\\"]}`)
		var r airlock.Request
		if code != 201 || json.Unmarshal([]byte(body), &r) != nil || r.Files[0].Provenance == nil || r.Files[0].Provenance.Overlapping == "" || len(r.Files[0].Provenance.Levels) != 2 {
			t.Fatalf("concept levels: got %d %.400s, want 201 with overlapping levels in the provenance", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by agency","query":"`+a.QueryID+`","dimensions":["agency"]}`); code != 403 || !strings.Contains(body, "agency") {
			t.Fatalf("agency dimension at evaluation-group level: got %d %s, want 403 naming the dimension", code, body)
		}
		es, err := f.svc.Audit.Find(ctx, store.Filter{Action: "warehouse.table_refused"})
		if err != nil || len(es) != 1 || es[0].Actor != "vera" || es[0].Detail["dimension"] != "agency" {
			t.Fatalf("the refusal's audit: %+v, %v", es, err)
		}
		code, body, _ = f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"visits","query":"`+a.QueryID+`","dimensions":["sex"],"statistic":"events"}`)
		if code != 201 || json.Unmarshal([]byte(body), &r) != nil || r.Files[0].Provenance.Statistic != warehouse.StatisticEvents || r.Files[0].Provenance.Value != warehouse.EventsOfVisits {
			t.Fatalf("visits by sex: got %d %.400s, want 201, an events table of visits", code, body)
		}
	})
}
