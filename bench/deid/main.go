// Command deid measures Steward's copy mode on PostgreSQL against the physical limit of the
// same copy without Steward: for each size it loads a synthetic patient table, streams it
// once through a bare COPY TO → COPY FROM pipe (the baseline) and once through deid.Run, and
// prints both throughputs, their ratio and the memory the Steward run used.
//
//	go run ./bench/deid [-sizes 250000,1000000] [-dsn postgres://postgres@127.0.0.1:5432/postgres]
//
// See README.md. Every database it creates is named steward_bench_<hex>… and dropped at the
// end, on failure and on Ctrl-C.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/stewardhealth/steward/internal/database/postgres"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
	"github.com/stewardhealth/steward/internal/verify"
)

// pipeBuffer is the write buffer in front of the baseline's pipe: the size the postgres
// adapter puts in front of its own, so that both paths hand COPY FROM the same chunks.
const pipeBuffer = 256 << 10

type config struct {
	dsn        string // a database to connect to for CREATE/DROP DATABASE
	sizes      []int
	cpuprofile string // profile of the Steward runs, one file per size
	memprofile string // heap profile at the end of each Steward stream, one file per size
	noScrub    bool   // keep the note instead of scrubbing it: no dictionary (a diagnostic variant)
}

func main() {
	var cfg config
	rows := flag.Int("rows", 1_000_000, "rows in the patient table (when -sizes is not given)")
	sizes := flag.String("sizes", "", "comma-separated row counts to measure, e.g. 250000,1000000 (overrides -rows)")
	flag.StringVar(&cfg.dsn, "dsn", "postgres://postgres@127.0.0.1:5432/postgres", "PostgreSQL DSN of a database from which to create and drop the benchmark's databases")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of each Steward run to this file, and of each verify to the same name with -verify (the row count is added to the name when there are several sizes)")
	flag.StringVar(&cfg.memprofile, "memprofile", "", "write a heap profile taken as each Steward run finishes streaming (while its dictionary is live)")
	flag.BoolVar(&cfg.noScrub, "noscrub", false, "diagnostic variant: keep the note instead of scrubbing it, so no scrub dictionary is built")
	flag.Parse()
	if *sizes == "" {
		cfg.sizes = []int{*rows}
	} else {
		for _, f := range strings.Split(*sizes, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				fmt.Fprintf(os.Stderr, "bench: -sizes: %q is not a positive row count\n", f)
				os.Exit(2)
			}
			cfg.sizes = append(cfg.sizes, n)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once (and may leave databases behind)
	}()
	_, err := run(ctx, cfg, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// result is one size's measurements.
type result struct {
	rows int
	name string // the prefix of every database this size created

	load time.Duration // generating and loading the source (not compared)

	pipe      time.Duration // (a) the faster of the two pipes below
	pipeText  time.Duration // COPY TO | COPY FROM, text format
	pipeBin   time.Duration // the same in binary format
	pipeCPU   float64       // machine CPU seconds during the faster pipe (PostgreSQL's, nearly all)
	pipeFin   time.Duration // PRIMARY KEY on the baseline's copy (for reference)
	pipeHeap  uint64        // peak HeapInuse+StackInuse during (a)
	steward   time.Duration // (b) deid.Run end to end
	prep      time.Duration // (b) from the start to the first row: schema, dictionary pass, CREATE DATABASE/TABLE
	stream    time.Duration // (b) streaming the table through the rules into COPY FROM
	finish    time.Duration // (b) after the stream: end of the COPY, primary key, ANALYZE
	heap      uint64        // peak HeapInuse+StackInuse during (b)
	anon      uint64        // peak RssAnon during (b): the process's own memory, heap included
	fileRSS   uint64        // peak RssFile during (b): mapped files (filemem), which the kernel may evict
	maxRSS    int64         // process peak RSS after (b), bytes (monotonic over the process)
	selfCPU   float64       // CPU seconds of this process during (b)
	otherCPU  float64       // CPU seconds of the rest of the machine during (b): PostgreSQL, mostly
	hashCPU   float64       // CPU seconds of the policy's keyed hashes alone (7 a row), measured apart
	dict      int
	collided  map[string]int64
	copyRows  int64
	leaked    int64  // notes of the copy that still hold an MRN-like token (untimed check)
	allocated uint64 // bytes allocated during (b)

	verify       time.Duration // (c) deid verify of the copy against the source
	verifyHeap   uint64        // peak HeapInuse+StackInuse during (c)
	verifyCPU    float64       // CPU seconds of this process during (c)
	verifyOther  float64       // CPU seconds of the rest of the machine during (c)
	verifyPassed bool
}

func rate(rows int, d time.Duration) float64 { return float64(rows) / d.Seconds() }

// run measures every size and prints the results to out, progress to log.
func run(ctx context.Context, cfg config, out, log io.Writer) ([]*result, error) {
	admin, err := url.Parse(cfg.dsn)
	if err != nil || (admin.Scheme != "postgres" && admin.Scheme != "postgresql") {
		return nil, fmt.Errorf("-dsn must be a postgres:// URL")
	}
	reg := &registry{admin: cfg.dsn}
	defer reg.dropAll(log)

	conn, err := pgx.Connect(ctx, cfg.dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	var version, sharedBuffers string
	err = conn.QueryRow(ctx, "SELECT version(), current_setting('shared_buffers')").Scan(&version, &sharedBuffers)
	conn.Close(context.Background())
	if err != nil {
		return nil, err
	}
	if i := strings.Index(version, " on "); i > 0 {
		version = version[:i]
	}
	fmt.Fprintf(out, "Steward copy-mode benchmark — %s, shared_buffers %s; %s, GOMAXPROCS %d, %d CPUs\n",
		version, sharedBuffers, runtime.Version(), runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(out, "table patient: 12 columns (6 hashed, 1 shift_date, 1 scrub, 4 keep); PostgreSQL on the same machine\n")
	if cfg.cpuprofile != "" || cfg.memprofile != "" {
		fmt.Fprintf(out, "profiling is on: the Steward timings below include its overhead\n")
	}
	fmt.Fprintln(out)

	src := policyYAML
	if cfg.noScrub {
		src = strings.Replace(src, "note: scrub", "note: keep", 1)
		fmt.Fprintf(out, "variant -noscrub: the note is kept, so the engine builds no dictionary (not the policy of record)\n")
	}
	pol, err := policy.Parse("bench.yaml", []byte(src))
	if err != nil {
		return nil, err
	}
	key, err := transform.NewKey([]byte("steward-bench-key-0123456789abcdef"))
	if err != nil {
		return nil, err
	}

	var results []*result
	for _, n := range cfg.sizes {
		r, err := measure(ctx, cfg, reg, pol, key, n, out, log)
		if err != nil {
			return results, fmt.Errorf("%d rows: %w", n, err)
		}
		results = append(results, r)
		reg.dropAll(log) // free the disk before the next size
	}
	summary(out, results)
	return results, nil
}

func measure(ctx context.Context, cfg config, reg *registry, pol *policy.Policy, key transform.Key, n int, out, log io.Writer) (*result, error) {
	var err error
	base := "steward_bench_" + randomHex()
	r := &result{rows: n, name: base}
	src, pipeDst, deidDst := base, base+"_pipe", base+"_deid"

	// The source.
	fmt.Fprintf(log, "[%d] loading %s …\n", n, src)
	start := time.Now()
	if err := reg.create(ctx, src); err != nil {
		return nil, err
	}
	if err := load(ctx, reg.dsn(src), n); err != nil {
		return nil, fmt.Errorf("load the source: %w", err)
	}
	r.load = time.Since(start)

	// (a) The baseline: a bare pipe between two COPYs, in text and in binary format; the
	// faster is the physical limit Steward is held to.
	for _, format := range []string{"text", "binary"} {
		fmt.Fprintf(log, "[%d] (a) COPY pipe, %s …\n", n, format)
		if err := reg.create(ctx, pipeDst); err != nil {
			return nil, err
		}
		if err := exec(ctx, reg.dsn(pipeDst), createTable(false)); err != nil {
			return nil, err
		}
		if err := exec(ctx, cfg.dsn, "CHECKPOINT"); err != nil {
			return nil, err
		}
		settle()
		sampler := startSampler()
		cpu0 := machineCPU()
		elapsed, rows, err := pipe(ctx, reg.dsn(src), reg.dsn(pipeDst), format)
		cpu := machineCPU() - cpu0
		heap := sampler.stop().heap
		if err != nil {
			return nil, fmt.Errorf("baseline, %s: %w", format, err)
		}
		if rows != int64(n) {
			return nil, fmt.Errorf("baseline, %s, copied %d rows, not %d", format, rows, n)
		}
		if format == "text" {
			r.pipeText = elapsed
		} else {
			r.pipeBin = elapsed
		}
		if r.pipe == 0 || elapsed < r.pipe {
			r.pipe, r.pipeCPU, r.pipeHeap = elapsed, cpu, heap
			start = time.Now()
			if err := exec(ctx, reg.dsn(pipeDst), "ALTER TABLE patient ADD PRIMARY KEY (id)"); err != nil {
				return nil, err
			}
			r.pipeFin = time.Since(start)
		}
		if err := reg.drop(pipeDst); err != nil {
			return nil, err
		}
	}

	// (b) Steward.
	fmt.Fprintf(log, "[%d] (b) deid.Run …\n", n)
	if err := exec(ctx, cfg.dsn, "CHECKPOINT"); err != nil {
		return nil, err
	}
	reg.add(deidDst) // the adapter creates it
	ph := &phases{}
	if cfg.memprofile != "" {
		path := profilePath(cfg.memprofile, n, len(cfg.sizes))
		ph.onDone = func() {
			runtime.GC() // a heap profile shows the heap as of the last collection
			if err := writeHeapProfile(path); err != nil {
				fmt.Fprintf(log, "[%d] heap profile: %v\n", n, err)
			}
		}
	}
	stopProfile, err := startCPUProfile(cfg.cpuprofile, n, len(cfg.sizes))
	if err != nil {
		return nil, err
	}
	settle()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	sampler := startSampler()
	cpu0, self0 := machineCPU(), selfCPU()
	start = time.Now()
	rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: reg.dsn(src), Target: reg.dsn(deidDst), Progress: ph})
	end := time.Now()
	r.selfCPU = selfCPU() - self0
	r.otherCPU = machineCPU() - cpu0 - r.selfCPU
	peaks := sampler.stop()
	r.heap, r.anon, r.fileRSS = peaks.heap, peaks.anon, peaks.file
	stopProfile()
	if err != nil {
		return nil, fmt.Errorf("steward: %w", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	r.allocated = after.TotalAlloc - before.TotalAlloc
	r.steward = end.Sub(start)
	if !ph.first.IsZero() && !ph.last.IsZero() {
		r.prep, r.stream, r.finish = ph.first.Sub(start), ph.last.Sub(ph.first), end.Sub(ph.last)
	}
	r.maxRSS = maxRSS()
	r.dict = rep.Dictionary
	for _, t := range rep.Tables {
		r.copyRows += t.Rows
		for c, k := range t.Collisions {
			if r.collided == nil {
				r.collided = map[string]int64{}
			}
			r.collided[c] += k
		}
	}
	if r.copyRows != int64(n) {
		return nil, fmt.Errorf("steward copied %d rows, not %d", r.copyRows, n)
	}
	r.hashCPU = hashCost(key, n)
	// Untimed: the copy's notes must no longer hold the source's MRN tokens.
	if err := count(ctx, reg.dsn(deidDst), `SELECT count(*) FROM patient WHERE note ~ 'MRN[0-9]{9}'`, &r.leaked); err != nil {
		return nil, err
	}
	// (c) verify the copy against its source, as a DBA would before sign-off.
	fmt.Fprintf(log, "[%d] (c) verify.Run …\n", n)
	settle()
	sampler = startSampler()
	stopVerifyProfile, err := startCPUProfile(verifyProfile(cfg.cpuprofile), n, len(cfg.sizes))
	if err != nil {
		return nil, err
	}
	cpu0, self0 = machineCPU(), selfCPU()
	start = time.Now()
	vrep, err := verify.Run(ctx, verify.Options{Policy: pol, Source: reg.dsn(src), Target: reg.dsn(deidDst)})
	r.verify = time.Since(start)
	stopVerifyProfile()
	r.verifyCPU = selfCPU() - self0
	r.verifyOther = machineCPU() - cpu0 - r.verifyCPU
	r.verifyHeap = sampler.stop().heap
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	r.verifyPassed = vrep.Passed
	if !vrep.Passed {
		fmt.Fprintf(log, "[%d] verify found: %+v\n", n, vrep.Findings)
	}
	report(out, r, !cfg.noScrub)
	return r, nil
}

// load creates the source table and fills it by COPY FROM (binary) from the generator.
func load(ctx context.Context, dsn string, n int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, createTable(true)); err != nil {
		return err
	}
	got, err := conn.CopyFrom(ctx, pgx.Identifier{"patient"}, columnNames(), newGenerator(n))
	if err != nil {
		return err
	}
	if got != int64(n) {
		return fmt.Errorf("loaded %d rows, not %d", got, n)
	}
	// VACUUM too, not only ANALYZE: the first full read of freshly loaded rows sets their hint
	// bits (and writes the pages back), a cost that would otherwise fall on whichever of the
	// two measurements reads the table first.
	_, err = conn.Exec(ctx, "VACUUM (ANALYZE) patient")
	return err
}

// pipe streams the source's patient table into the target's by COPY TO STDOUT on one
// connection into COPY FROM STDIN on another, in format (text or binary), through an io.Pipe.
func pipe(ctx context.Context, srcDSN, dstDSN, format string) (time.Duration, int64, error) {
	sc, err := pgx.Connect(ctx, srcDSN)
	if err != nil {
		return 0, 0, err
	}
	defer sc.Close(context.Background())
	dc, err := pgx.Connect(ctx, dstDSN)
	if err != nil {
		return 0, 0, err
	}
	defer dc.Close(context.Background())

	pr, pw := io.Pipe()
	read := make(chan error, 1)
	start := time.Now()
	go func() {
		bw := bufio.NewWriterSize(pw, pipeBuffer)
		_, err := sc.PgConn().CopyTo(ctx, bw, "COPY patient TO STDOUT (FORMAT "+format+")")
		if err == nil {
			err = bw.Flush()
		}
		pw.CloseWithError(err) // nil: the reader sees EOF
		read <- err
	}()
	tag, err := dc.PgConn().CopyFrom(ctx, pr, "COPY patient FROM STDIN (FORMAT "+format+")")
	pr.CloseWithError(errors.New("COPY FROM ended")) // unblocks the writer if COPY FROM failed
	rerr := <-read
	elapsed := time.Since(start)
	if err == nil {
		err = rerr
	}
	return elapsed, tag.RowsAffected(), err
}

// phases times deid.Run's stream from the outside: the engine tells its Progress when a
// table starts streaming and when it is done.
type phases struct {
	mu          sync.Mutex
	first, last time.Time
	rows        atomic.Int64
	onDone      func()
}

func (p *phases) Table(string, int64) deid.TableProgress {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.first.IsZero() {
		p.first = time.Now()
	}
	return p
}

func (p *phases) Add(n int64) { p.rows.Add(n) }

func (p *phases) Done(error) {
	p.mu.Lock()
	p.last = time.Now()
	p.mu.Unlock()
	if p.onDone != nil {
		p.onDone()
	}
}

// sampler records, every 50 ms, the peaks of HeapInuse+StackInuse and of the process's
// resident memory, anonymous (its own: heap, stacks, runtime) and file-backed (mapped files,
// such as filemem's, which the kernel may write out and evict).
type sampler struct {
	mu    sync.Mutex
	peaks peaks
	quit  chan struct{}
	done  chan struct{}
}

type peaks struct{ heap, anon, file uint64 }

func startSampler() *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	s.sample()
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				s.sample()
			case <-s.quit:
				return
			}
		}
	}()
	return s
}

