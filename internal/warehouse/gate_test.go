package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// Issue 9 through the warehouse: a site-wide project reads three agencies' data in two
// regions. Its cohort counts are refused until an ethics application covering them is
// approved, count only the agencies (and regions) that consent, lose a region's agencies
// when the region withdraws, and lose a client who withdrew their own consent — in counts
// and in patient-level data. Every expected count comes from the generated rows, not from
// the warehouse.
func TestGovernanceGatesCohortQueries(t *testing.T) {
	river := synthetic.Warehouse{Seed: 13, First: 200000, Patients: 80}
	gens := map[string]synthetic.Warehouse{"north": north, "south": south, "river": river}
	oracles := map[string]*oracle{}
	for a, g := range gens {
		oracles[a] = newOracle(t, g)
	}
	for _, a := range []string{"south", "river"} {
		oracles[a].concepts = oracles["north"].concepts // the ontology is loaded once, with north
	}
	q := querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}}
	expect := func(agencies ...string) int64 {
		n := 0
		for _, a := range agencies {
			n += oracles[a].count(q)
		}
		return int64(n)
	}
	if expect("north") == 0 || expect("south") == 0 || expect("river") == 0 {
		t.Fatal("the query selects nobody in some agency: the test would prove nothing")
	}

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		acc := access.New(db, access.Config{}, nil)
		for _, r := range []access.Region{{Code: "west", Name: "West"}, {Code: "east", Name: "East"}} {
			must(t, acc.CreateRegion(ctx, root, r))
		}
		for _, a := range []access.Agency{{Code: "north", Name: "North", Region: "west"}, {Code: "south", Name: "South", Region: "west"}, {Code: "river", Name: "River", Region: "east"}} {
			must(t, acc.CreateAgency(ctx, root, a))
		}
		must(t, acc.CreateProject(ctx, root, access.Project{Code: "outcomes", Name: "Outcomes across agencies"}))
		for _, u := range []string{"ann", "bob"} {
			must(t, acc.CreateUser(ctx, root, access.User{Name: u}, "correct horse battery"))
		}
		must(t, acc.Grant(ctx, root, "ann", "outcomes", access.DataAgg))
		must(t, acc.Grant(ctx, root, "ann", "outcomes", access.DataLDS))
		must(t, acc.Grant(ctx, root, "bob", "outcomes", access.EthicsBoard))
		for a, g := range gens {
			_, err := load.Run(ctx, db, testKey, g.Inputs(), load.Options{Agency: a})
			must(t, err)
		}
		principal := func(name string) access.Principal {
			p, err := acc.Principal(ctx, name, "test")
			must(t, err)
			return p
		}
		ann, bob := principal("ann"), principal("bob")
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		gov := governance.New(db, governance.Config{})
		gov.Now = func() time.Time { return now }
		w := warehouse.New(db, acc, testKey)
		w.Gate = gov

		// Before any application: refused, and the refusal says what is missing.
		_, err := w.Run(ctx, ann, "outcomes", q)
		if !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), "ethics application") {
			t.Fatalf("multi-agency count without an application: got %v, want forbidden naming the ethics application", err)
		}

		must(t, gov.SetPurposes(ctx, root, "outcomes", []governance.Purpose{governance.BestPractice}))
		app, err := gov.Submit(ctx, ann, governance.Application{Project: "outcomes", Title: "Diabetes across agencies",
			Purpose: governance.BestPractice, Summary: "How many clients have endocrine diagnoses.", Risks: "Small cells.",
			Benefits: "Agencies plan services.", Conflicts: "none", Agencies: []string{"river"}, Regions: []string{"west"},
			Analyses: []string{warehouse.AnalysisCount, warehouse.AnalysisPatients}, Assurances: governance.Assurances})
		must(t, err)
		_, err = gov.Circulate(ctx, bob, app.ID)
		must(t, err)
		if _, err := w.Run(ctx, ann, "outcomes", q); !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), app.ID) {
			t.Fatalf("application under review: got %v, want forbidden naming %s", err, app.ID)
		}
		now = now.AddDate(0, 0, 31)
		_, err = gov.Decide(ctx, bob, app.ID, governance.Decision{Approve: true, Reasons: "Aggregates only; purpose fits."})
		must(t, err)

		run := func(step string, want int64, left ...string) warehouse.Answer {
			t.Helper()
			a, err := w.Run(ctx, ann, "outcomes", q)
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			var gotLeft []string
			if a.Governance != nil {
				for _, l := range a.Governance.Left {
					gotLeft = append(gotLeft, l.Agency)
				}
				if a.Governance.Application != app.ID {
					t.Errorf("%s: basis %q, want application %s", step, a.Governance.Application, app.ID)
				}
			}
			if a.Count != want || !slices.Equal(gotLeft, left) {
				t.Fatalf("%s: got count %d with %v left out, want %d with %v left out", step, a.Count, gotLeft, want, left)
			}
			return a
		}
		// Approved, but nobody consented yet: nobody's data enters.
		run("approved, no consent", 0, "north", "river", "south")

		consent := func(kind, party string, yes bool) {
			t.Helper()
			must(t, gov.RecordConsent(ctx, root, governance.Consent{Application: app.ID, PartyKind: kind, Party: party, Consented: yes}))
		}
		for _, a := range []string{"north", "south", "river"} {
			consent("agency", a, true)
		}
		consent("region", "west", true)
		run("east has not consented", expect("north", "south"), "river")
		consent("region", "east", true)
		run("everyone consents", expect("north", "south", "river"))
		consent("region", "west", false)
		run("west withdrew", expect("river"), "north", "south")
		consent("region", "west", true)

		var refusals int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.gate_refused'`).Scan(&refusals))
		if refusals != 2 {
			t.Errorf("gate refusals audited: %d, want 2", refusals)
		}

		// A north client in the cohort withdraws their own consent.
		var client string
		var num int64
		must(t, db.QueryRowContext(ctx, `SELECT m.patient_ide, m.patient_num FROM patient_mapping m WHERE m.agency = 'north' AND m.patient_num IN
			(SELECT f.patient_num FROM observation_fact f JOIN concept_dimension c ON c.concept_cd = f.concept_cd
			 WHERE substr(c.concept_path, 1, $1) = $2 AND f.agency = 'north') ORDER BY m.patient_num LIMIT 1`, len(chapE), chapE).Scan(&client, &num))
		must(t, gov.SetClientConsent(ctx, root, "north", client, false))
		a := run("a client withdrew", expect("north", "south", "river")-1)
		if a.Governance.ClientsLeftOut != 1 {
			t.Errorf("clients left out: got %d, want 1", a.Governance.ClientsLeftOut)
		}

		// Patient-level data of the same cohort leaves the client out too.
		pdo, err := w.Patients(ctx, ann, "outcomes", a.QueryID, warehouse.PDOOptions{Limit: 1000})
		must(t, err)
		if pdo.Total != a.Count || pdo.Governance == nil || pdo.Governance.ClientsLeftOut != 1 {
			t.Fatalf("patient-level data: %d patients (gate %+v), want %d with one client left out", pdo.Total, pdo.Governance, a.Count)
		}
		for _, p := range pdo.Patients {
			if fmt.Sprint(p["patient_num"]) == fmt.Sprint(num) {
				t.Fatalf("patient-level data holds the patient whose client consent is withdrawn")
			}
		}
	})
}
