package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/transfer/local"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// Every route, with every role and level: north's ann (evaluation group, DATA_LDS, and
// PROJECT_ADMIN, DATA_OFFICER, SPOC, ETHICS_BOARD in her project), south's eve (DATA_AGG),
// wes of a regional agency (district), the director dora, the trainer tess (highest level,
// no roles), and root, the administrator. Each calls each route of the API (by token) and
// of the pages (by session) with another agency's project and with a project that does not
// exist: the two answers must be the same (another agency's resource is 404 everywhere, no
// 403 that confirms it exists), no route answers 500, and every refusal is in the audit log.
func TestEveryRouteEveryRoleAndLevel(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	ctx, cli := context.Background(), access.CLI("test")
	svc := access.New(db, access.Config{RefusalLockAfter: 1 << 20, AccountLockAfter: 1000, AddressLockAfter: 1 << 20, SignInDelay: -1}, nil)
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	wh := warehouse.New(db, svc, keys)
	gov := governance.New(db, governance.Config{})
	wh.Gate = gov
	al := airlock.New(db, svc, airlock.Folder{Folder: local.Folder{Dir: t.TempDir()}}, nil, "http://localhost")
	al.Gate = gov
	w := New(svc, Options{Warehouse: wh, Airlock: al, Governance: gov, InsecureCookies: true})
	f := &fixture{t: t, svc: svc, web: w}
	f.srv = newTestServer(t, w)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(svc.Bootstrap(ctx, cli, access.User{Name: "root"}, rootPW))
	must(svc.CreateRegion(ctx, cli, access.Region{Code: "west", Name: "West"}))
	for _, a := range []access.Agency{{Code: "north", Name: "North", Region: "west"}, {Code: "south", Name: "South", Region: "west"},
		{Code: "westhealth", Name: "West health", Region: "west", Regional: true}} {
		must(svc.CreateAgency(ctx, cli, a))
	}
	for _, x := range []access.Project{{Code: "diab", Name: "Diabetes", Agency: "north"}, {Code: "south-p", Name: "South's", Agency: "south"},
		{Code: "outcomes", Name: "Outcomes"}} {
		must(svc.CreateProject(ctx, cli, x))
	}
	for _, u := range []access.User{{Name: "ann", Agency: "north"}, {Name: "eve", Agency: "south"},
		{Name: "wes", Agency: "westhealth", Level: access.LevelDistrict}, {Name: "dora", Director: true, Email: "dora@example.org"},
		{Name: "tess", FullName: "Trainer"}} {
		must(svc.CreateUser(ctx, cli, u, rootPW))
	}
	for _, g := range []struct {
		user, project string
		role          access.Role
	}{{"ann", "diab", access.DataLDS}, {"ann", "diab", access.ProjectAdmin}, {"ann", "diab", access.DataOfficer}, {"ann", "diab", access.SPOC},
		{"ann", "diab", access.EthicsBoard}, {"eve", "south-p", access.DataAgg}, {"wes", "outcomes", access.DataAgg}, {"ann", "outcomes", access.DataLDS}} {
		must(svc.Grant(ctx, cli, g.user, g.project, g.role))
	}
	if _, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: 5, Patients: 50, Ontology: true}.Inputs(), load.Options{Agency: "north"}); err != nil {
		t.Fatal(err)
	}
	users := []string{"ann", "eve", "wes", "dora", "tess", "root"}
	other := map[string]string{"ann": "south-p", "eve": "diab", "wes": "diab"} // another agency's project
	otherAgency := map[string]string{"ann": "south", "eve": "north", "wes": "north"}
	tokens, clients := map[string]string{}, map[string]*http.Client{}
	for _, u := range users {
		tokens[u] = f.signIn(u, rootPW)
		jar, _ := cookiejar.New(nil)
		clients[u] = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := clients[u].PostForm(f.srv.URL+"/signin", url.Values{"user": {u}, "password": {rootPW}})
		must(err)
		resp.Body.Close()
	}
	fill := func(path, user, project string) string {
		r := strings.NewReplacer("{id}", project, "{query}", "qm-0000000000000000", "{user}", "ann", "{role}", "DATA_AGG",
			"{eid}", "ex-0000000000000000", "{lid}", "ln-0000000000000000", "{token}", strings.Repeat("x", 43), "{file}", "t.csv",
			"{code}", otherAgency[user], "{$}", "", "{path...}", "x")
		return r.Replace(path)
	}
	do := func(user, method, path string, page bool) (int, string) {
		var req *http.Request
		body := "{}"
		if page {
			body = ""
		}
		req, _ = http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
		client := http.DefaultClient
		if page {
			client = clients[user]
			if method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		} else {
			req.Header.Set("Authorization", "Bearer "+tokens[user])
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		must(err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	skip := map[string]bool{"POST /api/v1/signout": true, "POST /signout": true, "POST /api/v1/signin": true, "POST /signin": true, "GET /signin": true}
	calls, refusals := 0, 0
	for _, rt := range w.routes {
		key := rt.Method + " " + rt.Path
		if skip[key] || strings.HasPrefix(rt.Path, "/static/") {
			continue
		}
		page := !strings.HasPrefix(rt.Path, "/api/")
		for _, u := range users {
			project := map[bool]string{true: other[u], false: "diab"}[other[u] != ""]
			code, body := do(u, rt.Method, fill(rt.Path, u, project), page)
			calls++
			if code >= 500 {
				t.Errorf("%s %s as %s: got %d %.200s", rt.Method, fill(rt.Path, u, project), u, code, body)
			}
			if code == 401 || code == 403 || code == 404 {
				refusals++
			}
			if !strings.Contains(rt.Path, "{id}") || other[u] == "" {
				continue
			}
			missing, mbody := do(u, rt.Method, fill(rt.Path, u, "no-such-project"), page)
			calls++
			if code != missing {
				t.Errorf("%s as %s: another agency's project answers %d %.120q, a missing one %d %.120q: want the same", key, u, code, body, missing, mbody)
			}
			if code == 403 {
				t.Errorf("%s as %s: another agency's project answers 403, which confirms it exists", key, u)
			}
		}
	}
	var n int
	for before := int64(0); ; {
		page, err := svc.Audit.Find(ctx, store.Filter{Action: "access.refused", Limit: 1000, Before: before})
		must(err)
		if len(page) == 0 {
			break
		}
		n += len(page)
		before = page[len(page)-1].Seq
	}
	t.Logf("%d routes, %d calls, %d refusals, %d audited", len(w.routes), calls, refusals, n)
	if n < refusals {
		t.Errorf("refusals audited: %d of at least %d refused calls", n, refusals)
	}
	if calls < 6*len(w.routes)/2 {
		t.Errorf("only %d calls for %d routes", calls, len(w.routes))
	}
}
