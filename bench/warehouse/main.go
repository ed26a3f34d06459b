// Command warehouse measures cohort count queries through Steward's API against the
// equivalent hand-written SQL on the same store in the same run.
//
//	go run ./bench/warehouse [-facts 1000000] [-db DSN] [-runs 60]
//
// It loads the synthetic warehouse (about 100 facts per patient) into a fresh SQLite store in
// a temporary folder (or the PostgreSQL database -db names, which must be empty), serves the
// API on loopback, and for each shape — 1, 3 and 5 panels (each an ICD-10 category folder,
// items varying from run to run), the same with a start-date range of a year on every panel,
// and a temporal query (the first fact of one category before the first of another) — times
// POST /api/v1/projects/bench/queries by a DATA_AGG user (sign-in token, JSON, the query
// stored and audited) beside the same count written by hand in SQL (SELECT COUNT(*) of the
// INTERSECT of each panel's patients; for the temporal query, a join of two GROUP BY MIN).
// Every run checks that both counts agree. It prints p50 and p95 of both and their ratios
// (above 1×: the API is faster).
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
	"github.com/stewardhealth/steward/internal/web"
)

func main() {
	facts := flag.Int64("facts", 1_000_000, "facts to load (about 100 per patient)")
	dsn := flag.String("db", "", "store DSN (default: a fresh SQLite file in a temporary folder)")
	runs := flag.Int("runs", 60, "queries timed per panel count")
	flag.Parse()
	if err := run(*dsn, *facts, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench/warehouse:", err)
		os.Exit(1)
	}
}

func run(dsn string, facts int64, runs int) error {
	ctx := context.Background()
	if dsn == "" {
		dir, err := os.MkdirTemp("", "steward-bench-warehouse-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dsn = filepath.Join(dir, "steward.db")
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := seal.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: synthetic.DemoSeed, Patients: facts / 100, Ontology: true}.Inputs(), load.Options{})
	if err != nil {
		return err
	}
	fmt.Printf("store %s; loaded %d rows (%d patients) in %s\n", db.Dialect, n, facts/100, time.Since(start).Round(time.Millisecond))

	svc := access.New(db, access.Config{}, nil)
	cli := access.CLI("bench")
	const pw = "bench password 1234"
	for _, err := range []error{
		svc.Bootstrap(ctx, cli, access.User{Name: "root"}, pw),
		svc.CreateProject(ctx, cli, access.Project{Code: "bench", Name: "Bench"}),
		svc.CreateUser(ctx, cli, access.User{Name: "analyst"}, pw),
		svc.Grant(ctx, cli, "analyst", "bench", access.DataAgg),
	} {
		if err != nil {
			return err
		}
	}
	srv := httptest.NewServer(web.New(svc, web.Options{Warehouse: warehouse.New(db, svc, keys)}).Handler())
	defer srv.Close()
	token, err := signIn(srv.URL, pw)
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "shape\tAPI p50\tAPI p95\tSQL p50\tSQL p95\tp50 SQL/API\tp95 SQL/API\tcohort (last)\t")
	for _, sh := range shapes() {
		var api, hand []time.Duration
		var last int64
		for i := range runs + 1 { // the first run of each shape warms caches and is not counted
			q, want := sh.make(i)
			t0 := time.Now()
			got, err := apiCount(srv.URL, token, q)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", sh.name, i, err)
			}
			t1 := time.Now()
			n, err := want(ctx, db)
			if err != nil {
				return fmt.Errorf("%s run %d: hand-written SQL: %w", sh.name, i, err)
			}
			t2 := time.Now()
			if got != n {
				return fmt.Errorf("%s run %d: API counted %d, SQL %d", sh.name, i, got, n)
			}
			if i > 0 {
				api, hand = append(api, t1.Sub(t0)), append(hand, t2.Sub(t1))
			} else if sh.first != "" {
				fmt.Printf("%s: %s\n", sh.first, t1.Sub(t0).Round(time.Millisecond))
			}
			last = got
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.1f×\t%.1f×\t%d\t\n", sh.name, pct(api, 50), pct(api, 95), pct(hand, 50), pct(hand, 95),
			float64(pct(hand, 50))/float64(pct(api, 50)), float64(pct(hand, 95))/float64(pct(api, 95)), last)
	}
	return tw.Flush()
}

// shape is one kind of query: its definition for run i and the hand-written SQL that counts
// the same cohort.
type shape struct {
	name  string
	first string // what the first run reads, printed with its time
	make  func(i int) (querydef.Query, func(context.Context, *store.DB) (int64, error))
}

