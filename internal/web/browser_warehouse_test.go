package web

import (
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
	b.eval(`document.querySelector("#panel0").value = "\\i2b2\\Diagnoses\\ICD10\\E\\"; document.querySelector("#panel1").value = "\\i2b2\\Labs\\LOINC\\2345-7\\"; document.querySelector("form.box button").click()`)
	b.waitFor("the answer", `document.querySelector(".answer")`)
	b.screenshot(filepath.Join(shots, "cohort-2-answer.png"))
	if got := b.eval(`document.querySelector(".answer").innerText`); !strings.Contains(got, "obfuscated, budget noise") {
		t.Errorf("answer shown: %s, want an obfuscated count", got)
	}
}
