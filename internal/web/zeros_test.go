package web

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// zerosJSON is a hand-made upload of procedures by sex whose metadata is meta: one
// structural zero (M, hysterectomy) and one real zero (M, stent).
func zerosJSON(meta, reason string) string {
	var m disclosure.Meta
	if err := json.Unmarshal([]byte(meta), &m); err != nil {
		panic(err)
	}
	b, _ := json.Marshal(airlock.Submission{Purpose: "procedures by sex", StructuralReason: reason, Files: []airlock.FileInput{{Name: "proc.csv", Meta: m,
		Data: "sex,procedure,patients\nF,hysterectomy,45\nF,appendectomy,80\nF,stent,40\nF,bypass,60\n" +
			"M,hysterectomy,0\nM,appendectomy,70\nM,stent,0\nM,bypass,55\nU,hysterectomy,35\nU,appendectomy,50\nU,stent,45\nU,bypass,65\n"}}})
	return string(b)
}

// Issue 16, zeros (b): the reason for a declared structural zero was in the request's
// comment only while it was pending — the first approval of two overwrote it, so the second
// reviewer decided without it, and the API's view of the request lost it. Now the reason and
// the declared cells are kept with the request: every reviewer sees them on the review page
// and in GET /api/v1/exports/{eid}, before and after approval. Through the API, the old
// dimension-level structural_zeros is refused (400, naming the field).
func TestStructuralZerosShownToEveryReviewer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		if err := al.SetSettings(context.Background(), access.CLI("test"), "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7, Reviewers: 2}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		dims := `"persons":"patients","dimensions":["sex","procedure"],"population":"dwh:handmade"`
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], zerosJSON(`{`+dims+`,"structural_zeros":["procedure"]}`, ""))
		if code != 400 || !strings.Contains(body, "structural_zeros") || !strings.Contains(body, "structural_cells") {
			t.Fatalf("dimension-level structural_zeros: got %d %s, want 400 naming structural_zeros and pointing to structural_cells", code, body)
		}
		code, body, _ = f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], zerosJSON(`{`+dims+`,"structural_cells":[["M","hysterectomy"]]}`, ""))
		if code != 400 || !strings.Contains(body, "structural_reason") {
			t.Fatalf("structural_cells without a reason: got %d %s, want 400 naming structural_reason", code, body)
		}
		reason := "hysterectomy is recorded for women only"
		code, body, _ = f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], zerosJSON(`{`+dims+`,"structural_cells":[["M","hysterectomy"]]}`, reason))
		var r airlock.Request
		if json.Unmarshal([]byte(body), &r); code != 201 || r.Status != airlock.Pending {
			t.Fatalf("submit: got %d %s, want 201 pending_review", code, body)
		}
		seen := func(who string) {
			t.Helper()
			code, page := pageSession(t, f, who)("/projects/diab/exports/" + r.ID)
			page = html.UnescapeString(page)
			if code != 200 || !strings.Contains(page, reason) || !strings.Contains(page, "proc.csv: sex=M, procedure=hysterectomy") {
				t.Errorf("%s's review page (%d) does not show the declared structural zero and its reason", who, code)
			}
			_, body, _ := f.call("GET", "/api/v1/exports/"+r.ID, tok[who], "")
			var got airlock.Request
			if json.Unmarshal([]byte(body), &got); got.StructuralReason != reason || len(got.Files) != 1 || len(got.Files[0].Meta.StructuralCells) != 1 {
				t.Errorf("the API's view to %s: reason %q, files %+v; want the reason and the declared cell", who, got.StructuralReason, got.Files)
			}
		}
		seen("olga")
		if code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/review", tok["olga"], `{"approve":true,"comment":"the cell is impossible"}`); code != 200 {
			t.Fatalf("first approval: got %d %s", code, body)
		}
		seen("otto") // the second reviewer, after the first approval rewrote the comment
		code, body, _ = f.call("POST", "/api/v1/exports/"+r.ID+"/review", tok["otto"], `{"approve":true,"comment":"agreed"}`)
		if json.Unmarshal([]byte(body), &r); code != 200 || r.Status != airlock.Released {
			t.Fatalf("second approval: got %d %s, want released", code, body)
		}
		seen("olga")
		seen("vera")

		// the page's form names the cells the same way, one a line
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		post := func(path string, v url.Values) string {
			resp, err := client.PostForm(f.srv.URL+path, v)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		post("/signin", url.Values{"user": {"vera"}, "password": {rootPW}})
		var sub airlock.Submission
		json.Unmarshal([]byte(zerosJSON(`{`+dims+`}`, "")), &sub)
		page := post("/projects/diab/exports", url.Values{"do": {"submit"}, "purpose": {"by sex"}, "name": {"p.csv"}, "data": {sub.Files[0].Data},
			"persons": {"patients"}, "dimensions": {"sex,procedure"}, "population": {"dwh:handmade-2"},
			"structural": {"M, hysterectomy\n"}, "structural_reason": {reason}})
		id := regexp.MustCompile(`Export (exp-[0-9a-f]+): pending_review`).FindStringSubmatch(page)
		if id == nil {
			t.Fatalf("the form's submission: no pending export in the page")
		}
		_, body, _ = f.call("GET", "/api/v1/exports/"+id[1], tok["otto"], "")
		var got airlock.Request
		if json.Unmarshal([]byte(body), &got); got.StructuralReason != reason || len(got.Files) != 1 || strings.Join(got.Files[0].StructuralLabels(), "; ") != "sex=M, procedure=hysterectomy" {
			t.Errorf("the form's request: reason %q, files %+v; want the reason and the declared cell", got.StructuralReason, got.Files)
		}
	})
}
