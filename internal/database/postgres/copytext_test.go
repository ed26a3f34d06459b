package postgres

import (
	"testing"

	"github.com/stewardhealth/steward/internal/database"
)

// What appendRow writes, the line reader reads back as it was.
func TestCopyTextRoundTrip(t *testing.T) {
	values := []string{"", "plain", "tab\there", "line\nbreak\r\n", `back\slash\`, "\\N", "Zoë\t\\\n", "\t", "\\"}
	var got []string
	lr := newLineReader(len(values), func(row database.Row) error {
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
