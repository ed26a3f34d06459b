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
	// Withheld holds the hidden cells' persons: never released, kept so that sums over
	// them — margins, which are public — can be compared with later tables.
	Withheld map[string]int64 `json:"withheld,omitempty"`
	Total    int64            `json:"total"`
	By       string           `json:"by"`
	Source   string           `json:"source,omitempty"` // the request it came from
	At       time.Time        `json:"at"`
}

// Record returns the ledger entry for releasing the checked file: the visible cells only.
// With all set (an exception approved: the original file leaves) every cell is recorded.
func (res *Result) Record(id, by, source string, at time.Time, all bool) Release {
	t := res.table
	rel := Release{ID: id, File: t.Name, Population: t.Meta.Population, Dimensions: t.Meta.Dimensions,
		Cells: map[string]int64{}, Withheld: map[string]int64{}, By: by, Source: source, At: at.UTC()}
	for _, c := range t.Cells {
		if c.Margin(t.Meta.Total) {
			continue
		}
		rel.Total += c.Persons
		if _, hidden := res.hidden[c]; all || !hidden {
			rel.Cells[keyOf(c.Key)] = c.Persons
		} else {
			rel.Withheld[keyOf(c.Key)] = c.Persons
		}
	}
	return rel
}

// differencing compares the table with each earlier release of its population. A table
// total within 1…MaxDifferencing persons of an earlier one refuses the file (totals are
// public). Both are then summed onto the dimensions they share; a sum within that distance
// of the earlier one hides this table's cell when the sum is one cell of it, else (a
// margin, public) refuses the file.
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
		// both summed onto the dimensions they share: the earlier release's shown cells when
		// this table has all its dimensions, else its sums (margins, public) over every cell
		var shared []string
		for _, d := range e.Dimensions {
			if slices.Contains(t.Meta.Dimensions, d) {
				shared = append(shared, d)
			}
		}
		if len(shared) == 0 {
			continue
		}
		theirs := e.Cells
		if len(shared) < len(e.Dimensions) {
			theirs = map[string]int64{}
			for _, m := range []map[string]int64{e.Cells, e.Withheld} {
				for k, v := range m {
					theirs[project(strings.Split(k, "\x1f"), e.Dimensions, shared)] += v
				}
			}
		}
		mine, cellOf := map[string]int64{}, map[string]*Cell{}
		for _, c := range t.Cells {
			if c.Margin(t.Meta.Total) {
				continue
			}
			k := project(c.Key, t.Meta.Dimensions, shared)
			mine[k] += c.Persons
			cellOf[k] = c
		}
		for k, v := range mine {
			old, shown := theirs[k]
			if !shown || !near(v, old) {
				continue
			}
			if len(shared) == len(t.Meta.Dimensions) { // one cell of this table: hide it
				res.hide(cellOf[k], RuleDifferencing, "differs from the same cells of release %s by 1 to %d persons", e.ID, r.MaxDifferencing)
				continue
			}
			why = append(why, fmt.Sprintf("cells summing to %s differ from release %s by 1 to %d persons", cellLabel(shared, strings.Split(k, "\x1f")), e.ID, r.MaxDifferencing))
		}
	}
	slices.Sort(why)
	return slices.Compact(why)
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
