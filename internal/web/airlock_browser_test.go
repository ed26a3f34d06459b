package web

import (
	"context"
	"io"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/smtptest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/transfer/local"
)

// In headless Chromium: a validated analyst submits a table with a small cell; the officer
// sees the evidence (which cell, which rule, not its value) and approves; the link mailed to
// the analyst is refused to the officer and serves the suppressed table to the analyst.
func TestBrowserExportRequest(t *testing.T) {
	b := startChromium(t)
	db := storetest.Open(t, store.SQLite)
	mail := smtptest.Start(t)
	ctx := context.Background()
	acc := access.New(db, access.Config{}, nil)
	var base string
	al := airlock.New(db, acc, airlock.Folder{Folder: local.Folder{Dir: t.TempDir()}}, access.Mailer{Addr: mail.Addr, From: "steward@example.org"}, "")
	f := newFixture(t, db, Options{Airlock: al})
	base = strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)
	al.BaseURL = base
	cli := access.CLI("test")
	for _, err := range []error{
		f.svc.CreateUser(ctx, cli, access.User{Name: "olga", Agency: "north", Email: "olga@example.org"}, rootPW),
		f.svc.CreateUser(ctx, cli, access.User{Name: "vera", Agency: "north", Email: "vera@example.org"}, rootPW),
		f.svc.Grant(ctx, cli, "vera", "diab", access.DataAgg),
		f.svc.Grant(ctx, cli, "olga", "diab", access.DataOfficer),
		f.svc.Grant(ctx, cli, "ann", "diab", access.SPOC),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	shots := os.Getenv("STEWARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	os.MkdirAll(shots, 0o755)
	signIn := func(user string) {
		b.navigate(base + "/signin")
		b.eval(`document.querySelector("#user").value = ` + jsString(user) + `; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
		b.waitFor(user+"'s home page", `document.querySelector("h1") && document.querySelector("h1").innerText === "My projects"`)
	}
	signOut := func() {
		b.navigate(base + "/")
		b.eval(`document.querySelector("form[action='/signout'] button").click()`)
		b.waitFor("sign-in page", `document.querySelector("#password")`)
	}
	set := func(id, v string) string { return `document.querySelector("#` + id + `").value = ` + jsString(v) + `;` }

	// the SPOC puts vera on the list as validated
	signIn("ann")
	b.navigate(base + "/projects/diab/exporters")
	b.eval(set("user", "vera") + set("mode", "validated") + `document.querySelector("form.box button").click()`)
	b.waitFor("the list notice", `document.querySelector(".notice") && document.querySelector(".notice").innerText.includes("vera: validated")`)
	b.screenshot(filepath.Join(shots, "airlock-1-spoc.png"))
	signOut()

	// vera submits a table whose 0-17 cell holds 20 persons
	signIn("vera")
	b.navigate(base + "/projects/diab/exports")
	var csv strings.Builder
	csv.WriteString("age_band,project,patients\n")
	for _, c := range []struct{ band, n string }{{"0-17", "5"}, {"18-64", "100"}, {"65+", "75"}} {
		for _, p := range []string{"P1", "P2", "P3", "P4"} {
			csv.WriteString(c.band + "," + p + "," + c.n + "\n")
		}
	}
	b.eval(set("purpose", "admissions by age") + set("data", csv.String()) + set("persons", "patients") + set("contributor", "project") +
		set("dimensions", "age_band") + set("population", "dwh:admissions-2025") + `document.querySelector("#submit button").click()`)
	b.waitFor("the submit notice", `document.querySelector(".notice") && document.querySelector(".notice").innerText.includes("pending_review")`)
	b.screenshot(filepath.Join(shots, "airlock-2-submitted.png"))
	signOut()

	// the officer sees the evidence, not the value, and approves
	signIn("olga")
	b.navigate(base + "/projects/diab/exports")
	b.waitFor("the evidence", `document.querySelector(".evidence") && document.querySelector(".evidence").innerText.includes("age_band=0-17: 30 persons or fewer")`)
	// 20 as a number of its own: the request's random hex id may hold the digits "20".
	if got := b.eval(`/(^|[^0-9A-Za-z])20([^0-9A-Za-z]|$)/.test(document.querySelector("tr.export").innerText)`); got != "false" {
		t.Errorf("the officer's queue shows the hidden count 20")
	}
	// the request's review page shows the table as it will leave
	b.eval(`document.querySelector("tr.export a").click()`)
	b.waitFor("the review page", `document.querySelector("table.leaving")`)
	if got, want := b.eval(`[...document.querySelectorAll("table.leaving tr")].map(r => [...r.cells].map(c => c.innerText).join(",")).join("\n")`),
		jsString("age_band,patients\n0-17,suppressed\n18-64,400\n65+,suppressed"); got != want {
		t.Errorf("the review page shows %s, want %s", got, want)
	}
	b.screenshot(filepath.Join(shots, "airlock-3-review.png"))
	b.navigate(base + "/projects/diab/exports")
	b.waitFor("the queue", `document.querySelector("form.review")`)
	b.eval(`document.querySelector("form.review input[name=comment]").value = "suppressed table is fine"; document.querySelector("form.review button[value=approve]").click()`)
	b.waitFor("the approval notice", `document.querySelector(".notice") && document.querySelector(".notice").innerText.includes("released")`)
	b.screenshot(filepath.Join(shots, "airlock-3-approved.png"))

	msgs := mail.Wait(1, 10*time.Second)
	if len(msgs) != 1 || msgs[0].To[0] != "vera@example.org" {
		t.Fatalf("got %d mails, want one to vera", len(msgs))
	}
	text, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(msgs[0].Data)))
	link := regexp.MustCompile(`https?://\S+/airlock/download/\S+`).FindString(string(text))
	if link == "" {
		t.Fatalf("no link in the mail:\n%s", text)
	}
	// signed in as the officer, the link is refused
	b.navigate(link)
	b.waitFor("the refusal", `document.body.innerText.includes("sent to someone else")`)
	signOut()

	signIn("vera")
	b.navigate(link)
	b.waitFor("the download page", `document.querySelector("ul.files a")`)
	b.screenshot(filepath.Join(shots, "airlock-4-download.png"))
	b.eval(`window.got = null; fetch(document.querySelector("ul.files a").href).then(r => r.text()).then(t => window.got = t)`)
	b.waitFor("the file", `window.got !== null`)
	if got, want := b.eval(`window.got`), jsString("age_band,patients\n0-17,suppressed\n18-64,400\n65+,suppressed\n"); got != want {
		t.Errorf("downloaded %s, want %s", got, want)
	}
	entries, err := acc.AuditLog(ctx, access.CLI("test"), store.Filter{Action: "export.download"})
	if err != nil || len(entries) != 1 || entries[0].Actor != "vera" {
		t.Errorf("audit of the download: got %d entries (%v), want one by vera", len(entries), err)
	}
}
