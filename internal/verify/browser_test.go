package verify_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/verify"
)

// chromium returns the headless browser, skipping the test when there is none (failing in CI).
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed: CI must render the report in a real browser (.ci/run installs it)")
	}
	t.Skip("chromium is not installed: skipping the browser rendering of the report")
	return ""
}

// TestReportRendersInBrowser renders a failing report in headless Chromium: the browser's
// own DOM must hold the verdict, the findings and the sign-off block, and no value. The
// screenshot is kept where STEWARD_SCREENSHOTS points, to look at.
func TestReportRendersInBrowser(t *testing.T) {
	browser := chromium(t)
	pol := deidtest.LoadPolicy(t)
	src, dst := deidentify(t, deidtest.Servers[0], pol)
	db := dbtest.SQL(t, dst)
	row := deidtest.Rows(n)[0]
	if _, err := db.Exec("UPDATE encounter SET ward = ? WHERE id = 2", row.MRN); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := verify.WriteFile(page, rep); err != nil {
		t.Fatal(err)
	}
	shots := os.Getenv("STEWARD_SCREENSHOTS")
	if shots == "" {
		shots = dir
	}
	png := filepath.Join(shots, "verify-report.png")
	run := func(args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--no-first-run", "--disable-sync", "--user-data-dir=" + t.TempDir()}
		out, err := exec.CommandContext(ctx, browser, append(append(base, args...), "file://"+page)...).Output()
		if err != nil {
			t.Fatalf("chromium %v: %v", args, err)
		}
		return string(out)
	}
	dom := run("--dump-dom")
	for _, want := range []string{"CHECKS FAILED: 1 of 6", "value(s) equal to an original identifier (from patient.mrn)",
		"5. Sign-off", "Solution engineer", "Product owner", "Database administrator", "no original or de-identified value appears"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered report lacks %q", want)
		}
	}
	for _, o := range originals() {
		if strings.Contains(dom, o) {
			t.Fatal("the rendered report shows an original value")
		}
	}
	run("--window-size=1100,2200", "--screenshot="+png)
	if fi, err := os.Stat(png); err != nil || fi.Size() < 20_000 {
		t.Fatalf("screenshot %s: %v (a rendered page is tens of kilobytes)", png, err)
	}
	t.Logf("screenshot: %s", png)
}
