package attack_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/attack"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

var testKey = func() *seal.Keys {
	k, err := seal.NewKeys([]byte("attack harness key 0123456789abc"))
	if err != nil {
		panic(err)
	}
	return k
}()

// TestAttacksRecoverAtMostOneCohortInFive runs every attack of the harness, as many answers
// as the warehouse gives one user in a period, and wants the goal in the default
// (budget) mode: over all the attacks, the best estimates recover the exact count of at most
// 20 % of the cohorts (what a spread of about 2 gives by chance); no attack's estimates have
// a spread under 1.5 (the budget's bound is 2.24 for the best possible attacker; 20 or 40
// cohorts measure it within about 15 %); no attacker gets more than the budget's 20 new
// counts; and the existence test gains an advantage of at most 0.2. i2b2's mode, kept for
// sites that need it, is documented as weaker: the test holds it to that too.
//
// The keyed noise is the same on every store, so PostgreSQL runs the first 6 cohorts and
// must give exactly SQLite's estimates. The default run attacks 20 cohorts (12 in i2b2's
// mode); STEWARD_TEST_LARGE=1 attacks 40 (and 12) on both stores.
func TestAttacksRecoverAtMostOneCohortInFive(t *testing.T) {
	large := os.Getenv("STEWARD_TEST_LARGE") != ""
	base, i2b2 := attack.Options{Patients: 1000, Cohorts: 20, MaxAnswers: 40}, 12
	if large {
		base, i2b2 = attack.Options{Patients: 1500, Cohorts: 40, MaxAnswers: 80}, 12
	}
	var reference map[string][]float64 // attack → SQLite's errors, cohort by cohort
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := base
		if db.Dialect == store.Postgres && reference != nil && !large {
			o.Cohorts = 6
		}
		wd, err := attack.Setup(ctx, db, testKey, o)
		if err != nil {
			t.Fatal(err)
		}
		figs, err := wd.Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if o.Cohorts < base.Cohorts {
			for _, f := range figs {
				t.Log(f)
				if want := reference[f.Attack][:len(f.Errors)]; !slices.Equal(f.Errors, want) {
					t.Errorf("%s on %s: cohort by cohort %v, want SQLite's %v (keyed noise: the same answers)", f.Attack, db.Dialect, f.Errors, want)
				}
			}
			return
		}
		recovered, trials := 0, 0
		reference = map[string][]float64{}
		for _, f := range figs {
			t.Log(f)
			reference[f.Attack] = f.Errors
			if f.Attack == attack.Existence {
				if f.Spread > 0.2 {
					t.Errorf("%s: %s tells whether anyone in the cohort has a rare concept with advantage %.2f, want at most 0.2", f.Mode, f.Attack, f.Spread)
				}
				continue
			}
			recovered, trials = recovered+f.Recovered, trials+f.Trials
			if f.Spread < 1.5 {
				t.Errorf("%s: %s estimates the counts with a spread of %.2f (%d of %d exact), want at least 1.5", f.Mode, f.Attack, f.Spread, f.Recovered, f.Trials)
			}
			if f.Answers > 20 {
				t.Errorf("%s: %s got %.1f answers per cohort, want at most the 20 new counts of the budget", f.Mode, f.Attack, f.Answers)
			}
		}
		if r := float64(recovered) / float64(trials); r > 0.2 {
			t.Errorf("budget: the attacks recover %d of %d exact counts (%.0f %%), want at most 20 %%", recovered, trials, 100*r)
		}
		if db.Dialect != store.SQLite {
			return // i2b2's fresh noise differs from run to run: once is enough
		}
		wd.W.Settings = warehouse.I2B2Settings()
		o.Cohorts = i2b2
		figs, err = wd.Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range figs {
			t.Log(f)
			if f.Attack == attack.Everything && f.Rate() < 0.5 {
				t.Errorf("i2b2: %s recovers %.0f %%; the README calls the mode weaker (84–100 %%): update it", f.Attack, 100*f.Rate())
			}
		}
	})
}
