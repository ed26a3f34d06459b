package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// TestLockoutCountIsExactUnderConcurrency: many goroutines of one obfuscated user send at once
// near-duplicates that trip the lockout — the same query under other names (budget mode: runs
// of the same query), or in i2b2's mode queries with the same real count. Exactly the allowed
// number is answered, the one that trips it says so, every other is refused as locked and
// audited, and the lockout is recorded once. Run with -race.
func TestLockoutCountIsExactUnderConcurrency(t *testing.T) {
	for _, mode := range []string{"budget", "i2b2"} {
		t.Run(mode, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				w, users := world(t, db)
				if mode == "i2b2" {
					w.Settings = warehouse.I2B2Settings()
				}
				allowed := w.Settings.LockoutCount
				ctx := context.Background()
				p := users["obfsc"]
				const workers = 24
				var mu sync.Mutex
				answered, tripped, locked := 0, 0, 0
				var wg sync.WaitGroup
				start := make(chan struct{})
				for g := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						q := diabetics()
						q.Name = fmt.Sprintf("diabetics %d", g)
						if mode == "i2b2" && g%2 == 1 { // another query, the same patients
							q.Panels[0], q.Panels[1] = q.Panels[1], q.Panels[0]
						}
						<-start
						a, err := w.Run(ctx, p, "diab", q)
						mu.Lock()
						defer mu.Unlock()
						switch {
						case errors.Is(err, derrors.Locked):
							locked++
						case err != nil:
							t.Errorf("run %d: %v", g, err)
						default:
							answered++
							if a.Locked {
								tripped++
							}
						}
					}()
				}
				close(start)
				wg.Wait()
				if answered != allowed || tripped != 1 || locked != workers-allowed {
					t.Errorf("%d answered (%d of them tripping the lockout), %d refused as locked; want %d answered, 1 tripping, %d refused",
						answered, tripped, locked, allowed, workers-allowed)
				}
				var stored, refused, lockouts int
				must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM qt_query_result_instance WHERE user_name = 'obfsc'`).Scan(&stored))
				must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.query_refused' AND actor = 'obfsc'`).Scan(&refused))
				must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.lockout' AND actor = 'obfsc'`).Scan(&lockouts))
				if stored != allowed || refused != workers-allowed || lockouts != 1 {
					t.Errorf("stored results %d, audited refusals %d, audited lockouts %d; want %d, %d, 1", stored, refused, lockouts, allowed, workers-allowed)
				}
			})
		})
	}
}

// TestBudgetNeverOverspentUnderConcurrency: many goroutines of one obfuscated user spend the
// same budget at once with answers of different costs (a count alone, or with 1 to 4
// breakdown dimensions, each a count's cost) and concept totalnums. What the answers say they
// cost adds up to what the account says is spent, never more than the budget, and every
// release stored was paid for by an answer given.
func TestBudgetNeverOverspentUnderConcurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		p := users["obfsc"]
		dims := [][]string{nil, {"sex"}, {"sex", "age"}, {"sex", "age", "race"}, {"all"}}
		const workers, each = 8, 5
		var mu sync.Mutex
		var charged float64
		answered, refused, releases := 0, 0, 0
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := range each {
					if g == 0 && i == 0 {
						cs, err := w.ChildrenCounted(ctx, p, "diab", `\i2b2\Demographics\Sex\`)
						mu.Lock()
						if errors.Is(err, budget.ErrSpent) {
							refused++
						} else if err != nil {
							t.Errorf("totalnums: %v", err)
						} else {
							answered++
							releases += len(cs)
							charged += float64(len(cs)) * budget.CountRho(w.Settings.Sigma)
						}
						mu.Unlock()
						continue
					}
					q := querydef.Query{Panels: []querydef.Panel{panel(item(synthetic.DiagnosisPath(g*each + i)))}}
					a, err := w.RunWith(ctx, p, "diab", q, warehouse.RunOptions{Breakdowns: dims[(g+i)%len(dims)]})
					mu.Lock()
					switch {
					case errors.Is(err, budget.ErrSpent):
						refused++
					case err != nil:
						t.Errorf("run: %v", err)
					default:
						answered++
						charged += a.Budget.Cost
						n := len(dims[(g+i)%len(dims)]) // each dimension asked is a release, shown or hidden
						if n == 1 && dims[(g+i)%len(dims)][0] == "all" {
							n = 4
						}
						releases += 1 + n
					}
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		st, err := w.Budget(ctx, p, "diab")
		must(t, err)
		var stored int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM obfsc_releases WHERE user_name = 'obfsc'`).Scan(&stored))
		if answered+refused != workers*each || st.Spent > st.Budget+1e-12 || refused == 0 {
			t.Errorf("%d answered, %d refused, spent %g of %g; want %d in all, never more than the budget, some refused",
				answered, refused, st.Spent, st.Budget, workers*each)
		}
		if stored != releases {
			t.Errorf("%d releases stored, answers given told %d", stored, releases)
		}
		if st.Spent < st.Budget-0.02-1e-12 {
			t.Errorf("spent %g of %g: refused answers of at most 5 counts (0.025) while more was left", st.Spent, st.Budget)
		}
		if budget.Units(charged) != budget.Units(st.Spent) {
			t.Errorf("the answers given cost %g in all, the account says %g spent", charged, st.Spent)
		}
	})
}
