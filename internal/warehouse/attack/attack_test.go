package attack_test

import (
	"context"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/attack"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
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
// as the warehouse gives one user, against each noise mode a site may choose, and wants the
// issue's goal: the best estimate recovers the exact count of at most 20 % of the cohorts
// (what a spread of about 2 gives by chance), and the existence test does no better than a
// small advantage.
func TestAttacksRecoverAtMostOneCohortInFive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		o := attack.Options{Patients: 1500, Cohorts: 12, MaxAnswers: 80}
		wd, err := attack.Setup(ctx, db, testKey, o)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []noise.Mode{noise.Consistent} {
			wd.W.Settings.Noise = mode
			figs, err := wd.Run(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range figs {
				t.Log(f)
				switch {
				case f.Attack == attack.Existence && f.Spread > 0.2:
					t.Errorf("%s: %s tells whether anyone in the cohort has a rare concept with advantage %.2f, want at most 0.2", mode, f.Attack, f.Spread)
				case f.Attack != attack.Existence && f.Rate() > 0.2:
					t.Errorf("%s: %s recovers the exact count of %d of %d cohorts (%.0f %%, spread %.2f), want at most 20 %%", mode, f.Attack, f.Recovered, f.Trials, 100*f.Rate(), f.Spread)
				}
			}
		}
	})
}
