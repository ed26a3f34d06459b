package transform

import (
	"encoding/binary"
	"encoding/hex"
	"hash/maphash"
	stdbits "math/bits"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/policy"
)

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// pseudonymBits is how much of the name's digest a pseudonym shows: four characters of 5 bits.
const pseudonymBits = 20

// Pseudonym is a readable stand-in for a name, "PREFIX 7KQ3", cut to fit width (0: no limit).
// Names that differ only in case or spacing get the same pseudonym.
func Pseudonym(h *Hasher, prefix, name string, width int) string {
	d := h.Sum(normalName(name))
	var suffix [4]byte
	x := binary.BigEndian.Uint32(d)
	for i := range suffix {
		suffix[i] = crockford[x>>(27-5*i)&31]
	}
	if width > 0 && len(prefix)+1+len(suffix) > width {
		prefix = strings.TrimSpace(prefix[:max(0, width-1-len(suffix))])
	}
	if prefix == "" {
		return string(suffix[:])
	}
	return prefix + " " + string(suffix[:])
}

func normalName(s string) string { return strings.Join(strings.Fields(strings.ToLower(s)), " ") }

func structured(kind string) bool {
	switch kind {
	case policy.PlaceIP, policy.PlaceHostname, policy.PlaceURL, policy.PlaceEmail:
		return true
	}
	return false
}

// Place is the placeholder of a value: ip maps an address consistently into the ranges
// reserved for documentation and benchmarks (198.18.0.0/15, 2001:db8::/32); hostname gives
// a name under .invalid; url an https endpoint under .invalid; email an address at
// example.invalid; any other kind is fixed text. The result fits width (0: no limit).
func Place(h *Hasher, kind, v string, width int) string {
	var out string
	switch kind {
	case policy.PlaceIP:
		out = placeIP(h, v)
	case policy.PlaceHostname:
		tag := hex.EncodeToString(h.Derive("host", strings.ToLower(v))[:4])
		out = "host-" + tag + ".invalid"
		if width > 0 && len(out) > width {
			out = "host-" + tag
		}
	case policy.PlaceURL:
		out = placeURL(h, v)
	case policy.PlaceEmail:
		out = "user-" + hex.EncodeToString(h.Derive("email", strings.ToLower(v))[:5]) + "@example.invalid"
	default:
		out = kind
	}
	return cut(out, width)
}

func placeIP(h *Hasher, v string) string {
	if _, ok := canonicalIPv4(v); ok {
		d := h.Derive("ip", v)
		b := make([]byte, 0, 15)
		b = append(b, "198."...)
		b = strconv.AppendUint(b, uint64(18+d[0]&1), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(d[1]), 10)
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(d[2]), 10)
		return string(b)
	}
	addr, suffix := v, ""
	if i := strings.IndexByte(v, '/'); i >= 0 {
		addr, suffix = v[:i], v[i:]
	}
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		a = netip.AddrFrom4([4]byte{10})
		suffix = ""
	}
	d := h.Derive("ip", a.Unmap().String())
	if a.Is6() && !a.Is4In6() {
		var b [16]byte
		b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
		copy(b[4:], d[:12])
		return netip.AddrFrom16(b).String() + suffix
	}
	return netip.AddrFrom4([4]byte{198, 18 + d[0]&1, d[1], d[2]}).String() + suffix
}

// canonicalIPv4 reports whether v is an IPv4 address written as netip writes it (four
// decimal parts without leading zeros, nothing around them), the common case that placeIP
// takes without parsing and printing it again.
func canonicalIPv4(v string) ([4]byte, bool) {
	var a [4]byte
	part, digits, n := 0, 0, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case '0' <= c && c <= '9':
			if digits > 0 && n == 0 { // a leading zero
				return a, false
			}
			n = n*10 + int(c-'0')
			digits++
			if n > 255 {
				return a, false
			}
		case c == '.' && digits > 0 && part < 3:
			a[part] = byte(n)
			part, digits, n = part+1, 0, 0
		default:
			return a, false
		}
	}
	if part != 3 || digits == 0 {
		return a, false
	}
	a[3] = byte(n)
	return a, true
}

