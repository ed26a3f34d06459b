package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/xlsxwitness"
)

// Attack: the same computed table asked for as CSV and as .xlsx, hoping the workbook's
// cells differ from the CSV's (the raw computed cells, a hidden value, the agency). The
// download of the .xlsx release — read with archive/zip and encoding/xml, not excelize —
// serves exactly the CSV release's cells, with the .xlsx media type; the review page shows
// the same table; a name and a format that disagree are 400.
func TestAttackXLSXDownloadServesTheCSVCells(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, al, tok := airlockFixture(t, db)
		al.Tables = fakeTables{}
		if err := al.SetSettings(context.Background(), access.CLI("test"), "diab", airlock.Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := f.call("PUT", "/api/v1/projects/diab/exporters/vera", tok["ann"], `{"mode":"automatic"}`); code != 204 {
			t.Fatalf("SPOC lists vera: got %d %s", code, body)
		}
		download := func(t *testing.T, body, file string) (airlock.Request, string, string) {
			t.Helper()
			code, out, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], body)
			var r airlock.Request
			json.Unmarshal([]byte(out), &r)
			if code != 201 || r.Status != airlock.Released || len(r.Files) != 1 || r.Files[0].Name != file {
				t.Fatalf("%s: got %d %s, want 201 released as %s", body, code, out, file)
			}
			code, out, _ = f.call("POST", "/api/v1/exports/"+r.ID+"/links", tok["olga"], `{"recipient":"vera"}`)
			var link struct {
				Token string `json:"token"`
			}
			if json.Unmarshal([]byte(out), &link); code != 201 || link.Token == "" {
				t.Fatalf("link: got %d %s", code, out)
			}
			code, data, hdr := f.call("GET", "/api/v1/download/"+link.Token+"/"+file, tok["vera"], "")
			if code != 200 {
				t.Fatalf("download %s: got %d %s", file, code, data)
			}
			return r, data, hdr.Get("Content-Type")
		}
		for name, q := range map[string]string{
			"counts (shown)":           `"query":"qm-all","dimensions":["sex"]`,
			"a dominated sum (hidden)": `"query":"qm-all","dimensions":["sex"],"statistic":"sum","concept":"LAB:X"`,
		} {
			t.Run(name, func(t *testing.T) {
				_, plain, ctype := download(t, `{"purpose":"p",`+q+`}`, "table.csv")
				if !strings.HasPrefix(ctype, "text/csv") {
					t.Errorf("the CSV's Content-Type %q", ctype)
				}
				want, err := csv.NewReader(strings.NewReader(plain)).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				r, book, ctype := download(t, `{"purpose":"p","format":"xlsx",`+q+`}`, "table.xlsx")
				if ctype != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" {
					t.Errorf("the .xlsx's Content-Type %q", ctype)
				}
				wb, err := xlsxwitness.Read([]byte(book))
				if err != nil {
					t.Fatalf("the downloaded table.xlsx: %v", err)
				}
				sheet := wb.Sheet("table")
				if sheet == nil {
					t.Fatalf("no sheet table in %v", wb.Sheets)
				}
				if got := sheet.Strings(); !slices.EqualFunc(got, want, slices.Equal[[]string]) {
					t.Errorf("the .xlsx serves %q, the CSV %q", got, want)
				}
				for _, s := range wb.Text() {
					for _, x := range s {
						if strings.Contains(x, "north") || x == "agency" {
							t.Errorf("the .xlsx holds %q", x)
						}
					}
				}
				vera := pageSession(t, f, "vera")
				if code, page := vera("/projects/diab/exports/" + r.ID); code != 200 || !slices.EqualFunc(pageTable(t, page), want, slices.Equal[[]string]) {
					t.Errorf("the review page of the .xlsx request: got %d %q, want %q", code, pageTable(t, page), want)
				}
			})
		}
		for _, body := range []string{
			`{"purpose":"p","query":"qm-all","dimensions":["sex"],"format":"xlsx","name":"t.csv"}`,
			`{"purpose":"p","query":"qm-all","dimensions":["sex"],"format":"ods"}`,
			`{"purpose":"p","query":"qm-all","dimensions":["sex"],"name":"t.xls"}`,
		} {
			if code, out, _ := f.call("POST", "/api/v1/projects/diab/exports/tables", tok["vera"], body); code != 400 {
				t.Errorf("%s: got %d %s, want 400", body, code, out)
			}
		}
	})
}
