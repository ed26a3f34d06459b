package airlock

import (
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/smtptest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/transfer/local"
)

var meta = disclosure.Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"age_band"}, Population: "dwh:test"}

// table returns a one-way table whose first cell holds first persons (4 projects each).
func table(first int) string {
	var b strings.Builder
	b.WriteString("age_band,project,patients\n")
	for _, c := range []struct {
		band string
		n    int
	}{{"0-17", first}, {"18-64", 400}, {"65+", 300}} {
		for j := range 4 {
			n := c.n / 4
			if j < c.n%4 {
				n++
			}
			b.WriteString(c.band + ",P" + string(rune('1'+j)) + "," + strconv.Itoa(n) + "\n")
		}
	}
	return b.String()
}

// body decodes a mail's quoted-printable text.
func body(t *testing.T, m smtptest.Message) string {
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var tokenRE = regexp.MustCompile(`/airlock/download/(\S+)`)

type world struct {
	s    *Service
	acc  *access.Service
	mail *smtptest.Server
	who  func(string) access.Principal
}

// newWorld is a project diab of agency north with ann (DATA_AGG and DATA_OFFICER), bob
// (DATA_AGG), sam (SPOC) and olga (DATA_OFFICER), each with an email address, and an export
// service mailing through a real SMTP listener.
func newWorld(t *testing.T, db *store.DB) world {
	t.Helper()
	ctx := context.Background()
	mail := smtptest.Start(t)
	acc := access.New(db, access.Config{}, nil)
	s := New(db, acc, Folder{local.Folder{Dir: t.TempDir()}}, access.Mailer{Addr: mail.Addr, From: "steward@example.org"}, "https://steward.test")
	cli := access.CLI("test")
	must := func(err error) { t.Helper(); must(t, err) }
	must(acc.CreateRegion(ctx, cli, access.Region{Code: "west", Name: "West"}))
	must(acc.CreateAgency(ctx, cli, access.Agency{Code: "north", Name: "North", Region: "west"}))
	must(acc.CreateProject(ctx, cli, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}))
	for _, u := range []struct {
		name  string
		roles []access.Role
	}{{"ann", []access.Role{access.DataAgg, access.DataOfficer}}, {"bob", []access.Role{access.DataAgg}},
		{"sam", []access.Role{access.SPOC}}, {"olga", []access.Role{access.DataOfficer}}} {
		must(acc.CreateUser(ctx, cli, access.User{Name: u.name, Agency: "north", Email: u.name + "@example.org"}, "a long enough password 123"))
		for _, r := range u.roles {
			must(acc.Grant(ctx, cli, u.name, "diab", r))
		}
	}
	who := func(name string) access.Principal {
		p, err := acc.Principal(ctx, name, "127.0.0.1")
		must(err)
		return p
	}
	return world{s, acc, mail, who}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestExportProcess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, mail, who := w.s, w.mail, w.who
		must := func(err error) { t.Helper(); must(t, err) }
		ann, bob, sam, olga := who("ann"), who("bob"), who("sam"), who("olga")
		sub := func(data, exception string) Submission {
			return Submission{Purpose: "outcomes by age", Exception: exception, Files: []FileInput{{Name: "by_age.csv", Meta: meta, Data: data}}}
		}

		if _, err := s.Submit(ctx, ann, "diab", sub(table(80), "")); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("submit by a user not on the SPOC's list: got %v, want forbidden", err)
		}
		if err := s.SetExporter(ctx, ann, "diab", "ann", Automatic, ""); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("analyst edits the SPOC's list: got %v, want forbidden", err)
		}
		must(s.SetExporter(ctx, sam, "diab", "ann", Validated, ""))
		must(s.SetExporter(ctx, sam, "diab", "bob", Automatic, ""))

		// an automatic analyst's passing export is released at once, and the link mailed: a
		// table Steward computed (issue 16: a hand-made upload always waits for a reviewer)
		r, err := s.submit(ctx, bob, "diab", sub(table(80), ""), true)
		must(err)
		if r.Status != Released || r.Files[0].Result.Verdict != disclosure.Pass {
			t.Fatalf("automatic, passing: got %s / %s, want released / pass", r.Status, r.Files[0].Result.Verdict)
		}
		msgs := mail.Wait(1, 5*time.Second)
		if len(msgs) != 1 || msgs[0].To[0] != "bob@example.org" {
			t.Fatalf("got mails %+v, want one to bob", msgs)
		}
		m := tokenRE.FindStringSubmatch(body(t, msgs[0]))
		if m == nil {
			t.Fatalf("no link in the mail:\n%s", msgs[0].Data)
		}
		bobToken := m[1]
		addr := netip.MustParseAddr("127.0.0.1")
		if _, err := s.Download(ctx, ann, bobToken, "by_age.csv", addr); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("download by someone else: got %v, want forbidden", err)
		}
		rc, err := s.Download(ctx, bob, bobToken, "by_age.csv", addr)
		must(err)
		got, _ := io.ReadAll(rc)
		rc.Close()
		if want := "age_band,patients\n0-17,80\n18-64,400\n65+,300\n"; string(got) != want {
			t.Errorf("downloaded %q, want %q", got, want)
		}

		// a non-aggregate is refused outright, even with an exception
		r, err = s.Submit(ctx, bob, "diab", Submission{Purpose: "x", Exception: "please", Files: []FileInput{{Name: "rows.csv",
			Meta: disclosure.Meta{Persons: "n", Dimensions: []string{"patient_id"}}, Data: "patient_id,n\nPT1000001,1\nPT1000002,1\n"}}})
		must(err)
		if r.Status != Refused || !r.Files[0].Result.Outright {
			t.Errorf("row-level file: got %s (outright %v), want refused outright", r.Status, r.Files[0].Result.Outright)
		}

		// a validated analyst's export waits; the author never reviews it; the officer does
		r, err = s.Submit(ctx, ann, "diab", sub(table(20), ""))
		must(err)
		if r.Status != Pending || r.Files[0].Result.Verdict != disclosure.Suppressed {
			t.Fatalf("validated with a small cell: got %s / %s, want pending_review / suppressed", r.Status, r.Files[0].Result.Verdict)
		}
		if _, err := s.Review(ctx, ann, r.ID, true, "fine"); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("author reviews own request: got %v, want forbidden", err)
		}
		if _, err := s.Review(ctx, bob, r.ID, true, "fine"); err == nil {
			t.Error("an analyst without DATA_OFFICER reviewed a request")
		}
		queue, err := s.List(ctx, olga, "diab", Pending)
		must(err)
		if len(queue) != 1 || len(queue[0].Files[0].Result.Hidden) != 2 {
			t.Fatalf("officer's queue: got %+v, want the one request with 2 hidden cells", queue)
		}
		r, err = s.Review(ctx, olga, r.ID, true, "suppressed version is fine")
		must(err)
		msgs = mail.Wait(2, 5*time.Second)
		if len(msgs) != 2 || msgs[1].To[0] != "ann@example.org" {
			t.Fatalf("got %d mails, want a second one to ann", len(msgs))
		}
		annToken := tokenRE.FindStringSubmatch(body(t, msgs[1]))[1]
		rc, err = s.Download(ctx, ann, annToken, "by_age.csv", addr)
		must(err)
		got, _ = io.ReadAll(rc)
		rc.Close()
		if strings.Contains(string(got), ",20\n") || !strings.Contains(string(got), "0-17,suppressed") {
			t.Errorf("released file shows a hidden cell: %q", got)
		}

		// a link bound to an address range, expiring
		tok, _, err := s.Issue(ctx, olga, r.ID, "ann", "10.1.0.0/16")
		must(err)
		if _, err := s.Download(ctx, ann, tok, "by_age.csv", addr); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("download from outside the range: got %v, want forbidden", err)
		}
		rc, err = s.Download(ctx, ann, tok, "by_age.csv", netip.MustParseAddr("10.1.2.3"))
		must(err)
		rc.Close()
		s.Now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
		if _, err := s.Download(ctx, ann, tok, "by_age.csv", netip.MustParseAddr("10.1.2.3")); !errors.Is(err, ErrLinkDead) {
			t.Errorf("download after 8 days: got %v, want dead link", err)
		}
		s.Now = time.Now

		// retroactive sample, recall, demotion
		sample, err := s.Sample(ctx, olga, "diab", 5)
		must(err)
		if len(sample) != 1 || sample[0].Author != "bob" {
			t.Fatalf("sample: got %d requests, want bob's automatic one", len(sample))
		}
		must(s.Recall(ctx, olga, sample[0].ID, "a cell was too small", true))
		if _, err := s.Download(ctx, bob, bobToken, "by_age.csv", addr); !errors.Is(err, ErrLinkDead) {
			t.Errorf("download after recall: got %v, want dead link", err)
		}
		// the ledger: 790 persons against the earlier release of 780 is a differencing risk
		r, err = s.Submit(ctx, bob, "diab", sub(table(90), ""))
		must(err)
		if r.Status != Refused || !strings.Contains(strings.Join(r.Files[0].Result.Reasons, " "), "differencing") {
			t.Errorf("release 10 persons from an earlier one: got %s %q, want refused for differencing", r.Status, r.Files[0].Result.Reasons)
		}
		r, err = s.Submit(ctx, bob, "diab", sub(table(200), ""))
		must(err)
		if r.Status != Pending {
			t.Errorf("after demotion bob's export: got %s, want pending_review", r.Status)
		}
		if msgs := mail.Wait(3, 5*time.Second); len(msgs) < 3 || !strings.Contains(msgs[2].Data, "recalled") {
			t.Errorf("recall mail missing")
		}
	})
}

