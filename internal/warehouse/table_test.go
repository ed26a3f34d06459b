package warehouse_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// A computed table is the cohort's exact breakdown: its cells' persons partition the cohort
// the answer counted, each as many as the breakdown says. Roles that do not see exact counts,
// another user's query and min/max are refused.
func TestTableIsTheExactBreakdown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, users := world(t, db)
		agg := users["agg"]
		a, err := w.Run(ctx, agg, "diab", querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}})
		must(t, err)
		tb, err := w.Table(ctx, agg, "diab", a.QueryID, []string{"sex", "age"}, "")
		must(t, err)
		total := int64(0)
		bySex := map[string]int64{}
		for _, c := range tb.Cells {
			n := int64(c.Persons.GetCardinality())
			total += n
			bySex[c.Key[0]] += n
			var shares int64
			for _, v := range c.Agencies {
				shares += v
			}
			if shares != n || c.Agencies["south"] != 0 {
				t.Fatalf("cell %v: agencies %v for %d persons (south must never appear in north's project)", c.Key, c.Agencies, n)
			}
		}
		if total != a.Count || len(tb.Cells) < 2 {
			t.Fatalf("table of %d cells sums to %d, the cohort counts %d", len(tb.Cells), total, a.Count)
		}
		for sex, n := range a.Breakdowns["sex"] {
			if bySex[sex] != n {
				t.Fatalf("sex %s: table %d, breakdown %d", sex, bySex[sex], n)
			}
		}
		if tb.QueryID != a.QueryID || len(tb.Definition) != 64 || tb.By != "agg" {
			t.Fatalf("provenance %+v", tb)
		}
		if _, err := w.Table(ctx, users["obfsc"], "diab", a.QueryID, []string{"sex"}, ""); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("obfuscated role: got %v, want forbidden", err)
		}
		if _, err := w.Table(ctx, users["lds"], "diab", a.QueryID, []string{"sex"}, ""); !errors.Is(err, derrors.NotFound) {
			t.Fatalf("another user's query: got %v, want not found", err)
		}
		if _, err := w.Table(ctx, agg, "diab", a.QueryID, []string{"sex"}, "min"); !errors.Is(err, derrors.Invalid) {
			t.Fatalf("min: got %v, want invalid", err)
		}
	})
}
