package web

import (
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// In headless Chromium: browse the concept tree and count a cohort, with screenshots.
func TestBrowserCohortQuery(t *testing.T) {
	b := startChromium(t)
	f, _ := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc, Options{})
	server := httptest.NewServer(f.web.Handler())
	t.Cleanup(server.Close)
	srv := strings.Replace(server.URL, "127.0.0.1", "localhost", 1) // browsers keep Secure cookies on localhost
	shots := os.Getenv("STEWARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	os.MkdirAll(shots, 0o755)
	b.navigate(srv + "/")
	b.waitFor("the sign-in form", `document.querySelector("#password")`)
	b.eval(`document.querySelector("#user").value = "ann"; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
	b.waitFor("the home page", `document.querySelector("a[href='/projects/diab/cohort']")`)
	b.eval(`document.querySelector("a[href='/projects/diab/cohort']").click()`)
	b.waitFor("the concept tree", `document.body.innerText.includes("Diagnoses")`)
	b.eval(`document.querySelector("a[href*='Diagnoses']").click()`)
	b.waitFor("the ICD-10 folder", `document.body.innerText.includes("ICD-10")`)
	b.screenshot(filepath.Join(shots, "cohort-1-tree.png"))
	b.eval(`document.querySelector("#panel0").value = "\\i2b2\\Diagnoses\\ICD10\\E\\"; document.querySelector("#panel1").value = "\\i2b2\\Labs\\LOINC\\2345-7\\"; document.querySelector("input[name=breakdowns]").checked = true; document.querySelector("form.box button").click()`)
	b.waitFor("the answer", `document.querySelector(".answer")`)
	b.screenshot(filepath.Join(shots, "cohort-2-answer.png"))
	b.waitFor("the obfuscated breakdowns", `document.querySelector("#breakdown-age svg")`)
	b.eval(`document.querySelector("#breakdown-sex").scrollIntoView()`)
	b.screenshot(filepath.Join(shots, "cohort-2-obfuscated-breakdowns.png"))
	if got := b.eval(`document.querySelector(".answer").innerText`); !strings.Contains(got, "obfuscated, budget noise") {
		t.Errorf("answer shown: %s, want an obfuscated count", got)
	}
}

// In headless Chromium: the breakdowns of an exact answer render as bar charts with their
// tables beside them, and the bars' drawn lengths keep the cells' proportions.
func TestBrowserBreakdownCharts(t *testing.T) {
	b := startChromium(t)
	f, _ := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataAgg, Options{})
	base, shots := browserServer(t, f)
	b.navigate(base + "/signin")
	b.eval(`document.querySelector("#user").value = "ann"; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
	b.waitFor("the home page", `document.querySelector("a[href='/projects/diab/cohort']")`)
	b.navigate(base + "/projects/diab/cohort")
	b.eval(`document.querySelector("#panel0").value = "\\i2b2\\Diagnoses\\"; document.querySelector("input[name=breakdowns]").checked = true; document.querySelector("form.box button").click()`)
	b.waitFor("the breakdowns", `document.querySelector("#breakdown-age svg")`)
	// Each bar's drawn width over its cell's number is the same (a proportional scale).
	ratios := b.eval(`(() => {
		const f = document.querySelector("#breakdown-age");
		const w = [...f.querySelectorAll("rect.bar")].map(r => r.getBoundingClientRect().width);
		const n = [...f.querySelectorAll("td.n")].map(td => Number(td.innerText));
		return w.map((x, i) => n[i] ? x / n[i] : 0);
	})()`)
	var rs []float64
	if err := json.Unmarshal([]byte(ratios), &rs); err != nil || len(rs) < 5 {
		t.Fatalf("drawn bars of the age breakdown: %s (%v)", ratios, err)
	}
	for _, r := range rs {
		if r <= 0 || math.Abs(r-rs[0]) > 0.02*rs[0] {
			t.Errorf("drawn width per patient: %v, want the same for every band", rs)
			break
		}
	}
	if got := b.eval(`(() => { const f = document.querySelector("#breakdown-sex"); const s = f.querySelector("svg").getBoundingClientRect(), t = f.querySelector("table").getBoundingClientRect(); return s.width > 200 && t.left >= s.right && t.top < s.bottom; })()`); got != "true" {
		t.Errorf("the sex breakdown: want the chart drawn with its table beside it, got %s", got)
	}
	b.eval(`document.querySelector(".answer").scrollIntoView()`)
	b.screenshot(filepath.Join(shots, "cohort-3-breakdowns.png"))
	b.eval(`document.querySelector("#breakdown-race").scrollIntoView()`)
	b.screenshot(filepath.Join(shots, "cohort-4-breakdowns.png"))
}
