package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/deid"
)

// TestDemoNextStepsWorkFromAClone runs the demo as the README's quick start does, from a
// clone with `go run ./cmd/steward`, and then pastes every command it suggests next: each must
// work as printed.
func TestDemoNextStepsWorkFromAClone(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go run")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "steward-demo")
	demo := exec.Command("go", "run", "./cmd/steward", "demo", "--dir", dir, "--warehouse-patients", "0")
	demo.Dir = root
	out, err := demo.CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	_, steps, ok := strings.Cut(string(out), "Try it yourself")
	if !ok {
		t.Fatalf("the demo suggests no next steps:\n%s", out)
	}
	// `go run ./cmd/steward` links the program again for every command: the commands run the
	// same program built once, after checking that each says `go run ./cmd/steward`.
	bin := filepath.Join(t.TempDir(), "steward")
	build := exec.Command("go", "build", "-o", bin, "./cmd/steward")
	build.Dir = root
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	var n int
	for _, line := range strings.Split(steps, "\n")[1:] {
		cmd, ok := strings.CutPrefix(line, "  ")
		if !ok || strings.TrimSpace(cmd) == "" {
			break
		}
		n++
		if !strings.HasPrefix(cmd, "openssl ") {
			rest, ok := strings.CutPrefix(cmd, "go run ./cmd/steward ")
			if !ok {
				t.Errorf("from a clone, the demo suggests %q: want it to start with go run ./cmd/steward", cmd)
				continue
			}
			cmd = bin + " " + rest
		}
		sh := exec.Command("sh", "-c", cmd)
		sh.Dir = root
		if b, err := sh.CombinedOutput(); err != nil {
			t.Errorf("pasted from the demo, %q failed: %v\n%s", cmd, err, b)
		}
	}
	if n < 5 {
		t.Errorf("got %d next steps, want the 5 from scan to verify:\n%s", n, steps)
	}
}

// TestCollisionNoteNamesTheRule: a collision note says what the values share — a cut hash,
// a placeholder or a pseudonym — as the column's rule gives it.
func TestCollisionNoteNamesTheRule(t *testing.T) {
	rep := &deid.Report{Mode: "copy", Elapsed: time.Second, Tables: []*deid.TableReport{{
		Name: "server", Rows: 10,
		Rules:      map[string][]string{"hash": {"serial"}, "placeholder": {"ip_address"}, "pseudonym": {"site"}},
		Collisions: map[string]int64{"serial": 1, "ip_address": 2, "site": 3},
	}}}
	var b bytes.Buffer
	printReport(&b, rep)
	for _, want := range []string{"1 distinct serial values share a cut hash", "2 distinct ip_address values share a placeholder", "3 distinct site values share a pseudonym"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("got\n%s\nwant a line with %q", b.String(), want)
		}
	}
}
