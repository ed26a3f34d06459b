// Package verify proves that a de-identified copy is what its policy promised, and writes
// the evidence as a report the data owner signs off.
//
// It reads the original and the copy side by side and runs six checks (see Checks). The
// original is read first: the values of every column whose rule replaces identifiers go into
// the witness (see witness), verify's own matcher, which shares nothing with scrub but the
// policy: it keeps a 61-bit digest of each value's normal form (letters and digits only,
// case and diacritics folded), never the value, so it holds tens of millions of values and
// says nothing once the run ends. Then every text cell of the copy is looked up whole, and,
// unless its rule replaces whole values, searched inside for any original spelt any way
// (key:MRN518998294, MRN 518 998 294, vasquez-ortiz, allegheny riverside health system,
// 835 12 6709), and searched for the identifier patterns of package detect. Foreign keys,
// unique keys and quasi-identifier groups are counted on digests too.
//
// The report holds counts only: a finding names a table, a column, how many values or rows,
// and, for what is found in cells, up to MaxKeys of the rows by the copy's primary key —
// never a value. Bad input (a database that cannot be read, a copy whose schema is not the
// original's, a policy that names what does not exist) is an *InputError, apart from checks
// that fail.
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/maphash"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/flatmap"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/progress"
	"github.com/stewardhealth/steward/internal/transform"
	"github.com/stewardhealth/steward/internal/version"
)

// Options says what to verify.
type Options struct {
	Policy *policy.Policy
	Source string // DSN of the original
	Target string // DSN of the de-identified copy
	// MinK, when above 0, makes the risk check fail for a table whose quasi-identifiers leave
	// a group smaller than MinK in the copy. At 0 the risk figures are reported only.
	MinK int
	// Work is where the lookups of every identifier, key and group go once large (see package
	// filemem), so that memory does not grow with the rows; nil: the default directory.
	Work *filemem.Dir
	// Progress is told of each table read, the original's then the copy's (nil: silent).
	Progress progress.Progress
}

// progressEvery is how many rows a table's progress is told at a time.
const progressEvery = 4096

// InputError is bad input: verification could not start. Its message names what is wrong.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputErr(format string, args ...any) error {
	return &InputError{fmt.Errorf(format, args...)}
}

// Run verifies the copy and returns the report. An error means no verdict was reached.
func Run(ctx context.Context, o Options) (*Report, error) {
	start := time.Now()
	src, err := database.Open(ctx, o.Source)
	if err != nil {
		return nil, inputErr("open the original %s: %w", database.Redact(o.Source), database.RedactError(err))
	}
	defer src.Close()
	dst, err := database.Open(ctx, o.Target)
	if err != nil {
		return nil, inputErr("open the copy %s: %w", database.Redact(o.Target), database.RedactError(err))
	}
	defer dst.Close()
	ss, err := src.Schema(ctx)
	if err != nil {
		return nil, inputErr("read the original's schema: %w", database.RedactError(err))
	}
	ts, err := dst.Schema(ctx)
	if err != nil {
		return nil, inputErr("read the copy's schema: %w", database.RedactError(err))
	}
	if err := matches(ss, ts); err != nil {
		return nil, &InputError{err}
	}
	// The policy must describe this database; columns it leaves out are the coverage check's.
	lenient := *o.Policy
	lenient.Default = policy.Keep
	if err := lenient.Check(ss); err != nil {
		return nil, &InputError{fmt.Errorf("the policy does not match the original: %w", err)}
	}
	sum := sha256.Sum256(o.Policy.Source)
	v := &verifier{
		o: o, src: src, dst: dst, ss: ss, ts: ts, seed: maphash.MakeSeed(),
		rep: &Report{
			Generated: start.UTC(), Steward: version.String(), Policy: o.Policy.File, PolicySHA256: hex.EncodeToString(sum[:]),
			Source: database.Redact(o.Source), Target: database.Redact(o.Target), MinK: o.MinK,
		},
		tables: map[string]*tableState{},
		mem:    o.Work,
	}
	if v.mem == nil {
		v.mem, _ = filemem.New("", filemem.DefaultMinBytes) // nil on failure: the heap
	}
	defer v.free()
	v.plan()
	v.structure()
	if err := v.readOriginal(ctx); err != nil {
		return nil, err
	}
	if err := v.readCopy(ctx); err != nil {
		return nil, err
	}
	v.finish()
	v.rep.Duration = time.Since(start)
	return v.rep, nil
}

