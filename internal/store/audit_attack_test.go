package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// rechain rewrites every entry from seq on as a forger with write access to the store (but
// not the server key) would: recomputing each hash over the edited content and the
// previous hash. With keyID "" the entries become unkeyed; otherwise they keep the key id
// and carry a plain SHA-256, or an HMAC under the forger's own key.
func rechain(t *testing.T, ctx context.Context, db *store.DB, from int64, forger *audit.Key) {
	t.Helper()
	var all []audit.Entry
	if err := (store.Audit{DB: db}).Walk(ctx, func(e audit.Entry) error { all = append(all, e); return nil }); err != nil {
		t.Fatal(err)
	}
	for i := range all {
		if all[i].Seq < from {
			continue
		}
		var prev *audit.Entry
		if i > 0 {
			prev = &all[i-1]
		}
		all[i] = forger.Chain(prev, all[i])
		if _, err := db.ExecContext(ctx, `UPDATE audit_log SET hash = $1, prev = $2, key_id = $3 WHERE seq = $4`,
			all[i].Hash, all[i].Prev, all[i].Key, all[i].Seq); err != nil {
			t.Fatal(err)
		}
	}
}

func newKey(t *testing.T) *audit.Key {
	secret := make([]byte, 32)
	rand.Read(secret)
	k, err := audit.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The four tamperings of seed 002's audit trail, against a keyed log whose checkpoints the
// server wrote by itself (as `steward serve` does every minute): each is found by a plain
// verification with the server key and the checkpoint file, no checkpoint made by hand.
// Before: the chain was unkeyed and checkpoints were manual, so an edit with the following
// hashes recomputed and a truncated tail both verified as "chain intact".
func TestAttackAuditTamperingWithoutAManualStep(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, ctx context.Context, db *store.DB)
	}{
		{"edit, following hashes recomputed unkeyed", func(t *testing.T, ctx context.Context, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4`)
			rechain(t, ctx, db, 4, nil)
		}},
		{"edit, following hashes recomputed with another key", func(t *testing.T, ctx context.Context, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET detail = '{"status":"200"}' WHERE seq = 4`)
			rechain(t, ctx, db, 4, newKey(t))
		}},
		{"deletion, following entries renumbered and rechained", func(t *testing.T, ctx context.Context, db *store.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq = 5`)
			for seq := 6; seq <= 12; seq++ {
				exec(t, db, fmt.Sprintf(`UPDATE audit_log SET seq = %d WHERE seq = %d`, seq-1, seq))
			}
			rechain(t, ctx, db, 5, nil)
		}},
		{"reorder", func(t *testing.T, ctx context.Context, db *store.DB) {
			exec(t, db, `UPDATE audit_log SET seq = 1000 WHERE seq = 6`)
			exec(t, db, `UPDATE audit_log SET seq = 6 WHERE seq = 7`)
			exec(t, db, `UPDATE audit_log SET seq = 7 WHERE seq = 1000`)
		}},
		{"truncated tail", func(t *testing.T, ctx context.Context, db *store.DB) {
			exec(t, db, `DELETE FROM audit_log WHERE seq > 7`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				key := newKey(t)
				db.AuditKey = key
				log := store.Audit{DB: db}
				cps := audit.CheckpointFile{Path: filepath.Join(t.TempDir(), "steward.db.audit-checkpoints")}
				server := &audit.Checkpointer{Store: log, Key: key, File: cps, Signer: "steward serve"}
				for i := range 12 {
					if _, err := log.Append(ctx, audit.Entry{Actor: "eve", Action: "access.refused", Object: fmt.Sprint(i),
						Detail: map[string]string{"status": "403"}}); err != nil {
						t.Fatal(err)
					}
					if i == 3 || i == 11 { // the server's periodic checkpoints
						if _, ok, err := server.Checkpoint(ctx); err != nil || !ok {
							t.Fatalf("checkpoint after entry %d: %v, %v", i+1, ok, err)
						}
					}
				}
				verify := func() error {
					all, err := cps.Read()
					if err != nil {
						t.Fatal(err)
					}
					_, err = audit.Verifier{Key: key, Checkpoints: all}.Verify(ctx, log)
					return err
				}
				if err := verify(); err != nil {
					t.Fatalf("untouched log: %v", err)
				}
				tc.tamper(t, ctx, db)
				err := verify()
				var broken *audit.BrokenError
				var cut *audit.TruncatedError
				if !errors.As(err, &broken) && !errors.As(err, &cut) {
					t.Fatalf("verify after %s: got %v, want the tampering found", tc.name, err)
				}
				t.Logf("%s: %v", tc.name, err)
				// Nor does the server vouch for the tampered log at its next checkpoint (it reads
				// only what follows its last checkpoint, so it may also see nothing new).
				if _, ok, err := server.Checkpoint(ctx); ok {
					t.Errorf("checkpoint of the tampered log: got one written (%v), want none", err)
				}
			})
		})
	}
}

// Entries written before the store was keyed stay checked by SHA-256; an unkeyed entry
// after a keyed one is refused, and so is a log whose last entry is unkeyed once keyed.
func TestAuditKeyedAfterUnkeyedPrefix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := store.Audit{DB: db}
		for i := range 3 {
			log.Append(ctx, audit.Entry{Actor: "old", Action: "test", Object: fmt.Sprint(i)})
		}
		key := newKey(t)
		db.AuditKey = key
		for i := range 3 {
			log.Append(ctx, audit.Entry{Actor: "new", Action: "test", Object: fmt.Sprint(i)})
		}
		r, err := audit.Verifier{Key: key}.Verify(ctx, log)
		if err != nil || r.Entries != 6 || r.Unkeyed != 3 {
			t.Fatalf("3 unkeyed then 3 keyed: got %+v, %v; want 6 entries, 3 unkeyed", r, err)
		}
		if _, err := (audit.Verifier{}).Verify(ctx, log); err == nil {
			t.Errorf("keyed entries without the key: got no error, want them refused as unchecked")
		}
		db.AuditKey = nil
		log.Append(ctx, audit.Entry{Actor: "forger", Action: "test"})
		if _, err := (audit.Verifier{Key: key}).Verify(ctx, log); err == nil {
			t.Errorf("an unkeyed entry after keyed ones: got no error, want it refused")
		}
	})
}

func exec(t *testing.T, db *store.DB, q string) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
