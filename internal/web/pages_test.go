package web

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
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

var _ = access.DataAgg
