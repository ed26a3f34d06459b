package warehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// BenchmarkTableDimensions prints what the new dimensions cost on a synthetic warehouse of
// 2,000 patients (about 200,000 facts), against a table by sex in the same run (caches warm):
// 20 concept levels × sex, visit type × sex, and the count of a chapter's events by sex.
func BenchmarkTableDimensions(b *testing.B) {
	ctx := context.Background()
	db := storetest.Open(b, store.SQLite)
	s := access.New(db, access.Config{}, nil)
	must(b, s.CreateRegion(ctx, root, access.Region{Code: "west", Name: "West"}))
	must(b, s.CreateAgency(ctx, root, access.Agency{Code: "north", Name: "North", Region: "west"}))
	must(b, s.CreateProject(ctx, root, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}))
	must(b, s.CreateUser(ctx, root, access.User{Name: "agg", Agency: "north"}, "correct horse battery"))
	must(b, s.Grant(ctx, root, "agg", "diab", access.DataAgg))
	agg, err := s.Principal(ctx, "agg", "test")
	must(b, err)
	_, err = load.Run(ctx, db, testKey, synthetic.Warehouse{Seed: 7, Patients: 2000, Ontology: true}.Inputs(), load.Options{Agency: "north"})
	must(b, err)
	w := warehouse.New(db, s, testKey)
	a, err := w.Run(ctx, agg, "diab", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\i2b2\Diagnoses\`}}}}})
	must(b, err)
	var levels []string
	for i := range 20 {
		levels = append(levels, synthetic.DiagnosisPath(i))
	}
	kinds := []struct {
		name string
		dims []string
		spec warehouse.TableSpec
	}{
		{"sex", []string{"sex"}, warehouse.TableSpec{}},
		{"concept20xsex", []string{"concept", "sex"}, warehouse.TableSpec{Levels: levels}},
		{"visitxsex", []string{"visit_type", "sex"}, warehouse.TableSpec{}},
		{"eventsxsex", []string{"sex"}, warehouse.TableSpec{Statistic: "events", Concept: chapE}},
	}
	took := make([]time.Duration, len(kinds))
	for _, k := range kinds { // warm the scope's caches
		_, err := w.TableOf(ctx, agg, "diab", a.QueryID, append([]string(nil), k.dims...), k.spec)
		must(b, err)
	}
	for b.Loop() {
		for i, k := range kinds {
			start := time.Now()
			_, err := w.TableOf(ctx, agg, "diab", a.QueryID, append([]string(nil), k.dims...), k.spec)
			must(b, err)
			took[i] += time.Since(start)
		}
	}
	for i, k := range kinds {
		b.ReportMetric(float64(took[i].Microseconds())/float64(b.N)/1000, k.name+"-ms/op")
		if i > 0 {
			b.ReportMetric(float64(took[i])/float64(took[0]), k.name+"/sex")
		}
	}
}
