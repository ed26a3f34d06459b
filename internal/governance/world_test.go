package governance

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
)

// world is a small site: regions west (agencies north, south) and east (river); a site-wide
// project "outcomes" and north's own project "north-eval"; ann an investigator (DATA_AGG in
// outcomes) who also sits on its board, bob and cy on the board, dora north's director.
type world struct {
	acc  *access.Service
	gov  *Service
	now  time.Time
	root access.Principal
}

func newWorld(t *testing.T, db *store.DB) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{acc: access.New(db, access.Config{}, nil), gov: New(db, Config{}), now: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	w.gov.Now = func() time.Time { return w.now }
	w.root = access.CLI("test")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []access.Region{{Code: "west", Name: "West"}, {Code: "east", Name: "East"}} {
		must(w.acc.CreateRegion(ctx, w.root, r))
	}
	for _, a := range []access.Agency{{Code: "north", Name: "North", Region: "west"}, {Code: "south", Name: "South", Region: "west"}, {Code: "river", Name: "River", Region: "east"}} {
		must(w.acc.CreateAgency(ctx, w.root, a))
	}
	must(w.acc.CreateProject(ctx, w.root, access.Project{Code: "outcomes", Name: "Outcomes across agencies"}))
	must(w.acc.CreateProject(ctx, w.root, access.Project{Code: "north-eval", Name: "North's evaluation", Agency: "north"}))
	for _, u := range []access.User{{Name: "ann"}, {Name: "bob"}, {Name: "cy"}, {Name: "dora", Agency: "north", Director: true}, {Name: "sam", Agency: "south", Director: true}} {
		must(w.acc.CreateUser(ctx, w.root, u, "a long password"))
	}
	must(w.acc.Grant(ctx, w.root, "ann", "outcomes", access.DataAgg))
	for _, u := range []string{"ann", "bob", "cy"} {
		must(w.acc.Grant(ctx, w.root, u, "outcomes", access.EthicsBoard))
	}
	return w
}

func (w *world) as(t *testing.T, name string) access.Principal {
	t.Helper()
	p, err := w.acc.Principal(context.Background(), name, "test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// application is a complete application of ann's for outcomes over the west region and river.
func application() Application {
	return Application{Project: "outcomes", Title: "Housing outcomes", Purpose: BestPractice,
		Summary: "Which housing supports keep clients housed a year later.", Risks: "Small cells; only aggregates leave.",
		Benefits: "Agencies learn which supports work.", Conflicts: "none",
		Agencies: []string{"river"}, Regions: []string{"west"}, Sectors: []string{"housing"},
		Analyses: []string{"outcome_counts"}, Assurances: Assurances}
}
