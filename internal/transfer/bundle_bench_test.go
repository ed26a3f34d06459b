package transfer_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/transfer"
)

// BenchmarkBundlePostgres bundles a PostgreSQL table of patient-like rows (STEWARD_BENCH_ROWS,
// default 1,000,000) and reports, against pg_dump -Fc writing the same file in the same run:
// the plain bundle's and the age-encrypted bundle's speed as ratios, and the dump's MB/s.
func BenchmarkBundlePostgres(b *testing.B) {
	src := dbtest.Postgres(b)
	db := dbtest.SQL(b, src)
	rows := os.Getenv("STEWARD_BENCH_ROWS")
	if rows == "" {
		rows = "1000000"
	}
	if _, err := db.Exec(`CREATE TABLE patient AS SELECT g AS id, 'MRN' || lpad(g::text, 9, '0') AS mrn,
		md5(g::text) AS name, md5((g * 7)::text) AS note, date '1950-01-01' + (g % 20000) AS birth_date
		FROM generate_series(1, ` + rows + `) g`); err != nil {
		b.Fatal(err)
	}
	id, _ := age.GenerateX25519Identity()
	var base, plain, enc time.Duration
	var size int64
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		args, env := restoreEnv(b, src)
		start := time.Now()
		cmd := exec.Command("pg_dump", append(args, "--format=custom", "--file="+filepath.Join(dir, "base.dump"))...)
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pg_dump: %v\n%s", err, out)
		}
		base += time.Since(start)
		for _, rs := range [][]age.Recipient{nil, {id.Recipient()}} {
			start = time.Now()
			m, err := transfer.Bundle(context.Background(), transfer.BundleOptions{Source: src, Out: filepath.Join(dir, "b"+string(rune('0'+len(rs)))), Recipients: rs})
			if err != nil {
				b.Fatal(err)
			}
			if rs == nil {
				plain += time.Since(start)
				size = m.Files[0].Size
			} else {
				enc += time.Since(start)
			}
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "dump-MiB")
	b.ReportMetric(float64(size)*float64(b.N)/(1<<20)/base.Seconds(), "pg_dump-MiB/s")
	b.ReportMetric(base.Seconds()/plain.Seconds(), "plain/pg_dump-speed")
	b.ReportMetric(base.Seconds()/enc.Seconds(), "age/pg_dump-speed")
}
