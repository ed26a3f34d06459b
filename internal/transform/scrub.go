package transform

import (
	"hash/maphash"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/flatmap"
)

// Dictionary holds the values a run transforms anywhere (names, MRNs, host names…), so that
// scrub can replace them inside free text. It is built before any table is written and only
// read afterwards, so it is safe for concurrent reads.
//
// A value is found in text as a whole word or a run of whole words (split as tokenizeInto does,
// lower-cased), with one exception that keeps notes readable: a value written with a capital
// ("May", "Hall") is matched only where the text capitalises it too, so "may" and "hall" in
// prose stay — unless the value was also added in lower case.
//
// It holds millions of values, so it keeps neither the values nor their replacements: only a
// 64-bit digest of each value's lower-cased words, with 16 bits saying where the value came
// from (its source), side by side in one cache line with five other values' (flatmap.Tags:
// finding a value costs one memory miss, not two) — about 14 bytes a place in a table kept at
// most 3/4 full, about 20 bytes a value. Where a value is found, its source makes the replacement: a fixed text, or the
// column's rule applied to the words as the text writes them (InText), so a hash is computed
// only for the values a note mentions.
type Dictionary struct {
	seed     maphash.Seed
	index    *flatmap.Tags           // digest of the lower-cased words → source<<1 | any case
	firsts   map[uint64]struct{}     // first words of values of several words
	firstBit *[firstBits / 64]uint64 // one bit per digest of firsts, small enough to stay in cache
	maxWords int
	sources  []source
	fixed    map[string]Source
}

// Source is where dictionary values come from: what replaces them in text.
type Source uint16

// MaxSources is how many sources a dictionary holds; fixed replacements beyond that are
// written as Removed.
const MaxSources = 1 << 15

type source struct {
	fixed string
	rule  func(h *Hasher, found string) string
}

const firstBits = 1 << 16

func (d *Dictionary) mayBeFirst(h uint64) bool {
	b := h >> (64 - 16)
	return d.firstBit[b>>6]&(1<<(b&63)) != 0
}

// Reserve sizes an empty dictionary for about n values, sparing the index its regrowth.
func (d *Dictionary) Reserve(n int) {
	if d.index.Len() == 0 && n > 0 {
		d.index.Reserve(n) // in the index's own place: the heap or its file
	}
}

// NewDictionary returns an empty dictionary, on the heap.
func NewDictionary() *Dictionary { return NewDictionaryIn(nil) }

// NewDictionaryIn returns an empty dictionary whose index, once large, is kept in a file
// under mem (see package filemem); Close gives the file back.
func NewDictionaryIn(mem *filemem.Dir) *Dictionary {
	return &Dictionary{seed: maphash.MakeSeed(), index: flatmap.NewTagsIn(mem, 0), firsts: map[uint64]struct{}{}, firstBit: new([firstBits / 64]uint64), fixed: map[string]Source{}}
}

// Close empties the dictionary and gives back its index's memory. Nothing may use the
// dictionary meanwhile or afterwards.
func (d *Dictionary) Close() {
	if d != nil {
		d.index.Free()
	}
}

// Len is the number of values in the dictionary.
func (d *Dictionary) Len() int {
	if d == nil {
		return 0
	}
	return d.index.Len()
}

// Rule adds a source whose values are replaced by rule (see InText). Past MaxSources-1
// sources, it returns the source of Removed.
func (d *Dictionary) Rule(rule func(h *Hasher, found string) string) Source {
	if len(d.sources) >= MaxSources-1 {
		return d.Fixed(Removed)
	}
	d.sources = append(d.sources, source{rule: rule})
	return Source(len(d.sources) - 1)
}

