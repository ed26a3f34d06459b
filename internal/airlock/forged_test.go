package airlock

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Attack: a patient list of 12 one-person rows, each row declared as 40 persons split over
// four projects, was taken for an aggregate (cells of 40 persons of 4 projects) and waited
// for a reviewer to validate it, one click from release, exception possible. Its own rows
// show it: a code and an exact age different in every cell. It is refused outright — no
// review, no exception, nothing stored to serve.
func TestAttackForgedPatientListRefusedOutright(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "bob", Automatic, ""))
		var b strings.Builder
		b.WriteString("ref,sex,age,project,patients\n")
		for i, code := range []string{"K4821", "B1930", "Q7712", "D0457", "M3398", "T6620", "A9014", "R2287", "H5531", "W8046", "C1179", "L6603"} {
			sex := []string{"F", "M"}[i%2]
			for j := range 4 {
				fmt.Fprintf(&b, "%s,%s,%d,P%d,10\n", code, sex, 31+3*i, j+1)
			}
		}
		m := disclosure.Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"ref", "sex", "age"}, Population: "dwh:test"}
		for _, exc := range []string{"", "the reviewer knows the cohort"} {
			r, err := w.s.Submit(ctx, w.who("bob"), "diab", Submission{Purpose: "p", Exception: exc, Files: []FileInput{{Name: "list.csv", Meta: m, Data: b.String()}}})
			must(t, err)
			if r.Status != Refused || !strings.Contains(r.Comment, "not aggregated") || len(r.Files) != 1 || !r.Files[0].Result.Outright {
				t.Fatalf("forged patient list (exception %q): got %s %q, want refused outright as not aggregated", exc, r.Status, r.Comment)
			}
			if n := linksOf(t, db, r.ID); n != 0 {
				t.Errorf("the refused list has %d links", n)
			}
		}
	})
}

// A hand-made upload's file tells the reviewer that its contributor rule rests on what the
// file declares; a table Steward computed does not.
func TestDeclaredContributorsReportedUnverified(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "bob", Automatic, ""))
		r, err := w.s.Submit(ctx, w.who("bob"), "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(500)}}})
		must(t, err)
		got, err := w.s.Get(ctx, w.who("olga"), r.ID)
		must(t, err)
		if len(got.Files) != 1 || !unverified(got.Files[0].Result, disclosure.RuleProjects) {
			t.Errorf("the officer's view of a hand-made upload does not say its contributors are declared, not verified: %+v", got.Files)
		}
		c, err := w.s.submit(ctx, w.who("bob"), "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(600)}}}, true)
		must(t, err)
		if unverified(c.Files[0].Result, disclosure.RuleProjects) {
			t.Error("a computed table is reported with declared contributors")
		}
	})
}

func unverified(res *disclosure.Result, rule disclosure.Rule) bool {
	if res == nil {
		return false
	}
	for _, f := range res.Unverified {
		if f.Rule == rule && strings.Contains(f.Reason, "contributors declared, not verified") {
			return true
		}
	}
	return false
}
