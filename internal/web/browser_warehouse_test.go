package web

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// In headless Chromium, by the keyboard alone: open folders of the concept tree (their
// children load as they open), add a chapter to panel 1, find a lab by the search box and
// add it to panel 2, and count the cohort with breakdowns — with screenshots.
func TestBrowserCohortQuery(t *testing.T) {
	b := startChromium(t)
	f, _ := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc, Options{})
	srv, shots := browserServer(t, f)
	b.navigate(srv + "/")
	b.waitFor("the sign-in form", `document.querySelector("#password")`)
	b.eval(`document.querySelector("#user").value = "ann"; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
	b.waitFor("the home page", `document.querySelector("a[href='/projects/diab/cohort']")`)
	b.eval(`document.querySelector("a[href='/projects/diab/cohort']").click()`)
	b.waitFor("the concept tree", `document.querySelector("#tree summary")`)
	focus := func(what, selector string) {
		t.Helper()
		b.waitFor(what, `document.querySelector(`+jsString(selector)+`)`)
		b.eval(`document.querySelector(` + jsString(selector) + `).focus()`)
		if b.eval(`document.activeElement === document.querySelector(`+jsString(selector)+`)`) != "true" {
			t.Fatalf("%s cannot take the focus", what)
		}
	}
	summary := func(name string) string {
		return `[...document.querySelectorAll("#tree summary")].find(s => s.innerText === ` + jsString(name) + `)`
	}
	openFolder := func(name, child string) {
		t.Helper()
		b.waitFor("the folder "+name, summary(name))
		b.eval(summary(name) + `.focus()`)
		b.press("Enter")
		b.waitFor("the children of "+name, summary(name)+`.parentElement.open && `+summary(name)+`.parentElement.querySelector("ul.children").innerText.includes(`+jsString(child)+`)`)
	}
	openFolder("Diagnoses", "ICD-10")
	openFolder("ICD-10", "Endocrine")
	b.screenshot(filepath.Join(shots, "cohort-1-tree.png"))
	// Add chapter E to panel 1: the Add button of its folder (shown when it is open).
	name := b.eval(`[...document.querySelectorAll("#tree summary")].find(s => s.title.endsWith("\\E\\")).innerText`)
	var chapter string
	json.Unmarshal([]byte(name), &chapter)
	openFolder(chapter, "")
	b.eval(summary(chapter) + `.parentElement.querySelector(".folder-add button.add").focus()`)
	b.press("Enter")
	b.waitFor("chapter E in panel 1", `document.querySelector("#panel-0-items input[name=concept0]")`)
	// Panel 2 by the keyboard, then the search box.
	focus("the radio of panel 2", `#target input[value="1"]`)
	b.press(" ")
	b.waitFor("panel 2 chosen", `document.querySelector('#target input[value="1"]').checked`)
	focus("the search box", "#concept-q")
	b.typeText("2345-7")
	b.waitFor("the search's results", `document.querySelector("#search-results .results button.add")`)
	b.screenshot(filepath.Join(shots, "cohort-2-search.png"))
	focus("the first result's Add", "#search-results .results button.add")
	b.press("Enter")
	b.waitFor("the lab in panel 2", `document.querySelector("#panel-1-items input[name=concept1]")`)
	if got := b.eval(`[document.querySelectorAll("#panel-0-items li").length, document.querySelectorAll("#panel-1-items li").length, document.querySelectorAll("#panel-2-items li").length].join()`); got != `"1,1,0"` {
		t.Errorf("concepts per panel: %s, want 1,1,0", got)
	}
	// The lab's value: above 120, chosen and typed by the keyboard.
	focus("the lab's comparison", `#panel-1-items select`)
	b.eval(`document.querySelector("#panel-1-items select").value = "GT"`)
	focus("the lab's number", `#panel-1-items input[type=number]`)
	b.typeText("120")
	b.eval(`document.querySelector("#panel-1-items").scrollIntoView()`)
	b.screenshot(filepath.Join(shots, "cohort-2-panels.png"))
	b.eval(`document.querySelector("input[name=breakdowns]").checked = true`)
	focus("the count button", "#count")
	b.press("Enter")
	b.waitFor("the answer", `document.querySelector(".answer")`)
	b.screenshot(filepath.Join(shots, "cohort-3-answer.png"))
	if got := b.eval(`document.querySelector(".answer").innerText`); !strings.Contains(got, "obfuscated, budget noise") {
		t.Errorf("answer shown: %s, want an obfuscated count", got)
	}
	if got := b.eval(`[...document.querySelectorAll("#cohort-form input[type=checkbox][name^=concept]:checked")].length`); got != "2" {
		t.Errorf("after the answer, %s concepts still ticked, want the 2 picked", got)
	}
	if got := b.eval(`document.querySelector("#panel-1-items select").value + " " + document.querySelector("#panel-1-items input[type=number]").value`); got != `"GT 120"` {
		t.Errorf("after the answer, the lab's value is %s, want GT 120", got)
	}
	b.waitFor("the obfuscated breakdowns", `document.querySelector("#breakdown-age svg")`)
	b.eval(`document.querySelector("#breakdown-sex").scrollIntoView()`)
	b.screenshot(filepath.Join(shots, "cohort-4-obfuscated-breakdowns.png"))
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
	b.screenshot(filepath.Join(shots, "cohort-5-breakdowns.png"))
	b.eval(`document.querySelector("#breakdown-race").scrollIntoView()`)
	b.screenshot(filepath.Join(shots, "cohort-6-breakdowns.png"))
}
