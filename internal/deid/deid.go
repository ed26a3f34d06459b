// Package deid is the de-identification engine: it holds a policy against a database, then
// streams every table through the policy's rules into a copy (copy mode) or back into the
// same database (in-place mode).
//
// The data's path is short: the source adapter streams rows (COPY on PostgreSQL), each row's
// columns go through their compiled rule (package transform), and the target adapter loads
// them by its bulk path into tables that have no indexes or foreign keys yet; keys, indexes
// and constraints are built once every table is loaded. Tables are independent at that point,
// so several load at once. A kept column that no rule reads is not decoded at all where the
// adapter can hand it over as it read it (database.Passer: PostgreSQL's COPY data goes back
// out as it came in).
//
// Before any table is written, the engine reads the values of every column whose rule
// replaces identifiers (hash, pseudonym, placeholder, null on text) into a dictionary, when
// the policy scrubs any free text, so that scrub can replace those values wherever a note
// mentions them. The dictionary keeps a 64-bit digest of each distinct value and which
// column's rule replaces it — about 20 bytes a value, not the value — and nothing is hashed
// with the key in that pass: a note's mention is replaced by applying the rule to it when the
// note is streamed. The pass reads while the target is created; workers digest the values.
//
// Collisions of cut hashes are counted as the rows stream (transform.Collisions, 8-byte
// digests); a collision in a primary key or unique column stops the stream before the batch
// that holds it is written.
//
// The dictionary and the collision counters hold one digest per distinct identifier, so
// they grow with the tables; once large, they are kept in files mapped into memory under the
// work directory (package filemem), not on the heap, and the engine's own memory stays flat
// in the number of rows.
//
// In-place mode never leaves a table half-transformed, and the same command after any
// interruption (even kill -9) gives exactly what copy mode writes with the same key:
//   - SQLite: the whole database is written as a copy beside the file and renamed over it
//     once complete; an interrupted run leaves the original as it was and a stale copy that
//     the next run removes.
//   - PostgreSQL and MySQL: tables tied by a foreign key whose columns are transformed are
//     rewritten together in one transaction that also records them in a ledger table,
//     steward_progress, inside the database itself. A run that is killed rolls back its open
//     transaction; the same command run again skips the groups the ledger records, so no
//     value is ever transformed twice.
//
// What a resumed run cannot do is read the scrub dictionary back from tables that an earlier
// part of the run already rewrote: their identifiers are hashes by then, and the notes that
// name them would be left as they are. Of the three ways out — keep the dictionary's digests
// with the ledger, take every table into one transaction, or refuse to resume — the engine
// orders and joins the groups so that the dictionary is never needed after a source of it
// has changed, which needs no state besides the ledger and keeps transactions small where it
// can: first the groups that neither scrub nor feed the dictionary, then those that scrub but
// feed nothing, then one group made of every group that both scrubs and feeds it (the patient
// table that names patients and keeps their notes), and last the groups that only feed it.
// While any table still has text to scrub, no table that feeds the dictionary has been
// committed, so the run, resumed, reads the same dictionary from the same original values; once
// a source is committed, no table is left to scrub, and the dictionary is not read at all.
// Keeping the digests would have put a 64-bit digest of every identifier, and the seed that
// computes them (random per process today), into the very database that is shipped — an SSN
// is recovered from its digest by trying every candidate — and one
// transaction over the whole database would make MySQL's undo log and the lock time grow with
// it. The engine proves the order at run time too (unsafeToScrub): a run that finds a source
// rewritten while text is left to scrub refuses rather than scrubbing with the hashes.
//
// Each group takes a lock first (PostgreSQL's transaction-level advisory lock, MySQL's
// GET_LOCK on the rewriting session) and reads the ledger again under it. A killed run's
// transaction may still be running on the server for a while; the lock waits until it has
// committed or rolled back, so a run started at once after a kill never stages rows from a
// state about to change.
//
// Once every group is rewritten, the adapter clears what the rewrites left of the originals
// in the database's own files (database.Rewriter.ClearResidue: statistics sampled from them,
// rows deleted in place), recorded per table so that a run killed before it finishes does it
// next time. The servers' logs are not the database's to clear: only the bundle is shipped.
//
// A run is its policy and key. The ledger records, with every table, the run's identifier,
// the key's fingerprint, the policy normalised against the database — every column's rule,
// by table and column name, so comments, layout, order and an equivalent default do not
// count (quasi_identifiers, which only verify reads, neither) — and its digest, how many tables
// the run rewrites, and when it started. A run whose key or rules differ from a run the ledger
// records, finished or in progress, is refused with that run, its times, how far it got and
// what differs (the key's fingerprints, or each column's rule then and now), never applied on
// top; copy mode and a fresh copy of the original are the way to another key or policy.
package deid

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/progress"
	"github.com/stewardhealth/steward/internal/transform"
	"github.com/stewardhealth/steward/internal/version"
)

