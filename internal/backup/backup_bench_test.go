package backup

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/transfer"
)

// BenchmarkBackup compares, on a store of 20,000 audit entries, a verified backup (Take:
// dump, checksums, restore into a scratch database, compare) with the bare dump
// (transfer.Bundle) it starts from. go test ./internal/backup -run X -bench Backup -benchtime 3x
func BenchmarkBackup(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		db := storetest.Open(b, d)
		ctx := context.Background()
		log := store.Audit{DB: db}
		for i := range 20000 {
			if _, err := log.Append(ctx, audit.Entry{Actor: "bench", Action: "fill", Object: fmt.Sprint(i), Detail: map[string]string{"k": "v"}}); err != nil {
				b.Fatal(err)
			}
		}
		dsn := storeDSN(b, db)
		b.Run(string(d)+"/dump", func(b *testing.B) {
			for i := range b.N {
				src, _ := dumpDSN(dsn)
				if _, err := transfer.Bundle(ctx, transfer.BundleOptions{Source: src.Raw, Out: filepath.Join(b.TempDir(), fmt.Sprint(i))}); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(string(d)+"/verified", func(b *testing.B) {
			for range b.N {
				if _, err := Take(ctx, Options{DB: db, DSN: dsn, Dir: b.TempDir(), Actor: "bench"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
