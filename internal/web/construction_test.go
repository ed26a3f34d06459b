package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// schemaNames reads from the store's own catalog the names that tell the database's
// construction: every table's name, and every column name of the research warehouse's
// tables (the data and reference tables seed 002 speaks of: those holding an agency's rows,
// and i2b2's stored queries), each of more than one word (patient_num, observation_fact,
// login_failures…). One-word names (name, code, agency) are everyday words; the columns
// of Steward's own bookkeeping tables (users, grants, ethics…) may share a name with a
// field of the documented API (full_name, decided_by), which is the API's word, not a
// view into the data.
func schemaNames(t *testing.T, db *store.DB) []string {
	t.Helper()
	ctx := context.Background()
	tables, err := store.Strings(ctx, db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	// The warehouse's tables are those its migration creates.
	mig, err := os.ReadFile("../store/migrations/00002_warehouse.sql")
	if err != nil {
		t.Fatal(err)
	}
	warehouse := map[string]bool{}
	for _, m := range regexp.MustCompile(`CREATE TABLE (\w+)`).FindAllStringSubmatch(string(mig), -1) {
		warehouse[m[1]] = true
	}
	if !warehouse["observation_fact"] || !warehouse["encounter_mapping"] || !warehouse["qt_query_result_instance"] {
		t.Fatalf("warehouse tables read from its migration: %v", warehouse)
	}
	set := map[string]bool{}
	for _, tb := range tables {
		set[tb] = true
		cols, err := store.Strings(ctx, db, `SELECT name FROM pragma_table_info($1)`, tb)
		if err != nil {
			t.Fatal(err)
		}
		if !warehouse[tb] {
			continue
		}
		for _, c := range cols {
			set[c] = true
		}
	}
	var out []string
	for n := range set {
		if strings.Contains(n, "_") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	if len(out) < 60 {
		t.Fatalf("catalog: only %d multi-word names (%v): the catalog was not read", len(out), out)
	}
	return out
}

// leaks returns the schema names found in text as whole identifiers.
func leaks(names []string, text string) []string {
	var found []string
	for _, n := range names {
		if regexp.MustCompile(`(^|[^A-Za-z0-9_])` + regexp.QuoteMeta(n) + `($|[^A-Za-z0-9_])`).MatchString(text) {
			found = append(found, n)
		}
	}
	return found
}

// Seed 002: "database tables are not directly read so that knowledge about the
// construction of the database itself is not released"; "Release of SQL code information,
// including when users view 'source' code of the HTML Web pages, must not contain specific
// names of the data tables …". Before: the public OpenAPI document, error messages and the
// patient-level JSON carried modifier_dimension, nval_num, valueflag_cd, observation_blob,
// patient_num, race_cd…
func TestAttackNoConstructionOfTheDatabaseToUsers(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	names := schemaNames(t, db)
	f, _ := loadedFixture(t, db, access.DataProt, Options{InsecureCookies: true})
	ann := f.signIn("ann", rootPW)
	check := func(what, text string) {
		t.Helper()
		if l := leaks(names, text); len(l) > 0 {
			t.Errorf("%s names the database's construction: %v", what, l)
		}
	}
	_, doc, _ := f.call("GET", "/api/v1/openapi.json", "", "")
	check("the public OpenAPI document", doc)

	code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON)
	if code != 201 {
		t.Fatalf("query: got %d %s", code, body)
	}
	check("a cohort answer", body)
	var a struct {
		QueryID string `json:"query_id"`
	}
	json.Unmarshal([]byte(body), &a)
	for _, path := range []string{
		"/api/v1/me", "/api/v1/projects", "/api/v1/projects/diab", "/api/v1/projects/diab/queries",
		"/api/v1/projects/diab/queries/" + a.QueryID,
		"/api/v1/projects/diab/queries/" + a.QueryID + "/patients?limit=5&blobs=true&identified=true",
		"/api/v1/projects/diab/concepts?parent=" + url.QueryEscape(`\i2b2\Diagnoses\`),
		"/api/v1/projects/diab/queries/nope", "/api/v1/projects/diab/queries/nope/patients",
		"/api/v1/projects/diab/grants", "/api/v1/audit", "/api/v1/tokens", "/api/v1/ethics", "/api/v1/links",
	} {
		code, body, _ := f.call("GET", path, ann, "")
		if code >= 500 {
			t.Errorf("GET %s: got %d", path, code)
		}
		check("GET "+path+" ("+http.StatusText(code)+")", body)
	}
	for _, q := range []string{
		`{"panels":[{"items":[{"key":"\\nowhere\\"}]}]}`,
		`{"panels":[{"items":[{"key":"\\i2b2\\Labs\\","value":{"type":"LARGETEXT","op":"CONTAINS","text":"x"}}]}]}`,
		`{"panels":[{"items":[{"key":"\\i2b2\\Labs\\","value":{"type":"TEXT","op":"GT","text":"x"}}]}]}`,
		`{"panels":[{"items":[{"key":"\\i2b2\\Labs\\","value":{"type":"FLAG","op":"LIKE","text":"x"}}]}]}`,
		`{"panels":[{"items":[{"key":"\\i2b2\\Labs\\","modifier":{"key":"\\nowhere\\"}}]}]}`,
		`{"panels":[{"occurrences":{"op":"XX","n":2},"items":[{"key":"\\i2b2\\Labs\\"}]}]}`,
		`{"panels":[{"timing":"SAMEINSTANCENUM","items":[{"key":"\\i2b2\\Labs\\"}]}]}`,
		`{"panels":[{"items":[{"key":"masterid:qm-nope"}]}]}`,
		`{"panels":[{"occurrences":{"op":"GE","n":2},"items":[{"key":"\\i2b2\\Demographics\\Gender\\Female\\"}]}]}`,
		`{"panels":[{"date_from":"yesterday","items":[{"key":"\\i2b2\\Labs\\"}]}]}`,
	} {
		code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, q)
		if code != 400 {
			t.Errorf("bad query %s: got %d %s, want 400", q, code, body)
		}
		check("the error for "+q, body)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	page := func(method, path string, form url.Values) string {
		var resp *http.Response
		var err error
		if method == "POST" {
			resp, err = client.PostForm(f.srv.URL+path, form)
		} else {
			resp, err = client.Get(f.srv.URL + path)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	page("POST", "/signin", url.Values{"user": {"ann"}, "password": {rootPW}})
	for _, p := range []string{"/", "/projects/diab/cohort", "/projects/diab/cohort?parent=" + url.QueryEscape(`\i2b2\Labs\`),
		"/ethics", "/airlock/inbox", "/projects/diab/exports", "/admin/audit", "/admin/users"} {
		check("page "+p, page("GET", p, nil))
	}
	check("the cohort page's answer", page("POST", "/projects/diab/cohort", url.Values{"panel": {`\i2b2\Diagnoses\`, `\nowhere\`}}))
	check("the style sheet", page("GET", "/static/steward.css", nil))
}