// Options says what to run.
type Options struct {
	Policy   *policy.Policy
	Key      transform.Key
	Source   string // DSN
	Target   string // DSN of the copy; empty for in-place
	InPlace  bool
	Progress Progress     // nil: silent
	Work     *filemem.Dir // where large tables go (see package filemem); nil: the default
}

// Progress is told about each table as it goes (package progress, which verify, the
// warehouse load and the demo share).
type Progress = progress.Progress

// TableProgress follows one table.
type TableProgress = progress.TableProgress

// Report says what a run did. It holds counts and names, never values.
type Report struct {
	Steward        string // the build that made the run (internal/version)
	Mode           string
	Source, Target string // DSNs with passwords hidden
	KeyFingerprint string
	PolicyDigest   string   // of the policy's rules for the database's columns, normalised (comments and layout do not count)
	Run            string   // derived from PolicyDigest and KeyFingerprint
	Dictionary     int      // values scrub looks for in free text
	WorkDir        string   // where the dictionary and collision sets went once large
	Warnings       []string // what the run could not do as planned, though it finished
	Tables         []*TableReport
	Elapsed        time.Duration
	Clearing       time.Duration // in-place: clearing what the rewrite left in the database's files (part of Elapsed)
}

// TableReport is one table's line of the report.
type TableReport struct {
	Name       string
	Rows       int64
	Skipped    bool                // in-place: already done by an earlier run
	Rules      map[string][]string // rule → columns
	Collisions map[string]int64    // column → distinct inputs that share an output
	Elapsed    time.Duration
}

