package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func fill(t *testing.T, s Store, n int) {
	t.Helper()
	for i := range n {
		_, err := s.Append(context.Background(), Entry{Actor: "alice", Action: "transfer.grant", Object: "grant-" + string(rune('a'+i)), Detail: map[string]string{"container": "backup"}})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func lines(t *testing.T, path string) [][]byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
}

func write(t *testing.T, path string, ls [][]byte) {
	if err := os.WriteFile(path, append(bytes.Join(ls, []byte("\n")), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyNamesFirstBrokenEntry(t *testing.T) {
	for _, tc := range []struct {
		name    string
		tamper  func([][]byte) [][]byte
		wantIdx int64
		reason  string
	}{
		{"edited", func(ls [][]byte) [][]byte {
			ls[2] = bytes.Replace(ls[2], []byte(`"alice"`), []byte(`"mallory"`), 1)
			return ls
		}, 3, "changed"},
		{"deleted", func(ls [][]byte) [][]byte { return append(ls[:1], ls[2:]...) }, 2, "sequence"},
		{"reordered", func(ls [][]byte) [][]byte { ls[1], ls[2] = ls[2], ls[1]; return ls }, 2, "sequence"},
		{"head removed", func(ls [][]byte) [][]byte { return ls[1:] }, 1, "sequence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := FileStore{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
			fill(t, s, 5)
			if n, _, err := Verify(context.Background(), s); err != nil || n != 5 {
				t.Fatalf("before tampering: got %d entries, %v; want 5, nil", n, err)
			}
			write(t, s.Path, tc.tamper(lines(t, s.Path)))
			_, _, err := Verify(context.Background(), s)
			var b *BrokenError
			if !errors.As(err, &b) {
				t.Fatalf("got %v, want a BrokenError", err)
			}
			if b.Index != tc.wantIdx || !strings.Contains(b.Reason, tc.reason) {
				t.Errorf("got entry %d (%s), want entry %d mentioning %q", b.Index, b.Reason, tc.wantIdx, tc.reason)
			}
		})
	}
}

func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	s := FileStore{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { fill(t, s, 10) })
	}
	wg.Wait()
	if n, _, err := Verify(context.Background(), s); err != nil || n != 80 {
		t.Fatalf("got %d entries, %v; want 80 in one unbroken chain", n, err)
	}
}

func TestCheckpointCatchesTruncation(t *testing.T) {
	ctx := context.Background()
	s := FileStore{Path: filepath.Join(t.TempDir(), "audit.jsonl")}
	fill(t, s, 4)
	_, last, err := Verify(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	c := Sign(last, "admin", priv)
	if err := CheckCheckpoint(ctx, s, c, pub, nil); err != nil {
		t.Fatalf("fresh checkpoint: %v", err)
	}
	fill(t, s, 1)
	if err := CheckCheckpoint(ctx, s, c, pub, nil); err != nil {
		t.Fatalf("log grown after checkpoint: %v", err)
	}
	write(t, s.Path, lines(t, s.Path)[:3])
	if n, _, err := Verify(ctx, s); err != nil || n != 3 {
		t.Fatalf("a cut log is still a valid chain: got %d, %v", n, err)
	}
	if err := CheckCheckpoint(ctx, s, c, pub, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("cut log: got %v, want ErrCheckpoint", err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	if err := CheckCheckpoint(ctx, s, c, other, nil); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("wrong key: got %v, want ErrCheckpoint", err)
	}
}
