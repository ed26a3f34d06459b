package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
)

// TestObfuscationSettingsAndBudgetAPI walks issue 17's API: the settings and their guarantee,
// a change by an administrator (audited) and a refusal of anyone else (audited), a user's
// budget spent by counts, breakdowns and totalnums, a totalnum reused by the query of its
// concept at no cost, the refusal when the budget is spent (429, audited), an administrator's
// grant, and breakdowns withheld by the settings (403, audited).
func TestObfuscationSettingsAndBudgetAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, ann, root := warehouseFixture(t, db, access.DataObfsc)
		ctx := context.Background()
		audited := func(action, like string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND detail LIKE $2`, action, "%"+like+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		var v warehouse.SettingsView
		code, body, _ := f.call("GET", "/api/v1/warehouse/settings", ann, "")
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Guarantee == nil || v.Guarantee.Counts != 20 || !strings.Contains(v.Guarantee.Text, "zCDP") {
			t.Fatalf("settings: got %d %.300s; want the defaults with their guarantee of 20 counts", code, body)
		}
		change := `{"noise":"budget","sigma":10,"breakdown_sigma":10,"minimum":3,"threshold":60,"breakdowns":"noised","budget":0.03,
			"period_days":30,"lockout_count":7,"lockout_days":30,"epoch":1,"reason":"a small budget for the test"}`
		if code, _, _ := f.call("PUT", "/api/v1/warehouse/settings", ann, change); code != 403 || audited("warehouse.settings_refused", "") != 1 {
			t.Errorf("settings changed by a DATA_OBFSC user: got %d, want 403 and the refusal audited", code)
		}
		if code, body, _ := f.call("PUT", "/api/v1/warehouse/settings", root, strings.Replace(change, `"sigma":10`, `"sigma":0`, 1)); code != 400 || !strings.Contains(body, "sigma") {
			t.Errorf("σ 0: got %d %s, want 400 naming sigma", code, body)
		}
		code, body, _ = f.call("PUT", "/api/v1/warehouse/settings", root, change)
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Guarantee.Counts != 6 || audited("warehouse.settings", "0.1 → 0.03") != 1 {
			t.Fatalf("settings change: got %d %.300s; want 6 counts per period and the change audited", code, body)
		}
		left := func() int64 {
			t.Helper()
			var st budget.State
			code, body, _ := f.call("GET", "/api/v1/projects/diab/budget", ann, "")
			if code != 200 || json.Unmarshal([]byte(body), &st) != nil {
				t.Fatalf("budget: got %d %s", code, body)
			}
			return st.CountsLeft
		}
		if n := left(); n != 6 {
			t.Errorf("budget before any answer: %d counts left, want 6", n)
		}
		women := `{"panels":[{"items":[{"key":"\\i2b2\\Demographics\\Sex\\F\\"}]}]}`
		var a warehouse.Answer
		code, body, _ = f.call("POST", "/api/v1/projects/diab/queries?breakdowns=sex,race", ann, `{"panels":[{"items":[{"key":"\\i2b2\\Observations\\Smoking\\"}]}]}`)
		if code != 201 || json.Unmarshal([]byte(body), &a) != nil || a.Budget.Cost != 0.015 || len(a.Breakdowns) != 2 || len(a.Breakdowns["sex"]) < 3 {
			t.Fatalf("everyone with breakdowns by sex and race: got %d %.400s; want a cost of 3 counts and every cell of both", code, body)
		}
		var cs []warehouse.Concept
		code, body, _ = f.call("GET", "/api/v1/projects/diab/concepts?totalnum=true&parent="+url.QueryEscape(`\i2b2\Demographics\Sex\`), ann, "")
		if code != 200 || json.Unmarshal([]byte(body), &cs) != nil || len(cs) != 2 || cs[0].Totalnum == nil || left() != 1 {
			t.Fatalf("totalnums of the sexes: got %d %.300s, want two, spending two counts", code, body)
		}
		code, body, _ = f.call("POST", "/api/v1/projects/diab/queries", ann, women)
		if code != 201 || json.Unmarshal([]byte(body), &a) != nil || a.Count != *cs[0].Totalnum || a.Budget.Cost != 0 {
			t.Errorf("women after their totalnum: got %d %.300s; want the totalnum %d at no cost", code, body, *cs[0].Totalnum)
		}
		if code, _, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, `{"panels":[{"items":[{"key":"\\i2b2\\Labs\\"}]}]}`); code != 201 {
			t.Errorf("the last count of the budget: got %d, want 201", code)
		}
		code, body, _ = f.call("POST", "/api/v1/projects/diab/queries", ann, `{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\"}]}]}`)
		if code != 429 || !strings.Contains(body, "privacy budget") || audited("warehouse.budget_refused", "privacy budget spent") != 1 {
			t.Errorf("past the budget: got %d %s; want 429 with the reason, audited", code, body)
		}
		if code, _, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, women); code != 201 {
			t.Errorf("a question asked before, with the budget spent: got %d, want 201 (free)", code)
		}
		if code, _, _ := f.call("POST", "/api/v1/warehouse/budgets/ann/grant", ann, `{"project":"diab","counts":5,"reason":"my own grant"}`); code != 403 ||
			audited("warehouse.refused", "grant budget") != 1 {
			t.Errorf("a grant to oneself: got %d, want 403, audited", code)
		}
		if code, body, _ := f.call("POST", "/api/v1/warehouse/budgets/ann/grant", root, `{"project":"diab","counts":1,"reason":"feasibility of the diabetes study"}`); code != 200 ||
			audited("warehouse.budget_grant", "feasibility of the diabetes study") != 1 {
			t.Errorf("grant: got %d %s, want 200, audited with the reason", code, body)
		}
		if code, _, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, `{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\"}]}]}`); code != 201 {
			t.Errorf("after the grant: got %d, want 201", code)
		}
		var es []budget.Entry
		code, body, _ = f.call("GET", "/api/v1/warehouse/budgets?project=diab", root, "")
		if code != 200 || json.Unmarshal([]byte(body), &es) != nil || len(es) != 1 || es[0].User != "ann" || es[0].Spent != 0.035 || es[0].Granted != 0.005 {
			t.Errorf("budgets: got %d %s; want ann's, 0.035 spent of which 0.005 granted", code, body)
		}
		if code, _, _ := f.call("PUT", "/api/v1/warehouse/settings", root, strings.Replace(change, `"noised"`, `"withheld"`, 1)); code != 200 {
			t.Fatalf("withhold breakdowns: got %d", code)
		}
		if code, _, _ := f.call("POST", "/api/v1/projects/diab/queries?breakdowns=age", ann, women); code != 403 || audited("warehouse.query_refused", "breakdowns withheld") != 1 {
			t.Errorf("breakdowns when withheld: got %d, want 403, audited", code)
		}
	})
}

