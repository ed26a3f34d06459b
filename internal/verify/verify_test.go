package verify_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/database/dbtest"
	_ "github.com/stewardhealth/steward/internal/database/mysql"
	_ "github.com/stewardhealth/steward/internal/database/postgres"
	_ "github.com/stewardhealth/steward/internal/database/sqlite"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/deid/deidtest"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/progress"
	"github.com/stewardhealth/steward/internal/verify"
)

const n = 300

// deidentify fills a source with the fixture and makes its de-identified copy.
func deidentify(t *testing.T, s deidtest.Server, pol *policy.Policy) (src, dst string) {
	t.Helper()
	src = deidtest.Fill(t, s, n)
	dst = s.Target(t)
	if _, err := deid.Run(context.Background(), deid.Options{Policy: pol, Key: deidtest.Key, Source: src, Target: dst}); err != nil {
		t.Fatalf("deid run: %v", err)
	}
	return src, dst
}

// originals are the fixture's identifying values: none may appear in a report.
func originals() []string {
	var out []string
	for _, r := range deidtest.Rows(n) {
		out = append(out, r.MRN, r.Name, r.Host, r.IP)
	}
	return out
}

func failedChecks(r *verify.Report) []string {
	var out []string
	for _, c := range r.Failed() {
		out = append(out, string(c))
	}
	return out
}

func TestPassesOnCorrectCopy(t *testing.T) {
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			pol := deidtest.LoadPolicy(t)
			src, dst := deidentify(t, s, pol)
			prog := &countingProgress{rows: map[string]int64{}, done: map[string]bool{}}
			rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst, Progress: prog})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Failed()) > 0 {
				t.Fatalf("a correct copy failed %v: %+v", failedChecks(rep), rep.Findings)
			}
			// Progress: every table's rows, in the original then in the copy, each table ended.
			for _, tr := range rep.Tables {
				for _, side := range []string{" (original)", " (copy)"} {
					if got := prog.rows[tr.Name+side]; got != n || !prog.done[tr.Name+side] {
						t.Errorf("progress of %s%s: %d rows, done %v; want %d, done", tr.Name, side, got, prog.done[tr.Name+side], n)
					}
				}
			}
			// zip3 still leaves patients alone in their group: for review, not passed.
			if got := rep.Summary[len(rep.Summary)-1].Status; got != verify.StatusReview || rep.Passed {
				t.Errorf("check 6: got %q (report passed: %v), want %q: the fixture's zip3 groups are smaller than 5", got, rep.Passed, verify.StatusReview)
			}
			for _, tr := range rep.Tables {
				if tr.SourceRows != n || tr.TargetRows != n {
					t.Errorf("%s: got %d and %d rows, want %d in both", tr.Name, tr.SourceRows, tr.TargetRows, n)
				}
			}
			risk := rep.Tables[slices.IndexFunc(rep.Tables, func(t *verify.Table) bool { return t.Name == "patient" })].Risk
			if risk == nil || risk.Original.Records != n || risk.Deidentified.Records != n {
				t.Fatalf("patient risk: got %+v, want %d records before and after", risk, n)
			}
			// zip3 merges ZIP codes: the copy's groups are fewer and no smaller.
			if risk.Deidentified.Groups >= risk.Original.Groups || risk.Deidentified.Below5 > risk.Original.Below5 {
				t.Errorf("generalising zip bought nothing: before %+v, after %+v", risk.Original, risk.Deidentified)
			}
		})
	}
}

// plant describes a way to spoil a correct copy and what verify must say about it.
type plant struct {
	name   string
	sql    func(k database.Kind, original map[string]string) []string
	policy func(string) string // changes the policy before the copy is made, when set
	check  verify.Check
	table  string
	column string
}

var plants = []plant{
	{name: "identifier in a kept column", check: verify.Survivors, table: "encounter", column: "ward",
		sql: func(_ database.Kind, o map[string]string) []string {
			return []string{"UPDATE encounter SET ward = '" + o["mrn"] + "' WHERE id = 2"}
		}},
	{name: "identifier inside free text", check: verify.Survivors, table: "patient", column: "note",
		sql: func(_ database.Kind, o map[string]string) []string {
			return []string{"UPDATE patient SET note = 'Seen today with " + o["name"] + ", stable.' WHERE id = 3"}
		}},
	{name: "e-mail address in free text", check: verify.Patterns, table: "patient", column: "note",
		sql: func(database.Kind, map[string]string) []string {
			return []string{"UPDATE patient SET note = 'Reply to j.smith@stmarys.org about discharge' WHERE id = 4"}
		}},
	{name: "dropped row", check: verify.Structure, table: "encounter",
		sql: func(database.Kind, map[string]string) []string {
			return []string{"DELETE FROM encounter WHERE id = 5"}
		}},
	{name: "orphaned foreign key", check: verify.Joins, table: "encounter", column: "mrn",
		sql: func(k database.Kind, _ map[string]string) []string {
			update := "UPDATE encounter SET mrn = 'a1b2c3d4e5f6' WHERE id = 6"
			switch k {
			case database.Postgres:
				return []string{"ALTER TABLE encounter DISABLE TRIGGER ALL", update, "ALTER TABLE encounter ENABLE TRIGGER ALL"}
			case database.MySQL:
				return []string{"SET FOREIGN_KEY_CHECKS = 0", update, "SET FOREIGN_KEY_CHECKS = 1"}
			}
			return []string{update}
		}},
	{name: "truncated hash", check: verify.Joins, table: "patient", column: "name",
		sql: func(database.Kind, map[string]string) []string {
			return []string{"UPDATE patient SET name = substr(name, 1, 8) WHERE id = 7"}
		}},
	{name: "unclassified column", check: verify.Coverage, table: "encounter", column: "ward",
		policy: func(p string) string {
			return strings.Replace(strings.Replace(p, "default: error", "default: keep", 1), "      ward: keep\n", "", 1)
		}},
}

