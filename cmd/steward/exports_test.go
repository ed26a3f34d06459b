package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
)

// The server keeps released files beside its store, sealed with a key derived from the
// server key; before, they lay in plain text in $STEWARD_HOME/exports, under the user's home.
func TestAttackServerExportsAreSealedBesideTheStore(t *testing.T) {
	dir, home := t.TempDir(), t.TempDir()
	t.Setenv("STEWARD_HOME", home)
	dsn := filepath.Join(dir, "steward.db")
	ctx := context.Background()
	db, _, err := openStore(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := access.New(db, access.Config{}, nil)
	al := airlockService(s, dsn, nil, "127.0.0.1:8080", "", false)
	const table = "sex,persons\nF,31\nM,45\n"
	if err := al.Files.Put(ctx, "ex-1-t.csv", strings.NewReader(table), int64(len(table))); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dsn+".exports", "ex-1-t.csv"))
	if err != nil {
		t.Fatalf("the file is not beside the store: %v", err)
	}
	if strings.Contains(string(raw), "persons") {
		t.Errorf("the released file lies in the clear beside the store")
	}
	if _, err := os.Stat(filepath.Join(home, "exports")); err == nil {
		t.Errorf("exports still written under the user's home")
	}
	rc, err := al.Files.Open("ex-1-t.csv")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != table {
		t.Errorf("read back: got %q, want the table", b)
	}
}
