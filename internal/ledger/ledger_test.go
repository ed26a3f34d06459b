package ledger

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
)

// span returns persons lo … hi−1.
func span(lo, hi uint32) *roaring.Bitmap {
	b := roaring.New()
	b.AddRange(uint64(lo), uint64(hi))
	return b
}

func or(bs ...*roaring.Bitmap) *roaring.Bitmap { return roaring.FastOr(bs...) }

func cell(release, label string, b *roaring.Bitmap) Cell {
	return Cell{Release: release, Label: label, Persons: b}
}

const k = 10 // the threshold of the tests: groups of 1 to 9 persons must not be determined

func mustRefuse(t *testing.T, f Finding, persons int, releases ...string) {
	t.Helper()
	if f.Incomplete {
		t.Fatalf("check incomplete (%s): %+v", f.Why, f)
	}
	if len(f.Groups) == 0 {
		t.Fatalf("no group found; the release would give back %d persons exactly (%+v)", persons, f)
	}
	g := f.Groups[0]
	if g.Persons != persons {
		t.Errorf("group of %d persons reported, want %d", g.Persons, persons)
	}
	for _, r := range releases {
		found := false
		for _, x := range g.Releases {
			found = found || x == r
		}
		if !found {
			t.Errorf("explanation names releases %v, want %s among them", g.Releases, r)
		}
	}
}

func mustPass(t *testing.T, f Finding) {
	t.Helper()
	if !f.Safe() {
		t.Fatalf("an honest release refused: %+v", f)
	}
}

// The four differencing routes of issue 16, each giving back a 5-person clinic.

func TestSamePopulationUnderAnotherLabel(t *testing.T) {
	clinic := span(0, 55) // 55 persons, 5 of them in the small clinic 50…54
	released := []Cell{cell("r1", "region=north", clinic)}
	proposed := []Cell{cell("r2", "population=adults-north-excluding-clinic", span(0, 50))}
	mustRefuse(t, Check(released, proposed, Options{Threshold: k}), 5, "r1", "r2")
}

func TestChainAMinusCMinusB(t *testing.T) {
	a := span(0, 100)
	c := span(0, 60)
	b := span(60, 95) // A − C − B = persons 95…99
	released := []Cell{cell("rA", "all", a), cell("rC", "under 60", c)}
	mustRefuse(t, Check(released, []Cell{cell("rB", "60 to 94", b)}, Options{Threshold: k}), 5, "rA", "rB", "rC")
	// each pair alone is harmless
	mustPass(t, Check(released[:1], []Cell{cell("rB", "60 to 94", b)}, Options{Threshold: k}))
	mustPass(t, Check(released[1:], []Cell{cell("rB", "60 to 94", b)}, Options{Threshold: k}))
}

func TestLinkedTablesWithDifferentLabels(t *testing.T) {
	// table 1: clinic × sex with the clinic's 7 women suppressed (not released);
	// table 2, another label: persons per clinic
	men, women := span(0, 45), span(45, 52)
	other := span(100, 160)
	released := []Cell{cell("t1", "clinic=X,sex=M", men), cell("t1", "clinic=Y,sex=M", other)}
	proposed := []Cell{cell("t2", "site=X", or(men, women)), cell("t2", "site=Y", other)}
	mustRefuse(t, Check(released, proposed, Options{Threshold: k}), 7, "t1", "t2")
}

func TestComplementWithinTable(t *testing.T) {
	// a table's total is public; one of its cells is suppressed, the others shown
	total := span(0, 40)
	released := []Cell{cell("r1", "cohort size", total)}
	proposed := []Cell{cell("r2", "age 18-64", span(0, 34))} // 65+ (6 persons) suppressed
	mustRefuse(t, Check(released, proposed, Options{Threshold: k}), 6)
}