// Fixed returns the source whose values are replaced by the text replacement. Past
// MaxSources-1 sources, it returns the source of Removed (which always has a place).
func (d *Dictionary) Fixed(replacement string) Source {
	if s, ok := d.fixed[replacement]; ok {
		return s
	}
	if len(d.sources) >= MaxSources-1 && replacement != Removed {
		return d.Fixed(Removed)
	}
	d.sources = append(d.sources, source{fixed: replacement})
	s := Source(len(d.sources) - 1)
	d.fixed[replacement] = s
	return s
}

// Add records that value becomes replacement in text.
func (d *Dictionary) Add(value, replacement string) { d.AddFrom(value, d.Fixed(replacement)) }

// AddFrom records value, from source s. A value added from several sources is replaced as
// the first source (the lowest Source) says, whatever the order of the calls. Values too
// short or too common to find safely in text are left out: one character, or fewer than four
// digits, or more than four words.
func (d *Dictionary) AddFrom(value string, s Source) {
	b := Batch{d: d}
	b.Add(value, s)
	b.Flush()
}

// Batch is values on their way into a dictionary: Add computes their digests (several
// batches may do that at once, on other goroutines), Flush adds them to the dictionary (one
// at a time). Adding thousands of values at once lets the processor fetch the places they go
// to together.
type Batch struct {
	d        *Dictionary
	keys     []uint64
	entries  []uint16
	firsts   []uint64
	maxWords int
}

// NewBatch returns an empty batch for d.
func (d *Dictionary) NewBatch() *Batch { return &Batch{d: d} }

// Len is the number of values in the batch.
func (b *Batch) Len() int { return len(b.keys) }

// Add adds value, from source s, to the batch (see AddFrom).
func (b *Batch) Add(value string, s Source) {
	k, first, words, anyCase, ok := b.d.key(value)
	if !ok {
		return
	}
	b.keys = append(b.keys, k)
	b.entries = append(b.entries, uint16(s)<<1|b2u(anyCase))
	if words > 1 {
		b.firsts = append(b.firsts, first)
		b.maxWords = max(b.maxWords, words)
	}
}

// Flush adds the batch's values to the dictionary and empties the batch.
func (b *Batch) Flush() {
	d := b.d
	d.index.Reserve(len(b.keys))
	d.index.Touch(b.keys)
	for i, k := range b.keys {
		e := b.entries[i]
		p, isNew := d.index.Ref(k)
		if isNew {
			*p = e
		} else {
			*p = min(*p&^1, e&^1) | (*p|e)&1
		}
	}
	for _, f := range b.firsts {
		d.firsts[f] = struct{}{}
		x := f >> (64 - 16)
		d.firstBit[x>>6] |= 1 << (x & 63)
	}
	d.maxWords = max(d.maxWords, b.maxWords)
	b.keys, b.entries, b.firsts, b.maxWords = b.keys[:0], b.entries[:0], b.firsts[:0], 0
}

