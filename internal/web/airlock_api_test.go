package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/transfer/local"
)

// airlockFixture is the web fixture with export requests: in project diab (agency north)
// vera is DATA_AGG, olga and otto DATA_OFFICER, ann SPOC; sue is a user of agency south.
// It returns tokens by user.
func airlockFixture(t *testing.T, db *store.DB) (*fixture, *airlock.Service, map[string]string) {
	t.Helper()
	ctx := context.Background()
	acc := access.New(db, access.Config{}, nil)
	al := airlock.New(db, acc, airlock.Folder{Folder: local.Folder{Dir: t.TempDir()}}, nil, "https://steward.test")
	f := newFixture(t, db, Options{Airlock: al, InsecureCookies: true})
	cli := access.CLI("test")
	for _, err := range []error{
		f.svc.CreateAgency(ctx, cli, access.Agency{Code: "south", Name: "South", Region: "west"}),
		f.svc.CreateUser(ctx, cli, access.User{Name: "olga", Agency: "north"}, rootPW),
		f.svc.CreateUser(ctx, cli, access.User{Name: "otto", Agency: "north"}, rootPW),
		f.svc.CreateUser(ctx, cli, access.User{Name: "vera", Agency: "north"}, rootPW),
		f.svc.CreateUser(ctx, cli, access.User{Name: "sue", Agency: "south"}, rootPW),
		f.svc.Grant(ctx, cli, "vera", "diab", access.DataAgg),
		f.svc.Grant(ctx, cli, "olga", "diab", access.DataOfficer),
		f.svc.Grant(ctx, cli, "otto", "diab", access.DataOfficer),
		f.svc.Grant(ctx, cli, "ann", "diab", access.SPOC),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	tok := map[string]string{}
	for _, u := range []string{"olga", "otto", "vera", "ann", "root"} {
		tok[u] = f.signIn(u, rootPW)
	}
	return f, al, tok
}

// exportTable is a table of three age bands of 4 projects each; the 0-17 band holds first
// persons.
func exportTable(first int) string {
	var b strings.Builder
	b.WriteString("age_band,project,patients\n")
	for _, c := range []struct {
		band string
		n    int
	}{{"0-17", first}, {"18-64", 400}, {"65+", 300}} {
		for j := range 4 {
			n := c.n / 4
			if j < c.n%4 {
				n++
			}
			b.WriteString(c.band + ",P" + string(rune('1'+j)) + "," + strconv.Itoa(n) + "\n")
		}
	}
	return b.String()
}

// submitJSON is the body of an export request of one table.
func submitJSON(data, exception string) string {
	b, _ := json.Marshal(airlock.Submission{Purpose: "outcomes by age", Exception: exception, Files: []airlock.FileInput{{Name: "by_age.csv",
		Data: data, Meta: disclosure.Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"age_band"}, Population: "dwh:test"}}}})
	return string(b)
}

// Attack through the API: the officer issues a link to another agency's user and to a user
// that does not exist; the SPOC lists them as exporters. Each is 400 with a clear message,
// not 201, 204 or 500.
func TestAttackAPILinkAndExporterOutsiders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _, tok := airlockFixture(t, db)
		for _, u := range []string{"sue", "ghost", "olga"} {
			code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/"+u, tok["ann"], `{"mode":"automatic"}`)
			if code != 400 || !strings.Contains(body, "cannot request exports in project diab") {
				t.Errorf("SPOC lists %s: got %d %s, want 400 saying they cannot request exports", u, code, body)
			}
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], submitJSON(exportTable(500), ""))
		var r airlock.Request
		json.Unmarshal([]byte(body), &r)
		if code != 201 || r.Status != airlock.Pending || !r.Declared {
			t.Fatalf("submit: got %d %s, want 201 pending_review (a hand-made upload)", code, body)
		}
		if code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/review", tok["olga"], `{"approve":true,"comment":"validated"}`); code != 200 || !strings.Contains(body, `"released"`) {
			t.Fatalf("review: got %d %s, want 200 released", code, body)
		}
		for _, u := range []string{"sue", "ghost"} {
			code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/links", tok["olga"], `{"recipient":"`+u+`"}`)
			if code != 400 || !strings.Contains(body, u+" may not receive export "+r.ID) {
				t.Errorf("link to %s: got %d %s, want 400 saying they may not receive it", u, code, body)
			}
		}
		if code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/links", tok["olga"], `{"recipient":"vera"}`); code != 201 || !strings.Contains(body, `"token"`) {
			t.Errorf("link to the author: got %d %s, want 201 with a token", code, body)
		}
	})
}