// matches refuses a copy that is not a copy of the original at all: fewer than half of the
// original's tables present. Smaller differences are the structure check's findings.
func matches(ss, ts *database.Schema) error {
	found := 0
	for _, t := range ss.Tables {
		if ts.Table(t.Name) != nil {
			found++
		}
	}
	if len(ss.Tables) > 0 && found*2 < len(ss.Tables) {
		return fmt.Errorf("the copy is not a de-identification of the original: it has %d of the original's %d tables", found, len(ss.Tables))
	}
	return nil
}

type verifier struct {
	o        Options
	mem      *filemem.Dir
	sets     []interface{ Free() } // what free gives back
	src, dst database.DB
	ss, ts   *database.Schema
	seed     maphash.Seed
	rep      *Report
	tables   map[string]*tableState
	order    []*tableState // parents before the tables that reference them, where possible
	colNames []string      // column id → "table.column", the payload of the lookups

	wit  *witness                // every original value, in normal form (see witness)
	keys map[string]*digestSet   // "table(col,col)" → key digests of the copy, for foreign keys
	wait map[string][]deferredFK // children read before their parents
}

// digestSet holds digests (of values, keys, tuples) with the column they came from.
type digestSet = flatmap.Map[uint16]

// groupCounts counts the records of each combination of quasi-identifiers, by its digest.
type groupCounts = flatmap.Map[int64]

// newSet returns a map sized for about n entries, kept in the verifier's work directory
// once large, and freed with the verifier.
func newSet[V any](v *verifier, n int) *flatmap.Map[V] {
	m := flatmap.NewIn[V](v.mem, n)
	v.sets = append(v.sets, m)
	return m
}

// free gives back the memory of every lookup and of the dictionary.
func (v *verifier) free() {
	for _, s := range v.sets {
		s.Free()
	}
	v.wit.free()
}

type deferredFK struct {
	child *tableState
	fk    *database.ForeignKey
	keys  []uint64
}

type tableState struct {
	src, dst *database.Table
	pt       *policy.Table
	rules    []policy.Rule // by source column
	rep      *Table
	cols     []*Column // report columns by source column
	ids      []uint16  // column ids by source column
	// multiset digests of each transformed column's values, before and after
	before, after []uint64
	nBefore       []int64
	quasi         []int // source column positions
	kBefore       *groupCounts
	kAfter        *groupCounts
	done          bool
}

// identifying says whether a rule's original values are identifiers to look for in the copy.
// A scrubbed note is not one: the identifiers inside it are other columns' values and the
// patterns of package detect, both searched for anyway. Dates and generalised values recur by design (another patient's shifted birth date may be
// this patient's original one), so they are measured by the risk check instead; integers
// are permuted onto their own range, so their values recur by design too.
func identifying(r policy.Rule, c *database.Column) bool {
	switch r.Kind {
	case policy.Hash, policy.Pseudonym, policy.Placeholder, policy.Null:
		return c.Type == database.Text
	}
	return false
}

func (v *verifier) plan() {
	for _, t := range v.ss.Tables {
		st := &tableState{src: t, dst: v.ts.Table(t.Name), pt: v.o.Policy.Table(t.Name)}
		st.rep = &Table{Name: t.Name, Findings: map[Check]int64{}}
		st.before, st.after, st.nBefore = make([]uint64, len(t.Columns)), make([]uint64, len(t.Columns)), make([]int64, len(t.Columns))
		for _, c := range t.Columns {
			r, ok := v.o.Policy.Rule(t.Name, c.Name)
			rc := &Column{Name: c.Name, Rule: r.String(), Findings: map[Check]int64{}}
			if st.pt == nil || st.pt.Column(c.Name) == nil {
				rc.Rule = "(unclassified)"
				if !ok {
					r = policy.Rule{Kind: policy.Keep}
				}
			}
			st.rules = append(st.rules, r)
			st.cols = append(st.cols, rc)
			st.ids = append(st.ids, uint16(min(len(v.colNames), 65535)))
			v.colNames = append(v.colNames, t.Name+"."+c.Name)
			st.rep.Columns = append(st.rep.Columns, rc)
		}
		if st.pt != nil && len(st.pt.Quasi) > 0 {
			st.rep.Risk = &RiskResult{}
			for _, q := range st.pt.Quasi {
				st.quasi = append(st.quasi, t.ColumnIndex(q.Name))
				st.rep.Risk.QuasiIdentifiers = append(st.rep.Risk.QuasiIdentifiers, q.Name)
			}
			st.kBefore, st.kAfter = newSet[int64](v, 0), newSet[int64](v, 0)
		}
		v.tables[t.Name] = st
		v.rep.Tables = append(v.rep.Tables, st.rep)
	}
	v.order = parentsFirst(v.ss, v.tables)
}

