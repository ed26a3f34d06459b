package disclosure

import (
	"errors"
	"fmt"
	"slices"
)

// ErrNotFreeable marks an officer's choice of cells that an exception cannot release.
var ErrNotFreeable = errors.New("cannot free the cells")

// RowLevel reports whether the file is a list of persons rather than a table: most of its
// rows count exactly one person (however few rows it has). Such a file is never released
// by an exception of a failed check.
func (res *Result) RowLevel() bool {
	t := res.table
	return t != nil && t.rows > 0 && 2*t.rowsOfOne > t.rows
}

// Free applies an officer's exception to the checked table: the cells named (by their
// labels, as the evidence names them) are shown, every other cell hidden for a rule of its
// own stays hidden, and secondary suppression is done again around the freed cells, so
// that no cell still hidden can be recomputed through them. The verdict, the evidence and
// the ledger record follow. A label that names no hidden cell is refused.
func (res *Result) Free(labels []string) error {
	t := res.table
	if t == nil {
		return fmt.Errorf("%w: the table was not read", ErrNotFreeable)
	}
	if res.Outright || res.RowLevel() {
		return fmt.Errorf("%w: %s is not an aggregate: no exception releases it", ErrNotFreeable, t.Name)
	}
	freed := map[*Cell]bool{}
	for _, l := range labels {
		var c *Cell
		for _, x := range t.Cells {
			if t.label(x) == l {
				c = x
				break
			}
		}
		if _, hidden := res.hidden[c]; c == nil || !hidden {
			return fmt.Errorf("%w: %s holds no hidden cell %s", ErrNotFreeable, t.Name, l)
		}
		freed[c] = true
	}
	for c, fs := range res.hidden { // secondary suppression is redone from the primary findings
		fs = slices.DeleteFunc(fs, func(f Finding) bool { return f.Rule == RuleSecondary })
		if len(fs) == 0 || freed[c] {
			delete(res.hidden, c)
		} else {
			res.hidden[c] = fs
		}
	}
	res.freed = freed
	res.Reasons = slices.DeleteFunc(res.Reasons, func(s string) bool { return s == res.secondaryWhy })
	if why := res.secondary(); why != "" {
		return fmt.Errorf("%w: %s", ErrNotFreeable, why)
	}
	res.Hidden, res.Freed = nil, nil
	for _, c := range t.Cells {
		if f, ok := res.hidden[c]; ok {
			res.Hidden = append(res.Hidden, Evidence{Cell: t.label(c), Findings: f})
		}
		if freed[c] {
			res.Freed = append(res.Freed, t.label(c))
		}
	}
	res.Verdict = Pass
	if len(res.hidden) > 0 {
		res.Verdict = Suppressed
	}
	return nil
}
