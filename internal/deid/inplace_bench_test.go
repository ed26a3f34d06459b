package deid_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
)

// BenchmarkInPlace runs, in each iteration, copy mode and then in-place mode on the same
// database (the residue fixture, 100,000 patients and visits), and reports in-place against
// copy mode and the share of in-place spent clearing what the rewrite left in the database's
// files:
//
//	go test ./internal/deid -run X -bench InPlace -benchtime 3x
func BenchmarkInPlace(b *testing.B) {
	const n = 100_000
	pol, err := policy.Parse("residue.yaml", []byte(residuePolicy))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	servers := []struct {
		kind         database.Kind
		source, copy func(testing.TB) string
	}{
		{database.Postgres, dbtest.Postgres, dbtest.PostgresName},
		{database.MySQL, dbtest.MySQL, dbtest.MySQLName},
	}
	for _, s := range servers {
		b.Run(string(s.kind), func(b *testing.B) {
			var inPlace, copyMode, clearing float64
			for range b.N {
				b.StopTimer()
				src := s.source(b)
				db := dbtest.SQL(b, src)
				for _, q := range residueSQL(residueTag(), n) {
					if _, err := db.Exec(q); err != nil {
						b.Fatal(err)
					}
				}
				db.Close()
				b.StartTimer()
				rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: deidtest.Key, Source: src, Target: s.copy(b)})
				if err != nil {
					b.Fatal(err)
				}
				copyMode += rep.Elapsed.Seconds()
				rep, err = deid.Run(ctx, deid.Options{Policy: pol, Key: deidtest.Key, Source: src, InPlace: true})
				if err != nil {
					b.Fatal(err)
				}
				inPlace += rep.Elapsed.Seconds()
				clearing += rep.Clearing.Seconds()
			}
			b.ReportMetric(inPlace/copyMode, "in-place/copy")
			b.ReportMetric(clearing/inPlace, "clearing/in-place")
			fmt.Printf("%s, %d rows a table: copy %.2f s, in-place %.2f s (%.2f× copy), of which clearing %.2f s (%.0f %%)\n",
				s.kind, n, copyMode/float64(b.N), inPlace/float64(b.N), inPlace/copyMode, clearing/float64(b.N), 100*clearing/inPlace)
		})
	}
}
