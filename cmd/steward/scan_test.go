package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/demo"
)

// TestDeidScanThenRun is the command line a DBA types: scan the demo database into a policy
// file, de-identify with it, and verify the copy.
func TestDeidScanThenRun(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "hospital.db")
	if err := demo.Build(context.Background(), src, 3, demo.Size{Patients: 100, Encounters: 200}); err != nil {
		t.Fatal(err)
	}
	pol := filepath.Join(dir, "policy.yaml")
	run := func(args ...string) (string, error) { return steward(t, args...) }
	if out, err := run("deid", "scan", "--source", "sqlite:"+src, "--sample", "500", "--out", pol); err != nil {
		t.Fatalf("deid scan: %v\n%s", err, out)
	} else if !strings.Contains(out, "quasi-identifiers") {
		t.Errorf("deid scan summary: got %q, want the counts of transformed and quasi-identifier columns", out)
	}
	b, err := os.ReadFile(pol)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("first_name: hash")) {
		t.Errorf("scanned policy does not hash patient.first_name:\n%s", b)
	}
	if out, err := run("deid", "run", "--policy", pol, "--source", "sqlite:"+src, "--target", "sqlite:"+filepath.Join(dir, "deid.db"), "--unkeyed"); err != nil {
		t.Fatalf("deid run with the scanned policy: %v\n%s", err, out)
	}
	if out, err := run("deid", "verify", "--policy", pol, "--source", "sqlite:"+src, "--target", "sqlite:"+filepath.Join(dir, "deid.db")); err != nil {
		t.Fatalf("deid verify of the copy made with the scanned policy: %v\n%s", err, out)
	}
	if _, err := run("deid", "scan", "--source", "sqlite:"+src, "--sample", "-1"); err == nil || !strings.Contains(err.Error(), "--sample") {
		t.Errorf("negative --sample: got %v, want an error naming --sample", err)
	}
}
