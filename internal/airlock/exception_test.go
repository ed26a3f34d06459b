package airlock

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// fetch downloads file of export id as its author through a new link.
func fetch(t *testing.T, w world, id, author, file string) string {
	t.Helper()
	ctx := context.Background()
	tok, _, err := w.s.Issue(ctx, w.who("olga"), id, author, "")
	must(t, err)
	rc, err := w.s.Download(ctx, w.who(author), tok, file, netip.MustParseAddr("127.0.0.1"))
	must(t, err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	must(t, err)
	return string(b)
}

// approveBy approves a pending request by each reviewer in turn, each freeing the cells.
func approveBy(t *testing.T, w world, id string, free map[string][]string, reviewers ...string) *Request {
	t.Helper()
	var r *Request
	var err error
	for _, who := range reviewers {
		r, err = w.s.Decide(context.Background(), w.who(who), id, Decision{Approve: true, Comment: "agreed by " + who, Free: free})
		must(t, err)
	}
	return r
}

// Attack: an approved exception used to release the raw upload verbatim — the project
// contributor column that is never released included. Now it releases the checked table
// with only the cells the officers free; the raw bytes and the contributor column never
// leave, and a one-person-per-row list is never an exception at all.
func TestAttackExceptionNeverLeaksTheUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, bob := w.s, w.who("bob")
		must(t, s.SetExporter(ctx, w.who("sam"), "diab", "bob", Automatic, ""))
		raw := table(20) // 0-17 holds 20 persons: hidden; 65+ hidden beside it (secondary)
		ask := func(data string, m disclosure.Meta) *Request {
			t.Helper()
			r, err := s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Exception: "the 0-17 cell is published in the annual report",
				Files: []FileInput{{Name: "t.csv", Meta: m, Data: data}}})
			must(t, err)
			return r
		}
		leaks := func(got string) {
			t.Helper()
			if got == raw || strings.Contains(got, "project") || strings.Contains(got, "P1") {
				t.Errorf("the download holds the raw upload or its contributor column:\n%s", got)
			}
		}

		// approved without freeing a cell: the suppressed table leaves, not the upload
		r := ask(raw, meta)
		if r.Status != Pending {
			t.Fatalf("exception asked: got %s, want pending_review", r.Status)
		}
		approveBy(t, w, r.ID, nil, exceptionReviewers...)
		got := fetch(t, w, r.ID, "bob", "t.csv")
		leaks(got)
		if want := "age_band,patients\n0-17,suppressed\n18-64,400\n65+,suppressed\n"; got != want {
			t.Errorf("exception freeing nothing: got %q, want %q", got, want)
		}

		// freeing the 0-17 cell shows it, and the cell hidden only beside it
		r = ask(raw, meta)
		if _, err := s.Decide(ctx, w.who("olga"), r.ID, Decision{Approve: true, Comment: "x",
			Free: map[string][]string{"t.csv": {"age_band=18-64"}}}); !errors.Is(err, derrors.Invalid) {
			t.Errorf("freeing a cell that is not hidden: got %v, want invalid", err)
		}
		r = approveBy(t, w, r.ID, map[string][]string{"t.csv": {"age_band=0-17"}}, exceptionReviewers...)
		got = fetch(t, w, r.ID, "bob", "t.csv")
		leaks(got)
		if want := "age_band,patients\n0-17,20\n18-64,400\n65+,300\n"; got != want {
			t.Errorf("exception freeing 0-17: got %q, want %q", got, want)
		}
		if len(r.Files[0].Result.Freed) != 1 || len(r.Files[0].Result.Hidden) != 0 {
			t.Errorf("the evidence after approval: freed %v, hidden %v; want 0-17 freed, nothing hidden", r.Files[0].Result.Freed, r.Files[0].Result.Hidden)
		}

		// a patient list of 9 one-person rows is refused, not queued for an exception
		var list strings.Builder
		list.WriteString("week,sex,patients\n")
		for i := range 9 {
			list.WriteString("w" + string(rune('1'+i)) + "," + []string{"F", "M"}[i%2] + ",1\n")
		}
		rows := ask(list.String(), disclosure.Meta{Persons: "patients", Dimensions: []string{"week", "sex"}, Population: "dwh:list"})
		if rows.Status != Refused || !strings.Contains(rows.Comment, "row") {
			t.Fatalf("9 one-person rows with an exception: got %s %q, want refused as row-level", rows.Status, rows.Comment)
		}
		if _, err := s.Decide(ctx, w.who("olga"), rows.ID, Decision{Approve: true, Comment: "fine"}); !errors.Is(err, derrors.Conflict) {
			t.Errorf("approving the refused patient list: got %v, want conflict", err)
		}
		var links int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM download_links WHERE request_id = $1`, rows.ID).Scan(&links))
		if links != 0 {
			t.Errorf("the patient list has %d links", links)
		}
	})
}

// exceptionReviewers approve exceptions in the tests.
var exceptionReviewers = []string{"olga", "ann"}

var _ = access.CLI

// A cell leaves only if every approving reviewer freed it; a reviewer naming a cell that is
// not hidden is refused, at the last approval too.
func TestExceptionFreesOnlyWhatEveryReviewerFreed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s := w.s
		must(t, s.SetExporter(ctx, w.who("sam"), "diab", "bob", Validated, ""))
		r, err := s.Submit(ctx, w.who("bob"), "diab", Submission{Purpose: "p", Exception: "published",
			Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(20)}}})
		must(t, err)
		_, err = s.Decide(ctx, w.who("olga"), r.ID, Decision{Approve: true, Comment: "free it", Free: map[string][]string{"t.csv": {"age_band=0-17"}}})
		must(t, err)
		if _, err := s.Decide(ctx, w.who("ann"), r.ID, Decision{Approve: true, Comment: "x", Free: map[string][]string{"t.csv": {"age_band=99+"}}}); !errors.Is(err, derrors.Invalid) {
			t.Errorf("the second reviewer frees a cell that does not exist: got %v, want invalid", err)
		}
		out, err := s.Decide(ctx, w.who("ann"), r.ID, Decision{Approve: true, Comment: "release, but keep 0-17 hidden"})
		must(t, err)
		if out.Status != Released {
			t.Fatalf("got %s, want released", out.Status)
		}
		if got, want := fetch(t, w, r.ID, "bob", "t.csv"), "age_band,patients\n0-17,suppressed\n18-64,400\n65+,suppressed\n"; got != want {
			t.Errorf("one reviewer freed 0-17, the other not: got %q, want %q", got, want)
		}
	})
}