// parentsFirst orders tables so that a referenced table comes before the tables that
// reference it; tables in a cycle keep their name order.
func parentsFirst(s *database.Schema, states map[string]*tableState) []*tableState {
	var out []*tableState
	placed := map[string]bool{}
	for len(out) < len(s.Tables) {
		progress := false
		for _, t := range s.Tables {
			if placed[t.Name] {
				continue
			}
			ready := true
			for _, fk := range t.ForeignKeys {
				if fk.RefTable != t.Name && !placed[fk.RefTable] && s.Table(fk.RefTable) != nil {
					ready = false
				}
			}
			if ready {
				placed[t.Name], progress = true, true
				out = append(out, states[t.Name])
			}
		}
		if !progress { // a cycle: take the first remaining table
			for _, t := range s.Tables {
				if !placed[t.Name] {
					placed[t.Name] = true
					out = append(out, states[t.Name])
					break
				}
			}
		}
	}
	return out
}

func (v *verifier) find(c Check, table, column string, n int64, what string, args ...any) {
	if n == 0 {
		return
	}
	v.add(Finding{Check: c, Table: table, Column: column, Count: n, What: fmt.Sprintf(what, args...)})
}

// review is find for what a person must look at but does not fail the check.
func (v *verifier) review(c Check, table, column string, n int64, what string, args ...any) {
	v.add(Finding{Check: c, Table: table, Column: column, Count: n, What: fmt.Sprintf(what, args...), Review: true})
}

func (v *verifier) add(f Finding) {
	v.rep.Findings = append(v.rep.Findings, f)
	if st := v.tables[f.Table]; st != nil {
		st.rep.Findings[f.Check] += f.Count
		if f.Column != "" {
			if i := st.src.ColumnIndex(f.Column); i >= 0 {
				st.cols[i].Findings[f.Check] += f.Count
			}
		}
	}
}

// structure compares the two schemas (check 3) and the policy's coverage (check 5).
func (v *verifier) structure() {
	for _, t := range v.ts.Tables {
		if v.ss.Table(t.Name) == nil {
			v.find(Structure, "", "", 1, "table %s is in the copy but not in the original", t.Name)
		}
	}
	for _, st := range v.order {
		t, d := st.src, st.dst
		for i, c := range t.Columns {
			if st.rep.Columns[i].Rule == "(unclassified)" {
				v.find(Coverage, t.Name, c.Name, 1, "column has no rule in the policy")
			}
		}
		if d == nil {
			v.find(Structure, t.Name, "", 1, "table is missing from the copy")
			continue
		}
		for _, c := range t.Columns {
			dc := d.Column(c.Name)
			switch {
			case dc == nil:
				v.find(Structure, t.Name, c.Name, 1, "column is missing from the copy")
			case !strings.EqualFold(dc.Native, c.Native):
				v.find(Structure, t.Name, c.Name, 1, "type changed from %s to %s", c.Native, dc.Native)
			case dc.NotNull != c.NotNull:
				v.find(Structure, t.Name, c.Name, 1, "NOT NULL changed")
			}
		}
		for _, c := range d.Columns {
			if t.Column(c.Name) == nil {
				v.find(Structure, t.Name, c.Name, 1, "column is in the copy but not in the original")
			}
		}
		if strings.Join(t.PrimaryKey, ",") != strings.Join(d.PrimaryKey, ",") {
			v.find(Structure, t.Name, "", 1, "primary key differs: (%s) in the original, (%s) in the copy", strings.Join(t.PrimaryKey, ", "), strings.Join(d.PrimaryKey, ", "))
		}
		for _, ix := range t.Indexes {
			if !hasIndex(d, ix) {
				kind := "index"
				if ix.Unique {
					kind = "unique constraint"
				}
				v.find(Structure, t.Name, "", 1, "%s on (%s) is missing from the copy", kind, strings.Join(ix.Columns, ", "))
			}
		}
		for _, fk := range t.ForeignKeys {
			if !hasForeignKey(d, fk) {
				v.find(Structure, t.Name, "", 1, "foreign key (%s) → %s is missing from the copy", strings.Join(fk.Columns, ", "), fk.RefTable)
			}
		}
		if len(d.Checks) < len(t.Checks) {
			v.find(Structure, t.Name, "", int64(len(t.Checks)-len(d.Checks)), "check constraint(s) missing from the copy")
		}
	}
}

func hasIndex(t *database.Table, want *database.Index) bool {
	for _, ix := range t.Indexes {
		if ix.Unique == want.Unique && strings.Join(ix.Columns, ",") == strings.Join(want.Columns, ",") && (len(want.Columns) > 0 || ix.Name == want.Name) {
			return true
		}
	}
	return false
}

