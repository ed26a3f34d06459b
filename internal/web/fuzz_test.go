package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Every parser of user input is fuzzed through the real handler: whatever arrives, the answer
// is never a 5xx, and API answers are JSON.

var fuzzEndpoints = []string{"/api/v1/signin", "/api/v1/users", "/api/v1/projects", "/api/v1/projects/diab/grants",
	"/api/v1/regions", "/api/v1/agencies", "/api/v1/tokens", "/api/v1/locks/unlock"}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func checkAnswer(t *testing.T, what string, w *httptest.ResponseRecorder, wantJSON bool) {
	if w.Code >= 500 {
		t.Fatalf("%s: got %d %s, want no server error", what, w.Code, w.Body.String())
	}
	if wantJSON && w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
		t.Fatalf("%s: got %d with a body that is not JSON: %q", what, w.Code, w.Body.String())
	}
}

func FuzzAPIBodies(f *testing.F) {
	fx := newFixture(f, storetest.Open(f, store.SQLite), Options{})
	fuzzPosts(f, fx, fuzzEndpoints, []string{`{"user":"root","password":"x"}`, `{"name":"u1","password":"long password 1"}`,
		`{"code":"p","name":"P"}`, `{"user":"ann","role":"DATA_AGG"}`, `{"code":"r","name":"R"}`,
		`{"code":"a","name":"A","region":"west"}`, `{"label":"x","ttl_seconds":3600}`, `{"kind":"account","key":"ann","reason":"because"}`})
}

// fuzzPosts fuzzes JSON bodies POSTed by root to paths, seeded with one body per path (and
// its first half): whatever arrives, no 5xx and a JSON answer.
func fuzzPosts(f *testing.F, fx *fixture, paths, seeds []string) {
	token := fx.signIn("root", rootPW)
	h := fx.web.Handler()
	for i, body := range seeds {
		f.Add(uint8(i), body)
		f.Add(uint8(i), body[:len(body)/2])
	}
	f.Fuzz(func(t *testing.T, i uint8, body string) {
		path := paths[int(i)%len(paths)]
		r := httptest.NewRequest("POST", path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Content-Type", "application/json")
		checkAnswer(t, "POST "+path, serve(h, r), true)
	})
}

func FuzzBearerToken(f *testing.F) {
	fx := newFixture(f, storetest.Open(f, store.SQLite), Options{})
	token := fx.signIn("root", rootPW)
	h := fx.web.Handler()
	for _, s := range []string{"Bearer " + token, "Bearer " + token[:20], "Bearer stw_", "Basic cm9vdDpyb290", "Bearer  " + token + " ", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, auth string) {
		r := httptest.NewRequest("GET", "/api/v1/me", nil)
		r.Header["Authorization"] = []string{auth}
		w := serve(h, r)
		checkAnswer(t, "Authorization "+auth, w, true)
		if w.Code == 200 && strings.TrimSpace(strings.TrimPrefix(auth, "Bearer ")) != token {
			t.Fatalf("Authorization %q: got 200, want refused", auth)
		}
	})
}

func FuzzPageForms(f *testing.F) {
	fx := newFixture(f, storetest.Open(f, store.SQLite), Options{})
	h := fx.web.Handler()
	sign := httptest.NewRequest("POST", "/signin", strings.NewReader("user=root&password="+url.QueryEscape(rootPW)))
	sign.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := serve(h, sign)
	cookie := w.Result().Cookies()
	if w.Code != 303 || len(cookie) == 0 {
		f.Fatalf("sign in: got %d", w.Code)
	}
	pages := []string{"/signin", "/admin/users", "/admin/agencies", "/admin/projects", "/projects/diab/grants", "/admin/locks"}
	for i, form := range []string{"user=root&password=x", "name=u1&password=long+password+1&agency=north&admin=on",
		"what=region&code=r1&name=R", "code=p1&name=P&agency=north", "do=grant&user=ann&role=DATA_AGG", "kind=account&key=ann&reason=because"} {
		f.Add(uint8(i), form)
		f.Add(uint8(i), form+"%zz")
	}
	f.Fuzz(func(t *testing.T, i uint8, form string) {
		path := pages[int(i)%len(pages)]
		r := httptest.NewRequest("POST", path, strings.NewReader(form))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range cookie {
			r.AddCookie(c)
		}
		checkAnswer(t, "POST "+path, serve(h, r), false)
	})
}

func FuzzAuditQuery(f *testing.F) {
	fx := newFixture(f, storetest.Open(f, store.SQLite), Options{})
	token := fx.signIn("root", rootPW)
	h := fx.web.Handler()
	for _, q := range []string{"action=login", "since=2026-01-01&until=2027", "limit=5&before=3", "actor=%zz", "since=2026-1", "limit=99999999999999999999"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		r := httptest.NewRequest("GET", "/api/v1/audit", nil)
		r.URL.RawQuery = q
		r.Header.Set("Authorization", "Bearer "+token)
		checkAnswer(t, "audit ?"+q, serve(h, r), true)
	})
}
