package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stewardhealth/steward/internal/database"
)

// kind is how binary COPY codes a column's values, for the types this package knows; a table
// with a column of any other type moves in COPY's text format (see binaryKinds).
type kind uint8

const (
	unknownKind kind = iota
	textKind         // text, varchar, char(n), citext, json: the binary form is the text
	jsonbKind        // a version byte, 1, then the text
	int2Kind
	int4Kind
	int8Kind
	float4Kind
	float8Kind
	numericKind
	boolKind
	dateKind
	timestampKind
	timestamptzKind
	byteaKind
	uuidKind
	inetKind
	cidrKind
)

// kindOf is the kind of a column, from its portable type and the type it is declared with.
// The type name is not enough for the text types: name is left out, since its input function
// cuts a value that is too long where its receive function refuses it.
func kindOf(c *database.Column) kind {
	switch c.Type {
	case database.Text:
		if c.Native != "name" {
			return textKind
		}
	case database.Integer:
		switch c.Bits {
		case 16:
			return int2Kind
		case 32:
			return int4Kind
		case 64:
			return int8Kind
		}
	case database.Float:
		switch c.Native {
		case "real":
			return float4Kind
		case "double precision":
			return float8Kind
		}
	case database.Decimal:
		return numericKind
	case database.Bool:
		return boolKind
	case database.Date:
		return dateKind
	case database.Timestamp:
		switch {
		case strings.HasSuffix(c.Native, " with time zone"):
			return timestamptzKind
		case strings.HasSuffix(c.Native, " without time zone"):
			return timestampKind
		}
	case database.Bytes:
		return byteaKind
	case database.Inet:
		switch c.Native {
		case "inet":
			return inetKind
		case "cidr":
			return cidrKind
		}
	case database.Other:
		switch c.Native {
		case "uuid":
			return uuidKind
		case "json":
			return textKind
		case "jsonb":
			return jsonbKind
		}
	}
	return unknownKind
}

// binaryKinds decides how t moves: by binary COPY when every column has a known kind (the
// kinds are returned), in COPY's text format otherwise (nil). The reading and the writing side
// both decide by it, from the table's columns alone, so that what ScanPassing hands over
// undecoded is always in the format the writer writes.
func binaryKinds(t *database.Table) []kind {
	kinds := make([]kind, len(t.Columns))
	for i, c := range t.Columns {
		if kinds[i] = kindOf(c); kinds[i] == unknownKind {
			return nil
		}
	}
	return kinds
}

// outputFunc names the output function that gives a column's text, for the kinds whose text
// the reader does not make itself: the server prints them, as COPY's text format would,
// with the session's TimeZone, extra_float_digits, bytea_output or DateStyle.
var outputFunc = [...]string{
	float4Kind:      "float4out",
	float8Kind:      "float8out",
	numericKind:     "numeric_out",
	timestamptzKind: "timestamptz_out",
	byteaKind:       "byteaout",
	inetKind:        "inet_out",
	cidrKind:        "cidr_out",
	dateKind:        "date_out",
	timestampKind:   "timestamp_out",
}

// typeName is the type the server parses a kind's values as (see resolver).
var typeName = [...]string{
	int2Kind:        "int2",
	int4Kind:        "int4",
	int8Kind:        "int8",
	float4Kind:      "float4",
	float8Kind:      "float8",
	numericKind:     "numeric",
	boolKind:        "bool",
	dateKind:        "date",
	timestampKind:   "timestamp",
	timestamptzKind: "timestamptz",
	byteaKind:       "bytea",
	uuidKind:        "uuid",
	inetKind:        "inet",
	cidrKind:        "cidr",
}

// binaryCopy plans the binary read of a table: how each column is decoded, and whether the
// server prints some of them (then the COPY reads a query rather than the table).
type binaryCopy struct {
	cols    []binaryColumn
	printed bool // some column is printed by the server
}

type binaryColumn struct {
	kind    kind // textKind for a column the server prints
	pass    bool // handed over undecoded
	printed bool
}

