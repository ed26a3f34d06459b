package warehouse

import (
	"context"
	"fmt"

	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// Governance is the governance service over db whose retention rules and individual-access
// reports include the warehouse's records. Without the warehouse (w nil: no key) a report
// fails when the warehouse holds patients, rather than leave them out.
func Governance(db *store.DB, cfg governance.Config, w *Warehouse) *governance.Service {
	g := governance.New(db, cfg)
	g.Kinds = append(g.Kinds, RetentionKinds()...)
	if w != nil {
		g.Sources = append(g.Sources, Records{W: w})
	} else {
		g.Sources = append(g.Sources, Sealed{})
	}
	return g
}

// Sealed stands for a warehouse whose key this process does not have: a report about a
// person fails while the warehouse holds patients.
type Sealed struct{}

// Name names the source in the report.
func (Sealed) Name() string { return "research warehouse" }

// About refuses when the warehouse holds patients and the person has client identifiers.
func (Sealed) About(ctx context.Context, db *store.DB, who governance.Person) ([]governance.Item, error) {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM patient_dimension`).Scan(&n); err != nil || n == 0 || len(who.Clients) == 0 {
		return nil, err
	}
	return nil, fmt.Errorf("the warehouse holds patient records but its key is not available here: set %s or STEWARD_WAREHOUSE_KEY_FILE", seal.KeyEnv)
}