func b2u(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// key is the digest of value's lower-cased words, the digest of its first word and its
// number of words; ok is false for a value the dictionary leaves out.
func (d *Dictionary) key(value string) (k, first uint64, words int, anyCase, ok bool) {
	var wb [8]word
	var lb [128]byte
	ws, lower, ascii := tokenizeASCII(wb[:0], lb[:0], value)
	if !ascii {
		ws = tokenizeInto(wb[:0], value)
	}
	if len(ws) == 0 || len(ws) > 4 {
		return 0, 0, 0, false, false
	}
	var kb [128]byte
	key := kb[:0]
	for i, w := range ws {
		if i > 0 {
			key = append(key, ' ')
		}
		if ascii {
			key = append(key, lower[w.start:w.end]...)
		} else {
			key = appendLower(key, value[w.start:w.end])
		}
		if i == 0 && len(ws) > 1 {
			first = maphash.Bytes(d.seed, key)
		}
	}
	if utf8.RuneCount(key) < 2 || (len(key) < 4 && isDigits(string(key))) {
		return 0, 0, 0, false, false
	}
	c, _ := utf8.DecodeRuneInString(value[ws[0].start:])
	return maphash.Bytes(d.seed, key), first, len(ws), !unicode.IsUpper(c), true
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
	var sb [8]span
	spans := sb[:0]
	if d.Len() > 0 {
		var fb [8]found
		for _, f := range d.find(fb[:0], h, text) {
			spans = append(spans, span{f.start, f.end, d.replacement(h, f.src, text[f.start:f.end])})
		}
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
	n := len(text)
	for _, s := range spans {
		n += len(s.repl) - (s.end - s.start)
	}
	var b strings.Builder
	b.Grow(n)
	last := 0
	for _, s := range spans {
		b.WriteString(text[last:s.start])
		b.WriteString(s.repl)
		last = s.end
	}
	b.WriteString(text[last:])
	return cut(b.String(), width)
}

func (d *Dictionary) replacement(h *Hasher, s Source, found string) string {
	src := d.sources[s]
	if src.rule == nil {
		return src.fixed
	}
	return src.rule(h, found)
}

// Match is a dictionary value found in text: text[Start:End], its source and, for a source
// of fixed text, the replacement it was added with.
type Match struct {
	Start, End  int
	Source      Source
	Replacement string
}

// Find returns the dictionary values in text, as Scrub finds them.
func (d *Dictionary) Find(text string) []Match {
	if d.Len() == 0 {
		return nil
	}
	fs := d.find(nil, nil, text)
	out := make([]Match, len(fs))
	for i, f := range fs {
		out[i] = Match{f.start, f.end, f.src, d.sources[f.src].fixed}
	}
	return out
}

type found struct {
	start, end int
	src        Source
}

// find appends the dictionary values in text to fs, the longest run of words first, left to
// right. Words of one value may be apart by up to three characters of punctuation and space,
// so "Doe, Jane" and "(617) 555-0134" are found as their values were split.
//
// h, when not nil, remembers the outcome of its last lookups (most words of a note are
// common words, or names that recur), so that they skip the dictionary's index next time.
func (d *Dictionary) find(fs []found, h *Hasher, text string) []found {
	var recent *[recentSlots]recentLookup
	if h != nil {
		if h.recentIn != d {
			h.recentIn, h.recent = d, new([recentSlots]recentLookup)
		}
		recent = h.recent
	}
	// Most notes are ASCII: split and lower-case them in one pass, and take every word's key
	// from the lower-cased copy.
	var wb [64]word
	var lb [512]byte
	words, lower, ascii := tokenizeASCII(wb[:0], lb[:0], text)
	if !ascii {
		words = tokenizeInto(wb[:0], text)
	}
	var kb [256]byte
	// Every word's digest first; then, for the words the recent lookups do not hold, a read
	// of the index's line, all at once: the processor waits for those lines together (the
	// words of a note are looked up one after the other, each a cache miss when new).
	var db, pb [64]uint64
	digests, fetch := db[:0], pb[:0]
	for _, w := range words {
		var key []byte
		if ascii {
			key = lower[w.start:w.end]
		} else {
			key = appendLower(kb[:0], text[w.start:w.end])
		}
		k := maphash.Bytes(d.seed, key)
		digests = append(digests, k)
		if recent != nil && recent[k&(recentSlots-1)].key != k {
			fetch = append(fetch, k)
		}
	}
	if len(fetch) > 1 {
		h.fetched += d.index.Prefetch(fetch)
	}
	var hashes [4]uint64
	for i := 0; i < len(words); {
		w := words[i]
		var key []byte
		if ascii {
			key = lower[w.start:w.end]
		} else {
			key = appendLower(kb[:0], text[w.start:w.end])
		}
		hashes[0] = digests[i]
		// A word the dictionary leaves out alone (see AddFrom) is not looked up alone.
		alone := len(key) >= 2 && (len(key) >= 4 || !asciiDigits(key))
		n := 1
		if d.mayBeFirst(hashes[0]) {
			if _, multi := d.firsts[hashes[0]]; multi {
				key = append(kb[:0], key...)
				for n < d.maxWords && i+n < len(words) && words[i+n].start-words[i+n-1].end <= 3 {
					key = append(key, ' ')
					if ascii {
						key = append(key, lower[words[i+n].start:words[i+n].end]...)
					} else {
						key = appendLower(key, text[words[i+n].start:words[i+n].end])
					}
					hashes[n] = maphash.Bytes(d.seed, key)
					n++
				}
			}
		}
		matched := 0
		for k := n; k >= 1; k-- {
			if k == 1 && !alone {
				break
			}
			e, ok := d.lookup(recent, hashes[k-1])
			if !ok {
				continue
			}
			if e&1 == 0 { // added only with a capital
				if c, _ := utf8.DecodeRuneInString(text[w.start:]); !unicode.IsUpper(c) {
					continue
				}
			}
			fs = append(fs, found{w.start, words[i+k-1].end, Source(e >> 1)})
			matched = k
			break
		}
		i += max(matched, 1)
	}
	return fs
}

func asciiDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// recentSlots is the size of a Hasher's memory of its last dictionary lookups.
const recentSlots = 4096

type recentLookup struct {
	key   uint64
	entry uint32 // the index's entry + 1; 0: absent
}

// lookup is index.Get through recent, when not nil.
func (d *Dictionary) lookup(recent *[recentSlots]recentLookup, k uint64) (uint16, bool) {
	if recent == nil {
		return d.index.Get(k)
	}
	r := &recent[k&(recentSlots-1)]
	if r.key == k && k != 0 {
		return uint16(r.entry - 1), r.entry != 0
	}
	e, ok := d.index.Get(k)
	r.key, r.entry = k, 0
	if ok {
		r.entry = uint32(e) + 1
	}
	return e, ok
}

// tokenizeASCII is tokenizeInto for ASCII text, which it also appends to lower in lower
// case; ok is false, and the results unusable, when text is not ASCII.
func tokenizeASCII(words []word, lower []byte, text string) (_ []word, _ []byte, ok bool) {
	if cap(lower) < len(text) {
		lower = make([]byte, 0, len(text))
	}
	start := -1
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c >= utf8.RuneSelf {
			return words, lower, false
		}
		lower = append(lower, asciiLower[c])
		if asciiWord[c] {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && isJoiner(rune(c)) && i+1 < len(text) && text[i+1] < utf8.RuneSelf && asciiWord[text[i+1]] {
			continue
		}
		if start >= 0 {
			words = append(words, word{start, i})
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, word{start, len(text)})
	}
	return words, lower, true
}

var asciiLower = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

type word struct{ start, end int }

// tokenizeInto appends the words of text to words: runs of letters and digits, joined by
// . - _ ' @ : / when a letter or digit follows, so that "O'Brien", "MRN-0012",
// "ws07.stb.local" and "10.1.2.3" are single words and a full stop after a name is not part
// of it.
func tokenizeInto(words []word, text string) []word {
	start := -1
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r < utf8.RuneSelf {
			if asciiWord[r] {
				if start < 0 {
					start = i
				}
				i++
				continue
			}
		} else if r, size = utf8.DecodeRuneInString(text[i:]); isWordRune(r) {
			if start < 0 {
				start = i
			}
			i += size
			continue
		}
		if start >= 0 && isJoiner(r) && i+size < len(text) {
			next := rune(text[i+size])
			if next >= utf8.RuneSelf {
				next, _ = utf8.DecodeRuneInString(text[i+size:])
			}
			if isWordRune(next) {
				i += size
				continue
			}
		}
		if start >= 0 {
			words = append(words, word{start, i})
			start = -1
		}
		i += size
	}
	if start >= 0 {
		words = append(words, word{start, len(text)})
	}
	return words
}

// asciiWord marks the ASCII letters and digits.
var asciiWord = func() (t [utf8.RuneSelf]bool) {
	for c := range t {
		t[c] = 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return t
}()

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return asciiWord[r]
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

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
