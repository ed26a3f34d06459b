package web

import (
	"context"
	"encoding/json"
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
	f := newFixture(t, db, Options{Airlock: al})
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
		if code != 201 || r.Status != airlock.Released {
			t.Fatalf("submit: got %d %s, want 201 released", code, body)
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
