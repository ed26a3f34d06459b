package disclosure

import (
	"fmt"
	"math"
	"slices"
)

// maxLattice bounds the cells and margins a table may span (the product over dimensions of
// the number of values plus one).
const maxLattice = 4 << 20

// lattice is the table with every margin position: coordinates per dimension, the last
// index of each standing for its total. A position without an explicit cell is either a
// missing cell (0 persons, known) or a margin the table does not show (public: totals are
// treated as published).
type lattice struct {
	size   []int
	stride []int
	cells  map[int]*Cell
}

func (res *Result) lattice() (*lattice, error) {
	t := res.table
	n := len(t.Meta.Dimensions)
	l := &lattice{size: make([]int, n), stride: make([]int, n), cells: make(map[int]*Cell, len(t.Cells))}
	vals := make([]map[string]int, n)
	for i := range vals {
		vals[i] = map[string]int{}
	}
	for _, c := range t.Cells {
		for i, v := range c.Key {
			if _, ok := vals[i][v]; !ok && v != t.Meta.Total {
				vals[i][v] = len(vals[i])
			}
		}
	}
	total := 1
	for i := n - 1; i >= 0; i-- {
		l.size[i] = len(vals[i]) + 1
		l.stride[i] = total
		total *= l.size[i]
		if total > maxLattice {
			return nil, fmt.Errorf("the dimensions span more than %d cells and margins: too many to check for recomputable cells", maxLattice)
		}
	}
	for _, c := range t.Cells {
		pos := 0
		for i, v := range c.Key {
			j, ok := vals[i][v]
			if !ok {
				j = l.size[i] - 1
			}
			pos += j * l.stride[i]
		}
		l.cells[pos] = c
	}
	return l, nil
}

// lines lists every equation "total = sum of members" as positions, the total first.
func (l *lattice) lines(skip func(d int) bool) [][]int {
	var out [][]int
	n := len(l.size)
	coord := make([]int, n)
	for d := range n {
		if skip(d) {
			continue
		}
		// every combination of the other coordinates, each ranging over values and total
		var walk func(k int)
		walk = func(k int) {
			if k == n {
				base := 0
				for i, c := range coord {
					if i != d {
						base += c * l.stride[i]
					}
				}
				line := make([]int, 0, l.size[d])
				line = append(line, base+(l.size[d]-1)*l.stride[d])
				for j := 0; j < l.size[d]-1; j++ {
					line = append(line, base+j*l.stride[d])
				}
				out = append(out, line)
				return
			}
			if k == d {
				walk(k + 1)
				return
			}
			for coord[k] = 0; coord[k] < l.size[k]; coord[k]++ {
				walk(k + 1)
			}
		}
		walk(0)
	}
	return out
}

// secondary hides further cells until no hidden cell can be recomputed from the lines'
// totals. It returns why the table cannot be protected, or "".
func (res *Result) secondary() string {
	if len(res.hidden) == 0 {
		return ""
	}
	l, err := res.lattice()
	if err != nil {
		return err.Error()
	}
	m := res.table.Meta
	lines := l.lines(func(d int) bool { return slices.Contains(m.Overlapping, m.Dimensions[d]) })
	unknown := func(p int) bool {
		c := l.cells[p]
		_, ok := res.hidden[c]
		return c != nil && ok
	}
	for round := 0; round < 1000; round++ {
		changed := false
		for _, line := range lines {
			var lone int = -1
			n := 0
			for _, p := range line {
				if unknown(p) {
					n++
					lone = p
				}
			}
			if n == 0 {
				continue
			}
			if n > 1 { // counts are not negative: hidden cells that sum to 0 are each 0
				if !res.zerosOnly(l, line) {
					continue
				}
				if !res.hideBeside(l, line, lone) {
					return fmt.Sprintf("cell %s: its line's hidden cells would all be known to be 0 from the margins and no other cell of its line can be hidden", res.table.label(l.cells[lone]))
				}
				changed = true
				continue
			}
			if !res.hideBeside(l, line, lone) {
				return fmt.Sprintf("cell %s would be recomputable from the margins and no other cell of its line can be hidden", res.table.label(l.cells[lone]))
			}
			changed = true
		}
		if changed {
			continue
		}
		p := determined(lines, unknown)
		if p < 0 {
			return ""
		}
		hid := false
		for _, line := range lines {
			if slices.Contains(line, p) && res.hideBeside(l, line, p) {
				hid = true
				break
			}
		}
		if !hid {
			return fmt.Sprintf("cell %s would be recomputable from the margins", res.table.label(l.cells[p]))
		}
	}
	return "secondary suppression did not settle"
}

