package airlock

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Released files at rest: before, they lay in plain CSV under the user's home
// ($STEWARD_HOME/exports). Sealed keeps them encrypted under the server's key; this reads
// the bytes on disk as someone with the disk but not the key would, and tampers with them.
func TestAttackExportFilesAtRestAreSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := Sealed{Dir: dir, Key: bytes.Repeat([]byte{7}, 32)}
	table := "sex,age_band,persons\nF,40-49,31\nM,40-49,45\n" + strings.Repeat("F,50-59,33\n", 20000) // several chunks
	for _, name := range []string{"ex-1-table.csv", "ex-1-empty.csv"} {
		data := table
		if strings.Contains(name, "empty") {
			data = ""
		}
		if err := s.Put(ctx, name, strings.NewReader(data), int64(len(data))); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if data != "" && (bytes.Contains(raw, []byte("persons")) || bytes.Contains(raw, []byte("40-49"))) {
			t.Errorf("%s on disk holds the table in the clear", name)
		}
		if got := read(t, s, name); got != data {
			t.Errorf("%s read back: got %d bytes, want %d", name, len(got), len(data))
		}
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "ex-1-table.csv"))
	for _, tc := range []struct {
		name   string
		change func() []byte
	}{
		{"a flipped byte", func() []byte { b := bytes.Clone(raw); b[len(b)/2] ^= 1; return b }},
		{"cut at a chunk's end", func() []byte { return raw[:13+(64<<10)+16] }},
		{"cut mid-chunk", func() []byte { return raw[:len(raw)-100] }},
		{"chunks swapped", func() []byte {
			c := 64<<10 + 16
			b := bytes.Clone(raw[:13])
			b = append(b, raw[13+c:13+2*c]...)
			b = append(b, raw[13:13+c]...)
			return append(b, raw[13+2*c:]...)
		}},
	} {
		os.WriteFile(filepath.Join(dir, "ex-1-table.csv"), tc.change(), 0o600)
		if _, err := readErr(s, "ex-1-table.csv"); err == nil {
			t.Errorf("%s: read without an error, want the change found", tc.name)
		}
	}
	// A file moved under another name does not open either.
	os.WriteFile(filepath.Join(dir, "ex-2-table.csv"), raw, 0o600)
	if _, err := readErr(s, "ex-2-table.csv"); err == nil {
		t.Errorf("a sealed file renamed: read without an error, want it refused")
	}
	if _, err := readErr(Sealed{Dir: dir, Key: bytes.Repeat([]byte{8}, 32)}, "ex-1-empty.csv"); err == nil {
		t.Errorf("another key: read without an error")
	}
	// Retention: files older than the cut-off are removed.
	old := time.Now().Add(-40 * 24 * time.Hour)
	os.Chtimes(filepath.Join(dir, "ex-2-table.csv"), old, old)
	gone, err := s.Sweep(time.Now().Add(-30 * 24 * time.Hour))
	if err != nil || len(gone) != 1 || gone[0] != "ex-2-table.csv" {
		t.Errorf("sweep: got %v, %v; want ex-2-table.csv removed", gone, err)
	}
}

func readErr(s Sealed, name string) (string, error) {
	rc, err := s.Open(name)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func read(t *testing.T, s Sealed, name string) string {
	t.Helper()
	b, err := readErr(s, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}
