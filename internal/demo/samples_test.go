package demo

import (
	"context"
	"strings"
	"testing"
)

// Samples reads the same rows from both files: over one database twice they agree; every
// part of the demo database has rows, the patients three of six columns each.
func TestSamplesReadTheSameRowsOfBoth(t *testing.T) {
	path := build(t, 1, small)
	got, err := Samples(context.Background(), path, path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(samples) {
		t.Fatalf("got %d samples, want %d", len(got), len(samples))
	}
	for _, s := range got {
		if len(s.Before) == 0 || strings.Join(s.Before, "\n") != strings.Join(s.After, "\n") {
			t.Errorf("%s: before %q, after %q; want the same rows, some", s.Title, s.Before, s.After)
		}
	}
	if p := got[0]; p.Title != "patient" || len(p.Before) != 3 || strings.Count(p.Before[0], " | ") != 5 {
		t.Errorf("patient sample: %+v, want 3 rows of 6 columns", p)
	}
	if _, err := Samples(context.Background(), path, path+".missing"); err == nil {
		t.Errorf("a missing copy: no error")
	}
}
