package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// TableCell is one cell of a table Steward computes: its dimension values, the persons in
// it (their patient numbers, never shown) and how many of them each agency contributes.
type TableCell struct {
	Key      []string         // the dimension values, in Table.Dimensions order
	Persons  *roaring.Bitmap  // the cell's persons
	Agencies map[string]int64 // persons per agency ("site" for rows loaded without one)
	// Of a numeric value's table (TableValue): the statistic over the cell's persons, and each
	// person's value, in patient-number order (for dominance and p %; never shown).
	Value  float64            `json:"-"`
	Values []float64          `json:"-"`
	Sums   map[string]float64 `json:"-"` // the values' sum per agency, as Agencies

}

// Table is a count of persons of a stored cohort query by one or two demographic
// dimensions, computed from the warehouse through the governance gate, with its provenance.
type Table struct {
	Project    string   `json:"project"`
	QueryID    string   `json:"query_id"`
	Definition string   `json:"definition_sha256"` // digest of the query's canonical definition
	Dimensions []string `json:"dimensions"`
	Statistic  string   `json:"statistic"`                // "count of persons", or TableValue's
	Concept    string   `json:"concept,omitempty"`        // the numeric value's concept code
	Quantile   float64  `json:"quantile,omitempty"`       // p of a quantile
	Value      string   `json:"value,omitempty"`          // which of a person's values is taken, or which events are counted
	Levels     []string `json:"concept_levels,omitempty"` // the concept dimension's levels, as asked
	// Overlapping says, when a dimension's levels overlap (concepts, visits: a person is in
	// every level they have), that the cells' totals are not sums of cells.
	Overlapping string     `json:"overlapping,omitempty"`
	By          string     `json:"by"`
	At          time.Time  `json:"at"`
	Governance  *Admission `json:"governance,omitempty"`
	// StructuralZeros are the cells (dimension values, in order) the analyst declared
	// structural zeros, StructuralReason why: set by the airlock when the table is
	// submitted, so that the provenance keeps the declaration after review.
	StructuralZeros  [][]string  `json:"structural_zeros,omitempty"`
	StructuralReason string      `json:"structural_reason,omitempty"`
	Cells            []TableCell `json:"-"`
}

// StatisticPersons is the count of persons; StatisticEvents (TableEvents) the count of events.
const (
	StatisticPersons = "count of persons"
	StatisticEvents  = "events"
)

// Table dimensions beyond the demographic ones (Dimensions). Concept and visit levels
// overlap: a person is in every level they have, and in the "none" level when in none.
const (
	DimConcept       = "concept"        // the levels are the concept codes or paths TableSpec.Levels names
	DimVisitType     = "visit_type"     // the visit's in/out code (inpatient, outpatient, emergency…)
	DimVisitLocation = "visit_location" // the visit's location code
	DimAgency        = "agency"         // the agency whose patient the person is ("site" for the site's own rows)
	DimRegion        = "region"         // the region of that agency
	NoneOfThese      = "none of these"  // a concept dimension's level of persons with none of its concepts
	NoVisit          = "no visit"       // a visit dimension's level of persons without visits
	OverlapMark      = " (overlapping levels)"
)

// TableDimensions is every dimension a computed table takes.
var TableDimensions = append(slices.Clone(Dimensions), DimConcept, DimVisitType, DimVisitLocation, DimAgency, DimRegion)

// OverlapNote is what a table with overlapping levels says of itself.
const OverlapNote = "the levels of a dimension marked (overlapping levels) overlap: a person is in every level they have, so totals are not sums of cells"

// Table computes a count of persons of p's stored query id in the project by the
// dimensions (one or two of Dimensions), from exact counts: p's role must see exact counts
// and breakdowns (DATA_AGG and up). The cohort passes the governance gate as a breakdown
// does (agencies left out and withdrawn clients taken out). Every cell keeps its persons.
// The read is audited with ids and counts of cells, never a value.
func (w *Warehouse) Table(ctx context.Context, p access.Principal, projectCode, id string, dims []string, statistic string) (Table, error) {
	return w.TableOf(ctx, p, projectCode, id, dims, TableSpec{Statistic: statistic})
}

