package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// The warehouse setting table_extremes, as an analyst would try it: min and max of a value
// are refused; the analyst cannot turn the setting on (403, audited); an administrator turns
// it on through the API with only that field and a reason (the other settings stay), audited
// "false → true", and min is then computed; the settings page shows it and turns it off
// again (audited), and min is refused once more.
func TestTableExtremesReachable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, wh := loadedFixture(t, db, access.DataAgg, Options{InsecureCookies: true})
		ann, root := f.signIn("ann", rootPW), f.signIn("root", rootPW)
		ctx := context.Background()
		p, err := f.svc.Principal(ctx, "ann", "test")
		if err != nil {
			t.Fatal(err)
		}
		a, err := wh.Run(ctx, p, "diab", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\i2b2\Diagnoses\`}}}}})
		if err != nil {
			t.Fatal(err)
		}
		minimum := func() error {
			_, err := wh.TableValue(ctx, p, "diab", a.QueryID, []string{"sex"}, warehouse.TableSpec{Statistic: "min", Concept: "LOINC:2345-7"})
			return err
		}
		audited := func(action, like string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND detail LIKE $2`, action, "%"+like+"%").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if err := minimum(); !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "table_extremes") {
			t.Fatalf("min before the setting: got %v, want refused naming table_extremes", err)
		}
		on := `{"table_extremes":true,"reason":"ACRO-style extremes for the audit study"}`
		if code, _, _ := f.call("PUT", "/api/v1/warehouse/settings", ann, on); code != 403 || audited("warehouse.settings_refused", "") != 1 {
			t.Fatalf("the analyst turns extremes on: got %d, want 403 and the refusal audited", code)
		}
		if err := minimum(); err == nil {
			t.Fatal("min allowed after a refused change")
		}
		code, body, _ := f.call("PUT", "/api/v1/warehouse/settings", root, on)
		var v warehouse.SettingsView
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || !v.TableExtremes || v.Sigma != 10 || v.Threshold != 60 {
			t.Fatalf("an administrator turns extremes on: got %d %.300s, want 200 with the other settings kept", code, body)
		}
		if audited("warehouse.settings", "false → true") != 1 || audited("warehouse.settings", "ACRO-style") != 1 {
			t.Fatalf("the change is not audited as table_extremes false → true with its reason")
		}
		if err := minimum(); err != nil {
			t.Fatalf("min after the setting: %v", err)
		}

		jar, _ := cookiejar.New(nil)
		client := &http.Client{Jar: jar}
		post := func(path string, v url.Values) (int, string) {
			resp, err := client.PostForm(f.srv.URL+path, v)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, _ := post("/signin", url.Values{"user": {"root"}, "password": {rootPW}}); code != 200 {
			t.Fatalf("sign in: %d", code)
		}
		resp, err := client.Get(f.srv.URL + "/admin/obfuscation")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), `name="table_extremes" checked`) {
			t.Fatalf("the settings page does not show table_extremes on")
		}
		form := url.Values{"do": {"settings"}, "noise": {"budget"}, "sigma": {"10"}, "breakdown_sigma": {"10"}, "minimum": {"3"}, "threshold": {"60"},
			"breakdowns": {"noised"}, "budget": {"0.1"}, "period_days": {"30"}, "lockout_count": {"7"}, "lockout_days": {"30"}, "epoch": {"1"},
			"reason": {"extremes off again after the audit study"}}
		if code, body := post("/admin/obfuscation", form); code != 200 || !strings.Contains(body, "Settings saved") {
			t.Fatalf("the page turns extremes off: got %d", code)
		}
		if audited("warehouse.settings", "true → false") != 1 {
			t.Fatal("the page's change is not audited as table_extremes true → false")
		}
		if err := minimum(); !errors.Is(err, derrors.Invalid) {
			t.Fatalf("min after the page turned extremes off: got %v, want refused", err)
		}
		form.Set("table_extremes", "on")
		if code, _ := post("/admin/obfuscation", form); code != 200 || minimum() != nil {
			t.Fatalf("the page turns extremes on: got %d, min %v", code, minimum())
		}
	})
}
