package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stewardhealth/steward/internal/database/dbtest"
)

const killPolicy = `version: 1
default: error
tables:
  a:
    columns:
      id: keep
      mrn: hash
      name: hash
  b:
    columns:
      id: keep
      mrn: hash
      name: hash
`

func fillKillFixture(t *testing.T, ctx context.Context, dsn string, rows int) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	for _, tbl := range []string{"a", "b"} {
		if _, err := conn.Exec(ctx, `CREATE TABLE `+tbl+` (id int PRIMARY KEY, mrn varchar(12) NOT NULL UNIQUE, name varchar(40))`); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO `+tbl+` SELECT g, 'MRN' || lpad(g::text, 8, '0'), 'Name ' || g FROM generate_series(1, $1::int) g`, rows); err != nil {
			t.Fatal(err)
		}
	}
	return conn
}

func checksum(t *testing.T, ctx context.Context, conn *pgx.Conn, table string) string {
	t.Helper()
	var sum string
	if err := conn.QueryRow(ctx, "SELECT md5(string_agg(id || ':' || mrn || ':' || coalesce(name, ''), ',' ORDER BY id)) FROM "+table).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestInPlaceSurvivesKill9 kills an in-place run while it rewrites its second table group,
// then runs the same command again: the first group must not be transformed twice, the second
// must be untouched until the rerun, and the result must equal an uninterrupted copy.
func TestInPlaceSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ctx := context.Background()
	const rows = 300000
	src := dbtest.Postgres(t)
	conn := fillKillFixture(t, ctx, src, rows)
	twin := dbtest.Postgres(t)
	fillKillFixture(t, ctx, twin, rows)
	original := checksum(t, ctx, conn, "b")

	dir := t.TempDir()
	bin := filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	pol := filepath.Join(dir, "policy.yaml")
	os.WriteFile(pol, []byte(killPolicy), 0o644)
	env := append(os.Environ(), "STEWARD_KEY=a-test-key-that-is-long-enough")
	run := func(args ...string) *exec.Cmd {
		c := exec.Command(bin, args...)
		c.Env = env
		return c
	}

	// The reference: an uninterrupted copy of the twin.
	ref := dbtest.PostgresName(t)
	if out, err := run("deid", "run", "--policy", pol, "--source", twin, "--target", ref).CombinedOutput(); err != nil {
		t.Fatalf("reference copy: %v\n%s", err, out)
	}
	refConn, err := pgx.Connect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	defer refConn.Close(ctx)

	cmd := run("deid", "run", "--policy", pol, "--source", src, "--in-place", "--yes")
	var output strings.Builder
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until group "a" is committed and group "b" is being staged, then kill -9.
	watch, err := pgx.Connect(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close(ctx)
	deadline := time.Now().Add(60 * time.Second)
	killed := false
	for time.Now().Before(deadline) {
		var done, staging int
		watch.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'steward_progress'").Scan(&done)
		if done > 0 {
			watch.QueryRow(ctx, "SELECT count(*) FROM steward_progress").Scan(&done)
		}
		watch.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'COPY%steward_stage%'").Scan(&staging)
		if done == 1 && staging > 0 {
			cmd.Process.Kill() // SIGKILL
			killed = true
			break
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Wait()
	if !killed {
		t.Fatalf("never caught the run between its two groups; output:\n%s", output.String())
	}
	time.Sleep(200 * time.Millisecond) // let the server notice the dead connection and roll back

	if got := checksum(t, ctx, conn, "b"); got != original {
		t.Fatal("table b changed although its transaction never committed")
	}
	if got, want := checksum(t, ctx, conn, "a"), checksum(t, ctx, refConn, "a"); got != want {
		t.Fatal("table a, committed before the kill, is not the de-identified table")
	}

	out, err := run("deid", "run", "--policy", pol, "--source", src, "--in-place", "--yes").CombinedOutput()
	if err != nil {
		t.Fatalf("rerun: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "already done by an earlier run") {
		t.Errorf("rerun did not report table a as already done:\n%s", out)
	}
	for _, tbl := range []string{"a", "b"} {
		if got, want := checksum(t, ctx, conn, tbl), checksum(t, ctx, refConn, tbl); got != want {
			t.Errorf("table %s after the rerun differs from an uninterrupted run", tbl)
		}
	}
}
