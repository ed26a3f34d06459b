package airlock

import (
	"context"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// The agency levels are the agencies the gate admits for the project: another agency's
// patients in the warehouse are no level (their zero follows from the project, not the
// cohort), so a project's table by agency is not suppressed around a row it could never fill.
func TestComputedAgencyLevelsAreTheAdmitted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		cli := access.CLI("test")
		must(t, w.acc.CreateAgency(ctx, cli, access.Agency{Code: "south", Name: "South", Region: "west"}))
		keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
		must(t, err)
		var people, facts []map[string]any
		for n := 1001; n <= 1050; n++ {
			people = append(people, map[string]any{"patient_num": int64(n), "sex_cd": "F", "vital_status_cd": "N", "age_in_years_num": int64(40), "race_cd": "white"})
			facts = append(facts, map[string]any{"encounter_num": int64(n), "patient_num": int64(n), "concept_cd": "G:diab", "start_date": "2025-01-01 00:00:00"})
		}
		_, err = load.Run(ctx, db, keys, []load.Input{
			{Table: "patient_dimension", Source: &rowsSource{schema.Named("patient_dimension"), people}},
			{Table: "observation_fact", Source: &rowsSource{schema.Named("observation_fact"), facts}},
		}, load.Options{Agency: "south"})
		must(t, err)
		must(t, w.acc.CreateUser(ctx, cli, access.User{Name: "cora", Email: "cora@example.org"}, "a long enough password 123"))
		must(t, w.acc.Grant(ctx, cli, "cora", "diab", access.DataAgg))
		must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "cora", Automatic, ""))
		cora := w.who("cora")
		mine := cohort(t, wh, cora, "diabetes", []string{"diab"})
		r, err := w.s.SubmitTable(ctx, cora, "diab", TableRequest{Purpose: "by agency", Query: mine, Dimensions: []string{"agency"}})
		must(t, err)
		if got := released(t, w.s, r, "table.csv"); r.Status != Released || !strings.Contains(got, "north,200\n") {
			t.Fatalf("%s (%s), released:\n%s\nwant north's 200 shown", r.Status, r.Comment, got)
		}
	})
}