// planBinary decides how ScanPassing reads each column of a table whose kinds are known:
// columns pass marks are handed over as they came; the others are decoded into the string
// COPY's text format would give. The reader makes the text of integers, booleans, uuids and
// the text types itself, and of dates and timestamps when the session's DateStyle is ISO
// (iso); the server prints the rest (see outputFunc).
func planBinary(kinds []kind, pass []bool, iso bool) *binaryCopy {
	p := &binaryCopy{cols: make([]binaryColumn, len(kinds))}
	for i, k := range kinds {
		c := binaryColumn{kind: k, pass: len(pass) == len(kinds) && pass[i]}
		switch {
		case c.pass:
		case k == textKind, k == jsonbKind, k == int2Kind, k == int4Kind, k == int8Kind, k == boolKind, k == uuidKind:
		case (k == dateKind || k == timestampKind) && iso:
		default:
			c.kind, c.printed, p.printed = textKind, true, true
		}
		p.cols[i] = c
	}
	return p
}

// statement is the COPY that reads t for the plan: the table itself, or, when the server
// prints some columns, a query of the table alone (ONLY: COPY of a table does not read its
// inheritance children).
func (p *binaryCopy) statement(t *database.Table) string {
	if !p.printed {
		return "COPY " + quote(t.Name) + " (" + columnList(t) + ") TO STDOUT (FORMAT binary)"
	}
	var b strings.Builder
	b.WriteString("COPY (SELECT ")
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		if p.cols[i].printed {
			b.WriteString("pg_catalog." + outputFunc[kindOf(c)] + "(" + quote(c.Name) + ")::text")
		} else {
			b.WriteString(quote(c.Name))
		}
	}
	b.WriteString(" FROM ONLY " + quote(t.Name) + ") TO STDOUT (FORMAT binary)")
	return b.String()
}

// binarySignature starts every binary COPY stream; the flags and the header extension's
// length follow, both 32-bit.
const binarySignature = "PGCOPY\n\xff\r\n\x00"

// binaryReader reads the stream of a binary COPY … TO STDOUT and hands each row to fn. A
// column's value is nil for NULL, a *raw for a column handed over undecoded, and otherwise
// the string COPY's text format would give for it (see planBinary).
//
// Each row's bytes are copied into shared 64 KiB blocks, and so is the text the reader makes
// (of integers, dates…): the strings and raw values point into them, one allocation a block
// (see lineReader.text: for consumers that let go of their rows).
type binaryReader struct {
	fn     func(database.Row) error
	table  *database.Table
	cols   []binaryColumn
	row    database.Row
	made   int // columns whose text the reader makes
	slab   []raw
	block  []byte
	rest   []byte
	header bool
	ended  bool  // the trailer was read
	err    error // from fn, returned as it is
	bad    error // the stream is not what it should be
}

// raw is a value handed over as binary COPY sent it, for a binary copyWriter to send back as
// it is. Values are taken from a slab, as passed ones are.
type raw struct{ b string }

// maxMade bounds the text the reader makes for one value: a timestamp such as
// "294276-12-31 23:59:59.999999 BC", a uuid.
const maxMade = 40

func newBinaryReader(t *database.Table, p *binaryCopy, fn func(database.Row) error) *binaryReader {
	r := &binaryReader{fn: fn, table: t, cols: p.cols, row: make(database.Row, len(p.cols)), block: make([]byte, 0, blockSize)}
	for _, c := range p.cols {
		if !c.pass && c.kind != textKind && c.kind != jsonbKind && c.kind != boolKind {
			r.made++
		}
	}
	return r
}

func (r *binaryReader) Write(p []byte) (int, error) {
	if r.err != nil || r.bad != nil {
		return 0, r.failure()
	}
	n := len(p)
	buffered := len(r.rest) > 0
	if buffered {
		r.rest = append(r.rest, p...)
		p = r.rest
	}
	used := r.consume(p)
	if r.err != nil || r.bad != nil {
		return 0, r.failure()
	}
	if buffered {
		r.rest = r.rest[:copy(r.rest, p[used:])]
	} else {
		r.rest = append(r.rest, p[used:]...)
	}
	return n, nil
}

