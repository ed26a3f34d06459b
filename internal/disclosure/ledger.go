package disclosure

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Release is what the ledger keeps of one released file: which population it was built
// from, its dimensions, the persons of every cell it showed (hidden cells are left out) and
// its total, by whom and when. Later releases of the same population are compared with it.
type Release struct {
	ID         string           `json:"id"`
	File       string           `json:"file"`
	Population string           `json:"population"`
	Dimensions []string         `json:"dimensions"`
	Cells      map[string]int64 `json:"cells"` // dimension values joined by U+001F → persons
	Total      int64            `json:"total"`
	By         string           `json:"by"`
	Source     string           `json:"source,omitempty"` // the request it came from
	At         time.Time        `json:"at"`
}

// Record returns the ledger entry for releasing the checked file: the visible cells only.
// With all set (an exception approved: the original file leaves) every cell is recorded.
func (res *Result) Record(id, by, source string, at time.Time, all bool) Release {
	t := res.table
	rel := Release{ID: id, File: t.Name, Population: t.Meta.Population, Dimensions: t.Meta.Dimensions,
		Cells: map[string]int64{}, By: by, Source: source, At: at.UTC()}
	for _, c := range t.Cells {
		if c.Margin(t.Meta.Total) {
			continue
		}
		rel.Total += c.Persons
		if _, hidden := res.hidden[c]; all || !hidden {
			rel.Cells[keyOf(c.Key)] = c.Persons
		}
	}
	return rel
}

// differencing compares the table with each earlier release of its population. A table
// total within 1…MaxDifferencing persons of an earlier one refuses the file (totals are
// public); a cell within that distance of the same cell, or of the sum of cells, of an
// earlier release is hidden when it is one cell of this table, else the file is refused.
func (res *Result) differencing(r Rules, earlier []Release) []string {
	t := res.table
	if t.Meta.Population == "" {
		if len(earlier) > 0 {
			return []string{"metadata names no population: cannot compare with earlier releases"}
		}
		return nil
	}
	var why []string
	near := func(a, b int64) bool { d := max(a-b, b-a); return d > 0 && d <= int64(r.MaxDifferencing) }
	var total int64
	for _, c := range t.Cells {
		if !c.Margin(t.Meta.Total) {
			total += c.Persons
		}
	}
	for _, e := range earlier {
		if e.Population != t.Meta.Population {
			continue
		}
		if near(total, e.Total) {
			why = append(why, fmt.Sprintf("the table's total differs from release %s's by 1 to %d persons (differencing)", e.ID, r.MaxDifferencing))
			continue
		}
		// the earlier release's cells, against this table summed onto its dimensions (an
		// earlier release with dimensions this table lacks is compared by its total only)
		if sharedDims(t.Meta.Dimensions, e.Dimensions) == nil {
			continue
		}
		mine, cellOf, count := map[string]int64{}, map[string]*Cell{}, map[string]int{}
		for _, c := range t.Cells {
			if c.Margin(t.Meta.Total) {
				continue
			}
			k := project(c.Key, t.Meta.Dimensions, e.Dimensions)
			mine[k] += c.Persons
			cellOf[k] = c
			count[k]++
		}
		for k, v := range mine {
			old, shown := e.Cells[k]
			if !shown || !near(v, old) {
				continue
			}
			if count[k] == 1 && len(e.Dimensions) == len(t.Meta.Dimensions) {
				res.hide(cellOf[k], RuleDifferencing, "differs from the same cell of release %s by 1 to %d persons", e.ID, r.MaxDifferencing)
				continue
			}
			why = append(why, fmt.Sprintf("cells summing to %s differ from release %s by 1 to %d persons", cellLabel(e.Dimensions, strings.Split(k, "\x1f")), e.ID, r.MaxDifferencing))
		}
	}
	slices.Sort(why)
	return slices.Compact(why)
}

// sharedDims returns b when a holds all of b's dimensions, else nil.
func sharedDims(a, b []string) []string {
	for _, d := range b {
		if !slices.Contains(a, d) {
			return nil
		}
	}
	return b
}

func project(key, dims, onto []string) string {
	out := make([]string, len(onto))
	for i, d := range onto {
		out[i] = key[slices.Index(dims, d)]
	}
	return keyOf(out)
}

// WriteReleased writes the file that leaves: one row per cell (the contributor column
// dropped), dimensions, persons and magnitudes, hidden cells' numbers replaced by
// "suppressed".
func (res *Result) WriteReleased(w io.Writer) error {
	t := res.table
	cw := csv.NewWriter(w)
	head := slices.Concat(t.Meta.Dimensions, []string{t.Meta.Persons}, t.Meta.Magnitudes)
	if err := cw.Write(head); err != nil {
		return err
	}
	row := make([]string, len(head))
	nd := len(t.Meta.Dimensions)
	for _, c := range t.Cells {
		copy(row, c.Key)
		_, hidden := res.hidden[c]
		for i := nd; i < len(row); i++ {
			row[i] = "suppressed"
		}
		if !hidden {
			row[nd] = strconv.FormatInt(c.Persons, 10)
			for i, v := range c.Magnitudes {
				row[nd+1+i] = strconv.FormatFloat(v, 'f', -1, 64)
			}
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
