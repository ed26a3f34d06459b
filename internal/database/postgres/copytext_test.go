package postgres

import (
	"testing"

	"github.com/stewardhealth/steward/internal/database"
)

// What appendRow writes, the line reader reads back as it was.
func TestCopyTextRoundTrip(t *testing.T) {
	values := []string{"", "plain", "tab\there", "line\nbreak\r\n", `back\slash\`, "\\N", "Zoë\t\\\n", "\t", "\\"}
	var got []string
	lr := newLineReader(len(values), nil, false, func(row database.Row) error {
		for _, v := range row {
			got = append(got, v.(string))
		}
		return nil
	})
	row := make(database.Row, len(values))
	for i, v := range values {
		row[i] = v
	}
	buf, err := appendRow(nil, row)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lr.Write(buf); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(values) {
		t.Fatalf("got %d values back, want %d", len(got), len(values))
	}
	for i := range values {
		if got[i] != values[i] {
			t.Errorf("value %d: got %q, want %q", i, got[i], values[i])
		}
	}
}

// Passed columns come back as COPY wrote them, escapes and all, and each row's values stay as
// they were while later rows are read (neither a slab nor a block of text is written over).
func TestCopyTextPassed(t *testing.T) {
	lines := []string{"1\tJane\\tDoe\tx\\\\y\tz\n", "2\t\\N\tplain\t\\N\n"}
	var rows []database.Row
	pass := []bool{false, true, true, true}
	lr := newLineReader(len(pass), pass, true, func(row database.Row) error {
		rows = append(rows, append(database.Row(nil), row...))
		return nil
	})
	for range 4 * slabValues { // enough rows to fill several slabs and blocks
		for _, l := range lines {
			if _, err := lr.Write([]byte(l)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(rows)*len(lines[0]) < 2*blockSize {
		t.Fatalf("the test reads %d rows, too few to fill two blocks", len(rows))
	}
	for i, row := range rows {
		if id, ok := row[0].(string); !ok || id != lines[i%2][:1] {
			t.Fatalf("row %d: a column not passed came as %T %v, want the string %q", i, row[0], row[0], lines[i%2][:1])
		}
		if row[1] == nil != (i%2 == 1) {
			t.Fatalf("row %d: NULL of a passed column: got %v", i, row[1])
		}
		buf, err := appendRow(nil, row)
		if err != nil {
			t.Fatal(err)
		}
		if string(buf) != lines[i%2] {
			t.Fatalf("row %d written back as %q, want %q", i, buf, lines[i%2])
		}
	}
}
