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
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// browse is a cookie-keeping client of f's pages, signed in as user.
type browse struct {
	t      testing.TB
	f      *fixture
	client *http.Client
}

func signInPages(t testing.TB, f *fixture, user string) *browse {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browse{t, f, &http.Client{Jar: jar}}
	if code, body := b.post("/signin", url.Values{"user": {user}, "password": {rootPW}}); code != 200 || !strings.Contains(body, "My projects") {
		t.Fatalf("sign in %s on the page: got %d", user, code)
	}
	return b
}

func (b *browse) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.client.Get(b.f.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browse) post(path string, v url.Values) (int, string) {
	b.t.Helper()
	resp, err := b.client.PostForm(b.f.srv.URL+path, v)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var tags = regexp.MustCompile(`(?s)<[^>]*>`)

// text is what a reader sees of an HTML body: the tags removed, entities decoded.
func text(body string) string { return html.UnescapeString(tags.ReplaceAllString(body, " ")) }

// The ethics pages show the assurances as the sentences the investigator agrees to, with the
// ids only as form values: the submission form offers every sentence, the application's
// page lists the sentences of the assurances given.
func TestEthicsAssuranceSentences(t *testing.T) {
	f, g, _ := govFixture(t, storetest.Open(t, store.SQLite), Options{InsecureCookies: true})
	ann := signInPages(t, f, "ann")
	code, body := ann.get("/ethics")
	if code != 200 {
		t.Fatalf("/ethics: got %d", code)
	}
	seen := text(body)
	for _, a := range governance.AssuranceList() {
		if a.Sentence == a.ID || len(a.Sentence) < 30 {
			t.Errorf("assurance %s: sentence %q is not a sentence", a.ID, a.Sentence)
		}
		if !strings.Contains(seen, a.Sentence) {
			t.Errorf("/ethics: the sentence of %s is not on the page", a.ID)
		}
		if strings.Contains(seen, a.ID) {
			t.Errorf("/ethics: the id %s is shown as text", a.ID)
		}
		if !strings.Contains(body, `name="assurance" value="`+a.ID+`"`) {
			t.Errorf("/ethics: no checkbox with the value %s", a.ID)
		}
	}
	p, err := f.svc.Principal(context.Background(), "ann", "test")
	if err != nil {
		t.Fatal(err)
	}
	app, err := g.Submit(context.Background(), p, governance.Application{Project: "outcomes", Title: "Housing", Purpose: governance.BestPractice,
		Summary: "s", Risks: "r", Benefits: "b", Conflicts: "none", Agencies: []string{"north", "river"}, Analyses: []string{"outcome_counts"},
		Assurances: governance.Assurances})
	if err != nil {
		t.Fatal(err)
	}
	code, body = ann.get("/ethics/" + app.ID)
	seen = text(body)
	if code != 200 || regexp.MustCompile(`\d+ given`).MatchString(seen) {
		t.Fatalf("/ethics/%s: got %d; want a list of sentences, not a count", app.ID, code)
	}
	last := -1
	for _, a := range governance.AssuranceList() {
		i := strings.Index(seen, a.Sentence)
		if i < 0 || strings.Contains(seen, a.ID) {
			t.Errorf("/ethics/%s: assurance %s not shown as its sentence", app.ID, a.ID)
		} else if i < last {
			t.Errorf("/ethics/%s: assurance %s out of the policy's order", app.ID, a.ID)
		}
		last = i
	}
}

var (
	figureRE = regexp.MustCompile(`(?s)<figure class="breakdown" id="breakdown-([a-z_]+)">(.*?)</figure>`)
	rowRE    = regexp.MustCompile(`<tr><th scope="row">([^<]*)</th><td class="n">([^<]*)</td></tr>`)
)

// shownBreakdowns reads the breakdowns off a cohort page: per dimension, the table's rows in
// order (label, text), and the number of drawn and hatched bars of its chart.
func shownBreakdowns(t *testing.T, body string) (rows map[string][][2]string, bars, hatched map[string]int) {
	t.Helper()
	rows, bars, hatched = map[string][][2]string{}, map[string]int{}, map[string]int{}
	for _, m := range figureRE.FindAllStringSubmatch(body, -1) {
		dim, fig := m[1], m[2]
		if !strings.Contains(fig, "<svg") || !strings.Contains(fig, "<caption") || !strings.Contains(fig, `<th scope="col"`) {
			t.Errorf("breakdown %s: want an SVG chart and a captioned table with column headers", dim)
		}
		for _, r := range rowRE.FindAllStringSubmatch(fig, -1) {
			rows[dim] = append(rows[dim], [2]string{html.UnescapeString(r[1]), html.UnescapeString(r[2])})
		}
		bars[dim], hatched[dim] = strings.Count(fig, `class="bar"`), strings.Count(fig, `class="hidden"`)
	}
	return rows, bars, hatched
}

// The cohort page draws each breakdown as a bar chart with its numbers in a table beside it,
// the exact counts of DATA_AGG as the warehouse gives them, the age bands in age order.
func TestCohortPageBreakdownChartsExact(t *testing.T) {
	f, wh := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataAgg, Options{InsecureCookies: true})
	ann := signInPages(t, f, "ann")
	code, body := ann.post("/projects/diab/cohort", url.Values{"panel": {`\i2b2\Diagnoses\ICD10\E\`, "", ""}, "breakdowns": {"on"}})
	if code != 200 {
		t.Fatalf("cohort page: got %d", code)
	}
	p, err := f.svc.Principal(context.Background(), "ann", "test")
	if err != nil {
		t.Fatal(err)
	}
	a, err := wh.RunWith(context.Background(), p, "diab", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\i2b2\Diagnoses\ICD10\E\`}}}}},
		warehouse.RunOptions{Breakdowns: []string{"all"}})
	if err != nil || len(a.Breakdowns) != 4 {
		t.Fatalf("the same query run directly: %d breakdowns, %v", len(a.Breakdowns), err)
	}
	if strings.Contains(text(body), "age: ") {
		t.Errorf("the breakdowns are still lines of text")
	}
	rows, bars, _ := shownBreakdowns(t, body)
	for dim, cells := range a.Breakdowns {
		if len(rows[dim]) != len(cells) || bars[dim] != len(cells) {
			t.Errorf("breakdown %s: %d rows and %d bars on the page, want %d cells", dim, len(rows[dim]), bars[dim], len(cells))
		}
		for _, r := range rows[dim] {
			if n, ok := cells[r[0]]; !ok || strconv.FormatInt(n, 10) != r[1] {
				t.Errorf("breakdown %s, cell %s: page says %s, the warehouse %d", dim, r[0], r[1], n)
			}
		}
	}
	var ages []string
	for _, r := range rows["age"] {
		ages = append(ages, r[0])
	}
	if i, j := slices.Index(ages, "10-17"), slices.Index(ages, "65-74"); i < 0 || j < 0 || i > j {
		t.Errorf("age bands in the order %v, want by age", ages)
	}
}

// An obfuscated user's breakdowns on the page are what the API tells them, no more exact:
// the noised numbers as given, a cell below the threshold said so with no bar drawn.
func TestCohortPageBreakdownChartsObfuscated(t *testing.T) {
	f, ann, _ := warehouseFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc)
	page := signInPages(t, f, "ann")
	q := `\i2b2\Diagnoses\`
	code, body := page.post("/projects/diab/cohort", url.Values{"panel": {q, "", ""}, "breakdowns": {"on"}})
	if code != 200 || !strings.Contains(body, "(obfuscated") {
		t.Fatalf("cohort page: got %d, want an obfuscated answer", code)
	}
	// Asked again through the API, the same question is told what the page was told.
	var a warehouse.Answer
	code, api, _ := f.call("POST", "/api/v1/projects/diab/queries?breakdowns=all", ann, `{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\"}]}]}`)
	if code != 201 || json.Unmarshal([]byte(api), &a) != nil || a.Method == "" || len(a.Breakdowns) == 0 {
		t.Fatalf("the same question by the API: got %d %.300s", code, api)
	}
	rows, bars, hatched := shownBreakdowns(t, body)
	hidden := 0
	for dim, cells := range a.Breakdowns {
		zeros := 0
		for _, r := range rows[dim] {
			n, ok := cells[r[0]]
			want := strconv.FormatInt(n, 10)
			if n == 0 {
				want, zeros = "below the threshold", zeros+1
			}
			if !ok || r[1] != want {
				t.Errorf("breakdown %s, cell %s: page says %q, the API told %d", dim, r[0], r[1], n)
			}
		}
		if len(rows[dim]) != len(cells) || hatched[dim] != zeros || bars[dim] != len(cells)-zeros {
			t.Errorf("breakdown %s: %d rows, %d bars, %d hatched; want %d cells of which %d hidden", dim, len(rows[dim]), bars[dim], hatched[dim], len(cells), zeros)
		}
		hidden += zeros
	}
	if hidden == 0 {
		t.Errorf("no cell below the threshold: the test does not see how hidden cells are shown")
	}
}

var (
	auditRowRE  = regexp.MustCompile(`<tr><td>(\d+)</td><td>[^<]*</td><td>([^<]*)</td><td>([^<]*)</td>`)
	auditLinkRE = regexp.MustCompile(`id="(older|newer|newest)" href="([^"]*)"`)
)

// auditShown reads an audit page: the entries' numbers and actors, and its paging links.
func auditShown(body string) (seqs []int64, actors []string, links map[string]string) {
	for _, m := range auditRowRE.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		seqs, actors = append(seqs, n), append(actors, m[2])
	}
	links = map[string]string{}
	for _, m := range auditLinkRE.FindAllStringSubmatch(body, -1) {
		links[m[1]] = html.UnescapeString(m[2])
	}
	return seqs, actors, links
}

// The audit page pages through the whole log by a cursor — older entries follow on the next
// page, the previous page is the one before — and the filters (actor, action, dates) narrow
// it, the links keeping them.
func TestAuditPagePagingAndFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{InsecureCookies: true})
		ctx := context.Background()
		ann, err := f.svc.Principal(ctx, "ann", "test")
		if err != nil {
			t.Fatal(err)
		}
		for i := range 23 {
			p := access.CLI("test")
			if i%3 == 0 {
				p = ann
			}
			if err := f.svc.Record(ctx, p, "test.event", "thing/"+strconv.Itoa(i), nil); err != nil {
				t.Fatal(err)
			}
		}
		all, err := f.svc.AuditLog(ctx, access.CLI("test"), store.Filter{Limit: 1000})
		if err != nil || len(all) < 25 {
			t.Fatalf("the log: %d entries, %v", len(all), err)
		}
		root := signInPages(t, f, "root")
		seen := map[int64]bool{}
		var order []int64
		path, pages := "/admin/audit?limit=10", 0
		var second string
		for path != "" {
			code, body := root.get(path)
			seqs, _, links := auditShown(body)
			if code != 200 || len(seqs) == 0 || len(seqs) > 10 {
				t.Fatalf("%s: got %d with %d entries, want 200 with 1 to 10", path, code, len(seqs))
			}
			if pages == 0 && links["newer"] != "" {
				t.Errorf("the first page links to newer entries")
			}
			if pages == 1 {
				second = path
			}
			order = append(order, seqs...)
			for _, s := range seqs {
				seen[s] = true
			}
			pages++
			if pages > 20 {
				t.Fatal("paging does not end")
			}
			if links["older"] != "" {
				path = "/admin/audit" + links["older"]
			} else {
				path = ""
			}
		}
		// Every entry once, newest first, across pages (the sign-in added some since).
		if len(seen) != len(order) || len(order) < len(all) {
			t.Errorf("paged through %d entries (%d distinct), the log holds at least %d", len(order), len(seen), len(all))
		}
		if !slices.IsSortedFunc(order, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("entries across pages are not newest first: %v", order)
		}
		// The previous page of the second is the first.
		_, body := root.get(second)
		s2, _, links := auditShown(body)
		_, first := root.get("/admin/audit" + links["newer"])
		s1, _, l1 := auditShown(first)
		if len(s1) != 10 || len(s2) == 0 || s1[9] != s2[0]+1 || l1["older"] == "" {
			t.Errorf("newer than page 2 (%v): got %v, want the 10 entries just above it", s2, s1)
		}

		// Filters narrow, and the pages keep them.
		_, body = root.get("/admin/audit?limit=3&actor=ann&action=test.event")
		seqs, actors, links := auditShown(body)
		if len(seqs) != 3 || !strings.Contains(links["older"], "actor=ann") || !strings.Contains(links["older"], "action=test.event") {
			t.Errorf("filtered page: %d entries, older link %q; want 3 and the filters kept", len(seqs), links["older"])
		}
		n := len(seqs)
		for links["older"] != "" {
			_, body = root.get("/admin/audit" + links["older"])
			var more []string
			_, more, links = auditShown(body)
			actors = append(actors, more...)
			n += len(more)
		}
		if n != 8 || slices.ContainsFunc(actors, func(a string) bool { return a != "ann" }) {
			t.Errorf("ann's test events over every page: %d (%v), want 8 of ann's", n, actors)
		}
		today := time.Now().UTC()
		for _, c := range []struct {
			from, to string
			want     bool
		}{{today.Format("2006-01-02"), today.Format("2006-01-02"), true}, {today.AddDate(0, 0, 1).Format("2006-01-02"), "", false}, {"", today.AddDate(0, 0, -1).Format("2006-01-02"), false}} {
			_, body := root.get("/admin/audit?action=test.event&from=" + c.from + "&to=" + c.to)
			if seqs, _, _ := auditShown(body); (len(seqs) > 0) != c.want {
				t.Errorf("from %q to %q: %d entries, want entries: %v", c.from, c.to, len(seqs), c.want)
			}
		}
		if code, body := root.get("/admin/audit?from=yesterday"); code != 400 || !strings.Contains(body, "from must be a date") {
			t.Errorf("a from that is not a date: got %d, want 400 saying so", code)
		}
	})
}

