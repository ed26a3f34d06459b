package attack_test

import (
	"context"
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
// (budget) mode: the attackers' best estimates recover the exact count of at most 20 % of
// the cohorts (what a spread of about 2 gives by chance) over all attacks, each attack of at
// most 30 % of its 40 cohorts (a sample's margin above the 17.7 % the budget allows the best
// of them), and the existence test gains an advantage of at most 0.2. i2b2's mode, kept for
// sites that need it, is documented as weaker: the test holds it to that too.
func TestAttacksRecoverAtMostOneCohortInFive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := attack.Options{Patients: 1500, Cohorts: 40, MaxAnswers: 80}
		wd, err := attack.Setup(ctx, db, testKey, o)
		if err != nil {
			t.Fatal(err)
		}
		figs, err := wd.Run(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		recovered, trials := 0, 0
		for _, f := range figs {
			t.Log(f)
			switch {
			case f.Attack == attack.Existence:
				if f.Spread > 0.2 {
					t.Errorf("%s: %s tells whether anyone in the cohort has a rare concept with advantage %.2f, want at most 0.2", f.Mode, f.Attack, f.Spread)
				}
			case f.Rate() > 0.3:
				t.Errorf("%s: %s recovers the exact count of %d of %d cohorts (%.0f %%, spread %.2f), want at most 30 %%", f.Mode, f.Attack, f.Recovered, f.Trials, 100*f.Rate(), f.Spread)
			default:
				recovered, trials = recovered+f.Recovered, trials+f.Trials
			}
			if f.Attack != attack.Existence && f.Answers > 20 {
				t.Errorf("%s: %s got %.1f answers per cohort, want at most the 20 new counts of the budget", f.Mode, f.Attack, f.Answers)
			}
		}
		if r := float64(recovered) / float64(trials); r > 0.2 {
			t.Errorf("budget: the attacks recover %d of %d exact counts (%.0f %%), want at most 20 %%", recovered, trials, 100*r)
		}

		wd.W.Settings = warehouse.I2B2Settings()
		o.Cohorts = 12
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
