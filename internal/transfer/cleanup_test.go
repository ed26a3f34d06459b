package transfer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stewardhealth/steward/internal/transfer"
)

func TestCleanupListsThenRemoves(t *testing.T) {
	state, work := t.TempDir(), t.TempDir()
	bundleDir := filepath.Join(work, "xt-bundle")
	os.MkdirAll(bundleDir, 0o700)
	os.WriteFile(filepath.Join(bundleDir, "xt.dump"), []byte("x"), 0o600)
	os.MkdirAll(filepath.Join(state, "grants"), 0o700)
	os.WriteFile(filepath.Join(state, "grants", "job1.sas"), []byte("sv=…"), 0o600)
	os.WriteFile(filepath.Join(state, "grants", "job1.json"), []byte("{}"), 0o600)
	recs := []transfer.BundleRecord{
		{Dir: bundleDir, Source: transfer.Source{Kind: "postgres", Database: `xt"deid`}},
		{Dir: filepath.Join(work, "gone"), Source: transfer.Source{Kind: "mysql", Database: "xt`deid"}},
		{Dir: filepath.Join(work, "gone2"), Source: transfer.Source{Kind: "sqlite", Database: "x.db"}, Path: "/data/o'brien.db"},
	}
	for _, r := range recs {
		if err := transfer.RecordBundle(state, r); err != nil {
			t.Fatal(err)
		}
	}
	ls, rs, err := transfer.Leftovers(state)
	if err != nil {
		t.Fatal(err)
	}
	want := []transfer.Leftover{{"bundle", bundleDir}, {"grant record", filepath.Join(state, "grants", "job1.json")}, {"token", filepath.Join(state, "grants", "job1.sas")}}
	if len(ls) != len(want) {
		t.Fatalf("got leftovers %v, want %v", ls, want)
	}
	for i := range want {
		if ls[i] != want[i] {
			t.Errorf("leftover %d: got %v, want %v", i, ls[i], want[i])
		}
	}
	drops := []string{`DROP DATABASE "xt""deid";`, "DROP DATABASE `xt``deid`;", `rm -- '/data/o'\''brien.db'`}
	for i, r := range rs {
		if got := r.DropStatement(); got != drops[i] {
			t.Errorf("drop statement %d: got %s, want %s", i, got, drops[i])
		}
	}
	if err := transfer.RemoveLeftovers(state, ls); err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if _, err := os.Stat(l.Path); !os.IsNotExist(err) {
			t.Errorf("%s still there after removal", l.Path)
		}
	}
	if ls, rs, _ := transfer.Leftovers(state); len(ls)+len(rs) != 0 {
		t.Errorf("after removal: got %v and records %v, want nothing", ls, rs)
	}
}
