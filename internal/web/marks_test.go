package web

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

var (
	leavingRow  = regexp.MustCompile(`(?s)<tbody>(.*?)</tbody>`)
	leavingTD   = regexp.MustCompile(`(?s)<td([^>]*)>(.*?)</td>`)
	markSpan    = regexp.MustCompile(`(?s)<span class="mark">(.*?)</span>`)
	valueSpan   = regexp.MustCompile(`(?s)<span class="value">(.*?)</span>`)
	classOfCell = regexp.MustCompile(`class="([^"]*)"`)
)

// leavingMarks reads, for each body cell of the review page's table of the file that
// leaves, its value and its mark ("" when it has none), row by row.
func leavingMarks(t *testing.T, page string) [][][2]string {
	t.Helper()
	m := leavingTable.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the review page has no table of the file that leaves")
	}
	body := leavingRow.FindStringSubmatch(m[1])
	if body == nil {
		t.Fatalf("the table of the file that leaves has no body")
	}
	var out [][][2]string
	for _, r := range tableRow.FindAllStringSubmatch(body[1], -1) {
		var row [][2]string
		for _, c := range leavingTD.FindAllStringSubmatch(r[1], -1) {
			v, mark := c[2], ""
			if x := valueSpan.FindStringSubmatch(c[2]); x != nil {
				v = x[1]
			}
			if x := markSpan.FindStringSubmatch(c[2]); x != nil {
				mark = x[1]
			}
			if cl := classOfCell.FindStringSubmatch(c[1]); (cl != nil) != (mark != "") {
				t.Errorf("cell %q: class %v and mark %q disagree", c[0], cl, mark)
			}
			row = append(row, [2]string{v, mark})
		}
		out = append(out, row)
	}
	return out
}

// Attack: a hand-made upload whose contributors are forged (one project's persons declared
// as four projects') reaches the officer's review page, where its numbers look like any
// other — the request-level note aside, nothing says which cells Steward never counted.
// Every number of a hand-made upload (persons, suppressed or shown) is marked "declared, not
// verified" on the review page, the dimension labels are not marked; a computed table's
// numbers are marked "computed" and none "declared"; the API's view of the request says the
// same per file (files[].cells); the hidden count is still nowhere on the page.
func TestAttackReviewPageMarksDeclaredCells(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		al.Tables = fakeTables{}
		if err := al.SetSettings(context.Background(), access.CLI("test"), "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 30, MinProjects: -1}, LinkDays: 7}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"validated"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		olga := pageSession(t, f, "olga")
		check := func(t *testing.T, id, want, not string) {
			t.Helper()
			code, page := olga("/projects/diab/exports/" + id)
			if code != 200 {
				t.Fatalf("review page: got %d", code)
			}
			if strings.Contains(page, not) {
				t.Errorf("the review page of a %s table says %q", want, not)
			}
			rows := leavingMarks(t, page)
			if len(rows) < 2 {
				t.Fatalf("rows %q: want the table's cells", rows)
			}
			for _, row := range rows {
				for i, c := range row {
					if i == 0 && c[1] != "" {
						t.Errorf("the dimension label %q is marked %q", c[0], c[1])
					}
					if i > 0 && c[1] != want {
						t.Errorf("row %q: the number %q is marked %q, want %q", row, c[0], c[1], want)
					}
				}
			}
			_, body, _ := f.call("GET", "/api/v1/exports/"+id, tok["olga"], "")
			var r airlock.Request
			if json.Unmarshal([]byte(body), &r); len(r.Files) != 1 || r.Files[0].Cells != want {
				t.Errorf("the API's view: files %+v, want cells %q", r.Files, want)
			}
		}
		t.Run("hand-made", func(t *testing.T) {
			code, body, _ := f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], submitJSON(exportTable(23), ""))
			var r airlock.Request
			if json.Unmarshal([]byte(body), &r); code != 201 || r.Status != airlock.Pending || !r.Declared {
				t.Fatalf("submit: got %d %s, want 201 pending_review, declared", code, body)
			}
			check(t, r.ID, "declared, not verified", ">computed<")
			if _, page := olga("/projects/diab/exports/" + r.ID); regexp.MustCompile(`[^0-9A-Za-z-]23[^0-9A-Za-z-]`).MatchString(page) {
				t.Errorf("the review page shows the hidden count 23")
			}
		})
		t.Run("computed", func(t *testing.T) {
			code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"]}`)
			var r airlock.Request
			if json.Unmarshal([]byte(body), &r); code != 201 || r.Status != airlock.Pending || r.Declared {
				t.Fatalf("computed: got %d %s, want 201 pending_review, not declared", code, body)
			}
			check(t, r.ID, "computed", "declared, not verified")
		})
	})
}
