package postgres

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/stewardhealth/steward/internal/database"
)

// lineReader splits the stream COPY … TO STDOUT writes into rows of COPY's text format and
// hands each decoded row to fn. Every non-NULL value is a string: PostgreSQL's own text form,
// except in the columns pass marks, whose values are *passed.
type lineReader struct {
	fn    func(database.Row) error
	row   database.Row
	pass  []bool // nil: none
	slab  []passed
	block []byte // nil: a string a line (see text)
	rest  []byte
	err   error
}

// passed is a value handed over as COPY wrote it, still escaped, for appendRow to write back
// as it is. Values are taken from a slab, so that a row's passed values cost no allocation of
// their own (a *passed fits in an interface as it is; a string would be copied to the heap).
type passed struct{ text string }

const slabValues = 1024

// newLineReader returns a reader of rows of cols columns. With blocks, the rows' text is kept
// in shared blocks (see text).
func newLineReader(cols int, pass []bool, blocks bool, fn func(database.Row) error) *lineReader {
	r := &lineReader{fn: fn, row: make(database.Row, cols)}
	if blocks {
		r.block = make([]byte, 0, blockSize)
	}
	for _, p := range pass {
		if p && len(pass) == cols {
			r.pass = pass
		}
	}
	return r
}

func (r *lineReader) Write(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	n := len(p)
	if len(r.rest) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.rest = append(r.rest, p...)
			return n, nil
		}
		r.rest = append(r.rest, p[:i]...)
		if r.err = r.line(r.rest); r.err != nil {
			return 0, r.err
		}
		r.rest = r.rest[:0]
		p = p[i+1:]
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			r.rest = append(r.rest, p...)
			return n, nil
		}
		if r.err = r.line(p[:i]); r.err != nil {
			return 0, r.err
		}
		p = p[i+1:]
	}
}

func (r *lineReader) failed() (fnErr, bad error) {
	if r.err == errColumns {
		return nil, r.err
	}
	return r.err, nil
}

// finish reports a stream that ended inside a line.
func (r *lineReader) finish() error {
	if len(r.rest) > 0 {
		return errEnded
	}
	return nil
}

const blockSize = 64 << 10

// text returns a line as a string. Without blocks, each line is a string of its own. With
// blocks, lines are copied one after the other into 64 KiB blocks, and the strings point into
// them: one allocation a block instead of one a line. A block's bytes are never written again
// once a string points to them (the next line goes after them, or into a new block), so the
// strings are as immutable as any; a value kept keeps its whole block from the collector,
// which is why only consumers that let go of their rows ask for blocks.
func (r *lineReader) text(b []byte) string {
	if r.block == nil || len(b) == 0 || len(b) > blockSize/8 {
		return string(b)
	}
	if len(r.block)+len(b) > cap(r.block) {
		r.block = make([]byte, 0, blockSize)
	}
	start := len(r.block)
	r.block = append(r.block, b...)
	return unsafe.String(&r.block[start], len(b))
}

// line decodes one row. The values share the line's string unless they hold escapes.
func (r *lineReader) line(b []byte) error {
	s := r.text(b)
	col := 0
	for start := 0; ; {
		end := strings.IndexByte(s[start:], '\t')
		last := end < 0
		if last {
			end = len(s)
		} else {
			end += start
		}
		if col >= len(r.row) {
			return errColumns
		}
		f := s[start:end]
		switch {
		case f == `\N`:
			r.row[col] = nil
		case r.pass != nil && r.pass[col]:
			if len(r.slab) == cap(r.slab) {
				r.slab = make([]passed, 0, slabValues) // the old slab stays while rows hold its values
			}
			r.slab = append(r.slab, passed{f})
			r.row[col] = &r.slab[len(r.slab)-1]
		case strings.IndexByte(f, '\\') >= 0:
			r.row[col] = unescape(f)
		default:
			r.row[col] = f
		}
		col++
		if last {
			break
		}
		start = end + 1
	}
	if col != len(r.row) {
		return errColumns
	}
	return r.fn(r.row)
}

type copyError string

func (e copyError) Error() string { return string(e) }

const errColumns = copyError("COPY row has the wrong number of columns")

func unescape(f string) string {
	var b strings.Builder
	b.Grow(len(f))
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 == len(f) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := f[i]; e {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		case 'x':
			j := i + 1
			for j < len(f) && j < i+3 && isHex(f[j]) {
				j++
			}
			if j == i+1 {
				b.WriteByte('x')
				continue
			}
			v, _ := strconv.ParseUint(f[i+1:j], 16, 8)
			b.WriteByte(byte(v))
			i = j - 1
		case '0', '1', '2', '3', '4', '5', '6', '7':
			j := i
			for j < len(f) && j < i+3 && f[j] >= '0' && f[j] <= '7' {
				j++
			}
			v, _ := strconv.ParseUint(f[i:j], 8, 8)
			b.WriteByte(byte(v))
			i = j - 1
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// appendRow encodes a row in COPY's text format, with its newline.
func appendRow(buf []byte, row database.Row) ([]byte, error) {
	for i, v := range row {
		if i > 0 {
			buf = append(buf, '\t')
		}
		switch x := v.(type) {
		case nil:
			buf = append(buf, `\N`...)
		case *passed:
			buf = append(buf, x.text...)
		case string:
			buf = appendEscaped(buf, x)
		case int64:
			buf = strconv.AppendInt(buf, x, 10)
		case float64:
			switch {
			case math.IsNaN(x):
				buf = append(buf, "NaN"...)
			case math.IsInf(x, 1):
				buf = append(buf, "Infinity"...)
			case math.IsInf(x, -1):
				buf = append(buf, "-Infinity"...)
			default:
				buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
			}
		case bool:
			if x {
				buf = append(buf, 't')
			} else {
				buf = append(buf, 'f')
			}
		case []byte:
			buf = append(buf, `\\x`...)
			buf = hex.AppendEncode(buf, x)
		default:
			return buf, fmt.Errorf("column %d: cannot write a %T", i+1, v)
		}
	}
	return append(buf, '\n'), nil
}

func appendEscaped(buf []byte, s string) []byte {
	for {
		i := 0
		for i < len(s) && !copySpecial[s[i]] {
			i++
		}
		buf = append(buf, s[:i]...)
		if i == len(s) {
			return buf
		}
		switch s[i] {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		}
		s = s[i+1:]
	}
}

// copySpecial marks the bytes COPY's text format escapes.
var copySpecial = [256]bool{'\\': true, '\n': true, '\r': true, '\t': true}
