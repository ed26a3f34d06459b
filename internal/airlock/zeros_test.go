package airlock

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/xlsxwitness"
)

// rowsOf is the released CSV's rows keyed by their dimension values (the first n columns).
func rowsOf(csv string, n int) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(csv), "\n")[1:] {
		f := strings.Split(line, ",")
		out[strings.Join(f[:n], ",")] = strings.Join(f[n:], ",")
	}
	return out
}

// Issue 16, zeros: a computed table used to drop a cell with no persons, so the released
// file had no row for it, and a reader reads the absence as a zero — "nobody of unknown sex
// in this cohort is on insulin", something about everyone in that group — released at once
// for an automatic analyst. Now the table carries every combination of its dimensions'
// levels (taken from the warehouse, not the cohort) and a zero cell is suppressed like a
// small one, with a second cell beside it so that the margins do not give it back.
func TestAttackComputedTableZeroCell(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		a, err := wh.Run(ctx, bob, "diab", querydef.Query{Name: "diabetes or heart", Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\t\diab\`}, {Key: `\t\heart\`}}}}})
		must(t, err)
		// insulin patients (101…200) are diabetics: none of the 5 of unknown sex (206…210);
		// two levels, which may overlap (a single one would not: see below)
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "insulin by sex", Query: a.QueryID, Dimensions: []string{"concept", "sex"}, Concepts: []string{"G:insulin", "G:heart"}})
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		rows := rowsOf(got, 2)
		zero, ok := rows["G:insulin,unknown"]
		if !ok {
			t.Fatalf("status %s, released:\n%s\nthe cell (G:insulin, unknown) has no row: a reader learns it is 0", r.Status, got)
		}
		if zero != "suppressed" {
			t.Fatalf("released:\n%s\nthe zero cell (G:insulin, unknown) shows %q, want suppressed", got, zero)
		}
		// the insulin row's total is public (the insulin patients by sex, or the cohort):
		// the 50 women and 50 men shown would give the zero back, so one of them is hidden too
		if rows["G:insulin,F"] != "suppressed" && rows["G:insulin,M"] != "suppressed" {
			t.Fatalf("released:\n%s\nboth other insulin cells shown: total − F − M gives the zero back", got)
		}
		var rules []disclosure.Rule
		for _, e := range r.Files[0].Result.Hidden {
			if e.Cell == "concept (overlapping levels)=G:insulin, sex=unknown" {
				for _, f := range e.Findings {
					rules = append(rules, f.Rule)
				}
			}
		}
		if !slices.Contains(rules, disclosure.RuleZero) {
			t.Fatalf("hidden %+v: want the zero cell hidden by the zero rule", r.Files[0].Result.Hidden)
		}

		// the levels are the warehouse's, not the cohort's: diabetics have no one of unknown
		// sex, yet the warehouse does, so the table by sex has the unknown row, suppressed
		diab := cohort(t, wh, bob, "diabetes", []string{"diab"})
		r, err = w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "diabetes by sex", Query: diab, Dimensions: []string{"sex"}, Name: "sex.xlsx"})
		must(t, err)
		wb, err := xlsxwitness.Read([]byte(released(t, w.s, r, "sex.xlsx")))
		must(t, err)
		found := false
		for _, row := range wb.Sheet("table").Strings() {
			if row[0] == "unknown" {
				found = true
				if row[1] != "suppressed" {
					t.Fatalf("xlsx: the zero cell sex=unknown shows %q, want suppressed", row[1])
				}
			}
		}
		if !found {
			t.Fatalf("xlsx %q: no row for sex=unknown: a reader learns no diabetic is of unknown sex", wb.Sheet("table").Strings())
		}
	})
}

// A zero the analyst declares structural is shown as 0, but never at once: even an automatic
// analyst's table waits for a reviewer, who sees the declared reason (audited too). The
// ledger records a shown zero as a released cell of 0 persons and a suppressed cell not at
// all. A declaration must name a cell of the table and give its reason; a hand-made upload
// cannot set the computed tables' structural cells.
func TestStructuralZeroGoesToReview(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob, olga := w.who("bob"), w.who("olga")
		a, err := wh.Run(ctx, bob, "diab", querydef.Query{Name: "diabetes or heart", Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\t\diab\`}, {Key: `\t\heart\`}}}}})
		must(t, err)
		reason := "insulin is recorded only for diabetics, and every diabetic's sex is known"
		tr := TableRequest{Purpose: "insulin by sex", Query: a.QueryID, Dimensions: []string{"concept", "sex"}, Concepts: []string{"G:insulin", "G:heart"},
			StructuralZeros: [][]string{{"G:insulin", "unknown"}}, StructuralReason: reason}
		for _, bad := range []TableRequest{
			func() TableRequest { b := tr; b.StructuralReason = ""; return b }(),
			func() TableRequest { b := tr; b.StructuralZeros = [][]string{{"unknown", "G:insulin"}}; return b }(),
			func() TableRequest { b := tr; b.StructuralZeros = [][]string{{"G:insulin"}}; return b }(),
			func() TableRequest { b := tr; b.StructuralZeros = nil; return b }(),
		} {
			if _, err := w.s.SubmitTable(ctx, bob, "diab", bad); !errors.Is(err, derrors.Invalid) {
				t.Fatalf("structural %q reason %q: got %v, want invalid", bad.StructuralZeros, bad.StructuralReason, err)
			}
		}
		r, err := w.s.SubmitTable(ctx, bob, "diab", tr)
		must(t, err)
		if r.Status != Pending || !strings.Contains(r.Comment, reason) || !strings.Contains(r.Comment, "declared structural") {
			t.Fatalf("automatic analyst's declared structural zero: %s (%s), want pending review showing the reason", r.Status, r.Comment)
		}
		var n int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'export.submit' AND actor = 'bob' AND detail LIKE '%structural_reason%' AND detail LIKE '%every diabetic%'`).Scan(&n))
		if n != 1 {
			t.Fatalf("the declaration is audited %d times, want once", n)
		}
		seen, err := w.s.Get(ctx, olga, r.ID)
		must(t, err)
		if !strings.Contains(seen.Comment, reason) {
			t.Fatalf("the reviewer sees %q, want the declared reason", seen.Comment)
		}
		r, err = w.s.Review(ctx, olga, r.ID, true, "no insulin without diabetes here")
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		rows := rowsOf(got, 2)
		if r.Status != Released || rows["G:insulin,unknown"] != "0" || rows["G:insulin,F"] != "50" || rows["none of these,unknown"] != "suppressed" {
			t.Fatalf("approved: %s (%s), released:\n%s\nwant the declared zero shown as 0, the insulin row shown, the 5 of unknown sex suppressed", r.Status, r.Comment, got)
		}
		labels := map[string]string{}
		rs, err := db.QueryContext(ctx, `SELECT label, persons FROM released_cells WHERE request_id = $1`, r.ID)
		must(t, err)
		for rs.Next() {
			var l, enc string
			must(t, rs.Scan(&l, &enc))
			labels[l] = enc
		}
		must(t, rs.Err())
		rs.Close()
		zero, ok := labels["concept (overlapping levels)=G:insulin, sex=unknown"]
		if !ok {
			t.Fatalf("released cells %v: the shown zero is not recorded", slices.Sorted(mapKeys(labels)))
		}
		if b, err := decodeBitmap(zero); err != nil || !b.IsEmpty() {
			t.Fatalf("the shown zero is recorded with persons (%v)", err)
		}
		if _, ok := labels["concept (overlapping levels)=none of these, sex=unknown"]; ok {
			t.Fatalf("released cells %v: a suppressed cell is recorded as released", slices.Sorted(mapKeys(labels)))
		}

		// the declaration outlives the review: kept with the request, in the file's
		// metadata and in the provenance, not only in the (overwritten) comment
		seen, err = w.s.Get(ctx, olga, r.ID)
		must(t, err)
		f := seen.Files[0]
		if seen.StructuralReason != reason || len(f.Meta.StructuralCells) != 1 || strings.Join(f.Meta.StructuralCells[0], ",") != "G:insulin,unknown" {
			t.Fatalf("after approval the request keeps reason %q, cells %q; want the declaration", seen.StructuralReason, f.Meta.StructuralCells)
		}
		if f.Provenance == nil || f.Provenance.StructuralReason != reason || len(f.Provenance.StructuralZeros) != 1 || strings.Join(f.Provenance.StructuralZeros[0], ",") != "G:insulin,unknown" {
			t.Fatalf("provenance %+v: want the declared cells and the reason kept", f.Provenance)
		}

		// the released workbook's provenance sheet carries the declaration too
		xr := tr
		xr.Name = "table.xlsx"
		x, err := w.s.SubmitTable(ctx, bob, "diab", xr)
		must(t, err)
		x, err = w.s.Review(ctx, olga, x.ID, true, "as before")
		must(t, err)
		wb, err := xlsxwitness.Read([]byte(released(t, w.s, x, "table.xlsx")))
		must(t, err)
		fields := map[string]string{}
		for _, row := range wb.Sheet("provenance").Strings() {
			if len(row) == 2 {
				fields[row[0]] = row[1]
			}
		}
		if fields["structural_zeros"] != "G:insulin,unknown" || fields["structural_reason"] != reason {
			t.Fatalf("provenance sheet %v: want the declared cells and the reason", fields)
		}

		// a hand-made upload names its cells too, but never without the reason
		_, err = w.s.Submit(ctx, bob, "diab", Submission{Purpose: "p", Files: []FileInput{{Name: "h.csv",
			Meta: disclosure.Meta{Persons: "n", Dimensions: []string{"sex"}, Population: "x", StructuralCells: [][]string{{"M"}}},
			Data: "sex,n\nF,50\nM,0\n"}}})
		if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "structural_reason") {
			t.Fatalf("hand-made structural_cells without a reason: got %v, want invalid naming structural_reason", err)
		}
	})
}

