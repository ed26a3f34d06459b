package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

const rootPW = "root password 123"

// fixture is a running server over a fresh store with an administrator "root", agency
// "north" in region "west", project "diab" of north and user "ann" of north.
type fixture struct {
	t   testing.TB
	srv *httptest.Server
	web *Server
	svc *access.Service
}

func newFixture(t testing.TB, db *store.DB, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	svc := access.New(db, access.Config{AccountLockAfter: 3, AddressLockAfter: 50, SignInDelay: -1}, nil)
	cli := access.CLI("test")
	for _, err := range []error{
		svc.Bootstrap(ctx, cli, access.User{Name: "root"}, rootPW),
		svc.CreateRegion(ctx, cli, access.Region{Code: "west", Name: "West"}),
		svc.CreateAgency(ctx, cli, access.Agency{Code: "north", Name: "North", Region: "west"}),
		svc.CreateProject(ctx, cli, access.Project{Code: "diab", Name: "Diabetes", Agency: "north"}),
		svc.CreateUser(ctx, cli, access.User{Name: "ann", Agency: "north"}, rootPW),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	w := New(svc, o)
	srv := httptest.NewServer(w.Handler())
	t.Cleanup(srv.Close)
	return &fixture{t, srv, w, svc}
}

// call sends a request and returns the status and body; token may be empty.
func (f *fixture) call(method, path, token, body string, hdr ...string) (int, string, http.Header) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (f *fixture) signIn(user, pw string) string {
	f.t.Helper()
	code, body, _ := f.call("POST", "/api/v1/signin", "", `{"user":"`+user+`","password":"`+pw+`"}`)
	if code != 200 {
		f.t.Fatalf("sign in %s: got %d %s, want 200", user, code, body)
	}
	var r struct{ Token string }
	json.Unmarshal([]byte(body), &r)
	return r.Token
}

func TestAPIFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		root := f.signIn("root", rootPW)
		steps := []struct {
			method, path, body string
			token              *string
			want               int
			contains           string
		}{
			{"GET", "/api/v1/me", "", &root, 200, `"admin": true`},
			{"POST", "/api/v1/users", `{"name":"bob","agency":"north","password":"bob password 1"}`, &root, 201, `"name": "bob"`},
			{"POST", "/api/v1/users", `{"name":"bob","agency":"north","password":"bob password 1"}`, &root, 409, "exists already"},
			{"POST", "/api/v1/projects/diab/grants", `{"user":"bob","role":"DATA_LDS"}`, &root, 201, `"role": "DATA_LDS"`},
			{"GET", "/api/v1/projects/diab/grants", "", &root, 200, `"role": "DATA_AGG"`},
			{"DELETE", "/api/v1/projects/diab/grants/bob/DATA_AGG", "", &root, 204, ""},
			{"POST", "/api/v1/projects/diab/grants", `{"user":"bob","role":"DATA_GOD"}`, &root, 400, "unknown role"},
			{"POST", "/api/v1/regions", `{"code":"east","name":"East"}`, &root, 201, `"east"`},
			{"POST", "/api/v1/agencies", `{"code":"south","name":"South","region":"nowhere"}`, &root, 400, "region nowhere does not exist"},
			{"GET", "/api/v1/agencies", "", &root, 200, `"north"`},
			{"GET", "/api/v1/audit?action=grant", "", &root, 200, `"action": "grant"`},
			{"GET", "/api/v1/locks", "", &root, 200, "[]"},
		}
		for _, s := range steps {
			code, body, _ := f.call(s.method, s.path, *s.token, s.body)
			if code != s.want || !strings.Contains(body, s.contains) {
				t.Errorf("%s %s: got %d %s, want %d containing %q", s.method, s.path, code, body, s.want, s.contains)
			}
		}
		bob := f.signIn("bob", "bob password 1")
		code, body, _ := f.call("GET", "/api/v1/projects", bob, "")
		if code != 200 || !strings.Contains(body, `"roles": [`) || !strings.Contains(body, "DATA_OBFSC") || strings.Contains(body, "DATA_AGG") {
			t.Errorf("bob's projects after revoke of DATA_AGG: got %d %s, want diab with DATA_OBFSC only", code, body)
		}
		for _, path := range []string{"/api/v1/users", "/api/v1/audit", "/api/v1/locks", "/api/v1/projects/diab/grants"} {
			if code, _, _ := f.call("GET", path, bob, ""); code != 403 {
				t.Errorf("bob GET %s: got %d, want 403", path, code)
			}
		}
		if code, _, _ := f.call("POST", "/api/v1/signout", bob, ""); code != 204 {
			t.Errorf("sign out: got %d, want 204", code)
		}
		if code, _, _ := f.call("GET", "/api/v1/me", bob, ""); code != 401 {
			t.Errorf("after sign out: got %d, want 401", code)
		}
		// Lock ann by wrong passwords, then unlock her with a reason.
		for range 3 {
			f.call("POST", "/api/v1/signin", "", `{"user":"ann","password":"wrong wrong wrong"}`)
		}
		if code, body, _ := f.call("POST", "/api/v1/signin", "", `{"user":"ann","password":"`+rootPW+`"}`); code != 423 {
			t.Errorf("locked ann signs in: got %d %s, want 423", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/locks/unlock", root, `{"kind":"account","key":"ann"}`); code != 400 || !strings.Contains(body, "reason") {
			t.Errorf("unlock without reason: got %d %s, want 400 asking for a reason", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/locks/unlock", root, `{"kind":"account","key":"ann","reason":"verified by phone"}`); code != 204 {
			t.Errorf("unlock: got %d %s, want 204", code, body)
		}
		f.signIn("ann", rootPW)
	})
}

