package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
)

// The command line reads and changes a project's export settings; only the flags given
// change; every change is audited as done by cli:<OS user>; bad values are refused.
func TestExportSettingsCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	for _, args := range [][]string{
		{"admin", "bootstrap", "root", "--password-file", pw},
		{"admin", "project-add", "outcomes", "Outcomes"},
	} {
		if out, err := steward(t, args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	out, err := steward(t, "export", "settings", "outcomes")
	if err != nil || !strings.Contains(out, `"reviewers": 1`) || !strings.Contains(out, `"link_days": 7`) {
		t.Fatalf("default settings: %v\n%s", err, out)
	}
	out, err = steward(t, "export", "settings", "outcomes", "--reviewers", "2", "--link-days", "3", "--min-persons", "10", "--bunker")
	if err != nil || !strings.Contains(out, `"reviewers": 2`) || !strings.Contains(out, `"min_persons": 10`) || !strings.Contains(out, `"bunker": true`) {
		t.Fatalf("change: %v\n%s", err, out)
	}
	out, err = steward(t, "export", "settings", "outcomes", "--link-days", "5")
	if err != nil || !strings.Contains(out, `"reviewers": 2`) || !strings.Contains(out, `"link_days": 5`) || !strings.Contains(out, `"min_persons": 10`) {
		t.Fatalf("a second change keeps the first: %v\n%s", err, out)
	}
	if out, err := steward(t, "export", "settings", "outcomes", "--reviewers", "3"); err == nil || !strings.Contains(err.Error(), "reviewers must be 1 or 2") {
		t.Errorf("three reviewers: got %v\n%s", err, out)
	}
	if out, err := steward(t, "export", "settings", "nowhere", "--reviewers", "2"); err == nil {
		t.Errorf("an unknown project: got no error\n%s", out)
	}
	s, done, err := openAccess(context.Background(), appDBPath(), access.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	es, err := s.AuditLog(context.Background(), cliPrincipal(), store.Filter{Action: "export.settings"})
	if err != nil || len(es) != 2 || es[0].Actor != cliPrincipal().User || es[0].Detail["link_days"] != "5" || es[1].Detail["reviewers"] != "2" {
		t.Errorf("audit: got %+v, %v; want two changes by the command line with their values", es, err)
	}
}