// TableOf computes the table spec asks for by the dimensions (one or two of TableDimensions):
// the count of persons (the default), the count of events (TableEvents) or a statistic of a
// numeric value (TableValue).
func (w *Warehouse) TableOf(ctx context.Context, p access.Principal, projectCode, id string, dims []string, spec TableSpec) (Table, error) {
	switch strings.ToLower(strings.TrimSpace(spec.Statistic)) {
	case "", "count", "persons", StatisticPersons:
		if strings.TrimSpace(spec.Concept) != "" {
			return Table{}, fmt.Errorf("%w: concept %q: a count of persons takes no concept (name a statistic: sum, mean, median, sd, quantile or events)", derrors.Invalid, spec.Concept)
		}
		return w.table(ctx, p, projectCode, id, dims, spec.Levels, nil)
	case "events", "count of events":
		return w.TableEvents(ctx, p, projectCode, id, dims, spec)
	case "min", "max", "minimum", "maximum":
		if strings.TrimSpace(spec.Concept) == "" {
			return Table{}, fmt.Errorf("%w: statistic %s is refused: it shows one person's value", derrors.Invalid, spec.Statistic)
		}
	}
	return w.TableValue(ctx, p, projectCode, id, dims, spec)
}

// table computes the cells of a table of persons; value, when set, then gives each cell
// its value statistic (it may drop or narrow cells) before the read is audited. levels are
// the concept dimension's.
func (w *Warehouse) table(ctx context.Context, p access.Principal, projectCode, id string, dims, levels []string,
	value func(ctx context.Context, t *Table, s *cohort.Scope, agency string, recount func(*TableCell)) error) (Table, error) {
	x, agency, err := w.project(ctx, p, projectCode)
	if err != nil {
		return Table{}, err
	}
	if err := access.Check(p, access.ExactCount, x); err != nil {
		return Table{}, err
	}
	if len(dims) < 1 || len(dims) > 2 {
		return Table{}, fmt.Errorf("%w: a computed table has one or two dimensions", derrors.Invalid)
	}
	for i, d := range dims {
		dims[i] = strings.ToLower(strings.TrimSpace(d))
		if !slices.Contains(TableDimensions, dims[i]) {
			return Table{}, fmt.Errorf("%w: dimension %q (want one of %s)", derrors.Invalid, d, strings.Join(TableDimensions, ", "))
		}
	}
	if len(dims) == 2 && dims[0] == dims[1] {
		return Table{}, fmt.Errorf("%w: dimension %s named twice", derrors.Invalid, dims[0])
	}
	if slices.Contains(dims, DimConcept) != (len(levels) > 0) {
		return Table{}, fmt.Errorf("%w: the concept dimension needs its levels (concepts: 1 to %d concept codes or paths), and levels need the concept dimension", derrors.Invalid, maxLevels)
	}
	if len(levels) > maxLevels {
		return Table{}, fmt.Errorf("%w: concepts: at most %d levels", derrors.Invalid, maxLevels)
	}
	levels = slices.Clone(levels)
	for i, l := range levels {
		levels[i] = strings.TrimSpace(l)
		if levels[i] == "" || levels[i] == NoneOfThese || slices.Contains(levels[:i], levels[i]) {
			return Table{}, fmt.Errorf("%w: concepts: level %d (%q) is empty, reserved or named twice", derrors.Invalid, i+1, l)
		}
	}
	for _, d := range dims {
		if d != DimAgency && d != DimRegion {
			continue
		}
		// Seed 002: an associate agency's personnel (evaluation group level) see their own
		// agency's data only; agency and region breakdowns are for a district (its region's
		// agencies, in aggregates) or CORI's own staff. Whether a cell of one agency may
		// leave is the contributor rule's, on the true agencies of its persons.
		if own, _ := p.DataScope(); own != "" {
			return Table{}, errors.Join(fmt.Errorf("%w: dimension %s: your access level (evaluation group: your agency's data only) does not see agency or region breakdowns; a district or CORI's staff do", derrors.Forbidden, d),
				w.Access.Record(ctx, p, "warehouse.table_refused", "project/"+x.Code+"/query/"+id, map[string]string{"dimension": d, "reason": "agency breakdown beyond the access level"}))
		}
	}
	q, _, err := w.stored(ctx, p, x, id)
	if err != nil {
		return Table{}, err
	}
	if err := q.Normalize(); err != nil {
		return Table{}, err
	}
	digest := sha256.Sum256([]byte(q.Canonical()))
	t := Table{Project: x.Code, QueryID: id, Definition: hex.EncodeToString(digest[:]), Dimensions: slices.Clone(dims),
		Statistic: StatisticPersons, Levels: levels, By: p.User, At: time.Now().UTC().Truncate(time.Microsecond)}

	err = func() error {
		s, err := w.cohorts.Scope(ctx, agency)
		if err != nil {
			return err
		}
		gen := s.Generation()
		adm, err := w.admit(ctx, p, x, gen, agency, AnalysisCount)
		if err != nil {
			return err
		}
		t.Governance = adm.shown()
		patients, err := s.Patients(ctx, q, w.resolver(p, x))
		if err != nil {
			return err
		}
		patients = adm.apply(patients)
		all, err := s.DimensionPatients(ctx)
		if err != nil {
			return err
		}
		gates := w.cached(gen)
		agencies, err := gates.agencyList(ctx, w.DB)
		if err != nil {
			return err
		}
		of := map[string]*roaring.Bitmap{}
		for _, a := range agencies {
			if of[a], err = gates.agencyPatients(ctx, w.DB, a); err != nil {
				return err
			}
		}
		// each dimension's levels and their cells within the cohort. The levels are fixed by
		// the warehouse, never by the cohort (a list taken from the cohort would leave out the
		// very levels it has no one of, and their absence reads as a zero): a demographic
		// dimension's every value some patient of the role's data has (its "unknown" when
		// some patient has none); the analyst's concept levels and "none of these"; a visit
		// dimension's every value of the role's data's visits, and "no visit" when some of
		// its patients have none; every agency (or region), and "site" when some of its
		// patients are of none. The role's data is what the gate admits for the project (a
		// district's other agencies, say, are not in it). A level the cohort has no one of is
		// a zero cell.
		everyone := roaring.New()
		for _, b := range all["sex"] {
			everyone.Or(b)
		}
		everyone = adm.apply(everyone)
		per := make([]map[string]*roaring.Bitmap, len(dims))
		for i, d := range dims {
			per[i] = map[string]*roaring.Bitmap{}
			var byLevel map[string]*roaring.Bitmap
			restName := "unknown"
			switch d {
			case DimConcept:
				restName = NoneOfThese
				byLevel = map[string]*roaring.Bitmap{}
				for _, l := range levels {
					if byLevel[l], err = w.levelPatients(ctx, p, x, s, agency, l); err != nil {
						return err
					}
				}
				per[i][NoneOfThese] = roaring.New() // any cohort may hold persons of none
			case DimVisitType, DimVisitLocation:
				restName = NoVisit
				col := map[string]string{DimVisitType: "inout_cd", DimVisitLocation: "location_cd"}[d]
				if byLevel, err = s.VisitPatients(ctx, col); err != nil {
					return err
				}
			case DimAgency, DimRegion:
				restName = "site"
				byLevel = map[string]*roaring.Bitmap{}
				regions := map[string]string{}
				if d == DimRegion {
					if regions, err = w.agencyRegions(ctx); err != nil {
						return err
					}
				}
				for _, a := range agencies {
					l := a
					if d == DimRegion {
						if l = regions[a]; l == "" {
							l = "no region"
						}
					}
					if byLevel[l] == nil {
						byLevel[l] = roaring.New()
					}
					byLevel[l].Or(of[a])
				}
			default:
				byLevel = all[d]
			}
			if d != DimConcept { // the rest level, when some patient of the role's data is in it
				placed := roaring.New()
				for _, b := range byLevel {
					placed.Or(b)
				}
				if !roaring.AndNot(everyone, placed).IsEmpty() {
					per[i][restName] = roaring.New()
				}
			}
			placed, kept := roaring.New(), 0
			for cell, b := range byLevel {
				if d != DimConcept && !b.Intersects(everyone) && !b.Intersects(patients) {
					continue // no patient the gate admits for the project has it: no level
				}
				kept++
				in := roaring.And(patients, b)
				if u := per[i][cell]; u != nil {
					in.Or(u)
				}
				per[i][cell] = in
				placed.Or(in)
			}
			if rest := roaring.AndNot(patients, placed); !rest.IsEmpty() {
				if u := per[i][restName]; u != nil {
					u.Or(rest)
				} else {
					per[i][restName] = rest
				}
			}
			// concept and visit levels overlap — but one level and its rest split the cohort:
			// the cells then sum to the (public) total, and secondary suppression must run
			// along the dimension, or a hidden level is the total less its rest
			if (d == DimConcept || d == DimVisitType || d == DimVisitLocation) && kept > 1 {
				t.Dimensions[i], t.Overlapping = d+OverlapMark, OverlapNote
			}
		}
		recount := func(c *TableCell) {
			c.Agencies = map[string]int64{}
			left := c.Persons.GetCardinality()
			for _, a := range agencies {
				if n := c.Persons.AndCardinality(of[a]); n > 0 {
					c.Agencies[a] = int64(n)
					left -= n
				}
			}
			if left > 0 {
				c.Agencies["site"] = int64(left)
			}
			if len(c.Values) == 0 {
				return
			}
			c.Sums = map[string]float64{}
			it := c.Persons.Iterator()
			for i := 0; it.HasNext(); i++ {
				n, at := it.Next(), "site"
				for _, a := range agencies {
					if of[a].Contains(n) {
						at = a
						break
					}
				}
				c.Sums[at] += c.Values[i]
			}
		}
		add := func(key []string, b *roaring.Bitmap) { // every combination, a zero one too
			c := TableCell{Key: key, Persons: b}
			recount(&c)
			t.Cells = append(t.Cells, c)
		}
		for _, a := range slices.Sorted(maps.Keys(per[0])) {
			if len(dims) == 1 {
				add([]string{a}, per[0][a])
				continue
			}
			for _, b := range slices.Sorted(maps.Keys(per[1])) {
				add([]string{a, b}, roaring.And(per[0][a], per[1][b]))
			}
		}
		if value != nil {
			return value(ctx, &t, s, agency, recount)
		}
		return nil
	}()
	if err != nil {
		return Table{}, err
	}
	detail := map[string]string{"query": id, "dimensions": strings.Join(dims, " "), "statistic": t.Statistic, "cells": strconv.Itoa(len(t.Cells))}
	if len(levels) > 0 {
		detail["concept_levels"] = strconv.Itoa(len(levels))
	}
	if t.Concept != "" {
		detail["concept"] = t.Concept
	}
	if err := w.Access.Record(ctx, p, "warehouse.table", "project/"+x.Code+"/query/"+id, detail); err != nil {
		return Table{}, err
	}
	return t, nil
}

