package airlock

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Issue 9 on the export path: aggregates of two agencies' data in a site-wide project are
// refused until an ethics application naming exports and covering both agencies is
// approved and both (with their regions) consent; a region withdrawing between submission
// and review stops the release; consenting again lets it go.
func TestExportsPassTheGovernanceGate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db) // region west, agency north, project diab
		cli := access.CLI("test")
		must := func(err error) { t.Helper(); must(t, err) }
		must(w.acc.CreateRegion(ctx, cli, access.Region{Code: "east", Name: "East"}))
		must(w.acc.CreateAgency(ctx, cli, access.Agency{Code: "river", Name: "River", Region: "east"}))
		must(w.acc.CreateProject(ctx, cli, access.Project{Code: "outcomes", Name: "Outcomes across agencies"}))
		for _, u := range []struct {
			name string
			role access.Role
		}{{"ivy", access.DataAgg}, {"otto", access.DataOfficer}, {"spock", access.SPOC}, {"bea", access.EthicsBoard}} {
			must(w.acc.CreateUser(ctx, cli, access.User{Name: u.name, Email: u.name + "@example.org"}, "a long enough password 123"))
			must(w.acc.Grant(ctx, cli, u.name, "outcomes", u.role))
		}
		ivy, otto, bea := w.who("ivy"), w.who("otto"), w.who("bea")
		must(w.s.SetExporter(ctx, w.who("spock"), "outcomes", "ivy", Validated, ""))
		now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
		gov := governance.New(db, governance.Config{})
		gov.Now = func() time.Time { return now }
		w.s.Gate = gov
		both := []string{"north", "river"}
		sub := Submission{Purpose: "outcomes by age", Agencies: both, Files: []FileInput{{Name: "by_age.csv", Meta: meta, Data: table(80)}}}

		if _, err := w.s.Submit(ctx, ivy, "outcomes", sub); !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), "ethics application") {
			t.Fatalf("two agencies, no application: got %v, want forbidden naming the ethics application", err)
		}
		unnamed := sub
		unnamed.Agencies = nil
		if _, err := w.s.Submit(ctx, ivy, "outcomes", unnamed); !errors.Is(err, derrors.Invalid) {
			t.Fatalf("site-wide project, agencies not named: got %v, want invalid", err)
		}

		must(gov.SetPurposes(ctx, cli, "outcomes", []governance.Purpose{governance.ProgramEvaluation}))
		app, err := gov.Submit(ctx, ivy, governance.Application{Project: "outcomes", Title: "Outcomes by age", Purpose: governance.ProgramEvaluation,
			Summary: "Outcomes of two agencies' clients by age band.", Risks: "Small cells.", Benefits: "Better programs.", Conflicts: "none",
			Agencies: both, Analyses: []string{DefaultAnalysis}, Assurances: governance.Assurances})
		must(err)
		_, err = gov.Circulate(ctx, bea, app.ID)
		must(err)
		now = now.AddDate(0, 0, 31)
		_, err = gov.Decide(ctx, bea, app.ID, governance.Decision{Approve: true, Reasons: "Aggregates only."})
		must(err)
		consent := func(kind, party string, yes bool) {
			t.Helper()
			must(gov.RecordConsent(ctx, cli, governance.Consent{Application: app.ID, PartyKind: kind, Party: party, Consented: yes}))
		}
		consent("agency", "north", true)
		consent("region", "west", true)
		if _, err := w.s.Submit(ctx, ivy, "outcomes", sub); !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), "river") {
			t.Fatalf("approved, river not consenting: got %v, want forbidden naming river", err)
		}
		consent("agency", "river", true)
		consent("region", "east", true)
		r, err := w.s.Submit(ctx, ivy, "outcomes", sub)
		must(err)
		if r.Status != Pending || r.Basis != app.ID || !slices.Equal(r.Agencies, both) {
			t.Fatalf("approved and consented: got %s, basis %q, agencies %v; want pending under %s over %v", r.Status, r.Basis, r.Agencies, app.ID, both)
		}

		consent("region", "east", false)
		if _, err := w.s.Review(ctx, otto, r.ID, true, "fine"); !errors.Is(err, derrors.Forbidden) || !strings.Contains(err.Error(), "river") {
			t.Fatalf("region east withdrew before review: got %v, want forbidden naming river", err)
		}
		if got, err := w.s.Get(ctx, otto, r.ID); err != nil || got.Status != Pending {
			t.Fatalf("after the refused release: %v, %v; want still pending", got, err)
		}
		consent("region", "east", true)
		r, err = w.s.Review(ctx, otto, r.ID, true, "fine")
		must(err)
		if r.Status != Released {
			t.Fatalf("consent back: got %s, want released", r.Status)
		}
		var refusals int
		must(db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'export.gate_refused'`).Scan(&refusals))
		if refusals != 3 {
			t.Errorf("gate refusals audited: %d, want 3", refusals)
		}
	})
}
