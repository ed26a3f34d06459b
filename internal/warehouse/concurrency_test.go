package warehouse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/load"
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

// TestConcurrentCohortCountsMatchSequential: many goroutines asking the conformance table's
// definitions (concepts, dates, values, modifiers, visits, demographics) and concept
// totalnums at once, on a warehouse whose caches start cold, while the data's generation is
// bumped (what a load's commit does: every cache is dropped), get exactly the counts and
// breakdowns asked one after the other; after a load of more patients, the same warehouse,
// asked concurrently again, gives what a fresh one gives sequentially. Run with -race: no
// lock is held around an evaluation.
func TestConcurrentCohortCountsMatchSequential(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		p := users["agg"]
		const concepts = `\i2b2\Diagnoses\ICD10\`
		var table []querydef.Query // every third definition: each kind of evaluation, fewer runs
		for i := 0; i < len(conformance); i += 3 {
			table = append(table, conformance[i].q)
		}
		sequential := func(w *warehouse.Warehouse) ([]warehouse.Answer, []warehouse.Concept) {
			want := make([]warehouse.Answer, len(table))
			for i, q := range table {
				a, err := w.Run(ctx, p, "diab", q)
				must(t, err)
				want[i] = a
			}
			nums, err := w.ChildrenCounted(ctx, p, "diab", concepts)
			must(t, err)
			return want, nums
		}
		concurrently := func(w *warehouse.Warehouse, want []warehouse.Answer, wantNums []warehouse.Concept, meanwhile func()) {
			const workers = 6
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for k := range table {
						i := (k*5 + g*7) % len(table) // every goroutine its own order
						var q querydef.Query          // a query of its own, as a request has (Normalize changes it)
						b, _ := json.Marshal(table[i])
						must(t, json.Unmarshal(b, &q))
						a, err := w.Run(ctx, p, "diab", q)
						if err != nil {
							t.Errorf("definition %d: %v", i, err)
							return
						}
						if a.Count != want[i].Count || fmt.Sprint(a.Breakdowns) != fmt.Sprint(want[i].Breakdowns) {
							t.Errorf("definition %d: got %d %v concurrently, want %d %v", i, a.Count, a.Breakdowns, want[i].Count, want[i].Breakdowns)
						}
						if k == g {
							cs, err := w.ChildrenCounted(ctx, p, "diab", concepts)
							if err != nil || len(cs) != len(wantNums) {
								t.Errorf("totalnums: %d concepts, %v; want %d", len(cs), err, len(wantNums))
								return
							}
							for j := range cs {
								if *cs[j].Totalnum != *wantNums[j].Totalnum {
									t.Errorf("totalnum of %s: got %d concurrently, want %d", cs[j].Path, *cs[j].Totalnum, *wantNums[j].Totalnum)
								}
							}
						}
					}
				}()
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				meanwhile()
			}()
			close(start)
			wg.Wait()
		}
		want, wantNums := sequential(w)
		cold := warehouse.New(db, w.Access, testKey)
		concurrently(cold, want, wantNums, func() {
			// A new generation, as a load commits one (a whole load holds SQLite's write lock
			// for longer than the store's busy timeout under -race on this machine).
			for range 3 {
				time.Sleep(50 * time.Millisecond)
				if _, err := db.ExecContext(ctx, `INSERT INTO warehouse_loads (seq, loaded_at, rows) SELECT COALESCE(MAX(seq), 0) + 1, $1, 0 FROM warehouse_loads`,
					store.FormatTime(time.Now())); err != nil {
					t.Errorf("generation: %v", err)
				}
			}
		})
		// A load of more of north's patients: the warm caches must go.
		more := synthetic.Warehouse{Seed: 21, First: 300, Patients: 30}
		_, err := load.Run(ctx, db, testKey, more.Inputs(), load.Options{Agency: "north"})
		must(t, err)
		after, afterNums := sequential(warehouse.New(db, w.Access, testKey))
		changed := 0
		for i := range want {
			if after[i].Count != want[i].Count {
				changed++
			}
		}
		if changed == 0 {
			t.Fatal("the load changed no count: the test tests nothing")
		}
		concurrently(cold, after, afterNums, func() {})
	})
}
