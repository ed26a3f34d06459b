package mysql

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-sql-driver/mysql"
	"github.com/stewardhealth/steward/internal/database"
)

const (
	batchRows  = 1000
	batchBytes = 4 << 20
)

// execer is a *sql.Conn or a *sql.Tx: what a writer sends its statements through.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// target says where a writer puts the rows of a table.
type target struct {
	into    string             // the table written, maybe a staging table
	label   string             // the table named in errors
	columns []*database.Column // the columns of the Rows written
	write   []int              // the positions written: all but generated columns
	binary  []bool             // by position: the column takes binary literals
}

// newTarget describes writing the rows of t into the table into, leaving out the columns
// that are generated in table source (t's own table, whose definition into copies).
func newTarget(ctx context.Context, ex execer, t *database.Table, into, source string) (*target, error) {
	gen, err := generatedColumns(ctx, ex, source)
	if err != nil {
		return nil, err
	}
	tg := &target{into: into, label: t.Name, columns: t.Columns, binary: make([]bool, len(t.Columns))}
	for i, c := range t.Columns {
		tg.binary[i] = binaryColumn(c)
		if !gen[c.Name] {
			tg.write = append(tg.write, i)
		}
	}
	return tg, nil
}

func generatedColumns(ctx context.Context, ex execer, table string) (map[string]bool, error) {
	rows, err := ex.QueryContext(ctx, `SELECT COLUMN_NAME FROM information_schema.COLUMNS
		WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?
		AND (EXTRA LIKE '%VIRTUAL GENERATED%' OR EXTRA LIKE '%STORED GENERATED%' OR EXTRA LIKE '%PERSISTENT GENERATED%')`, table)
	if err != nil {
		return nil, err
	}
	gen := map[string]bool{}
	err = each(rows, func() error {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		gen[name] = true
		return nil
	})
	return gen, err
}

func (tg *target) columnList() string {
	names := make([]string, len(tg.write))
	for i, p := range tg.write {
		names[i] = tg.columns[p].Name
	}
	return quoteIdents(names)
}

// binaryColumn reports whether string values for c are bytes rather than characters.
func binaryColumn(c *database.Column) bool {
	if c.Type == database.Bytes {
		return true
	}
	n := strings.ToLower(c.Native)
	for _, p := range []string{"bit", "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection"} {
		if n == p || strings.HasPrefix(n, p+"(") {
			return true
		}
	}
	return false
}

// newWriter starts a load into tg by the fastest method the server allows.
func (d *DB) newWriter(ctx context.Context, ex execer, tg *target) (rowWriter, error) {
	m := d.method
	if m == methodAuto {
		m = methodInsert
		if d.loadData {
			m = methodLoadData
		}
	}
	if m == methodLoadData {
		return newLoadWriter(ctx, ex, tg)
	}
	limit := min(batchBytes, d.maxPacket/2)
	return &insertWriter{ctx: ctx, ex: ex, tg: tg, limit: limit, max: d.maxPacket - 1024,
		prefix: "INSERT INTO " + quoteIdent(tg.into) + " (" + tg.columnList() + ") VALUES "}, nil
}

// rowWriter is database.RowWriter; Close and Abort leave the transaction to the caller.
type rowWriter interface {
	Write(database.Row) error
	Close() (int64, error)
	Abort()
}

// insertWriter loads by multi-row INSERT statements it writes itself, so that neither
// placeholders (at most 65,535 a statement) nor the driver's interpolation limit it.
type insertWriter struct {
	ctx    context.Context
	ex     execer
	tg     *target
	prefix string
	limit  int // flush a batch past this many bytes
	max    int // never send a statement this long (max_allowed_packet)
	buf    []byte
	rows   int // rows in buf
	total  int64
	err    error
}

