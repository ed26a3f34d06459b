package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
)

// The offline admin commands, then the audit log they wrote: verify, checkpoint, and a cut
// log caught by the checkpoint.
func TestAdminCommandsAndAuditCheckpoint(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "steward.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	for _, args := range [][]string{
		{"admin", "bootstrap", "admin", "--password-file", pw, "--db", db},
		{"admin", "region-add", "west", "West", "--db", db},
		{"admin", "agency-add", "north", "North", "--region", "west", "--db", db},
		{"admin", "project-add", "diab", "Diabetes", "--agency", "north", "--db", db},
		{"admin", "user-add", "ann", "--agency", "north", "--password-file", pw, "--db", db},
		{"admin", "grant", "ann", "diab", "DATA_DEID", "--db", db},
		{"admin", "revoke", "ann", "diab", "DATA_LDS", "--db", db},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if _, err := steward(t, "admin", "bootstrap", "other", "--password-file", pw, "--db", db); err == nil {
		t.Errorf("second bootstrap: got no error, want a refusal")
	}
	if _, err := steward(t, "admin", "unlock", "--account", "ann", "--db", db); err == nil {
		t.Errorf("unlock without --reason: got no error")
	}
	out, err := steward(t, "audit", "verify", "--db", db)
	if err != nil || !strings.Contains(out, "7 entries, chain intact") {
		t.Fatalf("audit verify: got %q, %v; want 7 entries intact", out, err)
	}

	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	key := filepath.Join(dir, "key.pem")
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	cpJSON, err := steward(t, "audit", "checkpoint", "--db", db, "--key-file", key)
	if err != nil || !strings.Contains(cpJSON, `"seq": 7`) {
		t.Fatalf("checkpoint: got %q, %v", cpJSON, err)
	}
	cp := filepath.Join(dir, "cp.json")
	os.WriteFile(cp, []byte(cpJSON), 0o600)
	if out, err := steward(t, "audit", "verify", "--db", db, "--checkpoint", cp, "--key-file", key); err != nil || !strings.Contains(out, "holds") {
		t.Errorf("verify with checkpoint: got %q, %v; want it to hold", out, err)
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	s.Exec(`DELETE FROM audit_log WHERE seq = 7`)
	s.Close()
	if _, err := steward(t, "audit", "verify", "--db", db, "--checkpoint", cp, "--key-file", key); err == nil || !strings.Contains(err.Error(), "cut off at the end") {
		t.Errorf("verify of a cut log against the checkpoint: got %v, want entry 7 missing", err)
	}
}
