package transform

import (
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/policy"
)

// Func de-identifies one value. row is the original row (shift_date reads its entity column
// from it); v is the column's original value. An error never holds the value.
type Func func(h *Hasher, row database.Row, v any) (any, error)

// ValueError says a value could not be transformed, without saying what it was.
type ValueError struct{ Reason string }

func (e *ValueError) Error() string { return e.Reason }

func bad(format string, args ...any) error { return &ValueError{Reason: fmt.Sprintf(format, args...)} }

// Compile builds the function for a rule on column c of table t. track, when not nil, is told
// of every output that a cut hash could make collide; dict is the run's dictionary of
// transformed values, used by scrub.
func Compile(r policy.Rule, t *database.Table, c *database.Column, track *Collisions, dict *Dictionary) (Func, error) {
	f, err := compileRule(r, t, c, track, dict)
	if err != nil || !c.FixedWidth() {
		return f, err
	}
	switch r.Kind {
	case policy.Hash, policy.Pseudonym, policy.Placeholder:
		return func(h *Hasher, row database.Row, v any) (any, error) { return f(h, row, Unpadded(c, v)) }, nil
	}
	return f, nil
}

// Unpadded is a value of column c as the rules read it: the text of a fixed-width character
// column (database.Column.FixedWidth) without its trailing blanks (U+0020, the padding SQL
// adds and ignores in comparisons, and T-SQL's RTRIM removes), so that one identifier hashes
// alike in a char(n) and a varchar(n) column, on every database.
func Unpadded(c *database.Column, v any) any {
	if s, ok := v.(string); ok && c.FixedWidth() {
		return strings.TrimRight(s, " ")
	}
	return v
}

func compileRule(r policy.Rule, t *database.Table, c *database.Column, track *Collisions, dict *Dictionary) (Func, error) {
	width := c.Length
	switch r.Kind {
	case policy.Keep:
		return func(_ *Hasher, _ database.Row, v any) (any, error) { return v, nil }, nil
	case policy.Null:
		empty := emptyValue(c)
		return func(*Hasher, database.Row, any) (any, error) { return empty, nil }, nil
	case policy.Hash:
		if c.Type == database.Integer {
			p := newPermutation(c)
			return nonNull(p.apply), nil
		}
		alpha := r.Alphabet
		n := HashWidth(alpha, width)
		if float64(n)*alphabetBits(alpha) >= 64 {
			track = nil // a collision is then as likely as guessing the key
		}
		if alpha == policy.Digits {
			return nonNull(func(h *Hasher, v any) (any, error) {
				d := h.Sum(text(v))
				out := encode(alpha, d, n)
				track.addOutput(h, binary.BigEndian.Uint64(d), out)
				return out, nil
			}), nil
		}
		// In hex and base32 the output is the digest's first 4n or 5n bits.
		track.prefix(int(float64(n) * alphabetBits(alpha)))
		return nonNull(func(h *Hasher, v any) (any, error) {
			d := h.Sum(text(v))
			track.addDigest(h, d)
			return h.encode(alpha, d, n), nil
		}), nil
	case policy.Pseudonym:
		prefix := r.Text
		track.prefix(pseudonymBits)
		return nonNull(func(h *Hasher, v any) (any, error) {
			out := Pseudonym(h, prefix, text(v), width)
			track.addDigest(h, h.sum) // Pseudonym leaves the name's digest in h.sum
			return out, nil
		}), nil
	case policy.Placeholder:
		kind := r.Text
		if !structured(kind) {
			track = nil // one fixed text for every value
		}
		return nonNull(func(h *Hasher, v any) (any, error) {
			s := text(v)
			out := Place(h, kind, s, width)
			track.addValue(h, s, out)
			return out, nil
		}), nil
	case policy.ShiftDate:
		by := t.ColumnIndex(r.By)
		if by < 0 {
			return nil, fmt.Errorf("shift_date by column %s does not exist", r.By)
		}
		days, byCol := r.Days, t.Columns[by]
		return func(h *Hasher, row database.Row, v any) (any, error) {
			if v == nil {
				return nil, nil
			}
			return shiftDate(v, ShiftDays(h, text(Unpadded(byCol, row[by])), days))
		}, nil
	case policy.Generalize:
		level := r.Text
		return nonNull(func(_ *Hasher, v any) (any, error) { return generalize(level, c, v) }), nil
	case policy.Scrub:
		return nonNull(func(h *Hasher, v any) (any, error) {
			s, ok := v.(string)
			if !ok {
				return v, nil
			}
			return dict.Scrub(h, s, width), nil
		}), nil
	}
	return nil, fmt.Errorf("unknown rule %q", r.Kind)
}

// InText is how scrub replaces, inside free text, a value that rule r transforms in column c
// (a text column): by the same rule applied to the value as the text writes it — the hash
// cut to at most 12 characters (enough to recognise it, short enough to keep a note
// readable), the pseudonym, the placeholder, or "[removed]" for null. It is nil for the rules
// that replace no identifier.
func InText(r policy.Rule, c *database.Column) func(h *Hasher, found string) string {
	width := c.Length
	switch r.Kind {
	case policy.Null:
		return func(*Hasher, string) string { return Removed }
	case policy.Hash:
		alpha := r.Alphabet
		n := min(HashWidth(alpha, width), 12)
		return func(h *Hasher, found string) string { return encode(alpha, h.Sum(found), n) }
	case policy.Pseudonym:
		prefix := r.Text
		return func(h *Hasher, found string) string { return Pseudonym(h, prefix, found, width) }
	case policy.Placeholder:
		kind := r.Text
		return func(h *Hasher, found string) string { return Place(h, kind, found, width) }
	}
	return nil
}