func (s *sampler) sample() {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	anon, file := rss()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.peaks.heap = max(s.peaks.heap, m.HeapInuse+m.StackInuse)
	s.peaks.anon = max(s.peaks.anon, anon)
	s.peaks.file = max(s.peaks.file, file)
}

func (s *sampler) stop() peaks {
	close(s.quit)
	<-s.done
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peaks
}

// rss reads RssAnon and RssFile from /proc/self/status, in bytes (0 where there is none).
func rss() (anon, file uint64) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "RssAnon" && name != "RssFile") {
			continue
		}
		kib, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if name == "RssAnon" {
			anon = kib << 10
		} else {
			file = kib << 10
		}
	}
	return anon, file
}

// machineCPU is the CPU time, in seconds, that every process on the machine has used since
// boot (user, nice, system, irq, softirq in /proc/stat); 0 where there is no /proc.
func machineCPU() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0
	}
	var ticks float64
	for _, i := range []int{1, 2, 3, 6, 7} {
		v, _ := strconv.ParseFloat(f[i], 64)
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// hashCost is the CPU time, in seconds, of the keyed hashes the policy needs for n rows at
// the least: six hashed columns and the date shift's offset, seven HMAC-SHA256 of distinct
// short texts a row, on one goroutine — work no design can skip (the notes' mentions may
// come from a cache; they are not counted).
func hashCost(key transform.Key, n int) float64 {
	h := key.NewHasher()
	b := make([]byte, 0, 32)
	start := selfCPU()
	for i := range 7 * n {
		b = strconv.AppendInt(append(b[:0], "MRN"...), int64(i), 10)
		h.Derive("bench", string(b))
	}
	return selfCPU() - start
}

// selfCPU is this process's CPU time so far, in seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// settle starts a measurement from a collected heap, with the freed memory given back.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024 // KiB on Linux
}