func (w *insertWriter) Write(row database.Row) error {
	if w.err != nil {
		return w.err
	}
	if len(row) != len(w.tg.columns) {
		return fmt.Errorf("write %s: a row of %d values for %d columns", w.tg.label, len(row), len(w.tg.columns))
	}
	start := len(w.buf)
	if w.rows == 0 {
		w.buf = append(w.buf[:0], w.prefix...)
		start = len(w.buf)
	} else {
		w.buf = append(w.buf, ',')
	}
	w.buf = append(w.buf, '(')
	for i, p := range w.tg.write {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		var err error
		if w.buf, err = appendLiteral(w.buf, row[p], w.tg.columns[p], w.tg.binary[p]); err != nil {
			w.err = fmt.Errorf("write %s: %w", w.tg.label, err)
			return w.err
		}
	}
	w.buf = append(w.buf, ')')
	w.rows++
	if len(w.buf) > w.max && w.rows > 1 {
		// This row would make the statement too long for the server: send the others first.
		rest := append([]byte(w.prefix), w.buf[start+1:]...)
		w.buf, w.rows = w.buf[:start], w.rows-1
		if err := w.flush(); err != nil {
			return err
		}
		w.buf, w.rows = rest, 1
	}
	if w.rows >= batchRows || len(w.buf) >= w.limit {
		return w.flush()
	}
	return nil
}

func (w *insertWriter) flush() error {
	if w.rows == 0 || w.err != nil {
		return w.err
	}
	if _, err := w.ex.ExecContext(w.ctx, string(w.buf)); err != nil {
		w.err = fmt.Errorf("write %s: %w", w.tg.label, err)
		return w.err
	}
	w.total += int64(w.rows)
	w.buf, w.rows = w.buf[:0], 0
	return nil
}

func (w *insertWriter) Close() (int64, error) {
	err := w.flush()
	w.err = errClosed
	return w.total, err
}

func (w *insertWriter) Abort() { w.err = errClosed }

var errClosed = errors.New("the writer is closed")

// appendLiteral appends v as an SQL literal for column c.
func appendLiteral(buf []byte, v any, c *database.Column, binary bool) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, "NULL"...), nil
	case int64:
		return strconv.AppendInt(buf, v, 10), nil
	case int:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(buf, int64(v), 10), nil
	case uint64:
		return strconv.AppendUint(buf, v, 10), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return buf, fmt.Errorf("column %s: MySQL cannot store %v", c.Name, v)
		}
		return strconv.AppendFloat(buf, v, 'g', -1, 64), nil
	case float32:
		return appendLiteral(buf, float64(v), c, binary)
	case bool:
		if v {
			return append(buf, '1'), nil
		}
		return append(buf, '0'), nil
	case string:
		if c.Type == database.Integer && isInteger(v) {
			return append(buf, v...), nil // beyond int64 (BIGINT UNSIGNED): a number, not a string
		}
		if binary {
			buf = append(buf, "_binary"...)
		}
		return appendEscaped(buf, v), nil
	case []byte:
		buf = append(buf, "_binary"...)
		return appendEscaped(buf, v), nil
	}
	return buf, fmt.Errorf("column %s: unsupported value type %T", c.Name, v)
}

