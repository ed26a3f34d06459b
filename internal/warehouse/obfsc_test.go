package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/cohort"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// obfuscatedUser adds a fresh DATA_OBFSC user of north in diab.
func obfuscatedUser(t *testing.T, w *warehouse.Warehouse, name string) access.Principal {
	t.Helper()
	ctx := context.Background()
	must(t, w.Access.CreateUser(ctx, root, access.User{Name: name, Agency: "north"}, "correct horse battery"))
	must(t, w.Access.Grant(ctx, root, name, "diab", access.DataObfsc))
	p, err := w.Access.Principal(ctx, name, "test")
	must(t, err)
	return p
}

// ids and times differ between answers of one shape.
var idsAndTimes = regexp.MustCompile(`"(query_id|instance_id|result_id|created)":"[^"]*"`)

// TestSmallCountsLookAlike: a cohort of 0, 1, 2 or 3 patients gives an obfuscated user,
// breakdowns asked for, byte-identical answers apart from ids and times — no cell, no sum,
// the same text — while a cohort above the threshold shows its count and cells.
func TestSmallCountsLookAlike(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		// Cohorts of exactly 0…3 patients: a diagnosis code within one month.
		small := map[int64]querydef.Query{}
		for i := 0; i < 3000 && len(small) < 4; i++ {
			p := panel(item(synthetic.DiagnosisPath((i * 13) % 500)))
			month := time.Date(2015, time.Month(1+i%40), 1, 0, 0, 0, 0, time.UTC)
			p.DateFrom, p.DateTo = &querydef.Bound{At: month.Format(time.DateOnly)}, &querydef.Bound{At: month.AddDate(0, 1, 0).Format(time.DateOnly), Exclusive: true}
			q := querydef.Query{Panels: []querydef.Panel{p}}
			a, err := w.Run(ctx, users["agg"], "diab", q)
			must(t, err)
			if _, seen := small[a.Count]; a.Count <= 3 && !seen {
				small[a.Count] = q
			}
		}
		if len(small) != 4 {
			t.Fatalf("found cohorts of %d of the sizes 0…3 only", len(small))
		}
		shape := ""
		for n := int64(0); n <= 3; n++ {
			p := obfuscatedUser(t, w, fmt.Sprintf("small%d", n))
			a, err := w.RunWith(ctx, p, "diab", small[n], warehouse.RunOptions{Breakdowns: []string{"all"}})
			must(t, err)
			b, _ := json.Marshal(a)
			got := idsAndTimes.ReplaceAllString(string(b), `"$1":"…"`)
			if shape == "" {
				shape = got
				if a.Count != 0 || a.Shown != "< 60" || a.Breakdowns != nil || a.Budget == nil || a.Budget.Cost != 0.025 {
					t.Errorf("a cohort of 0: got %s; want 0 \"< 60\", no breakdowns, the cost of a total and 4 dimensions", got)
				}
			} else if got != shape {
				t.Errorf("a cohort of %d:\n got %s\nwant %s (as for 0)", n, got, shape)
			}
		}
		// Above the threshold the answer has another shape: the count and every cell.
		women := one(item(`\i2b2\Demographics\Sex\F\`))
		a, err := w.RunWith(ctx, obfuscatedUser(t, w, "large"), "diab", women, warehouse.RunOptions{Breakdowns: []string{"all"}})
		must(t, err)
		if a.Count < 60 || len(a.Breakdowns) != 4 || len(a.Breakdowns["age"]) < 9 {
			t.Errorf("women: got %d %q with breakdowns %v; want a count of at least 60 and every cell of the 4 dimensions", a.Count, a.Shown, a.Breakdowns)
		}
	})
}

// TestBudgetSpendIsAtomic hammers one user's budget from many goroutines through the whole
// answer (evaluation, store, budget, lockout, audit) — run with -race: exactly the budget's
// 20 new counts are answered, the rest refused with 429 and audited, and one question asked
// by every goroutine at once is charged once.
func TestBudgetSpendIsAtomic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		p := users["obfsc"]
		const workers, each = 6, 6
		var mu sync.Mutex
		charged, free, refused := 0, 0, 0
		var wg sync.WaitGroup
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					q := one(item(synthetic.DiagnosisPath(g*each + i)))
					if i == 0 {
						q = one(item(`\i2b2\Diagnoses\`)) // every goroutine's first question is the same
					}
					a, err := w.Run(ctx, p, "diab", q)
					mu.Lock()
					switch {
					case errors.Is(err, budget.ErrSpent) && derrors.Kind(err) == derrors.TooMany:
						refused++
					case err != nil:
						t.Errorf("run: %v", err)
					case a.Budget.Cost == 0:
						free++
					default:
						charged++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		st, err := w.Budget(ctx, p, "diab")
		must(t, err)
		if charged != 20 || st.Spent != 0.1 || st.CountsLeft != 0 || charged+free+refused != workers*each {
			t.Errorf("%d charged, %d free, %d refused; spent %g, %d left; want 20 charged, spent 0.1, none left, %d in all",
				charged, free, refused, st.Spent, st.CountsLeft, workers*each)
		}
		var audited int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.budget_refused' AND actor = 'obfsc'`).Scan(&audited))
		if audited != refused {
			t.Errorf("%d refusals audited, want %d", audited, refused)
		}
	})
}