func (r *binaryReader) failure() error {
	if r.err != nil {
		return r.err
	}
	return r.bad
}

// The ways a binary COPY stream can be wrong. None holds a value.
const (
	errNotBinary   = copyError("COPY did not start with the binary signature")
	errFlags       = copyError("binary COPY has flags this reader does not know")
	errFieldLength = copyError("binary COPY has a field of negative length")
	errAfterEnd    = copyError("binary COPY goes on after its trailer")
	errEnded       = copyError("COPY ended inside a row")
)

// consume reads the header and every complete row of p, and says how much of p it used.
func (r *binaryReader) consume(p []byte) int {
	off := 0
	if !r.header {
		if len(p) < len(binarySignature)+8 {
			return 0
		}
		if string(p[:len(binarySignature)]) != binarySignature {
			r.bad = errNotBinary
			return 0
		}
		flags := binary.BigEndian.Uint32(p[11:])
		ext := int64(binary.BigEndian.Uint32(p[15:]))
		if flags&0xffff0000 != 0 || ext > math.MaxInt32 {
			r.bad = errFlags
			return 0
		}
		if int64(len(p)) < 19+ext {
			return 0
		}
		off = 19 + int(ext)
		r.header = true
	}
	for !r.ended && len(p)-off >= 2 {
		count := int16(binary.BigEndian.Uint16(p[off:]))
		if count == -1 {
			r.ended = true
			off += 2
			break
		}
		if int(count) != len(r.row) {
			r.bad = errColumns
			return off
		}
		end := off + 2
		for range count {
			if len(p)-end < 4 {
				return off
			}
			l := int32(binary.BigEndian.Uint32(p[end:]))
			end += 4
			if l == -1 {
				continue
			}
			if l < 0 {
				r.bad = errFieldLength
				return off
			}
			if len(p)-end < int(l) {
				return off
			}
			end += int(l)
		}
		if err := r.tuple(p[off+2 : end]); err != nil {
			return off
		}
		off = end
	}
	if r.ended && off < len(p) {
		r.bad = errAfterEnd
	}
	return off
}

// reserve makes room for n more bytes in the block.
func (r *binaryReader) reserve(n int) {
	if cap(r.block)-len(r.block) < n {
		r.block = make([]byte, 0, max(blockSize, n))
	}
}

// str is b as a string, without a copy: b is in a block, never written again.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// tuple decodes one row's fields (each a 32-bit length, -1 for NULL, then the bytes).
func (r *binaryReader) tuple(b []byte) error {
	made := r.made * maxMade
	if len(b) > blockSize/8 {
		b = bytes.Clone(b)
		r.reserve(made)
	} else {
		r.reserve(len(b) + made)
		start := len(r.block)
		r.block = append(r.block, b...)
		b = r.block[start:]
	}
	off := 0
	for i, c := range r.cols {
		l := int32(binary.BigEndian.Uint32(b[off:]))
		off += 4
		if l == -1 {
			r.row[i] = nil
			continue
		}
		f := b[off : off+int(l)]
		off += int(l)
		if c.pass {
			if len(r.slab) == cap(r.slab) {
				r.slab = make([]raw, 0, slabValues) // the old slab stays while rows hold its values
			}
			r.slab = append(r.slab, raw{str(f)})
			r.row[i] = &r.slab[len(r.slab)-1]
			continue
		}
		v, ok := r.decode(c.kind, f)
		if !ok {
			col := r.table.Columns[i]
			r.bad = fmt.Errorf("column %s: %d bytes are not a binary %s value", col.Name, len(f), col.Native)
			return r.bad
		}
		r.row[i] = v
	}
	if err := r.fn(r.row); err != nil {
		r.err = err
		return err
	}
	return nil
}

