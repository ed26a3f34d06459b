package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The check command on two corpus tables: a suppressed one (its released file written) and
// a row-per-person one (refused, exit status 1).
func TestDisclosureCheck(t *testing.T) {
	corpus := "../../internal/disclosure/testdata/corpus/"
	out := filepath.Join(t.TempDir(), "released.csv")
	got, err := steward(t, "disclosure", "check", corpus+"cell_30_persons/table.csv", "--meta", corpus+"cell_30_persons/meta.json", "--out", out)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, got)
	}
	for _, want := range []string{"suppressed, 2 of 3 cells hidden", "age_band=0-17: 30 persons or fewer"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	b, _ := os.ReadFile(out)
	if want := "age_band,patients\n0-17,suppressed\n18-64,400\n65+,suppressed\n"; string(b) != want {
		t.Errorf("released file %q, want %q", b, want)
	}
	got, err = steward(t, "disclosure", "check", corpus+"row_per_person/table.csv", "--meta", corpus+"row_per_person/meta.json")
	if err == nil || !strings.Contains(got, "a row per person") {
		t.Errorf("row-per-person file: got err %v, output\n%s", err, got)
	}
}
