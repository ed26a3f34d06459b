package disclosure

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestFreeKeepsTheRestProtected frees one of two small cells of a 3×3 table (margins
// public): the freed cell shows, the other stays hidden, and cells are hidden beside it
// again so that it cannot be recomputed through the freed one; the freed cell is never
// hidden again as a partner; the ledger record shows it.
func TestFreeKeepsTheRestProtected(t *testing.T) {
	var b strings.Builder
	b.WriteString("row,col,n\n")
	small := map[string]bool{"A|x": true, "B|y": true}
	for _, r := range []string{"A", "B", "C"} {
		for i, c := range []string{"x", "y", "z"} {
			n := "100"
			if small[r+"|"+c] {
				n = "5"
			} else if r == "C" {
				n = string(rune('4'+i)) + "0" // 40, 50, 60: the smallest partners
			}
			b.WriteString(r + "," + c + "," + n + "\n")
		}
	}
	m := Meta{Persons: "n", Dimensions: []string{"row", "col"}, Population: "p"}
	rules := Rules{MinProjects: -1}
	tab, head, err := ReadCSV("t.csv", strings.NewReader(b.String()), m)
	if err != nil {
		t.Fatal(err)
	}
	res := Check(tab, head, rules, nil)
	if !res.Hides("A", "x") || !res.Hides("B", "y") {
		t.Fatalf("both small cells should be hidden: %+v", res.Hidden)
	}
	if err := res.Free([]string{"row=A, col=z"}); !errors.Is(err, ErrNotFreeable) {
		t.Errorf("freeing a cell that is not hidden: got %v, want ErrNotFreeable", err)
	}
	if err := res.Free([]string{"row=A, col=x"}); err != nil {
		t.Fatal(err)
	}
	if res.Hides("A", "x") || !res.Hides("B", "y") {
		t.Errorf("after freeing A,x: A,x hidden %v, B,y hidden %v; want shown, hidden", res.Hides("A", "x"), res.Hides("B", "y"))
	}
	if res.Hides("A", "y") {
		t.Errorf("A,y was hidden only beside A,x: secondary suppression is redone, so it shows")
	}
	// B,y is not recomputable: its row and its column each hide another cell
	rowB, colY := 0, 0
	for _, c := range tab.Cells {
		if res.Hides(c.Key...) {
			if c.Key[0] == "B" {
				rowB++
			}
			if c.Key[1] == "y" {
				colY++
			}
		}
	}
	if rowB < 2 || colY < 2 {
		t.Errorf("B,y's row hides %d cells, its column %d: want at least 2 each", rowB, colY)
	}
	if len(res.Freed) != 1 || res.Freed[0] != "row=A, col=x" {
		t.Errorf("freed: got %v", res.Freed)
	}
	rec := res.Record("r", "by", "src", time.Now(), false)
	if rec.Cells[keyOf([]string{"A", "x"})] != 5 {
		t.Errorf("the ledger record does not show the freed cell: %v", rec.Cells)
	}
	if _, shown := rec.Cells[keyOf([]string{"B", "y"})]; shown {
		t.Errorf("the ledger record shows the cell still hidden")
	}
}
