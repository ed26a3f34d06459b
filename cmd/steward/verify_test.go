package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyExitStatus runs the built binary as a DBA would: the demo's copy verifies (0),
// a copy with a planted identifier fails its checks (1), and bad input is told apart (2).
func TestVerifyExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	demo := filepath.Join(dir, "demo")
	demoOut, err := exec.Command(bin, "demo", "--dir", demo, "--warehouse-patients", "0").CombinedOutput()
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, demoOut)
	}
	if !strings.Contains(string(demoOut), "The sign-off report: "+filepath.Join(demo, "report.html")) {
		t.Errorf("the demo does not print its report's path:\n%s", demoOut)
	}
	orig, copy := "sqlite:"+filepath.Join(demo, "hospital.db"), "sqlite:"+filepath.Join(demo, "hospital-deid.db")
	verify := func(report string, args ...string) (int, string) {
		args = append([]string{"deid", "verify", "--policy", filepath.Join(demo, "policy.yaml"), "--report", filepath.Join(dir, report)}, args...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := verify("ok.md", "--source", orig, "--target", copy); code != 0 {
		t.Fatalf("a correct copy: got exit %d, want 0\n%s", code, out)
	}

	// A surname copied into a kept column, as a careless fix-up script might.
	var surname string
	src, err := sql.Open("sqlite", filepath.Join(demo, "hospital.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.QueryRow("SELECT last_name FROM patient ORDER BY id LIMIT 1").Scan(&surname); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", filepath.Join(demo, "hospital-deid.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("UPDATE bed SET label = ? WHERE id = 1", surname); err != nil {
		t.Fatal(err)
	}
	code, out := verify("failed.json", "--source", orig, "--target", copy)
	if code != 1 || !strings.Contains(out, "survivors: bed.label: 1 value(s) equal to an original identifier") || !strings.Contains(out, "rows id=1\n") {
		t.Errorf("a planted surname: got exit %d, want 1 naming bed.label, row id=1\n%s", code, out)
	}
	if strings.Contains(out, surname) {
		t.Errorf("the output shows the planted value:\n%s", out)
	}
	if _, err := db.Exec("UPDATE bed SET label = label"); err != nil { // the plant stays; another joins it
		t.Fatal(err)
	}
	// An MRN spelt as scrub's old tokenizer did not see it, in a scrubbed note.
	var mrn string
	if err := src.QueryRow("SELECT mrn FROM patient ORDER BY id LIMIT 1").Scan(&mrn); err != nil {
		t.Fatal(err)
	}
	var note int64
	if err := db.QueryRow("SELECT id FROM transport_request WHERE note IS NOT NULL ORDER BY id LIMIT 1").Scan(&note); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE transport_request SET note = ? WHERE id = ?", "chart key:"+strings.ToLower(mrn)+"/att reviewed", note); err != nil {
		t.Fatal(err)
	}
	code, out = verify("failed2.md", "--source", orig, "--target", copy)
	want := fmt.Sprintf("survivors: transport_request.note: 1 value(s) contain an original identifier inside the text (from patient.mrn); rows id=%d\n", note)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("a planted MRN: got exit %d, want 1 and %q\n%s", code, want, out)
	}
	if strings.Contains(strings.ToLower(out), strings.ToLower(mrn)) {
		t.Errorf("the output shows the planted value:\n%s", out)
	}
	if code, out := verify("bad.html", "--source", orig, "--target", "sqlite:"+filepath.Join(dir, "missing.db")); code != 2 {
		t.Errorf("a missing copy: got exit %d, want 2\n%s", code, out)
	}
	if code, out := verify("report.pdf", "--source", orig, "--target", copy); code != 2 || !strings.Contains(out, "use .html, .json or .md") {
		t.Errorf("an unknown report format: got exit %d, want 2\n%s", code, out)
	}
	// The exit-code table, through main: a usage error 2, a database that does not answer 3.
	if code, out := verify("ok.md", "--source", orig, "--target", copy, "--no-such-flag"); code != 2 {
		t.Errorf("an unknown flag: got exit %d, want 2\n%s", code, out)
	}
	pg := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/x", closedPort(t))
	if code, out := verify("down.md", "--source", pg, "--target", copy); code != 3 {
		t.Errorf("an unreachable original: got exit %d, want 3\n%s", code, out)
	}
}
