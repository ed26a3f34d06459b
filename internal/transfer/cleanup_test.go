package transfer_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/transfer"
)

func TestCleanupListsThenRemoves(t *testing.T) {
	state, work := t.TempDir(), t.TempDir()
	bundleDir := filepath.Join(work, "xt-bundle")
	os.MkdirAll(bundleDir, 0o700)
	os.WriteFile(filepath.Join(bundleDir, "xt.dump"), []byte("x"), 0o600)
	os.MkdirAll(filepath.Join(state, "grants"), 0o700)
	os.WriteFile(filepath.Join(state, "grants", "job1.sas"), []byte("sv=…"), 0o600)
	os.WriteFile(filepath.Join(state, "grants", "job1.json"), []byte(`{"id":"job1","kind":"azure","created":"2026-11-01T10:00:00Z","expiry":"2026-11-01T13:00:00Z","revoked":"2026-11-01T12:00:00Z"}`), 0o600)
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
	want := []transfer.Leftover{{What: "bundle", Path: bundleDir}, {What: "grant record", Path: filepath.Join(state, "grants", "job1.json")}, {What: "token", Path: filepath.Join(state, "grants", "job1.sas")}}
	if len(ls) != len(want) {
		t.Fatalf("got leftovers %v, want %v", ls, want)
	}
	for i := range want {
		if ls[i].What != want[i].What || ls[i].Path != want[i].Path {
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

// A record is what revokes its token: RemoveLeftovers refuses, removing nothing, while a grant
// may still be used — live, or an Azure grant past its expiry whose policy could be extended —
// and lets an expired S3 grant go (its expiry is inside every signed URL).
func TestCleanupKeepsGrantsThatMayStillBeUsed(t *testing.T) {
	now := time.Now().UTC()
	for _, c := range []struct {
		rec    transfer.Record
		state  transfer.State
		remove bool
	}{
		{transfer.Record{ID: "live", Kind: transfer.KindAzure, Created: now, Expiry: now.Add(time.Hour)}, transfer.Live, false},
		{transfer.Record{ID: "old", Created: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour)}, transfer.Expired, false},
		{transfer.Record{ID: "olds3", Kind: transfer.KindS3, Created: now.Add(-2 * time.Hour), Expiry: now.Add(-time.Hour)}, transfer.Expired, true},
		{transfer.Record{ID: "livs3", Kind: transfer.KindS3, Created: now, Expiry: now.Add(time.Hour)}, transfer.Live, false},
		{transfer.Record{ID: "rev", Created: now, Expiry: now.Add(time.Hour), Revoked: now}, transfer.Revoked, true},
		{transfer.Record{ID: "conf", Created: now, Expiry: now.Add(time.Hour), Revoked: now, Confirmed: now}, transfer.Confirmed, true},
	} {
		state := t.TempDir()
		l := transfer.Ledger{Dir: filepath.Join(state, transfer.GrantsDir)}
		rec := c.rec
		if err := l.Save(&rec); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(l.TokenPath(rec.ID), []byte("https://x/y?sig=z"), 0o600)
		if got := rec.State(time.Now()); got != c.state {
			t.Errorf("%s: state %s, want %s", rec.ID, got, c.state)
		}
		ls, _, err := transfer.Leftovers(state)
		if err != nil {
			t.Fatal(err)
		}
		err = transfer.RemoveLeftovers(state, ls)
		_, statErr := os.Stat(l.TokenPath(rec.ID))
		var live *transfer.LiveError
		switch {
		case c.remove && (err != nil || statErr == nil):
			t.Errorf("%s (%s): got %v, token file there: %v; want both removed", rec.ID, c.state, err, statErr == nil)
		case !c.remove && (!errors.As(err, &live) || statErr != nil || !strings.Contains(err.Error(), rec.ID)):
			t.Errorf("%s (%s): got %v, token file there: %v; want a refusal naming it, nothing removed", rec.ID, c.state, err, statErr == nil)
		}
		if !c.remove {
			if err := l.Forget(rec.ID); !errors.As(err, &live) || !l.Taken(rec.ID) {
				t.Errorf("%s: Forget: got %v, want a refusal and the record kept", rec.ID, err)
			}
		}
	}
}
