package web

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/transfer"
)

// The hand-over page lists every grant of the ledger with its state; a grant whose token may
// still work (live, or an Azure grant past its expiry whose policy remains) says so, with the
// commands that close it; closed grants do not. Only those who manage the site see it.
func TestHandoverPage(t *testing.T) {
	l := &transfer.Ledger{Dir: t.TempDir()}
	now := time.Now().UTC()
	grants := []struct {
		rec   transfer.Record
		state string
		open  bool
	}{
		{transfer.Record{ID: "sg-live", Kind: transfer.KindAzure, Created: now.Add(-time.Hour), Expiry: now.Add(2 * time.Hour)}, "live", true},
		{transfer.Record{ID: "sg-old", Kind: transfer.KindAzure, Created: now.Add(-48 * time.Hour), Expiry: now.Add(-24 * time.Hour)}, "expired", true},
		{transfer.Record{ID: "s3-old", Kind: transfer.KindS3, Created: now.Add(-47 * time.Hour), Expiry: now.Add(-24 * time.Hour)}, "expired", false},
		{transfer.Record{ID: "sg-done", Kind: transfer.KindAzure, Created: now.Add(-3 * time.Hour), Expiry: now.Add(time.Hour), Revoked: now.Add(-time.Hour), Confirmed: now.Add(-time.Hour), Proof: "403 AuthenticationFailed"}, "confirmed", false},
		{transfer.Record{ID: "sg-cut", Kind: transfer.KindAzure, Created: now.Add(-2 * time.Hour), Expiry: now.Add(time.Hour), Revoked: now.Add(-30 * time.Minute), Proof: "403 AuthenticationFailed"}, "revoked", false},
	}
	for _, g := range grants {
		if err := l.Save(&g.rec); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{InsecureCookies: true, Grants: l})
	root := signInPages(t, f, "root")
	code, body := root.get("/admin/handovers")
	if code != 200 {
		t.Fatalf("hand-over page: got %d", code)
	}
	rows := regexp.MustCompile(`(?s)<tr class="state-([a-z]+)">\s*<th scope="row"><code>([^<]+)</code></th>(.*?)</tr>`).FindAllStringSubmatch(body, -1)
	if len(rows) != len(grants) {
		t.Fatalf("hand-over page: %d grants listed, want %d", len(rows), len(grants))
	}
	for _, g := range grants {
		var row []string
		for _, r := range rows {
			if r[2] == g.rec.ID {
				row = r
			}
		}
		if row == nil {
			t.Errorf("grant %s not listed", g.rec.ID)
			continue
		}
		if row[1] != g.state {
			t.Errorf("grant %s: state %s, want %s", g.rec.ID, row[1], g.state)
		}
		open := strings.Contains(row[3], "still usable") && strings.Contains(row[3], "steward transfer revoke --grant "+g.rec.ID)
		if open != g.open || (!g.open && !strings.Contains(row[3], "dead")) {
			t.Errorf("grant %s: still usable %v on the page, want %v", g.rec.ID, open, g.open)
		}
	}
	if !strings.Contains(text(body), "1 live") || !strings.Contains(text(body), "5 in all") {
		t.Errorf("the summary does not count the live grants")
	}
	ann := signInPages(t, f, "ann")
	if code, body := ann.get("/admin/handovers"); code != 403 || strings.Contains(body, "sg-live") {
		t.Errorf("hand-over page for ann: got %d, want 403 without the grants", code)
	}
	// A server without a ledger says where grants are kept instead.
	g := newFixture(t, storetest.Open(t, store.SQLite), Options{InsecureCookies: true})
	if code, body := signInPages(t, g, "root").get("/admin/handovers"); code != 200 || !strings.Contains(body, "steward transfer status") {
		t.Errorf("hand-over page without a ledger: got %d", code)
	}
}

// In headless Chromium: the hand-over page as the site's administrator sees it.
func TestBrowserHandovers(t *testing.T) {
	b := startChromium(t)
	l := &transfer.Ledger{Dir: t.TempDir()}
	now := time.Now().UTC()
	for _, r := range []transfer.Record{
		{ID: "sg-0123456789abcdef", Kind: transfer.KindAzure, Created: now.Add(-time.Hour), Expiry: now.Add(2 * time.Hour)},
		{ID: "s3-89abcdef01234567", Kind: transfer.KindS3, Created: now.Add(-26 * time.Hour), Expiry: now.Add(-23 * time.Hour), Revoked: now.Add(-24 * time.Hour), Confirmed: now.Add(-24 * time.Hour), Proof: "403 AccessDenied after the bucket policy's removal"},
	} {
		if err := l.Save(&r); err != nil {
			t.Fatal(err)
		}
	}
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{Grants: l})
	base, shots := browserServer(t, f)
	b.navigate(base + "/signin")
	b.eval(`document.querySelector("#user").value = "root"; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
	b.waitFor("the home page", `document.querySelector("a[href='/admin/handovers']")`)
	b.eval(`document.querySelector("a[href='/admin/handovers']").click()`)
	b.waitFor("the grants", `document.querySelector("#grants tbody tr")`)
	b.screenshot(filepath.Join(shots, "handovers.png"))
	if got := b.eval(`document.querySelector("tr.state-live").innerText`); !strings.Contains(got, "still usable") {
		t.Errorf("the live grant's row: %s", got)
	}
}
