package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/store"
)

// The data validator's commands as the README gives them: with review on, a load waits as a
// pending batch; the validator reviews and approves it; an analyst user cannot.
func TestValidatorCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	csv := filepath.Join(dir, "csv")
	for _, args := range [][]string{
		{"admin", "bootstrap", "root", "--password-file", pw},
		{"admin", "region-add", "west", "Western region"},
		{"admin", "agency-add", "north", "North clinic", "--region", "west"},
		{"admin", "project-add", "north-diabetes", "Diabetes", "--agency", "north"},
		{"admin", "user-add", "vera", "--agency", "north", "--password-file", pw},
		{"admin", "user-add", "ana", "--agency", "north", "--password-file", pw},
		{"admin", "grant", "vera", "north-diabetes", "DATA_VALIDATOR"},
		{"admin", "grant", "ana", "north-diabetes", "DATA_AGG"},
		{"warehouse", "demo", "--patients", "5", "--csv", csv},
		{"warehouse", "review", "on", "--reason", "seed 003: validated loads only"},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	out, err := steward(t, "warehouse", "load", "--agency", "north", csv)
	if err != nil || !strings.Contains(out, "batch 1 waits for a data validator's review") {
		t.Fatalf("load with review on: %v\n%s", err, out)
	}
	if out, err := steward(t, "warehouse", "approve", "north-diabetes", "1", "--as", "ana", "--reason", "my own data"); err == nil {
		t.Errorf("an analyst approved a batch:\n%s", out)
	}
	out, err = steward(t, "warehouse", "batch", "north-diabetes", "1", "--as", "vera", "--sample", "1")
	var rev struct {
		Counts []struct {
			Table string `json:"table"`
			Rows  int64  `json:"rows"`
		} `json:"counts"`
	}
	if err != nil || json.Unmarshal([]byte(out), &rev) != nil {
		t.Fatalf("review: %v\n%s", err, out)
	}
	patients := int64(0)
	for _, c := range rev.Counts {
		if c.Table == "patient_dimension" {
			patients = c.Rows
		}
	}
	if patients != 5 {
		t.Errorf("review counts %d patients, want 5\n%s", patients, out)
	}
	if out, err = steward(t, "warehouse", "approve", "north-diabetes", "1", "--as", "vera", "--reason", "counts match"); err != nil || !strings.Contains(out, `"approved"`) {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	if out, err = steward(t, "warehouse", "batches", "north-diabetes", "--as", "vera"); err != nil || !strings.Contains(out, `"approved"`) {
		t.Errorf("batches: %v\n%s", err, out)
	}
}

// steward warehouse settings: min and max of computed tables are off until an administrator
// turns table_extremes on with a reason; the change is audited with the old and new value.
func TestWarehouseSettingsCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	if out, err := steward(t, "admin", "bootstrap", "root", "--password-file", pw); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out)
	}
	show := func() map[string]any {
		t.Helper()
		out, err := steward(t, "warehouse", "settings")
		var v map[string]any
		if err != nil || json.Unmarshal([]byte(out), &v) != nil {
			t.Fatalf("settings: %v\n%s", err, out)
		}
		return v
	}
	if v := show(); v["table_extremes"] != false || v["sigma"] != 10.0 {
		t.Fatalf("default settings: %v, want table_extremes false", v)
	}
	if out, err := steward(t, "warehouse", "settings", "--table-extremes=true"); err == nil {
		t.Fatalf("a change without a reason was saved:\n%s", out)
	}
	if out, err := steward(t, "warehouse", "settings", "--table-extremes=true", "--reason", "ACRO-style extremes for the audit study"); err != nil {
		t.Fatalf("turn extremes on: %v\n%s", err, out)
	}
	if v := show(); v["table_extremes"] != true || v["sigma"] != 10.0 {
		t.Fatalf("after the change: %v, want table_extremes true and the rest kept", v)
	}
	db, err := store.Open(context.Background(), appDBPath())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var detail string
	if err := db.QueryRowContext(context.Background(), `SELECT detail FROM audit_log WHERE action = 'warehouse.settings'`).Scan(&detail); err != nil ||
		!strings.Contains(detail, "false → true") || !strings.Contains(detail, "ACRO-style") {
		t.Fatalf("audit of the change: %v %s, want table_extremes false → true with the reason", err, detail)
	}
}