// decode gives the text of one value: a string.
func (r *binaryReader) decode(k kind, f []byte) (any, bool) {
	start := len(r.block)
	switch k {
	case textKind:
		return str(f), true
	case jsonbKind:
		if len(f) < 1 || f[0] != 1 {
			return nil, false
		}
		return str(f[1:]), true
	case boolKind:
		if len(f) != 1 {
			return nil, false
		}
		if f[0] != 0 {
			return "t", true
		}
		return "f", true
	case int2Kind:
		if len(f) != 2 {
			return nil, false
		}
		r.block = strconv.AppendInt(r.block, int64(int16(binary.BigEndian.Uint16(f))), 10)
	case int4Kind:
		if len(f) != 4 {
			return nil, false
		}
		r.block = strconv.AppendInt(r.block, int64(int32(binary.BigEndian.Uint32(f))), 10)
	case int8Kind:
		if len(f) != 8 {
			return nil, false
		}
		r.block = strconv.AppendInt(r.block, int64(binary.BigEndian.Uint64(f)), 10)
	case dateKind:
		if len(f) != 4 {
			return nil, false
		}
		r.block = appendDate(r.block, int32(binary.BigEndian.Uint32(f)))
	case timestampKind:
		if len(f) != 8 {
			return nil, false
		}
		r.block = appendTimestamp(r.block, int64(binary.BigEndian.Uint64(f)))
	case uuidKind:
		if len(f) != 16 {
			return nil, false
		}
		r.block = appendUUID(r.block, f)
	default:
		return nil, false
	}
	return str(r.block[start:]), true
}

func (r *binaryReader) failed() (fnErr, bad error) { return r.err, r.bad }

// finish reports a stream that ended before its trailer.
func (r *binaryReader) finish() error {
	if !r.ended || len(r.rest) > 0 {
		return errEnded
	}
	return nil
}

// binaryWriter encodes rows for COPY … FROM STDIN (FORMAT binary).
type binaryWriter struct {
	ctx   context.Context
	table *database.Table
	kinds []kind
	res   resolver
}

// binaryHeader is the signature, no flags, and an empty header extension; binaryTrailer ends
// the data.
var (
	binaryHeader  = []byte(binarySignature + "\x00\x00\x00\x00\x00\x00\x00\x00")
	binaryTrailer = []byte{0xff, 0xff}
)

// appendRow encodes a row: its field count, then each value's length (-1 for NULL) and bytes.
func (w *binaryWriter) appendRow(buf []byte, row database.Row) ([]byte, error) {
	if len(row) != len(w.kinds) {
		return buf, fmt.Errorf("a row of %d values for %d columns", len(row), len(w.kinds))
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(row)))
	for i, v := range row {
		if v == nil {
			buf = append(buf, 0xff, 0xff, 0xff, 0xff)
			continue
		}
		if x, ok := v.(*raw); ok {
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(x.b)))
			buf = append(buf, x.b...)
			continue
		}
		if x, ok := v.(string); ok && w.kinds[i] == textKind { // the common case
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(x)))
			buf = append(buf, x...)
			continue
		}
		start := len(buf)
		var err error
		if buf, err = w.appendValue(append(buf, 0, 0, 0, 0), w.kinds[i], v); err != nil {
			return buf, fmt.Errorf("column %s: %w", w.table.Columns[i].Name, err)
		}
		binary.BigEndian.PutUint32(buf[start:], uint32(len(buf)-start-4))
	}
	return buf, nil
}