func profilePath(path string, n, sizes int) string {
	if sizes == 1 {
		return path
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "." + strconv.Itoa(n) + ext
}

// verifyProfile is where the profile of (c) goes: beside (b)'s, "-verify" added to the name.
func verifyProfile(path string) string {
	if path == "" {
		return ""
	}
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-verify" + ext
}

func startCPUProfile(path string, n, sizes int) (func(), error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(profilePath(path, n, sizes))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// registry remembers every database the benchmark created (or had the adapter create), so
// that all of them are dropped whatever happens.
type registry struct {
	admin string
	mu    sync.Mutex
	names []string
}

func (g *registry) dsn(name string) string {
	u, _ := url.Parse(g.admin)
	u.Path = "/" + name
	return u.String()
}

func (g *registry) add(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.names = append(g.names, name)
}

func (g *registry) create(ctx context.Context, name string) error {
	g.add(name)
	return exec(ctx, g.admin, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
}

// drop drops one database, with a context of its own: it also runs after a Ctrl-C.
func (g *registry) drop(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := exec(ctx, g.admin, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, n := range g.names {
		if n == name {
			g.names = append(g.names[:i], g.names[i+1:]...)
			break
		}
	}
	return nil
}

func (g *registry) dropAll(log io.Writer) {
	g.mu.Lock()
	names := append([]string(nil), g.names...)
	g.mu.Unlock()
	for _, name := range names {
		if err := g.drop(name); err != nil {
			fmt.Fprintln(log, "bench:", err)
		}
	}
}

func exec(ctx context.Context, dsn string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

func count(ctx context.Context, dsn, q string, n *int64) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, q).Scan(n)
}

func randomHex() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const mib = 1 << 20

// The goals of issue 15, printed beside the ratios: (b) at least goalRun × (a)'s rows/s,
// (c) at most goalVerify × (b)'s time.
const (
	goalRun    = 0.55
	goalVerify = 1.5
)

func report(w io.Writer, r *result, scrubbed bool) {
	fmt.Fprintf(w, "== %d rows (source loaded in %.1fs)\n", r.rows, r.load.Seconds())
	fmt.Fprintf(w, "  (a) COPY pipe        %7.2fs  %9.0f rows/s   (text %.2fs, binary %.2fs; the faster counts)   machine CPU %.1fs   peak heap %.1f MiB   [+ PRIMARY KEY: %.2fs]\n",
		r.pipe.Seconds(), rate(r.rows, r.pipe), r.pipeText.Seconds(), r.pipeBin.Seconds(), r.pipeCPU, float64(r.pipeHeap)/mib, r.pipeFin.Seconds())
	fmt.Fprintf(w, "  (b) steward deid.Run %7.2fs  %9.0f rows/s   ratio (b)/(a) %.2f (goal ≥ %.2f)   CPU: Steward %.1fs, the rest of the machine (PostgreSQL) %.1fs\n",
		r.steward.Seconds(), rate(r.rows, r.steward), rate(r.rows, r.steward)/rate(r.rows, r.pipe), goalRun, r.selfCPU, r.otherCPU)
	if r.stream > 0 {
		fmt.Fprintf(w, "      prep (schema, dictionary pass, create target) %.2fs | stream %.2fs = %.0f rows/s (%.2f of (a)) | finish (end of COPY, keys) %.2fs\n",
			r.prep.Seconds(), r.stream.Seconds(), rate(r.rows, r.stream), rate(r.rows, r.stream)/rate(r.rows, r.pipe), r.finish.Seconds())
	}
	budget := float64(runtime.NumCPU()) * r.pipe.Seconds() / goalRun
	fmt.Fprintf(w, "      CPU budget of (b) = %.2f × (a): %d CPUs × %.2fs / %.2f = %.1fs; the rest of the machine took %.1fs of it, leaving %.1fs for Steward, which took %.1fs (its %d keyed hashes alone: %.1fs)\n",
		goalRun, runtime.NumCPU(), r.pipe.Seconds(), goalRun, budget, r.otherCPU, budget-r.otherCPU, r.selfCPU, 7*r.rows, r.hashCPU)
	fmt.Fprintf(w, "      peak HeapInuse+StackInuse %.1f MiB, RssAnon %.1f MiB, RssFile %.1f MiB (mapped files), process MaxRSS %.1f MiB, allocated %.0f MiB (%.0f B/row)\n",
		float64(r.heap)/mib, float64(r.anon)/mib, float64(r.fileRSS)/mib, float64(r.maxRSS)/mib, float64(r.allocated)/mib, float64(r.allocated)/float64(r.rows))
	fmt.Fprintf(w, "      dictionary %d values", r.dict)
	if len(r.collided) > 0 {
		fmt.Fprintf(w, "; cut-hash collisions %v", r.collided)
	}
	if scrubbed {
		fmt.Fprintf(w, "; notes in the copy still holding an MRN: %d", r.leaked)
	}
	fmt.Fprintf(w, "\n")
	fmt.Fprintf(w, "  (c) verify.Run       %7.2fs  %9.0f rows/s   ratio (c)/(b) %.2f (goal ≤ %.1f)   CPU: verify %.1fs, the rest of the machine %.1fs   peak heap %.1f MiB   all checks passed: %v\n\n",
		r.verify.Seconds(), rate(r.rows, r.verify), r.verify.Seconds()/r.steward.Seconds(), goalVerify, r.verifyCPU, r.verifyOther, float64(r.verifyHeap)/mib, r.verifyPassed)
}

func summary(w io.Writer, rs []*result) {
	if len(rs) == 0 {
		return
	}
	fmt.Fprintln(w, "Summary")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rows\t(a) pipe rows/s\t(b) steward rows/s\t(b)/(a)\tstream-only rows/s\tprep s\tstream s\tfinish s\tCPU Steward s\tCPU PostgreSQL s\tpeak heap MiB\tRssAnon MiB\tRssFile MiB\tdictionary\t(c) verify s\t(c)/(b)\t")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.2f\t%.0f\t%.2f\t%.2f\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%d\t%.2f\t%.2f\t\n",
			r.rows, rate(r.rows, r.pipe), rate(r.rows, r.steward), rate(r.rows, r.steward)/rate(r.rows, r.pipe),
			rate(r.rows, r.stream), r.prep.Seconds(), r.stream.Seconds(), r.finish.Seconds(), r.selfCPU, r.otherCPU,
			float64(r.heap)/mib, float64(r.anon)/mib, float64(r.fileRSS)/mib, r.dict, r.verify.Seconds(), r.verify.Seconds()/r.steward.Seconds())
	}
	tw.Flush()
	fmt.Fprintln(w, "(RssFile is the dictionary's and collision sets' files mapped into memory: the kernel keeps those pages while memory is free and writes them out when it is not.)")
	fmt.Fprintln(w, flatness(rs))
}

// flatness compares the peak heap of the Steward run at the largest size with the smallest.
func flatness(rs []*result) string {
	small, large := rs[0], rs[0]
	for _, r := range rs {
		if r.rows < small.rows {
			small = r
		}
		if r.rows > large.rows {
			large = r
		}
	}
	if large.rows == small.rows {
		return "Memory flat in the row count: not known (give two sizes with -sizes)."
	}
	// Both the heap and the process's anonymous memory (the heap as the kernel sees it, with
	// stacks and the runtime's own) must grow by at most 25%, or by at most 8 MiB a million
	// rows (8 bytes a row: what the runtime's scavenging timing moves a 15 MiB process by;
	// the dictionary alone took 85 bytes a row when it was on the heap).
	verdict := "yes"
	var parts []string
	for _, m := range []struct {
		name         string
		small, large uint64
	}{{"peak heap", small.heap, large.heap}, {"peak RssAnon", small.anon, large.anon}} {
		growth := float64(m.large) / float64(m.small)
		perMillion := (float64(m.large) - float64(m.small)) / mib / float64(large.rows-small.rows) * 1e6
		if growth > 1.25 && perMillion > 8 {
			verdict = "NO"
		}
		parts = append(parts, fmt.Sprintf("%s %.1f MiB at %d rows vs %.1f MiB at %d rows (×%.2f for ×%.1f the rows; %+.1f MiB per million rows)",
			m.name, float64(m.large)/mib, large.rows, float64(m.small)/mib, small.rows, growth, float64(large.rows)/float64(small.rows), perMillion))
	}
	return fmt.Sprintf("Memory flat in the row count: %s — %s.", verdict, strings.Join(parts, "; "))
}
