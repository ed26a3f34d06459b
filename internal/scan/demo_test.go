package scan

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	_ "github.com/stewardhealth/steward/internal/database/mysql"
	_ "github.com/stewardhealth/steward/internal/database/postgres"
	_ "github.com/stewardhealth/steward/internal/database/sqlite"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/demo"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestDemo scans the demo hospital database: the proposed policy must fit the schema, agree
// with the hand-written demo policy on which columns are identifying, and run.
func TestDemo(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "hospital.db")
	if err := demo.Build(ctx, src, 7, demo.Size{Patients: 300, Encounters: 900}); err != nil {
		t.Fatal(err)
	}
	db, err := database.Open(ctx, "sqlite:"+src)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Scan(ctx, db, Options{})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "demo.golden.yaml")
	if *update {
		if err := os.WriteFile(golden, res.Policy, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(res.Policy, want) {
		t.Errorf("scanned demo policy differs from %s (go test -update rewrites it after a deliberate change):\n%s", golden, res.Policy)
	}
	pol, err := policy.Parse("scan.yaml", res.Policy)
	if err != nil {
		t.Fatalf("the scanned policy does not parse: %v", err)
	}
	hand, err := policy.Parse("demo.yaml", demo.Policy())
	if err != nil {
		t.Fatal(err)
	}
	for _, ht := range hand.Tables {
		for _, hc := range ht.Columns {
			d := res.Decision(ht.Name, hc.Name)
			if d == nil {
				t.Errorf("%s.%s: no decision", ht.Name, hc.Name)
				continue
			}
			if d.Identifying() != hc.Rule.Transforms() {
				t.Errorf("%s.%s: got %s (%s), want a rule that transforms = %v like the demo's %s", ht.Name, hc.Name, d.Rule, d.Comment(), hc.Rule.Transforms(), hc.Rule)
			}
		}
	}
	key, err := transform.NewKey([]byte("scan-test-key-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: "sqlite:" + src, Target: "sqlite:" + filepath.Join(dir, "deid.db")})
	if err != nil {
		t.Fatalf("deid run with the scanned policy: %v", err)
	}
	if len(rep.Tables) != len(res.Tables) {
		t.Errorf("run copied %d tables, want %d", len(rep.Tables), len(res.Tables))
	}
	if !strings.Contains(string(res.Policy), "# "+QuasiMarker) {
		t.Errorf("no column marked %q in the demo's policy", QuasiMarker)
	}
}
