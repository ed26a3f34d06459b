package warehouse_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
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

// A computed table of a numeric value gives, per cell, the statistic of each person's latest
// exact value of the concept (latest start_date, then encounter, then instance; i2b2's E
// qualifier only): the numbers equal a hand computation over the fixture's generated facts.
// min/max are refused unless the settings allow them; a quantile needs p in (0,1).
func TestTableValueStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, users := world(t, db)
		agg := users["agg"]
		a, err := w.Run(ctx, agg, "diab", querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}})
		must(t, err)
		counts, err := w.Table(ctx, agg, "diab", a.QueryID, []string{"sex"}, "")
		must(t, err)
		// the oracle: each north person's latest exact glucose value, from the generated facts
		const code = "LOINC:2345-7"
		type at struct {
			start     string
			enc, inst int64
			val       float64
			set       bool
		}
		latest := map[int64]at{}
		for _, f := range newOracle(t, north).facts {
			if f[2] != code || f[5] != "@" || f[7] != "N" || f[8] != "E" || f[9] == nil {
				continue
			}
			c := at{f[4].(string), f[0].(int64), f[6].(int64), f[9].(float64), true}
			o := latest[f[1].(int64)]
			if !o.set || c.start > o.start || c.start == o.start && (c.enc > o.enc || c.enc == o.enc && c.inst > o.inst) {
				latest[f[1].(int64)] = c
			}
		}
		hand := map[string][]float64{}
		for _, c := range counts.Cells {
			it := c.Persons.Iterator()
			for it.HasNext() {
				if v, ok := latest[int64(it.Next())]; ok {
					hand[c.Key[0]] = append(hand[c.Key[0]], v.val)
				}
			}
		}
		quant := func(xs []float64, p float64) float64 {
			s := slices.Clone(xs)
			slices.Sort(s)
			h := p * float64(len(s)-1)
			lo := int(math.Floor(h))
			if lo+1 >= len(s) {
				return s[lo]
			}
			return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
		}
		want := map[string]func([]float64) float64{
			"sum": func(xs []float64) float64 {
				s := 0.0
				for _, x := range xs {
					s += x
				}
				return s
			},
			"mean": func(xs []float64) float64 {
				s := 0.0
				for _, x := range xs {
					s += x
				}
				return s / float64(len(xs))
			},
			"median": func(xs []float64) float64 { return quant(xs, 0.5) },
			"sd": func(xs []float64) float64 {
				m := 0.0
				for _, x := range xs {
					m += x
				}
				m /= float64(len(xs))
				ss := 0.0
				for _, x := range xs {
					ss += (x - m) * (x - m)
				}
				return math.Sqrt(ss / float64(len(xs)-1))
			},
			"quantile": func(xs []float64) float64 { return quant(xs, 0.9) },
		}
		for stat, f := range want {
			tb, err := w.TableValue(ctx, agg, "diab", a.QueryID, []string{"sex"}, warehouse.TableSpec{Statistic: stat, Concept: code, Quantile: 0.9})
			must(t, err)
			if len(tb.Cells) != len(hand) || tb.Concept != code {
				t.Fatalf("%s: %d cells of %q, the hand computation has %d", stat, len(tb.Cells), tb.Concept, len(hand))
			}
			for _, c := range tb.Cells {
				xs := hand[c.Key[0]]
				if int(c.Persons.GetCardinality()) != len(xs) || len(c.Values) != len(xs) {
					t.Fatalf("%s cell %v: %d persons, %d values; by hand %d", stat, c.Key, c.Persons.GetCardinality(), len(c.Values), len(xs))
				}
				if got, exp := c.Value, f(xs); math.Abs(got-exp) > 1e-9*math.Max(1, math.Abs(exp)) {
					t.Fatalf("%s cell %v: %v, by hand %v", stat, c.Key, got, exp)
				}
				var bySum float64
				for a, v := range c.Sums {
					if a != "north" {
						t.Fatalf("%s cell %v: values of agency %s", stat, c.Key, a)
					}
					bySum += v
				}
				if exp := want["sum"](xs); math.Abs(bySum-exp) > 1e-9*math.Max(1, math.Abs(exp)) {
					t.Fatalf("%s cell %v: agencies' sums %v, by hand %v", stat, c.Key, bySum, exp)
				}
			}
		}
		for _, bad := range []warehouse.TableSpec{{Statistic: "max", Concept: code}, {Statistic: "min", Concept: code},
			{Statistic: "quantile", Concept: code, Quantile: 1}, {Statistic: "quantile", Concept: code}, {Statistic: "mean"}, {Statistic: "mode", Concept: code}} {
			if _, err := w.TableValue(ctx, agg, "diab", a.QueryID, []string{"sex"}, bad); !errors.Is(err, derrors.Invalid) {
				t.Fatalf("%+v: got %v, want invalid", bad, err)
			}
		}
		st := w.Settings
		st.TableExtremes = true
		w.Settings = st
		tb, err := w.TableValue(ctx, agg, "diab", a.QueryID, []string{"sex"}, warehouse.TableSpec{Statistic: "max", Concept: code})
		must(t, err)
		for _, c := range tb.Cells {
			if c.Value != slices.Max(hand[c.Key[0]]) {
				t.Fatalf("max allowed: cell %v %v, by hand %v", c.Key, c.Value, slices.Max(hand[c.Key[0]]))
			}
		}
	})
}
