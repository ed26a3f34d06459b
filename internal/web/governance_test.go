package web

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// clock is a movable clock for the governance service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// govFixture adds to the fixture: region east with agency river, a site project "outcomes"
// stating best-practice research, ann (north) holding DATA_AGG in it, bob on its board and
// dora, north's director. The governance service gates o's warehouse and airlock, if any.
func govFixture(t testing.TB, db *store.DB, o Options) (*fixture, *governance.Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	g := governance.New(db, governance.Config{})
	g.Now = c.now
	o.Governance = g
	if o.Warehouse != nil {
		o.Warehouse.Gate = g
	}
	if o.Airlock != nil {
		o.Airlock.Gate = g
	}
	f := newFixture(t, db, o)
	ctx, cli := context.Background(), access.CLI("test")
	for _, err := range []error{
		f.svc.CreateRegion(ctx, cli, access.Region{Code: "east", Name: "East"}),
		f.svc.CreateAgency(ctx, cli, access.Agency{Code: "river", Name: "River", Region: "east"}),
		f.svc.CreateProject(ctx, cli, access.Project{Code: "outcomes", Name: "Outcomes across agencies"}),
		f.svc.CreateUser(ctx, cli, access.User{Name: "bob"}, rootPW),
		f.svc.CreateUser(ctx, cli, access.User{Name: "dora", Agency: "north", Director: true}, rootPW),
		f.svc.Grant(ctx, cli, "ann", "outcomes", access.DataAgg),
		f.svc.Grant(ctx, cli, "bob", "outcomes", access.EthicsBoard),
		g.SetPurposes(ctx, cli, "outcomes", []governance.Purpose{governance.BestPractice}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return f, g, c
}

// The API walk: the analysis refused, the application submitted, the decision refused
// before the notice periods, approved after, consent recorded, the analysis allowed over
// the consenting agencies only.
func TestGovernanceAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _, c := govFixture(t, db, Options{})
		ann, bob, root := f.signIn("ann", rootPW), f.signIn("bob", rootPW), f.signIn("root", rootPW)
		permit := `{"project":"outcomes","agencies":["north","river"],"analysis":"outcome_counts"}`
		assurances, _ := json.Marshal(governance.Assurances)
		app := `{"project":"outcomes","title":"Housing outcomes","purpose":"best_practice_research","summary":"s","risks":"r","benefits":"b",
			"conflicts":"none","agencies":["north","river"],"analyses":["outcome_counts"],"assurances":` + string(assurances) + `}`
		code, body, _ := f.call("POST", "/api/v1/ethics", ann, app)
		var a governance.Application
		json.Unmarshal([]byte(body), &a)
		if code != 201 || a.ID == "" {
			t.Fatalf("submit: got %d %s", code, body)
		}
		steps := []struct {
			method, path, body string
			token              string
			advance            time.Duration
			want               int
			contains           string
		}{
			{"POST", "/api/v1/permit", permit, ann, 0, 403, "under review: " + a.ID},
			{"POST", "/api/v1/ethics/" + a.ID + "/circulate", "", ann, 0, 403, "approve_ethics"},
			{"POST", "/api/v1/ethics/" + a.ID + "/circulate", "", bob, 0, 200, `"status": "circulated"`},
			{"POST", "/api/v1/ethics/" + a.ID + "/decision", `{"approve":true,"reasons":"sound"}`, bob, 29 * 24 * time.Hour, 409, "may meet"},
			{"POST", "/api/v1/ethics/" + a.ID + "/decision", `{"approve":true,"reasons":"sound","conditions":"cells over 30"}`, bob, 24 * time.Hour, 200, `"status": "approved"`},
			{"POST", "/api/v1/permit", permit, ann, 0, 200, `"left_out": [`},
			{"POST", "/api/v1/consents", `{"application":"` + a.ID + `","party_kind":"agency","party":"north","consented":true}`, root, 0, 201, `"party": "north"`},
			{"POST", "/api/v1/consents", `{"application":"` + a.ID + `","party_kind":"region","party":"west","consented":true}`, root, 0, 201, `"party": "west"`},
			{"POST", "/api/v1/permit", permit, ann, 0, 200, `"agencies": [
    "north"
  ]`},
			{"GET", "/api/v1/ethics/" + a.ID + "/consents", "", bob, 0, 200, `"party": "west"`},
			{"GET", "/api/v1/projects/outcomes/purposes", "", ann, 0, 200, "best_practice_research"},
			{"POST", "/api/v1/people/report", `{"clients":[{"agency":"north","client":"N-1"}]}`, root, 0, 200, `"what": "aggregated analyses of approved application ` + a.ID},
			{"POST", "/api/v1/people/report", `{"clients":[{"agency":"north","client":"N-1"}]}`, ann, 0, 403, ""},
			{"GET", "/api/v1/retention", "", root, 0, 200, `"name": "project_grants"`},
			{"GET", "/api/v1/audit?action=ethics.decide", "", root, 0, 200, `"decision": "approved"`},
		}
		for _, s := range steps {
			c.add(s.advance)
			code, body, _ := f.call(s.method, s.path, s.token, s.body)
			if code != s.want || !strings.Contains(body, s.contains) {
				t.Errorf("%s %s: got %d %s, want %d containing %q", s.method, s.path, code, body, s.want, s.contains)
			}
		}
	})
}

