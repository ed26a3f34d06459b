package warehouse_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// Without the warehouse's key, the individual-access report refuses while the warehouse
// holds patients (rather than leave their records out), and answers over an empty one; with
// the key it holds the warehouse's records. The retention kinds include the warehouse's.
func TestGovernanceWithAndWithoutTheWarehouseKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		who := governance.Person{Clients: []governance.ClientRef{{Agency: "north", Client: "C-1"}}}
		if items, err := (warehouse.Sealed{}).About(ctx, db, who); err != nil || len(items) != 0 {
			t.Errorf("no key, empty warehouse: got %d items, %v; want none and no error", len(items), err)
		}
		w, _ := world(t, db)
		_, err := warehouse.Governance(db, governance.Config{}, nil).PersonReport(ctx, root, who)
		if err == nil || !strings.Contains(err.Error(), "its key is not available here") {
			t.Errorf("no key, patients held: got %v, want a refusal naming the missing key", err)
		}
		g := warehouse.Governance(db, governance.Config{}, w)
		if _, err := g.PersonReport(ctx, root, who); err != nil {
			t.Errorf("with the key: %v", err)
		}
		kinds := map[string]bool{}
		for _, k := range g.Kinds {
			kinds[k.Name] = true
		}
		for _, k := range warehouse.RetentionKinds() {
			if !kinds[k.Name] {
				t.Errorf("retention kind %s missing", k.Name)
			}
		}
	})
}