func hasForeignKey(t *database.Table, want *database.ForeignKey) bool {
	for _, fk := range t.ForeignKeys {
		if fk.RefTable == want.RefTable && strings.Join(fk.Columns, ",") == strings.Join(want.Columns, ",") && strings.Join(fk.RefColumns, ",") == strings.Join(want.RefColumns, ",") {
			return true
		}
	}
	return false
}

// text is a value's text form, as the adapters print it.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case []byte:
		return string(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return fmt.Sprint(v), true
}

// readOriginal reads the original: row counts, the identifier lookups, the multiset digests
// of transformed columns, and the quasi-identifier groups before.
func (v *verifier) readOriginal(ctx context.Context) error {
	var expect int64
	for _, st := range v.order {
		for i, r := range st.rules {
			if identifying(r, st.src.Columns[i]) {
				expect += st.src.Rows
			}
		}
	}
	v.wit = newWitness(v.mem, int(min(expect, 1<<27)))
	var scratch normal
	for _, st := range v.order {
		var cols []int
		for i, r := range st.rules {
			if r.Transforms() || slices.Contains(st.quasi, i) {
				cols = append(cols, i)
			}
		}
		if len(cols) == 0 {
			cols = []int{0} // read one column to count the rows
		}
		proj := project(st.src, cols)
		pos := positions(len(st.src.Columns), cols)
		var rows int64
		tp := v.progress().Table(st.src.Name+" (original)", st.src.Rows)
		err := v.src.Scan(ctx, proj, func(row database.Row) error {
			rows++
			if rows%progressEvery == 0 {
				tp.Add(progressEvery)
			}
			for j, i := range cols {
				s, ok := text(row[j])
				if !ok || !st.rules[i].Transforms() {
					continue
				}
				st.before[i] += maphash.String(v.seed, s)
				st.nBefore[i]++
				r := st.rules[i]
				if !identifying(r, st.src.Columns[i]) {
					continue
				}
				s = strings.TrimSpace(s)
				v.wit.add(&scratch, s, st.ids[i], utf8.RuneCountInString(s) >= 4)
				if r.Kind == policy.Placeholder && r.Text == "hostname" {
					// The bare short name of a fully qualified one ("trcn-xt-app01" of
					// "trcn-xt-app01.trcn.local") is how notes and labels write it.
					if host, _, ok := strings.Cut(s, "."); ok && utf8.RuneCountInString(host) >= 4 {
						v.wit.add(&scratch, host, st.ids[i], true)
					}
				}
			}
			if st.kBefore != nil {
				n, _ := st.kBefore.Ref(v.tuple(row, pos, st.quasi))
				*n++
			}
			return nil
		})
		tp.Add(rows % progressEvery)
		tp.Done(err)
		if err != nil {
			return fmt.Errorf("read the original's table %s: %w", st.src.Name, database.RedactError(err))
		}
		st.rep.SourceRows = rows
	}
	return nil
}

// progress is the caller's Progress, or one that tells nobody.
func (v *verifier) progress() progress.Progress {
	if v.o.Progress == nil {
		return progress.Nop{}
	}
	return v.o.Progress
}

// positions maps each of n source columns to its place among cols (the columns read).
func positions(n int, cols []int) []int {
	pos := make([]int, n)
	for j, i := range cols {
		pos[i] = j
	}
	return pos
}

func project(t *database.Table, cols []int) *database.Table {
	p := &database.Table{Name: t.Name, Rows: t.Rows}
	for _, i := range cols {
		p.Columns = append(p.Columns, t.Columns[i])
	}
	return p
}

// cell is a text value of the copy to search, with where it came from.
type cell struct {
	col      int // source column position
	row      int // the row's place in its batch (see cells)
	value    string
	inText   bool // look for original values inside the text, not only as the whole value
	scan     bool // search for detect's patterns too
	scrubbed bool // the column's rule is scrub
}

// cells is a batch of cells to search, with the primary-key values of their rows (pk of
// them a row), to name the rows where something is found.
type cells struct {
	cells []cell
	keys  []any
}

// counts are a worker's findings per source column of one table.
type counts struct {
	exact, inText, patterns []int64
	from                    map[[2]int]int64 // [target column, source column id] → cells, for the report's wording
	kinds                   map[kindAt]int64 // matches of each kind in each column
	rows                    map[[2]int][]string
}

// MaxKeys is how many rows a finding names at most.
const MaxKeys = 20

type kindAt struct {
	col  int
	kind detect.Kind
}

func newCounts(n int) *counts {
	return &counts{exact: make([]int64, n), inText: make([]int64, n), patterns: make([]int64, n), from: map[[2]int]int64{}, kinds: map[kindAt]int64{}, rows: map[[2]int][]string{}}
}

const batchSize = 512

