package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/version"
)

// `steward serve` signs checkpoints of its audit log by itself (at start, every
// --audit-checkpoint-every, at shutdown), and a plain `steward audit verify --db` then
// catches a truncated tail: no checkpoint made by hand. Before, the same truncation
// verified as "chain intact".
func TestServeCheckpointsTheAuditLogByItself(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	db := filepath.Join(dir, "steward.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("Fj4-overt-quilt-Maple9\n"), 0o600)
	for _, args := range [][]string{
		{"admin", "bootstrap", "admin", "--password-file", pw, "--db", db},
		{"admin", "region-add", "west", "West", "--db", db},
		{"admin", "agency-add", "north", "North", "--region", "west", "--db", db},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		root := newRoot()
		root.SetArgs([]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--audit-checkpoint-every", "50ms"})
		root.SetOut(&out)
		root.SetErr(&out)
		done <- root.ExecuteContext(ctx)
	}()
	cps := db + ".audit-checkpoints"
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(cps); len(b) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no checkpoint at %s after 20 s; serve said:\n%s", cps, out.String())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v\n%s", err, out.String())
	}
	got, err := steward(t, "audit", "verify", "--db", db)
	if err != nil || !strings.Contains(got, "4 entries, chain intact") || !strings.Contains(got, "keyed with the server key") ||
		!strings.Contains(got, "vouches for entry 4") {
		t.Fatalf("audit verify after serve: got %v\n%s\nwant 4 keyed entries (the 4th the server's start) and a checkpoint of entry 4", err, got)
	}
	s, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	starts, err := store.Audit{DB: s}.Find(context.Background(), store.Filter{Action: "server.start"})
	if err != nil || len(starts) != 1 || starts[0].Seq != 4 || starts[0].Detail["version"] != version.String() || starts[0].Actor != "steward" {
		t.Errorf("the server's start in the audit log: %v %+v, want entry 4 by steward with version %q", err, starts, version.String())
	}
	s.Exec(`DELETE FROM audit_log WHERE seq = 4`)
	s.Close()
	if got, err := steward(t, "audit", "verify", "--db", db); err == nil || !strings.Contains(err.Error(), "cut off at the end") {
		t.Errorf("audit verify of the cut log: got %v\n%s\nwant the truncation found", err, got)
	}
}
