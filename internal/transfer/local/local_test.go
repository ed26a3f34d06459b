package local_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/local"
	_ "modernc.org/sqlite"
)

// sqliteBundle makes a real bundle of a small SQLite database.
func sqliteBundle(t *testing.T) (string, *transfer.Manifest) {
	t.Helper()
	src := filepath.Join(t.TempDir(), "x.db")
	db, err := sql.Open("sqlite", "file:"+src)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)", "INSERT INTO t (v) VALUES ('a'), ('b'), ('c')"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	dir := filepath.Join(t.TempDir(), "bundle")
	m, err := transfer.Bundle(context.Background(), transfer.BundleOptions{Source: "sqlite:" + src, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	return dir, m
}

func TestPushToFolder(t *testing.T) {
	dir, m := sqliteBundle(t)
	to := filepath.Join(t.TempDir(), "outbox")
	for range 2 { // a second push over the first replaces the files
		if _, err := transfer.Push(context.Background(), dir, local.Folder{Dir: to}); err != nil {
			t.Fatalf("push: %v", err)
		}
	}
	got, err := transfer.ReadManifest(to)
	if err != nil {
		t.Fatalf("manifest at the destination: %v", err)
	}
	if err := transfer.Check(to, got); err != nil {
		t.Errorf("destination against its manifest: %v", err)
	}
	if got.Files[0] != m.Files[0] {
		t.Errorf("destination manifest lists %v, want %v", got.Files[0], m.Files[0])
	}
	entries, _ := os.ReadDir(to)
	if len(entries) != 2 {
		t.Errorf("destination holds %d entries, want the file and the manifest", len(entries))
	}
}

func TestPushRefusesChangedFile(t *testing.T) {
	dir, m := sqliteBundle(t)
	path := filepath.Join(dir, m.Files[0].Name)
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 1 // same size, one bit changed
	os.WriteFile(path, b, 0o600)
	to := t.TempDir()
	_, err := transfer.Push(context.Background(), dir, local.Folder{Dir: to})
	if err == nil || !strings.Contains(err.Error(), m.Files[0].Name+" changed since the manifest") {
		t.Fatalf("push of a changed file: got %v, want an error naming %s", err, m.Files[0].Name)
	}
	if entries, _ := os.ReadDir(to); len(entries) != 0 {
		t.Errorf("a refused push left %v at the destination", entries)
	}
	if err := transfer.Check(dir, m); err == nil {
		t.Error("Check passed a changed file")
	}
}
