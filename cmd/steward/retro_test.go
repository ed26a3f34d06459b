package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
)

// The retroactive checks' commands: a run for cron samples round(10 % × 20) = 2 of last
// month's automatic exports with the seed given, once; the officer lists them and records
// outcomes, a recall recalling the export; the analyst cannot.
func TestRetroCommands(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	for _, args := range [][]string{
		{"admin", "bootstrap", "root", "--password-file", pw},
		{"admin", "region-add", "west", "Western region"},
		{"admin", "agency-add", "north", "North clinic", "--region", "west"},
		{"admin", "project-add", "north-diabetes", "Diabetes", "--agency", "north"},
		{"admin", "user-add", "pia", "--agency", "north", "--password-file", pw},
		{"admin", "user-add", "bob", "--agency", "north", "--password-file", pw},
		{"admin", "grant", "pia", "north-diabetes", "DATA_OFFICER"},
		{"admin", "grant", "bob", "north-diabetes", "DATA_AGG"},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	// Twenty automatic exports released last month, as bob's submissions leave them.
	ctx := context.Background()
	db, _, err := openStore(ctx, appDBPath())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	last := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	for i := range 20 {
		if _, err := db.ExecContext(ctx, `INSERT INTO export_requests (id, project, author, mode, purpose, status, created_at, declared)
			VALUES ($1, 'north-diabetes', 'bob', 'automatic', 'outcomes', 'released', $2, FALSE)`,
			fmt.Sprintf("exp-%016d", i), store.FormatTime(last.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	out, err := steward(t, "export", "retro", "run", "--seed", "42")
	var runs []struct {
		Project  string   `json:"project"`
		Released int      `json:"released"`
		Picked   int      `json:"picked"`
		Samples  []string `json:"samples"`
		Already  bool     `json:"already_sampled"`
	}
	if err != nil || json.Unmarshal([]byte(out), &runs) != nil || len(runs) != 1 || runs[0].Released != 20 || runs[0].Picked != 2 {
		t.Fatalf("retro run: %v\n%s\nwant 2 of 20 picked", err, out)
	}
	if out, err := steward(t, "export", "retro", "run"); err != nil || !strings.Contains(out, `"already_sampled": true`) {
		t.Errorf("second run: %v\n%s\nwant the period sampled already", err, out)
	}
	if out, err := steward(t, "export", "retro", "samples", "north-diabetes", "--as", "bob"); err == nil {
		t.Errorf("the analyst lists the samples:\n%s", out)
	}
	out, err = steward(t, "export", "retro", "samples", "north-diabetes", "--as", "pia")
	if err != nil || strings.Count(out, `"request"`) != 2 {
		t.Fatalf("samples: %v\n%s", err, out)
	}
	a, b := runs[0].Samples[0], runs[0].Samples[1]
	if out, err := steward(t, "export", "retro", "outcome", "north-diabetes", a, "no_issue", "--as", "pia"); err != nil {
		t.Fatalf("outcome: %v\n%s", err, out)
	}
	if out, err := steward(t, "export", "retro", "outcome", "north-diabetes", b, "recalled", "--as", "pia", "--note", "a cell of 4 persons"); err != nil {
		t.Fatalf("recall outcome: %v\n%s", err, out)
	}
	out, err = steward(t, "export", "retro", "samples", "north-diabetes", "--as", "pia")
	if err != nil || !strings.Contains(out, `"outcome": "no_issue"`) || !strings.Contains(out, `"status": "recalled"`) {
		t.Errorf("samples after the outcomes: %v\n%s", err, out)
	}
}

// serve's schedule samples every project's ended period, audited as cli:steward; its next
// tick finds the period sampled and picks nothing more.
func TestServeScheduleSamplesRetroactively(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	for _, args := range [][]string{
		{"admin", "bootstrap", "root", "--password-file", pw},
		{"admin", "project-add", "outcomes", "Outcomes"},
		{"admin", "project-add", "quiet", "Nothing released"},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	ctx := context.Background()
	s, done, err := openAccess(ctx, appDBPath(), access.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	now := time.Now().UTC()
	last := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	for i := range 15 {
		if _, err := s.DB.ExecContext(ctx, `INSERT INTO export_requests (id, project, author, mode, purpose, status, created_at, declared)
			VALUES ($1, 'outcomes', 'root', 'automatic', 'outcomes', 'released', $2, FALSE)`,
			fmt.Sprintf("exp-%016d", i), store.FormatTime(last.Add(time.Duration(i)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	al := airlockService(s, appDBPath(), nil, "127.0.0.1:8080", "", false)
	runRetroSchedule(ctx, al)
	runRetroSchedule(ctx, al)
	var picked, runs, samples int
	if err := s.DB.QueryRowContext(ctx, `SELECT COALESCE(SUM(picked), 0), COUNT(*) FROM export_retro_runs WHERE run_by = 'cli:steward'`).Scan(&picked, &runs); err != nil {
		t.Fatal(err)
	}
	if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM export_retro_samples`).Scan(&samples); err != nil {
		t.Fatal(err)
	}
	if runs != 2 || picked != 2 || samples != 2 { // round(10 % × 15) = 2 in outcomes, 0 in quiet
		t.Errorf("after two ticks: %d runs picking %d, %d samples; want both projects' last month run once, 2 picked", runs, picked, samples)
	}
}