func TestOpenAPIListsExactlyTheRoutes(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	code, body, _ := f.call("GET", "/api/v1/openapi.json", "", "")
	if code != 200 {
		t.Fatalf("openapi.json: got %d", code)
	}
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for m := range ops {
			documented = append(documented, strings.ToUpper(m)+" "+path)
		}
	}
	for _, r := range f.web.routes {
		if strings.HasPrefix(r.Path, "/api/") {
			served = append(served, r.Method+" "+r.Path)
		}
	}
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("OpenAPI document and routes differ:\ndocumented %v\nserved     %v", documented, served)
	}
}

// TestOpenAPIOperationIDs: every operation has an operationId, camelCase, and no two share one
// (client generators name their functions after them); the document names its servers and licence.
func TestOpenAPIOperationIDs(t *testing.T) {
	b, err := openAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkOperationIDs(b); err != nil {
		t.Error(err)
	}
	var doc struct {
		Info struct {
			License struct {
				Name string `json:"name"`
			} `json:"license"`
		} `json:"info"`
		Servers []struct {
			URL string `json:"url"`
		} `json:"servers"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Info.License.Name == "" {
		t.Error("info.license has no name")
	}
	if len(doc.Servers) == 0 || doc.Servers[0].URL == "" {
		t.Error("no servers")
	}
	// The check itself refuses a missing, a repeated and a badly cased id.
	for name, frag := range map[string]string{
		"missing":  `{"paths":{"/a":{"get":{"operationId":"getA"}},"/b":{"post":{}}}}`,
		"repeated": `{"paths":{"/a":{"get":{"operationId":"getA"}},"/b":{"get":{"operationId":"getA"}}}}`,
		"cased":    `{"paths":{"/a":{"get":{"operationId":"get_a"}}}}`,
	} {
		if err := checkOperationIDs([]byte(frag)); err == nil {
			t.Errorf("%s operationId: accepted", name)
		}
	}
}

// checkOperationIDs reports the operations of an OpenAPI document without a camelCase
// operationId, and ids used twice.
func checkOperationIDs(b []byte) error {
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	camel := regexp.MustCompile(`^[a-z][a-zA-Z0-9]*$`)
	seen := map[string]string{}
	var problems []string
	for path, ops := range doc.Paths {
		for m, op := range ops {
			at := strings.ToUpper(m) + " " + path
			switch id := op.OperationID; {
			case id == "":
				problems = append(problems, at+" has no operationId")
			case !camel.MatchString(id):
				problems = append(problems, at+": operationId "+id+" is not camelCase")
			case seen[id] != "":
				problems = append(problems, at+": operationId "+id+" is also "+seen[id]+"'s")
			default:
				seen[id] = at
			}
		}
	}
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func TestMalformedRequestsGet4xx(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	root := f.signIn("root", rootPW)
	cases := []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/api/v1/signin", "", ``, 400},
		{"POST", "/api/v1/signin", "", `{`, 400},
		{"POST", "/api/v1/signin", "", `[]`, 400},
		{"POST", "/api/v1/signin", "", `{"user":1}`, 400},
		{"POST", "/api/v1/signin", "", `{"user":"a","password":"b","x":1}`, 400},
		{"POST", "/api/v1/signin", "", `{"user":"a","password":"b"} {}`, 400},
		{"POST", "/api/v1/signin", "", `{"user":"","password":""}`, 400},
		{"POST", "/api/v1/signin", "", `{"user":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"GET", "/api/v1/me", "", "", 401},
		{"GET", "/api/v1/me", "stw_short", "", 401},
		{"GET", "/api/v1/me", "stw_" + strings.Repeat("x", 43), "", 401},
		{"POST", "/api/v1/users", root, `{"name":"x y","password":"long enough pw"}`, 400},
		{"POST", "/api/v1/users", root, `{"name":"xy","password":"short"}`, 400},
		{"POST", "/api/v1/users", root, `{"name":"xy","email":"not an address","password":"long enough pw"}`, 400},
		{"POST", "/api/v1/users", root, `{"name":"xy","agency":"nowhere","password":"long enough pw"}`, 400},
		{"POST", "/api/v1/projects", root, `{"code":"p1","name":"\u0000"}`, 400},
		{"POST", "/api/v1/projects/nope/grants", root, `{"user":"ann","role":"DATA_AGG"}`, 404},
		{"POST", "/api/v1/projects/diab/grants", root, `{"user":"nobody","role":"DATA_AGG"}`, 404},
		{"DELETE", "/api/v1/projects/diab/grants/ann/%00", root, "", 400},
		{"POST", "/api/v1/tokens", root, `{"ttl_seconds":-5}`, 400},
		{"POST", "/api/v1/tokens", root, `{"ttl_seconds":1}`, 400},
		{"POST", "/api/v1/tokens", root, `{"ttl_seconds":1e99}`, 400},
		{"DELETE", "/api/v1/tokens/zzz", root, "", 404},
		{"POST", "/api/v1/locks/unlock", root, `{"kind":"house","key":"x","reason":"because"}`, 400},
		{"POST", "/api/v1/locks/unlock", root, `{"kind":"account","key":"ann","reason":"because"}`, 404},
		{"GET", "/api/v1/audit?limit=abc", root, "", 400},
		{"GET", "/api/v1/audit?since=yesterday", root, "", 400},
		{"GET", "/api/v1/audit?before=-1", root, "", 400},
		{"GET", "/api/v1/audit?since=2026-13-45", root, "", 400},
		{"PUT", "/api/v1/me", root, "", 405},
		{"GET", "/api/v1/nothing", root, "", 404},
	}
	for _, c := range cases {
		code, body, _ := f.call(c.method, c.path, c.token, c.body)
		if code != c.want {
			t.Errorf("%s %s %.60q: got %d %.200s, want %d", c.method, c.path, c.body, code, body, c.want)
		}
	}
}

func TestSecurityHeadersCookiesAndCSRF(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	code, _, h := f.call("GET", "/signin", "", "")
	if code != 200 {
		t.Fatalf("GET /signin: %d", code)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options": "nosniff",
		"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
	} {
		if !strings.Contains(h.Get(k), want) {
			t.Errorf("header %s: got %q, want it to contain %q", k, h.Get(k), want)
		}
	}
	form := "user=root&password=" + url.QueryEscape(rootPW)
	code, _, _ = f.call("POST", "/signin", "", form, "Content-Type", "application/x-www-form-urlencoded",
		"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if code != 403 {
		t.Errorf("cross-site sign-in form: got %d, want 403", code)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+"/signin", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Fatalf("same-origin sign-in: got %d, want 303", resp.StatusCode)
	}
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == "steward_session" {
			c = k
		}
	}
	if c == nil || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("session cookie: got %+v, want Secure, HttpOnly, SameSite=Lax", c)
	}
}