func isInteger(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// loadWriter streams rows to LOAD DATA LOCAL INFILE through a pipe: one statement a table.
type loadWriter struct {
	tg    *target
	ex    execer
	ctx   context.Context
	name  string
	pw    *io.PipeWriter
	bw    *bufio.Writer
	done  chan loadResult
	total int64
	err   error
	buf   []byte
	once  sync.Once
}

type loadResult struct {
	rows int64
	err  error
}

var loadSeq atomic.Int64

func newLoadWriter(ctx context.Context, ex execer, tg *target) (*loadWriter, error) {
	w := &loadWriter{tg: tg, ex: ex, ctx: ctx, done: make(chan loadResult, 1),
		name: "steward-" + strconv.FormatInt(loadSeq.Add(1), 10)}
	pr, pw := io.Pipe()
	w.pw, w.bw = pw, bufio.NewWriterSize(pw, 256<<10)
	mysql.RegisterReaderHandler(w.name, func() io.Reader { return pr })

	var cols, set []string
	for _, p := range tg.write {
		c := quoteIdent(tg.columns[p].Name)
		if tg.binary[p] {
			v := "@v" + itoa(p)
			cols = append(cols, v)
			set = append(set, c+" = UNHEX("+v+")")
		} else {
			cols = append(cols, c)
		}
	}
	q := "LOAD DATA LOCAL INFILE 'Reader::" + w.name + "' INTO TABLE " + quoteIdent(tg.into) +
		` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\t' ESCAPED BY '\\' LINES TERMINATED BY '\n' (` +
		strings.Join(cols, ", ") + ")"
	if len(set) > 0 {
		q += " SET " + strings.Join(set, ", ")
	}
	go func() {
		res, err := ex.ExecContext(ctx, q)
		var n int64
		if err == nil {
			n, err = res.RowsAffected()
		}
		// Unblock Write if the server stopped reading.
		pr.CloseWithError(fmt.Errorf("the load has ended: %v", err))
		w.done <- loadResult{n, err}
	}()
	return w, nil
}

func (w *loadWriter) Write(row database.Row) error {
	if w.err != nil {
		return w.err
	}
	if len(row) != len(w.tg.columns) {
		return fmt.Errorf("write %s: a row of %d values for %d columns", w.tg.label, len(row), len(w.tg.columns))
	}
	b := w.buf[:0]
	for i, p := range w.tg.write {
		if i > 0 {
			b = append(b, '\t')
		}
		var err error
		if b, err = appendField(b, row[p], w.tg.columns[p], w.tg.binary[p]); err != nil {
			w.err = fmt.Errorf("write %s: %w", w.tg.label, err)
			return w.err
		}
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		w.fail()
		return w.err
	}
	w.total++
	return nil
}

// fail ends the load after an error on the pipe and keeps the server's reason.
func (w *loadWriter) fail() {
	w.pw.CloseWithError(errClosed)
	res := w.wait()
	w.err = fmt.Errorf("write %s: %w", w.tg.label, res.err)
}

func (w *loadWriter) wait() loadResult {
	res := <-w.done
	w.once.Do(func() { mysql.DeregisterReaderHandler(w.name) })
	if res.err == nil {
		res.err = errClosed
	}
	return res
}

func (w *loadWriter) Close() (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.err = errClosed
	if err := w.bw.Flush(); err != nil {
		w.pw.CloseWithError(errClosed)
		res := w.wait()
		return 0, fmt.Errorf("write %s: %w", w.tg.label, res.err)
	}
	w.pw.Close()
	res := <-w.done
	w.once.Do(func() { mysql.DeregisterReaderHandler(w.name) })
	if res.err != nil {
		return 0, fmt.Errorf("write %s: %w", w.tg.label, res.err)
	}
	// LOCAL makes the server turn errors into warnings and go on: any warning is a failure.
	if err := firstWarning(w.ctx, w.ex); err != nil {
		return 0, fmt.Errorf("write %s: %w", w.tg.label, err)
	}
	if res.rows != w.total {
		return 0, fmt.Errorf("write %s: the server loaded %d rows of %d", w.tg.label, res.rows, w.total)
	}
	return w.total, nil
}

func (w *loadWriter) Abort() {
	if w.err != nil {
		return
	}
	w.err = errClosed
	w.pw.CloseWithError(errors.New("aborted"))
	w.wait()
}

func firstWarning(ctx context.Context, ex execer) error {
	rows, err := ex.QueryContext(ctx, "SHOW WARNINGS")
	if err != nil {
		return err
	}
	var found error
	err = each(rows, func() error {
		var level, message string
		var code int
		if err := rows.Scan(&level, &code, &message); err != nil {
			return err
		}
		if found == nil && level != "Note" {
			found = fmt.Errorf("%s %d: %s", level, code, message)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return found
}

// appendField appends v as a field of LOAD DATA's tab-separated, backslash-escaped format;
// binary columns go as hexadecimal, which the statement UNHEXes.
func appendField(buf []byte, v any, c *database.Column, binary bool) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(buf, '\\', 'N'), nil
	case string:
		if binary {
			return hex.AppendEncode(buf, []byte(v)), nil
		}
		return appendFieldText(buf, v), nil
	case []byte:
		if binary {
			return hex.AppendEncode(buf, v), nil
		}
		return appendFieldText(buf, v), nil
	}
	start := len(buf)
	buf, err := appendLiteral(buf, v, c, false) // numbers and booleans: the same text
	if err != nil || !binary {
		return buf, err
	}
	text := string(buf[start:])
	return hex.AppendEncode(buf[:start], []byte(text)), nil
}

func appendFieldText[T string | []byte](buf []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc byte
		switch s[i] {
		case 0:
			esc = '0'
		case '\t':
			esc = 't'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\\':
			esc = '\\'
		case 0x1a:
			esc = 'Z'
		default:
			continue
		}
		buf = append(buf, s[start:i]...)
		buf = append(buf, '\\', esc)
		start = i + 1
	}
	return append(buf, s[start:]...)
}