// The visit levels are the data's, not the cohort's: the 5 inpatients are the clinic's, so
// diabetics outside the clinic have no inpatient stay — a table of theirs by visit type used
// to have no row I, telling the reader so. Now I is a zero cell, suppressed, as is "no visit"
// (every diabetic has a visit, but the heart patients of the data have none).
func TestAttackComputedVisitZero(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		var visits []map[string]any
		for n := 1; n <= 200; n++ {
			visits = append(visits, map[string]any{"encounter_num": int64(10000 + n), "patient_num": int64(n), "inout_cd": "O", "start_date": "2025-01-01 00:00:00"})
			if n <= 5 {
				visits = append(visits, map[string]any{"encounter_num": int64(20000 + n), "patient_num": int64(n), "inout_cd": "I", "start_date": "2025-01-02 00:00:00"})
			}
		}
		loadMore(t, db, map[string][]map[string]any{"visit_dimension": visits})
		q := cohort(t, wh, bob, "adult diabetics", []string{"diab"}, "clinic")
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "visits", Query: q, Dimensions: []string{"visit_type"}})
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		rows := rowsOf(got, 1)
		if rows["I"] != "suppressed" || rows["no visit"] != "suppressed" || rows["O"] != "195" {
			t.Fatalf("status %s, released:\n%s\nwant I and no visit suppressed (zero cells), O's 195 shown", r.Status, got)
		}
	})
}

// One concept level and "none of these" do not overlap: they split the cohort, so the
// cohort's size (public: a table by sex gives it) less the shown "none of these" is the
// level's count. Diabetics by heart disease: none of them has it, and a shown 200 beside a
// hidden zero would give that back. Such a dimension is not marked overlapping, and
// secondary suppression runs along it.
func TestAttackOneConceptLevelZeroFromTheTotal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w, wh := tablesWorld(t, db)
		bob := w.who("bob")
		diab := cohort(t, wh, bob, "diabetes", []string{"diab"})
		r, err := w.s.SubmitTable(ctx, bob, "diab", TableRequest{Purpose: "heart disease among diabetics", Query: diab, Dimensions: []string{"concept"}, Concepts: []string{"G:heart"}})
		must(t, err)
		got := released(t, w.s, r, "table.csv")
		rows := rowsOf(got, 1)
		if rows["G:heart"] != "suppressed" {
			t.Fatalf("released:\n%s\nwant the zero cell G:heart suppressed", got)
		}
		if rows["none of these"] == "200" {
			t.Fatalf("status %s, released:\n%s\nthe cohort's 200 less the shown 200 of none of these gives the hidden zero back", r.Status, got)
		}
	})
}