// Check reads the source's schema and holds the policy against it.
func Check(ctx context.Context, pol *policy.Policy, db database.DB) (*database.Schema, error) {
	s, err := db.Schema(ctx)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	if err := pol.Check(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Run de-identifies.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	if o.InPlace == (o.Target != "") {
		return nil, errors.New("give either a target (copy mode) or in-place, not both")
	}
	src, err := database.Open(ctx, o.Source)
	if err != nil {
		return nil, fmt.Errorf("open source: %w", err)
	}
	defer src.Close()
	schema, err := Check(ctx, o.Policy, src)
	if err != nil {
		return nil, err
	}
	e := &engine{opts: o, schema: schema, src: src}
	e.report = &Report{
		Steward:        version.String(),
		Source:         database.Redact(o.Source),
		KeyFingerprint: o.Key.Fingerprint(),
	}
	if e.opts.Work == nil {
		if e.opts.Work, err = filemem.New("", filemem.DefaultMinBytes); err != nil {
			e.report.Warnings = append(e.report.Warnings, fmt.Sprintf("%v: the dictionary and collision sets were kept on the heap", err))
		}
	}
	e.report.WorkDir = e.opts.Work.Path()
	defer func() {
		if err := e.opts.Work.Err(); err != nil {
			e.report.Warnings = append(e.report.Warnings, fmt.Sprintf("%v: some of the dictionary and collision sets were kept on the heap", err))
		}
	}()
	if err := e.compile(); err != nil {
		return nil, err
	}
	defer e.free()
	e.identify(start)
	e.report.Run, e.report.PolicyDigest = e.run.ID, e.run.PolicyDigest
	e.dictionary, e.stopDictionary = func() error { return nil }, func() {}
	defer func() { e.stopDictionary() }() // before the dictionary is freed
	switch {
	case !o.InPlace:
		e.report.Mode = "copy"
		e.report.Target = database.Redact(o.Target)
		e.startDictionary(ctx) // while the target is created; streaming waits for it
		err = e.copy(ctx, o.Target)
	case src.Kind() == database.SQLite:
		e.report.Mode = "in-place"
		err = e.rewriteFile(ctx)
	default:
		e.report.Mode = "in-place"
		err = e.rewrite(ctx)
	}
	e.report.Elapsed = time.Since(start)
	sort.Slice(e.report.Tables, func(i, j int) bool { return e.report.Tables[i].Name < e.report.Tables[j].Name })
	if err != nil {
		return e.report, err
	}
	return e.report, nil
}

type engine struct {
	dictionary     func() error // waits for the dictionary pass, if started
	stopDictionary func()       // stops it and waits
	opts           Options
	run            database.Run // what the ledger records (in-place mode)
	schema         *database.Schema
	src            database.DB
	plans          map[string]*plan
	dict           *transform.Dictionary
	report         *Report
	mu             sync.Mutex
}

// plan is a table's compiled rules.
type plan struct {
	table   *database.Table
	rules   []policy.Rule
	funcs   []transform.Func // nil where the value is kept
	tracks  []*transform.Collisions
	sources []int  // the column's dictionary source; -1 where the column feeds no dictionary
	pass    []bool // kept columns no rule reads: the source may hand them over undecoded
	active  bool   // any column transformed
	scrubs  bool   // any column scrubbed: the table waits for the dictionary
}

func (e *engine) compile() error {
	e.plans = map[string]*plan{}
	e.dict = transform.NewDictionaryIn(e.opts.Work)
	sources := map[string]transform.Source{} // one per distinct in-text replacement
	for _, t := range e.schema.Tables {
		n := len(t.Columns)
		p := &plan{table: t, rules: make([]policy.Rule, n), funcs: make([]transform.Func, n), tracks: make([]*transform.Collisions, n), sources: make([]int, n), pass: make([]bool, n)}
		for i, c := range t.Columns {
			r, _ := e.opts.Policy.Rule(t.Name, c.Name)
			p.rules[i] = r
			p.sources[i] = -1
			if !r.Transforms() {
				p.pass[i] = true
				continue
			}
			p.active = true
			p.scrubs = p.scrubs || r.Kind == policy.Scrub
			if r.Kind == policy.Hash || r.Kind == policy.Pseudonym || r.Kind == policy.Placeholder {
				p.tracks[i] = transform.NewCollisionsIn(e.opts.Work)
			}
			f, err := transform.Compile(r, t, c, p.tracks[i], e.dict)
			if err != nil {
				return fmt.Errorf("%s.%s: %w", t.Name, c.Name, err)
			}
			p.funcs[i] = f
			if in := transform.InText(r, c); in != nil && c.Type == database.Text {
				key := fmt.Sprintf("%s\x00%s\x00%s\x00%d", r.Kind, r.Alphabet, r.Text, c.Length)
				if r.Kind == policy.Null {
					key = string(r.Kind)
				}
				src, ok := sources[key]
				if !ok {
					src = e.dict.Rule(in)
					sources[key] = src
				}
				p.sources[i] = int(src)
			}
		}
		for _, r := range p.rules {
			if r.By != "" { // shift_date reads the value of another column
				if i := t.ColumnIndex(r.By); i >= 0 {
					p.pass[i] = false
				}
			}
		}
		e.plans[t.Name] = p
	}
	return nil
}

// startDictionary starts the dictionary pass (buildDictionary); e.dictionary waits for it.
func (e *engine) startDictionary(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.buildDictionary(ctx) }()
	e.dictionary = sync.OnceValue(func() error {
		err := <-done
		if err == nil {
			e.report.Dictionary = e.dict.Len()
		}
		return err
	})
	e.stopDictionary = func() {
		cancel()
		e.dictionary()
	}
}

// free gives back the dictionary's and the collision counters' memory, once no table
// streams.
func (e *engine) free() {
	e.dict.Close()
	for _, p := range e.plans {
		for _, c := range p.tracks {
			c.Close()
		}
	}
}