// readCopy reads the copy: row counts, text searches (on worker goroutines), foreign keys,
// unique keys, hash widths, and the quasi-identifier groups after.
func (v *verifier) readCopy(ctx context.Context) error {
	v.keys = map[string]*digestSet{}
	v.wait = map[string][]deferredFK{}
	// Which (table, columns) are referenced, so their keys are collected: by key name, the
	// referencing foreign key (any one: they name the same columns).
	refd := map[string]*database.ForeignKey{}
	for _, t := range v.ss.Tables {
		for _, fk := range t.ForeignKeys {
			refd[keyName(fk.RefTable, fk.RefColumns)] = fk
		}
	}
	for _, st := range v.order {
		if st.dst == nil {
			continue
		}
		if err := v.readCopyTable(ctx, st, refd); err != nil {
			return err
		}
	}
	// Children whose parents were read after them (cycles, self-references).
	for parent, ds := range v.wait {
		for _, d := range ds {
			v.orphans(d.child, d.fk, v.keys[parent], d.keys)
		}
	}
	return nil
}

func keyName(table string, cols []string) string { return table + "(" + strings.Join(cols, ",") + ")" }

func (v *verifier) readCopyTable(ctx context.Context, st *tableState, refd map[string]*database.ForeignKey) error {
	t, d := st.src, st.dst
	// Read the copy's columns that the original has, in the original's order.
	dcols := make([]*database.Column, len(t.Columns)) // by source column; nil: not in the copy
	var cols []int
	proj := &database.Table{Name: d.Name, Rows: d.Rows}
	for i, c := range t.Columns {
		if dcols[i] = d.Column(c.Name); dcols[i] != nil {
			cols = append(cols, i)
			proj.Columns = append(proj.Columns, dcols[i])
		}
	}
	if len(cols) == 0 {
		return nil
	}
	pos := positions(len(t.Columns), cols)
	at := func(row database.Row, i int) any { return row[pos[i]] }
	has := func(i int) bool { return dcols[i] != nil }

	// Keys this table's rows provide to children, and keys of this table's foreign keys.
	type keyCols struct {
		name string
		idx  []int
		set  *digestSet
	}
	var provided []keyCols
	for name, fk := range refd {
		if fk.RefTable == t.Name {
			kc := keyCols{name: name, set: newSet[uint16](v, int(t.Rows))}
			for _, c := range fk.RefColumns {
				if i := t.ColumnIndex(c); i >= 0 && has(i) {
					kc.idx = append(kc.idx, i)
				}
			}
			provided = append(provided, kc)
			v.keys[name] = kc.set
		}
	}
	type fkState struct {
		fk       *database.ForeignKey
		idx      []int
		orphans  int64
		deferred []uint64
		parent   *digestSet
	}
	var fks []*fkState
	for _, fk := range t.ForeignKeys {
		f := &fkState{fk: fk}
		for _, c := range fk.Columns {
			if i := t.ColumnIndex(c); i >= 0 && has(i) {
				f.idx = append(f.idx, i)
			}
		}
		if len(f.idx) != len(fk.Columns) {
			continue // a missing column is a structure finding already
		}
		if p := v.tables[fk.RefTable]; p != nil && p.done {
			f.parent = v.keys[keyName(fk.RefTable, fk.RefColumns)]
		}
		fks = append(fks, f)
	}
	var uniques []int
	var uniqueSets []*digestSet
	var dups []int64
	for i, r := range st.rules {
		if r.Kind == policy.Hash && t.Unique(t.Columns[i].Name) && has(i) {
			uniques = append(uniques, i)
			uniqueSets = append(uniqueSets, newSet[uint16](v, int(t.Rows)))
			dups = append(dups, 0)
		}
	}
	widthBad := make([]int64, len(t.Columns))
	tooLong := make([]int64, len(t.Columns))
	checked := make([]int64, len(t.Columns))

	// The rows are named by the copy's primary key (by their place in the scan without one).
	var pk []int
	for _, name := range d.PrimaryKey {
		if i := t.ColumnIndex(name); i >= 0 && has(i) {
			pk = append(pk, i)
		}
	}
	if len(pk) != len(d.PrimaryKey) {
		pk = nil
	}
	// Text searches run on workers, a batch of cells at a time.
	workers := max(1, runtime.GOMAXPROCS(0))
	work := make(chan *cells, 2*workers)
	results := make(chan *counts, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { results <- v.search(st, pk, work) })
	}
	newBatch := func() *cells { return &cells{cells: make([]cell, 0, batchSize)} }
	batch := newBatch()
	var rows int64
	key := func(row database.Row, idx []int) (uint64, bool) {
		var h maphash.Hash
		h.SetSeed(v.seed)
		for _, i := range idx {
			s, ok := text(at(row, i))
			if !ok {
				return 0, false
			}
			h.WriteString(s)
			h.WriteByte(0)
		}
		return h.Sum64(), true
	}
	tp := v.progress().Table(d.Name+" (copy)", d.Rows)
	err := v.dst.Scan(ctx, proj, func(row database.Row) error {
		rows++
		if rows%progressEvery == 0 {
			tp.Add(progressEvery)
		}
		rowAt, named := len(batch.keys)/max(len(pk), 1), false
		for _, i := range cols {
			val := at(row, i)
			s, ok := text(val)
			if !ok {
				continue
			}
			c := t.Columns[i]
			checked[i]++
			r := st.rules[i]
			if r.Transforms() {
				st.after[i] += maphash.String(v.seed, s)
			}
			if dc := dcols[i]; dc.Type == database.Text {
				if dc.Length > 0 && utf8.RuneCountInString(s) > dc.Length {
					tooLong[i]++
				}
				if r.Kind == policy.Hash && s != "" && len(s) != transform.HashWidth(r.Alphabet, c.Length) {
					widthBad[i]++
				}
				if s != "" {
					// Every text column is searched for whole original values; inside the
					// text too, unless the rule replaces whole values (a hash, pseudonym,
					// placeholder or null holds no text of its own).
					inText := !identifying(r, c) && r.Kind != policy.Hash
					batch.cells = append(batch.cells, cell{col: i, row: rowAt, value: s, inText: inText,
						scan: r.Kind == policy.Keep || r.Kind == policy.Scrub, scrubbed: r.Kind == policy.Scrub})
					named = true
				}
			}
		}
		if named {
			if pk == nil {
				batch.keys = append(batch.keys, rows)
			}
			for _, i := range pk {
				k := at(row, i)
				if b, ok := k.([]byte); ok {
					k = string(b)
				}
				batch.keys = append(batch.keys, k)
			}
		}
		if len(batch.cells) >= batchSize {
			work <- batch
			batch = newBatch()
		}
		for _, kc := range provided {
			if k, ok := key(row, kc.idx); ok {
				kc.set.Put(k, 0)
			}
		}
		for _, f := range fks {
			k, ok := key(row, f.idx)
			switch {
			case !ok: // a NULL reference points nowhere, by design
			case f.parent != nil:
				if _, found := f.parent.Get(k); !found {
					f.orphans++
				}
			default:
				f.deferred = append(f.deferred, k)
			}
		}
		for j, i := range uniques {
			if s, ok := text(at(row, i)); ok && !uniqueSets[j].Put(maphash.String(v.seed, s), 0) {
				dups[j]++
			}
		}
		if st.kAfter != nil {
			n, _ := st.kAfter.Ref(v.tuple(row, pos, st.quasi))
			*n++
		}
		return nil
	})
	if len(batch.cells) > 0 {
		work <- batch
	}
	close(work)
	wg.Wait()
	close(results)
	tp.Add(rows % progressEvery)
	tp.Done(err)
	if err != nil {
		return fmt.Errorf("read the copy's table %s: %w", t.Name, database.RedactError(err))
	}
	st.rep.TargetRows = rows
	st.done = true
	total := newCounts(len(t.Columns))
	for c := range results {
		for i := range t.Columns {
			total.exact[i] += c.exact[i]
			total.inText[i] += c.inText[i]
			total.patterns[i] += c.patterns[i]
		}
		for k, n := range c.from {
			total.from[k] += n
		}
		for k, n := range c.kinds {
			total.kinds[k] += n
		}
		for k, keys := range c.rows {
			total.rows[k] = append(total.rows[k], keys...)
		}
	}
	for i, c := range t.Columns {
		st.cols[i].Checked = checked[i]
		v.find(Survivors, t.Name, c.Name, total.exact[i], "value(s) equal to an original identifier (%s)", v.sources(total.from, i))
		v.named(total.rows[[2]int{i, rowsExact}])
		v.find(Survivors, t.Name, c.Name, total.inText[i], "value(s) contain an original identifier inside the text (%s)", v.sources(total.from, i))
		v.named(total.rows[[2]int{i, rowsInText}])
		for k, n := range total.kinds {
			if k.col == i {
				v.find(Patterns, t.Name, c.Name, n, "%s found in text", kindName(k.kind))
				v.named(total.rows[[2]int{i, rowsPattern + kindIndex(k.kind)}])
			}
		}
		if r := st.rules[i]; r.Kind == policy.Hash {
			v.find(Joins, t.Name, c.Name, widthBad[i], "hashed value(s) not %d characters wide, the width the rule gives this column (cut or altered)", transform.HashWidth(r.Alphabet, c.Length))
		}
		v.find(Joins, t.Name, c.Name, tooLong[i], "value(s) longer than the column's declared size")
	}
	for j, i := range uniques {
		v.find(Joins, t.Name, t.Columns[i].Name, dups[j], "duplicate hashed value(s) in a key column that was unique")
	}
	for _, f := range fks {
		if f.parent != nil || len(f.deferred) == 0 {
			v.reportOrphans(st, f.fk, f.orphans)
			continue
		}
		parent := keyName(f.fk.RefTable, f.fk.RefColumns)
		v.wait[parent] = append(v.wait[parent], deferredFK{st, f.fk, f.deferred})
	}
	return nil
}

