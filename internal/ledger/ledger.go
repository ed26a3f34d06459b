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
	// MaxGroups — linear in the rows, no search; "spread" when disjoint sets of columns, on
	// each of which the rows are independent, prove that every combination holds at least
	// Threshold persons (spread) — no search; "search" when the bounded search over unions
	// of rows ran; empty when neither was needed.
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
	var nonempty []int
	for i, c := range all {
		if c.Persons != nil && !c.Persons.IsEmpty() {
			nonempty = append(nonempty, i)
		}
	}
	ix := newIndex(all, nonempty)
	cells := connected(all, nonempty, len(released), ix)
	f := Finding{Cells: len(cells)}
	if len(cells) == 0 || o.Threshold <= 1 {
		return f
	}
	s := &system{all: all, cells: cells, ix: ix, o: o, f: &f}
	s.atoms()
	if f.SmallAtoms == 0 {
		return f
	}
	basis, ok := s.eliminate()
	if !ok {
		return f
	}
	// first the proof that needs no search, on the rows as they are: any basis will do
	if !o.baseline {
		var echelon []*row
		for c := s.firstSmall; c < int32(len(s.size)); c++ {
			if basis[c] != nil {
				echelon = append(echelon, basis[c])
			}
		}
		ok, w := spread(echelon, len(s.size), o.Threshold, o.MaxWork)
		f.Work += w
		if ok {
			f.Decided = "spread"
			return f
		}
	}

	rows, ok := s.reduce(basis)
	if !ok {
		return f
	}
	s.search(rows)
	return f
}

// system is one check's cells, persons and atoms, and its finding so far.
type system struct {
	all   []Cell
	cells []int // those connected to a proposed cell
	ix    index
	o     Options
	f     *Finding
	// atoms and columns
	personAtom []int32 // person (number) → atom
	size       []int   // atom → persons
	order      []int32 // column → atom: large atoms first
	pos        []int32 // atom → column
	firstSmall int32   // the first small atom's column
}