// scan reads t from the source, its kept columns undecoded where the source can (the copy's
// writer is of the same adapter: a copy goes into the same kind of database).
func (e *engine) scan(ctx context.Context, t *database.Table, fn func(database.Row) error) error {
	if ps, ok := e.src.(database.Passer); ok {
		return ps.ScanPassing(ctx, t, e.plans[t.Name].pass, fn)
	}
	return e.src.Scan(ctx, t, fn)
}

// apply transforms in into out.
func (p *plan) apply(h *transform.Hasher, in, out database.Row, n int64) error {
	for i, v := range in {
		f := p.funcs[i]
		if f == nil {
			out[i] = v
			continue
		}
		w, err := f(h, in, v)
		if err != nil {
			return fmt.Errorf("%s.%s, row %d: %w", p.table.Name, p.table.Columns[i].Name, n, err)
		}
		out[i] = w
	}
	return nil
}

// collisions checks the counters after a table: a collision in a unique column is fatal.
func (p *plan) collisions(tr *TableReport) error {
	for i, c := range p.tracks {
		if c == nil || c.Count() == 0 {
			continue
		}
		col := p.table.Columns[i]
		if tr.Collisions == nil {
			tr.Collisions = map[string]int64{}
		}
		tr.Collisions[col.Name] = c.Count()
		if p.table.Unique(col.Name) {
			return fmt.Errorf("%s.%s: %d distinct values collide after the hash is cut to the column's %d characters, and the column must stay unique: use {hash: {alphabet: base32}} (5 bits a character instead of 4), or widen the column in the copy", p.table.Name, col.Name, c.Count(), col.Length)
		}
	}
	return nil
}

func (p *plan) tableReport() *TableReport {
	tr := &TableReport{Name: p.table.Name, Rules: map[string][]string{}}
	for i, r := range p.rules {
		if r.Transforms() {
			tr.Rules[string(r.Kind)] = append(tr.Rules[string(r.Kind)], p.table.Columns[i].Name)
		}
	}
	return tr
}