// getH is get with the response's headers.
func (b *browse) getH(path string) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.client.Get(b.f.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// The cohort builder without typing paths: the tree's fragment lists a concept's children
// (folders load theirs lazily), the search finds concepts by name, a pick fills a panel of
// the form with a ticked concept, and the query so built runs — the same count as the
// warehouse gives for it.
func TestCohortBuilderFragments(t *testing.T) {
	f, wh := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataAgg, Options{InsecureCookies: true})
	ctx := context.Background()
	p, err := f.svc.Principal(ctx, "ann", "test")
	if err != nil {
		t.Fatal(err)
	}
	ann := signInPages(t, f, "ann")
	icd := `\i2b2\Diagnoses\ICD10\`
	chapters, err := wh.Children(ctx, p, "diab", icd)
	if err != nil || len(chapters) < 3 {
		t.Fatalf("ICD-10 chapters: %d, %v", len(chapters), err)
	}
	code, frag, _ := ann.getH("/projects/diab/cohort/concepts?parent=" + url.QueryEscape(icd))
	if code != 200 || strings.Contains(frag, "<html") {
		t.Fatalf("children fragment: got %d, want a fragment", code)
	}
	for _, c := range chapters {
		if !strings.Contains(frag, ">"+html.EscapeString(c.Name)+"<") {
			t.Errorf("children fragment: chapter %s (%s) missing", c.Code, c.Name)
		}
		if !c.Leaf && !strings.Contains(frag, `hx-get="/projects/diab/cohort/concepts?parent=`+url.QueryEscape(c.Path)+`"`) {
			t.Errorf("children fragment: folder %s does not load its own children", c.Path)
		}
	}
	if n := strings.Count(frag, `class="add"`); n != len(chapters) {
		t.Errorf("children fragment: %d Add buttons for %d chapters", n, len(chapters))
	}
	// Lazily: the page shows the top of the tree, not the chapters.
	if _, page := ann.get("/projects/diab/cohort"); strings.Contains(page, ">"+html.EscapeString(chapters[0].Name)+"<") {
		t.Errorf("the cohort page lists the ICD-10 chapters before any folder is opened")
	}

	// Search by name.
	e := chapters[slices.IndexFunc(chapters, func(c warehouse.Concept) bool { return strings.HasSuffix(c.Path, `\E\`) })]
	word := strings.Fields(e.Name)[0]
	code, res, _ := ann.getH("/projects/diab/cohort/search?q=" + url.QueryEscape(strings.ToLower(word)))
	if code != 200 || !strings.Contains(res, html.EscapeString(e.Path)) || !strings.Contains(res, `pick?path=`+url.QueryEscape(e.Path)) {
		t.Errorf("search %q: got %d, want %s offered to add", word, code, e.Path)
	}

	// A pick fills panel 2 (target 1) with the concept, ticked; picked again, nothing more.
	code, picked, hdr := ann.getH("/projects/diab/cohort/pick?target=1&path=" + url.QueryEscape(e.Path))
	if code != 200 || hdr.Get("HX-Retarget") != "#panel-1-items" || hdr.Get("HX-Reswap") != "beforeend" ||
		!strings.Contains(picked, `name="concept1" value="`+html.EscapeString(e.Path)+`" checked`) || !strings.Contains(picked, html.EscapeString(e.Name)) {
		t.Fatalf("pick: got %d %q (retarget %q)", code, picked, hdr.Get("HX-Retarget"))
	}
	if code, _, _ := ann.getH("/projects/diab/cohort/pick?target=1&concept1=" + url.QueryEscape(e.Path) + "&path=" + url.QueryEscape(e.Path)); code != 204 {
		t.Errorf("a concept picked twice for one panel: got %d, want 204 (nothing added)", code)
	}
	for _, bad := range []string{"target=1&path=" + url.QueryEscape(`\i2b2\Nowhere\`), "target=7&path=" + url.QueryEscape(e.Path)} {
		if code, _, _ := ann.getH("/projects/diab/cohort/pick?" + bad); code != 400 {
			t.Errorf("pick %s: got %d, want 400", bad, code)
		}
	}

	// The query of picked concepts runs: diabetes chapter E and a glucose lab.
	labs, err := wh.FindConcepts(ctx, p, "diab", "2345-7")
	if err != nil || len(labs) == 0 {
		t.Fatalf("the glucose lab: %v, %v", labs, err)
	}
	a, err := wh.Run(ctx, p, "diab", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: e.Path}}}, {Items: []querydef.Item{{Key: labs[0].Path}}}}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := ann.post("/projects/diab/cohort", url.Values{"concept0": {e.Path}, "concept1": {labs[0].Path}})
	if code != 200 || !strings.Contains(body, "Patients: <strong>"+a.Shown+"</strong>") {
		t.Errorf("the picked query: got %d, want Patients: %s", code, a.Shown)
	}
	for i, c := range []warehouse.Concept{e, labs[0]} {
		if !strings.Contains(body, `name="concept`+strconv.Itoa(i)+`" value="`+html.EscapeString(c.Path)+`" checked`) {
			t.Errorf("after the answer, panel %d does not keep %s ticked", i+1, c.Path)
		}
	}
	if a.Count == 0 {
		t.Errorf("the picked query counts nobody: the test does not tell an empty panel from a run")
	}
}

// The panels' constraints are form controls — exclude, at least N times, dates from and to
// (both days included), and the timing across panels — and the page's count is the
// warehouse's for the query they mean.
func TestCohortBuilderConstraints(t *testing.T) {
	f, wh := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataAgg, Options{InsecureCookies: true})
	ctx := context.Background()
	p, err := f.svc.Principal(ctx, "ann", "test")
	if err != nil {
		t.Fatal(err)
	}
	ann := signInPages(t, f, "ann")
	e, lab := `\i2b2\Diagnoses\ICD10\E\`, `\i2b2\Labs\LOINC\2345-7\`
	count := func(q querydef.Query) string {
		t.Helper()
		a, err := wh.Run(ctx, p, "diab", q)
		if err != nil {
			t.Fatal(err)
		}
		return a.Shown
	}
	two := func(second querydef.Panel) querydef.Query {
		second.Items = []querydef.Item{{Key: lab}}
		return querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: e}}}, second}}
	}
	plain := count(two(querydef.Panel{}))
	cases := []struct {
		name string
		form url.Values
		want querydef.Query
	}{
		{"exclude", url.Values{"exclude1": {"on"}}, two(querydef.Panel{Invert: true})},
		{"at least 3 times", url.Values{"occurs1": {"3"}}, two(querydef.Panel{Occurs: querydef.Occurrence{Op: "GE", N: 3}})},
		{"dates", url.Values{"from1": {"2021-01-01"}, "to1": {"2022-06-30"}},
			two(querydef.Panel{DateFrom: &querydef.Bound{At: "2021-01-01 00:00:00"}, DateTo: &querydef.Bound{At: "2022-07-01 00:00:00", Exclusive: true}})},
		{"same visit", url.Values{"timing": {"SAMEVISIT"}}, func() querydef.Query { q := two(querydef.Panel{}); q.Timing = querydef.SameVisit; return q }()},
		{"value above 120", url.Values{"op1:" + lab: {"GT"}, "number1:" + lab: {"120"}}, func() querydef.Query {
			q := two(querydef.Panel{})
			q.Panels[1].Items[0].Value = &querydef.Value{Type: "NUMBER", Op: "GT", Number: 120}
			return q
		}()},
	}
	for _, c := range cases {
		c.form["concept0"], c.form["concept1"] = []string{e}, []string{lab}
		want := count(c.want)
		code, body := ann.post("/projects/diab/cohort", c.form)
		if code != 200 || !strings.Contains(body, "Patients: <strong>"+want+"</strong>") {
			t.Errorf("%s: got %d, want Patients: %s", c.name, code, want)
		}
		if want == plain {
			t.Errorf("%s: %s patients, as many as without it: the test cannot tell the constraint was applied", c.name, want)
		}
	}
	_, body := ann.post("/projects/diab/cohort", url.Values{"concept0": {e}, "exclude0": {"on"}, "occurs0": {"2"}, "from0": {"2021-01-01"}, "to0": {"2022-06-30"}, "timing": {"SAMEVISIT"}})
	for _, kept := range []string{`name="exclude0" checked`, `name="occurs0" min="1" max="1000" value="2"`, `name="from0" value="2021-01-01"`, `name="to0" value="2022-06-30"`, `value="SAMEVISIT" selected`} {
		if !strings.Contains(body, kept) {
			t.Errorf("after the answer the form does not keep %s", kept)
		}
	}
	// A picked lab offers its value's comparison; the answer's page keeps it.
	if code, frag, _ := ann.getH("/projects/diab/cohort/pick?target=1&path=" + url.QueryEscape(lab)); code != 200 || !strings.Contains(frag, `name="op1:`+html.EscapeString(lab)+`"`) {
		t.Errorf("a picked lab: got %d, want its value's comparison offered", code)
	}
	_, body = ann.post("/projects/diab/cohort", url.Values{"concept1": {lab}, "op1:" + lab: {"GE"}, "number1:" + lab: {"7.5"}})
	if !strings.Contains(body, `<option value="GE" selected>`) || !strings.Contains(body, `value="7.5"`) {
		t.Errorf("after the answer the form does not keep the lab's value ≥ 7.5")
	}
	for _, bad := range []url.Values{{"occurs0": {"0"}}, {"to0": {"31/12/2022"}}, {"timing": {"SAMEINSTANCE"}},
		{"concept1": {lab}, "op1:" + lab: {"GT"}, "number1:" + lab: {"high"}}, {"concept1": {lab}, "op1:" + lab: {"BETWIXT"}, "number1:" + lab: {"1"}}} {
		bad["concept0"] = []string{e}
		if code, body := ann.post("/projects/diab/cohort", bad); code != 200 || strings.Contains(body, `class="answer"`) || !strings.Contains(body, `class="error"`) {
			t.Errorf("%v: got %d; want the error on the page and no answer", bad, code)
		}
	}
}
