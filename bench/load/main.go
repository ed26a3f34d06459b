// Command load holds many concurrent clients against a Steward server on loopback for a
// while and prints latency percentiles.
//
// It starts the server itself, in this process, on 127.0.0.1 (never another host), over a
// fresh SQLite store in a temporary folder (or a fresh database on the PostgreSQL server
// -pg names), with rate limits off (every client comes from 127.0.0.1). It creates one user
// per client; each client then loops: sign in (POST /api/v1/signin, an argon2id check and a
// new token), then -calls authenticated GET /api/v1/me. Any non-2xx answer or transport
// error counts as an error; the exit status is 1 if there was any.
//
// Baseline, measured in the same run: GET /api/v1/openapi.json (no authentication, no
// database) from the same clients for a tenth of the time first. The report prints each
// operation's p50/p95/p99 and its p50 as a ratio of the baseline's.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/web"
)

func main() {
	clients := flag.Int("clients", 200, "concurrent clients (at most 1000)")
	duration := flag.Duration("duration", 60*time.Second, "how long to hold them (at most 10m)")
	calls := flag.Int("calls", 10, "authenticated calls per sign-in")
	pg := flag.String("pg", "", "a PostgreSQL server's DSN (postgres://…/postgres) to test on a fresh database there instead of SQLite")
	flag.Parse()
	if *clients < 1 || *clients > 1000 || *duration <= 0 || *duration > 10*time.Minute || *calls < 1 {
		log.Fatal("load: -clients 1..1000, -duration up to 10m, -calls ≥ 1")
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "steward-load-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	dsn := filepath.Join(dir, "steward.db")
	if *pg != "" {
		var drop func()
		dsn, drop = freshPostgres(ctx, *pg)
		defer drop()
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	svc := access.New(db, access.Config{}, nil)
	root := access.CLI("load")
	const pw = "load test password"
	fmt.Printf("creating %d users on %s…\n", *clients, db.Dialect)
	for i := range *clients {
		if err := svc.CreateUser(ctx, root, access.User{Name: fmt.Sprintf("user%03d", i)}, pw); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: web.New(svc, web.Options{}).Handler()}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	tr := &http.Transport{MaxIdleConns: *clients * 2, MaxIdleConnsPerHost: *clients * 2, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}

	fmt.Printf("baseline: %d clients, %s of GET /api/v1/openapi.json\n", *clients, *duration/10)
	baseline := run(*clients, *duration/10, func(i int, rec recorder) {
		rec("baseline", func() error { _, err := do(client, "GET", base+"/api/v1/openapi.json", "", ""); return err })
	})
	fmt.Printf("load: %d clients, %s of sign-in + %d × GET /api/v1/me\n", *clients, *duration, *calls)
	res := run(*clients, *duration, func(i int, rec recorder) {
		var token string
		rec("sign-in", func() error {
			body, err := do(client, "POST", base+"/api/v1/signin", "", fmt.Sprintf(`{"user":"user%03d","password":%q}`, i, pw))
			if err != nil {
				return err
			}
			var t struct{ Token string }
			if err := json.Unmarshal(body, &t); err != nil || t.Token == "" {
				return fmt.Errorf("sign-in answer without a token")
			}
			token = t.Token
			return nil
		})
		for range *calls {
			if token == "" {
				return
			}
			rec("GET /api/v1/me", func() error { _, err := do(client, "GET", base+"/api/v1/me", token, ""); return err })
		}
	})
	b50 := percentile(baseline.lat["baseline"], 50)
	report("baseline", baseline, b50)
	report("sign-in", res, b50)
	report("GET /api/v1/me", res, b50)
	total := res.errors.Load() + baseline.errors.Load()
	fmt.Printf("errors: %d\n", total)
	if total > 0 {
		fmt.Println("first error:", res.firstErr, baseline.firstErr)
		defer os.Exit(1) // after the deferred clean-up
	}
}

type recorder func(op string, fn func() error)

type result struct {
	mu       sync.Mutex
	lat      map[string][]time.Duration
	errors   atomic.Int64
	firstErr string
	elapsed  time.Duration
}

// run holds n clients looping body until d has passed.
func run(n int, d time.Duration, body func(i int, rec recorder)) *result {
	r := &result{lat: map[string][]time.Duration{}}
	stop := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var mine = map[string][]time.Duration{}
			rec := func(op string, fn func() error) {
				t := time.Now()
				err := fn()
				mine[op] = append(mine[op], time.Since(t))
				if err != nil && r.errors.Add(1) == 1 {
					r.mu.Lock()
					r.firstErr = op + ": " + err.Error()
					r.mu.Unlock()
				}
			}
			for time.Now().Before(stop) {
				body(i, rec)
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
	return r
}

func do(c *http.Client, method, url, token, body string) ([]byte, error) {
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return b, fmt.Errorf("%s %s: %s", method, url, resp.Status)
	}
	return b, err
}

func percentile(l []time.Duration, p int) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}

func report(op string, r *result, base time.Duration) {
	l := r.lat[op]
	p50 := percentile(l, 50)
	fmt.Printf("%-16s %7d requests %7.0f/s  p50 %8s  p95 %8s  p99 %8s  p50/baseline %6.1f×\n", op, len(l),
		float64(len(l))/r.elapsed.Seconds(), p50.Round(10*time.Microsecond), percentile(l, 95).Round(10*time.Microsecond),
		percentile(l, 99).Round(10*time.Microsecond), float64(p50)/float64(max(base, 1)))
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
