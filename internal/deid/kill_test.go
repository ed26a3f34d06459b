package deid_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// The kill helper: the test binary, run again with these variables set, runs one in-place
// run and kills itself with SIGKILL at the Nth checkpoint it reaches (database.Checkpoint).
const (
	killAtEnv     = "STEWARD_TEST_KILL_AT"
	killSourceEnv = "STEWARD_TEST_KILL_SOURCE"
	killPolicyEnv = "STEWARD_TEST_KILL_POLICY"
	killKeyEnv    = "STEWARD_TEST_KILL_KEY"
)

func TestMain(m *testing.M) {
	if os.Getenv(killAtEnv) != "" {
		os.Exit(killHelper())
	}
	os.Exit(m.Run())
}

// notKilled is the helper's exit status when the run ended before its Nth checkpoint.
const notKilled = 3

func killHelper() int {
	at, err := strconv.Atoi(os.Getenv(killAtEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	pol, err := policy.Load(os.Getenv(killPolicyEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	key, err := transform.NewKey([]byte(os.Getenv(killKeyEnv)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var n atomic.Int64
	database.SetCheckpointHook(func(point string) {
		if n.Add(1) == int64(at) {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	if _, err := deid.Run(context.Background(), deid.Options{Policy: pol, Key: key, Source: os.Getenv(killSourceEnv), InPlace: true}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return notKilled
}

// killedRun runs the in-place run of source by policy file pol and key in a process of its
// own, killed with SIGKILL at its at-th checkpoint.
func killedRun(t *testing.T, source, pol, key string, at int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killAtEnv+"="+strconv.Itoa(at), killSourceEnv+"="+source, killPolicyEnv+"="+pol, killKeyEnv+"="+key)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("the run to kill at checkpoint %d: got %v, want it killed\n%s", at, err, out)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the run to kill at checkpoint %d ended with %v, not by SIGKILL\n%s", at, err, out)
	}
}

// dumpAll reads every table of the resume fixture.
func dumpAll(t *testing.T, dsn string) map[string][][]string {
	t.Helper()
	db := dbtest.SQL(t, dsn)
	defer db.Close()
	out := map[string][][]string{}
	for _, table := range deidtest.ResumeTables {
		out[table] = deidtest.Dump(t, db, table)
	}
	return out
}

// leaks counts the cells that hold one of ids.
func leaks(dump map[string][][]string, ids []string) int {
	n := 0
	for _, rows := range dump {
		for _, row := range rows {
			for _, v := range row {
				for _, id := range ids {
					if strings.Contains(v, id) {
						n++
						break
					}
				}
			}
		}
	}
	return n
}

// differing counts the cells of got that differ from want.
func differing(got, want map[string][][]string) int {
	n := 0
	for table, rows := range want {
		g := got[table]
		if len(g) != len(rows) {
			n += len(rows)
			continue
		}
		for i, row := range rows {
			for j := range row {
				if j >= len(g[i]) || g[i][j] != row[j] {
					n++
				}
			}
		}
	}
	return n
}

const killKey = "0123456789abcdef-kill-test-key"

// largeTests reports whether the tests run in full (STEWARD_TEST_LARGE=1), beyond what CI's
// time budget allows by default.
func largeTests() bool { return os.Getenv("STEWARD_TEST_LARGE") == "1" }

// killPoints picks the checkpoints to kill at: every one with STEWARD_TEST_LARGE=1; by
// default the commits just before and of the group that both scrubs and feeds the dictionary
// (where the leak was), the first batch staged inside it, its swap, the first step of
// clearing the residue, and on SQLite a table half-copied and the copy before and after its
// rename — real kills, fewer of them.
func killPoints(points []string) []int {
	var out []int
	inside, residue := false, false
	for i, p := range points {
		switch {
		case largeTests():
		case p == "group transport_request: committed", p == "group encounter: committed":
		case p == "group encounter: begin":
			inside = true
			continue
		case inside && strings.HasSuffix(p, " rows written"):
			inside = false
		case p == "group encounter: swapped", p == "group encounter: patient swapped":
		case strings.HasPrefix(p, "residue:") && !residue:
			residue = true
		case p == "patient: 256 rows written" && !strings.HasPrefix(points[0], "group "): // SQLite
		case p == "copy synced", p == "copy renamed":
		default:
			continue
		}
		out = append(out, i)
	}
	return out
}

// TestKillAtEveryCheckpoint kills an in-place run (kill -9, in a process of its own) at
// every checkpoint it passes (STEWARD_TEST_LARGE=1; by default at those killPoints picks) —
// between groups, after each batch of rows staged, after a group's swap, before and after its
// commit, while it clears the residue — on a fixture where the tables whose notes name
// patients and servers commit apart from the patients' and servers' tables; then it runs the
// same command again, which must give exactly the copy that copy mode writes with the same
// key, and no original identifier anywhere. Right after each kill, every table must be either
// as it was or as that copy has it: nothing half-done.
func TestKillAtEveryCheckpoint(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process per checkpoint")
	}
	const n = 300
	ids := deidtest.ResumeIdentifiers(n)
	polFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(polFile, []byte(deidtest.ResumePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(polFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := transform.NewKey([]byte(killKey))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			ref := deidtest.FillResume(t, s, n)
			original := dumpAll(t, ref)
			if leaks(original, ids) == 0 {
				t.Fatal("the fixture holds none of its identifiers")
			}
			refCopy := s.Target(t)
			if _, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: ref, Target: refCopy}); err != nil {
				t.Fatal(err)
			}
			want := dumpAll(t, refCopy)
			if got := leaks(want, ids); got != 0 {
				t.Fatalf("copy mode left %d values naming an original identifier", got)
			}

			// An uninterrupted in-place run, recording the checkpoints it passes.
			scratch := deidtest.FillResume(t, s, n)
			var mu sync.Mutex
			var points []string
			database.SetCheckpointHook(func(p string) {
				mu.Lock()
				points = append(points, p)
				mu.Unlock()
			})
			_, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: scratch, InPlace: true})
			database.SetCheckpointHook(nil)
			if err != nil {
				t.Fatal(err)
			}
			if d := differing(dumpAll(t, scratch), want); d != 0 {
				t.Fatalf("an uninterrupted in-place run differs from copy mode in %d cells", d)
			}
			t.Logf("%d checkpoints: %s", len(points), strings.Join(points, " | "))

			failures := 0
			at := killPoints(points)
			for _, i := range at {
				point := points[i]
				src := deidtest.FillResume(t, s, n)
				killedRun(t, src, polFile, killKey, i+1)
				after := dumpAll(t, src)
				for _, table := range deidtest.ResumeTables {
					if !reflect.DeepEqual(after[table], original[table]) && !reflect.DeepEqual(after[table], want[table]) {
						t.Errorf("killed at %q: table %s is neither as it was nor de-identified", point, table)
					}
				}
				_, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: src, InPlace: true})
				if err != nil {
					t.Errorf("killed at %q: the same command again: %v", point, err)
					failures++
					continue
				}
				got := dumpAll(t, src)
				if l, d := leaks(got, ids), differing(got, want); l != 0 || d != 0 {
					t.Errorf("killed at %q, then run again: %d values still name an original identifier, %d cells differ from copy mode", point, l, d)
					failures++
				}
			}
			t.Logf("killed at %d of %d checkpoints (all with STEWARD_TEST_LARGE=1), %d runs again went wrong", len(at), len(points), failures)
		})
	}
}