func TestUnionDeterminedWhenNoAtomIs(t *testing.T) {
	// atoms P, Q (3 persons each) are never alone, but P ∪ Q = A − R is determined
	P, Q, R, S, T := span(0, 3), span(3, 6), span(6, 30), span(30, 50), span(50, 80)
	released := []Cell{
		cell("r1", "a", or(P, Q, R)),
		cell("r2", "c", or(P, S)),
		cell("r3", "d", or(S, T)),
	}
	mustPass(t, Check(released[:2], released[2:], Options{Threshold: k}))
	f := Check(released, []Cell{cell("r4", "r", R)}, Options{Threshold: k})
	mustRefuse(t, f, 6, "r1", "r4")
}

func TestHonestReleasesPass(t *testing.T) {
	// the same population again under another label: nothing new
	pop := span(0, 500)
	mustPass(t, Check([]Cell{cell("r1", "all", pop)}, []Cell{cell("r2", "everyone", pop.Clone())}, Options{Threshold: k}))
	// a partition into large cells, then another partition into large cells whose
	// intersections are large too
	var released, proposed []Cell
	for i := uint32(0); i < 5; i++ {
		released = append(released, cell("age", "band", span(i*100, i*100+100)))
	}
	for i := uint32(0); i < 4; i++ {
		proposed = append(proposed, cell("sex", "x", span(i*125, i*125+125)))
	}
	mustPass(t, Check(released, proposed, Options{Threshold: k}))
	// disjoint from everything released: not even looked at
	f := Check(released, []Cell{cell("other", "x", span(10_000, 10_020))}, Options{Threshold: k})
	mustPass(t, f)
	if f.Cells != 1 {
		t.Errorf("%d cells considered, want only the proposed one", f.Cells)
	}
}

func TestLimitsFailClosed(t *testing.T) {
	a, c, b := span(0, 100), span(0, 60), span(60, 95)
	f := Check([]Cell{cell("rA", "", a), cell("rC", "", c)}, []Cell{cell("rB", "", b)}, Options{Threshold: k, MaxWork: 3})
	if !f.Incomplete || f.Safe() {
		t.Fatalf("elimination over its limit reported %+v, want Incomplete and not safe", f)
	}
}

// TestAgreesWithRationalArithmetic compares Check with a brute force over the rationals on
// random small ledgers: a group of atoms is determined exactly when adding its indicator
// to the cells' rows does not raise their rank.
func TestAgreesWithRationalArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	determined, checked := 0, 0
	for trial := 0; trial < 400; trial++ {
		persons := 20 + rng.IntN(30)
		ncells := 2 + rng.IntN(6)
		var cells []Cell
		for i := 0; i < ncells; i++ {
			b := roaring.New()
			lo, hi := rng.IntN(persons), rng.IntN(persons)
			if lo > hi {
				lo, hi = hi, lo
			}
			if rng.IntN(2) == 0 { // an interval
				b.AddRange(uint64(lo), uint64(hi+1))
			} else { // a random subset
				for x := 0; x < persons; x++ {
					if rng.IntN(3) == 0 {
						b.Add(uint32(x))
					}
				}
			}
			cells = append(cells, cell("r", "", b))
		}
		split := 1 + rng.IntN(ncells-1)
		th := 4 + rng.IntN(8)
		f := Check(cells[:split], cells[split:], Options{Threshold: th, MaxGroups: 1})
		if f.Incomplete {
			t.Fatalf("trial %d: incomplete on a tiny ledger", trial)
		}
		want, ok := bruteForce(cells, split, th)
		if !ok {
			continue
		}
		if want != (len(f.Groups) > 0) {
			t.Fatalf("trial %d: Check found groups %v, brute force says determined=%v (threshold %d)", trial, f.Groups, want, th)
		}
		checked++
		if want {
			determined++
		}
	}
	t.Logf("%d of %d random ledgers determine a small group", determined, checked)
	if determined < 20 || determined > checked-20 {
		t.Fatalf("the random ledgers are not a fair test: %d of %d determined", determined, checked)
	}
}