// shapes are 1, 3 and 5 panels of ICD-10 category folders, without and with a start-date
// range on every panel (a year, moving with the run), and a temporal query: the first fact of
// one category before the first of another.
func shapes() []shape {
	var out []shape
	for _, dated := range []bool{false, true} {
		for _, panels := range []int{1, 3, 5} {
			name := fmt.Sprintf("%d panels", panels)
			first := ""
			if !dated && panels == 1 {
				first = "first query after the load (reads every concept's patients into bitmaps)"
			}
			if dated {
				name += ", dates"
				if panels == 1 {
					first = "first dated query after the load (reads every fact's start date)"
				}
			}
			out = append(out, shape{name: name, first: first, make: func(i int) (querydef.Query, func(context.Context, *store.DB) (int64, error)) {
				paths := categories(panels, i)
				var from, to *querydef.Bound
				if dated {
					day := time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 9*i)
					from, to = &querydef.Bound{At: day.Format(time.DateTime)}, &querydef.Bound{At: day.AddDate(1, 0, 0).Format(time.DateTime)}
				}
				var q querydef.Query
				for _, p := range paths {
					q.Panels = append(q.Panels, querydef.Panel{DateFrom: from, DateTo: to, Items: []querydef.Item{{Key: p}}})
				}
				return q, func(ctx context.Context, db *store.DB) (int64, error) { return sqlCount(ctx, db, paths, from, to) }
			}})
		}
	}
	out = append(out, shape{name: "temporal", first: "first temporal query", make: func(i int) (querydef.Query, func(context.Context, *store.DB) (int64, error)) {
		paths := categories(2, i)
		event := func(id, path string) querydef.Event {
			return querydef.Event{ID: id, Timing: querydef.SameInstNo, Panels: []querydef.Panel{{Timing: querydef.SameInstNo, Items: []querydef.Item{{Key: path}}}}}
		}
		q := querydef.Query{Events: []querydef.Event{event("A", paths[0]), event("B", paths[1])}, Constraints: []querydef.Constraint{{
			First: querydef.Side{Event: "A", Column: "STARTDATE", Aggregate: "FIRST"}, Op: "LESS",
			Second: querydef.Side{Event: "B", Column: "STARTDATE", Aggregate: "FIRST"}}}}
		return q, func(ctx context.Context, db *store.DB) (int64, error) {
			return sqlTemporal(ctx, db, paths[0], paths[1])
		}
	}})
	return out
}

// categories picks the ICD-10 category folders of one query: spread over chapters, the
// commonest first (the generator's draw is skewed towards low codes), varying with i.
func categories(panels, i int) []string {
	var out []string
	for p := range panels {
		code := (i*7 + p*53) % 200
		d := synthetic.DiagnosisPath(code)
		out = append(out, d[:strings.LastIndex(strings.TrimSuffix(d, `\`), `\`)+1])
	}
	return out
}

func signIn(url, pw string) (string, error) {
	resp, err := http.Post(url+"/api/v1/signin", "application/json", strings.NewReader(`{"user":"analyst","password":"`+pw+`"}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Token == "" {
		return "", fmt.Errorf("sign in: status %d", resp.StatusCode)
	}
	return r.Token, nil
}

func apiCount(url, token string, q querydef.Query) (int64, error) {
	body, _ := json.Marshal(q)
	req, _ := http.NewRequest("POST", url+"/api/v1/projects/bench/queries", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var a warehouse.Answer
	if resp.StatusCode != 201 || json.NewDecoder(resp.Body).Decode(&a) != nil {
		return 0, fmt.Errorf("query: status %d", resp.StatusCode)
	}
	return a.Count, nil
}

// codesUnder is the hand-written subquery of the concept codes under a path.
func codesUnder(args *[]any, path string) string {
	*args = append(*args, len(path), path)
	return fmt.Sprintf(`(SELECT concept_cd FROM concept_dimension WHERE substr(concept_path, 1, $%d) = $%d)`, len(*args)-1, len(*args))
}

// sqlCount is the hand-written query: the patients with a fact under each path (in the start
// date range, when given), intersected.
func sqlCount(ctx context.Context, db *store.DB, paths []string, from, to *querydef.Bound) (int64, error) {
	var parts []string
	var args []any
	for _, p := range paths {
		part := `SELECT DISTINCT patient_num FROM observation_fact WHERE concept_cd IN ` + codesUnder(&args, p)
		if from != nil {
			args = append(args, from.At, to.At)
			part += fmt.Sprintf(` AND start_date >= $%d AND start_date <= $%d`, len(args)-1, len(args))
		}
		parts = append(parts, part)
	}
	var n int64
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+strings.Join(parts, " INTERSECT ")+") c", args...).Scan(&n)
	return n, err
}

// sqlTemporal is the hand-written temporal query: patients whose first fact under a is
// before their first fact under b.
func sqlTemporal(ctx context.Context, db *store.DB, a, b string) (int64, error) {
	var args []any
	first := func(path string) string {
		return `SELECT patient_num, MIN(start_date) AS at FROM observation_fact WHERE concept_cd IN ` + codesUnder(&args, path) + ` GROUP BY patient_num`
	}
	x, y := first(a), first(b)
	var n int64
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (`+x+`) x JOIN (`+y+`) y ON x.patient_num = y.patient_num WHERE x.at < y.at`, args...).Scan(&n)
	return n, err
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)].Round(10 * time.Microsecond)
}