// tuple digests the quasi-identifier values of a row, pos giving each source column's place
// in the row read.
func (v *verifier) tuple(row database.Row, pos, quasi []int) uint64 {
	var h maphash.Hash
	h.SetSeed(v.seed)
	for _, q := range quasi {
		if s, ok := text(row[pos[q]]); ok {
			h.WriteString(s)
		} else {
			h.WriteByte(1)
		}
		h.WriteByte(0)
	}
	return h.Sum64()
}

func (v *verifier) orphans(st *tableState, fk *database.ForeignKey, parent *digestSet, keys []uint64) {
	var n int64
	for _, k := range keys {
		if parent == nil {
			n++
			continue
		}
		if _, ok := parent.Get(k); !ok {
			n++
		}
	}
	v.reportOrphans(st, fk, n)
}

func (v *verifier) reportOrphans(st *tableState, fk *database.ForeignKey, n int64) {
	v.find(Joins, st.src.Name, strings.Join(fk.Columns, ", "), n, "row(s) reference a %s row that does not exist (orphaned foreign key)", fk.RefTable)
}

// sources names the original columns whose values were found in target column i.
func (v *verifier) sources(from map[[2]int]int64, i int) string {
	var names []string
	for k := range from {
		if k[0] == i {
			names = append(names, "from "+v.colNames[k[1]])
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Kinds of finding a row is named for, beside its column, in counts.rows.
const (
	rowsExact = iota
	rowsInText
	rowsPattern // + the kind's rank
)

// named adds the rows a cell finding names to the finding just made, in key order, at most
// MaxKeys of them.
func (v *verifier) named(keys []string) {
	if len(keys) == 0 || len(v.rep.Findings) == 0 {
		return
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := len(a) - len(b); d != 0 { // "id=7" before "id=10"
			return d
		}
		return strings.Compare(a, b)
	})
	f := &v.rep.Findings[len(v.rep.Findings)-1]
	f.Keys = keys[:min(len(keys), MaxKeys)]
}

// search runs the text checks of a table's cells until work closes; pk are the source
// positions of the copy's primary-key columns (nil: the rows are named by their place).
func (v *verifier) search(st *tableState, pk []int, work <-chan *cells) *counts {
	c := newCounts(len(st.src.Columns))
	var n normal
	name := func(b *cells, x *cell, kind int) {
		k := [2]int{x.col, kind}
		if len(c.rows[k]) < MaxKeys {
			c.rows[k] = append(c.rows[k], v.rowName(st, pk, b, x.row))
		}
	}
	for batch := range work {
		for ci := range batch.cells {
			x := &batch.cells[ci]
			// A whole value that is no original's and is not searched inside (a hash, a
			// placeholder) needs no normal form.
			if x.inText || !v.wit.absent(x.value) {
				n.normalise(x.value)
				v.wit.digests(&n)
				if id, ok := v.wit.whole(&n); ok {
					c.exact[x.col]++
					c.from[[2]int{x.col, id}]++
					name(batch, x, rowsExact)
				} else if x.inText {
					if id, ok := v.wit.inside(&n, x.scrubbed); ok {
						c.inText[x.col]++
						c.from[[2]int{x.col, id}]++
						name(batch, x, rowsInText)
					}
				}
			}
			if x.scan {
				for _, m := range detect.Find(x.value) {
					if !detect.Reserved(m, x.value) {
						c.patterns[x.col]++
						c.kinds[kindAt{x.col, m.Kind}]++
						name(batch, x, rowsPattern+kindIndex(m.Kind))
					}
				}
			}
		}
	}
	return c
}

// rowName names row i of a batch by its primary key in the copy ("id=7", "(a=1, b=2)"), or
// by its place in the scan ("row 7") when the copy has none. A key that is itself one of
// the original's identifiers is not written.
func (v *verifier) rowName(st *tableState, pk []int, b *cells, i int) string {
	if pk == nil {
		k, _ := text(b.keys[i])
		return "row " + k
	}
	var parts []string
	var n normal
	for j, col := range pk {
		k, ok := text(b.keys[i*len(pk)+j])
		if !ok {
			k = "NULL"
		} else if st.rules[col].Kind == policy.Keep {
			n.normalise(k)
			v.wit.digests(&n)
			if _, found := v.wit.whole(&n); found {
				return "(a row whose key is itself an original identifier)"
			}
		}
		parts = append(parts, st.src.Columns[col].Name+"="+k)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// finish compares what needs both sides, and sums the checks up.
func (v *verifier) finish() {
	for _, st := range v.order {
		t := st.src
		if st.dst != nil && st.rep.SourceRows != st.rep.TargetRows {
			v.find(Structure, t.Name, "", abs(st.rep.SourceRows-st.rep.TargetRows), "row count differs: %d in the original, %d in the copy", st.rep.SourceRows, st.rep.TargetRows)
		}
		for i, c := range t.Columns {
			if r := st.rules[i]; r.Transforms() && r.Kind != policy.Scrub && st.dst != nil && st.nBefore[i] > 0 && st.before[i] == st.after[i] && st.cols[i].Checked == st.nBefore[i] {
				v.find(Survivors, t.Name, c.Name, st.nBefore[i], "the column holds exactly the values it held before: rule %s was not applied", r)
			}
		}
		if r := st.rep.Risk; r != nil {
			r.Original = kstats(st.kBefore)
			r.Deidentified = kstats(st.kAfter)
			switch {
			case r.Deidentified.Records == 0:
			case v.o.MinK > 0 && r.Deidentified.K < int64(v.o.MinK):
				v.add(Finding{Check: Risk, Table: t.Name, Column: strings.Join(r.QuasiIdentifiers, ", "), Count: below(st.kAfter, int64(v.o.MinK)),
					What: fmt.Sprintf("record(s) in groups smaller than k = %d (smallest group: %d)", v.o.MinK, r.Deidentified.K)})
			case v.o.MinK == 0 && r.Deidentified.K < 5:
				v.review(Risk, t.Name, strings.Join(r.QuasiIdentifiers, ", "), r.Deidentified.Below5, "record(s) in groups smaller than 5 (smallest group: %d): review whether they may be singled out, or require a k with --min-k", r.Deidentified.K)
			}
		}
	}
	measured := false
	for _, st := range v.order {
		measured = measured || st.rep.Risk != nil
	}
	if !measured && v.o.MinK > 0 {
		v.add(Finding{Check: Risk, What: fmt.Sprintf("the policy marks no quasi-identifiers (a table's quasi_identifiers: list), so k ≥ %d cannot be shown", v.o.MinK)})
	}
	order := map[Check]int{}
	for i, c := range Checks {
		order[c.ID] = i
	}
	slices.SortStableFunc(v.rep.Findings, func(a, b Finding) int {
		if d := order[a.Check] - order[b.Check]; d != 0 {
			return d
		}
		return strings.Compare(a.Table+"."+a.Column+" "+a.What, b.Table+"."+b.Column+" "+b.What)
	})
	v.rep.Passed = true
	for _, info := range Checks {
		res := CheckResult{CheckInfo: info, Status: StatusPassed}
		for _, f := range v.rep.Findings {
			if f.Check != info.ID {
				continue
			}
			res.Findings += f.Count
			switch {
			case !f.Review:
				res.Status = StatusFailed
			case res.Status == StatusPassed:
				res.Status = StatusReview
			}
		}
		if info.ID == Risk && !measured && res.Status == StatusPassed {
			res.Status = StatusNotMeasured
		}
		res.Passed = res.Status == StatusPassed
		v.rep.Passed = v.rep.Passed && res.Passed
		v.rep.Summary = append(v.rep.Summary, res)
	}
	v.rep.Verdict = v.rep.banner()
}

// below counts the records in groups smaller than k.
func below(groups *groupCounts, k int64) int64 {
	var n int64
	for _, g := range groups.All() {
		if g < k {
			n += g
		}
	}
	return n
}

func kstats(groups *groupCounts) KStats {
	var s KStats
	for _, n := range groups.All() {
		s.Records += n
		s.Groups++
		if s.K == 0 || n < s.K {
			s.K = n
		}
		if n < 5 {
			s.Below5 += n
		}
		if n == 1 {
			s.Unique++
		}
	}
	return s
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func kindIndex(k detect.Kind) int { return slices.Index(detect.Kinds(), k) }

func kindName(k detect.Kind) string {
	switch k {
	case detect.IPv4:
		return "IPv4 addresses"
	case detect.IPv6:
		return "IPv6 addresses"
	case detect.Email:
		return "e-mail addresses"
	case detect.URL:
		return "URLs"
	case detect.Hostname:
		return "host names"
	case detect.Phone:
		return "phone numbers"
	case detect.SSN:
		return "social security numbers"
	}
	return "identifiers"
}