// The officer reads and changes the project's export settings through the API — thresholds,
// reviewers, link lifetime, bunker mode — each change audited with its values; others may
// not change them; out-of-range values are 400. Review comments, the exception's reason and
// the recall's reason are in the audit detail.
func TestExportSettingsAPIAndAuditedReasons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f, _, tok := airlockFixture(t, db)
		path := "/api/v1/projects/diab/export-settings"
		if code, body, _ := f.call("GET", path, tok["olga"], ""); code != 200 || !strings.Contains(body, `"reviewers": 1`) || !strings.Contains(body, `"link_days": 7`) {
			t.Errorf("default settings: got %d %s", code, body)
		}
		for _, c := range []struct {
			who, body string
			want      int
		}{
			{"vera", `{"reviewers":1}`, 403},
			{"ann", `{"bunker":true}`, 403}, // the SPOC keeps the list, not the settings
			{"olga", `{"reviewers":3}`, 400},
			{"olga", `{"link_days":365}`, 400},
			{"olga", `{"rules":{"min_persons":-1}}`, 400},
			{"olga", `{"rules":{"p":150}}`, 400},
		} {
			if code, body, _ := f.call("PUT", path, tok[c.who], c.body); code != c.want {
				t.Errorf("%s PUT %s: got %d %s, want %d", c.who, c.body, code, body, c.want)
			}
		}
		if code, body, _ := f.call("PUT", path, tok["olga"], `{"reviewers":2,"link_days":3,"rules":{"min_persons":10}}`); code != 200 ||
			!strings.Contains(body, `"reviewers": 2`) || !strings.Contains(body, `"min_persons": 10`) || !strings.Contains(body, `"link_days": 3`) {
			t.Errorf("officer changes the settings: got %d %s", code, body)
		}
		// a partial change keeps the rest
		if code, body, _ := f.call("PUT", path, tok["olga"], `{"bunker":false}`); code != 200 || !strings.Contains(body, `"reviewers": 2`) || !strings.Contains(body, `"min_persons": 10`) {
			t.Errorf("partial change: got %d %s, want reviewers and min_persons kept", code, body)
		}
		es, err := f.svc.AuditLog(ctx, access.CLI("test"), store.Filter{Action: "export.settings"})
		if err != nil || len(es) != 2 || es[1].Actor != "olga" || es[1].Detail["reviewers"] != "2" || !strings.Contains(es[1].Detail["rules"], `"min_persons":10`) {
			t.Errorf("audit of the settings: got %+v, %v; want two changes by olga with their values", es, err)
		}

		// reasons in the audit: exception, each review's comment, the recall
		if code, body, _ := f.call("PUT", path, tok["olga"], `{"reviewers":1,"rules":{"min_persons":0}}`); code != 200 {
			t.Fatalf("back to one reviewer: %d %s", code, body)
		}
		f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"validated"}`)
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports", tok["vera"], submitJSON(exportTable(20), "the 0-17 band is in the annual report"))
		var r airlock.Request
		json.Unmarshal([]byte(body), &r)
		if code != 201 || r.Status != airlock.Pending || r.Needs != 2 {
			t.Fatalf("exception: got %d %s, want 201 pending, 2 reviewers needed", code, body)
		}
		for _, who := range []string{"olga", "otto"} {
			if code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/review", tok[who], `{"approve":true,"comment":"checked by `+who+`","free":{"by_age.csv":["age_band=0-17"]}}`); code != 200 {
				t.Fatalf("%s approves: %d %s", who, code, body)
			}
		}
		// what the download gives: the checked table with the freed cell, never the upload
		code, body, _ = f.call("POST", "/api/v1/exports/"+r.ID+"/links", tok["olga"], `{"recipient":"vera"}`)
		var link struct{ Token string }
		json.Unmarshal([]byte(body), &link)
		if code != 201 || link.Token == "" {
			t.Fatalf("link to vera: %d %s", code, body)
		}
		code, body, _ = f.call("GET", "/api/v1/download/"+link.Token+"/by_age.csv", tok["vera"], "")
		if want := "age_band,patients\n0-17,20\n18-64,400\n65+,300\n"; code != 200 || body != want {
			t.Errorf("download after the exception: got %d %q, want %q (no project column, no upload)", code, body, want)
		}
		if code, body, _ := f.call("POST", "/api/v1/exports/"+r.ID+"/recall", tok["olga"], `{"reason":"the report was withdrawn"}`); code != 204 {
			t.Fatalf("recall: %d %s", code, body)
		}
		find := func(action string) []map[string]string {
			es, err := f.svc.AuditLog(ctx, access.CLI("test"), store.Filter{Action: action, Object: "export/" + r.ID})
			if err != nil {
				t.Fatal(err)
			}
			var out []map[string]string
			for _, e := range es {
				out = append(out, e.Detail)
			}
			return out
		}
		if d := find("export.submit"); len(d) != 1 || d[0]["exception"] != "the 0-17 band is in the annual report" {
			t.Errorf("submit audit: got %v, want the exception's reason", d)
		}
		if d := find("export.review"); len(d) != 2 || d[1]["comment"] != "checked by olga" || d[0]["comment"] != "checked by otto" || !strings.Contains(d[0]["free"], "age_band=0-17") {
			t.Errorf("review audit: got %v, want both comments and the freed cell", d)
		}
		if d := find("export.recall"); len(d) != 1 || d[0]["reason"] != "the report was withdrawn" {
			t.Errorf("recall audit: got %v, want the reason", d)
		}
	})
}

// The officer changes the settings on the exports page too; an analyst sees no form and may
// not post one; a bad value is refused with its reason.
func TestExportSettingsPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, _ := airlockFixture(t, db)
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
		if code, body := olga("GET", "/projects/diab/exports", nil); code != 200 || !strings.Contains(body, `id="settings"`) {
			t.Fatalf("the officer's page: got %d, want the settings form", code)
		}
		if code, body := vera("GET", "/projects/diab/exports", nil); code != 200 || strings.Contains(body, `id="settings"`) {
			t.Errorf("the analyst's page: got %d, want no settings form", code)
		}
		form := url.Values{"do": {"settings"}, "reviewers": {"2"}, "link_days": {"5"}, "min_persons": {"10"}, "min_projects": {"0"}, "bunker": {"on"}}
		if code, _ := vera("POST", "/projects/diab/exports", form); code != 403 {
			t.Errorf("the analyst posts the settings: got %d, want 403", code)
		}
		if code, body := olga("POST", "/projects/diab/exports", form); code != 200 || !strings.Contains(body, "Export settings saved") {
			t.Errorf("the officer saves: got %d", code)
		}
		st, err := al.Settings(context.Background(), "diab")
		if err != nil || st.Reviewers != 2 || st.LinkDays != 5 || st.Rules.MinPersons != 10 || !st.Bunker {
			t.Errorf("stored: got %+v, %v", st, err)
		}
		form.Set("reviewers", "3")
		if code, body := olga("POST", "/projects/diab/exports", form); code != 400 || !strings.Contains(body, "reviewers must be 1 or 2") {
			t.Errorf("three reviewers: got %d, want 400 with the reason", code)
		}
	})
}
