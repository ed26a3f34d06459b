package warehouse

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
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
	Project    string      `json:"project"`
	QueryID    string      `json:"query_id"`
	Definition string      `json:"definition_sha256"` // digest of the query's canonical definition
	Dimensions []string    `json:"dimensions"`
	Statistic  string      `json:"statistic"`          // "count of persons", or TableValue's
	Concept    string      `json:"concept,omitempty"`  // the numeric value's concept code
	Quantile   float64     `json:"quantile,omitempty"` // p of a quantile
	Value      string      `json:"value,omitempty"`    // which of a person's values is taken
	By         string      `json:"by"`
	At         time.Time   `json:"at"`
	Governance *Admission  `json:"governance,omitempty"`
	Cells      []TableCell `json:"-"`
}

// StatisticPersons is the only statistic computed tables give yet.
const StatisticPersons = "count of persons"

// Table computes a count of persons of p's stored query id in the project by the
// dimensions (one or two of Dimensions), from exact counts: p's role must see exact counts
// and breakdowns (DATA_AGG and up). The cohort passes the governance gate as a breakdown
// does (agencies left out and withdrawn clients taken out). Every cell keeps its persons.
// The read is audited with ids and counts of cells, never a value.
func (w *Warehouse) Table(ctx context.Context, p access.Principal, projectCode, id string, dims []string, statistic string) (Table, error) {
	switch strings.ToLower(strings.TrimSpace(statistic)) {
	case "", "count", "persons", StatisticPersons:
	case "min", "max", "minimum", "maximum":
		return Table{}, fmt.Errorf("%w: statistic %s is refused: it shows one person's value", derrors.Invalid, statistic)
	default:
		return Table{}, fmt.Errorf("%w: statistic %q: computed tables give the count of persons", derrors.Invalid, statistic)
	}
	return w.table(ctx, p, projectCode, id, dims, nil)
}

// table computes the cells of a table of persons; value, when set, then gives each cell
// its value statistic (it may drop or narrow cells) before the read is audited.
func (w *Warehouse) table(ctx context.Context, p access.Principal, projectCode, id string, dims []string,
	value func(ctx context.Context, t *Table, agency string, recount func(*TableCell)) error) (Table, error) {
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
		if !slices.Contains(Dimensions, dims[i]) {
			return Table{}, fmt.Errorf("%w: dimension %q (want sex, age, race or vital_status)", derrors.Invalid, d)
		}
	}
	if len(dims) == 2 && dims[0] == dims[1] {
		return Table{}, fmt.Errorf("%w: dimension %s named twice", derrors.Invalid, dims[0])
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
		Statistic: StatisticPersons, By: p.User, At: time.Now().UTC().Truncate(time.Microsecond)}

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
		// each dimension's cells within the cohort, with "unknown" for persons it does not place
		per := make([]map[string]*roaring.Bitmap, len(dims))
		for i, d := range dims {
			per[i] = map[string]*roaring.Bitmap{}
			placed := roaring.New()
			for cell, b := range all[d] {
				if in := roaring.And(patients, b); !in.IsEmpty() {
					per[i][cell] = in
					placed.Or(in)
				}
			}
			if rest := roaring.AndNot(patients, placed); !rest.IsEmpty() {
				if u := per[i]["unknown"]; u != nil {
					u.Or(rest)
				} else {
					per[i]["unknown"] = rest
				}
			}
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
		add := func(key []string, b *roaring.Bitmap) {
			if b.IsEmpty() {
				return
			}
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
			return value(ctx, &t, agency, recount)
		}
		return nil
	}()
	if err != nil {
		return Table{}, err
	}
	detail := map[string]string{"query": id, "dimensions": strings.Join(dims, " "), "statistic": t.Statistic, "cells": strconv.Itoa(len(t.Cells))}
	if t.Concept != "" {
		detail["concept"] = t.Concept
	}
	if err := w.Access.Record(ctx, p, "warehouse.table", "project/"+x.Code+"/query/"+id, detail); err != nil {
		return Table{}, err
	}
	return t, nil
}