// Each way of spoiling a copy is caught, with verify's lookups kept in files (every one,
// however small: they are kept on the heap in TestPassesOnCorrectCopy).
func TestCatchesEachFailure(t *testing.T) {
	workDir := t.TempDir()
	work, err := filemem.New(workDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := work.Err(); err != nil {
			t.Error(err)
		}
		if left, _ := os.ReadDir(workDir); len(left) > 0 {
			t.Errorf("verify left %d files in its work directory", len(left))
		}
	}()
	row := deidtest.Rows(n)[0]
	original := map[string]string{"mrn": row.MRN, "name": row.Name}
	for _, s := range deidtest.Servers {
		t.Run(string(s.Kind), func(t *testing.T) {
			for _, p := range plants {
				t.Run(p.name, func(t *testing.T) {
					text := deidtest.Policy
					if p.policy != nil {
						text = p.policy(text)
					}
					pol, err := policy.Parse("fixture.yaml", []byte(text))
					if err != nil {
						t.Fatal(err)
					}
					src, dst := deidentify(t, s, pol)
					if p.sql != nil {
						conn, err := dbtest.SQL(t, dst).Conn(context.Background())
						if err != nil {
							t.Fatal(err)
						}
						for _, q := range p.sql(s.Kind, original) {
							if _, err := conn.ExecContext(context.Background(), q); err != nil {
								t.Fatalf("%s: %v", q, err)
							}
						}
						conn.Close()
					}
					rep, err := verify.Run(context.Background(), verify.Options{Policy: pol, Source: src, Target: dst, Work: work})
					if err != nil {
						t.Fatal(err)
					}
					if got := failedChecks(rep); !slices.Equal(got, []string{string(p.check)}) {
						t.Fatalf("failed checks: got %v, want only %s; findings %+v", got, p.check, rep.Findings)
					}
					i := slices.IndexFunc(rep.Findings, func(f verify.Finding) bool {
						return f.Table == p.table && (p.column == "" || f.Column == p.column)
					})
					if i < 0 {
						t.Fatalf("no finding names %s.%s: %+v", p.table, p.column, rep.Findings)
					}
					if f := rep.Findings[i]; f.Count != 1 {
						t.Errorf("finding %q: got count %d, want 1", f.What, f.Count)
					}
					for _, format := range []string{"html", "json", "md"} {
						var b bytes.Buffer
						if err := verify.Render(&b, format, rep); err != nil {
							t.Fatal(err)
						}
						for _, o := range append(originals(), "j.smith@stmarys.org") {
							if strings.Contains(b.String(), o) {
								t.Fatalf("the %s report shows a value", format)
							}
						}
					}
				})
			}
		})
	}
}

func TestBadInputIsNotAFailedCheck(t *testing.T) {
	pol := deidtest.LoadPolicy(t)
	src, dst := deidentify(t, deidtest.Servers[0], pol)
	unrelated := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", unrelated)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE invoice (id INTEGER PRIMARY KEY, total REAL)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	wrongPolicy, err := policy.Parse("wrong.yaml", []byte(deidtest.Policy+"  visit:\n    columns:\n      id: keep\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		pol      *policy.Policy
		src, dst string
		want     string
	}{
		{"missing copy", pol, src, "sqlite:" + filepath.Join(t.TempDir(), "nowhere.db"), "open the copy"},
		{"unreachable server", pol, src, "postgres://nobody@127.0.0.1:1/none", "open the copy postgres://nobody@127.0.0.1:1/none"},
		{"not a copy", pol, src, "sqlite:" + unrelated, "not a de-identification of the original: it has 0 of the original's 2 tables"},
		{"policy does not fit", wrongPolicy, src, dst, "table visit does not exist"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := verify.Run(context.Background(), verify.Options{Policy: c.pol, Source: c.src, Target: c.dst})
			var in *verify.InputError
			if !errors.As(err, &in) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an InputError containing %q", err, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "nowhere.db")); err == nil {
		t.Error("verify created the missing copy")
	}
}

func ExampleFormatOf() {
	for _, name := range []string{"report.html", "report.JSON", "ticket.md", "report.pdf"} {
		f, err := verify.FormatOf(name)
		fmt.Println(f, err)
	}
	// Output:
	// html <nil>
	// json <nil>
	// md <nil>
	//  report report.pdf: unknown extension ".pdf": use .html, .json or .md
}

// countingProgress records what a run told it, per table.
type countingProgress struct {
	mu   sync.Mutex
	rows map[string]int64
	done map[string]bool
}

func (c *countingProgress) Table(name string, _ int64) progress.TableProgress {
	return &countingTable{c, name}
}

type countingTable struct {
	c    *countingProgress
	name string
}

func (t *countingTable) Add(n int64) { t.c.mu.Lock(); t.c.rows[t.name] += n; t.c.mu.Unlock() }
func (t *countingTable) Done(error)  { t.c.mu.Lock(); t.c.done[t.name] = true; t.c.mu.Unlock() }