// appendValue appends the binary form of a value that is not NULL. A string is the value's
// text; the other Go types are read as COPY's text format would write them.
func (w *binaryWriter) appendValue(buf []byte, k kind, v any) ([]byte, error) {
	switch x := v.(type) {
	case string:
		if out, ok := appendText(buf, k, x); ok {
			return out, nil
		}
		b, err := w.res.resolve(w.ctx, k, x)
		return append(buf, b...), err
	case int64:
		switch k {
		case int2Kind, int4Kind, int8Kind:
			bits := 16 << (k - int2Kind)
			if bits < 64 && (x < -1<<(bits-1) || x >= 1<<(bits-1)) {
				return buf, fmt.Errorf("%d bits cannot hold the value", bits)
			}
			for s := bits - 8; s >= 0; s -= 8 {
				buf = append(buf, byte(x>>s))
			}
			return buf, nil
		case float8Kind:
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(float64(x))), nil
		}
		return w.appendValue(buf, k, strconv.FormatInt(x, 10))
	case float64:
		if k == float8Kind {
			return binary.BigEndian.AppendUint64(buf, math.Float64bits(x)), nil
		}
		var s string
		switch {
		case math.IsNaN(x):
			s = "NaN"
		case math.IsInf(x, 1):
			s = "Infinity"
		case math.IsInf(x, -1):
			s = "-Infinity"
		default:
			s = strconv.FormatFloat(x, 'g', -1, 64)
		}
		return w.appendValue(buf, k, s)
	case bool:
		if k == boolKind {
			if x {
				return append(buf, 1), nil
			}
			return append(buf, 0), nil
		}
		if x {
			return w.appendValue(buf, k, "t")
		}
		return w.appendValue(buf, k, "f")
	case []byte:
		if k == byteaKind {
			return append(buf, x...), nil
		}
		return w.appendValue(buf, k, `\x`+fmt.Sprintf("%x", x))
	case *passed:
		return buf, fmt.Errorf("a value read in COPY's text format cannot be written by binary COPY")
	}
	return buf, fmt.Errorf("cannot write a %T", v)
}

// appendText appends the binary form of a value given as text, for the plain forms
// PostgreSQL prints; ok is false for any other text (see resolver).
func appendText(buf []byte, k kind, s string) ([]byte, bool) {
	switch k {
	case textKind:
		return append(buf, s...), true
	case jsonbKind:
		return append(append(buf, 1), s...), true
	case int2Kind, int4Kind, int8Kind:
		bits := 16 << (k - int2Kind)
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return buf, false
		}
		for s := bits - 8; s >= 0; s -= 8 {
			buf = append(buf, byte(n>>s))
		}
		return buf, true
	case float4Kind:
		f, ok := parseFloat(s, 32)
		return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(f))), ok
	case float8Kind:
		f, ok := parseFloat(s, 64)
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(f)), ok
	case numericKind:
		return appendNumeric(buf, s)
	case boolKind:
		switch s {
		case "t", "true":
			return append(buf, 1), true
		case "f", "false":
			return append(buf, 0), true
		}
	case dateKind:
		d, ok := parseDate(s)
		return binary.BigEndian.AppendUint32(buf, uint32(d)), ok
	case timestampKind, timestamptzKind:
		us, ok := parseTimestamp(s, k == timestamptzKind)
		return binary.BigEndian.AppendUint64(buf, uint64(us)), ok
	case byteaKind:
		return appendByteaText(buf, s)
	case uuidKind:
		return appendUUIDText(buf, s)
	case inetKind, cidrKind:
		return appendInet(buf, s, k == cidrKind)
	}
	return buf, false
}

// resolver has the server read the values the writer's parsers leave (a spelling they do not
// take, such as a timestamp with time zone written without its offset, which the session's
// TimeZone places; or an invalid value, whose error is then the server's), and gives their
// binary form: the text format would have had the server read them too, with the same
// session settings. Answers are kept for the distinct values seen, up to resolverCache.
type resolver struct {
	pool  *pgxpool.Pool
	cache map[string][]byte
}

const resolverCache = 4096

func (r *resolver) resolve(ctx context.Context, k kind, s string) ([]byte, error) {
	key := string(rune('A'+k)) + s
	if b, ok := r.cache[key]; ok {
		return b, nil
	}
	if r.pool == nil || k >= kind(len(typeName)) || typeName[k] == "" {
		return nil, fmt.Errorf("cannot read the value as %s", typeName[k])
	}
	conn, err := r.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	res := conn.Conn().PgConn().ExecParams(ctx, "SELECT $1::pg_catalog."+typeName[k], [][]byte{[]byte(s)}, nil, []int16{0}, []int16{1}).Read()
	if res.Err != nil {
		return nil, database.RedactError(res.Err)
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0] == nil {
		return nil, fmt.Errorf("the server read no %s value", typeName[k])
	}
	b := bytes.Clone(res.Rows[0][0])
	if r.cache == nil {
		r.cache = map[string][]byte{}
	}
	if len(r.cache) < resolverCache {
		r.cache[key] = b
	}
	return b, nil
}
