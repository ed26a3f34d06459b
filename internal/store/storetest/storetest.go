// Package storetest gives tests a fresh application database on each dialect: an SQLite file
// in the test's temporary directory always, and a new PostgreSQL database when
// STEWARD_TEST_POSTGRES names a server (see dbtest).
package storetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/store"
)

// Open returns a migrated, empty store of the dialect, closed when the test ends.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	dsn := filepath.Join(t.TempDir(), "steward.db")
	if d == store.Postgres {
		dsn = dbtest.Postgres(t)
	}
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each runs fn as a subtest on a fresh SQLite store and on a fresh PostgreSQL store.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, Open(t, d)) })
	}
}
