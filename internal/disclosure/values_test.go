package disclosure

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// A table Steward computed carries each cell's true per-person values: dominance (n,k) and
// p % are judged on them, not on the contributors' sums. A cell of 40 persons from four
// agencies passes the count rules; one planted person holding nearly all of its value
// dominates it and the cell is hidden, as is a cell where two persons hold it; a cell of
// even values is not.
func TestDominanceOnPersonValues(t *testing.T) {
	var b strings.Builder
	b.WriteString("sex,agency,persons\n")
	for _, sex := range []string{"F", "M", "U"} {
		for _, a := range []string{"a", "b", "c", "d"} {
			fmt.Fprintf(&b, "%s,%s,10\n", sex, a)
		}
	}
	m := Meta{Persons: "persons", Contributor: "agency", Dimensions: []string{"sex"}, Population: "dwh:x:q"}
	read := func() (*Table, []string) {
		tab, head, err := ReadCSV("t.csv", strings.NewReader(b.String()), m)
		if err != nil {
			t.Fatal(err)
		}
		return tab, head
	}
	even := func(n int, v float64) []float64 {
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = v + float64(i%3)
		}
		return xs
	}
	tab, head := read()
	if res := Check(tab, head, Rules{}, nil); res.Verdict != Pass {
		t.Fatalf("counts alone: %s %v", res.Verdict, res.Hidden)
	}
	tab, head = read()
	planted := even(40, 5)
	planted[17] = 100000 // one person's value dominates the cell
	two := even(40, 5)
	two[3], two[30] = 40000, 30000 // two persons hold nearly all of it
	tab.Cell("F").Values = planted
	tab.Cell("M").Values = even(40, 5)
	tab.Cell("U").Values = two
	res := Check(tab, head, Rules{}, nil)
	if !res.Hides("F") || !res.Hides("U") {
		t.Fatalf("dominated cells shown: %v", res.Hidden)
	}
	if res.Hides("M") {
		t.Fatalf("even cell hidden: %v", res.Hidden)
	}
	for _, e := range res.Hidden {
		if e.Cell == "sex=M" {
			continue
		}
		var rules []Rule
		for _, f := range e.Findings {
			rules = append(rules, f.Rule)
			if strings.Contains(f.Reason, "100000") || strings.Contains(f.Reason, "40000") {
				t.Fatalf("evidence shows a value: %s", f.Reason)
			}
		}
		if !slices.Contains(rules, RuleDominance) {
			t.Fatalf("cell %s hidden by %v, want dominance", e.Cell, rules)
		}
	}
}