// maxLevels bounds a concept dimension's levels.
const maxLevels = 20

// levelPaths are the ontology paths of a concept level: the path itself (it starts with a
// backslash), or the paths of a concept code in concept_dimension (in the agency's scope).
func (w *Warehouse) levelPaths(ctx context.Context, agency, level string) ([]string, error) {
	if strings.HasPrefix(level, `\`) {
		return []string{level}, nil
	}
	paths, err := store.Strings(ctx, w.DB, `SELECT DISTINCT concept_path FROM concept_dimension WHERE concept_cd = $1
		AND (agency = '' OR $2 = '' OR agency = $2) ORDER BY concept_path`, level, agency)
	if err != nil {
		return nil, fmt.Errorf("concept_dimension: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: concept %q: no such concept code (name a code or an ontology path)", derrors.Invalid, level)
	}
	return paths, nil
}

// levelPatients are the patients a concept level holds: as a cohort query's item of the
// level's path (a folder with every concept under it) finds them.
func (w *Warehouse) levelPatients(ctx context.Context, p access.Principal, x access.Project, s *cohort.Scope, agency, level string) (*roaring.Bitmap, error) {
	paths, err := w.levelPaths(ctx, agency, level)
	if err != nil {
		return nil, err
	}
	var items []querydef.Item
	for _, path := range paths {
		items = append(items, querydef.Item{Key: path})
	}
	q := querydef.Query{Panels: []querydef.Panel{{Items: items}}}
	if err := q.Normalize(); err != nil {
		return nil, fmt.Errorf("concept %q: %w", level, err)
	}
	b, err := s.Patients(ctx, q, w.resolver(p, x))
	if err != nil {
		return nil, fmt.Errorf("concept %q: %w", level, err)
	}
	return b, nil
}

// agencyRegions is each agency's region.
func (w *Warehouse) agencyRegions(ctx context.Context) (map[string]string, error) {
	rows, err := w.DB.QueryContext(ctx, `SELECT code, COALESCE(region, '') FROM agencies`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var a, r string
		if err := rows.Scan(&a, &r); err != nil {
			return nil, err
		}
		out[a] = r
	}
	return out, rows.Err()
}