// buildDictionary reads the values of every text column whose rule replaces identifiers,
// when some column is scrubbed. It keeps a digest of each distinct value and which column's
// rule replaces it (see transform.Dictionary); nothing is hashed with the key here.
func (e *engine) buildDictionary(ctx context.Context) error {
	scrubs := false
	for _, p := range e.plans {
		scrubs = scrubs || p.scrubs
	}
	if !scrubs {
		return nil
	}
	var expect int64
	for _, t := range e.schema.Tables {
		for _, src := range e.plans[t.Name].sources {
			if src >= 0 {
				expect += t.Rows
			}
		}
	}
	e.dict.Reserve(int(min(expect, 1<<26)))

	// The source's goroutine only decodes; workers take the values a chunk at a time, digest
	// them and add them to the dictionary, one worker at a time.
	type value struct {
		s   string
		src transform.Source
	}
	const chunkValues = 4096
	workers := max(1, runtime.GOMAXPROCS(0))
	free := make(chan []value, 2*workers)
	for range cap(free) {
		free <- make([]value, 0, chunkValues)
	}
	work := make(chan []value, cap(free))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := e.dict.NewBatch()
			for chunk := range work {
				for _, v := range chunk {
					b.Add(v.s, v.src)
				}
				free <- chunk[:0]
				mu.Lock()
				b.Flush()
				mu.Unlock()
			}
		}()
	}
	defer func() {
		close(work)
		wg.Wait()
	}()
	chunk := <-free
	for _, t := range e.schema.Tables {
		p := e.plans[t.Name]
		var cols []int
		var hosts []bool // a host name column: its bare short names are looked for too
		for i, src := range p.sources {
			if src >= 0 {
				cols = append(cols, i)
				hosts = append(hosts, p.rules[i].Kind == policy.Placeholder && p.rules[i].Text == policy.PlaceHostname)
			}
		}
		if len(cols) == 0 {
			continue
		}
		// Read only the columns that feed the dictionary.
		proj := &database.Table{Name: t.Name, Rows: t.Rows}
		for _, i := range cols {
			proj.Columns = append(proj.Columns, t.Columns[i])
		}
		scan := e.src.Scan
		if ps, ok := e.src.(database.Passer); ok {
			scan = func(ctx context.Context, t *database.Table, fn func(database.Row) error) error {
				return ps.ScanPassing(ctx, t, nil, fn) // no value outlives its chunk
			}
		}
		err := scan(ctx, proj, func(row database.Row) error {
			for j, i := range cols {
				if s, ok := transform.Unpadded(proj.Columns[j], row[j]).(string); ok {
					chunk = append(chunk, value{s, transform.Source(p.sources[i])})
					if !hosts[j] {
						continue
					}
					if label, ok := transform.HostLabel(s); ok {
						chunk = append(chunk, value{label, transform.Source(p.sources[i])})
					}
				}
			}
			if len(chunk) >= chunkValues-2*len(cols) {
				work <- chunk
				chunk = <-free
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %s for the scrub dictionary: %w", t.Name, err)
		}
	}
	work <- chunk
	return nil
}

// stream reads table t from the source, transforms every row and writes it to w, in the
// order read. The rules run on several goroutines, a batch of rows each: the source's
// goroutine only decodes, one goroutine only encodes and writes.
func (e *engine) stream(ctx context.Context, t *database.Table, w database.RowWriter) (*TableReport, error) {
	p := e.plans[t.Name]
	tr := p.tableReport()
	var tp TableProgress
	if e.opts.Progress != nil {
		tp = e.opts.Progress.Table(t.Name, t.Rows)
	}
	start := time.Now()
	var unique []int // tracked columns that must stay distinct: checked after every batch
	for i, c := range p.tracks {
		if c != nil && t.Unique(t.Columns[i].Name) {
			unique = append(unique, i)
		}
	}

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := max(1, runtime.GOMAXPROCS(0))
	free := make(chan *batch, 2*workers+2) // bounds the rows in flight
	for range cap(free) {
		free <- newBatch(len(t.Columns))
	}
	work := make(chan *batch, cap(free))
	order := make(chan *batch, cap(free))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := e.opts.Key.NewHasher()
			h.DeferCounts()
			h.ShareOutputs() // the writer lets go of each batch of rows once written
			for b := range work {
				for k := range b.n {
					if b.err = p.apply(h, b.in[k], b.out[k], b.first+int64(k)); b.err != nil {
						break
					}
				}
				h.Flush() // the writer checks the unique columns' counts before writing b
				close(b.done)
			}
		}()
	}
	writerDone := make(chan error, 1)
	var n int64
	go func() {
		var err error
		var written int64
		for b := range order {
			<-b.done
			if err == nil && b.err != nil {
				err = b.err
			}
			for _, i := range unique {
				if err == nil && p.tracks[i].Count() > 0 {
					err = p.collisions(tr)
				}
			}
			for k := 0; err == nil && k < b.n; k++ {
				if werr := w.Write(b.out[k]); werr != nil {
					err = fmt.Errorf("write %s: %w", t.Name, werr)
				}
			}
			if err != nil {
				cancel(err)
			} else {
				written += int64(b.n)
				database.Checkpointf("%s: %d rows written", t.Name, written)
				if tp != nil {
					tp.Add(int64(b.n))
				}
			}
			b.reset()
			free <- b
		}
		writerDone <- err
	}()

	var cur *batch
	send := func() {
		work <- cur
		order <- cur
		cur = nil
	}
	err := e.scan(ctx, t, func(in database.Row) error {
		if cur == nil {
			select {
			case cur = <-free:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			cur.first = n + 1
		}
		copy(cur.in[cur.n], in)
		cur.n++
		n++
		if cur.n == len(cur.in) {
			send()
		}
		return nil
	})
	if cur != nil && cur.n > 0 {
		send()
	}
	close(work)
	close(order)
	wg.Wait()
	if werr := <-writerDone; werr != nil {
		err = werr // the writer's error is the cause; the source only saw the cancel
	}
	if err == nil {
		err = p.collisions(tr)
	} else {
		err = database.RedactError(err)
	}
	if tp != nil {
		tp.Done(err)
	}
	tr.Rows = n
	tr.Elapsed = time.Since(start)
	return tr, err
}

const batchRows = 256

// batch is rows in flight between the source, the rule workers and the writer.
type batch struct {
	in, out []database.Row
	n       int
	first   int64 // the first row's number, for error messages
	err     error
	done    chan struct{}
}

