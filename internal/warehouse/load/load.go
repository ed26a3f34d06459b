// Package load appends rows to the warehouse tables of a store, in one transaction: on any
// error nothing of the load is kept. PostgreSQL loads by COPY; SQLite by multi-row INSERTs
// prepared once per table, below database/sql, on one connection with a large page cache,
// the fact table's indexes dropped for the load and rebuilt after it. Rows are made (read
// from CSV or generated, then sealed) on a second core while the first writes them. CSV
// files are named after i2b2's tables (observation_fact.csv, …) with a header naming the
// columns; a bad row stops the load with its file, line and column, never its value.
package load

import (
	"cmp"
	"context"
	"database/sql/driver"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

// Source yields the rows of one table, each aligned with the table's columns (string, int64,
// float64 or nil), and io.EOF at the end.
type Source interface {
	Next() ([]any, error)
}

// Input is one table's rows to load.
type Input struct {
	Table    string
	Agency   string // the agency these rows belong to ("": Options.Agency)
	Estimate int64  // rows expected, for the progress bar (0: unknown)
	Source   Source
}

// Options tune a load.
type Options struct {
	Agency   string        // the agency the loaded rows belong to ("" for the whole site), unless their Input says
	Progress deid.Progress // nil: silent
	// NewStore says the store was made for this load and holds nothing else yet: SQLite then
	// does not sync to disk while loading (a crash of the machine, not of Steward, can leave
	// the file unusable; make it again).
	NewStore bool
	// Review lands the load as a batch a data validator reviews (package warehouse,
	// batches.go): its rows go to the staging tables (staged_<table>), which no query reads,
	// until the batch is approved. Without it the rows go to the warehouse at once, and the
	// batch is recorded as loaded directly.
	Review bool
	By     string // who loads, recorded on the batch
}

// Result is what a load did.
type Result struct {
	Rows    int64
	Batch   int64 // warehouse_batches.id
	Pending bool  // staged for review
}

// Batch statuses (warehouse_batches.status).
const (
	Pending  = "pending"
	Approved = "approved"
	Rejected = "rejected"
	Direct   = "direct" // loaded without review
)

// StagedName is the staging table of a warehouse table.
func StagedName(t *schema.Table) string { return "staged_" + t.StoreName() }

// Run appends the inputs to the warehouse in one transaction: on any error nothing is kept.
// PostgreSQL loads by COPY, SQLite by batched multi-row INSERTs. It returns the rows loaded.
func Run(ctx context.Context, db *store.DB, keys *seal.Keys, in []Input, o Options) (int64, error) {
	r, err := RunBatch(ctx, db, keys, in, o)
	return r.Rows, err
}

// RunBatch is Run, saying which batch the load is and whether it waits for review.
func RunBatch(ctx context.Context, db *store.DB, keys *seal.Keys, in []Input, o Options) (Result, error) {
	for _, x := range in {
		if schema.Named(x.Table) == nil {
			return Result{}, fmt.Errorf("unknown warehouse table %s", x.Table)
		}
	}
	var total, batch int64
	status := Direct
	if o.Review {
		status = Pending
	}
	// target is the table a load writes, and the columns before the row's own.
	target := func(t *schema.Table, cols []string) (string, []string) {
		if !o.Review {
			return t.StoreName(), cols
		}
		return StagedName(t), append([]string{"batch_id"}, cols...)
	}
	withBatch := func(r []any) []any {
		if !o.Review {
			return r
		}
		return append([]any{batch}, r...)
	}
	const nextBatch = `SELECT COALESCE(MAX(id), 0) + 1 FROM warehouse_batches`
	const addBatch = `INSERT INTO warehouse_batches (id, agency, status, rows, loaded_at, loaded_by) VALUES ($1, $2, $3, $4, $5, $6)`
	ontologyStmt := insertOntology()
	if o.Review {
		ontologyStmt = insertStagedOntology()
	}
	demo := newDemographics()
	each := func(write func(name string, cols []string, next func() ([]any, error)) (int64, error)) error {
		for _, x := range in {
			t := schema.Named(x.Table)
			agency := cmp.Or(x.Agency, o.Agency)
			var tp deid.TableProgress = nopProgress{}
			if o.Progress != nil {
				label := t.Name
				if x.Agency != "" {
					label += " (" + x.Agency + ")"
				}
				tp = o.Progress.Table(label, x.Estimate)
			}
			// Rows are made (read or generated, then sealed) on another core while this one
			// writes them.
			next, stop := prefetch(func() ([]any, error) {
				r, err := x.Source.Next()
				if err != nil {
					return nil, err
				}
				return storeRow(keys, t, agency, r, demo)
			})
			// A Source may leave out the columns at the end of the table's list (those added
			// since it was written): the first row says how many it has, and the store's
			// defaults fill the rest.
			first, ferr := next()
			cols := t.StoreColumns()
			if ferr == nil && len(first)-1 < len(cols)-1 {
				cols = append(cols[:len(first)-1:len(first)-1], "agency")
			}
			name, wcols := target(t, cols)
			n, err := write(name, wcols, func() ([]any, error) {
				r, err := first, ferr
				if first != nil || ferr != nil {
					first, ferr = nil, nil
				} else {
					r, err = next()
				}
				if err == nil {
					if len(r) != len(cols) {
						return nil, fmt.Errorf("table %s: a row of %d values after rows of %d", t.Name, len(r)-1, len(cols)-1)
					}
					tp.Add(1)
					r = withBatch(r)
				}
				return r, err
			})
			stop()
			tp.Done(err)
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	}
	// The fact table's indexes are dropped for the load and rebuilt after it (one sort instead
	// of a million random index inserts), inside the same transaction.
	drop := []string{`DROP INDEX observation_fact_concept`, `DROP INDEX observation_fact_patient`}
	build := []string{`CREATE INDEX observation_fact_concept ON observation_fact (concept_cd, patient_num)`,
		`CREATE INDEX observation_fact_patient ON observation_fact (patient_num)`}
	now := store.FormatTime(time.Now())
	const mark = `INSERT INTO warehouse_loads (seq, loaded_at, rows) SELECT COALESCE(MAX(seq), 0) + 1, $1, $2 FROM warehouse_loads`
	if o.Review {
		drop, build = nil, nil
	}
	if db.Dialect == store.Postgres {
		conn, err := db.Conn(ctx)
		if err != nil {
			return Result{}, err
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			tx, err := dc.(*stdlib.Conn).Conn().Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			if err := tx.QueryRow(ctx, nextBatch).Scan(&batch); err != nil {
				return fmt.Errorf("warehouse_batches: %w", err)
			}
			for _, q := range drop {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			err = each(func(name string, cols []string, next func() ([]any, error)) (int64, error) {
				return tx.CopyFrom(ctx, pgx.Identifier{name}, cols, &copySource{next: next})
			})
			if err != nil {
				return err
			}
			for _, r := range demo.entries() {
				if _, err := tx.Exec(ctx, ontologyStmt, withBatch(r)...); err != nil {
					return fmt.Errorf("warehouse_ontology: %w", err)
				}
			}
			for _, q := range build {
				if _, err := tx.Exec(ctx, q); err != nil {
					return err
				}
			}
			if !o.Review {
				if _, err := tx.Exec(ctx, mark, now, total); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, addBatch, batch, o.Agency, status, total, now, o.By); err != nil {
				return fmt.Errorf("warehouse_batches: %w", err)
			}
			return tx.Commit(ctx)
		})
		return Result{Rows: total, Batch: batch, Pending: o.Review}, err
	}
	// SQLite: below database/sql, on one connection, so that a row's values go to the driver
	// as they are (no per-value conversion) through statements prepared once per table.
	conn, err := db.Conn(ctx)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c, err := newLiteConn(ctx, dc)
		if err != nil {
			return err
		}
		// A large page cache keeps the load and the index builds off the disk until the
		// commit; a new store is not synced to disk while it loads.
		pragmas, restore := []string{`PRAGMA cache_size = -524288`}, []string{`PRAGMA cache_size = -2000`}
		if o.NewStore {
			pragmas, restore = append(pragmas, `PRAGMA synchronous = OFF`), append(restore, `PRAGMA synchronous = NORMAL`)
		}
		defer func() {
			for _, q := range restore {
				c.exec(q)
			}
		}()
		for _, q := range append(pragmas, `BEGIN IMMEDIATE`) {
			if err := c.exec(q); err != nil {
				return err
			}
		}
		err = func() error {
			if batch, err = c.queryInt(nextBatch); err != nil {
				return fmt.Errorf("warehouse_batches: %w", err)
			}
			for _, q := range drop {
				if err := c.exec(q); err != nil {
					return err
				}
			}
			if err := each(func(name string, cols []string, next func() ([]any, error)) (int64, error) {
				return c.insertBatches(name, cols, next)
			}); err != nil {
				return err
			}
			for _, r := range demo.entries() {
				if err := c.exec(ontologyStmt, withBatch(r)...); err != nil {
					return fmt.Errorf("warehouse_ontology: %w", err)
				}
			}
			for _, q := range build {
				if err := c.exec(q); err != nil {
					return err
				}
			}
			if !o.Review {
				if err := c.exec(mark, now, total); err != nil {
					return err
				}
			}
			if err := c.exec(addBatch, batch, o.Agency, status, total, now, o.By); err != nil {
				return fmt.Errorf("warehouse_batches: %w", err)
			}
			return c.exec(`COMMIT`)
		}()
		if err != nil {
			c.exec(`ROLLBACK`)
		}
		return err
	})
	return Result{Rows: total, Batch: batch, Pending: o.Review}, err
}

