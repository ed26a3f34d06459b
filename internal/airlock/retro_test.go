package airlock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Retroactive checks as a process (issue 16): bob, an automatic analyst, has exports
// released in two November weeks and in December; ann's validated one waits. A run after
// November samples round(10 % × November's 12) = 1 of them, once; at 25 % per week, 2 of the
// 8 of week 46, at 40 % round(1.6) = 2 of week 45's 4; the run's recorded seed reproduces its picks, and another seed picks others.
// The officer records outcomes (the author may not; an unknown outcome is refused); a
// "recalled" outcome recalls the export by the usual path. Everything is audited.
func TestRetroactiveChecks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, who := w.s, w.who
		must := func(err error) { t.Helper(); must(t, err) }
		ann, bob, sam, olga := who("ann"), who("bob"), who("sam"), who("olga")
		must(s.SetExporter(ctx, sam, "diab", "bob", Automatic, ""))
		must(s.SetExporter(ctx, sam, "diab", "ann", Validated, ""))
		sub := Submission{Purpose: "outcomes by age", Files: []FileInput{{Name: "by_age.csv", Meta: meta, Data: table(80)}}}
		release := func(who access.Principal, at time.Time) *Request {
			t.Helper()
			s.Now = func() time.Time { return at }
			r, err := s.submit(ctx, who, "diab", sub, true)
			must(err)
			return r
		}
		day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
		var november, week46 []string
		for i := range 12 {
			at := day(3+i%4, i) // week 45: Nov 3–6
			if i >= 4 {
				at = day(9+i%7, i) // week 46: Nov 9–15
			}
			r := release(bob, at)
			if r.Status != Released {
				t.Fatalf("bob's automatic export %d: %s, want released", i, r.Status)
			}
			november = append(november, r.ID)
			if i >= 4 {
				week46 = append(week46, r.ID)
			}
		}
		release(bob, time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		if r := release(ann, day(10, 10)); r.Status != Pending {
			t.Fatalf("ann's validated export: %s, want pending", r.Status)
		}
		s.Now = time.Now

		if _, err := s.RunRetro(ctx, bob, "diab", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), nil); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("a run by an analyst: got %v, want forbidden", err)
		}
		if _, err := s.RunRetro(ctx, olga, "", time.Now(), nil); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("a run of every project by one project's officer: got %v, want forbidden", err)
		}
		seed := int64(42)
		runs, err := s.RunRetro(ctx, olga, "diab", time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), &seed)
		must(err)
		if len(runs) != 1 || runs[0].Period != "2026-11" || runs[0].Released != 12 || runs[0].Picked != 1 || len(runs[0].Samples) != 1 ||
			!slices.Contains(november, runs[0].Samples[0]) {
			t.Fatalf("November at 10 %%: %+v, want 1 of the 12 November exports", runs)
		}
		again, err := s.RunRetro(ctx, access.CLI("cron"), "diab", time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC), nil)
		must(err)
		if !again[0].Already || !slices.Equal(again[0].Samples, runs[0].Samples) {
			t.Errorf("November run again: %+v, want the first run's samples, not new ones", again)
		}

		if err := s.SetRetroSettings(ctx, olga, "diab", RetroSettings{Rate: 1.5, Period: "month"}); !errors.Is(err, derrors.Invalid) {
			t.Errorf("rate 1.5: got %v, want invalid", err)
		}
		if err := s.SetRetroSettings(ctx, bob, "diab", RetroSettings{Rate: 0, Period: "month"}); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("settings changed by the analyst: got %v, want forbidden", err)
		}
		must(s.SetRetroSettings(ctx, olga, "diab", RetroSettings{Rate: 0.25, Period: "week"}))
		weekly, err := s.RunRetro(ctx, olga, "diab", time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC), nil) // Monday of week 47
		must(err)
		wr := weekly[0]
		if wr.Period != "2026-W46" || wr.Released != len(week46) || wr.Picked != 2 || len(wr.Samples) != 2 {
			t.Fatalf("week 46 at 25 %%: %+v, want 2 of its %d exports", wr, len(week46))
		}
		for _, id := range wr.Samples {
			if !slices.Contains(week46, id) || id == runs[0].Samples[0] {
				t.Errorf("week 46's sample %s is not of week 46, or was November's", id)
			}
		}
		open46 := slices.DeleteFunc(slices.Clone(week46), func(id string) bool { return id == runs[0].Samples[0] }) // never sampled twice
		if got := pick(open46, wr.Picked, wr.Seed, "diab", wr.Period); !slices.Equal(got, wr.Samples) {
			t.Errorf("the recorded seed picks %v, the run picked %v", got, wr.Samples)
		}
		picks := map[string]bool{}
		for sd := range int64(20) {
			picks[fmt.Sprint(pick(week46, 2, sd, "diab", wr.Period))] = true
		}
		if len(picks) < 3 {
			t.Errorf("20 seeds pick only %d different samples: the seed does not decide", len(picks))
		}

		// round, not floor: 40 % of week 45's 4 exports is 1.6, so 2.
		must(s.SetRetroSettings(ctx, olga, "diab", RetroSettings{Rate: 0.4, Period: "week"}))
		w45, err := s.RunRetro(ctx, olga, "diab", time.Date(2026, 11, 10, 8, 0, 0, 0, time.UTC), nil)
		must(err)
		if w45[0].Period != "2026-W45" || w45[0].Released != 4 || w45[0].Picked != 2 {
			t.Errorf("week 45 at 40 %%: %+v, want 2 of its 4 exports", w45[0])
		}

		// Outcomes.
		first, second := wr.Samples[0], wr.Samples[1]
		if err := s.SetRetroOutcome(ctx, bob, "diab", first, OutcomeNoIssue, "", false); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("outcome set by the export's author: got %v, want forbidden", err)
		}
		if err := s.SetRetroOutcome(ctx, olga, "diab", first, "fine", "", false); !errors.Is(err, derrors.Invalid) {
			t.Errorf("unknown outcome: got %v, want invalid", err)
		}
		if err := s.SetRetroOutcome(ctx, olga, "diab", first, OutcomeAnalystContacted, "", false); !errors.Is(err, derrors.Invalid) {
			t.Errorf("analyst contacted without a note: got %v, want invalid", err)
		}
		must(s.SetRetroOutcome(ctx, olga, "diab", first, OutcomeNoIssue, "", false))
		must(s.SetRetroOutcome(ctx, ann, "diab", second, OutcomeAnalystContacted, "asked why age 0-17 is so fine-grained", false))
		must(s.SetRetroOutcome(ctx, olga, "diab", second, OutcomeRecalled, "a cell was too small", true))
		r, err := s.Get(ctx, olga, second)
		must(err)
		if r.Status != Recalled {
			t.Errorf("recalled outcome: the export is %s, want recalled", r.Status)
		}
		if r, err = s.Get(ctx, olga, first); err != nil || r.Status != Released {
			t.Errorf("no-issue outcome: the export is %v (%v), want still released", r, err)
		}
		list, err := s.RetroSamples(ctx, olga, "diab", "")
		must(err)
		outcomes := map[string]string{}
		for _, x := range list {
			outcomes[x.Request] = x.Outcome
		}
		if len(list) != 5 || outcomes[first] != OutcomeNoIssue || outcomes[second] != OutcomeRecalled || outcomes[runs[0].Samples[0]] != OutcomeOpen {
			t.Errorf("samples: %+v, want 5 with their outcomes", list)
		}
		if _, err := s.RetroSamples(ctx, bob, "diab", ""); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("samples listed by the analyst: got %v, want forbidden", err)
		}
		count := func(action string) int {
			var n int
			must(db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n))
			return n
		}
		for action, want := range map[string]int{"export.retro_run": 3, "export.retro_sample": 5, "export.retro_outcome": 3,
			"export.retro_settings": 2, "export.recall": 1} {
			if got := count(action); got != want {
				t.Errorf("audit %s: %d entries, want %d", action, got, want)
			}
		}
	})
}