// bruteForce: atoms of the cells connected to the proposed ones (index ≥ split), every
// subset of small atoms with 1 … th−1 persons, rank test over the rationals.
func bruteForce(cells []Cell, split, th int) (determined, ok bool) {
	var nonempty []int
	for i, c := range cells {
		if !c.Persons.IsEmpty() {
			nonempty = append(nonempty, i)
		}
	}
	idx := connected(cells, nonempty, split, newIndex(cells, nonempty))
	sig := map[uint32][]int{}
	for _, i := range idx {
		it := cells[i].Persons.Iterator()
		for it.HasNext() {
			x := it.Next()
			sig[x] = append(sig[x], i)
		}
	}
	type atom struct {
		size int
		in   map[int]bool
	}
	byKey := map[string]*atom{}
	var atoms []*atom
	for _, s := range sig {
		key := ""
		for _, i := range s {
			key += string(rune('A' + i))
		}
		a, ok := byKey[key]
		if !ok {
			a = &atom{in: map[int]bool{}}
			for _, i := range s {
				a.in[i] = true
			}
			byKey[key] = a
			atoms = append(atoms, a)
		}
		a.size++
	}
	var rows [][]*big.Rat
	for _, i := range idx {
		r := make([]*big.Rat, len(atoms))
		for j, a := range atoms {
			r[j] = new(big.Rat)
			if a.in[i] {
				r[j].SetInt64(1)
			}
		}
		rows = append(rows, r)
	}
	base := rank(rows)
	var smallIdx []int
	for j, a := range atoms {
		if a.size < th {
			smallIdx = append(smallIdx, j)
		}
	}
	if len(smallIdx) > 16 {
		return false, false // too many subsets to try
	}
	for mask := 1; mask < 1<<len(smallIdx); mask++ {
		n := 0
		g := make([]*big.Rat, len(atoms))
		for j := range g {
			g[j] = new(big.Rat)
		}
		for b, j := range smallIdx {
			if mask&(1<<b) != 0 {
				n += atoms[j].size
				g[j].SetInt64(1)
			}
		}
		if n >= th {
			continue
		}
		if rank(append(clone(rows), g)) == base {
			return true, true
		}
	}
	return false, true
}

func clone(rows [][]*big.Rat) [][]*big.Rat {
	out := make([][]*big.Rat, len(rows))
	for i, r := range rows {
		out[i] = make([]*big.Rat, len(r))
		for j, v := range r {
			out[i][j] = new(big.Rat).Set(v)
		}
	}
	return out
}

func rank(m [][]*big.Rat) int {
	m = clone(m)
	r := 0
	for c := 0; len(m) > 0 && c < len(m[0]) && r < len(m); c++ {
		p := -1
		for i := r; i < len(m); i++ {
			if m[i][c].Sign() != 0 {
				p = i
				break
			}
		}
		if p < 0 {
			continue
		}
		m[r], m[p] = m[p], m[r]
		for i := range m {
			if i == r || m[i][c].Sign() == 0 {
				continue
			}
			f := new(big.Rat).Quo(m[i][c], m[r][c])
			for j := c; j < len(m[i]); j++ {
				m[i][j].Sub(m[i][j], new(big.Rat).Mul(f, m[r][j]))
			}
		}
		r++
	}
	return r
}

