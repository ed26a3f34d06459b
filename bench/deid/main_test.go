package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// The generator is deterministic, row i does not depend on the row count, and every value fits
// its column. No database needed.
func TestGenerator(t *testing.T) {
	rows := func(n int) [][]any {
		var out [][]any
		g := newGenerator(n)
		for g.Next() {
			v, _ := g.Values()
			out = append(out, append([]any(nil), v...))
		}
		return out
	}
	a, b := rows(3000), rows(1000)
	if !reflect.DeepEqual(a, rows(3000)) {
		t.Fatal("two generators with the same seed differ")
	}
	if !reflect.DeepEqual(a[:1000], b) {
		t.Fatal("the first rows depend on the row count")
	}
	widths := map[int]int{1: 12, 2: 40, 3: 60, 4: 11, 5: 20, 6: 120, 8: 1, 9: 5}
	mrns := map[string]bool{}
	notes := 0
	for _, r := range a {
		for i, w := range widths {
			if s := r[i].(string); len([]rune(s)) > w || (i == 4 || i == 9) && len(s) != w {
				t.Fatalf("column %s: %q does not fit %d", columns[i].name, s, w)
			}
		}
		mrn, note := r[1].(string), r[11].(string)
		if mrns[mrn] {
			t.Fatalf("MRN %s twice", mrn)
		}
		mrns[mrn] = true
		if !strings.Contains(note, mrn) || !strings.Contains(note, r[3].(string)) {
			t.Fatalf("note %q does not name its patient", note)
		}
		notes += len(note)
	}
	if avg := notes / len(a); avg < 100 || avg > 140 {
		t.Fatalf("notes average %d bytes, want about 120", avg)
	}
}

// A tiny end-to-end run: it measures, checks the copy's notes and drops what it created.
func TestRun(t *testing.T) {
	dsn := os.Getenv("STEWARD_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("STEWARD_TEST_POSTGRES is not set")
	}
	ctx := context.Background()
	var out bytes.Buffer
	rs, err := run(ctx, config{dsn: dsn, sizes: []int{2000, 4000}}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 2 || !strings.Contains(out.String(), "Memory flat in the row count:") {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, r := range rs {
		if r.leaked != 0 {
			t.Errorf("%d rows: %d notes still hold an MRN", r.rows, r.leaked)
		}
		var left int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)", r.name).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 0 {
			t.Errorf("%d databases named %s… left behind", left, r.name)
		}
	}
}