// lastToken returns the download token of the n-th mail (counting from 1).
func lastToken(t *testing.T, mail *smtptest.Server, n int) (string, smtptest.Message) {
	t.Helper()
	msgs := mail.Wait(n, 5*time.Second)
	if len(msgs) < n {
		t.Fatalf("got %d mails, want %d", len(msgs), n)
	}
	m := tokenRE.FindStringSubmatch(body(t, msgs[n-1]))
	if m == nil {
		t.Fatalf("no link in mail %d", n)
	}
	return m[1], msgs[n-1]
}

// An exception releases the checked table once the officer approves it; an analyst's
// address range binds their links; in a bunker project the data publishers (at most two)
// verify and receive, and an officer approves (issue 16).
func TestExceptionRangeAndBunker(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		s, who := w.s, w.who
		bob, sam, olga := who("bob"), who("sam"), who("olga")
		must(t, s.SetExporter(ctx, sam, "diab", "bob", Automatic, "10.9.0.0/16"))
		if err := s.SetExporter(ctx, sam, "diab", "bob", Automatic, "not a range"); !errors.Is(err, derrors.Invalid) {
			t.Errorf("a bad range: got %v, want invalid", err)
		}

		// an automatic analyst asking an exception waits for the officer; approved, the original leaves
		r, err := s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Exception: "the 0-17 cell is published in the annual report",
			Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(20)}}})
		must(t, err)
		if r.Status != Pending {
			t.Fatalf("exception asked: got %s, want pending_review", r.Status)
		}
		_, err = s.Review(ctx, olga, r.ID, true, "agreed: already public")
		must(t, err)
		// issue 16: an exception needs two distinct reviewers (ann is an officer too)
		_, err = s.Review(ctx, who("ann"), r.ID, true, "second reviewer: agreed")
		must(t, err)
		tok, _ := lastToken(t, w.mail, 1)
		if _, err := s.Download(ctx, bob, tok, "t.csv", netip.MustParseAddr("127.0.0.1")); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("download from outside bob's range: got %v, want forbidden", err)
		}
		rc, err := s.Download(ctx, bob, tok, "t.csv", netip.MustParseAddr("10.9.8.7"))
		must(t, err)
		got, _ := io.ReadAll(rc)
		rc.Close()
		// issue 16: an exception releases the checked table, never the upload
		if want := "age_band,patients\n0-17,suppressed\n18-64,400\n65+,suppressed\n"; string(got) != want {
			t.Errorf("approved exception freeing no cell: got %q, want %q", got, want)
		}

		// bunker: publishers, at most two
		cli := access.CLI("test")
		for _, u := range []string{"pia", "pete", "paul"} {
			must(t, w.acc.CreateUser(ctx, cli, access.User{Name: u, Agency: "north", Email: u + "@example.org"}, "a long enough password 123"))
		}
		must(t, w.acc.Grant(ctx, cli, "pia", "diab", access.DataPublisher))
		must(t, w.acc.Grant(ctx, cli, "pete", "diab", access.DataPublisher))
		if err := w.acc.Grant(ctx, cli, "paul", "diab", access.DataPublisher); !errors.Is(err, derrors.Invalid) {
			t.Errorf("a third data publisher: got %v, want invalid", err)
		}
		must(t, s.SetSettings(ctx, olga, "diab", Settings{Bunker: true, LinkDays: 2}))
		r, err = s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.csv", Meta: meta, Data: table(500)}}})
		must(t, err)
		if r.Status != Pending {
			t.Fatalf("bunker export: got %s, want pending_review (the publisher verifies)", r.Status)
		}
		pia := who("pia")
		_, err = s.Review(ctx, pia, r.ID, true, "checked the content")
		must(t, err)
		// issue 16: the publisher verifies but never approves alone: the officer approves
		_, err = s.Review(ctx, olga, r.ID, true, "approved after the publisher's check")
		must(t, err)
		tokA, mA := lastToken(t, w.mail, 2)
		tokB, mB := lastToken(t, w.mail, 3)
		if to := []string{mA.To[0], mB.To[0]}; !slices.Contains(to, "pia@example.org") || !slices.Contains(to, "pete@example.org") {
			t.Errorf("bunker links went to %v, want pia and pete", to)
		}
		if _, err := s.Download(ctx, bob, tokA, "t.csv", netip.MustParseAddr("10.9.8.7")); err == nil {
			t.Error("the bunker analyst downloaded a publisher's link")
		}
		inbox, err := s.Inbox(ctx, pia)
		must(t, err)
		if len(inbox) != 1 || inbox[0].Expires.Sub(inbox[0].Created) != 48*time.Hour {
			t.Errorf("pia's inbox: got %+v, want one link living 2 days", inbox)
		}
		piaTok, peteTok := tokA, tokB
		if mA.To[0] != "pia@example.org" {
			piaTok, peteTok = tokB, tokA
		}
		if rc, err := s.Download(ctx, pia, piaTok, "t.csv", netip.MustParseAddr("192.0.2.1")); err != nil {
			t.Errorf("pia with her link: %v", err)
		} else {
			rc.Close()
		}
		if _, err := s.Download(ctx, pia, peteTok, "t.csv", netip.MustParseAddr("192.0.2.1")); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("pia with pete's link: got %v, want forbidden", err)
		}
	})
}