// The page /admin/obfuscation: the guarantee in words for administrators, a settings change
// with a reason, refused to others.
func TestObfuscationPage(t *testing.T) {
	f, wh := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc, Options{InsecureCookies: true})
	ctx := context.Background()
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
	admin := session("root")
	code, body := admin("GET", "/admin/obfuscation", nil)
	if code != 200 || !strings.Contains(body, "differentially private for every patient") || !strings.Contains(body, "20 new counts") {
		t.Fatalf("the page: got %d, want the guarantee of the defaults", code)
	}
	form := url.Values{"do": {"settings"}, "noise": {"budget"}, "sigma": {"14"}, "breakdown_sigma": {"14"}, "minimum": {"3"}, "threshold": {"80"},
		"breakdowns": {"noised"}, "budget": {"0.1"}, "period_days": {"30"}, "lockout_count": {"7"}, "lockout_days": {"30"}, "epoch": {"1"}}
	if code, body := admin("POST", "/admin/obfuscation", form); code != 400 || !strings.Contains(body, "reason") {
		t.Errorf("a change without a reason: got %d, want 400 asking for one", code)
	}
	form.Set("reason", "more cohorts per period for the feasibility studies")
	if code, body := admin("POST", "/admin/obfuscation", form); code != 200 || !strings.Contains(body, "Settings saved") || !strings.Contains(body, "39 new counts") {
		t.Errorf("the change: got %d, want it saved and 39 counts promised at σ 14", code)
	}
	if s, err := wh.CurrentSettings(ctx); err != nil || s.Sigma != 14 || s.Threshold != 80 {
		t.Errorf("stored settings: got %+v, %v", s, err)
	}
	if code, _ := session("ann")("GET", "/admin/obfuscation", nil); code != 403 {
		t.Errorf("the page for a DATA_OBFSC user: got %d, want 403", code)
	}
}
