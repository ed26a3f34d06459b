package warehouse

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
)

// TableSpec asks for a statistic of a numeric value in a computed table.
type TableSpec struct {
	Statistic string   // sum, mean, median, sd or quantile; min and max if the settings allow them
	Concept   string   // the value's concept code (observation_fact.concept_cd)
	Quantile  float64  // p of a quantile, in (0, 1)
	Levels    []string // the concept dimension's levels: concept codes or ontology paths
}

// LatestValue says which of a person's values a value table takes.
const LatestValue = "each person's latest exact value (latest start_date, then encounter, then instance; " +
	"numeric facts without a modifier whose qualifier is E)"

// valueStatistics are the statistics TableValue computes, by the names it accepts.
var valueStatistics = map[string]string{"sum": "sum", "mean": "mean", "average": "mean", "median": "median",
	"sd": "sd", "stddev": "sd", "standard deviation": "sd", "quantile": "quantile", "percentile": "quantile",
	"min": "min", "minimum": "min", "max": "max", "maximum": "max"}

// TableValue computes, by the dimensions of p's stored query id (as Table does, through the
// gate), a statistic of each person's latest exact value of spec.Concept: a cell's persons
// are those of the cohort and the cell with such a value (cells without are left out), its
// Values their values and Value the statistic. The standard deviation is the sample's (n−1);
// quantiles (the median is p = 0.5) interpolate linearly between the closest ranks
// (x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1]−x[⌊h⌋]), h = (n−1)p). min and max are refused unless the
// settings' TableExtremes allows them.
func (w *Warehouse) TableValue(ctx context.Context, p access.Principal, projectCode, id string, dims []string, spec TableSpec) (Table, error) {
	stat, ok := valueStatistics[strings.ToLower(strings.TrimSpace(spec.Statistic))]
	if !ok {
		return Table{}, fmt.Errorf("%w: statistic %q (want sum, mean, median, sd or quantile)", derrors.Invalid, spec.Statistic)
	}
	if stat == "min" || stat == "max" {
		st, err := w.CurrentSettings(ctx)
		if err != nil {
			return Table{}, err
		}
		if !st.TableExtremes {
			return Table{}, fmt.Errorf("%w: statistic %s is refused: it shows one person's value (the settings' table_extremes allows it)", derrors.Invalid, stat)
		}
	}
	if stat == "quantile" && !(spec.Quantile > 0 && spec.Quantile < 1) {
		return Table{}, fmt.Errorf("%w: a quantile needs p in (0, 1)", derrors.Invalid)
	}
	code := strings.TrimSpace(spec.Concept)
	if code == "" {
		return Table{}, fmt.Errorf("%w: statistic %s needs the concept code of a numeric value", derrors.Invalid, stat)
	}
	return w.table(ctx, p, projectCode, id, dims, spec.Levels, func(ctx context.Context, t *Table, _ *cohort.Scope, agency string, recount func(*TableCell)) error {
		t.Statistic, t.Concept, t.Value = stat, code, LatestValue
		if stat == "quantile" {
			t.Quantile = spec.Quantile
		}
		values, err := w.latestValues(ctx, code, agency)
		if err != nil {
			return err
		}
		narrow(t, values, func(xs []float64) float64 { return statistic(stat, xs, spec.Quantile) }, recount)
		return nil
	})
}

// narrow keeps in each cell of t the persons with a value in values, their values beside
// them (in patient-number order), gives the cell stat of those values and recounts its
// agencies. A cell left without persons stays, a zero cell (its value 0).
func narrow(t *Table, values map[int64]float64, stat func([]float64) float64, recount func(*TableCell)) {
	for i := range t.Cells {
		c := &t.Cells[i]
		in := roaring.New()
		var xs []float64
		it := c.Persons.Iterator()
		for it.HasNext() {
			n := it.Next()
			if v, ok := values[int64(n)]; ok {
				in.Add(n)
				xs = append(xs, v)
			}
		}
		c.Persons, c.Values, c.Value = in, xs, 0
		if len(xs) > 0 {
			c.Value = stat(xs)
		}
		recount(c)
	}
}

// EventsOfVisits is what an events table without a concept counts.
const EventsOfVisits = "each person's visits"

// EventsOfConcept is what an events table of a concept counts.
const EventsOfConcept = "each person's observations of the concept and every concept under it (an observation's modifiers are not more events)"