// TestSingleRowGroupDecidedBeforeSearch: a small atom that the cells determine on their
// own (its reduced row has no other entry) is found whatever the search's budget. Before,
// the search reached its limit on an earlier row and the check said Incomplete instead of
// naming the 5-person group.
func TestSingleRowGroupDecidedBeforeSearch(t *testing.T) {
	a, b := span(0, 3), span(3, 6) // two small atoms whose difference alone is known
	l, m := span(1000, 1100), span(3000, 3100)
	d := span(2000, 2005) // the 5 persons given back by S − T
	released := []Cell{
		cell("rP", "", or(a, l)),
		cell("rQ", "", or(b, l)),
		cell("rU", "", or(l, m, span(5000, 5100))),
		cell("rT", "", m),
	}
	proposed := []Cell{cell("rS", "", or(d, m))}
	f := Check(released, proposed, Options{Threshold: k, MaxSteps: 1})
	if len(f.Groups) != 1 || f.Groups[0].Persons != 5 || !slices.Equal(f.Groups[0].Releases, []string{"rS", "rT"}) {
		t.Fatalf("with the search over its limit: %+v, want the 5-person group of rS and rT named", f)
	}
	if f.Safe() {
		t.Fatal("reported safe")
	}
	// one group asked for: the single rows settle it and the search never runs
	f = Check(released, proposed, Options{Threshold: k, MaxSteps: 1, MaxGroups: 1})
	mustRefuse(t, f, 5, "rS", "rT")
	if f.Decided != "rows" || f.Steps != 0 {
		t.Errorf("decided by %q after %d search steps, want rows and none", f.Decided, f.Steps)
	}
}

// TestSameDecisionAsBaseline: on random small warehouses, Check (single rows first, dead
// rows removed before the search) decides as the check before those changes did: the same
// safe/refused answer.
func TestSameDecisionAsBaseline(t *testing.T) {
	safe, refused, steps, before := 0, 0, 0, 0
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 3))
		w := newWarehouse(600, rng)
		var released []Cell
		for i := range 12 {
			tb := w.table(fmt.Sprint("r", i), rng, k)
			f := Check(released, tb, Options{Threshold: k, MaxSteps: 20_000})
			g := checkBaseline(released, tb, Options{Threshold: k, MaxSteps: 20_000})
			if f.Safe() != g.Safe() || (len(f.Groups) > 0) != (len(g.Groups) > 0) {
				t.Fatalf("seed %d table %d: safe %v with %d groups, before %v with %d", seed, i, f.Safe(), len(f.Groups), g.Safe(), len(g.Groups))
			}
			steps, before = steps+f.Steps, before+g.Steps
			if f.Safe() {
				safe++
				released = append(released, tb...)
			} else {
				refused++
			}
		}
	}
	if safe == 0 || refused == 0 {
		t.Fatalf("%d safe and %d refused checks: the comparison needs both", safe, refused)
	}
	t.Logf("%d safe, %d refused; search steps %d, before %d", safe, refused, steps, before)
}

// TestSpreadDecidesAsTheSearch: where the proof by disjoint information sets decides a
// check, the search (the baseline, without it) decides the same — and the proof decides
// some of the checks of a warehouse large enough for it.
func TestSpreadDecidesAsTheSearch(t *testing.T) {
	spread, checks := 0, 0
	for seed := range uint64(6) {
		rng := rand.New(rand.NewPCG(seed, 5))
		w := newWarehouse(6_000, rng)
		var released []Cell
		for i := range 10 {
			tb := w.table(fmt.Sprint("r", i), rng, k)
			f := Check(released, tb, Options{Threshold: k})
			checks++
			if f.Decided != "spread" {
				if f.Safe() {
					released = append(released, tb...)
				}
				continue
			}
			spread++
			if !f.Safe() {
				t.Fatalf("seed %d table %d: decided by the proof but not safe: %+v", seed, i, f)
			}
			g := checkBaseline(released, tb, Options{Threshold: k, MaxSteps: 2_000_000})
			if !g.Safe() {
				t.Fatalf("seed %d table %d: the proof says safe, the search found %d groups (incomplete %v)", seed, i, len(g.Groups), g.Incomplete)
			}
			released = append(released, tb...)
		}
	}
	t.Logf("%d of %d checks decided by the proof", spread, checks)
	if spread == 0 {
		t.Fatal("the proof decided none of the checks: the test shows nothing")
	}
}
