package airlock

import (
	"context"
	"errors"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// linksOf counts the download links of a request.
func linksOf(t *testing.T, db *store.DB, id string) int {
	t.Helper()
	var n int
	must(t, db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM download_links WHERE request_id = $1`, id).Scan(&n))
	return n
}

// Attack: one officer approving twice is not two reviewers; an exception needs two
// distinct reviewers; a project asking for two gets two; a bunker's data publishers
// verify but never release without an officer; one rejection rejects.
func TestAttackReviewersAreDistinctAndOfficers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, who := w.s, w.who
		bob, olga, ann := who("bob"), who("olga"), who("ann")
		must(t, s.SetExporter(ctx, who("sam"), "diab", "bob", Validated, ""))
		submit := func(exception string, first int) *Request {
			t.Helper()
			r, err := s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Exception: exception, Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(first)}}})
			must(t, err)
			if r.Status != Pending {
				t.Fatalf("got %s, want pending_review", r.Status)
			}
			return r
		}
		status := func(id string) Status {
			t.Helper()
			r, err := s.Get(ctx, olga, id)
			must(t, err)
			return r.Status
		}

		// an exception: olga twice is one reviewer; ann second releases
		r := submit("published already", 20)
		if _, err := s.Decide(ctx, olga, r.ID, Decision{Approve: true, Comment: "ok"}); err != nil {
			t.Fatal(err)
		}
		if got := status(r.ID); got != Pending || linksOf(t, db, r.ID) != 0 {
			t.Fatalf("exception after one approval: got %s with %d links, want pending_review, none", got, linksOf(t, db, r.ID))
		}
		if _, err := s.Decide(ctx, olga, r.ID, Decision{Approve: true, Comment: "ok again"}); !errors.Is(err, derrors.Conflict) {
			t.Errorf("the same officer approving twice: got %v, want conflict", err)
		}
		if got := status(r.ID); got != Pending || linksOf(t, db, r.ID) != 0 {
			t.Fatalf("after the same officer approved twice: got %s with %d links, want pending_review, none", got, linksOf(t, db, r.ID))
		}
		out, err := s.Decide(ctx, ann, r.ID, Decision{Approve: true, Comment: "second look: fine"})
		must(t, err)
		if out.Status != Released || linksOf(t, db, r.ID) != 1 || len(out.Reviews) != 2 {
			t.Errorf("after a second reviewer: got %s, %d links, %d reviews; want released, 1, 2", out.Status, linksOf(t, db, r.ID), len(out.Reviews))
		}

		// default: one reviewer for a plain request; the project setting asks two
		r = submit("", 500)
		if out, err := s.Decide(ctx, olga, r.ID, Decision{Approve: true, Comment: "fine"}); err != nil || out.Status != Released {
			t.Fatalf("one reviewer by default: got %v, %v", out, err)
		}
		must(t, s.SetSettings(ctx, olga, "diab", Settings{LinkDays: 7, Reviewers: 2}))
		r = submit("", 600)
		if out, err := s.Decide(ctx, olga, r.ID, Decision{Approve: true, Comment: "fine"}); err != nil || out.Status != Pending {
			t.Fatalf("two reviewers asked, one approved: got %v, %v; want pending_review", out, err)
		}
		if out, err := s.Decide(ctx, ann, r.ID, Decision{Approve: false, Comment: "the purpose does not fit"}); err != nil || out.Status != Rejected {
			t.Fatalf("the second rejects: got %v, %v; want rejected", out, err)
		}
		if linksOf(t, db, r.ID) != 0 {
			t.Error("a rejected request has links")
		}
		if err := s.SetSettings(ctx, olga, "diab", Settings{LinkDays: 7, Reviewers: 3}); !errors.Is(err, derrors.Invalid) {
			t.Errorf("three reviewers: got %v, want invalid (1 or 2)", err)
		}

		// bunker: both data publishers verifying release nothing without an officer
		cli := access.CLI("test")
		for _, u := range []string{"pia", "pete"} {
			must(t, w.acc.CreateUser(ctx, cli, access.User{Name: u, Agency: "north", Email: u + "@example.org"}, "a long enough password 123"))
			must(t, w.acc.Grant(ctx, cli, u, "diab", access.DataPublisher))
		}
		must(t, s.SetSettings(ctx, olga, "diab", Settings{LinkDays: 7, Bunker: true}))
		r = submit("", 700)
		for _, u := range []string{"pia", "pete"} {
			if out, err := s.Decide(ctx, who(u), r.ID, Decision{Approve: true, Comment: "content checked"}); err != nil || out.Status != Pending {
				t.Fatalf("publisher %s verifies: got %v, %v; want pending_review", u, out, err)
			}
		}
		if linksOf(t, db, r.ID) != 0 {
			t.Fatal("the publishers alone released a bunker export")
		}
		if out, err := s.Decide(ctx, olga, r.ID, Decision{Approve: true, Comment: "approved"}); err != nil || out.Status != Released {
			t.Fatalf("the officer after the publishers: got %v, %v; want released", out, err)
		}
		// an officer alone in a bunker: the publishers have not verified
		r = submit("", 800)
		if out, err := s.Decide(ctx, olga, r.ID, Decision{Approve: true, Comment: "approved"}); err != nil || out.Status != Pending {
			t.Fatalf("bunker, officer alone: got %v, %v; want pending_review until a publisher verifies", out, err)
		}
	})
}
