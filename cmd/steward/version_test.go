package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/version"
)

// `steward version --json` and `steward --version` say which build runs, in-process.
func TestVersionCommand(t *testing.T) {
	out, err := steward(t, "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var i version.Info
	if err := json.Unmarshal([]byte(out), &i); err != nil {
		t.Fatalf("version --json: %v: %q", err, out)
	}
	if i.Version == "" || i.GoVersion != runtime.Version() || i.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("version --json = %+v", i)
	}
	if out, err := steward(t, "--version"); err != nil || out != "steward "+version.String()+"\n" {
		t.Errorf("--version: %v %q, want %q", err, out, "steward "+version.String())
	}
	if out, err := steward(t, "version"); err != nil || !strings.HasPrefix(out, "steward "+version.String()+"\n") {
		t.Errorf("version: %v %q", err, out)
	}
}

// The built binary carries its version into what it prints and into every report it writes:
// the run's JSON report, and the verification report in HTML, JSON and Markdown. A release is
// stamped at link time; in a clone (a .git directory) the VCS revision is recorded too.
func TestBuiltVersionInReports(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const stamp = "v9.9.9-test"
	dir := t.TempDir()
	bin := filepath.Join(dir, "steward")
	build := exec.Command("go", "build", "-buildvcs=auto", "-ldflags", "-X github.com/stewardhealth/steward/internal/version.Stamp="+stamp, "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("steward %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if out := run("--version"); !strings.HasPrefix(out, "steward "+stamp) {
		t.Fatalf("--version = %q, want the stamp %s", out, stamp)
	}
	var i version.Info
	if err := json.Unmarshal([]byte(run("version", "--json")), &i); err != nil || i.Version != stamp {
		t.Fatalf("version --json: %v %+v", err, i)
	}
	// go build stamps the revision only from a .git directory (not a worktree's .git file).
	if top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
		if st, err := os.Stat(filepath.Join(strings.TrimSpace(string(top)), ".git")); err == nil && st.IsDir() {
			head, _ := exec.Command("git", "rev-parse", "HEAD").Output()
			if i.Revision != strings.TrimSpace(string(head)) {
				t.Errorf("revision %q, want HEAD %s", i.Revision, head)
			}
		}
	}
	demo := filepath.Join(dir, "demo")
	run("demo", "--dir", demo, "--warehouse-patients", "0")
	key := filepath.Join(dir, "k")
	os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	pol, orig := filepath.Join(demo, "policy.yaml"), "sqlite:"+filepath.Join(demo, "hospital.db")
	copyDSN := "sqlite:" + filepath.Join(dir, "copy.db")
	if out := run("deid", "run", "--policy", pol, "--source", orig, "--target", copyDSN, "--key-file", key, "--report", filepath.Join(dir, "run.json")); !strings.Contains(out, "(steward "+stamp) {
		t.Errorf("deid run does not print the version:\n%s", out)
	}
	var runRep struct{ Steward string }
	b, _ := os.ReadFile(filepath.Join(dir, "run.json"))
	if err := json.Unmarshal(b, &runRep); err != nil || !strings.HasPrefix(runRep.Steward, stamp) {
		t.Errorf("the run's report: %v, steward %q, want %s", err, runRep.Steward, stamp)
	}
	for _, name := range []string{"report.html", "report.json", "report.md"} {
		run("deid", "verify", "--policy", pol, "--source", orig, "--target", copyDSN, "--report", filepath.Join(dir, name))
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !strings.Contains(string(b), stamp) {
			t.Errorf("%s does not name the version %s (%v)", name, stamp, err)
		}
	}
	var vr struct {
		Steward string `json:"steward_version"`
	}
	b, _ = os.ReadFile(filepath.Join(dir, "report.json"))
	if json.Unmarshal(b, &vr); !strings.HasPrefix(vr.Steward, stamp) {
		t.Errorf("report.json steward_version = %q", vr.Steward)
	}
	if b, _ := os.ReadFile(filepath.Join(demo, "report.html")); !strings.Contains(string(b), stamp) {
		t.Errorf("the demo's report does not name the version")
	}
}
