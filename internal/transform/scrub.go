package transform

import (
	"hash/maphash"
	"math/bits"
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
// A value is found in text however the text spells it, as a run of units (see units): a
// unit is a run of letters, or a number. Units end at any character that is neither a
// letter nor a digit (/ : _ - ' . , space, line break…) and where letters meet digits, so
// "MRN518998294" is found in "key:MRN518998294", "x-MRN518998294", "MRN518998294's",
// "MRN518998294/att" and "MRN 518998294", and "Vasquez-Ortiz" in "Vasquez-Ortiz1's". Letters
// are compared case-folded and without diacritics ("zoe" is "Zoë"); a number is its digits,
// whatever separates its groups, so 835-12-6709 is found as "835 12 6709" and "835126709",
// (412) 867-5309 as "412.867.5309" and "4128675309". Units of one value may be apart by up
// to three characters of punctuation and space, so "Allegheny Riverside\nHealth  System"
// and "Doe,  Jane" are found as their values were written; a value of letters written with
// separators is also found written without them ("VasquezOrtiz").
//
// One exception keeps notes readable: a value that is only common English words ("May",
// "Hall", "Fox Crossing"; detect.IsCommonWord) written with a capital is matched only where
// the text capitalises it too, so "may" and "hall" in prose stay — unless the value was also
// added in lower case.
//
// It holds millions of values, so it keeps neither the values nor their replacements: only a
// 64-bit digest of each value's units, with 16 bits saying where the value came from (its
// source), side by side in one cache line with five other values' (flatmap.Tags: finding a
// value costs one memory miss, not two) — about 14 bytes a place in a table kept at most 3/4
// full, about 20 bytes a value. Where a value is found, its source makes the replacement: a
// fixed text, or the column's rule applied to the words as the text writes them (InText), so
// a hash is computed only for the values a note mentions.
type Dictionary struct {
	seed     maphash.Seed
	index    *flatmap.Tags           // digest of the lower-cased words → source<<1 | any case
	firsts   map[uint64]uint8        // first units of values of several units → their numbers of units (bit k-1: k)
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
	return &Dictionary{seed: maphash.MakeSeed(), index: flatmap.NewTagsIn(mem, 0), firsts: map[uint64]uint8{}, firstBit: new([firstBits / 64]uint64), fixed: map[string]Source{}}
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
// short or too long to find safely in text are left out: one character, or fewer than four
// digits, or more than maxUnits units.
func (d *Dictionary) AddFrom(value string, s Source) {
	b := Batch{d: d}
	b.Add(value, s)
	b.Flush()
}

// HostLabel returns the bare short name of a fully qualified host name ("trcn-xt-app01" of
// "trcn-xt-app01.trcn.local"), as notes write it, when it is long enough (4 characters) to
// look for in text; ok is false for anything else (an address, a name without a dot).
func HostLabel(host string) (label string, ok bool) {
	label, _, ok = strings.Cut(strings.TrimSpace(host), ".")
	if !ok || utf8.RuneCountInString(label) < 4 || isDigits(label) {
		return "", false
	}
	return label, true
}

// maxUnits is the most units a value may have to be found in text.
const maxUnits = 8

// Batch is values on their way into a dictionary: Add computes their digests (several
// batches may do that at once, on other goroutines), Flush adds them to the dictionary (one
// at a time). Adding thousands of values at once lets the processor fetch the places they go
// to together.
type Batch struct {
	d        *Dictionary
	keys     []uint64
	entries  []uint16
	firsts   []uint64
	lens     []uint8
	seen     [64]uint64 // the last firsts added, by their low bits: most repeat ("mrn" of every MRN)
	maxWords int
	scratch  keyScratch
}

// NewBatch returns an empty batch for d.
func (d *Dictionary) NewBatch() *Batch { return &Batch{d: d} }

// Len is the number of values in the batch.
func (b *Batch) Len() int { return len(b.keys) }

// Add adds value, from source s, to the batch (see AddFrom).
func (b *Batch) Add(value string, s Source) {
	k, joined, first, words, anyCase, ok := b.d.key(&b.scratch, value)
	if !ok {
		return
	}
	e := uint16(s)<<1 | b2u(anyCase)
	b.keys = append(b.keys, k)
	b.entries = append(b.entries, e)
	if joined != 0 {
		b.keys = append(b.keys, joined)
		b.entries = append(b.entries, e)
	}
	if words > 1 {
		b.maxWords = max(b.maxWords, words)
		lens := uint8(1 << (words - 1))
		if seen := &b.seen[first&63]; *seen != first^uint64(lens)<<56 {
			*seen = first ^ uint64(lens)<<56
			b.firsts = append(b.firsts, first)
			b.lens = append(b.lens, lens)
		}
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
	for i, f := range b.firsts {
		d.firsts[f] |= b.lens[i]
		x := f >> (64 - 16)
		d.firstBit[x>>6] |= 1 << (x & 63)
	}
	d.maxWords = max(d.maxWords, b.maxWords)
	b.keys, b.entries, b.firsts, b.lens, b.maxWords = b.keys[:0], b.entries[:0], b.firsts[:0], b.lens[:0], 0
}

func b2u(b bool) uint16 {
	if b {
		return 1
	}
	return 0
}

// keyScratch is memory key reuses.
type keyScratch struct {
	units []unit
	parts []part
	keys  []byte
	key   []byte
}

// key is the digest of value's units (their keys joined by spaces), the digest of its units
// joined without spaces when they are two or more runs of letters (0 otherwise), the digest
// of its first unit and its number of units; anyCase is false for a value of common words
// written with a capital; ok is false for a value the dictionary leaves out.
func (d *Dictionary) key(ks *keyScratch, value string) (k, joined, first uint64, words int, anyCase, ok bool) {
	ks.units, ks.parts, ks.keys = units(ks.units[:0], ks.parts[:0], ks.keys[:0], value)
	us := ks.units
	if len(us) == 0 || len(us) > maxUnits {
		return 0, 0, 0, 0, false, false
	}
	key := ks.key[:0]
	c, _ := utf8.DecodeRuneInString(value[us[0].start:])
	letters, prose := true, unicode.IsUpper(c) // a value in lower case is found in any case anyway
	for i, u := range us {
		if i > 0 {
			key = append(key, ' ')
		}
		uk := ks.keys[u.ks:u.ke]
		key = append(key, uk...)
		if i == 0 && len(us) > 1 {
			first = maphash.Bytes(d.seed, key)
		}
		if u.digits {
			letters, prose = false, false
		} else if prose && !detect.IsCommonWordBytes(uk) {
			prose = false
		}
	}
	ks.key = key
	if utf8.RuneCount(key) < 2 || (len(key) < 4 && isDigits(string(key))) {
		return 0, 0, 0, 0, false, false
	}
	if letters && len(us) > 1 {
		joined = maphash.Bytes(d.seed, ks.keys[us[0].ks:us[len(us)-1].ke])
	}
	return maphash.Bytes(d.seed, key), joined, first, len(us), !prose, true
}

type span struct {
	start, end int
	repl       string
}

// Scrub replaces, inside text, every dictionary value and every identifier the detect
// package recognises with its de-identified counterpart, and cuts the result to width
// characters (0: no limit). Where both find something at the same place, an e-mail
// address, URL, host name or IP address that detect finds wins over a dictionary value
// inside it (a name in an address), and a dictionary value over a phone number or SSN.
func (d *Dictionary) Scrub(h *Hasher, text string, width int) string {
	var sb [8]span
	spans := d.spans(sb[:0], h, text)
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

// spans appends to spans what Scrub replaces in text, in order, with the replacements.
func (d *Dictionary) spans(spans []span, h *Hasher, text string) []span {
	if d.Len() > 0 {
		var fb [8]found
		for _, f := range d.find(fb[:0], h, text) {
			f.start, f.end = balance(text, f.start, f.end)
			spans = append(spans, span{f.start, f.end, d.replacement(h, f.src, text[f.start:f.end])})
		}
	}
	for _, m := range detect.Find(text) {
		if !overlaps(spans, m.Start, m.End) {
			spans = insert(spans, span{m.Start, m.End, replaceMatch(h, m.Kind, text[m.Start:m.End])})
			continue
		}
		switch m.Kind {
		case detect.Phone, detect.SSN:
			continue
		}
		if covered(spans, m.Start, m.End) {
			continue // a dictionary value as long as the address, or longer
		}
		spans = remove(spans, m.Start, m.End)
		spans = insert(spans, span{m.Start, m.End, replaceMatch(h, m.Kind, text[m.Start:m.End])})
	}
	return spans
}

// balance widens a found value over the parenthesis that opens or closes it, when the value
// holds the other one alone: "(412) 867-5309" found as "412) 867-5309" is replaced whole,
// so that no parenthesis is left unbalanced.
func balance(text string, start, end int) (int, int) {
	open := strings.Count(text[start:end], "(")
	closed := strings.Count(text[start:end], ")")
	if closed > open && start > 0 && text[start-1] == '(' {
		start--
	}
	if open > closed && end < len(text) && text[end] == ')' {
		end++
	}
	return start, end
}

// covered reports whether one span of spans holds all of [start, end).
func covered(spans []span, start, end int) bool {
	for _, s := range spans {
		if s.start <= start && end <= s.end {
			return true
		}
	}
	return false
}

// remove drops the spans that overlap [start, end).
func remove(spans []span, start, end int) []span {
	kept := spans[:0]
	for _, s := range spans {
		if !(start < s.end && s.start < end) {
			kept = append(kept, s)
		}
	}
	return kept
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

// find appends the dictionary values in text to fs, the longest run of units first, left
// to right. Units of one value may be apart by up to three characters of punctuation and
// space, so "Doe, Jane" is found as its value was split. A number of several groups
// ("+1 412 867 5309") is also looked up by each run of its groups that holds 7 digits or
// more, so that the number inside is found.
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
	var ub [64]unit
	var pb [64]part
	var kbuf [512]byte
	us, parts, keys := units(ub[:0], pb[:0], kbuf[:0], text)
	// Every unit's digest first, and the digests of the runs of units that start with one
	// that starts values of several units (as many units as those values have); then, for
	// the digests the recent lookups do not hold, a read of the index's line, all at once:
	// the processor waits for those lines together (the units of a note are looked up one
	// after the other, each a cache miss when new).
	var db, fb [64]uint64
	var gb [16]gram
	digests, fetch, grams := db[:0], fb[:0], gb[:0]
	var kb [256]byte
	for i, u := range us {
		k := maphash.Bytes(d.seed, keys[u.ks:u.ke])
		digests = append(digests, k)
		if recent != nil && recent[k&(recentSlots-1)].key != k {
			fetch = append(fetch, k)
		}
		if !d.mayBeFirst(k) {
			continue
		}
		lens, multi := d.firsts[k]
		if !multi {
			continue
		}
		key := append(kb[:0], keys[u.ks:u.ke]...)
		for n := 1; n < bits.Len8(lens) && i+n < len(us) && us[i+n].start-us[i+n-1].end <= 3; n++ {
			next := us[i+n]
			key = append(key, ' ')
			key = append(key, keys[next.ks:next.ke]...)
			if lens&(1<<n) != 0 {
				g := maphash.Bytes(d.seed, key)
				grams = append(grams, gram{int32(i), int32(n + 1), g})
				if recent != nil && recent[g&(recentSlots-1)].key != g {
					fetch = append(fetch, g)
				}
			}
		}
	}
	if len(fetch) > 1 {
		h.fetched += d.index.Prefetch(fetch)
	}
	for i, g := 0, 0; i < len(us); {
		u := us[i]
		key := keys[u.ks:u.ke]
		matched := 0
		// The runs that start here, longest first (grams holds them shortest first).
		first := g
		for g < len(grams) && int(grams[g].at) == i {
			g++
		}
		for j := g - 1; j >= first; j-- {
			e, ok := d.lookup(recent, grams[j].h)
			if ok && d.caseFits(e, text, us[i:i+int(grams[j].units)]) {
				fs = append(fs, found{int(u.start), int(us[i+int(grams[j].units)-1].end), Source(e >> 1)})
				matched = int(grams[j].units)
				break
			}
		}
		// A unit the dictionary leaves out alone (see AddFrom) is not looked up alone.
		if matched == 0 && len(key) >= 2 && (len(key) >= 4 || !u.digits) {
			if e, ok := d.lookup(recent, digests[i]); ok && d.caseFits(e, text, us[i:i+1]) {
				fs = append(fs, found{int(u.start), int(u.end), Source(e >> 1)})
				matched = 1
			}
		}
		if matched == 0 && u.digits && u.p1-u.p0 > 1 && u.ke-u.ks >= 8 && !dottedQuad(text, parts[u.p0:u.p1]) {
			if f, ok := d.findInNumber(recent, text, keys, parts[u.p0:u.p1]); ok {
				fs = append(fs, f)
			}
		}
		i += max(matched, 1)
		for g < len(grams) && int(grams[g].at) < i { // runs that start inside a match
			g++
		}
	}
	return fs
}

// gram is a run of units of a text that may be a dictionary value: units us[at:at+units],
// their digest h.
type gram struct {
	at, units int32
	h         uint64
}

// caseFits applies the rule for values of common words written with a capital: the text
// must capitalise every one of them too ("Fox Crossing", not "Fox crossing the road").
func (d *Dictionary) caseFits(e uint16, text string, us []unit) bool {
	if e&1 != 0 {
		return true
	}
	for _, u := range us {
		if c, _ := utf8.DecodeRuneInString(text[u.start:]); !unicode.IsUpper(c) {
			return false
		}
	}
	return true
}

// findInNumber looks up the runs of a number's groups that hold 7 digits or more, longest
// first, the whole number excepted.
func (d *Dictionary) findInNumber(recent *[recentSlots]recentLookup, text string, keys []byte, ps []part) (found, bool) {
	for l := len(ps) - 1; l >= 1; l-- {
		for a := 0; a+l <= len(ps); a++ {
			b := a + l - 1
			if ps[b].ke-ps[a].ks < 7 {
				continue
			}
			if e, ok := d.lookup(recent, maphash.Bytes(d.seed, keys[ps[a].ks:ps[b].ke])); ok {
				return found{int(ps[a].start), int(ps[b].end), Source(e >> 1)}, true
			}
		}
	}
	return found{}, false
}

// dottedQuad reports whether a number's groups are those of an IPv4 address (four groups
// of up to three digits apart by dots): detect's address, which scrub replaces whole.
func dottedQuad(text string, ps []part) bool {
	if len(ps) != 4 {
		return false
	}
	for i, p := range ps {
		if p.end-p.start > 3 || (i > 0 && text[ps[i-1].end:p.start] != ".") {
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

// unit is a run of letters, or a number, of a text: text[start:end]; its key (the letters
// case-folded without diacritics, the number's digits without what separates its groups)
// is keys[ks:ke]; a number's groups are parts[p0:p1].
type unit struct {
	start, end int32
	ks, ke     int32
	p0, p1     int32
	digits     bool
}

// part is one group of digits of a number.
type part struct{ start, end, ks, ke int32 }

// units appends the units of text to us, their keys to keys and the groups of its numbers to
// parts. Letters and digits are split apart ("MRN518998294" is "mrn", "518998294"); groups of
// digits apart by a separator of numbers are one number ("(412) 867-5309", "835 12 6709";
// see joinsGroups); anything else that is neither a letter nor a digit ends a unit.
func units(us []unit, parts []part, keys []byte, text string) ([]unit, []part, []byte) {
	for i := 0; i < len(text); {
		c := text[i]
		k := byteClass[c]
		if k == bOther {
			i++
			continue
		}
		if k == bWide {
			r, size := utf8.DecodeRuneInString(text[i:])
			if !isWordRune(r) {
				i += size
				continue
			}
			k = bLetter
			if unicode.IsDigit(r) {
				k = bDigit
			}
		}
		start, ks := i, len(keys)
	run:
		for i < len(text) {
			// The ASCII run of this class, at once.
			j := i
			for j < len(text) && byteClass[text[j]] == k {
				j++
			}
			if j > i {
				if k == bDigit {
					keys = append(keys, text[i:j]...)
				} else {
					for _, c := range []byte(text[i:j]) {
						keys = append(keys, asciiLower[c&0x7f])
					}
				}
				i = j
				continue
			}
			if byteClass[text[i]] != bWide {
				break run
			}
			r, size := utf8.DecodeRuneInString(text[i:])
			switch {
			case k == bLetter && unicode.Is(unicode.Mn, r): // an accent of the letter before it
			case !isWordRune(r) || unicode.IsDigit(r) != (k == bDigit):
				break run
			default:
				keys = appendFold(keys, r)
			}
			i += size
		}
		if k == bDigit {
			us, parts = addUnit(us, parts, text, start, i, ks, len(keys), true)
		} else {
			us = append(us, unit{start: int32(start), end: int32(i), ks: int32(ks), ke: int32(len(keys))})
		}
	}
	return us, parts, keys
}

// Classes of bytes for units: ASCII letters, ASCII digits, the other ASCII bytes, and the
// bytes of wider characters (decoded to decide).
const (
	bOther = iota
	bLetter
	bDigit
	bWide
)

var byteClass = func() (t [256]uint8) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			t[c] = bLetter
		case '0' <= c && c <= '9':
			t[c] = bDigit
		case c >= utf8.RuneSelf:
			t[c] = bWide
		}
	}
	return t
}()

// addUnit adds the run text[start:end] (key keys[ks:ke]) as a unit, or as the next group of
// the number before it.
func addUnit(us []unit, parts []part, text string, start, end, ks, ke int, digits bool) ([]unit, []part) {
	s, e, a, b := int32(start), int32(end), int32(ks), int32(ke)
	if digits {
		parts = append(parts, part{s, e, a, b})
		if n := len(us); n > 0 && us[n-1].digits && joinsGroups(text, us[n-1], start) {
			u := &us[n-1]
			u.end, u.ke, u.p1 = e, b, int32(len(parts))
			return us, parts
		}
		return append(us, unit{s, e, a, b, int32(len(parts) - 1), int32(len(parts)), true}), parts
	}
	return append(us, unit{start: s, end: e, ks: a, ke: b}), parts
}

// joinsGroups reports whether the number u and the group of digits at next are one number:
// apart by one of - . / or a closing parenthesis ("(412) 867-5309"), or by a space when u
// does not end a word of letters and digits ("835 12 6709", but not "WS10 10.21.10.21").
func joinsGroups(text string, u unit, next int) bool {
	switch gap := text[u.end:next]; gap {
	case "-", ".", "/", ")", ") ", ")-":
		return true
	case " ":
		if u.p1-u.p0 > 1 { // a group already joined: "835 12" goes on
			return true
		}
		return u.start == 0 || !asciiLetter(text[u.start-1])
	}
	return false
}

func asciiLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

var asciiLower = func() (t [utf8.RuneSelf]byte) {
	for c := range t {
		t[c] = byte(c)
		if 'A' <= c && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

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

// appendFold appends r case-folded and without its diacritics ("É" → "e", "ß" → "ss");
// a digit of another script as its ASCII digit.
func appendFold(b []byte, r rune) []byte {
	if f, ok := foldTable[r]; ok {
		return append(b, f...)
	}
	if unicode.IsDigit(r) {
		if v, ok := digitOf(r); ok {
			return append(b, byte('0'+v))
		}
	}
	return utf8.AppendRune(b, unicode.ToLower(r))
}

// digitOf is the value of a decimal digit of any script.
func digitOf(r rune) (int, bool) {
	if !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	// Decimal digits come in runs of ten, from zero up; find the run's zero.
	z := r
	for unicode.Is(unicode.Nd, z-1) && (r-z) < 9 {
		z--
	}
	return int(r-z) % 10, true
}

// foldTable maps letters with diacritics, and ligatures, to their plain lower-case letters.
var foldTable = func() map[rune]string {
	m := map[rune]string{}
	for _, g := range [][2]string{
		{"a", "ÀÁÂÃÄÅàáâãäåĀāĂăĄąǍǎǺǻȀȁȂȃȦȧẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặ"},
		{"ae", "ÆæǼǽ"}, {"c", "ÇçĆćĈĉĊċČč"}, {"d", "ÐðĎďĐđḌḍ"},
		{"e", "ÈÉÊËèéêëĒēĔĕĖėĘęĚěȄȅȆȇẸẹẺẻẼẽẾếỀềỂểỄễỆệ"},
		{"g", "ĜĝĞğĠġĢģǦǧǴǵ"}, {"h", "ĤĥĦħḤḥ"},
		{"i", "ÌÍÎÏìíîïĨĩĪīĬĭĮįİıǏǐȈȉȊȋỈỉỊị"}, {"ij", "Ĳĳ"}, {"j", "Ĵĵ"},
		{"k", "Ķķĸ"}, {"l", "ĹĺĻļĽľĿŀŁł"}, {"n", "ÑñŃńŅņŇňŉŊŋǸǹ"},
		{"o", "ÒÓÔÕÖØòóôõöøŌōŎŏŐőƠơǑǒǪǫǾǿȌȍȎȏȮȯỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợ"},
		{"oe", "Œœ"}, {"r", "ŔŕŖŗŘř"}, {"s", "ŚśŜŝŞşŠšȘșſ"}, {"ss", "ß"},
		{"t", "ŢţŤťŦŧȚț"}, {"th", "Þþ"},
		{"u", "ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųƯưǓǔǕǖǗǘǙǚǛǜỤụỦủỨứỪừỬửỮữỰự"},
		{"w", "Ŵŵ"}, {"y", "ÝýÿŶŷŸỲỳỴỵỶỷỸỹ"}, {"z", "ŹźŻżŽž"},
	} {
		for _, r := range g[1] {
			m[r] = g[0]
		}
	}
	return m
}()

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
