package web

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

const everyDiagnosis = `{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\"}]}]}`

// Seed 002's access levels, each seeing exactly its scope in the site-wide project
// "outcomes" over three agencies' data (north and south in region west, river in east),
// with an approved ethics application and every agency's consent: ann of north
// (evaluation group) counts north's patients and reads them; wes of the regional agency
// westhealth (district) counts north's and south's — not river's — and reads no patient;
// tess, a trainer of CORI (no agency, database administrator level), counts all three.
// The expected counts are each agency's own, asked in each agency's own project.
// Before: there were no levels; a user of no agency saw every agency, and a regional
// agency's personnel had no way to see their district.
func TestEachLevelSeesExactlyItsScope(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	wh := warehouse.New(db, access.New(db, access.Config{}, nil), keys)
	f, g, c := govFixture(t, db, Options{Warehouse: wh})
	ctx, cli := context.Background(), access.CLI("test")
	load := func(agency string, seed uint64, first, n int64) error {
		_, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: seed, First: first, Patients: n, Ontology: true}.Inputs(), load.Options{Agency: agency})
		return err
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.svc.CreateAgency(ctx, cli, access.Agency{Code: "south", Name: "South", Region: "west"}))
	must(f.svc.CreateAgency(ctx, cli, access.Agency{Code: "westhealth", Name: "Western health region", Region: "west", Regional: true}))
	must(load("north", 5, 0, 200))
	must(load("south", 6, 10000, 120))
	must(load("river", 7, 20000, 90))
	for _, u := range []access.User{
		{Name: "wes", Agency: "westhealth", Level: access.LevelDistrict},
		{Name: "tess", FullName: "Trainer"},
	} {
		must(f.svc.CreateUser(ctx, cli, u, rootPW))
	}
	for _, x := range []access.Project{{Code: "south-own", Name: "South's", Agency: "south"}, {Code: "river-own", Name: "River's", Agency: "river"}} {
		must(f.svc.CreateProject(ctx, cli, x))
	}
	for _, gr := range []struct {
		user, project string
		role          access.Role
	}{{"ann", "outcomes", access.DataLDS}, {"wes", "outcomes", access.DataLDS}, {"tess", "outcomes", access.DataLDS},
		{"tess", "diab", access.DataAgg}, {"tess", "south-own", access.DataAgg}, {"tess", "river-own", access.DataAgg}} {
		must(f.svc.Grant(ctx, cli, gr.user, gr.project, gr.role))
	}
	// An approved application over the three agencies, and their and their regions' consent.
	annP, _ := f.svc.Principal(ctx, "ann", "test")
	bobP, _ := f.svc.Principal(ctx, "bob", "test")
	app, err := g.Submit(ctx, annP, governance.Application{Project: "outcomes", Title: "Outcomes", Purpose: governance.BestPractice,
		Summary: "s", Risks: "r", Benefits: "b", Conflicts: "none", Agencies: []string{"north", "south", "river"},
		Analyses: []string{warehouse.AnalysisCount, warehouse.AnalysisPatients}, Assurances: governance.Assurances})
	must(err)
	_, err = g.Circulate(ctx, bobP, app.ID)
	must(err)
	c.add(31 * 24 * 60 * 60 * 1e9)
	_, err = g.Decide(ctx, bobP, app.ID, governance.Decision{Approve: true, Reasons: "sound"})
	must(err)
	for _, party := range []governance.Consent{{PartyKind: "agency", Party: "north"}, {PartyKind: "agency", Party: "south"},
		{PartyKind: "agency", Party: "river"}, {PartyKind: "region", Party: "west"}, {PartyKind: "region", Party: "east"}} {
		party.Application, party.Project, party.Consented = app.ID, "outcomes", true
		must(g.RecordConsent(ctx, cli, party))
	}

	count := func(token, project string) int64 {
		t.Helper()
		code, body, _ := f.call("POST", "/api/v1/projects/"+project+"/queries", token, everyDiagnosis)
		var a struct {
			Count   int64  `json:"count"`
			QueryID string `json:"query_id"`
			Method  string `json:"obfuscate_method"`
		}
		if code != 201 || json.Unmarshal([]byte(body), &a) != nil || a.Method != "" {
			t.Fatalf("count in %s: got %d %s, want an exact count", project, code, body)
		}
		return a.Count
	}
	tess, ann, wes := f.signIn("tess", rootPW), f.signIn("ann", rootPW), f.signIn("wes", rootPW)
	north, south, river := count(tess, "diab"), count(tess, "south-own"), count(tess, "river-own")
	if north == 0 || south == 0 || river == 0 {
		t.Fatalf("each agency's own count: north %d, south %d, river %d; want all non-zero", north, south, river)
	}
	t.Logf("each agency's own count: north %d, south %d, river %d", north, south, river)
	for _, c := range []struct {
		who, token string
		want       int64
	}{{"ann (evaluation group, north)", ann, north}, {"wes (district, west)", wes, north + south}, {"tess (database administrator level)", tess, north + south + river}} {
		if got := count(c.token, "outcomes"); got != c.want {
			t.Errorf("%s in the site-wide project: got %d patients, want %d (north %d, south %d, river %d)", c.who, got, c.want, north, south, river)
		}
	}
	// Patient-level data: the district sees aggregates only.
	_, body, _ := f.call("POST", "/api/v1/projects/outcomes/queries", wes, everyDiagnosis)
	var a struct {
		QueryID string `json:"query_id"`
	}
	json.Unmarshal([]byte(body), &a)
	if code, body, _ := f.call("GET", "/api/v1/projects/outcomes/queries/"+a.QueryID+"/patients", wes, ""); code != 403 {
		t.Errorf("district patient-level data: got %d %.200s, want 403", code, body)
	}
	_, body, _ = f.call("POST", "/api/v1/projects/outcomes/queries", ann, everyDiagnosis)
	json.Unmarshal([]byte(body), &a)
	if code, body, _ := f.call("GET", "/api/v1/projects/outcomes/queries/"+a.QueryID+"/patients?limit=1000", ann, ""); code != 200 {
		t.Errorf("evaluation group patient-level data of its own agency: got %d %.200s, want 200", code, body)
	} else {
		var pdo struct {
			Total int64 `json:"total_patients"`
		}
		json.Unmarshal([]byte(body), &pdo)
		if pdo.Total != north {
			t.Errorf("ann's patient-level data: %d patients, want north's %d", pdo.Total, north)
		}
	}
}