func newBatch(cols int) *batch {
	b := &batch{in: make([]database.Row, batchRows), out: make([]database.Row, batchRows), done: make(chan struct{})}
	for k := range b.in {
		b.in[k] = make(database.Row, cols)
		b.out[k] = make(database.Row, cols)
	}
	return b
}

func (b *batch) reset() {
	b.n, b.err = 0, nil
	b.done = make(chan struct{})
}

func (e *engine) addReport(tr *TableReport) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.report.Tables = append(e.report.Tables, tr)
}

// copy writes the de-identified copy into a new database.
func (e *engine) copy(ctx context.Context, target string) error {
	dsn, err := database.ParseDSN(target)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	if dsn.Kind != e.src.Kind() {
		return fmt.Errorf("the target is a %s database and the source a %s one: a copy goes into the same kind of database", dsn.Kind, e.src.Kind())
	}
	if dsn.Kind == database.SQLite {
		if _, err := os.Stat(dsn.Path); err == nil {
			what := ""
			if db, err := database.Open(ctx, target); err == nil {
				if t, ok := db.(database.Target); ok {
					if held, err := t.Existing(ctx, e.schema); err == nil && len(held) > 0 {
						what = " and holds " + strings.Join(held, ", ") + ", which the copy would create"
					}
				}
				db.Close()
			}
			return fmt.Errorf("target %s already exists%s: remove it or name a new file", dsn.Path, what)
		}
		return e.copyFile(ctx, dsn.Path)
	}
	return e.copyInto(ctx, target)
}

// copyFile writes a SQLite copy beside path and renames it into place once complete, so a
// failed run leaves no half-written database behind.
func (e *engine) copyFile(ctx context.Context, path string) error {
	tmp := beside(path)
	os.Remove(tmp)
	if err := e.copyInto(ctx, "sqlite:"+tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (e *engine) copyInto(ctx context.Context, target string, finally ...func(database.Target) error) error {
	dst, err := database.OpenTarget(ctx, target)
	if err != nil {
		return fmt.Errorf("open target: %w", err)
	}
	defer dst.Close()
	held, err := dst.Existing(ctx, e.schema)
	if err != nil {
		return fmt.Errorf("check the target: %w", err)
	}
	if len(held) > 0 {
		return fmt.Errorf("target %s already holds %s, which the copy would create: refused before anything was written (name a new database, or drop them first)", database.Redact(target), strings.Join(held, ", "))
	}
	if err := dst.CreateTables(ctx, e.schema); err != nil {
		return fmt.Errorf("create tables in the target: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tables := make(chan *database.Table)
	errs := make(chan error, len(e.schema.Tables))
	var wg sync.WaitGroup
	for range max(1, dst.Parallel()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tables {
				if err := e.copyTable(ctx, dst, t); err != nil {
					errs <- err
					cancel()
				}
			}
		}()
	}
	// Tables that scrub no text need no dictionary: they go first, while the dictionary pass
	// may still be reading; the others wait for it (copyTable).
	for _, scrubs := range []bool{false, true} {
		for _, t := range e.schema.Tables {
			if e.plans[t.Name].scrubs != scrubs {
				continue
			}
			select {
			case tables <- t:
			case <-ctx.Done():
			}
		}
	}
	close(tables)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := dst.Finish(ctx, e.schema); err != nil {
		return fmt.Errorf("build keys, indexes and constraints in the target: %w", database.RedactError(err))
	}
	for _, f := range finally {
		if err := f(dst); err != nil {
			return err
		}
	}
	return nil
}

func (e *engine) copyTable(ctx context.Context, dst database.Target, t *database.Table) error {
	if e.plans[t.Name].scrubs {
		if err := e.dictionary(); err != nil {
			return err
		}
	}
	w, err := dst.Writer(ctx, t)
	if err != nil {
		return fmt.Errorf("load %s: %w", t.Name, err)
	}
	tr, err := e.stream(ctx, t, w)
	if err != nil {
		w.Abort()
		return err
	}
	if _, err := w.Close(); err != nil {
		return fmt.Errorf("load %s: %w", t.Name, err)
	}
	e.addReport(tr)
	return nil
}

// beside names the hidden file a SQLite copy is written to before it is renamed to path.
func beside(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".steward-tmp")
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
