package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// fakeTables computes by sex: query qm-all has women 1…300 and men 301…550; qm-less the
// same without women 1…5.
type fakeTables struct{}

func (fakeTables) Table(_ context.Context, p access.Principal, project, query string, dims []string, _ string) (warehouse.Table, error) {
	women := roaring.New()
	women.AddRange(1, 301)
	if query == "qm-less" {
		women.RemoveRange(1, 6)
	}
	men := roaring.New()
	men.AddRange(301, 551)
	cell := func(k string, b *roaring.Bitmap) warehouse.TableCell {
		return warehouse.TableCell{Key: []string{k}, Persons: b, Agencies: map[string]int64{"north": int64(b.GetCardinality())}}
	}
	return warehouse.Table{Project: project, QueryID: query, Dimensions: dims, Statistic: warehouse.StatisticPersons, By: p.User,
		Cells: []warehouse.TableCell{cell("F", women), cell("M", men)}}, nil
}

// The API of computed tables: an automatic analyst's table is released at once (not a
// hand-made upload); a second one over a cohort five women smaller is refused by the ledger
// over people, naming the first.
func TestAPIComputedTables(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		al.Tables = fakeTables{}
		cli := access.CLI("test")
		if err := al.SetSettings(context.Background(), cli, "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"]}`)
		var first airlock.Request
		json.Unmarshal([]byte(body), &first)
		if code != 201 || first.Status != airlock.Released || first.Declared || first.Files[0].Provenance == nil {
			t.Fatalf("computed table: got %d %s, want 201 released with its provenance", code, body)
		}
		code, body, _ = f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], `{"purpose":"by sex","query":"qm-less","dimensions":["sex"]}`)
		var second airlock.Request
		json.Unmarshal([]byte(body), &second)
		if code != 201 || second.Status != airlock.Refused || !strings.Contains(second.Comment, first.ID) {
			t.Fatalf("differencing table: got %d %s, want refused naming %s", code, body, first.ID)
		}
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["olga"], `{"purpose":"by sex","query":"qm-all","dimensions":["sex"]}`); code != 403 {
			t.Fatalf("a user not on the SPOC's list: got %d %s, want 403", code, body)
		}
	})
}
