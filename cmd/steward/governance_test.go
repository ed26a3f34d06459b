package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The README's governance and retention commands, pasted in order.
func TestGovernanceAndRetentionCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	report := filepath.Join(dir, "person.html")
	for _, args := range [][]string{
		{"admin", "bootstrap", "root", "--password-file", pw},
		{"admin", "region-add", "west", "Western region"},
		{"admin", "agency-add", "north", "North clinic", "--region", "west"},
		{"admin", "project-add", "outcomes", "Outcomes"},
		{"admin", "user-add", "ann", "--password-file", pw},
		{"admin", "grant", "ann", "outcomes", "DATA_AGG"},
		{"governance", "purposes", "outcomes", "program_evaluation", "best_practice_research"},
		{"governance", "correction", "--client", "north:N-0042", "--item", "date of birth", "--requested", "1981-04-02, not 1987-04-02"},
		{"governance", "person-report", "--client", "north:N-0042", "--out", report},
		{"retention", "rule", "project_grants", "90", "--basis", "Part A, 5: kept only as long as the purpose needs"},
		{"retention", "project-end", "outcomes", "2020-12-31"},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if fi, err := os.Stat(report); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("person report: got %v, %v; want a 0600 file", fi, err)
	}
	if b, _ := os.ReadFile(report); !strings.Contains(string(b), "1981-04-02, not 1987-04-02") {
		t.Errorf("person report lacks the correction asked for")
	}
	out, err := steward(t, "retention")
	if err != nil || !hasRow(out, "project_grants", "90 days", "2") || !strings.Contains(out, "nothing removed") {
		t.Fatalf("retention: got %v\n%s\nwant project_grants 90 days with ann's 2 grants past it", err, out)
	}
	if out, err = steward(t, "retention", "--yes"); err != nil || !hasRow(out, "project_grants", "90 days", "2") {
		t.Fatalf("retention --yes: %v\n%s", err, out)
	}
	if out, err = steward(t, "retention"); err != nil || !hasRow(out, "project_grants", "90 days", "0") {
		t.Fatalf("retention after --yes: %v\n%s", err, out)
	}
	if out, err = steward(t, "governance", "purposes", "outcomes", "marketing"); err == nil || !strings.Contains(err.Error(), "marketing") {
		t.Errorf("a purpose the policy does not allow: got %v\n%s", err, out)
	}

	// With a warehouse, the report holds its records of the client; without its key, the
	// report refuses rather than leave them out.
	csv := filepath.Join(dir, "csv")
	if out, err := steward(t, "warehouse", "demo", "--patients", "5", "--csv", csv); err != nil {
		t.Fatalf("warehouse demo --csv: %v\n%s", err, out)
	}
	if out, err := steward(t, "warehouse", "load", "--agency", "north", csv); err != nil {
		t.Fatalf("warehouse load: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(csv, "patient_mapping.csv"))
	if err != nil {
		t.Fatal(err)
	}
	header, rest, _ := strings.Cut(string(b), "\n")
	at := slices.Index(strings.Split(header, ","), "patient_ide")
	line, _, _ := strings.Cut(rest, "\n")
	client := "north:" + strings.Split(line, ",")[at]
	if out, err = steward(t, "governance", "person-report", "--client", client, "--out", report); err != nil {
		t.Fatalf("person-report with the warehouse: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(report); !strings.Contains(string(b), "research warehouse") || !strings.Contains(string(b), "patient record") {
		t.Errorf("person report lacks the warehouse's patient record")
	}
	key := filepath.Join(dir, "steward.db.warehouse-key")
	if err := os.Rename(key, key+".away"); err != nil {
		t.Fatal(err)
	}
	if out, err = steward(t, "governance", "person-report", "--client", client, "--out", report); err == nil || !strings.Contains(err.Error(), "key") {
		t.Errorf("person-report without the warehouse key: got %v\n%s; want a refusal naming the key", err, out)
	}
	if out, err = steward(t, "audit", "verify", "--db", filepath.Join(dir, "steward.db")); err != nil {
		t.Errorf("audit verify: %v\n%s", err, out)
	}
}

// hasRow reports whether a row of the table out starts with kind, a two-word rule and a count.
func hasRow(out string, fields ...string) bool {
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= len(fields)+1 && f[0] == fields[0] && f[1]+" "+f[2] == fields[1] && f[3] == fields[2] {
			return true
		}
	}
	return false
}
