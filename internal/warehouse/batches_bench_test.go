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
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// BenchmarkReviewedLoad prints what review costs: a load of 1,000 patients (about 100,000
// facts) staged, reviewed and approved, against the same load straight into the warehouse in
// the same run (ratio reviewed/direct).
func BenchmarkReviewedLoad(b *testing.B) {
	ctx := context.Background()
	g := synthetic.Warehouse{Seed: 41, Patients: 1000, Ontology: true}
	var direct, reviewed time.Duration
	for b.Loop() {
		db := storetest.Open(b, store.SQLite)
		start := time.Now()
		_, err := load.Run(ctx, db, testKey, g.Inputs(), load.Options{Agency: "north"})
		must(b, err)
		direct += time.Since(start)

		db = storetest.Open(b, store.SQLite)
		s := access.New(db, access.Config{}, nil)
		must(b, s.CreateRegion(ctx, root, access.Region{Code: "west", Name: "West"}))
		must(b, s.CreateAgency(ctx, root, access.Agency{Code: "north", Name: "North", Region: "west"}))
		must(b, s.CreateProject(ctx, root, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}))
		must(b, s.CreateUser(ctx, root, access.User{Name: "vera", Agency: "north"}, "correct horse battery"))
		must(b, s.Grant(ctx, root, "vera", "diab", access.DataValidator))
		vera, err := s.Principal(ctx, "vera", "test")
		must(b, err)
		w := warehouse.New(db, s, testKey)
		start = time.Now()
		r, err := load.RunBatch(ctx, db, testKey, g.Inputs(), load.Options{Agency: "north", Review: true})
		must(b, err)
		_, err = w.ReviewBatch(ctx, vera, "diab", r.Batch, 10)
		must(b, err)
		_, err = w.DecideBatch(ctx, vera, "diab", r.Batch, true, "benchmark approval")
		must(b, err)
		reviewed += time.Since(start)
	}
	b.ReportMetric(float64(direct.Milliseconds())/float64(b.N), "direct-ms/op")
	b.ReportMetric(float64(reviewed.Milliseconds())/float64(b.N), "reviewed-ms/op")
	b.ReportMetric(float64(reviewed)/float64(direct), "reviewed/direct")
}
