package airlock

import (
	"context"
	"errors"
	"io"
	"mime/quotedprintable"
	"net/netip"
	"regexp"
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

func TestExportProcess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mail := smtptest.Start(t)
		acc := access.New(db, access.Config{}, nil)
		s := New(db, acc, Folder{local.Folder{Dir: t.TempDir()}}, access.Mailer{Addr: mail.Addr, From: "steward@example.org"}, "https://steward.test")
		cli := access.CLI("test")
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
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
		ann, bob, sam, olga := who("ann"), who("bob"), who("sam"), who("olga")
		sub := func(data, exception string) Submission {
			return Submission{Purpose: "outcomes by age", Exception: exception, Files: []FileInput{{Name: "by_age.csv", Meta: meta, Data: data}}}
		}

		if _, err := s.Submit(ctx, ann, "diab", sub(table(80), "")); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("submit by a user not on the SPOC's list: got %v, want forbidden", err)
		}
		if err := s.SetExporter(ctx, ann, "diab", "ann", Automatic); !errors.Is(err, derrors.Forbidden) {
			t.Fatalf("analyst edits the SPOC's list: got %v, want forbidden", err)
		}
		must(s.SetExporter(ctx, sam, "diab", "ann", Validated))
		must(s.SetExporter(ctx, sam, "diab", "bob", Automatic))

		// an automatic analyst's passing export is released at once, and the link mailed
		r, err := s.Submit(ctx, bob, "diab", sub(table(80), ""))
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
