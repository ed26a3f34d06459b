package transform

import (
	"hash/maphash"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/flatmap"
)

// Dictionary maps the values a run transforms anywhere (names, MRNs, host names…) to their
// de-identified counterparts, so that scrub can replace them inside free text. It is built
// before any table is written and only read afterwards, so it is safe for concurrent reads.
//
// A value is found in text as a whole word or a run of whole words (split as tokenize does,
// lower-cased), with one exception that keeps notes readable: a value written with a capital
// ("May", "Hall") is matched only where the text capitalises it too, so "may" and "hall" in
// prose stay.
//
// It holds millions of values, so it keeps no pointers the garbage collector would scan: the
// index maps a 64-bit hash of a value's words to its entry, and the replacements live in one
// byte arena. The original values themselves are not kept.
type Dictionary struct {
	seed     maphash.Seed
	index    *flatmap.Map[uint32] // hash of the lower-cased words → position in refs
	refs     []ref
	arena    []byte              // replacements, back to back
	firsts   map[uint64]struct{} // first words of values of several words
	filter   []uint64            // one bit per hash, so that most words of a note skip the map
	maxWords int
}

const filterBits = 1 << 26 // 8 MiB: about 6 % false hits at four million values

func (d *Dictionary) mayHave(h uint64) bool {
	b := h & (filterBits - 1)
	return d.filter[b>>6]&(1<<(b&63)) != 0
}

// Reserve sizes an empty dictionary for about n values, sparing the index its regrowth.
func (d *Dictionary) Reserve(n int) {
	if len(d.refs) == 0 && n > 0 {
		d.index = flatmap.New[uint32](n)
		d.refs = make([]ref, 0, n)
	}
}

type ref struct {
	off     uint32
	n       uint16
	anyCase bool
}

// NewDictionary returns an empty dictionary.
func NewDictionary() *Dictionary {
	return &Dictionary{seed: maphash.MakeSeed(), index: flatmap.New[uint32](0), firsts: map[uint64]struct{}{}, filter: make([]uint64, filterBits/64)}
}

// Len is the number of values in the dictionary.
func (d *Dictionary) Len() int {
	if d == nil {
		return 0
	}
	return len(d.refs)
}

// Add records that value becomes replacement. The first replacement given for a value wins.
// Values too short or too common to find safely in text are left out: one character, or
// fewer than four digits, or more than four words.
func (d *Dictionary) Add(value, replacement string) {
	words := tokenize(value)
	if len(words) == 0 || len(words) > 4 || len(replacement) > 1<<16-1 {
		return
	}
	var kb [128]byte
	key := kb[:0]
	for i, w := range words {
		if i > 0 {
			key = append(key, ' ')
		}
		key = appendLower(key, value[w.start:w.end])
	}
	if utf8.RuneCount(key) < 2 || (isDigits(string(key)) && len(key) < 4) {
		return
	}
	h := maphash.Bytes(d.seed, key)
	if !d.index.Put(h, uint32(len(d.refs))) {
		return // the first replacement given wins
	}
	first, _ := utf8.DecodeRuneInString(value[words[0].start:])
	b := h & (filterBits - 1)
	d.filter[b>>6] |= 1 << (b & 63)
	d.refs = append(d.refs, ref{off: uint32(len(d.arena)), n: uint16(len(replacement)), anyCase: !unicode.IsUpper(first)})
	d.arena = append(d.arena, replacement...)
	if len(words) > 1 {
		d.firsts[maphash.Bytes(d.seed, appendLower(kb[:0], value[words[0].start:words[0].end]))] = struct{}{}
	}
	d.maxWords = max(d.maxWords, len(words))
}

// appendLower appends s in lower case.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			for _, r := range s[i:] {
				b = utf8.AppendRune(b, unicode.ToLower(r))
			}
			return b
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

type span struct {
	start, end int
	repl       string
}

// Scrub replaces, inside text, every dictionary value and every identifier the detect
// package recognises with its de-identified counterpart, and cuts the result to width
// characters (0: no limit).
func (d *Dictionary) Scrub(h *Hasher, text string, width int) string {
	var spans []span
	if d != nil && len(d.refs) > 0 {
		spans = d.find(text)
	}
	for _, m := range detect.Find(text) {
		if overlaps(spans, m.Start, m.End) {
			continue
		}
		spans = insert(spans, span{m.Start, m.End, replaceMatch(h, m.Kind, text[m.Start:m.End])})
	}
	if len(spans) == 0 {
		return cut(text, width)
	}
	var b strings.Builder
	b.Grow(len(text) + 32)
	last := 0
	for _, s := range spans {
		b.WriteString(text[last:s.start])
		b.WriteString(s.repl)
		last = s.end
	}
	b.WriteString(text[last:])
	return cut(b.String(), width)
}

// Match is a dictionary value found in text: text[Start:End] and what the value was added with.
type Match struct {
	Start, End  int
	Replacement string
}