func TestPagesSignInAndAdmin(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{InsecureCookies: true})
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	get := func(path string) (int, string) {
		resp, err := client.Get(f.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(path string, v url.Values) (int, string) {
		resp, err := client.PostForm(f.srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/admin/users"); code != 200 || !strings.Contains(body, `<form method="post" action="/signin"`) {
		t.Fatalf("signed out /admin/users: got %d, want the sign-in page", code)
	}
	if code, body := post("/signin", url.Values{"user": {"root"}, "password": {"nope nope nope"}}); code != 401 || !strings.Contains(body, "wrong user name or password") {
		t.Errorf("wrong password: got %d, want 401 with the message", code)
	}
	if code, body := post("/signin", url.Values{"user": {"root"}, "password": {rootPW}}); code != 200 || !strings.Contains(body, "steward administrator") {
		t.Fatalf("sign in: got %d %s", code, body)
	}
	if code, body := post("/projects/diab/grants", url.Values{"do": {"grant"}, "user": {"ann"}, "role": {"DATA_AGG"}}); code != 200 || !strings.Contains(body, "Granted DATA_AGG") || !strings.Contains(body, "<td>DATA_OBFSC</td>") {
		t.Errorf("grant page: got %d, want the notice and ann's DATA_OBFSC row", code)
	}
	if code, body := post("/projects/diab/grants", url.Values{"do": {"grant"}, "user": {"ann"}, "role": {"KING"}}); code != 400 || !strings.Contains(body, "unknown role") {
		t.Errorf("grant of an unknown role: got %d, want 400 naming it", code)
	}
	if code, body := get("/admin/audit?action=grant"); code != 200 || !strings.Contains(body, "<td>grant</td>") || strings.Contains(body, "<td>login</td>") {
		t.Errorf("audit filtered by action=grant: got %d, want only grant rows", code)
	}
	if code, body := post("/admin/locks", url.Values{"kind": {"account"}, "key": {"ann"}, "reason": {"x"}}); code != 400 || !strings.Contains(body, "reason") {
		t.Errorf("unlock with a short reason: got %d, want 400", code)
	}
	if code, body := post("/signout", nil); code != 200 || !strings.Contains(body, `action="/signin"`) {
		t.Errorf("sign out: got %d, want the sign-in page", code)
	}
	if es, _ := f.svc.Audit.Find(context.Background(), store.Filter{Action: "logout", Actor: "root"}); len(es) != 1 {
		t.Errorf("logout entries: got %d, want 1", len(es))
	}
	if code, body := post("/signin", url.Values{"user": {"root"}, "password": {rootPW}}); code != 200 || !strings.Contains(body, "steward administrator") {
		t.Fatalf("sign in again: got %d", code)
	}
	// A session does not outlive a lock on its account (here for refused requests).
	rootP, _ := f.svc.Principal(context.Background(), "root", "192.0.2.1")
	for range 10 {
		f.svc.Refused(context.Background(), rootP, "GET /x", "/x", 404)
	}
	if code, body := get("/admin/users"); code != 200 || !strings.Contains(body, `action="/signin"`) {
		t.Errorf("locked root's session: got %d, want the sign-in page", code)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{RateLimit: 1})
	var last int
	var h http.Header
	for range 6 {
		last, _, h = f.call("GET", "/api/v1/openapi.json", "", "")
	}
	if last != 429 || h.Get("Retry-After") == "" {
		t.Errorf("6 quick requests at 1/s (burst 4): got %d Retry-After %q, want 429 with Retry-After", last, h.Get("Retry-After"))
	}
}

// An unknown user costs the same argon2id work as a wrong password. Compare the fastest of
// several tries of each: without the dummy hash the unknown user answers ~100 times faster.
func TestNoEnumerationByTiming(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{})
	signIn := func(user string) time.Duration {
		start := time.Now()
		code, body, _ := f.call("POST", "/api/v1/signin", "", `{"user":"`+user+`","password":"not the password"}`)
		d := time.Since(start)
		if code != 401 || !strings.Contains(body, "wrong user name or password") {
			t.Fatalf("%s: got %d %s, want 401 with the one message", user, code, body)
		}
		return d
	}
	// The two kinds of attempt alternate, so that a burst of load on the shared machine slows
	// both alike, and the fastest of each is compared: an unknown user must cost a password
	// hash too (argon2id, tens of milliseconds), which a lookup alone (microseconds) would not.
	// A name each attempt, so that no account reaches its lock (3 failures here).
	unknown, wrong := time.Hour, time.Hour
	for i := range 5 {
		name := fmt.Sprintf("known-%d", i)
		if err := f.svc.CreateUser(context.Background(), access.CLI("test"), access.User{Name: name, Agency: "north"}, rootPW); err != nil {
			t.Fatal(err)
		}
		unknown = min(unknown, signIn(fmt.Sprintf("nobody-%d", i)))
		wrong = min(wrong, signIn(name))
	}
	if ratio := float64(wrong) / float64(unknown); ratio > 3 || ratio < 1.0/3 {
		t.Errorf("wrong password %v vs unknown user %v: ratio %.1f, want within 3×", wrong, unknown, ratio)
	}
}

// Per-user and per-address limits are separate buckets per key.
func TestLimiterKeepsABucketPerKey(t *testing.T) {
	l := newLimiter(1) // 1/s, bursts of 4
	for i := range 4 {
		if _, ok := l.allow("ann"); !ok {
			t.Fatalf("ann's request %d within the burst refused", i+1)
		}
	}
	if wait, ok := l.allow("ann"); ok || wait <= 0 || wait > time.Second {
		t.Errorf("ann's 5th request: got allowed=%v wait %v, want refused with a wait up to 1 s", ok, wait)
	}
	if _, ok := l.allow("bob"); !ok {
		t.Errorf("bob's first request refused because of ann's")
	}
	var off *limiter
	if _, ok := off.allow("ann"); !ok {
		t.Errorf("a nil limiter (rate limits off) refused")
	}
}

func TestOpenAPIFragmentMayNotRedefine(t *testing.T) {
	doc := map[string]any{"paths": map[string]any{"/api/v1/me": map[string]any{}}}
	if err := merge(doc, "paths", map[string]any{"/api/v1/queries": map[string]any{}}, "warehouse.json"); err != nil {
		t.Fatal(err)
	}
	if got := len(doc["paths"].(map[string]any)); got != 2 {
		t.Errorf("merged paths: got %d, want 2", got)
	}
	err := merge(doc, "paths", map[string]any{"/api/v1/me": map[string]any{}}, "other.json")
	if err == nil || !strings.Contains(err.Error(), "openapi.d/other.json: paths /api/v1/me is defined twice") {
		t.Errorf("redefined path: got %v", err)
	}
}
