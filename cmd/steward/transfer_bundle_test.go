package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/audit"
	_ "modernc.org/sqlite"
)

func TestHandOverLeavesAuditedTrailAndCleansUp(t *testing.T) {
	home, work := t.TempDir(), t.TempDir()
	t.Setenv("STEWARD_HOME", home)
	src := filepath.Join(work, "xt-deid.db")
	db, err := sql.Open("sqlite", "file:"+src)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	bundle, usb := filepath.Join(work, "bundle"), filepath.Join(work, "usb")
	os.MkdirAll(filepath.Join(home, "grants"), 0o700)
	os.WriteFile(filepath.Join(home, "grants", "job.sas"), []byte("sv=x&sig=y"), 0o600)

	for _, args := range [][]string{
		{"transfer", "bundle", "--source", "sqlite:" + src, "--out", bundle},
		{"transfer", "push-local", bundle, "--to", usb},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	out, err := steward(t, "transfer", "cleanup")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{bundle, filepath.Join(home, "grants", "job.sas"), "rm -- '" + src + "'", "nothing removed"} {
		if !strings.Contains(out, want) {
			t.Errorf("cleanup without --yes: output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(bundle); err != nil {
		t.Errorf("cleanup without --yes removed the bundle: %v", err)
	}
	if out, err = steward(t, "transfer", "cleanup", "--yes"); err != nil {
		t.Fatalf("cleanup --yes: %v\n%s", err, out)
	}
	for _, gone := range []string{bundle, filepath.Join(home, "grants", "job.sas")} {
		if _, err := os.Stat(gone); !os.IsNotExist(err) {
			t.Errorf("cleanup --yes left %s", gone)
		}
	}
	if _, err := os.Stat(src); err != nil {
		t.Errorf("cleanup removed the de-identified database itself: %v", err)
	}
	var actions []string
	n, _, err := audit.Verify(context.Background(), audit.FileStore{Path: filepath.Join(home, "audit.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	audit.FileStore{Path: filepath.Join(home, "audit.jsonl")}.Walk(context.Background(), func(e audit.Entry) error {
		actions = append(actions, e.Action)
		return nil
	})
	if got, want := strings.Join(actions, " "), "transfer.bundle transfer.push transfer.cleanup"; got != want || n != 3 {
		t.Errorf("audit log: got %d entries %q, want %q", n, got, want)
	}
}

func TestDeidScriptEmbedsKeyOnlyIntoAFile(t *testing.T) {
	dir := t.TempDir()
	pol, key := filepath.Join(dir, "p.yaml"), filepath.Join(dir, "k")
	os.WriteFile(pol, []byte("version: 1\ndefault: keep\ntables:\n  patient:\n    columns:\n      mrn: hash\n"), 0o600)
	os.WriteFile(key, []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	if _, err := steward(t, "deid", "script", "--policy", pol, "--key-file", key, "--embed-key"); err == nil || !strings.Contains(err.Error(), "--out") {
		t.Errorf("--embed-key to standard output: got %v, want an error asking for --out", err)
	}
	out := filepath.Join(dir, "deid.sql")
	if msg, err := steward(t, "deid", "script", "--policy", pol, "--key-file", key, "--embed-key", "--out", out); err != nil {
		t.Fatalf("%v\n%s", err, msg)
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("script file mode %v, want 0600", info.Mode().Perm())
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), "0x30313233343536373839616263646566") {
		t.Error("the embedded script does not hold the key file's bytes")
	}
	if msg, err := steward(t, "deid", "script", "--dialect", "oracle", "--policy", pol, "--key-file", key); err == nil {
		t.Errorf("dialect oracle accepted:\n%.200s", msg)
	}
}
