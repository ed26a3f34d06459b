package warehouse_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
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

// A concept dimension's cells are, level by level, the cohort's persons the oracle finds with
// a fact under the level (a folder, and a leaf's code given instead of its path), and "none of
// these" the rest: cells overlap and keep their true persons. A count of events is, per
// person, the oracle's count of the concept's facts without a modifier. An agency dimension is
// refused to an evaluation-group user (audited), and an unknown code is an error naming it.
func TestTableConceptLevelsAndEventsAreExact(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, users := world(t, db)
		agg := users["agg"]
		o := newOracle(t, north)
		a, err := w.Run(ctx, agg, "diab", querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}})
		must(t, err)
		cohort := o.cohort(querydef.Query{Panels: []querydef.Panel{panel(item(chapE))}})
		leaf := synthetic.DiagnosisPath(0)
		var leafCode string
		for _, c := range o.concepts {
			if c[0].(string) == leaf {
				leafCode = c[1].(string)
			}
		}
		if leafCode == "" {
			t.Fatalf("no code for %s", leaf)
		}
		levels := []string{e11, leafCode}
		tb, err := w.TableOf(ctx, agg, "diab", a.QueryID, []string{"concept"}, warehouse.TableSpec{Levels: levels})
		must(t, err)
		want := map[string]map[int64]bool{}
		placed := map[int64]bool{}
		for _, l := range levels {
			key := l
			if l == leafCode {
				key = leaf
			}
			codes := under(o.concepts, key)
			want[l] = map[int64]bool{}
			for _, f := range o.facts {
				if n := f[1].(int64); codes[f[2].(string)] && cohort[n] {
					want[l][n], placed[n] = true, true
				}
			}
		}
		want[warehouse.NoneOfThese] = map[int64]bool{}
		for n := range cohort {
			if !placed[n] {
				want[warehouse.NoneOfThese][n] = true
			}
		}
		sum := 0
		for _, c := range tb.Cells {
			w := want[c.Key[0]]
			if int(c.Persons.GetCardinality()) != len(w) {
				t.Fatalf("level %s: %d persons, the oracle %d", c.Key[0], c.Persons.GetCardinality(), len(w))
			}
			for _, n := range c.Persons.ToArray() {
				if !w[int64(n)] {
					t.Fatalf("level %s holds patient %d, the oracle does not", c.Key[0], n)
				}
			}
			sum += len(w)
		}
		if len(tb.Cells) != 3 || tb.Overlapping == "" || tb.Dimensions[0] != "concept"+warehouse.OverlapMark || sum <= int(a.Count) {
			t.Fatalf("concept table: %d cells, overlapping %q, dimensions %v, cells sum %d for %d persons; want 3 overlapping cells that sum to more than the cohort",
				len(tb.Cells), tb.Overlapping, tb.Dimensions, sum, a.Count)
		}

		ev, err := w.TableOf(ctx, agg, "diab", a.QueryID, []string{"sex"}, warehouse.TableSpec{Statistic: "events", Concept: e11})
		must(t, err)
		codes := under(o.concepts, e11)
		per := map[int64]float64{}
		for _, f := range o.facts {
			if codes[f[2].(string)] && f[5] == "@" {
				per[f[1].(int64)]++
			}
		}
		for _, c := range ev.Cells {
			total := 0.0
			for i, n := range c.Persons.ToArray() {
				if !cohort[int64(n)] || per[int64(n)] == 0 || c.Values[i] != per[int64(n)] {
					t.Fatalf("events cell %v: patient %d with %v events, the oracle %v (in the cohort: %v)", c.Key, n, c.Values[i], per[int64(n)], cohort[int64(n)])
				}
				total += per[int64(n)]
			}
			if c.Value != total || ev.Statistic != warehouse.StatisticEvents {
				t.Fatalf("events cell %v: %v, the oracle %v", c.Key, c.Value, total)
			}
		}

		if _, err := w.TableOf(ctx, agg, "diab", a.QueryID, []string{"agency"}, warehouse.TableSpec{}); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("agency dimension at evaluation-group level: got %v, want forbidden", err)
		}
		var refused int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.table_refused' AND actor = 'agg'`).Scan(&refused))
		if refused != 1 {
			t.Fatalf("the refusal is audited %d times, want once", refused)
		}
		if _, err := w.TableOf(ctx, agg, "diab", a.QueryID, []string{"concept"}, warehouse.TableSpec{Levels: []string{"NO:SUCH"}}); !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "NO:SUCH") {
			t.Fatalf("an unknown code: got %v, want invalid naming it", err)
		}
	})
}
