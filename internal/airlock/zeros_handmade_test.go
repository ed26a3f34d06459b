package airlock

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// handMadeZeros is a hand-made table of procedures by sex: no man had a hysterectomy (a
// structural zero: nobody could) and no man had a stent (a real fact about every man of the
// cohort, which must stay hidden).
const handMadeZeros = "sex,procedure,patients\n" +
	"F,hysterectomy,45\nF,appendectomy,80\nF,stent,40\nF,bypass,60\n" +
	"M,hysterectomy,0\nM,appendectomy,70\nM,stent,0\nM,bypass,55\n" +
	"U,hysterectomy,35\nU,appendectomy,50\nU,stent,45\nU,bypass,65\n"

func handMadeWorld(t *testing.T, db *store.DB) world {
	w := newWorld(t, db)
	must(t, w.s.SetSettings(context.Background(), w.who("olga"), "diab", Settings{Rules: disclosure.Rules{MinPersons: 10, MinProjects: -1}, LinkDays: 7}))
	must(t, w.s.SetExporter(context.Background(), w.who("sam"), "diab", "bob", Automatic, ""))
	return w
}

// Issue 16, zeros (a): a hand-made upload declaring one dimension structural
// (structural_zeros: ["procedure"]) let every zero of the table through — the structural
// one and the real one (no man had a stent) alike — and one reviewer's approval released
// "M,stent,0". A dimension names no cell: the old form is refused, naming the field; a
// hand-made upload names its structural zero cells (structural_cells, the dimension values
// in order) with a structural_reason, and a zero it does not name stays suppressed.
func TestAttackHandMadeStructuralDimensionLeaksZeros(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := handMadeWorld(t, db)
		bob, olga := w.who("bob"), w.who("olga")
		m := disclosure.Meta{Persons: "patients", Dimensions: []string{"sex", "procedure"}, Population: "dwh:handmade"}

		// the attack: one dimension declared structural
		loose := m
		loose.StructuralZeros = []string{"procedure"}
		r, err := w.s.Submit(ctx, bob, "diab", Submission{Purpose: "procedures by sex", Files: []FileInput{{Name: "p.csv", Meta: loose, Data: handMadeZeros}}})
		if err == nil && r.Status == Pending {
			r, err = w.s.Review(ctx, olga, r.ID, true, "looks fine")
		}
		if err == nil && r.Status == Released {
			if got := rowsOf(released(t, w.s, r, "p.csv"), 2)["M,stent"]; got == "0" {
				t.Fatalf("released after one approval: M,stent shows %q — a real zero let through by a dimension declared structural", got)
			}
		}
		if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "structural_zeros") || !strings.Contains(err.Error(), "structural_cells") {
			t.Fatalf("a dimension declared structural: got %v, want invalid naming structural_zeros and pointing to structural_cells", err)
		}

		// the cells, named, with their reason
		reason := "hysterectomy is recorded for women only"
		cells := m
		cells.StructuralCells = [][]string{{"M", "hysterectomy"}}
		for _, bad := range []struct {
			cells  [][]string
			reason string
			want   string
		}{
			{cells.StructuralCells, "", "structural_reason"},
			{[][]string{{"hysterectomy", "M"}}, reason, "structural_cells[0]"},
			{[][]string{{"M", "hysterectomy"}, {"M"}}, reason, "structural_cells[1]"},
			{nil, reason, "structural_reason"},
		} {
			b := m
			b.StructuralCells = bad.cells
			_, err := w.s.Submit(ctx, bob, "diab", Submission{Purpose: "p", StructuralReason: bad.reason, Files: []FileInput{{Name: "p.csv", Meta: b, Data: handMadeZeros}}})
			if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), bad.want) || !strings.Contains(err.Error(), "p.csv") {
				t.Fatalf("structural_cells %q reason %q: got %v, want invalid naming the file and %s", bad.cells, bad.reason, err, bad.want)
			}
		}
		r, err = w.s.Submit(ctx, bob, "diab", Submission{Purpose: "procedures by sex", StructuralReason: reason, Files: []FileInput{{Name: "p.csv", Meta: cells, Data: handMadeZeros}}})
		must(t, err)
		if r.Status != Pending {
			t.Fatalf("hand-made upload with structural cells: %s (%s), want pending review", r.Status, r.Comment)
		}
		r, err = w.s.Review(ctx, olga, r.ID, true, "validated")
		must(t, err)
		got := released(t, w.s, r, "p.csv")
		rows := rowsOf(got, 2)
		if r.Status != Released || rows["M,hysterectomy"] != "0" || rows["M,stent"] != "suppressed" {
			t.Fatalf("approved: %s (%s), released:\n%s\nwant the declared zero shown as 0 and the undeclared one suppressed", r.Status, r.Comment, got)
		}
		// every reviewer, before and after approval, sees the declaration with the request
		seen, err := w.s.Get(ctx, w.who("ann"), r.ID)
		must(t, err)
		if seen.StructuralReason != reason || len(seen.Files[0].Meta.StructuralCells) != 1 || strings.Join(seen.Files[0].Meta.StructuralCells[0], ",") != "M,hysterectomy" {
			t.Fatalf("after approval the request keeps reason %q, cells %q; want the declaration", seen.StructuralReason, seen.Files[0].Meta.StructuralCells)
		}
	})
}

// A request submitted before the upgrade with the dimension-level form (its metadata kept
// with structural_zeros) is checked again at approval: the approval is refused naming the
// field, the request stays pending for a reviewer to reject, and nothing leaves.
func TestPendingDimensionStructuralZerosCannotBeApproved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := handMadeWorld(t, db)
		bob, olga := w.who("bob"), w.who("olga")
		m := disclosure.Meta{Persons: "patients", Dimensions: []string{"sex", "procedure"}, Population: "dwh:handmade"}
		r, err := w.s.Submit(ctx, bob, "diab", Submission{Purpose: "procedures by sex", Files: []FileInput{{Name: "p.csv", Meta: m, Data: handMadeZeros}}})
		must(t, err)
		m.StructuralZeros = []string{"procedure"} // as an earlier version stored it
		b, _ := json.Marshal(m)
		_, err = db.ExecContext(ctx, `UPDATE export_files SET meta = $1 WHERE request_id = $2`, string(b), r.ID)
		must(t, err)
		_, err = w.s.Review(ctx, olga, r.ID, true, "looks fine")
		if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "structural_zeros") {
			t.Fatalf("approving a request stored with structural_zeros: got %v, want invalid naming structural_zeros", err)
		}
		got, err := w.s.Get(ctx, olga, r.ID)
		must(t, err)
		if got.Status != Pending || linksOf(t, db, r.ID) != 0 {
			t.Fatalf("after the refused approval: %s with %d links, want pending with none", got.Status, linksOf(t, db, r.ID))
		}
		if _, err := w.s.Review(ctx, olga, r.ID, false, "declare the cells"); err != nil {
			t.Fatalf("the reviewer cannot reject it: %v", err)
		}
	})
}