// Find returns the dictionary values in text, as Scrub finds them.
func (d *Dictionary) Find(text string) []Match {
	if d == nil || len(d.refs) == 0 {
		return nil
	}
	spans := d.find(text)
	out := make([]Match, len(spans))
	for i, s := range spans {
		out[i] = Match{s.start, s.end, s.repl}
	}
	return out
}

// find returns the dictionary values in text, the longest run of words first, left to right.
// Words of one value may be apart by up to three characters of punctuation and space, so
// "Doe, Jane" and "(617) 555-0134" are found as their values were split.
func (d *Dictionary) find(text string) []span {
	words := tokenize(text)
	var spans []span
	var kb [256]byte
	var hashes [4]uint64
	for i := 0; i < len(words); {
		key := appendLower(kb[:0], text[words[i].start:words[i].end])
		hashes[0] = maphash.Bytes(d.seed, key)
		n := 1
		if _, multi := d.firsts[hashes[0]]; multi {
			for n < d.maxWords && i+n < len(words) && words[i+n].start-words[i+n-1].end <= 3 {
				key = append(key, ' ')
				key = appendLower(key, text[words[i+n].start:words[i+n].end])
				hashes[n] = maphash.Bytes(d.seed, key)
				n++
			}
		}
		matched := 0
		for k := n; k >= 1; k-- {
			if !d.mayHave(hashes[k-1]) {
				continue
			}
			pos, ok := d.index.Get(hashes[k-1])
			if !ok {
				continue
			}
			r := d.refs[pos]
			if !r.anyCase {
				if c, _ := utf8.DecodeRuneInString(text[words[i].start:]); !unicode.IsUpper(c) {
					continue
				}
			}
			spans = append(spans, span{words[i].start, words[i+k-1].end, string(d.arena[r.off : r.off+uint32(r.n)])})
			matched = k
			break
		}
		i += max(matched, 1)
	}
	return spans
}

type word struct{ start, end int }

// tokenize splits text into words: runs of letters and digits, joined by . - _ ' @ : / when
// a letter or digit follows, so that "O'Brien", "MRN-0012", "ws07.stb.local" and
// "10.1.2.3" are single words and a full stop after a name is not part of it.
func tokenize(text string) []word {
	var words []word
	start := -1
	for i, r := range text {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && isJoiner(r) {
			next, _ := utf8.DecodeRuneInString(text[i+utf8.RuneLen(r):])
			if isWordRune(next) {
				continue
			}
		}
		if start >= 0 {
			words = append(words, word{start, i})
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, word{start, len(text)})
	}
	return words
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func isJoiner(r rune) bool {
	switch r {
	case '.', '-', '_', '\'', '@', ':', '/':
		return true
	}
	return false
}

func overlaps(spans []span, start, end int) bool {
	for _, s := range spans {
		if start < s.end && s.start < end {
			return true
		}
	}
	return false
}

func insert(spans []span, s span) []span {
	i := len(spans)
	for i > 0 && spans[i-1].start > s.start {
		i--
	}
	spans = append(spans, span{})
	copy(spans[i+1:], spans[i:])
	spans[i] = s
	return spans
}

// replaceMatch is the counterpart of an identifier found by pattern.
func replaceMatch(h *Hasher, k detect.Kind, v string) string {
	switch k {
	case detect.IPv4, detect.IPv6:
		return Place(h, "ip", v, 0)
	case detect.Email:
		return Place(h, "email", v, 0)
	case detect.URL:
		return Place(h, "url", v, 0)
	case detect.Hostname:
		return Place(h, "hostname", v, 0)
	case detect.SSN:
		return "000-" + digitsLike(h, "ssn", v)[4:]
	case detect.Phone:
		return fictionalPhone(h, v)
	}
	return "[removed]"
}

// digitsLike replaces every digit of v with a keyed digit, keeping the punctuation, so
// "(555) 201-3344" stays a phone number in form but not in fact.
func digitsLike(h *Hasher, label, v string) string {
	d := h.Derive(label, v)
	b := []byte(v)
	j := 0
	for i, c := range b {
		if c >= '0' && c <= '9' {
			b[i] = '0' + d[j%len(d)]%10
			j++
		}
	}
	return string(b)
}

// fictionalPhone keeps a phone number's form and area code digits keyed, but puts it in the
// range set aside for fiction (555-0100 to 555-0199), so that a scrubbed number can never
// ring anyone and verify can tell it from a real one.
func fictionalPhone(h *Hasher, v string) string {
	b := []byte(digitsLike(h, "phone", v))
	var pos []int
	for i, c := range b {
		if c >= '0' && c <= '9' {
			pos = append(pos, i)
		}
	}
	if len(pos) < 7 {
		return string(b)
	}
	for i, c := range "55501" {
		b[pos[len(pos)-7+i]] = byte(c)
	}
	return string(b)
}

// cut shortens s to at most width characters (0: no limit) without splitting a character.
func cut(s string, width int) string {
	if width <= 0 || len(s) <= width {
		return s
	}
	n := 0
	for i := range s {
		if n == width {
			return s[:i]
		}
		n++
	}
	return s
}