func placeURL(h *Hasher, v string) string {
	host := v
	if u, err := url.Parse(strings.TrimSpace(v)); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	// The host part is the host's own placeholder, so every URL of one server names the same
	// endpoint; the path part tells apart every distinct URL (scheme, port, path, query).
	return "https://endpoint-" + hex.EncodeToString(h.Derive("host", strings.ToLower(host))[:4]) +
		".invalid/" + hex.EncodeToString(h.Derive("url", v)[:4])
}

// ShiftDays is the keyed offset, in [-days, days], of the entity whose identifying value is
// entity: the same for every date of that entity in every table.
func ShiftDays(h *Hasher, entity string, days int) int {
	x := binary.BigEndian.Uint64(h.Derive("shift", entity))
	return int(x%uint64(2*days+1)) - days
}

// shiftDate moves a date, or the date part of a timestamp, by days, keeping the value's
// form: the time of day, fraction and zone are left as they were.
func shiftDate(v any, days int) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.AddDate(0, 0, days), nil
	case string:
		if out, ok := shiftISODate(x, days); ok {
			return out, nil
		}
		if len(x) < 10 {
			if special(x) {
				return x, nil
			}
			return nil, bad("not a date in YYYY-MM-DD form")
		}
		d, err := time.Parse(time.DateOnly, x[:10])
		if err != nil {
			if special(x) {
				return x, nil
			}
			return nil, bad("not a date in YYYY-MM-DD form")
		}
		return d.AddDate(0, 0, days).Format(time.DateOnly) + x[10:], nil
	}
	return nil, bad("not a date")
}

// shiftISODate is shiftDate for text that starts with a date in YYYY-MM-DD form within
// years 1 to 9999, without the time package; ok is false for anything else.
func shiftISODate(s string, days int) (string, bool) {
	if len(s) < 10 || s[4] != '-' || s[7] != '-' {
		return "", false
	}
	y, ok1 := atoiDigits(s[0:4])
	m, ok2 := atoiDigits(s[5:7])
	d, ok3 := atoiDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 || y < 1 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return "", false
	}
	y, m, d = civil(epochDays(y, m, d) + days)
	if y < 1 || y > 9999 {
		return "", false
	}
	b := make([]byte, len(s))
	b[0], b[1], b[2], b[3] = byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10)
	b[4], b[5], b[6] = '-', byte('0'+m/10), byte('0'+m%10)
	b[7], b[8], b[9] = '-', byte('0'+d/10), byte('0'+d%10)
	copy(b[10:], s[10:])
	return string(b), true
}

func atoiDigits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// epochDays is the number of days from 1970-01-01 to the date (Howard Hinnant's
// days_from_civil), and civil its inverse.
func epochDays(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400 // y >= 0 here
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civil(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// special reports PostgreSQL's infinite dates, which no shift moves.
func special(s string) bool { return s == "infinity" || s == "-infinity" }

// zip3Restricted are the three-digit ZIP prefixes covering fewer than 20,000 people, which
// HIPAA's Safe Harbor method replaces with 000.
var zip3Restricted = map[string]bool{
	"036": true, "059": true, "063": true, "102": true, "203": true, "556": true, "692": true,
	"790": true, "821": true, "823": true, "830": true, "831": true, "878": true, "879": true,
	"884": true, "890": true, "893": true,
}

func generalize(level string, c *database.Column, v any) (any, error) {
	switch level {
	case policy.Year, policy.Month:
		s, ok := v.(string)
		if !ok {
			if t, isTime := v.(time.Time); isTime {
				if level == policy.Year {
					return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, t.Location()), nil
				}
				return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, t.Location()), nil
			}
			return nil, bad("not a date")
		}
		if special(s) {
			return s, nil
		}
		if len(s) < 10 {
			return nil, bad("not a date in YYYY-MM-DD form")
		}
		if _, err := time.Parse(time.DateOnly, s[:10]); err != nil {
			return nil, bad("not a date in YYYY-MM-DD form")
		}
		date := s[:5] + "01-01"
		if level == policy.Month {
			date = s[:8] + "01"
		}
		if c.Type == database.Timestamp && len(s) > 10 {
			return date + " 00:00:00", nil
		}
		return date, nil
	case policy.Zip3:
		s := strings.TrimSpace(text(v))
		if len(s) < 3 {
			return "000", nil
		}
		p := strings.ToUpper(s[:3])
		if isDigits(p) {
			if zip3Restricted[p] {
				p = "000"
			}
			if len(s) >= 5 && isDigits(s[:5]) && (c.Length == 0 || c.Length >= 5) {
				return p + "00", nil
			}
		}
		return p, nil
	case policy.AgeBand:
		var age float64
		switch x := v.(type) {
		case int64:
			age = float64(x)
		case float64:
			age = x
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, bad("not an age")
			}
			age = f
		default:
			return nil, bad("not an age")
		}
		band := int64(age) / 10 * 10
		if age >= 90 {
			band = 90
		}
		if band < 0 {
			band = 0
		}
		switch c.Type {
		case database.Text:
			if band == 90 {
				return "90+", nil
			}
			return strconv.FormatInt(band, 10) + "-" + strconv.FormatInt(band+9, 10), nil
		case database.Integer:
			if _, isString := v.(string); isString {
				return strconv.FormatInt(band, 10), nil
			}
			return band, nil
		case database.Float:
			if _, isString := v.(string); isString {
				return strconv.FormatInt(band, 10), nil
			}
			return float64(band), nil
		}
		return strconv.FormatInt(band, 10), nil
	}
	return nil, bad("unknown level")
}

