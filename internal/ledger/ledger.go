// Package ledger decides whether released counts of persons, combined linearly, give away
// the count of a small group of persons.
//
// Every released cell is a set of persons (patient numbers) and its count. Labels do not
// matter: two cells over the same persons are the same equation whatever they are called.
// The persons of all cells fall into atoms — persons who are in exactly the same cells —
// and each cell's count is the sum of its atoms' sizes. An analyst who has seen the counts
// knows every linear combination of them, so the count of a group of atoms G is known
// exactly when G's indicator vector lies in the span of the cells' rows. Check reports every
// such group with 1 to Threshold−1 persons that a proposed release would add to what was
// released before (the difference of two cells, A − C − B chains, margins of linked tables,
// a cell's complement within its table are all instances).
//
// The arithmetic is exact over the prime field of p = 2⁶¹−1. A group determined over the
// rationals is determined over this field unless p divides a denominator of the
// combination, which needs more than 2⁶¹ persons; the other way round, a combination that
// cancels only modulo p may report a group that is not determined — refusing too much, never
// too little.
//
// Work is bounded: elimination and the search over groups stop at Options' limits, and the
// Finding then says Incomplete — not proven safe, which the caller must treat as a refusal.
package ledger

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// Cell is one released (or proposed) count: the persons behind it and the release it
// belongs to.
type Cell struct {
	Release string // the export request or release that showed it
	Label   string // how that release named it: for explanations, never used to match
	Persons *roaring.Bitmap
}

// Options bound the check.
type Options struct {
	// Threshold: a group of 1 to Threshold−1 persons must not be determined.
	Threshold int
	// MaxWork bounds the elimination: entries touched by row operations (default 2e8).
	MaxWork int64
	// MaxSteps bounds the search for groups of several atoms (default 200,000).
	MaxSteps int
	// MaxGroups: how many groups to report before stopping (default 3).
	MaxGroups int
	// baseline turns off the passes before the search (single rows, dead rows): the
	// benchmark's and the tests' reference for them, the same search without them.
	baseline bool
}

// Group is a set of persons whose count the released and proposed cells determine.
type Group struct {
	Persons int // how many (1 … Threshold−1); never who
	// Cells indexes the cells combined (released first, then proposed, as given to Check).
	Cells []int
	// Releases names the releases of those cells, sorted, each once.
	Releases []string
}

// Finding is Check's answer.
type Finding struct {
	Groups     []Group
	Incomplete bool   // a limit was reached before the check could prove the release safe
	Why        string // which limit, when Incomplete
	// Decided says what settled the groups: "rows" when single reduced rows (a small atom,
	// or a row whose other entries are all 1, under the threshold together) reached
	// MaxGroups — linear in the rows, no search; "search" when the bounded search over
	// unions of rows ran; empty when neither was needed.
	Decided    string
	Cells      int // cells considered: those connected to a proposed cell
	Atoms      int
	SmallAtoms int
	Rank       int
	Work       int64
	Steps      int
}

// Safe reports whether the proposed cells may be released.
func (f Finding) Safe() bool { return !f.Incomplete && len(f.Groups) == 0 }

const p = 1<<61 - 1

func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a, b < 2^61: the product < 2^122; fold at bit 61
	r := (hi<<3 | lo>>61) + lo&p
	if r >= p {
		r -= p
	}
	return r
}

func addmod(a, b uint64) uint64 {
	r := a + b
	if r >= p {
		r -= p
	}
	return r
}

func negmod(a uint64) uint64 {
	if a == 0 {
		return 0
	}
	return p - a
}

func invmod(a uint64) uint64 { // a^(p−2)
	r, e := uint64(1), uint64(p-2)
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, a)
		}
		a = mulmod(a, a)
		e >>= 1
	}
	return r
}

// entry is one nonzero of a sparse row: column (atom position) and value.
type entry struct {
	col int32
	val uint64
}