// Removed is what scrub writes in place of a value whose column is nulled.
const Removed = "[removed]"

func nonNull(f func(h *Hasher, v any) (any, error)) Func {
	return func(h *Hasher, _ database.Row, v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		return f(h, v)
	}
}

// text is a value's canonical text, the input of every keyed derivation.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func emptyValue(c *database.Column) any {
	if !c.NotNull {
		return nil
	}
	switch c.Type {
	case database.Text:
		return ""
	case database.Integer:
		return int64(0)
	case database.Float:
		return float64(0)
	case database.Decimal:
		return "0"
	case database.Bool:
		return false
	case database.Bytes:
		return []byte{}
	}
	return nil
}

// HashWidth is how many characters a hash in the alphabet keeps in a column of the given
// declared length (0: unbounded).
func HashWidth(alphabet string, length int) int {
	full := 64
	switch alphabet {
	case policy.Base32:
		full = 52
	case policy.Digits:
		full = 77
	}
	if length > 0 && length < full {
		return length
	}
	return full
}

func alphabetBits(alphabet string) float64 {
	switch alphabet {
	case policy.Base32:
		return 5
	case policy.Digits:
		return 3.32
	}
	return 4
}

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// encode writes the first n characters of a digest in an alphabet, as the package's encode
// does, into h's shared blocks when it has them (ShareOutputs).
func (h *Hasher) encode(alphabet string, d []byte, n int) string {
	if h.outputs == nil || alphabet == policy.Digits || n > 64 {
		return encode(alphabet, d, n)
	}
	if len(h.outputs)+n > cap(h.outputs) {
		h.outputs = make([]byte, 0, outputBlock)
	}
	start := len(h.outputs)
	h.outputs = appendEncoded(h.outputs, alphabet, d, n)
	return unsafe.String(&h.outputs[start], n)
}

// appendEncoded appends the first n characters of d in hex or base32 to b.
func appendEncoded(b []byte, alphabet string, d []byte, n int) []byte {
	var buf [64]byte
	if alphabet == policy.Base32 {
		lowerBase32.Encode(buf[:], d[:min(len(d), (5*n+7)/8)])
	} else {
		hex.Encode(buf[:], d[:(n+1)/2])
	}
	return append(b, buf[:n]...)
}

func encode(alphabet string, d []byte, n int) string {
	if alphabet == policy.Digits {
		s := new(big.Int).SetBytes(d).Text(10)
		if len(s) < 77 {
			s = strings.Repeat("0", 77-len(s)) + s
		}
		return s[:n]
	}
	var buf [64]byte
	return string(appendEncoded(buf[:0], alphabet, d, n))
}

// permutation maps integers one-to-one onto the same range, keyed: a four-round Feistel
// network over the column's width, walking the cycle until the result is back in range.
// Non-negative values stay non-negative and negative values negative, so no two inputs ever
// collide and an id column keeps its sign.
type permutation struct {
	bits     int    // magnitude bits: 63 for BIGINT, 31 for INTEGER, 64 for unsigned BIGINT…
	half     uint   // bits of each Feistel half
	mask     uint64 // half mask
	limit    uint64 // values are < limit (0: the full 64 bits)
	label    string
	unsigned bool
}

func newPermutation(c *database.Column) permutation {
	bits := c.Bits
	if bits <= 0 || bits > 64 {
		bits = 64
	}
	if !c.Unsigned {
		bits--
	}
	half := uint(bits+1) / 2
	p := permutation{bits: bits, half: half, mask: 1<<half - 1, label: "int" + strconv.Itoa(bits), unsigned: c.Unsigned}
	if bits < 64 {
		p.limit = 1 << uint(bits)
	}
	return p
}

func (p permutation) apply(h *Hasher, v any) (any, error) {
	var x int64
	switch t := v.(type) {
	case int64:
		x = t
	case string:
		if p.unsigned {
			u, err := strconv.ParseUint(t, 10, 64)
			if err != nil {
				return nil, bad("not an integer")
			}
			return strconv.FormatUint(p.permute(h, u), 10), nil
		}
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return nil, bad("not an integer")
		}
		out, err := p.apply(h, n)
		if err != nil {
			return nil, err
		}
		return strconv.FormatInt(out.(int64), 10), nil
	case float64:
		x = int64(t)
	default:
		return nil, bad("not an integer")
	}
	if x < 0 {
		return -int64(p.permute(h, uint64(-(x+1)))) - 1, nil
	}
	return int64(p.permute(h, uint64(x))), nil
}

func (p permutation) permute(h *Hasher, x uint64) uint64 {
	if p.limit != 0 && x >= p.limit {
		return x // out of the column's range: cannot happen for a value the column holds
	}
	for {
		x = p.feistel(h, x)
		if p.limit == 0 || x < p.limit {
			return x
		}
	}
}

func (p permutation) feistel(h *Hasher, x uint64) uint64 {
	l, r := x>>p.half&p.mask, x&p.mask
	var b [9]byte
	for round := byte(0); round < 4; round++ {
		b[0] = round
		binary.BigEndian.PutUint64(b[1:], r)
		f := binary.BigEndian.Uint64(h.Derive(p.label, string(b[:]))) & p.mask
		l, r = r, l^f
	}
	return l<<p.half | r
}
