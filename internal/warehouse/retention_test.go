package warehouse_test

import (
	"context"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// Stored queries of a project that ended are past a retention rule and removed with their
// instances and results; those of a running project stay.
func TestRetentionOfEndedProjectsQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, users := world(t, db)
		must(t, w.Access.CreateProject(ctx, root, access.Project{Code: "later", Name: "Still running", Agency: "north"}))
		must(t, w.Access.Grant(ctx, root, "agg", "later", access.DataAgg))
		agg, err := w.Access.Principal(ctx, users["agg"].User, "test")
		must(t, err)
		q := querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}}
		for _, project := range []string{"diab", "diab", "later"} {
			_, err := w.Run(ctx, agg, project, q)
			must(t, err)
		}
		gov := governance.New(db, governance.Config{})
		gov.Kinds = append(gov.Kinds, warehouse.RetentionKinds()...)
		must(t, gov.SetProjectEnd(ctx, root, "diab", time.Now().AddDate(0, 0, -100)))
		must(t, gov.SetRule(ctx, root, governance.Rule{Kind: "project_queries", Days: 90, Basis: "results kept 90 days after the project"}))
		removed, err := gov.RemoveExpired(ctx, root)
		must(t, err)
		for _, d := range removed {
			if d.Name == "project_queries" && d.Past != 2 {
				t.Errorf("project_queries removed: %d, want diab's 2", d.Past)
			}
		}
		for table, want := range map[string]int{"qt_query_master": 1, "qt_query_instance": 1, "qt_query_result_instance": 1} {
			var n int
			must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n))
			if n != want {
				t.Errorf("%s: %d rows left, want %d (the running project's)", table, n, want)
			}
		}
	})
}