type row struct {
	e    []entry         // sorted by col, nonzero values, e[0] the pivot (value 1) once in the basis
	from *roaring.Bitmap // the cells combined into it
}

// Check reports the small groups whose counts the released cells and the proposed ones
// together determine. Groups determined by the released cells alone are reported too when
// they are connected to a proposed cell (they were released before this check existed).
func Check(released, proposed []Cell, o Options) Finding {
	if o.MaxWork <= 0 {
		o.MaxWork = 2e8
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 200_000
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 3
	}
	all := slices.Concat(released, proposed)
	cells := connected(all, len(released))
	f := Finding{Cells: len(cells)}
	if len(cells) == 0 || o.Threshold <= 1 {
		return f
	}

	// atoms: persons with the same cells, found by a signature per person (two independent
	// 64-bit mixes of the cell indexes), counted, then numbered
	type sig struct{ a, b uint64 }
	persons := map[uint32]sig{}
	for _, ci := range cells {
		k := uint64(ci) + 1
		it := all[ci].Persons.Iterator()
		for it.HasNext() {
			x := it.Next()
			s := persons[x]
			s.a = (s.a ^ k) * 0x9e3779b97f4a7c15
			s.b = (s.b+k*0xc2b2ae3d27d4eb4f)*0x165667b19e3779f9 ^ s.b>>29
			persons[x] = s
		}
	}
	atomOf := map[sig]int32{}
	var size []int
	personAtom := make(map[uint32]int32, len(persons))
	// atoms are numbered in the order of their first person, so that a check (its column
	// order, the search's path and its work) is the same every time
	everyone := make([]uint32, 0, len(persons))
	for x := range persons {
		everyone = append(everyone, x)
	}
	slices.Sort(everyone)
	for _, x := range everyone {
		s := persons[x]
		a, ok := atomOf[s]
		if !ok {
			a = int32(len(size))
			atomOf[s] = a
			size = append(size, 0)
		}
		size[a]++
		personAtom[x] = a
	}
	f.Atoms = len(size)

	// columns: large atoms (≥ Threshold persons, never part of a small group) first, so that
	// rows whose leading entry is a small atom's are exactly the combinations that vanish on
	// every large atom
	order := make([]int32, len(size))
	for i := range order {
		order[i] = int32(i)
	}
	small := func(a int32) bool { return size[a] < o.Threshold }
	slices.SortFunc(order, func(x, y int32) int {
		if sx, sy := small(x), small(y); sx != sy {
			if sx {
				return 1
			}
			return -1
		}
		return cmp.Compare(x, y)
	})
	pos := make([]int32, len(size)) // atom → column
	firstSmall := int32(len(size))
	for c, a := range order {
		pos[a] = int32(c)
		if small(a) && int32(c) < firstSmall {
			firstSmall = int32(c)
		}
	}
	f.SmallAtoms = len(size) - int(firstSmall)
	if f.SmallAtoms == 0 {
		return f
	}

	// echelon basis, one row per leading column
	basis := map[int32]*row{}
	seen := make([]int32, len(size))
	for i := range seen {
		seen[i] = -1
	}
	// rows are reduced smallest first: the echelon form (and the reduced rows the search
	// reads) does not depend on the order, the fill-in and so the work does
	byCard := slices.Clone(cells)
	slices.SortStableFunc(byCard, func(x, y int) int {
		return cmp.Compare(all[x].Persons.GetCardinality(), all[y].Persons.GetCardinality())
	})
	for _, ci := range byCard {
		var e []entry
		it := all[ci].Persons.Iterator()
		for it.HasNext() {
			a := personAtom[it.Next()]
			if seen[a] != int32(ci) {
				seen[a] = int32(ci)
				e = append(e, entry{pos[a], 1})
			}
		}
		slices.SortFunc(e, func(x, y entry) int { return cmp.Compare(x.col, y.col) })
		r := &row{e: e, from: roaring.BitmapOf(uint32(ci))}
		for len(r.e) > 0 {
			b, ok := basis[r.e[0].col]
			if !ok {
				normalise(r)
				basis[r.e[0].col] = r
				break
			}
			f.Work += int64(len(r.e) + len(b.e))
			if f.Work > o.MaxWork {
				f.Incomplete, f.Why = true, "elimination limit reached"
				return f
			}
			r.e = axpy(r.e, negmod(r.e[0].val), b.e)
			r.from.Or(b.from)
		}
	}
	f.Rank = len(basis)

	// the rows that vanish on every large atom, reduced (each pivot zero in the others' rows)
	var piv []int32
	for c := range basis {
		if c >= firstSmall {
			piv = append(piv, c)
		}
	}
	slices.Sort(piv)
	for i := len(piv) - 1; i >= 0; i-- {
		r := basis[piv[i]]
		for j := i + 1; j < len(piv); j++ {
			v := valueAt(r.e, piv[j])
			if v == 0 {
				continue
			}
			b := basis[piv[j]]
			f.Work += int64(len(r.e) + len(b.e))
			if f.Work > o.MaxWork {
				f.Incomplete, f.Why = true, "elimination limit reached"
				return f
			}
			r.e = axpy(r.e, negmod(v), b.e)
			r.from.Or(b.from)
		}
	}

	// A group G of small atoms is determined when its indicator is a combination of these
	// rows; the rows being reduced, that combination is the sum of the rows of G's pivot
	// atoms, and it must equal 1 on G's free atoms and 0 on every other free column. So
	// the search chooses pivot rows (at least one: free atoms alone are never determined)
	// and keeps free columns whose sum is 1 as members of the group.
	var rows []*row
	for _, c := range piv {
		rows = append(rows, basis[c])
	}
	sizeAt := func(c int32) int { return size[order[c]] }
	rowSize := make([]int, len(rows)) // persons of each row's pivot atom
	for i, r := range rows {
		rowSize[i] = sizeAt(r.e[0].col)
	}
	// free column → rows nonzero there, in row order (the branching order), and the same
	// rows by pivot size (for counting the rows still usable: the first too large ends it)
	touch := make([][]int, len(size))
	for i, r := range rows {
		for _, x := range r.e[1:] {
			touch[x.col] = append(touch[x.col], i)
		}
	}
	// dead rows, removed before the search: a row nonzero on a free column that no other
	// live row touches is in a group only if its value there is 1 and that atom joins the
	// group; a value other than 1 there, or those atoms taking it to the threshold, means
	// no group holds the row. Removing it can leave other columns with one row, so this
	// repeats until nothing changes. Exact: only rows in no group go.
	dead := make([]bool, len(rows))
	live := make([]int, len(size))
	for c, ts := range touch {
		live[c] = len(ts)
	}
	for changed := !o.baseline; changed; {
		changed = false
		for i, r := range rows {
			if dead[i] {
				continue
			}
			n := rowSize[i]
			for _, x := range r.e[1:] {
				if n >= o.Threshold {
					break
				}
				if live[x.col] == 1 {
					if x.val != 1 {
						n = o.Threshold
						break
					}
					n += sizeAt(x.col)
				}
			}
			if n >= o.Threshold {
				dead[i], changed = true, true
				for _, x := range r.e[1:] {
					live[x.col]--
				}
			}
		}
	}
	for c := range touch {
		touch[c] = slices.DeleteFunc(touch[c], func(i int) bool { return dead[i] })
	}
	bySize := make([][]int, len(size))
	for c, ts := range touch {
		if len(ts) > 0 {
			bySize[c] = slices.Clone(ts)
			slices.SortStableFunc(bySize[c], func(a, b int) int { return cmp.Compare(rowSize[a], rowSize[b]) })
		}
	}

	reported := map[string]bool{}
	var chosen []int // rows in the group
	var kept []int32 // free columns in the group
	excluded := make([]bool, len(rows))
	keptSet := make([]bool, len(size))
	report := func() {
		key := fmt.Sprint(slices.Sorted(slices.Values(chosen)), slices.Sorted(slices.Values(kept)))
		if reported[key] {
			return
		}
		reported[key] = true
		from := roaring.New()
		n := 0
		for _, i := range chosen {
			n += sizeAt(rows[i].e[0].col)
			from.Or(rows[i].from)
		}
		for _, c := range kept {
			n += sizeAt(c)
		}
		gr := Group{Persons: n}
		it := from.Iterator()
		for it.HasNext() {
			ci := int(it.Next())
			gr.Cells = append(gr.Cells, ci)
			gr.Releases = append(gr.Releases, all[ci].Release)
		}
		slices.Sort(gr.Releases)
		gr.Releases = slices.Compact(gr.Releases)
		f.Groups = append(f.Groups, gr)
	}

	// dfs: sum is the chosen rows' sum over the free columns, persons what the group holds
	// so far. It decides the first free column not kept where the sum is nonzero: a 1 may be
	// kept (that atom joins the group) or cancelled; any other value must be cancelled, by a
	// row nonzero there. A row tried and given up is excluded from its siblings' subtrees,
	// so each group is met once. Returns false to stop.
	var dfs func(sum []entry, persons int) bool
	dfs = func(sum []entry, persons int) bool {
		f.Steps++
		if f.Steps > o.MaxSteps {
			f.Incomplete, f.Why = true, "search limit reached"
			return false
		}
		// the column to decide: the one with the fewest rows left that could change it. A
		// column no row can change any more ends the branch unless its sum is 1, which then
		// must join the group.
		available := func(c int32, limit int) int {
			n := 0
			for _, i := range bySize[c] {
				if persons+rowSize[i] >= o.Threshold {
					break // the rest are as large or larger
				}
				if !excluded[i] {
					if n++; n >= limit {
						break
					}
				}
			}
			return n
		}
		best, bestN, forced := -1, len(rows)+1, 0
		var forcedCols []int32
		for i := range sum {
			c := sum[i].col
			if keptSet[c] {
				continue
			}
			n := available(c, bestN)
			if n == 0 {
				if sum[i].val != 1 {
					return true
				}
				forced += sizeAt(c)
				forcedCols = append(forcedCols, c)
				if persons+forced >= o.Threshold {
					return true
				}
				continue
			}
			if n < bestN {
				best, bestN = i, n
			}
		}
		if best < 0 {
			kept = append(kept, forcedCols...)
			report()
			kept = kept[:len(kept)-len(forcedCols)]
			return len(f.Groups) < o.MaxGroups
		}
		col, val := sum[best].col, sum[best].val
		if val == 1 && persons+sizeAt(col) < o.Threshold {
			keptSet[col] = true
			kept = append(kept, col)
			ok := dfs(sum, persons+sizeAt(col))
			kept = kept[:len(kept)-1]
			keptSet[col] = false
			if !ok {
				return false
			}
		}
		var gaveUp []int
		defer func() {
			for _, i := range gaveUp {
				excluded[i] = false
			}
		}()
	next:
		for _, i := range touch[col] {
			r := rows[i]
			if excluded[i] || persons+rowSize[i] >= o.Threshold {
				continue
			}
			for _, x := range r.e[1:] {
				if keptSet[x.col] {
					continue next // would move a kept column off 1
				}
			}
			excluded[i] = true
			chosen = append(chosen, i)
			ok := dfs(axpy(sum, 1, r.e[1:]), persons+rowSize[i])
			chosen = chosen[:len(chosen)-1]
			gaveUp = append(gaveUp, i) // stays excluded for the siblings that follow
			if !ok {
				return false
			}
		}
		return true
	}
	// single rows first, linear in their entries: a row whose other entries are all 1, its
	// atoms under the threshold together, is a group by itself (a small atom alone when it
	// has no other entry). When they fill MaxGroups no search is needed; otherwise the
	// search meets them again under the same key and reports them once.
	for i, r := range rows {
		if o.baseline {
			break
		}
		n := rowSize[i]
		for _, x := range r.e[1:] {
			if x.val != 1 || n >= o.Threshold {
				n = o.Threshold
				break
			}
			n += sizeAt(x.col)
		}
		if n >= o.Threshold {
			continue
		}
		chosen = append(chosen[:0], i)
		kept = kept[:0]
		for _, x := range r.e[1:] {
			kept = append(kept, x.col)
		}
		report()
		if len(f.Groups) >= o.MaxGroups {
			f.Decided = "rows"
			return f
		}
	}
	chosen, kept = chosen[:0], kept[:0]
	if len(rows) > 0 {
		f.Decided = "search"
	}

	// rows tried at the top stay excluded: every so often they leave the column lists, which
	// the search would otherwise step over again and again
	prune := func() {
		for c := range touch {
			touch[c] = slices.DeleteFunc(touch[c], func(i int) bool { return excluded[i] })
			bySize[c] = slices.DeleteFunc(bySize[c], func(i int) bool { return excluded[i] })
		}
	}
	every := max(1, len(rows)/16)
	for i, r := range rows {
		if i > 0 && i%every == 0 {
			prune()
		}
		if dead[i] || sizeAt(r.e[0].col) >= o.Threshold {
			continue
		}
		excluded[i] = true // and stays so: groups with row i were all met from here
		chosen = append(chosen[:0], i)
		if !dfs(slices.Clone(r.e[1:]), sizeAt(r.e[0].col)) {
			break
		}
	}
	return f
}

