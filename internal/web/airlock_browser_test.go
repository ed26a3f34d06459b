package web

import (
	"context"
	"encoding/json"
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
	"github.com/stewardhealth/steward/internal/disclosure"
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
	if got, want := b.eval(`[...document.querySelectorAll("table.leaving tr")].map(r => [...r.cells].map(c => (c.querySelector(".value") || c).innerText).join(",")).join("\n")`),
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

// In headless Chromium, where an officer looks: on the review page of a hand-made upload
// every number (shown or suppressed) carries a visible "declared, not verified" mark beside
// it — on screen, not hidden, not clipped — and the dimension labels none; on a computed
// table's page every number is marked "computed". The hidden count is not on either page.
func TestBrowserReviewMarksDeclaredCells(t *testing.T) {
	b := startChromium(t)
	db := storetest.Open(t, store.SQLite)
	f, al, tok := airlockFixture(t, db)
	al.Tables = fakeTables{}
	if err := al.SetSettings(context.Background(), access.CLI("test"), "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 30, MinProjects: -1}, LinkDays: 7}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"validated"}`); code != 204 {
		t.Fatalf("SPOC lists vera: got %d %s", code, body)
	}
	submit := func(path, body string) string {
		code, out, _ := f.call("POST", path, tok["vera"], body)
		var r airlock.Request
		if json.Unmarshal([]byte(out), &r); code != 201 || r.Status != airlock.Pending {
			t.Fatalf("submit: got %d %s, want 201 pending_review", code, out)
		}
		return r.ID
	}
	handMade := submit("/api/v1/projects/diab/exports", submitJSON(exportTable(23), ""))
	computed := submit("/api/v1/projects/diab/exports/tables", `{"purpose":"by sex","query":"qm-all","dimensions":["sex"]}`)
	base := strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)
	shots := os.Getenv("STEWARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	os.MkdirAll(shots, 0o755)
	b.navigate(base + "/signin")
	b.eval(`document.querySelector("#user").value = "olga"; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
	b.waitFor("olga's home page", `document.querySelector("h1") && document.querySelector("h1").innerText === "My projects"`)
	// each body cell as the officer sees it: its text, its mark's text, and whether the mark
	// is drawn on screen (a box of its own inside the window, visible, not transparent)
	const cells = `JSON.stringify([...document.querySelectorAll("table.leaving tbody tr")].map(r => [...r.cells].map(c => {
		const m = c.querySelector(".mark"), v = c.querySelector(".value");
		if (!m) return [c.innerText, "", true];
		const box = m.getBoundingClientRect(), st = getComputedStyle(m);
		const seen = box.width > 0 && box.height > 0 && box.left >= 0 && box.right <= window.innerWidth &&
			st.visibility === "visible" && st.display !== "none" && parseFloat(st.opacity) > 0 && st.color !== st.backgroundColor;
		return [v ? v.innerText : "", m.innerText, seen];
	})))`
	for _, c := range []struct{ id, mark, shot string }{{handMade, "declared, not verified", "marks-1-declared.png"}, {computed, "computed", "marks-2-computed.png"}} {
		b.navigate(base + "/projects/diab/exports/" + c.id)
		b.waitFor("the review page", `document.querySelector("table.leaving tbody tr")`)
		b.eval(`document.querySelector("table.leaving").scrollIntoView()`)
		var rows [][][]any
		if err := json.Unmarshal([]byte(jsonString(t, b.eval(cells))), &rows); err != nil || len(rows) < 2 {
			t.Fatalf("%s: the table's cells: %v %v", c.id, rows, err)
		}
		for _, row := range rows {
			for i, cell := range row {
				text, mark, seen := cell[0], cell[1], cell[2]
				if i == 0 && mark != "" {
					t.Errorf("%s: the label %v is marked %v", c.id, text, mark)
				}
				if i > 0 && (mark != c.mark || seen != true) {
					t.Errorf("%s: the number %v is marked %q (on screen: %v), want %q on screen", c.id, text, mark, seen, c.mark)
				}
			}
		}
		if got := b.eval(`/(^|[^0-9A-Za-z-])23([^0-9A-Za-z-]|$)/.test(document.querySelector("main").innerText)`); got != "false" {
			t.Errorf("%s: the review page shows the hidden count 23", c.id)
		}
		b.screenshot(filepath.Join(shots, c.shot))
	}
}

// jsonString undoes eval's quoting of a string result.
func jsonString(t *testing.T, quoted string) string {
	t.Helper()
	var s string
	if err := json.Unmarshal([]byte(quoted), &s); err != nil {
		t.Fatalf("not a JSON string: %s", quoted)
	}
	return s
}