// In headless Chromium: ann submits an application on the page; bob, on the board, records
// its circulation, is refused a decision before the notice period, and decides after it.
func TestBrowserEthicsReview(t *testing.T) {
	b := startChromium(t)
	db := storetest.Open(t, store.SQLite)
	f, g, c := govFixture(t, db, Options{})
	base, shots := browserServer(t, f)
	shot := func(name string) { b.screenshot(filepath.Join(shots, "ethics-"+name+".png")) }
	signIn := func(user string) {
		b.navigate(base + "/signin")
		b.eval(`document.querySelector("#user").value = ` + jsString(user) + `; document.querySelector("#password").value = ` + jsString(rootPW) + `; document.querySelector("form.box button").click()`)
		b.waitFor(user+"'s home page", `document.querySelector("h1") && document.querySelector("h1").innerText === "My projects"`)
	}

	signIn("ann")
	b.navigate(base + "/ethics")
	b.waitFor("the submission form", `document.querySelector("#submit")`)
	b.eval(`
		const f = document.querySelector("#submit");
		f.querySelector("#title").value = "Housing outcomes";
		f.querySelector("#purpose").value = "best_practice_research";
		f.querySelector("#summary").value = "Which supports keep clients housed.";
		f.querySelector("#risks").value = "Small cells; aggregates only.";
		f.querySelector("#benefits").value = "Agencies learn what works.";
		f.querySelector("#conflicts").value = "none";
		f.querySelector("#analyses").value = "outcome_counts";
		for (const v of ["north", "river"]) f.querySelector('input[name=agency][value="' + v + '"]').checked = true;
		f.querySelectorAll("input[name=assurance]").forEach(x => x.checked = true);`)
	b.eval(`document.querySelector("fieldset.assurances").scrollIntoView()`)
	shot("0-assurances")
	seen := b.eval(`document.querySelector("fieldset.assurances").innerText`)
	for _, a := range governance.AssuranceList() {
		if !strings.Contains(seen, a.Sentence[:30]) || strings.Contains(seen, a.ID) {
			t.Errorf("the assurances as the browser shows them: %s; want the sentence of %s, not its id", seen, a.ID)
		}
	}
	b.eval(`document.querySelector("#submit button").click()`)
	b.waitFor("the submission notice", `document.querySelector(".notice") && document.querySelector(".notice").innerText.includes("submitted")`)
	shot("1-submitted")
	apps, err := g.Applications(context.Background(), access.CLI("test"), "outcomes")
	if err != nil || len(apps) != 1 {
		t.Fatalf("applications after the browser's submission: got %d, %v", len(apps), err)
	}
	id := apps[0].ID
	if _, err := g.Permit(context.Background(), "outcomes", []string{"north", "river"}, "outcome_counts"); err == nil {
		t.Fatalf("Permit while the application is under review: got allowed")
	}
	b.eval(`document.querySelector('form[action="/signout"] button').click()`)
	b.waitFor("the sign-in page", `document.querySelector("#password")`)

	signIn("bob")
	b.navigate(base + "/ethics/" + id)
	b.waitFor("the circulate button", `document.querySelector("#circulate")`)
	b.eval(`document.querySelector("#circulate button").click()`)
	b.waitFor("the circulation notice", `document.querySelector(".notice") && document.querySelector("#status").innerText === "circulated"`)
	c.add(8 * 24 * time.Hour) // a week after circulation, but not 30 days after submission
	b.navigate(base + "/ethics/" + id)
	b.eval(`document.querySelector("#reasons-in").value = "Benefits outweigh minimal risk."; document.querySelector("#decide button").click()`)
	b.waitFor("the notice-period refusal", `document.querySelector(".error") && document.querySelector(".error").innerText.includes("may meet on application")`)
	shot("2-too-early")
	c.add(23 * 24 * time.Hour)
	b.navigate(base + "/ethics/" + id)
	b.eval(`document.querySelector("#reasons-in").value = "Benefits outweigh minimal risk."; document.querySelector("#conditions-in").value = "Cells under 31 suppressed."; document.querySelector("#decide button").click()`)
	b.waitFor("the approval", `document.querySelector("#status") && document.querySelector("#status").innerText === "approved"`)
	shot("3-approved")
	if got := b.eval(`document.querySelector("#conditions").innerText`); got != `"Cells under 31 suppressed."` {
		t.Errorf("conditions on the page: got %s", got)
	}
	if basis, err := g.Permit(context.Background(), "outcomes", []string{"north", "river"}, "outcome_counts"); err != nil || basis.Application != id {
		t.Errorf("Permit after the board's approval in the browser: got %+v, %v", basis, err)
	}
}

// The governance API's bodies, fuzzed through the real handlers: never a server error.
func FuzzGovernanceBodies(f *testing.F) {
	fx, _, _ := govFixture(f, storetest.Open(f, store.SQLite), Options{})
	fuzzPosts(f, fx, []string{"/api/v1/ethics", "/api/v1/ethics/x/decision", "/api/v1/consents", "/api/v1/permit", "/api/v1/client-consents",
		"/api/v1/people/report", "/api/v1/corrections", "/api/v1/corrections/x/close"},
		[]string{`{"project":"outcomes","title":"t","purpose":"best_practice_research","agencies":["north"]}`,
			`{"approve":true,"reasons":"r"}`, `{"application":"","project":"outcomes","party_kind":"agency","party":"north","consented":true}`,
			`{"project":"outcomes","agencies":["north","river"],"analysis":"a"}`, `{"agency":"north","client":"N-1","consented":false}`,
			`{"clients":[{"agency":"north","client":"N-1"}],"user":"ann"}`, `{"agency":"north","client":"N-1","item":"i","requested":"r"}`,
			`{"amended":true,"response":"ok"}`})
}