// connected returns the indexes of the cells joined, through shared persons, to a proposed
// cell (index ≥ firstProposed), in index order. Cells apart from every proposed one cannot
// combine with them into a group.
func connected(all []Cell, firstProposed int) []int {
	parent := make([]int, len(all))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	owner := map[uint32]int{}
	for i, c := range all {
		if c.Persons == nil {
			continue
		}
		it := c.Persons.Iterator()
		for it.HasNext() {
			x := it.Next()
			if j, ok := owner[x]; ok {
				if a, b := find(i), find(j); a != b {
					parent[a] = b
				}
			} else {
				owner[x] = i
			}
		}
	}
	roots := map[int]bool{}
	for i := firstProposed; i < len(all); i++ {
		if all[i].Persons != nil && !all[i].Persons.IsEmpty() {
			roots[find(i)] = true
		}
	}
	var out []int
	for i := range all {
		if all[i].Persons != nil && !all[i].Persons.IsEmpty() && roots[find(i)] {
			out = append(out, i)
		}
	}
	return out
}

// normalise scales r so that its leading value is 1.
func normalise(r *row) {
	if r.e[0].val == 1 {
		return
	}
	inv := invmod(r.e[0].val)
	for i := range r.e {
		r.e[i].val = mulmod(r.e[i].val, inv)
	}
}

// axpy returns x + k·y (sparse, sorted), dropping zeros. x is not modified.
func axpy(x []entry, k uint64, y []entry) []entry {
	out := make([]entry, 0, len(x)+len(y))
	i, j := 0, 0
	for i < len(x) || j < len(y) {
		switch {
		case j == len(y) || (i < len(x) && x[i].col < y[j].col):
			out = append(out, x[i])
			i++
		case i == len(x) || y[j].col < x[i].col:
			out = append(out, entry{y[j].col, mulmod(k, y[j].val)})
			j++
		default:
			if v := addmod(x[i].val, mulmod(k, y[j].val)); v != 0 {
				out = append(out, entry{x[i].col, v})
			}
			i++
			j++
		}
	}
	return out
}

func valueAt(e []entry, col int32) uint64 {
	i, ok := slices.BinarySearchFunc(e, col, func(x entry, c int32) int { return cmp.Compare(x.col, c) })
	if !ok {
		return 0
	}
	return e[i].val
}
