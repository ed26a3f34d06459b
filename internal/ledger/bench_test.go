package ledger

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// warehouse is a synthetic research population: demographics and 40 conditions of varied
// prevalence, like the concepts cohort queries are built from.
type warehouse struct {
	n          int
	demo       [4][]uint8 // sex, age band, race, region
	levels     [4]int
	conditions []*roaring.Bitmap
}

func newWarehouse(n int, rng *rand.Rand) *warehouse {
	w := &warehouse{n: n, levels: [4]int{2, 8, 5, 4}}
	for d := range w.demo {
		w.demo[d] = make([]uint8, n)
		for i := range w.demo[d] {
			w.demo[d][i] = uint8(rng.IntN(w.levels[d]))
		}
	}
	for c := 0; c < 40; c++ {
		prev := 0.01 + 0.2*rng.Float64()
		b := roaring.New()
		for i := 0; i < n; i++ {
			if rng.Float64() < prev {
				b.Add(uint32(i))
			}
		}
		w.conditions = append(w.conditions, b)
	}
	return w
}

// table is what an analyst would ask for: a cohort (one condition, or two together) by
// one or two demographics, cells under the threshold left out, the cohort's size shown.
func (w *warehouse) table(id string, rng *rand.Rand, th int) []Cell {
	cohort := w.conditions[rng.IntN(len(w.conditions))].Clone()
	if rng.IntN(2) == 0 {
		cohort.Or(w.conditions[rng.IntN(len(w.conditions))])
	}
	dims := []int{rng.IntN(4)}
	if rng.IntN(2) == 0 {
		if d := rng.IntN(4); d != dims[0] {
			dims = append(dims, d)
		}
	}
	byKey := map[int]*roaring.Bitmap{}
	it := cohort.Iterator()
	for it.HasNext() {
		x := it.Next()
		key := 0
		for _, d := range dims {
			key = key*10 + int(w.demo[d][x])
		}
		if byKey[key] == nil {
			byKey[key] = roaring.New()
		}
		byKey[key].Add(x)
	}
	out := []Cell{{Release: id, Label: "total", Persons: cohort}}
	for key, b := range byKey {
		if int(b.GetCardinality()) >= th {
			out = append(out, Cell{Release: id, Label: fmt.Sprint(dims, key), Persons: b})
		}
	}
	return out
}

// benchMarks are the ledger sizes BenchmarkLedger reports at: $LEDGER_MARKS (comma-separated),
// else 250, 500, 1,000 and 10,000 cells.
func benchMarks() []int {
	var out []int
	for _, f := range strings.Split(os.Getenv("LEDGER_MARKS"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []int{250, 500, 1_000, 10_000}
	}
	return out
}

// BenchmarkLedger builds a ledger the way Steward would — each new table checked against
// everything released before, released only when safe — and prints the check's time when
// the ledger holds about 1,000 and 10,000 cells, with the ratio between them.
//
//	go test -run '^$' -bench Ledger -benchtime 1x ./internal/ledger/
func BenchmarkLedger(b *testing.B) {
	for range b.N {
		rng := rand.New(rand.NewPCG(7, 11))
		w := newWarehouse(20_000, rng)
		var released []Cell
		marks := benchMarks()
		var times []time.Duration
		refused, incomplete, tables := 0, 0, 0
		budget := 15 * time.Minute
		if d, err := time.ParseDuration(os.Getenv("LEDGER_BUDGET")); err == nil {
			budget = d
		}
		began := time.Now()
		for len(marks) > 0 {
			if time.Since(began) > budget {
				b.Logf("stopped after %v: the ledger reached %d cells (%d tables asked, %d refused, %d incomplete); not reached: %v cells",
					budget, len(released), tables, refused, incomplete, marks)
				break
			}
			t := w.table(fmt.Sprint("r", tables), rng, k)
			tables++
			seen := released // what this check was given
			start := time.Now()
			f := Check(released, t, Options{Threshold: k})
			el := time.Since(start)
			if el > time.Second {
				b.Logf("slow check: %v at %d cells, %d atoms (%d small), rank %d, work %d, steps %d, incomplete %v",
					el.Round(time.Millisecond), len(released), f.Atoms, f.SmallAtoms, f.Rank, f.Work, f.Steps, f.Incomplete)
			}
			switch {
			case f.Incomplete:
				incomplete++
			case len(f.Groups) > 0:
				refused++
			default:
				released = append(released, t...)
			}
			if len(released) >= marks[0] {
				b.Logf("ledger of %d cells (%d tables asked, %d refused, %d incomplete): check %v, %d atoms (%d small), rank %d, work %d, steps %d",
					len(released), tables, refused, incomplete, el.Round(time.Millisecond), f.Atoms, f.SmallAtoms, f.Rank, f.Work, f.Steps)
				times = append(times, el)
				marks = marks[1:]
				// the baseline on the same ledger and the same proposed table, up to
				// $LEDGER_BASELINE_MAX cells (default 600: beyond, it takes minutes)
				maxBase := 600
				if n, err := strconv.Atoi(os.Getenv("LEDGER_BASELINE_MAX")); err == nil {
					maxBase = n
				}
				if len(seen) > maxBase {
					continue
				}
				start = time.Now()
				g := checkBaseline(seen, t, Options{Threshold: k})
				bl := time.Since(start)
				b.Logf("  baseline (the check of bdb155f): %v, steps %d, incomplete %v, %d groups; this check %v, decided by %q, %d groups: baseline/this %.1f×",
					bl.Round(time.Millisecond), g.Steps, g.Incomplete, len(g.Groups), el.Round(time.Millisecond), f.Decided, len(f.Groups), float64(bl)/float64(el))
			}
		}
		if len(times) >= 2 {
			b.Logf("check at the last mark / at the one before: %.1f×", float64(times[len(times)-1])/float64(times[len(times)-2]))
		}
	}
}

// checkBaseline is Check as it was (commit bdb155f) before single rows were decided ahead
// of the search and dead rows removed before it, kept so that BenchmarkLedger measures both
// on the same ledger.
func checkBaseline(released, proposed []Cell, o Options) Finding {
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
		if sizeAt(r.e[0].col) >= o.Threshold {
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
