package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// steward backup, backup list, backup restore as the README shows them, on a SQLite store.
func TestBackupCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	db := filepath.Join(dir, "steward.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	if out, err := steward(t, "admin", "bootstrap", "root", "--password-file", pw, "--db", db); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out)
	}
	out, err := steward(t, "backup", "--db", db)
	if err != nil || !strings.Contains(out, "(monthly)") || !strings.Contains(out, "identical") {
		t.Fatalf("backup: got %v\n%s\nwant a verified monthly backup", err, out)
	}
	out, err = steward(t, "backup", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if err != nil || len(lines) != 1 || !strings.Contains(lines[0], "monthly") {
		t.Fatalf("backup list: got %v\n%s\nwant one monthly backup", err, out)
	}
	name := strings.Fields(lines[0])[0]
	restored := filepath.Join(dir, "restored.db")
	out, err = steward(t, "backup", "restore", filepath.Join(dir, "backups", name), "--db", restored)
	if err != nil || !strings.Contains(out, "row counts and checksums equal") {
		t.Fatalf("backup restore: got %v\n%s", err, out)
	}
	if out, err := steward(t, "audit", "verify", "--db", restored); err != nil || !strings.Contains(out, "2 entries, chain intact") { // the bootstrap and the restore
		t.Errorf("audit verify of the restored store: %v\n%s", err, out)
	}
	if out, err = steward(t, "backup", "restore", filepath.Join(dir, "backups", name), "--db", restored); err == nil {
		t.Errorf("restore over an existing file: got no error\n%s", out)
	}
}
