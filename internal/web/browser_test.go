package web

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// In headless Chromium: sign in, grant a role, unlock a locked user — with screenshots
// (in $STEWARD_SCREENSHOTS when set, else the test's temporary folder).
func TestBrowserSignInGrantUnlock(t *testing.T) {
	b := startChromium(t)
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	base, shots := browserServer(t, f)
	ctx := context.Background()

	b.navigate(base + "/")
	b.waitFor("the sign-in form", `document.querySelector("#password")`)
	b.screenshot(filepath.Join(shots, "1-signin.png"))
	b.eval(`document.querySelector("#user").value = "root"; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
	b.waitFor("the home page", `document.querySelector("h1") && document.querySelector("h1").innerText === "My projects"`)
	b.screenshot(filepath.Join(shots, "2-home.png"))
	if got := b.eval(`typeof htmx === "object" && htmx.version`); got != `"2.0.4"` {
		t.Errorf("htmx in the page: got %s, want version 2.0.4 loaded under the CSP", got)
	}

	b.navigate(base + "/projects/diab/grants")
	b.eval(`document.querySelector("#user").value = "ann"; document.querySelector("#role").value = "DATA_LDS"; document.querySelector("form.box button").click()`)
	b.waitFor("the grant notice", `document.querySelector(".notice") && document.querySelector(".notice").innerText.includes("Granted DATA_LDS")`)
	b.screenshot(filepath.Join(shots, "3-granted.png"))
	// A refused input shows its error on the page (htmx swaps 4xx answers too).
	b.eval(`document.querySelector("#user").value = "nobody"; document.querySelector("form.box button").click()`)
	b.waitFor("the error for an unknown user", `document.querySelector(".error") && document.querySelector(".error").innerText.includes("user nobody")`)
	p, err := f.svc.Principal(ctx, "ann", "")
	if err != nil || p.Level("diab") != access.DataLDS.Level() {
		t.Errorf("after the grant in the browser: ann's level %d (%v), want DATA_LDS", p.Level("diab"), err)
	}

	for range 3 {
		f.svc.SignIn(ctx, "ann", "a wrong password", "203.0.113.9")
	}
	if _, err := f.svc.SignIn(ctx, "ann", rootPW, "203.0.113.9"); !errors.Is(err, derrors.Locked) {
		t.Fatalf("ann after 3 failures: got %v, want locked", err)
	}
	b.navigate(base + "/admin/locks")
	b.waitFor("ann's lock", `document.body.innerText.includes("ann")`)
	b.screenshot(filepath.Join(shots, "4-locked.png"))
	b.eval(`document.querySelector("input[name=reason]").value = "ann called; verified identity"; document.querySelector("main form button").click()`)
	b.waitFor("the unlock notice", `document.querySelector(".notice") && document.querySelector(".notice").innerText.includes("Unlocked account-address ann@203.0.113.9")`)
	b.screenshot(filepath.Join(shots, "5-unlocked.png"))
	if _, err := f.svc.SignIn(ctx, "ann", rootPW, "203.0.113.9"); err != nil {
		t.Errorf("ann after the unlock in the browser: %v", err)
	}
	b.navigate(base + "/admin/audit?action=unlock")
	b.waitFor("the unlock in the audit log", `document.body.innerText.includes("ann called; verified identity")`)
	b.screenshot(filepath.Join(shots, "6-audit.png"))
}

// browserServer serves the fixture over plain HTTP on "localhost" (browsers keep Secure
// cookies there) and returns its address and the folder for screenshots
// ($STEWARD_SCREENSHOTS when set, else the test's temporary folder).
func browserServer(t *testing.T, f *fixture) (base, shots string) {
	srv := httptest.NewServer(f.web.Handler())
	t.Cleanup(srv.Close)
	shots = os.Getenv("STEWARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	os.MkdirAll(shots, 0o755)
	return strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), shots
}