// TestTotalnumRefusedWholeWhenTheBudgetCannotPay: a listing whose new totalnums exceed what
// is left is refused whole (nothing spent) and audited; a smaller one is answered.
func TestTotalnumRefusedWholeWhenTheBudgetCannotPay(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	w, users := world(t, db)
	ctx := context.Background()
	p := users["obfsc"]
	for i := range 15 {
		_, err := w.Run(ctx, p, "diab", one(item(synthetic.DiagnosisPath(i))))
		must(t, err)
	}
	// 5 counts left; the chapters are 10.
	if _, err := w.ChildrenCounted(ctx, p, "diab", `\i2b2\Diagnoses\ICD10\`); !errors.Is(err, budget.ErrSpent) {
		t.Errorf("10 totalnums with 5 counts left: got %v, want the budget's refusal", err)
	}
	st, err := w.Budget(ctx, p, "diab")
	must(t, err)
	var audited int
	must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.budget_refused' AND detail LIKE '%totalnums%'`).Scan(&audited))
	if st.CountsLeft != 5 || audited != 1 {
		t.Errorf("after the refusal: %d counts left, %d refusals audited; want 5 and 1", st.CountsLeft, audited)
	}
	cs, err := w.ChildrenCounted(ctx, p, "diab", `\i2b2\Demographics\Sex\`)
	must(t, err)
	if len(cs) != 2 || cs[0].Totalnum == nil || cs[0].TotalnumShown == "" {
		t.Errorf("the sexes' totalnums: got %+v", cs)
	}
	exact, err := w.ChildrenCounted(ctx, users["agg"], "diab", `\i2b2\Demographics\Sex\`)
	must(t, err)
	e, err := w.Run(ctx, users["agg"], "diab", one(item(`\i2b2\Demographics\Sex\F\`)))
	must(t, err)
	if *exact[0].Totalnum != e.Count {
		t.Errorf("DATA_AGG's totalnum of women %d, their exact count %d: want equal", *exact[0].Totalnum, e.Count)
	}
}

// TestRepeatOnAnotherDayTellsNothingNew: where ages come from birth dates (an i2b2 export
// without age_in_years_num), a cohort's age breakdown changes from day to day while the
// question — and so its noise — stays the same. Recomputed under the same noise, a repeat a
// year later would give the exact number of patients who moved up an age band: the repeat
// must give the answer the user was given, at no cost.
func TestRepeatOnAnotherDayTellsNothingNew(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	w, users := world(t, db)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `UPDATE patient_dimension SET age_in_years_num = NULL`); err != nil {
		t.Fatal(err)
	}
	// A site with little noise and a low threshold, so that this small warehouse's cells show.
	w.Settings.Sigma, w.Settings.BreakdownSigma, w.Settings.Threshold, w.Settings.Budget = 2, 2, 5, 2
	defer func(f func() string) { cohort.Today = f }(cohort.Today)
	women := one(item(`\i2b2\Demographics\Sex\F\`))
	ask := func(day string) warehouse.Answer {
		t.Helper()
		cohort.Today = func() string { return day }
		a, err := w.RunWith(ctx, users["obfsc"], "diab", women, warehouse.RunOptions{Breakdowns: []string{"age"}})
		must(t, err)
		return a
	}
	first, later := ask("2025-06-01"), ask("2026-09-01")
	if first.Count == 0 || len(first.Breakdowns["age"]) < 9 {
		t.Fatalf("women: got %d %v, want a count and its age bands", first.Count, first.Breakdowns)
	}
	if fmt.Sprint(later.Breakdowns) != fmt.Sprint(first.Breakdowns) || later.Count != first.Count || later.Budget.Cost != 0 {
		diff := map[string]int64{}
		for cell, n := range later.Breakdowns["age"] {
			diff[cell] = n - first.Breakdowns["age"][cell]
		}
		t.Errorf("the same question 15 months later: age bands moved by %v at a cost of %v; want the first answer again at no cost", diff, later.Budget.Cost)
	}
	// The exact counts did change: the test is not vacuous.
	cohort.Today = func() string { return "2025-06-01" }
	e1, err := w.RunWith(ctx, users["agg"], "diab", women, warehouse.RunOptions{})
	must(t, err)
	cohort.Today = func() string { return "2026-09-01" }
	e2, err := w.RunWith(ctx, users["agg"], "diab", women, warehouse.RunOptions{})
	must(t, err)
	if fmt.Sprint(e1.Breakdowns["age"]) == fmt.Sprint(e2.Breakdowns["age"]) {
		t.Fatalf("the exact age bands did not change between the two days: %v", e1.Breakdowns["age"])
	}
}
