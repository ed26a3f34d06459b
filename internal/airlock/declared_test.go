package airlock

import (
	"context"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Attack: an automatic analyst's hand-made upload whose metadata forges its contributors
// (31 persons of one project relabelled as four) passed and was released at once. A
// hand-made upload's contributors are declared, not verified: it is marked so and always
// waits for a reviewer, whatever the analyst's mode; only a table Steward computed itself
// is released automatically.
func TestAttackHandMadeUploadIsNeverAutomatic(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, bob := w.s, w.who("bob")
		must(t, s.SetExporter(ctx, w.who("sam"), "diab", "bob", Automatic, ""))
		sub := Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(500)}}}
		r, err := s.Submit(ctx, bob, "diab", sub)
		must(t, err)
		if r.Status != Pending || !r.Declared || !strings.Contains(r.Comment, "contributors declared, not verified") {
			t.Fatalf("automatic analyst's hand-made upload: got %s (declared %v) %q, want pending_review, declared, marked", r.Status, r.Declared, r.Comment)
		}
		if n := linksOf(t, db, r.ID); n != 0 {
			t.Fatalf("the hand-made upload has %d links before review", n)
		}
		got, err := s.Get(ctx, w.who("olga"), r.ID)
		must(t, err)
		if !got.Declared {
			t.Error("the officer does not see the upload marked as declared")
		}
		es, err := w.acc.AuditLog(ctx, access.CLI("test"), store.Filter{Action: "export.submit", Object: "export/" + r.ID})
		if err != nil || len(es) != 1 || es[0].Detail["provenance"] != "hand-made: contributors declared, not verified" {
			t.Errorf("audit of the submission: got %+v, %v; want the provenance", es, err)
		}
		r, err = s.Review(ctx, w.who("olga"), r.ID, true, "validated")
		must(t, err)
		if r.Status != Released || linksOf(t, db, r.ID) != 1 {
			t.Errorf("after validation: got %s with %d links, want released with one", r.Status, linksOf(t, db, r.ID))
		}
		// a table Steward computed (its contributors verified) is released automatically
		c, err := s.submit(ctx, bob, "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(600)}}}, true)
		must(t, err)
		if c.Status != Released || c.Declared {
			t.Errorf("computed table: got %s (declared %v), want released, not declared", c.Status, c.Declared)
		}
	})
}
