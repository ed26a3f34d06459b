package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWarehouseDemoCSVThenLoad(t *testing.T) {
	dir := t.TempDir()
	csvDir, db := filepath.Join(dir, "csv"), filepath.Join(dir, "steward.db")
	if out, err := steward(t, "warehouse", "demo", "--db", db, "--patients", "20", "--csv", csvDir); err != nil {
		t.Fatalf("demo --csv: %v\n%s", err, out)
	}
	facts, err := os.ReadFile(filepath.Join(csvDir, "observation_fact.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// A bad row: the load names it and keeps nothing, so the good load afterwards counts alone.
	bad := filepath.Join(dir, "bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "patient_dimension.csv"), []byte("patient_num,sex_cd\n1,F\nx,M\n"), 0o644)
	out, err := steward(t, "warehouse", "load", "--db", db, bad)
	if err == nil || !strings.Contains(err.Error(), "patient_dimension.csv line 3 column patient_num: not a whole number") {
		t.Errorf("bad load: got %v\n%s", err, out)
	}
	out, err = steward(t, "warehouse", "load", "--db", db, "--agency", "", csvDir)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, out)
	}
	rows := strings.Count(string(facts), "\n") - 1
	if !strings.Contains(out, "loaded ") {
		t.Errorf("load output: %q", out)
	}
	st, err := os.Stat(db + ".warehouse-key")
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file beside the database: %v, mode %v; want 0600", err, st)
	}
	if rows < 1000 {
		t.Errorf("20 patients gave %d facts, want about 2,000", rows)
	}
}
