package budget_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestUnits(t *testing.T) {
	for _, c := range []struct {
		rho  float64
		want int64
	}{{0.1, 100_000_000}, {1.0 / 200, 5_000_000}, {budget.CountRho(10), 5_000_000}, {1e-9 * 1.5, 2}, {budget.CountRho(3), 55_555_556}} {
		if got := budget.Units(c.rho); got != c.want {
			t.Errorf("Units(%g): got %d, want %d", c.rho, got, c.want)
		}
	}
	// The defaults fit exactly 20 counts, not 19 for a rounding error.
	if n := budget.Units(0.1) / budget.Units(budget.CountRho(10)); n != 20 {
		t.Errorf("counts in ρ 0.1 at σ 10: got %d, want 20", n)
	}
}

func TestPeriod(t *testing.T) {
	for _, c := range []struct {
		at         string
		days       int
		start, end string
	}{
		{"2026-12-03T10:00:00Z", 1, "2026-12-03", "2026-12-04"},
		{"2026-12-03T10:00:00Z", 30, "2026-12-03", "2027-01-02"}, // day 20790 = 693·30
		{"2027-01-01T23:59:59Z", 30, "2026-12-03", "2027-01-02"},
		{"2026-12-02T23:59:59Z", 30, "2026-11-03", "2026-12-03"},
		{"1969-12-31T23:00:00Z", 1, "1969-12-31", "1970-01-01"},
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		s, e := budget.Period(at, c.days)
		if s.Format(time.DateOnly) != c.start || e.Format(time.DateOnly) != c.end {
			t.Errorf("Period(%s, %d): got %s – %s, want %s – %s", c.at, c.days, s.Format(time.DateOnly), e.Format(time.DateOnly), c.start, c.end)
		}
	}
}

// The default settings' guarantee, as the README states it.
func TestGuaranteeOfTheDefaults(t *testing.T) {
	g := budget.Params{Sigma: 10, BreakdownSigma: 10, Minimum: 3, Threshold: 60, Rho: 0.1, PeriodDays: 30}.State()
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"counts per period", float64(g.Counts), 20},
		{"ε", math.Round(g.Epsilon*100) / 100, 2.45},
		{"spread", math.Round(g.Spread*100) / 100, 2.24},
		{"exact recovery %", math.Round(g.ExactRecovery*1000) / 10, 17.7},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if g.Delta < 1e-6 || g.Delta > 5e-6 {
		t.Errorf("δ: got %.2g, want between 1e-6 and 5e-6", g.Delta)
	}
	t.Log(g.Text)
}

// TestSpendIsExactUnderConcurrency hammers one user's budget from many goroutines, each in
// its own transaction: exactly as many answers as the budget holds are charged, the rest
// refused, and a release asked by several at once is charged once.
func TestSpendIsExactUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
		a := budget.Account{User: "olga", Project: "diab", At: at, PeriodDays: 30, Limit: budget.Units(0.1)}
		cost := budget.Units(budget.CountRho(10))
		const workers, each = 8, 10
		var mu sync.Mutex
		charged, free, refused := 0, 0, 0
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					// Every worker also asks the release "shared" once: charged once in all.
					key := fmt.Sprintf("q%d-%d", w, i)
					if i == 0 {
						key = "shared"
					}
					var s budget.State
					err := db.Tx(ctx, func(tx *sql.Tx) error {
						var err error
						s, err = budget.Spend(ctx, db, tx, a, []budget.Release{{Key: key, Cost: cost}}, cost)
						return err
					})
					mu.Lock()
					switch {
					case errors.Is(err, budget.ErrSpent) && errors.Is(err, derrors.TooMany):
						refused++
					case err != nil:
						t.Errorf("spend: %v", err)
					case s.Cost == 0:
						free++
					default:
						charged++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		s, err := budget.Read(ctx, db, a, cost)
		must(t, err)
		if charged != 20 || s.Spent != 0.1 || s.CountsLeft != 0 {
			t.Errorf("charged %d answers, spent %g, %d left; want 20, 0.1, 0", charged, s.Spent, s.CountsLeft)
		}
		if charged+free+refused != workers*each {
			t.Errorf("%d charged + %d free + %d refused, want %d in all", charged, free, refused, workers*each)
		}
		var releases int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM obfsc_releases WHERE user_name = 'olga'`).Scan(&releases))
		if releases != 20 {
			t.Errorf("%d releases stored, want 20 (one per charged answer)", releases)
		}
		// A grant lets 5 more in, in this period only.
		must(t, db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := budget.Grant(ctx, db, tx, a, 5*cost, cost)
			return err
		}))
		s, err = budget.Read(ctx, db, a, cost)
		must(t, err)
		if s.CountsLeft != 5 || s.Granted != 0.025 {
			t.Errorf("after a grant of 5 counts: %d left, %g granted; want 5, 0.025", s.CountsLeft, s.Granted)
		}
		next := a
		next.At = s.PeriodEnd
		s, err = budget.Read(ctx, db, next, cost)
		must(t, err)
		if s.CountsLeft != 20 || s.Spent != 0 {
			t.Errorf("next period: %d left, spent %g; want 20, 0", s.CountsLeft, s.Spent)
		}
	})
}
