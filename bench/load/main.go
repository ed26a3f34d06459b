// Command load holds many concurrent researchers against a Steward server with a warehouse,
// on loopback, and prints per operation the throughput and latency percentiles beside those
// of one client asking the same back to back in the same run.
//
// It starts the server itself, in this process, on 127.0.0.1 (never another host), over a
// fresh SQLite store in a temporary folder and, when -pg names a PostgreSQL server, then over
// a fresh database there, with a synthetic warehouse loaded (-patients, about 100 facts each)
// and rate limits off unless -rate is given (every client comes from 127.0.0.1). It creates
// one DATA_AGG user per client in a project of the whole site; each client signs in to the
// pages once (a session cookie), then loops: sign in to the API (POST /api/v1/signin, an
// argon2id check and a new token), then -calls times a cohort count (POST
// /api/v1/projects/load/queries, one of a fixed set of definitions, exact counts) and a home
// page (GET /, the session's). Every answer is checked: a count must equal the one-client
// baseline's for the same definition.
//
// For each store: first the one-client baseline (-baseline long), then each of -clients
// (default 50, 200, 500) for -duration. The report gives each operation's requests a second,
// p50/p95/p99, the throughput and p99 as ratios of the baseline's, the peak RSS of the level
// (VmHWM, reset between levels), the process's CPU, and errors by operation and kind (HTTP
// status, timeout or transport error; latencies are those of the answers given). The
// exit status is 1 if any answer was wrong or any error other than 429 (rate limited)
// happened.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
	"github.com/stewardhealth/steward/internal/web"
)

const pw = "load test password"

// Operations.
const (
	opSignIn = "sign-in"
	opCohort = "cohort count"
	opPage   = "home page"
)

var ops = []string{opSignIn, opCohort, opPage}

func main() {
	levels := flag.String("clients", "50,200,500", "concurrent clients of each level, comma-separated (each at most 1000)")
	duration := flag.Duration("duration", 60*time.Second, "how long to hold each level (at most 10m)")
	baseline := flag.Duration("baseline", 0, "how long the one-client baseline runs (default: -duration)")
	calls := flag.Int("calls", 10, "cohort counts (each with a home page) per sign-in")
	patients := flag.Int64("patients", 11_600, "synthetic patients in the warehouse (about 100 facts each; the demo's 1.16 M facts by default)")
	pg := flag.String("pg", "", "a PostgreSQL server's DSN (postgres://…/postgres): run on a fresh database there too, after SQLite")
	rate := flag.Float64("rate", 0, "the server's rate limit (requests/s per address and user; 0: off)")
	flag.Parse()
	var ns []int
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1000 {
			log.Fatal("load: -clients: numbers 1..1000, comma-separated")
		}
		ns = append(ns, n)
	}
	if *duration <= 0 || *duration > 10*time.Minute || *calls < 1 || *patients < 10 {
		log.Fatal("load: -duration up to 10m, -calls ≥ 1, -patients ≥ 10")
	}
	if *baseline <= 0 {
		*baseline = *duration
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	stores := []string{""}
	if *pg != "" {
		stores = append(stores, *pg)
	}
	bad := false
	for _, admin := range stores {
		if !runStore(admin, ns, *duration, *baseline, *calls, *patients, *rate) {
			bad = true
		}
	}
	if bad {
		os.Exit(1)
	}
}