// TableEvents computes, by the dimensions of p's stored query id (as Table does, through
// the gate), the count of events of each cell's persons: the facts of spec.Concept (a code
// or an ontology path, with every concept under it), or, without a concept, their visits. A
// cell's persons are those of the cohort and the cell with at least one event (a cell
// without is a zero cell): they are what the persons column shows, the threshold counts and
// the ledger records. Values are each person's count of events, so dominance and p % judge
// one person's share of the cell's events.
func (w *Warehouse) TableEvents(ctx context.Context, p access.Principal, projectCode, id string, dims []string, spec TableSpec) (Table, error) {
	code := strings.TrimSpace(spec.Concept)
	return w.table(ctx, p, projectCode, id, dims, spec.Levels, func(ctx context.Context, t *Table, s *cohort.Scope, agency string, recount func(*TableCell)) error {
		t.Statistic, t.Concept, t.Value = StatisticEvents, code, EventsOfVisits
		var counts map[int64]float64
		var err error
		if code == "" {
			counts, err = s.VisitsPerPatient(ctx)
		} else {
			t.Value = EventsOfConcept
			counts, err = w.eventCounts(ctx, agency, code)
		}
		if err != nil {
			return err
		}
		// a person with no event is not in the cell
		maps.DeleteFunc(counts, func(_ int64, v float64) bool { return v <= 0 })
		narrow(t, counts, func(xs []float64) float64 { return statistic("sum", xs, 0) }, recount)
		return nil
	})
}

// eventCounts are the persons' numbers of facts of a concept code or path (with every
// concept under it; of agency's facts when agency is set), by patient number.
func (w *Warehouse) eventCounts(ctx context.Context, agency, concept string) (map[int64]float64, error) {
	paths, err := w.levelPaths(ctx, agency, concept)
	if err != nil {
		return nil, err
	}
	codes := map[string]bool{}
	for _, path := range paths {
		cs, err := store.Strings(ctx, w.DB, `SELECT DISTINCT concept_cd FROM concept_dimension WHERE substr(concept_path, 1, $1) = $2 AND concept_cd <> ''
			AND (agency = '' OR $3 = '' OR agency = $3)`, len(path), path, agency)
		if err != nil {
			return nil, fmt.Errorf("concept_dimension: %w", err)
		}
		for _, c := range cs {
			codes[c] = true
		}
	}
	out := map[int64]float64{}
	list := slices.Sorted(maps.Keys(codes))
	for len(list) > 0 {
		part := list[:min(len(list), 500)]
		list = list[len(part):]
		args := []any{agency}
		marks := make([]string, len(part))
		for i, c := range part {
			args = append(args, c)
			marks[i] = fmt.Sprintf("$%d", i+2)
		}
		rows, err := w.DB.QueryContext(ctx, `SELECT patient_num, COUNT(*) FROM observation_fact WHERE modifier_cd = '@' AND ($1 = '' OR agency = $1)
			AND concept_cd IN (`+strings.Join(marks, ", ")+`) GROUP BY patient_num`, args...)
		if err != nil {
			return nil, fmt.Errorf("observation_fact: %w", err)
		}
		for rows.Next() {
			var n, k int64
			if err := rows.Scan(&n, &k); err != nil {
				rows.Close()
				return nil, err
			}
			out[n] += float64(k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// latestValues are the persons' latest exact values of concept code (of agency's facts when
// agency is set), by patient number.
func (w *Warehouse) latestValues(ctx context.Context, code, agency string) (map[int64]float64, error) {
	q := `SELECT patient_num, nval_num FROM observation_fact
		 WHERE concept_cd = $1 AND modifier_cd = '@' AND valtype_cd = 'N' AND tval_char = 'E' AND nval_num IS NOT NULL`
	args := []any{code}
	if agency != "" {
		q += ` AND agency = $2`
		args = append(args, agency)
	}
	q += ` ORDER BY patient_num, start_date DESC, encounter_num DESC, instance_num DESC`
	rows, err := w.DB.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]float64{}
	for rows.Next() {
		var n int64
		var v float64
		if err := rows.Scan(&n, &v); err != nil {
			return nil, err
		}
		if _, ok := out[n]; !ok {
			out[n] = v
		}
	}
	return out, rows.Err()
}

// statistic computes stat over xs (not empty); p is a quantile's.
func statistic(stat string, xs []float64, p float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	n := float64(len(xs))
	quantile := func(p float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		h := p * (n - 1)
		lo := int(math.Floor(h))
		if lo+1 >= len(s) {
			return s[lo]
		}
		return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
	}
	switch stat {
	case "sum":
		return sum
	case "mean":
		return sum / n
	case "median":
		return quantile(0.5)
	case "quantile":
		return quantile(p)
	case "min":
		return slices.Min(xs)
	case "max":
		return slices.Max(xs)
	}
	// sd: the sample's; one person's is not defined
	if len(xs) < 2 {
		return math.NaN()
	}
	m, ss := sum/n, 0.0
	for _, x := range xs {
		ss += (x - m) * (x - m)
	}
	return math.Sqrt(ss / (n - 1))
}
