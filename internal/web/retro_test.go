package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// Retroactive checks through the API: the officer sets 50 % a month (the analyst may not),
// a run samples round(0.5 × 7) = 4 of last month's 7 automatic exports, the samples are
// listed for the officer only (another agency's user gets 404), and a recalled outcome
// recalls the export.
func TestRetroactiveChecksAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		ctx := context.Background()
		now := time.Now().UTC()
		last := time.Date(now.Year(), now.Month(), 1, 9, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
		for i := range 7 {
			if _, err := db.ExecContext(ctx, `INSERT INTO export_requests (id, project, author, mode, purpose, status, created_at, declared)
				VALUES ($1, 'diab', 'vera', 'automatic', 'outcomes', 'released', $2, FALSE)`,
				fmt.Sprintf("exp-%016d", i), store.FormatTime(last.Add(time.Duration(i)*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		if code, _, _ := f.call("PUT", "/api/v1/projects/diab/retro/settings", tok["vera"], `{"rate":0,"period":"month"}`); code != 403 {
			t.Errorf("settings by the analyst: got %d, want 403", code)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/retro/settings", tok["olga"], `{"rate":0.5,"period":"month"}`); code != 200 {
			t.Fatalf("settings: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/retro/run", tok["olga"], `{"seed":7}`)
		var runs []airlock.RetroRun
		if code != 200 || json.Unmarshal([]byte(body), &runs) != nil || len(runs) != 1 || runs[0].Released != 7 || runs[0].Picked != 4 {
			t.Fatalf("run: got %d %s, want 4 of 7", code, body)
		}
		sue := f.signIn("sue", rootPW)
		if code, _, _ := f.call("GET", "/api/v1/projects/diab/retro/samples", sue, ""); code != 404 {
			t.Errorf("another agency's user: got %d, want 404", code)
		}
		if code, _, _ := f.call("GET", "/api/v1/projects/diab/retro/samples", tok["vera"], ""); code != 403 {
			t.Errorf("the analyst: got %d, want 403", code)
		}
		var ss []airlock.RetroSample
		code, body, _ = f.call("GET", "/api/v1/projects/diab/retro/samples", tok["olga"], "")
		if code != 200 || json.Unmarshal([]byte(body), &ss) != nil || len(ss) != 4 {
			t.Fatalf("samples: got %d %s", code, body)
		}
		id := ss[0].Request
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/retro/samples/"+id, tok["olga"], `{"outcome":"recalled","note":"a cell of 4 persons"}`); code != 204 {
			t.Fatalf("recall outcome: got %d %s", code, body)
		}
		r, err := al.Get(ctx, mustPrincipal(t, f.svc, "olga"), id)
		if err != nil || r.Status != airlock.Recalled {
			t.Errorf("after the recall outcome: %v %v, want recalled", r, err)
		}
	})
}

// The officer's retroactive-checks page: the analyst is refused; the officer sets 100 % a
// month, samples last month's 3 exports and records a recall, and the page shows it.
func TestRetroactiveChecksPage(t *testing.T) {
	f, al, _ := airlockFixture(t, storetest.Open(t, store.SQLite))
	ctx := context.Background()
	now := time.Now().UTC()
	last := time.Date(now.Year(), now.Month(), 1, 9, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	for i := range 3 {
		if _, err := f.svc.DB.ExecContext(ctx, `INSERT INTO export_requests (id, project, author, mode, purpose, status, created_at, declared)
			VALUES ($1, 'diab', 'vera', 'automatic', 'outcomes', 'released', $2, FALSE)`,
			fmt.Sprintf("exp-%016d", i), store.FormatTime(last.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	session := func(user string) func(method, path string, v url.Values) (int, string) {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		do := func(method, path string, v url.Values) (int, string) {
			var resp *http.Response
			var err error
			if method == "POST" {
				resp, err = client.PostForm(f.srv.URL+path, v)
			} else {
				resp, err = client.Get(f.srv.URL + path)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, _ := do("POST", "/signin", url.Values{"user": {user}, "password": {rootPW}}); code != 200 {
			t.Fatalf("sign in %s: %d", user, code)
		}
		return do
	}
	olga, vera := session("olga"), session("vera")
	if code, _ := vera("GET", "/projects/diab/retro", nil); code != 403 {
		t.Errorf("the analyst's retroactive-checks page: got %d, want 403", code)
	}
	if code, body := olga("POST", "/projects/diab/retro", url.Values{"do": {"settings"}, "rate_percent": {"100"}, "period": {"month"}}); code != 200 || !strings.Contains(body, "Sampling saved") {
		t.Fatalf("settings: got %d", code)
	}
	if code, body := olga("POST", "/projects/diab/retro", url.Values{"do": {"run"}}); code != 200 || !strings.Contains(body, "3 of 3 released automatic exports sampled") {
		t.Fatalf("run: got %d %s", code, body)
	}
	if code, body := olga("POST", "/projects/diab/retro", url.Values{"do": {"outcome"}, "export": {"exp-0000000000000001"}, "outcome": {"recalled"}, "note": {"a cell of 4 persons"}}); code != 200 || !strings.Contains(body, `<td class="outcome">recalled (olga)</td>`) {
		t.Errorf("recall outcome: got %d", code)
	}
	if r, err := al.Get(ctx, mustPrincipal(t, f.svc, "olga"), "exp-0000000000000001"); err != nil || r.Status != airlock.Recalled {
		t.Errorf("after the page's recall: %v %v", r, err)
	}
}