func isDigits(s string) bool {
	for _, r := range s {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

// Collisions counts the distinct inputs of one column whose output another distinct input
// already had: the collisions of a hash cut to the column's width. It never keeps a value,
// only 64-bit digests, 8 bytes a slot in sets kept at most 3/4 full (about 16 bytes per
// distinct input on average):
//   - where the output is the first bits of the input's keyed digest (hash in hex or base32,
//     the pseudonym's suffix), one set of the inputs' digests, placed by those bits, so that
//     inputs with one output are found side by side;
//   - otherwise (hash in digits, placeholders) a set of the inputs' digests and a set of the
//     outputs' digests: a new input whose output is not new is a collision.
//
// The count is exact up to 64-bit digests (two distinct inputs share one with probability
// 2^-64). It is safe for concurrent use. A Hasher that defers counts (DeferCounts) queues
// what it feeds a counter until its Flush.
type Collisions struct {
	bits  uint // > 0: the output is the top bits of the input's digest
	seed  maphash.Seed
	count atomic.Int64
	mu    sync.Mutex
	ins   wordSet
	outs  wordSet
}

// NewCollisions returns an empty counter, on the heap.
func NewCollisions() *Collisions { return NewCollisionsIn(nil) }

// NewCollisionsIn returns an empty counter whose sets, once large, are kept in files under
// mem (see package filemem); Close gives them back.
func NewCollisionsIn(mem *filemem.Dir) *Collisions {
	return &Collisions{seed: maphash.MakeSeed(), ins: wordSet{mem: mem}, outs: wordSet{mem: mem}}
}

// Close gives back the counter's memory; the count stays.
func (c *Collisions) Close() {
	if c != nil {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.ins.free()
		c.outs.free()
	}
}

// Count is the number of collisions seen so far.
func (c *Collisions) Count() int64 { return c.count.Load() }

// prefix says that outputs are the top bits of the input's digest.
func (c *Collisions) prefix(bits int) {
	if c != nil {
		c.bits = uint(bits)
	}
}

// pendingCount is an input queued for a counter: its digest, and its output's digest where
// the output is not a prefix of the input's.
type pendingCount struct {
	c       *Collisions
	id, out uint64
}

// addDigest records an input by its keyed digest d, whose top bits (prefix) are the output.
func (c *Collisions) addDigest(h *Hasher, d []byte) {
	if c != nil {
		c.queue(h, pendingCount{c, binary.BigEndian.Uint64(d), 0})
	}
}

// addOutput records that the input whose digest is id gave out.
func (c *Collisions) addOutput(h *Hasher, id uint64, out string) {
	if c != nil {
		c.queue(h, pendingCount{c, id, maphash.String(c.seed, out)})
	}
}

// addValue records that the input v gave out.
func (c *Collisions) addValue(h *Hasher, v, out string) {
	if c != nil {
		c.queue(h, pendingCount{c, maphash.String(c.seed, v), maphash.String(c.seed, out)})
	}
}

func (c *Collisions) queue(h *Hasher, p pendingCount) {
	if h != nil && h.deferCounts {
		h.counts = append(h.counts, p)
		return
	}
	c.add([]pendingCount{p})
}

// add records inputs, all of c.
func (c *Collisions) add(ps []pendingCount) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	if c.bits > 0 {
		c.ins.reserve(len(ps), c.bits)
		for _, p := range ps {
			c.ins.touch(p.id, c.bits)
		}
		for _, p := range ps {
			if isNew, shared := c.ins.add(p.id, c.bits); isNew && shared {
				n++
			}
		}
	} else {
		c.ins.reserve(len(ps), 64)
		c.outs.reserve(len(ps), 64)
		for _, p := range ps {
			c.ins.touch(p.id, 64)
		}
		for _, p := range ps {
			if isNew, _ := c.ins.add(p.id, 64); isNew {
				if outNew, _ := c.outs.add(p.out, 64); !outNew {
					n++
				}
			}
		}
	}
	c.count.Add(n)
}

// DeferCounts makes h queue what it feeds collision counters until Flush, so that a batch
// of rows takes each counter's lock once and fetches the counter's slots together.
func (h *Hasher) DeferCounts() { h.deferCounts = true }

// Flush adds what h queued to the counters, a counter at a time. (The count does not depend
// on the order inputs come in.)
func (h *Hasher) Flush() {
	ps := h.counts
	for len(ps) > 0 {
		c, n := ps[0].c, 0
		for i := range ps {
			if ps[i].c == c {
				ps[i], ps[n] = ps[n], ps[i]
				n++
			}
		}
		c.add(ps[:n])
		ps = ps[n:]
	}
	h.counts = h.counts[:0]
}

func mix(x uint64) uint64 {
	x ^= x >> 29
	return x * 0x9E3779B97F4A7C15
}

// wordSet is an open-addressed set of non-zero 64-bit words. A word's place depends only on
// its top bits (all 64 in a plain set), so the words that share them sit in one run.
type wordSet struct {
	slots   []uint64 // 0: empty
	n       int
	touched uint64 // what touch read, so that the reads are not left out
	mem     *filemem.Dir
	release func() // frees slots
}

func (s *wordSet) free() {
	if s.release != nil {
		s.release()
	}
	s.slots, s.n, s.release = nil, 0, nil
}

// home is where w's run starts.
func (s *wordSet) home(w uint64, bits uint) uint64 {
	return mix(w>>(64-bits)) >> (64 - uint(bitsLen(len(s.slots))))
}

// reserve makes room for n more words.
func (s *wordSet) reserve(n int, bits uint) {
	for (s.n+n)*4 > len(s.slots)*3 {
		s.grow(bits)
	}
}

// touch reads the slot where w's run starts, so that the processor fetches the slots of a
// batch together (see flatmap.Tags.Touch).
func (s *wordSet) touch(w uint64, bits uint) {
	s.touched += s.slots[s.home(w, bits)]
}

// add adds w, reporting whether it was new and whether another word shares its top bits.
func (s *wordSet) add(w uint64, bits uint) (isNew, shared bool) {
	if w == 0 {
		w = 1
	}
	if (s.n+1)*4 > len(s.slots)*3 {
		s.grow(bits)
	}
	mask := uint64(len(s.slots) - 1)
	for i := s.home(w, bits); ; i = (i + 1) & mask {
		switch x := s.slots[i]; {
		case x == 0:
			s.slots[i] = w
			s.n++
			return true, shared
		case x == w:
			return false, shared
		case (x^w)>>(64-bits) == 0:
			shared = true
		}
	}
}

func (s *wordSet) grow(bits uint) {
	old, release := s.slots, s.release
	if release != nil {
		defer release()
	}
	s.slots, s.release = filemem.Make[uint64](s.mem, max(64, 2*len(old)))
	s.n = 0
	for _, w := range old {
		if w != 0 {
			s.add(w, bits)
		}
	}
}

// bitsLen is log2 of a power of two.
func bitsLen(n int) int { return stdbits.Len(uint(n)) - 1 }
