package disclosure

import (
	"bytes"
	"strings"
	"testing"
)

// TestDetermined checks the rank test on a 2×2 table with its margins public: a rectangle
// of four hidden cells is safe; three hidden cells of it are not (each line with a single
// hidden cell gives it away, and the third follows).
func TestDetermined(t *testing.T) {
	// positions: cells 0 1 / 2 3; lines: rows (T0: 0,1), (T1: 2,3); columns (T2: 0,2), (T3: 1,3)
	lines := [][]int{{10, 0, 1}, {11, 2, 3}, {12, 0, 2}, {13, 1, 3}}
	for _, tc := range []struct {
		hidden []int
		want   bool
	}{
		{[]int{0, 1, 2, 3}, false},
		{[]int{0, 1, 2}, true},
		{[]int{0, 3}, true},
		{[]int{0}, true},
		{nil, false},
	} {
		h := map[int]bool{}
		for _, p := range tc.hidden {
			h[p] = true
		}
		got := determined(lines, func(p int) bool { return h[p] }) >= 0
		if got != tc.want {
			t.Errorf("hidden %v: got determined %v, want %v", tc.hidden, got, tc.want)
		}
	}
}

// TestReleasedFile checks that the file that leaves has no contributor column, one row per
// cell, and no number in a hidden cell.
func TestReleasedFile(t *testing.T) {
	in := "age_band,project,patients,cost\n0-17,P1,5,5\n0-17,P2,5,5\n0-17,P3,5,5\n0-17,P4,5,5\n" +
		"18-64,P1,50,7\n18-64,P2,50,7\n18-64,P3,50,7\n18-64,P4,50,7\n65+,P1,60,9\n65+,P2,60,9\n65+,P3,60,9\n65+,P4,60,9\n"
	m := Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"age_band"}, Magnitudes: []string{"cost"}, Population: "x"}
	tab, head, err := ReadCSV("t.csv", strings.NewReader(in), m)
	if err != nil {
		t.Fatal(err)
	}
	r := Check(tab, head, Rules{}, nil)
	var b bytes.Buffer
	if err := r.WriteReleased(&b); err != nil {
		t.Fatal(err)
	}
	want := "age_band,patients,cost\n0-17,suppressed,suppressed\n18-64,suppressed,suppressed\n65+,240,36\n"
	if b.String() != want {
		t.Errorf("got released file\n%s\nwant\n%s", b.String(), want)
	}
}

// TestReadErrors checks that bad input names the file, line and column, never the value.
func TestReadErrors(t *testing.T) {
	m := Meta{Persons: "n", Dimensions: []string{"sex"}}
	for _, tc := range []struct{ in, want string }{
		{"sex,n\nF,12\nM,secret-value\n", "f.csv:3: column n: want a whole number of persons, 0 or more"},
		{"sex,count\nF,12\n", "f.csv: no column n (named in the metadata)"},
		{"sex,n\nF,-4\n", "f.csv:2: column n: want a whole number of persons, 0 or more"},
	} {
		_, _, err := ReadCSV("f.csv", strings.NewReader(tc.in), m)
		if err == nil || err.Error() != tc.want {
			t.Errorf("got %v, want %s", err, tc.want)
		}
	}
	if err := (Meta{Persons: "n", Dimensions: []string{"n"}}).Validate(); err == nil {
		t.Error("a column with two roles was accepted")
	}
	// structural zeros name cells: the old dimension-level form (every zero of the table
	// through) is refused naming the field, and a declared cell must be one of the table's
	for _, tc := range []struct {
		m    Meta
		want string
	}{
		{Meta{Persons: "n", Dimensions: []string{"sex"}, StructuralZeros: []string{"sex"}}, "f.csv: metadata: structural_zeros (sex) declares dimensions"},
		{Meta{Persons: "n", Dimensions: []string{"sex"}, StructuralCells: [][]string{{"M"}, {"X"}}}, "f.csv: metadata: structural_cells[1]: names no cell of the table"},
		{Meta{Persons: "n", Dimensions: []string{"sex"}, StructuralCells: [][]string{{"M", "F"}}}, "f.csv: metadata: structural_cells[0]: want a value of each of the 1 dimensions"},
	} {
		_, _, err := ReadCSV("f.csv", strings.NewReader("sex,n\nF,40\nM,0\n"), tc.m)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want %s…", tc.m, err, tc.want)
		}
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("age_band,project,patients\n0-17,P1,40\n")
	f.Add("age_band,project,patients\n\"a,b\",P1,x\n")
	f.Add("a\n")
	m := Meta{Persons: "patients", Contributor: "project", Dimensions: []string{"age_band"}, Total: "Total", Sensitive: []string{"age_band"}}
	f.Fuzz(func(t *testing.T, in string) {
		tab, head, err := ReadCSV("f.csv", strings.NewReader(in), m)
		if err != nil {
			if strings.Contains(in, "secret") && strings.Contains(err.Error(), "secret") {
				t.Fatalf("error quotes a value: %v", err)
			}
			return
		}
		r := Check(tab, head, Rules{}, nil)
		if r.Verdict == Pass && len(r.Hidden) > 0 {
			t.Fatal("pass with hidden cells")
		}
	})
}

// Counts are not negative: two zero cells hidden side by side in a line whose total is
// public are both known to be 0 (the total less the shown cells is 0), so a cell with
// persons is hidden beside them. A line of nothing but zeros has nothing to hide beside.
func TestAttackHiddenZerosSumToZero(t *testing.T) {
	m := Meta{Persons: "n", Dimensions: []string{"age"}}
	in := "age,n\n35-44,200\n45-54,0\n55-64,0\n65-74,150\n"
	tab, head, err := ReadCSV("t.csv", strings.NewReader(in), m)
	if err != nil {
		t.Fatal(err)
	}
	res := Check(tab, head, Rules{MinPersons: 10, MinProjects: -1}, nil)
	if !res.Hides("45-54") || !res.Hides("55-64") {
		t.Fatalf("hidden %+v: want both zero cells hidden", res.Hidden)
	}
	if !res.Hides("35-44") && !res.Hides("65-74") {
		t.Fatalf("hidden %+v: 350 − 200 − 150 = 0 gives both hidden zeros back; want a cell with persons hidden beside them", res.Hidden)
	}
	if res.Verdict != Suppressed {
		t.Fatalf("verdict %s (%v), want suppressed", res.Verdict, res.Reasons)
	}
}

// A zero in a sensitive dimension says something of everyone in its group: declaring the
// cell structural does not show it.
func TestStructuralCellInSensitiveDimensionStaysHidden(t *testing.T) {
	m := Meta{Persons: "n", Dimensions: []string{"sex", "outcome"}, Sensitive: []string{"outcome"}, StructuralCells: [][]string{{"F", "died"}}}
	tab, head, err := ReadCSV("f.csv", strings.NewReader("sex,outcome,n\nF,died,0\nF,lived,80\nM,died,40\nM,lived,90\n"), m)
	if err != nil {
		t.Fatal(err)
	}
	if r := Check(tab, head, Rules{MinPersons: 10, MinProjects: -1}, nil); !r.Hides("F", "died") {
		t.Fatalf("the declared zero of a sensitive dimension is shown: %+v", r.Hidden)
	}
}
