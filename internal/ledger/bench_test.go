package ledger

import (
	"fmt"
	"math/rand/v2"
	"os"
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
// else 1,000, 2,000, 5,000 and 10,000 cells.
func benchMarks() []int {
	var out []int
	for _, f := range strings.Split(os.Getenv("LEDGER_MARKS"), ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		out = []int{1_000, 2_000, 5_000, 10_000}
	}
	return out
}

// BenchmarkLedger builds a ledger the way Steward would — each new table checked against
// everything released before, released when safe or, when the check could not decide
// within its limits, after a reviewer's approval — and prints the check's time when
// the ledger holds about 1,000 and 10,000 cells, with the ratio between them.
//
//	go test -run '^$' -bench Ledger -benchtime 1x ./internal/ledger/
func BenchmarkLedger(b *testing.B) {
	// lines are printed as they come (b.Logf keeps them to the end and cuts a long log)
	say := func(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }
	for range b.N {
		rng := rand.New(rand.NewPCG(7, 11))
		// a mid-sized research warehouse; $LEDGER_PERSONS for another (the tests use 600–6,000)
		persons := 200_000
		if n, err := strconv.Atoi(os.Getenv("LEDGER_PERSONS")); err == nil && n > 0 {
			persons = n
		}
		w := newWarehouse(persons, rng)
		var released []Cell
		marks := benchMarks()
		var times []time.Duration
		refused, incomplete, tables := 0, 0, 0
		decided := map[string]int{}
		budget := 15 * time.Minute
		if d, err := time.ParseDuration(os.Getenv("LEDGER_BUDGET")); err == nil {
			budget = d
		}
		// $LEDGER_BUILD_WORK bounds the checks between the marks (not those timed at a mark),
		// to reach a large ledger sooner: a check it stops is approved as any incomplete one
		var buildWork int64
		if n, err := strconv.ParseInt(os.Getenv("LEDGER_BUILD_WORK"), 10, 64); err == nil {
			buildWork = n
		}
		began := time.Now()
		for len(marks) > 0 {
			if time.Since(began) > budget {
				say("stopped after %v: the ledger reached %d cells (%d tables asked, %d refused, %d incomplete); not reached: %v cells",
					budget, len(released), tables, refused, incomplete, marks)
				break
			}
			t := w.table(fmt.Sprint("r", tables), rng, k)
			tables++
			seen := released // what this check was given
			start := time.Now()
			o := Options{Threshold: k}
			if len(released)+len(t) < marks[0] {
				o.MaxWork = buildWork // between marks, when set
			}
			f := Check(released, t, o)
			el := time.Since(start)
			if el > time.Second {
				say("slow check: %v at %d cells, %d atoms (%d small), rank %d, work %d, steps %d, decided by %q, incomplete %v",
					el.Round(time.Millisecond), len(released), f.Atoms, f.SmallAtoms, f.Rank, f.Work, f.Steps, f.Decided, f.Incomplete)
			}
			decided[f.Decided]++
			switch {
			case f.Incomplete:
				// Steward sends it to a reviewer; here the reviewer approves, so that the
				// ledger keeps growing (the harder case for every check that follows)
				incomplete++
				released = append(released, t...)
			case len(f.Groups) > 0:
				refused++
			default:
				released = append(released, t...)
			}
			if len(released) >= marks[0] {
				say("ledger of %d cells (%d tables asked, %d refused, %d incomplete and approved by a reviewer): check %v, %d atoms (%d small), rank %d, work %d, steps %d, decided by %q, incomplete %v; checks so far decided by %v",
					len(released), tables, refused, incomplete, el.Round(time.Millisecond), f.Atoms, f.SmallAtoms, f.Rank, f.Work, f.Steps, f.Decided, f.Incomplete, decided)
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
				say("  baseline (the same check without the proof and the passes before the search): %v, steps %d, incomplete %v, %d groups; this check %v, decided by %q, %d groups: baseline/this %.1f×",
					bl.Round(time.Millisecond), g.Steps, g.Incomplete, len(g.Groups), el.Round(time.Millisecond), f.Decided, len(f.Groups), float64(bl)/float64(el))
			}
		}
		if len(times) >= 2 {
			say("check at the last mark / at the one before: %.1f×", float64(times[len(times)-1])/float64(times[len(times)-2]))
		}
	}
}

// checkBaseline is Check without the passes before the search (the proof by spread, single
// rows, dead rows).
func checkBaseline(released, proposed []Cell, o Options) Finding {
	o.baseline = true
	return Check(released, proposed, o)
}
