package load_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// Every warehouse table has a staging table holding each of its stored columns (a column
// added to a table needs its staging table's column too, in a migration), and a reviewed
// load writes its rows there, not into the warehouse, nor bumps the load generation.
func TestReviewedLoadIsStaged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, tb := range schema.Tables {
			q := `SELECT batch_id, ` + strings.Join(tb.StoreColumns(), ", ") + ` FROM ` + load.StagedName(tb) + ` WHERE 1 = 0`
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				t.Errorf("staging table of %s: %v", tb.Name, err)
				continue
			}
			rows.Close()
		}
		r, err := load.RunBatch(ctx, db, testKey, synthetic.Warehouse{Seed: 9, Patients: 20, Ontology: true}.Inputs(), load.Options{Agency: "north", Review: true})
		must(t, err)
		var facts, staged, loads int64
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM observation_fact`).Scan(&facts))
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM staged_observation_fact WHERE batch_id = $1`, r.Batch).Scan(&staged))
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM warehouse_loads`).Scan(&loads))
		if facts != 0 || staged == 0 || loads != 0 || !r.Pending {
			t.Errorf("reviewed load: %d facts in the warehouse, %d staged, %d load generations, %+v; want all staged, none live", facts, staged, loads, r)
		}
	})
}
