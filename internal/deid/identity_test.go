package deid_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

// A run is its policy and key: once an in-place run has finished, or committed part of its
// work, the same database given another key or another policy is refused — never
// transformed again on top — while the same policy written differently (a comment, another
// layout, another order) is the same run.
func TestInPlaceRunIsItsPolicyAndKey(t *testing.T) {
	other, err := transform.NewKey([]byte("another key, of the same length"))
	if err != nil {
		t.Fatal(err)
	}
	same := []struct{ name, policy string }{
		{"a comment added", "# reviewed by the DBA on Tuesday\n" + strings.Replace(deidtest.Policy, "      mrn: hash\n", "      mrn: hash   # the record number\n", 1)},
		{"flow style and another order", strings.Replace(deidtest.Policy, "      ip: {placeholder: ip}\n      site: {pseudonym: Campus}\n", "      site:\n        pseudonym: Campus\n      ip: {placeholder: \"ip\"}\n", 1)},
		{"a default that changes nothing", strings.Replace(deidtest.Policy, "default: error", "default: keep", 1)},
	}
	differ := []struct{ name, policy, want string }{
		{"a rule changed", strings.Replace(deidtest.Policy, "      ward: keep\n", "      ward: hash\n", 1), "encounter.ward"},
		{"an option changed", strings.Replace(deidtest.Policy, "days: 365", "days: 30", 1), "patient.birth_date"},
	}
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			ctx := context.Background()
			src := deidtest.Fill(t, s, 300)
			if _, err := deid.Run(ctx, deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, InPlace: true}); err != nil {
				t.Fatal(err)
			}
			done := dumpFixture(t, src)
			for _, c := range same {
				pol, err := policy.Parse("reviewed.yaml", []byte(c.policy))
				if err != nil {
					t.Fatal(err)
				}
				rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: deidtest.Key, Source: src, InPlace: true})
				if err != nil {
					t.Errorf("%s: got %v, want the run recognised as done", c.name, err)
					continue
				}
				for _, tr := range rep.Tables {
					if !tr.Skipped {
						t.Errorf("%s: table %s transformed again", c.name, tr.Name)
					}
				}
			}
			refused := func(name string, pol *policy.Policy, key transform.Key, want ...string) {
				t.Helper()
				_, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: src, InPlace: true})
				if err == nil {
					t.Errorf("%s: the finished copy was de-identified again on top, want a refusal", name)
				} else {
					for _, w := range want {
						if !strings.Contains(err.Error(), w) {
							t.Errorf("%s: got %q, want it to say %q", name, err, w)
						}
					}
				}
			}
			refused("another key", deidtest.LoadPolicy(t), other, "key", deidtest.Key.Fingerprint(), other.Fingerprint(), "finished")
			for _, c := range differ {
				pol, err := policy.Parse("changed.yaml", []byte(c.policy))
				if err != nil {
					t.Fatal(err)
				}
				refused(c.name, pol, deidtest.Key, c.want, "finished")
			}
			if got := dumpFixture(t, src); !reflect.DeepEqual(got, done) {
				t.Error("the refused runs changed the copy")
			}
		})
	}
}

// An in-place run that committed some groups and was killed is in progress: only the same
// policy and key may finish it.
func TestInProgressRunRefusesAnotherKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a process to kill")
	}
	const n = 300
	polFile := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(polFile, []byte(deidtest.ResumePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := policy.Load(polFile)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := transform.NewKey([]byte(killKey))
	other, _ := transform.NewKey([]byte("another key, of the same length"))
	changed, err := policy.Parse("changed.yaml", []byte(strings.Replace(deidtest.ResumePolicy, "      ward: keep\n", "      ward: hash\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range deidtest.Servers[1:] { // a SQLite run is never in progress: it renames a finished copy into place
		t.Run(string(s.Kind), func(t *testing.T) {
			// Where the first group commits.
			scratch := deidtest.FillResume(t, s, n)
			var mu sync.Mutex
			at, count := 0, 0
			database.SetCheckpointHook(func(p string) {
				mu.Lock()
				defer mu.Unlock()
				count++
				if at == 0 && strings.HasSuffix(p, ": committed") {
					at = count
				}
			})
			_, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: scratch, InPlace: true})
			database.SetCheckpointHook(nil)
			if err != nil || at == 0 {
				t.Fatalf("no group committed: %v", err)
			}
			want := dumpAll(t, scratch)

			src := deidtest.FillResume(t, s, n)
			killedRun(t, src, polFile, killKey, at)
			killed := dumpAll(t, src)
			for _, c := range []struct {
				name string
				pol  *policy.Policy
				key  transform.Key
				want string
			}{
				{"another key", pol, other, "key"},
				{"a rule changed", changed, key, "encounter.ward"},
			} {
				_, err := deid.Run(ctx, deid.Options{Policy: c.pol, Key: c.key, Source: src, InPlace: true})
				if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "in progress") {
					t.Errorf("%s: got %v, want a refusal saying the run in progress differs in its %s", c.name, err, c.want)
				}
				if got := dumpAll(t, src); !reflect.DeepEqual(got, killed) {
					t.Errorf("%s: the refused run changed the copy", c.name)
				}
			}
			if _, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: src, InPlace: true}); err != nil {
				t.Fatal(err)
			}
			if d := differing(dumpAll(t, src), want); d != 0 {
				t.Errorf("finished with its own key and policy: %d cells differ from an uninterrupted run", d)
			}
		})
	}
}

func dumpFixture(t *testing.T, dsn string) map[string][][]string {
	t.Helper()
	db := dbtest.SQL(t, dsn)
	defer db.Close()
	return map[string][][]string{"patient": deidtest.Dump(t, db, "patient"), "encounter": deidtest.Dump(t, db, "encounter")}
}

// A ledger an earlier version of Steward wrote (run, table_name, done_at: no key, no policy)
// cannot say whether this run is the one that began: refused, and nothing changed.
func TestOldLedgerIsRefused(t *testing.T) {
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			src := deidtest.Fill(t, s, 20)
			db := dbtest.SQL(t, src)
			if _, err := db.Exec("CREATE TABLE steward_progress (run VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL, done_at TIMESTAMP NOT NULL, PRIMARY KEY (run, table_name))"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec("INSERT INTO steward_progress VALUES ('0123456789abcdef01234567', 'patient', '2026-11-30 10:00:00')"); err != nil {
				t.Fatal(err)
			}
			db.Close()
			before := dumpFixture(t, src)
			_, err := deid.Run(context.Background(), deid.Options{Policy: deidtest.LoadPolicy(t), Key: deidtest.Key, Source: src, InPlace: true})
			if err == nil || !strings.Contains(err.Error(), "earlier version of Steward") {
				t.Errorf("got %v, want a refusal naming the earlier version's ledger", err)
			}
			if got := dumpFixture(t, src); !reflect.DeepEqual(got, before) {
				t.Error("the refused run changed the database")
			}
		})
	}
}