// zerosOnly reports whether every hidden cell of the line holds no persons while the line's
// total does: the total less the shown cells is then 0, and as no count is negative, each
// hidden cell is known to be 0 — zero cells hidden side by side do not protect each other.
func (res *Result) zerosOnly(l *lattice, line []int) bool {
	var total int64
	for _, p := range line[1:] {
		c := l.cells[p]
		if c == nil {
			continue
		}
		total += c.Persons
		if _, ok := res.hidden[c]; ok && c.Persons > 0 {
			return false
		}
	}
	return total > 0
}

// hideBeside hides the smallest visible cell of the line (cells before margins, non-empty
// before empty) to protect the hidden cell at position p.
func (res *Result) hideBeside(l *lattice, line []int, p int) bool {
	var best *Cell
	rank := func(c *Cell) [3]int64 {
		m, z := int64(0), int64(0)
		if c.Margin(res.table.Meta.Total) {
			m = 1
		}
		if c.Persons == 0 {
			z = 1
		}
		return [3]int64{m, z, c.Persons}
	}
	for _, q := range line {
		c := l.cells[q]
		if c == nil || q == p {
			continue
		}
		if _, ok := res.hidden[c]; ok || res.freed[c] {
			continue
		}
		if rc, rb := rank(c), rank(best0(best)); best == nil || slices.Compare(rc[:], rb[:]) < 0 {
			best = c
		}
	}
	if best == nil {
		return false
	}
	res.hide(best, RuleSecondary, "hidden so that cell %s cannot be recomputed from the margins", res.table.label(l.cells[p]))
	return true
}

func best0(c *Cell) *Cell {
	if c == nil {
		return &Cell{}
	}
	return c
}

// determined finds a hidden cell whose value follows from the lines: a unit vector in the
// row space of the lines' coefficients over the hidden cells (reduced row echelon form).
// It returns its position, or -1.
func determined(lines [][]int, unknown func(int) bool) int {
	col := map[int]int{}
	var pos []int
	var rows [][]float64
	for _, line := range lines {
		for _, p := range line {
			if _, ok := col[p]; !ok && unknown(p) {
				col[p] = len(pos)
				pos = append(pos, p)
			}
		}
	}
	for _, line := range lines {
		var r []float64
		for i, p := range line {
			if j, ok := col[p]; ok {
				if r == nil {
					r = make([]float64, len(pos))
				}
				if i == 0 {
					r[j] = 1
				} else {
					r[j] = -1
				}
			}
		}
		if r != nil {
			rows = append(rows, r)
		}
	}
	const eps = 1e-9
	pivotRow := 0
	pivots := make([]int, len(pos)) // column → row, -1 for none
	for i := range pivots {
		pivots[i] = -1
	}
	for c := 0; c < len(pos) && pivotRow < len(rows); c++ {
		best := -1
		for r := pivotRow; r < len(rows); r++ {
			if math.Abs(rows[r][c]) > eps && (best < 0 || math.Abs(rows[r][c]) > math.Abs(rows[best][c])) {
				best = r
			}
		}
		if best < 0 {
			continue
		}
		rows[pivotRow], rows[best] = rows[best], rows[pivotRow]
		pr := rows[pivotRow]
		inv := 1 / pr[c]
		for k := c; k < len(pr); k++ {
			pr[k] *= inv
		}
		for r := range rows {
			if r == pivotRow || math.Abs(rows[r][c]) <= eps {
				continue
			}
			f := rows[r][c]
			for k := c; k < len(pr); k++ {
				rows[r][k] -= f * pr[k]
			}
		}
		pivots[c] = pivotRow
		pivotRow++
	}
	for c, r := range pivots {
		if r < 0 {
			continue
		}
		nz := 0
		for _, v := range rows[r] {
			if math.Abs(v) > eps {
				nz++
			}
		}
		if nz == 1 {
			return pos[c]
		}
	}
	return -1
}
