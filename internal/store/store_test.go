package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

func TestMigrationsAndReopen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v, err := db.Version(ctx)
		if err != nil || v < 1 {
			t.Fatalf("schema version: got %d, %v; want ≥ 1", v, err)
		}
		// Foreign keys hold on both: an agency in a region that does not exist is refused.
		_, err = db.ExecContext(ctx, `INSERT INTO agencies (code, name, region) VALUES ('a', 'A', 'nowhere')`)
		if err == nil {
			t.Errorf("agency in a missing region: got no error, want a foreign key violation")
		}
	})
}

func TestAuditConcurrentAppendsKeepOneChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := store.Audit{DB: db}
		const writers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					_, err := log.Append(ctx, audit.Entry{Actor: fmt.Sprintf("w%d", w), Action: "test",
						Object: fmt.Sprint(i), Detail: map[string]string{"k": "v"}})
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("append: %v", err)
		}
		n, last, err := audit.Verify(ctx, log)
		if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if n != writers*each || last.Seq != writers*each {
			t.Errorf("got %d entries ending at seq %d, want %d", n, last.Seq, writers*each)
		}
	})
}

func TestAuditVerifyFindsTampering(t *testing.T) {
	tamper := []struct {
		name, sql string
		wantSeq   int64
	}{
		{"edit", `UPDATE audit_log SET actor = 'mallory' WHERE seq = 3`, 3},
		{"delete", `DELETE FROM audit_log WHERE seq = 2`, 3},
		{"detail", `UPDATE audit_log SET detail = '{"k":"w"}' WHERE seq = 4`, 4},
	}
	for _, tc := range tamper {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				log := store.Audit{DB: db}
				for i := range 5 {
					if _, err := log.Append(ctx, audit.Entry{Actor: "alice", Action: "test", Object: fmt.Sprint(i), Detail: map[string]string{"k": "v"}}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := db.ExecContext(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				_, _, err := audit.Verify(ctx, log)
				var broken *audit.BrokenError
				if !errors.As(err, &broken) || broken.Seq != tc.wantSeq {
					t.Errorf("verify after %s: got %v, want broken at seq %d", tc.name, err, tc.wantSeq)
				}
			})
		})
	}
}

func TestAuditFind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		log := store.Audit{DB: db}
		for i, a := range []string{"login", "login.failed", "login", "grant"} {
			if _, err := log.Append(ctx, audit.Entry{Actor: fmt.Sprintf("u%d", i%2), Action: a, Source: "127.0.0.1"}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := log.Find(ctx, store.Filter{Action: "login"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Seq != 3 || got[1].Seq != 1 {
			t.Errorf("find action=login: got %d entries %v, want seq 3 then 1", len(got), got)
		}
		got, _ = log.Find(ctx, store.Filter{Actor: "u1", Limit: 1})
		if len(got) != 1 || got[0].Seq != 4 {
			t.Errorf("find actor=u1 limit 1: got %v, want seq 4", got)
		}
	})
}