// liteConn is a SQLite connection as its driver offers it.
type liteConn struct {
	ctx  context.Context
	conn driver.ConnPrepareContext
}

func newLiteConn(ctx context.Context, dc any) (*liteConn, error) {
	c, ok := dc.(driver.ConnPrepareContext)
	if !ok {
		return nil, fmt.Errorf("sqlite driver %T cannot prepare statements", dc)
	}
	return &liteConn{ctx, c}, nil
}

func (c *liteConn) prepare(q string) (driver.StmtExecContext, func(), error) {
	st, err := c.conn.PrepareContext(c.ctx, q)
	if err != nil {
		return nil, nil, err
	}
	x, ok := st.(driver.StmtExecContext)
	if !ok {
		st.Close()
		return nil, nil, fmt.Errorf("sqlite driver statement %T cannot execute with a context", st)
	}
	return x, func() { st.Close() }, nil
}

// exec runs one statement with positional arguments of driver types.
func (c *liteConn) exec(q string, args ...any) error {
	st, done, err := c.prepare(q)
	if err != nil {
		return err
	}
	defer done()
	nv := make([]driver.NamedValue, len(args))
	for i, a := range args {
		if nv[i].Value, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
			return err
		}
		nv[i].Ordinal = i + 1
	}
	_, err = st.ExecContext(c.ctx, nv)
	return err
}