// atoms numbers the atoms and orders the columns.
func (s *system) atoms() {
	all, cells, ix, o, f := s.all, s.cells, s.ix, s.o, s.f
	// atoms: persons with the same cells, found by a signature per person (two independent
	// 64-bit mixes of the cell indexes), counted, then numbered. Persons are numbered densely
	// (their rank among everyone in the cells), so that signatures are arrays, not maps.
	sa, sb := make([]uint64, ix.n), make([]uint64, ix.n)
	for _, ci := range cells {
		k := uint64(ci) + 1
		ix.each(all[ci].Persons, func(x int32) {
			sa[x] = (sa[x] ^ k) * 0x9e3779b97f4a7c15
			sb[x] = (sb[x]+k*0xc2b2ae3d27d4eb4f)*0x165667b19e3779f9 ^ sb[x]>>29
		})
	}
	type sig struct{ a, b uint64 }
	atomOf := map[sig]int32{}
	var size []int
	// atoms are numbered in the order of their first person, so that a check (its column
	// order, the search's path and its work) is the same every time
	personAtom := make([]int32, ix.n)
	for x := range personAtom {
		key := sig{sa[x], sb[x]}
		a, ok := atomOf[key]
		if !ok {
			a = int32(len(size))
			atomOf[key] = a
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
	s.personAtom, s.size, s.order, s.pos, s.firstSmall = personAtom, size, order, pos, firstSmall

}

// eliminate returns the echelon rows led by a small atom (indexed by leading column), or
// false when the work limit is reached.
func (s *system) eliminate() ([]*row, bool) {
	all, cells, ix, o, f := s.all, s.cells, s.ix, s.o, s.f
	personAtom, size, pos, firstSmall := s.personAtom, s.size, s.pos, s.firstSmall
	// Echelon basis, one row per leading column. Only the rows that vanish on every large
	// atom are searched, so a row is first reduced on the large columns alone, keeping the
	// combination of cells (λ) that made it instead of its small entries: a row led by a
	// large atom is kept as its large entries and λ — a few hundred numbers, not the
	// thousands of small atoms its cells hold. A row whose large entries all cancel is then
	// written out over the small atoms from λ and the cells, and reduced among the rows like
	// it. Each reduction is done in a dense work vector: it costs the basis row's entries,
	// not the reduced row's as well. The basis is the same as eliminating whole rows.
	large, smallPart := make([][]entry, len(all)), make([][]entry, len(all))
	mark := make([]int32, len(size))
	for i := range mark {
		mark[i] = -1
	}
	for _, ci := range cells {
		ix.each(all[ci].Persons, func(x int32) {
			if c := pos[personAtom[x]]; mark[c] != int32(ci) {
				mark[c] = int32(ci)
				if c < firstSmall {
					large[ci] = append(large[ci], entry{c, 1})
				} else {
					smallPart[ci] = append(smallPart[ci], entry{c, 1})
				}
			}
		})
		slices.SortFunc(large[ci], func(x, y entry) int { return cmp.Compare(x.col, y.col) })
	}
	type lrow struct{ e, lambda []entry } // large entries, pivot first, and the cells' combination
	basisL := make([]*lrow, firstSmall)
	basis := make([]*row, len(size)) // the rows led by a small atom
	accL, accC, acc := newDense(int(firstSmall)), newDense(len(all)), newDense(len(size))
	// rows are reduced smallest first: the echelon form (and the reduced rows the search
	// reads) does not depend on the order, the fill-in and so the work does
	byCard := slices.Clone(cells)
	slices.SortStableFunc(byCard, func(x, y int) int {
		return cmp.Compare(all[x].Persons.GetCardinality(), all[y].Persons.GetCardinality())
	})
	limit := func() bool {
		if f.Work > o.MaxWork {
			f.Incomplete, f.Why = true, "elimination limit reached"
			return true
		}
		return false
	}
	for _, ci := range byCard {
		accL.load(large[ci])
		accC.set(int32(ci), 1)
		f.Work += int64(len(large[ci]) + 1)
		led := false
		for c := accL.next(0); c >= 0; c = accL.next(c + 1) {
			b := basisL[c]
			if b == nil {
				r := &lrow{e: accL.take(c), lambda: accC.take(0)}
				inv := invmod(r.e[0].val)
				scale(r.e, inv)
				scale(r.lambda, inv)
				basisL[c] = r
				f.Rank++
				led = true
				break
			}
			f.Work += int64(len(b.e) + len(b.lambda))
			if limit() {
				accL.clear()
				accC.clear()
				return nil, false
			}
			k := accL.val[c]
			accL.sub(k, b.e)
			accC.sub(k, b.lambda)
		}
		if led {
			continue
		}
		// every large entry cancelled: the row over the small atoms, from its cells
		lambda := accC.take(0)
		from := roaring.New()
		for _, x := range lambda {
			from.Add(uint32(x.col))
			acc.sub(negmod(x.val), smallPart[x.col])
			f.Work += int64(len(smallPart[x.col]))
		}
		for c := acc.next(0); c >= 0; c = acc.next(c + 1) {
			b := basis[c]
			if b == nil {
				r := &row{e: acc.take(c), from: from}
				normalise(r)
				basis[c] = r
				f.Rank++
				break
			}
			f.Work += int64(len(b.e))
			if limit() {
				acc.clear()
				return nil, false
			}
			acc.sub(acc.val[c], b.e)
			from.Or(b.from)
		}
	}

	return basis, true
}

// reduce returns the rows led by a small atom reduced (in the order of their leading
// columns), or false when the work limit is reached.
func (s *system) reduce(basis []*row) ([]*row, bool) {
	o, f, size, firstSmall := s.o, s.f, s.size, s.firstSmall
	acc := newDense(len(size))
	// the rows that vanish on every large atom, reduced (each pivot zero in the others'
	// rows). Done last to first, a row needs each later pivot's row once: those are
	// reduced already, zero at every other pivot, so subtracting one adds no other.
	var piv []int32
	for c := firstSmall; c < int32(len(size)); c++ {
		if basis[c] != nil {
			piv = append(piv, c)
		}
	}
	for i := len(piv) - 1; i >= 0; i-- {
		r := basis[piv[i]]
		reduce := false
		for _, x := range r.e[1:] {
			if basis[x.col] != nil {
				reduce = true
				break
			}
		}
		if !reduce {
			continue
		}
		acc.load(r.e)
		for _, x := range r.e[1:] {
			b := basis[x.col]
			if b == nil {
				continue
			}
			f.Work += int64(len(b.e))
			if f.Work > o.MaxWork {
				acc.clear()
				f.Incomplete, f.Why = true, "elimination limit reached"
				return nil, false
			}
			acc.sub(acc.val[x.col], b.e)
			r.from.Or(b.from)
		}
		r.e = acc.take(piv[i])
	}
	rows := make([]*row, 0, len(piv))
	for _, c := range piv {
		rows = append(rows, basis[c])
	}
	return rows, true
}

// search reports the groups of the reduced rows: single rows, then the bounded search.
func (s *system) search(rows []*row) {
	all, o, f, size, order := s.all, s.o, s.f, s.size, s.order
	// A group G of small atoms is determined when its indicator is a combination of these
	// rows; the rows being reduced, that combination is the sum of the rows of G's pivot
	// atoms, and it must equal 1 on G's free atoms and 0 on every other free column. So
	// the search chooses pivot rows (at least one: free atoms alone are never determined)
	// and keeps free columns whose sum is 1 as members of the group.
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
			return
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
}

// spread tries to prove, without a search, that no combination of rows (a basis of the
// combinations vanishing on every large atom) is a group of fewer than threshold persons.
// A set of columns on which the rows are independent (an information set, as in coding
// theory) holds a nonzero entry of every nonzero combination. The columns are dealt into
// threshold classes; when the rows are independent on each class, every combination has an
// atom, so a person, in each of them: threshold persons at least, no group. It answers
// false when there are no rows (nothing to prove: Check then has nothing to search either),
// and gives up (false) when a row has fewer entries than classes, when the rows lose rank on a class, or
// when the work passes budget, and the search decides.
func spread(rows []*row, ncols int, threshold int, budget int64) (bool, int64) {
	if len(rows) == 0 {
		return false, 0
	}
	for _, r := range rows {
		if len(r.e) < threshold {
			return false, 0
		}
	}
	th := int32(threshold)
	acc := newDense(ncols)
	lead := make([][]entry, ncols)
	var work int64
	for class := range th {
		var pivots []int32
		for _, r := range rows {
			for _, x := range r.e {
				if x.col%th == class {
					acc.set(x.col, x.val)
				}
			}
			work += int64(len(r.e))
			found := false
			for c := acc.next(0); c >= 0; c = acc.next(c + 1) {
				b := lead[c]
				if b == nil {
					e := acc.take(c)
					scale(e, invmod(e[0].val))
					lead[c] = e
					pivots = append(pivots, c)
					found = true
					break
				}
				if work += int64(len(b)); work > budget {
					break
				}
				acc.sub(acc.val[c], b)
			}
			if !found { // dependent on this class, or out of work
				acc.clear()
				return false, work
			}
		}
		for _, c := range pivots {
			lead[c] = nil
		}
	}
	return true, work
}

// connected returns the cells of nonempty joined, through shared persons,
// to a proposed cell (index ≥ firstProposed), in index order. Cells apart from every
// proposed one cannot combine with them into a group.
func connected(all []Cell, nonempty []int, firstProposed int, ix index) []int {
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
	owner := make([]int32, ix.n) // person → a cell of theirs, plus one
	for _, i := range nonempty {
		ix.each(all[i].Persons, func(x int32) {
			if j := owner[x]; j > 0 {
				if a, b := find(i), find(int(j-1)); a != b {
					parent[a] = b
				}
			} else {
				owner[x] = int32(i + 1)
			}
		})
	}
	roots := map[int]bool{}
	for _, i := range nonempty {
		if i >= firstProposed {
			roots[find(i)] = true
		}
	}
	var out []int
	for _, i := range nonempty {
		if roots[find(i)] {
			out = append(out, i)
		}
	}
	return out
}

// normalise scales r so that its leading value is 1.
func normalise(r *row) {
	if r.e[0].val != 1 {
		scale(r.e, invmod(r.e[0].val))
	}
}

// scale multiplies every value of e by k.
func scale(e []entry, k uint64) {
	for i := range e {
		e[i].val = mulmod(e[i].val, k)
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

// index numbers the persons of a check densely: their rank among everyone in its cells.
type index struct {
	n     int
	dense []int32 // person → number, when persons' numbers are dense enough for an array
	m     map[uint32]int32
}

func newIndex(all []Cell, cells []int) index {
	bs := make([]*roaring.Bitmap, 0, len(cells))
	for _, ci := range cells {
		bs = append(bs, all[ci].Persons)
	}
	u := roaring.FastOr(bs...)
	ix := index{n: int(u.GetCardinality())}
	if ix.n == 0 {
		return ix
	}
	if top := u.Maximum(); uint64(top) < 4*uint64(ix.n)+1<<16 {
		ix.dense = make([]int32, top+1)
	} else {
		ix.m = make(map[uint32]int32, ix.n)
	}
	var i int32
	ix.iterate(u, func(x uint32) {
		if ix.dense != nil {
			ix.dense[x] = i
		} else {
			ix.m[x] = i
		}
		i++
	})
	return ix
}

// iterate calls fn for each person of b, in order, a buffer at a time.
func (ix index) iterate(b *roaring.Bitmap, fn func(uint32)) {
	buf := make([]uint32, 512)
	it := b.ManyIterator()
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		for _, x := range buf[:n] {
			fn(x)
		}
	}
}

// each calls fn with the number of each person of b (all of them in the index).
func (ix index) each(b *roaring.Bitmap, fn func(int32)) {
	if ix.dense != nil {
		ix.iterate(b, func(x uint32) { fn(ix.dense[x]) })
		return
	}
	ix.iterate(b, func(x uint32) { fn(ix.m[x]) })
}

// dense is a work vector over the columns: values, the set of nonzero ones, their count.
type dense struct {
	val   []uint64
	bits  []uint64
	count int
}

func newDense(n int) *dense { return &dense{val: make([]uint64, n), bits: make([]uint64, n/64+1)} }

func (d *dense) set(c int32, v uint64) {
	if v == 0 {
		return
	}
	if d.val[c] == 0 {
		d.bits[c>>6] |= 1 << (c & 63)
		d.count++
	}
	d.val[c] = v
}

// sub subtracts k·e.
func (d *dense) sub(k uint64, e []entry) {
	nk := negmod(k)
	for _, x := range e {
		old := d.val[x.col]
		v := addmod(old, mulmod(nk, x.val))
		d.val[x.col] = v
		switch {
		case old == 0 && v != 0:
			d.bits[x.col>>6] |= 1 << (x.col & 63)
			d.count++
		case old != 0 && v == 0:
			d.bits[x.col>>6] &^= 1 << (x.col & 63)
			d.count--
		}
	}
}

// next returns the first nonzero column at or after c, or −1.
func (d *dense) next(c int32) int32 {
	w := int(c >> 6)
	if w >= len(d.bits) {
		return -1
	}
	word := d.bits[w] &^ (1<<(c&63) - 1)
	for word == 0 {
		if w++; w == len(d.bits) {
			return -1
		}
		word = d.bits[w]
	}
	return int32(w<<6 + bits.TrailingZeros64(word))
}

// take returns the nonzero entries (all at or after c) as a sorted row and clears d.
func (d *dense) take(c int32) []entry {
	out := make([]entry, 0, d.count)
	for w := int(c >> 6); w < len(d.bits) && len(out) < cap(out); w++ {
		for word := d.bits[w]; word != 0; word &= word - 1 {
			col := int32(w<<6 + bits.TrailingZeros64(word))
			out = append(out, entry{col, d.val[col]})
			d.val[col] = 0
		}
		d.bits[w] = 0
	}
	d.count = 0
	return out
}

// load sets d to e (d empty before).
func (d *dense) load(e []entry) {
	for _, x := range e {
		d.set(x.col, x.val)
	}
}

// clear empties d.
func (d *dense) clear() { d.take(0) }
