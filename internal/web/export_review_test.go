package web

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// pageSession signs user in on the pages and returns a GET for them.
func pageSession(t *testing.T, f *fixture, user string) func(path string) (int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.PostForm(f.srv.URL+"/signin", url.Values{"user": {user}, "password": {rootPW}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("sign in %s: %v %v", user, resp, err)
	}
	resp.Body.Close()
	return func(path string) (int, string) {
		resp, err := client.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

var (
	leavingTable = regexp.MustCompile(`(?s)<table class="leaving"[^>]*>(.*?)</table>`)
	tableRow     = regexp.MustCompile(`(?s)<tr>(.*?)</tr>`)
	tableCell    = regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
)

// pageTable reads the rows (header first) of the review page's table of the file that leaves:
// each cell's value (a number's mark, "declared, not verified" or "computed", is the page's,
// not the file's: leavingMarks reads it).
func pageTable(t *testing.T, page string) [][]string {
	t.Helper()
	m := leavingTable.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the review page has no table of the file that leaves")
	}
	var rows [][]string
	for _, r := range tableRow.FindAllStringSubmatch(m[1], -1) {
		var row []string
		for _, c := range tableCell.FindAllStringSubmatch(r[1], -1) {
			v := c[1]
			if x := valueSpan.FindStringSubmatch(v); x != nil {
				v = x[1]
			}
			row = append(row, html.UnescapeString(v))
		}
		rows = append(rows, row)
	}
	return rows
}

// The export review page shows exactly the file that will leave: before the approval the
// checked table (the small cell and the margin-recomputable one "suppressed", no project
// column), after it the same table, and it equals the bytes the download link serves,
// parsed as CSV. The hidden count is nowhere on the page.
func TestExportReviewPageShowsTheFileThatLeaves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _, tok := airlockFixture(t, db)
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"validated"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], submitJSON(exportTable(23), ""))
		var r airlock.Request
		json.Unmarshal([]byte(body), &r)
		if code != 201 || r.Status != airlock.Pending {
			t.Fatalf("submit: got %d %s, want 201 pending_review", code, body)
		}
		olga := pageSession(t, f, "olga")
		code, page := olga("/projects/diab/exports/" + r.ID)
		if code != 200 {
			t.Fatalf("review page: got %d", code)
		}
		before := pageTable(t, page)
		if len(before) != 4 || !slices.Equal(before[0], []string{"age_band", "patients"}) || !slices.ContainsFunc(before[1:], func(r []string) bool { return slices.Equal(r, []string{"0-17", "suppressed"}) }) {
			t.Errorf("pending: the page shows %q, want the checked table with 0-17 suppressed and no project column", before)
		}
		if regexp.MustCompile(`[^0-9A-Za-z-]23[^0-9A-Za-z-]`).MatchString(page) {
			t.Errorf("the review page shows the hidden count 23")
		}
		if !strings.Contains(page, `name="decision" value="approve"`) {
			t.Errorf("the officer's review page has no approve button")
		}
		if code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/review", tok["olga"], `{"approve":true,"comment":"fine"}`); code != 200 || !strings.Contains(body, `"released"`) {
			t.Fatalf("review: got %d %s, want 200 released", code, body)
		}
		_, page = olga("/projects/diab/exports/" + r.ID)
		after := pageTable(t, page)

		code, body, _ = f.call("POST", "/api/v1/exports/"+r.ID+"/links", tok["olga"], `{"recipient":"vera"}`)
		var link struct {
			Token string `json:"token"`
		}
		if json.Unmarshal([]byte(body), &link); code != 201 || link.Token == "" {
			t.Fatalf("link: got %d %s", code, body)
		}
		code, file, _ := f.call("GET", "/api/v1/download/"+link.Token+"/by_age.csv", tok["vera"], "")
		if code != 200 {
			t.Fatalf("download: got %d %s", code, file)
		}
		downloaded, err := csv.NewReader(strings.NewReader(file)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for name, shown := range map[string][][]string{"pending": before, "released": after} {
			if !slices.EqualFunc(shown, downloaded, slices.Equal[[]string]) {
				t.Errorf("%s: the review page shows %q, the download serves %q", name, shown, downloaded)
			}
		}
		// the analyst sees their own request's page; another project's path does not show it
		vera := pageSession(t, f, "vera")
		if code, page := vera("/projects/diab/exports/" + r.ID); code != 200 || !slices.EqualFunc(pageTable(t, page), downloaded, slices.Equal[[]string]) {
			t.Errorf("the author's page: got %d, want the same table", code)
		}
		if code, _ := olga("/projects/nope/exports/" + r.ID); code != 404 {
			t.Errorf("under another project: got %d, want 404", code)
		}
	})
}