// runStore runs the baseline and every level on one fresh store; false when any answer was
// wrong or failed other than by the rate limit.
func runStore(pgAdmin string, levels []int, duration, baseline time.Duration, calls int, patients int64, rate float64) bool {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "steward-load-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "steward.db")
	if pgAdmin != "" {
		var drop func()
		dsn, drop = freshPostgres(ctx, pgAdmin)
		defer drop()
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	keys, err := seal.NewKeys(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		log.Fatal(err)
	}
	t0 := time.Now()
	rows, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: synthetic.DemoSeed, Patients: patients, Ontology: true}.Inputs(), load.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\n== store %s: %d warehouse rows (%d patients) loaded in %s\n", db.Dialect, rows, patients, time.Since(t0).Round(time.Millisecond))
	svc := access.New(db, access.Config{}, nil)
	root := access.CLI("load")
	if err := svc.CreateProject(ctx, root, access.Project{Code: "load", Name: "Load"}); err != nil {
		log.Fatal(err)
	}
	users := max(slices.Max(levels), 1)
	t0 = time.Now()
	for i := range users {
		name := fmt.Sprintf("user%03d", i)
		if err := svc.CreateUser(ctx, root, access.User{Name: name}, pw); err != nil {
			log.Fatal(err)
		}
		if err := svc.Grant(ctx, root, name, "load", access.DataAgg); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("%d users created in %s\n", users, time.Since(t0).Round(time.Millisecond))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: web.New(svc, web.Options{Warehouse: warehouse.New(db, svc, keys), RateLimit: rate}).Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	b := &bench{base: "http://" + ln.Addr().String(), calls: calls, queries: queries()}
	b.tr = &http.Transport{MaxIdleConns: 2 * users, MaxIdleConnsPerHost: 2 * users}
	defer b.tr.CloseIdleConnections()

	fmt.Printf("baseline: 1 client for %s\n", baseline)
	one := b.run(1, baseline, true)
	ok := one.errs.total(false) == 0 && len(one.wrong) == 0
	fmt.Printf("%-8s %-13s %9s %9s %9s %9s %9s %8s %8s\n", "clients", "operation", "req/s", "p50", "p95", "p99", "×req/s", "×p99", "")
	one.report(1, one)
	for _, n := range levels {
		r := b.run(n, duration, false)
		r.report(n, one)
		if r.errs.total(false) > 0 || len(r.wrong) > 0 {
			ok = false
		}
	}
	return ok
}

// bench is a server under test and what its clients ask.
type bench struct {
	base    string
	calls   int
	queries [][]byte
	tr      *http.Transport
	want    sync.Map // query index → count (the baseline's)
}

// result is one level's measurements.
type result struct {
	mu      sync.Mutex
	lat     map[string][]time.Duration
	errs    errorKinds
	wrong   []string
	elapsed time.Duration
	rss     int64 // peak RSS, KiB
	cpu     time.Duration
}

type errorKinds struct {
	mu sync.Mutex
	n  map[string]int
}

func (e *errorKinds) add(kind string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.n == nil {
		e.n = map[string]int{}
	}
	e.n[kind]++
}

// total counts the errors, rate limits only when asked.
func (e *errorKinds) total(rateLimited bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := 0
	for k, n := range e.n {
		if rateLimited || !strings.Contains(k, ": 429 ") {
			t += n
		}
	}
	return t
}

func (e *errorKinds) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.n) == 0 {
		return "none"
	}
	var s []string
	for k, n := range e.n {
		s = append(s, fmt.Sprintf("%d × %s", n, k))
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// run holds n clients looping until d has passed. The baseline records the counts the others
// must give.
func (b *bench) run(n int, d time.Duration, baseline bool) *result {
	resetPeakRSS()
	cpu0 := cpuTime()
	r := &result{lat: map[string][]time.Duration{}}
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	for i := range n {
		wg.Go(func() {
			mine := map[string][]time.Duration{}
			c := &client{b: b, r: r, name: fmt.Sprintf("user%03d", i), lat: mine, baseline: baseline}
			jar, _ := cookiejar.New(nil)
			c.http = &http.Client{Transport: b.tr, Timeout: 2 * time.Minute, Jar: jar,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			if c.pageSignIn() {
				for time.Now().Before(stop) {
					c.cycle(&next)
				}
			}
			r.mu.Lock()
			for op, l := range mine {
				r.lat[op] = append(r.lat[op], l...)
			}
			r.mu.Unlock()
		})
	}
	wg.Wait()
	r.elapsed = time.Since(start)
	r.rss, r.cpu = peakRSS(), cpuTime()-cpu0
	return r
}

type client struct {
	b        *bench
	r        *result
	http     *http.Client
	name     string
	lat      map[string][]time.Duration
	baseline bool
}

// time records one operation's latency, or its error's kind.
func (c *client) time(op string, fn func() error) bool {
	t := time.Now()
	err := fn()
	if err == nil { // the latencies of answers given; refusals and failures are counted apart
		c.lat[op] = append(c.lat[op], time.Since(t))
	} else {
		c.r.errs.add(op + ": " + err.Error())
	}
	return err == nil
}

// pageSignIn signs in to the pages (not timed: once per client).
func (c *client) pageSignIn() bool {
	form := url.Values{"user": {c.name}, "password": {pw}}
	resp, err := c.http.PostForm(c.b.base+"/signin", form)
	if err != nil {
		c.r.errs.add("page sign-in: transport")
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		c.r.errs.add(fmt.Sprintf("page sign-in: %d /signin", resp.StatusCode))
		return false
	}
	return true
}

// cycle signs in to the API, then asks calls cohort counts, each with a home page.
func (c *client) cycle(next *atomic.Int64) {
	var token string
	ok := c.time(opSignIn, func() error {
		body, err := c.do("POST", "/api/v1/signin", "", []byte(fmt.Sprintf(`{"user":%q,"password":%q}`, c.name, pw)))
		if err != nil {
			return err
		}
		var t struct{ Token string }
		if json.Unmarshal(body, &t) != nil || t.Token == "" {
			return fmt.Errorf("sign-in: no token")
		}
		token = t.Token
		return nil
	})
	if !ok {
		time.Sleep(100 * time.Millisecond)
		return
	}
	for range c.b.calls {
		i := int(next.Add(1)) % len(c.b.queries)
		c.time(opCohort, func() error {
			body, err := c.do("POST", "/api/v1/projects/load/queries", token, c.b.queries[i])
			if err != nil {
				return err
			}
			var a struct{ Count int64 }
			if err := json.Unmarshal(body, &a); err != nil {
				return fmt.Errorf("cohort: not an answer")
			}
			if c.baseline {
				c.b.want.LoadOrStore(i, a.Count)
			} else if w, ok := c.b.want.Load(i); ok && w.(int64) != a.Count {
				c.r.mu.Lock()
				c.r.wrong = append(c.r.wrong, fmt.Sprintf("definition %d: %d, baseline %d", i, a.Count, w.(int64)))
				c.r.mu.Unlock()
			}
			return nil
		})
		c.time(opPage, func() error {
			body, err := c.do("GET", "/", "", nil)
			if err == nil && !bytes.Contains(body, []byte("Load")) {
				err = fmt.Errorf("home page: without the project")
			}
			return err
		})
	}
}

// do sends one request; an error names its kind (status, or transport).
func (c *client) do(method, path, token string, body []byte) ([]byte, error) {
	req, _ := http.NewRequest(method, c.b.base+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if e, ok := err.(net.Error); ok && e.Timeout() {
			return nil, fmt.Errorf("timeout")
		}
		return nil, fmt.Errorf("transport")
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return b, fmt.Errorf("%d %s", resp.StatusCode, strings.SplitN(path, "?", 2)[0])
	}
	return b, err
}

// queries are the cohort definitions the clients ask in turn: plain concept panels (from the
// bitmaps), folders, AND and NOT of panels, demographics, dates and lab values.
func queries() [][]byte {
	item := func(k string) querydef.Item { return querydef.Item{Key: k} }
	panel := func(its ...querydef.Item) querydef.Panel { return querydef.Panel{Items: its} }
	qs := []querydef.Query{
		{Panels: []querydef.Panel{panel(item(`\i2b2\Diagnoses\ICD10\E\E11\`))}},
		{Panels: []querydef.Panel{panel(item(`\i2b2\Diagnoses\ICD10\E\`)), panel(item(`\i2b2\Demographics\Sex\F\`))}},
		{Panels: []querydef.Panel{panel(item(synthetic.DiagnosisPath(3)), item(synthetic.DiagnosisPath(77)))}},
		{Panels: []querydef.Panel{panel(item(`\i2b2\Diagnoses\ICD10\C\`)), {Invert: true, Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\E\`)}}}},
		{Panels: []querydef.Panel{{DateFrom: &querydef.Bound{At: "2016-01-01 00:00:00"}, DateTo: &querydef.Bound{At: "2016-06-30 12:00:00"},
			Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\E\`)}}}},
		{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: synthetic.LabPath(0), Value: &querydef.Value{Op: "GT", Number: 150}}}}}},
		{Panels: []querydef.Panel{panel(item(`\i2b2\Diagnoses\ICD10\I\`)), panel(item(`\i2b2\Demographics\Sex\M\`)), panel(item(synthetic.LabPath(1)))}},
		{Panels: []querydef.Panel{panel(item(synthetic.DiagnosisPath(10)), item(synthetic.DiagnosisPath(11)), item(synthetic.DiagnosisPath(12)))}},
	}
	out := make([][]byte, len(qs))
	for i, q := range qs {
		b, err := json.Marshal(q)
		if err != nil {
			log.Fatal(err)
		}
		out[i] = b
	}
	return out
}

func percentile(l []time.Duration, p int) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

// report prints a level's figures, with throughput and p99 as ratios of the baseline's.
func (r *result) report(n int, base *result) {
	for _, op := range ops {
		l, bl := r.lat[op], base.lat[op]
		rate, brate := float64(len(l))/r.elapsed.Seconds(), float64(len(bl))/base.elapsed.Seconds()
		p99, bp99 := percentile(l, 99), percentile(bl, 99)
		fmt.Printf("%-8d %-13s %9.1f %9s %9s %9s %8.2f× %7.1f×\n", n, op, rate, round(percentile(l, 50)), round(percentile(l, 95)), round(p99),
			rate/max(brate, 1e-9), float64(p99)/float64(max(bp99, 1)))
	}
	fmt.Printf("%-8d peak RSS %d MiB; CPU %.2f cores busy; errors: %s", n, r.rss/1024, r.cpu.Seconds()/r.elapsed.Seconds(), r.errs.String())
	if len(r.wrong) > 0 {
		fmt.Printf("; WRONG COUNTS: %d (first: %s)", len(r.wrong), r.wrong[0])
	}
	fmt.Println()
}

func round(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// cpuTime is the CPU time this process (server and clients) has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS starts a new peak (Linux: clear_refs 5 resets VmHWM); elsewhere a no-op.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS is VmHWM in KiB, or 0 where /proc has none.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// freshPostgres creates a database for this run beside the one admin names and returns its
// DSN and a function that drops it.
func freshPostgres(ctx context.Context, admin string) (string, func()) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		log.Fatal(err)
	}
	name := fmt.Sprintf("steward_load_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		log.Fatal(err)
	}
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String(), func() {
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			log.Printf("drop %s: %v", name, err)
		}
		conn.Close(ctx)
	}
}
