package airlock

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Attack (issue 16, differencing route 3): two requests pending together — 0-17 holding
// 80 and 90 persons of the same population — each pass at submission, when neither was
// released; approved one after the other, the second gave the 10 persons between them
// exactly. Each approval now checks the files again against the ledger as it is then.
func TestAttackPendingRequestsRecheckedAtApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, bob, olga := w.s, w.who("bob"), w.who("olga")
		must(t, s.SetExporter(ctx, w.who("sam"), "diab", "bob", Validated, ""))
		submit := func(first int) *Request {
			t.Helper()
			r, err := s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(first)}}})
			must(t, err)
			if r.Status != Pending || r.Files[0].Result.Verdict != "pass" {
				t.Fatalf("table(%d): got %s / %s, want pending_review / pass", first, r.Status, r.Files[0].Result.Verdict)
			}
			return r
		}
		a, b := submit(80), submit(90)
		if _, err := s.Review(ctx, olga, a.ID, true, "fine"); err != nil {
			t.Fatal(err)
		}
		_, err := s.Review(ctx, olga, b.ID, true, "fine")
		if !errors.Is(err, derrors.Conflict) || !strings.Contains(err.Error(), a.ID) && !strings.Contains(err.Error(), "differencing") {
			t.Fatalf("approving the second: got %v, want conflict naming the differencing", err)
		}
		if regexp.MustCompile(`(^|[^0-9a-f])(80|90)([^0-9a-f]|$)`).MatchString(err.Error()) {
			t.Errorf("the refusal shows a count: %v", err)
		}
		if got, _ := s.Get(ctx, olga, b.ID); got.Status != Pending || linksOf(t, db, b.ID) != 0 {
			t.Errorf("the second after the refused approval: got %s with %d links, want pending_review with none", got.Status, linksOf(t, db, b.ID))
		}
		if _, err := s.Review(ctx, olga, b.ID, false, "differs from an export released meanwhile"); err != nil {
			t.Errorf("the officer rejects it: %v", err)
		}
	})
}