// queryInt runs a query of one whole number.
func (c *liteConn) queryInt(q string) (int64, error) {
	st, err := c.conn.PrepareContext(c.ctx, q)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	qc, ok := st.(driver.StmtQueryContext)
	if !ok {
		return 0, fmt.Errorf("sqlite driver statement %T cannot query with a context", st)
	}
	rows, err := qc.QueryContext(c.ctx, nil)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := make([]driver.Value, 1)
	if err := rows.Next(v); err != nil {
		return 0, err
	}
	switch n := v[0].(type) {
	case int64:
		return n, nil
	}
	return 0, fmt.Errorf("not a whole number: %T", v[0])
}

// insertBatches writes rows with multi-row INSERTs of up to 200 rows, one statement prepared
// for the full batches.
func (c *liteConn) insertBatches(name string, cols []string, next func() ([]any, error)) (int64, error) {
	const batch = 200
	stmt := func(rows int) string {
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", name, strings.Join(cols, ", "))
		for i := range rows {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			for j := range cols {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("?") // positional: the driver looks each $n up by name, which is quadratic here
			}
			b.WriteString(")")
		}
		return b.String()
	}
	full, done, err := c.prepare(stmt(batch))
	if err != nil {
		return 0, err
	}
	defer done()
	var n int64
	args := make([]driver.NamedValue, batch*len(cols))
	for i := range args {
		args[i].Ordinal = i + 1
	}
	k := 0 // values in args
	flush := func() error {
		rows := k / len(cols)
		if rows == 0 {
			return nil
		}
		st := full
		if rows < batch {
			last, done, err := c.prepare(stmt(rows))
			if err != nil {
				return fmt.Errorf("table %s: %w", name, err)
			}
			defer done()
			st = last
		}
		_, err := st.ExecContext(c.ctx, args[:k])
		n += int64(rows)
		k = 0
		if err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		return nil
	}
	for {
		r, err := next()
		if err == io.EOF {
			return n, flush()
		}
		if err != nil {
			return n, err
		}
		for _, v := range r {
			switch v.(type) {
			case nil, int64, float64, string:
			default:
				if v, err = driver.DefaultParameterConverter.ConvertValue(v); err != nil {
					return n, fmt.Errorf("table %s: %w", name, err)
				}
			}
			args[k].Value = v
			k++
		}
		if k == len(args) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
}

// prefetch calls next in a goroutine of its own, some rows ahead of the caller, until it
// returns an error (io.EOF at the end); the returned function yields the same rows and then
// that error. stop ends the goroutine early; call it once the rows are no longer wanted.
func prefetch(next func() ([]any, error)) (get func() ([]any, error), stop func()) {
	const size = 512
	type chunk struct {
		rows [][]any
		err  error
	}
	ch := make(chan chunk, 8)
	done := make(chan struct{})
	go func() {
		defer close(ch)
		for {
			c := chunk{rows: make([][]any, 0, size)}
			for len(c.rows) < size && c.err == nil {
				r, err := next()
				if err != nil {
					c.err = err
				} else {
					c.rows = append(c.rows, r)
				}
			}
			select {
			case ch <- c:
			case <-done:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	var cur chunk
	i := 0
	get = func() ([]any, error) {
		for i == len(cur.rows) {
			if cur.err != nil {
				return nil, cur.err
			}
			c, ok := <-ch
			if !ok {
				return nil, errors.New("rows ended early")
			}
			cur, i = c, 0
		}
		i++
		return cur.rows[i-1], nil
	}
	stop = func() {
		close(done)
		for range ch {
		}
	}
	return get, stop
}

type nopProgress struct{}

func (nopProgress) Add(int64)  {}
func (nopProgress) Done(error) {}

// storeRow seals the blob columns of a file row and adds the agency.
func storeRow(keys *seal.Keys, t *schema.Table, agency string, r []any, demographics *demographics) ([]any, error) {
	if t.Name == "patient_identity" {
		str := func(v any) string { s, _ := v.(string); return s }
		b, _ := json.Marshal(schema.Identity{Name: str(r[1]), MRN: str(r[2]), Address: str(r[3])})
		return []any{r[0], keys.Seal(string(b), schema.IdentityPlace(agency, r[0])), agency}, nil
	}
	need := 0 // the row must hold the columns that name it
	for _, k := range t.Key {
		need = max(need, t.Index(k)+1)
	}
	if len(r) > len(t.Cols) || len(r) < need {
		return nil, fmt.Errorf("table %s: a row of %d values, want %d to %d", t.Name, len(r), need, len(t.Cols))
	}
	out := make([]any, len(r)+1)
	copy(out, r)
	if t.Name == "observation_fact" && len(r) > 9 {
		// A numeric value without i2b2's qualifier is an equal one (E), as i2b2's loaders
		// write it: NUMBER constraints read tval_char, and would never see it otherwise.
		if vt, _ := r[7].(string); vt == "N" && r[9] != nil && r[8] == "" {
			out[8] = "E"
		}
	}
	for i, c := range t.Cols[:len(r)] {
		if s, ok := out[i].(string); ok && c.Kind == schema.Blob && s != "" {
			out[i] = keys.Seal(s, t.Place(i, agency, out))
		}
	}
	out[len(r)] = agency
	if t.Name == "patient_dimension" && demographics != nil {
		demographics.add(t, out)
	}
	return out, nil
}

// copySource adapts a row function to pgx's CopyFromSource.
type copySource struct {
	next func() ([]any, error)
	row  []any
	err  error
}

func (c *copySource) Next() bool {
	c.row, c.err = c.next()
	if c.err == io.EOF {
		c.err = nil
		return false
	}
	return c.err == nil
}
func (c *copySource) Values() ([]any, error) { return c.row, nil }
func (c *copySource) Err() error             { return c.err }

// csvSource reads one table's CSV file: a header naming i2b2's columns (any order, any
// subset that holds the required ones), then one row per line.
type csvSource struct {
	file string
	t    *schema.Table
	r    *csv.Reader
	pos  []int // file field → table column
	line int
}

// CSVInputs opens DIR/<table>.csv for each warehouse table that has a file there.
func CSVInputs(dir string) ([]Input, func(), error) {
	var in []Input
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for _, t := range schema.Tables {
		var path string
		var f *os.File
		var err error
		names := t.Files
		if len(names) == 0 {
			names = []string{t.Name}
		}
		for _, name := range names {
			path = filepath.Join(dir, name+".csv")
			if f, err = os.Open(path); !errors.Is(err, os.ErrNotExist) {
				break
			}
		}
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		files = append(files, f)
		src, err := newCSVSource(path, f, t)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		var est int64
		if st, err := f.Stat(); err == nil {
			est = st.Size() / 60
		}
		in = append(in, Input{Table: t.Name, Estimate: est, Source: src})
	}
	if len(in) == 0 {
		return nil, nil, fmt.Errorf("%s: no warehouse CSV files (want files named like observation_fact.csv)", dir)
	}
	return in, closeAll, nil
}

func newCSVSource(file string, f io.Reader, t *schema.Table) (*csvSource, error) {
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s line 1: no header: %w", file, err)
	}
	s := &csvSource{file: file, t: t, r: r, line: 1}
	seen := map[int]bool{}
	ignored := map[string]bool{}
	for k, h := range head {
		name := strings.ToLower(strings.TrimSpace(h))
		if k == 0 {
			name = strings.TrimPrefix(name, "\ufeff") // a byte order mark, as spreadsheet exports write
		}
		i := t.Index(name)
		switch {
		case i < 0 && t.Ignores(name):
			if ignored[name] {
				return nil, fmt.Errorf("%s line 1 column %s: named twice", file, h)
			}
			ignored[name] = true
			s.pos = append(s.pos, -1)
			continue
		case i < 0:
			return nil, fmt.Errorf("%s line 1 column %s: not a column of %s", file, h, t.Name)
		case seen[i]:
			return nil, fmt.Errorf("%s line 1 column %s: named twice", file, h)
		}
		seen[i] = true
		s.pos = append(s.pos, i)
	}
	for i, c := range t.Cols {
		if c.Required && !seen[i] {
			return nil, fmt.Errorf("%s line 1: column %s is missing", file, c.Name)
		}
	}
	return s, nil
}

func (s *csvSource) Next() ([]any, error) {
	rec, err := s.r.Read()
	s.line++
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s line %d: %w", s.file, pe.Line, pe.Err)
		}
		return nil, fmt.Errorf("%s line %d: %w", s.file, s.line, err)
	}
	s.line, _ = s.r.FieldPos(0)
	row := make([]any, len(s.t.Cols))
	for i, c := range s.t.Cols {
		row[i], _ = parseValue(c, c.Default)
	}
	if len(rec) != len(s.pos) {
		return nil, fmt.Errorf("%s line %d: %d fields, want %d as in the header", s.file, s.line, len(rec), len(s.pos))
	}
	for k, i := range s.pos {
		if i < 0 {
			continue // a column the warehouse does not keep
		}
		c := s.t.Cols[i]
		v, err := parseValue(c, rec[k])
		if err != nil {
			return nil, fmt.Errorf("%s line %d column %s: %w", s.file, s.line, c.Name, err)
		}
		if c.Required && (v == nil || v == "") {
			return nil, fmt.Errorf("%s line %d column %s: empty, but required", s.file, s.line, c.Name)
		}
		row[i] = v
	}
	return row, nil
}

// parseValue reads a field of a column's kind; errors never repeat the value.
func parseValue(c schema.Column, s string) (any, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if c.Kind == schema.Text {
			return "", nil
		}
		if c.Default != "" {
			return parseValue(c, c.Default)
		}
		return nil, nil
	}
	switch c.Kind {
	case schema.Integer:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errors.New("not a whole number")
		}
		return n, nil
	case schema.Number:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("not a number")
		}
		return f, nil
	case schema.Date:
		d, err := schema.ParseTime(s)
		if err != nil {
			return nil, err
		}
		return d[:10], nil
	case schema.Timestamp:
		return schema.ParseTime(s)
	}
	return s, nil
}

// WriteCSV writes each input as DIR/<table>.csv in the layout CSVInputs reads.
func WriteCSV(dir string, in []Input) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, x := range in {
		t := schema.Named(x.Table)
		if err := writeCSV(filepath.Join(dir, t.Name+".csv"), t, x.Source); err != nil {
			return err
		}
	}
	return nil
}

func writeCSV(path string, t *schema.Table, src Source) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	head := make([]string, len(t.Cols))
	for i, c := range t.Cols {
		head[i] = c.Name
	}
	w.Write(head)
	rec := make([]string, len(t.Cols))
	for {
		r, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		for i, v := range r {
			rec[i] = ""
			if v != nil {
				rec[i] = fmt.Sprint(v)
			}
		}
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return f.Close()
}
