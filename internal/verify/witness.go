package verify

import (
	"math/bits"
	"math/rand/v2"
	"unicode"
	"unicode/utf8"

	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/flatmap"
)

// witness is verify's own matcher of original values in the copy's text. It shares no code
// with scrub: it has its own normal form, its own boundaries and its own lookup, so that a
// spelling scrub's tokenizer does not see is still seen here.
//
// The normal form of a text keeps only its letters and digits, case-folded and with their
// diacritics folded ("Zoë" → "zoe", "Ł" → "l", "ß" → "ss"), and drops everything else, so
// "835 12 6709", "835-12-6709" and "ssn835126709" all hold "835126709", and "Allegheny
// Riverside\nHealth  System" holds "alleghenyriversidehealthsystem". A boundary is where the
// text had anything else (a space, any punctuation: / : _ - ' . , …), and where letters turn
// to digits or digits to letters (except inside a run of 8 or more hexadecimal characters,
// such as the hashes the rules write). An original value is found where its normal form
// starts and ends at boundaries of the text's: "MRN518998294" in "key:MRN518998294",
// "x-MRN518998294", "MRN518998294's" and "MRN 518 998 294", but not in "MRN5189982941"; the
// surname "Vasquez-Ortiz" in "Vasquez-Ortiz1's" and "vasquez ortiz".
//
// Dropping separators must not invent a match across words or numbers, so the separators
// inside a match must agree with the original's:
//   - between letters, the text may drop the original's separators ("VasquezOrtiz") but not
//     add its own ("to dd…" is not "Todd");
//   - between digits, the text writes the original's digit groups as the original does
//     ("835 12 6709" for 835-12-6709), or with no separator at all ("835126709"), or the
//     original has no groups and the text's number is complete — not continued, on either
//     side, by a separator and another digit ("MRN 518 998 294" for MRN518998294, but not
//     the 202-403-0410 inside "2024-03-04 10:30", nor the address 10.0.7.7 in "100.77").
//
// The automaton is a multi-pattern hash (Rabin–Karp over boundaries) rather than a trie, so
// that it holds digests, never values, and stays small: every original's normal form is kept
// as a 61-bit polynomial digest (a base drawn per run) in one table, and every 4-byte prefix
// of a normal form as a mask of the lengths of the originals that start with it. A text is
// read once: its prefix digests are computed in one pass, then at each boundary the 4 bytes
// that follow are looked up in the prefix table (a few hundred thousand prefixes at most,
// whatever the number of originals) and only the lengths it lists, ending at a boundary, are
// looked up in the digest table. The work is linear in the text; the digest table, once
// large, lives in a file (package filemem), so memory does not grow with the rows.
//
// One exception keeps the check about identity, not vocabulary: an original made only of
// common English words ("Hall", "West", "Fox Crossing") counts inside text only where the
// text capitalises it (every word of it), and, when it is a single word, only in scrubbed columns (whose rule
// promises to replace it there); "4 West Med-Surg" in a kept label is a ward. Such a value is
// still a survivor when it is a cell's whole value.
type witness struct {
	base uint64
	pow  []uint64               // base^k mod p, k ≤ maxInText
	pats *flatmap.Map[original] // normal-form digest → what is known of the original
	pref *flatmap.Map[uint64]   // mixed 4-byte prefix → lengths (bit k: 4+k bytes; bit 63: longer)
	max  int                    // longest normal form searched inside text, in bytes
}

// original is what the witness keeps of an original value: its column, how it may be found,
// and where separators split its letters and its digits (see normal.seps).
type original struct {
	info             uint32 // column id | pat… flags
	letters, numbers uint32
}

const (
	patInText      = 1 << 16 // searched inside text (the original has 4+ characters)
	patProseWord   = 1 << 17 // one common word: inside text, counts capitalised in scrubbed columns only
	patProsePhrase = 1 << 18 // common words only: inside text, counts capitalised only
	patColumn      = 1<<16 - 1
	mersenne61     = 1<<61 - 1
	maxInText      = 256 // longer originals are matched as whole values only
)

func newWitness(mem *filemem.Dir, n int) *witness {
	w := &witness{base: 1<<20 + rand.Uint64N(mersenne61-1<<21), pats: flatmap.NewIn[original](mem, n), pref: flatmap.New[uint64](0)}
	w.pow = make([]uint64, maxInText+1)
	w.pow[0] = 1
	for i := 1; i <= maxInText; i++ {
		w.pow[i] = mulmod(w.pow[i-1], w.base)
	}
	return w
}

func (w *witness) free() {
	if w != nil {
		w.pats.Free()
	}
}

func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a, b < 2^61: the product < 2^122; fold the bits above 61.
	r := (lo & mersenne61) + (lo>>61 | hi<<3)
	if r >= mersenne61 {
		r -= mersenne61
	}
	return r
}

// mix spreads a digest over 64 bits (the tables use their keys' low bits as they are).
func mix(x uint64) uint64 {
	x ^= x >> 31
	x *= 0x7fb5d329728ea185
	x ^= x >> 27
	x *= 0x81dadef4bc2dd44d
	x ^= x >> 33
	return x
}

// normal is a text in normal form: its folded letters and digits, with, for each position
// (and the end), whether a boundary comes before it, of what kind, and whether the text's
// character there was upper case; and the prefix digests (see witness.digests).
type normal struct {
	b     []byte
	flags []uint8 // len(b)+1
	h     []uint64
	tok   int // where the current run of letters and digits started in b
}

const (
	fBoundary = 1 << iota
	fUpper
	fLetters // a separator between two letters
	fDigits  // a separator between two digits: a number is split there
)

// normalise puts s in normal form into n, reusing its memory.
func (n *normal) normalise(s string) {
	if cap(n.b) < len(s) {
		n.b, n.flags = make([]byte, 0, len(s)+len(s)/2), make([]uint8, 0, len(s)+len(s)/2+1)
	}
	n.b, n.flags, n.tok = n.b[:0], n.flags[:0], 0
	cut, prevDigit := true, false
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf { // the common case, inline: ASCII
			i++
			k := asciiClass[c]
			if k == 0 {
				if !cut {
					n.endToken(false)
				}
				cut = true
				continue
			}
			digit, f := k == cDigit, uint8(0)
			if cut {
				n.tok = len(n.b)
				f = fBoundary
				if len(n.b) > 0 && digit == prevDigit {
					f |= fLetters
					if digit {
						f = fBoundary | fDigits
					}
				}
			} else if digit != prevDigit {
				f = fBoundary
			}
			if k == cUpper {
				f |= fUpper
				c += 'a' - 'A'
			}
			n.b = append(n.b, c)
			n.flags = append(n.flags, f)
			cut, prevDigit = false, digit
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		i += size
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			n.put(byte(r), r <= '9', false, &cut, &prevDigit)
		case 'A' <= r && r <= 'Z':
			n.put(byte(r)+'a'-'A', false, true, &cut, &prevDigit)
		case r < utf8.RuneSelf:
			n.endToken(cut)
			cut = true
		case unicode.Is(unicode.Mn, r): // a combining accent: part of the letter before it
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			upper := unicode.IsUpper(r)
			if f, ok := folds[r]; ok {
				for j := 0; j < len(f); j++ {
					n.put(f[j], false, upper && j == 0, &cut, &prevDigit)
				}
				continue
			}
			if unicode.Is(unicode.Nd, r) {
				// Digits of other scripts ("٣") are the ASCII digit of their value.
				n.put(byte('0'+digitValue(r)), true, false, &cut, &prevDigit)
				continue
			}
			var buf [utf8.UTFMax]byte
			for j, x := range utf8.AppendRune(buf[:0], unicode.ToLower(r)) {
				n.put(x, false, upper && j == 0, &cut, &prevDigit)
			}
		default:
			n.endToken(cut)
			cut = true
		}
	}
	n.endToken(cut)
	n.flags = append(n.flags, fBoundary)
}

// Classes of ASCII bytes for normalise.
const (
	cOther = iota
	cLower
	cUpper
	cDigit
)

var asciiClass = func() (t [utf8.RuneSelf]uint8) {
	for c := range t {
		switch {
		case 'a' <= c && c <= 'z':
			t[c] = cLower
		case 'A' <= c && c <= 'Z':
			t[c] = cUpper
		case '0' <= c && c <= '9':
			t[c] = cDigit
		}
	}
	return t
}()

func (n *normal) put(b byte, digit, upper bool, cut, prevDigit *bool) {
	f := uint8(0)
	if *cut {
		n.tok = len(n.b)
	}
	if *cut || (len(n.b) > 0 && digit != *prevDigit) {
		f |= fBoundary
		if *cut && len(n.b) > 0 && digit == *prevDigit {
			if digit {
				f |= fDigits
			} else {
				f |= fLetters
			}
		}
	}
	if upper {
		f |= fUpper
	}
	n.b = append(n.b, b)
	n.flags = append(n.flags, f)
	*cut, *prevDigit = false, digit
}

// endToken ends a run of letters and digits (unless none is open): a run of 8 or more
// hexadecimal characters with both letters and digits (a hash) is not split where letters
// meet digits, so that "to dd06c3f7" holds no "dd" and "3f78721904bc" no number.
func (n *normal) endToken(cut bool) {
	if cut || len(n.b)-n.tok < 8 {
		return
	}
	letters, digits := false, false
	for _, c := range n.b[n.tok:] {
		switch {
		case '0' <= c && c <= '9':
			digits = true
		case 'a' <= c && c <= 'f':
			letters = true
		default:
			return
		}
	}
	if letters && digits {
		for p := n.tok + 1; p < len(n.b); p++ {
			n.flags[p] &^= fBoundary
		}
	}
}

// digitValue is the value of a decimal digit of any script.
func digitValue(r rune) int {
	for _, t := range unicode.Nd.R16 {
		if r <= 0xffff && uint16(r) >= t.Lo && uint16(r) <= t.Hi {
			return int(uint16(r)-t.Lo) % 10
		}
	}
	for _, t := range unicode.Nd.R32 {
		if uint32(r) >= t.Lo && uint32(r) <= t.Hi {
			return int(uint32(r)-t.Lo) % 10
		}
	}
	return 0
}

// digests fills n.h with the prefix digests of n.b: h[i] is the digest of b[:i].
func (w *witness) digests(n *normal) {
	if cap(n.h) < len(n.b)+1 {
		n.h = make([]uint64, 0, len(n.b)+len(n.b)/2+1)
	}
	n.h = append(n.h[:0], 0)
	var h uint64
	for _, c := range n.b {
		h = mulmod(h, w.base) + uint64(c) + 1
		if h >= mersenne61 {
			h -= mersenne61
		}
		n.h = append(n.h, h)
	}
}

// span is the digest of b[s:e].
func (w *witness) span(n *normal, s, e int) uint64 {
	if s == 0 {
		return n.h[e]
	}
	h := n.h[e] + mersenne61 - mulmod(n.h[s], w.pow[e-s])
	if h >= mersenne61 {
		h -= mersenne61
	}
	return h
}

// seps returns the masks of the places, relative to s, where a separator splits letters
// and where one splits digits inside b[s:e] (in its first 32 bytes).
func (n *normal) seps(s, e int) (letters, numbers uint32) {
	for p := s + 1; p < e && p-s < 32; p++ {
		switch f := n.flags[p]; {
		case f&fLetters != 0:
			letters |= 1 << (p - s)
		case f&fDigits != 0:
			numbers |= 1 << (p - s)
		}
	}
	return letters, numbers
}

// agrees applies the rule for separators (see witness) to a text span, whose separators
// are letters and numbers, and the original o; isolated says the span's number is not
// continued, on either side, by a separator and another digit.
func (o original) agrees(letters, numbers uint32, isolated bool) bool {
	if letters&^o.letters != 0 {
		return false
	}
	return numbers == o.numbers || numbers == 0 || (o.numbers == 0 && isolated)
}

func prefixKey(b []byte) uint64 {
	return mix(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | 1<<32)
}

// add records an original value of column col. inText says whether it is looked for inside
// text as well as as a whole value.
func (w *witness) add(n *normal, value string, col uint16, inText bool) {
	n.normalise(value)
	if len(n.b) == 0 {
		return
	}
	w.digests(n)
	o := original{info: uint32(col)}
	o.letters, o.numbers = n.seps(0, len(n.b))
	if inText && len(n.b) >= 4 && len(n.b) <= maxInText {
		o.info |= patInText
		words, prose := 0, true
		for s := 0; s < len(n.b); {
			e := s + 1
			for e < len(n.b) && n.flags[e]&fBoundary == 0 {
				e++
			}
			words++
			if n.b[s] < 'a' || n.b[s] > 'z' || !detect.IsCommonWordBytes(n.b[s:e]) {
				prose = false
			}
			s = e
		}
		if prose {
			if words == 1 {
				o.info |= patProseWord
			} else {
				o.info |= patProsePhrase
			}
		}
		m, _ := w.pref.Ref(prefixKey(n.b))
		if l := len(n.b) - 4; l < 63 {
			*m |= 1 << l
		} else {
			*m |= 1 << 63
		}
		w.max = max(w.max, len(n.b))
	}
	p, isNew := w.pats.Ref(mix(w.span(n, 0, len(n.b))))
	if isNew {
		*p = o
		return
	}
	// The first column stays the one reported; the value is searched inside text if any of
	// its columns asks, and is prose only if every one says so. (Equal normal forms with
	// other separators keep the first's: a rare miss, never a false finding.)
	prose := p.info & o.info & (patProseWord | patProsePhrase)
	p.info = p.info&^(patInText|patProseWord|patProsePhrase) | (p.info|o.info)&patInText | prose
}

// absent reports, for an ASCII text, whether its normal form is certainly not an original's
// whole value, without putting it in normal form (most cells of a hashed column); false when
// it cannot tell (the text is not ASCII, or the digest is known: see whole).
func (w *witness) absent(s string) bool {
	var h uint64
	empty := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			return false
		}
		switch asciiClass[c] {
		case cOther:
			continue
		case cUpper:
			c += 'a' - 'A'
		}
		h = mulmod(h, w.base) + uint64(c) + 1
		if h >= mersenne61 {
			h -= mersenne61
		}
		empty = false
	}
	if empty {
		return true
	}
	_, found := w.pats.Get(mix(h))
	return !found
}

// whole looks the whole of a text (in normal form, digests computed) up among the
// originals.
func (w *witness) whole(n *normal) (col int, ok bool) {
	if len(n.b) == 0 {
		return 0, false
	}
	o, ok := w.pats.Get(mix(w.span(n, 0, len(n.b))))
	if !ok {
		return 0, false
	}
	if l, d := n.seps(0, len(n.b)); !o.agrees(l, d, true) {
		return 0, false
	}
	return int(o.info & patColumn), true
}

// inside finds an original value inside a text already in normal form (digests computed);
// scrubbed says the column's rule is scrub. It returns the column the first found value
// came from.
func (w *witness) inside(n *normal, scrubbed bool) (col int, ok bool) {
	b, flags := n.b, n.flags
	for s := 0; s+4 <= len(b); s++ {
		if flags[s]&fBoundary == 0 {
			continue
		}
		mask, found := w.pref.Get(prefixKey(b[s:]))
		if !found {
			continue
		}
		for m := mask &^ (1 << 63); m != 0; m &= m - 1 {
			e := s + 4 + bits.TrailingZeros64(m)
			if e > len(b) {
				break
			}
			if flags[e]&fBoundary != 0 {
				if c, ok := w.match(n, s, e, scrubbed); ok {
					return c, true
				}
			}
		}
		if mask&(1<<63) != 0 {
			for e := s + 4 + 63; e <= len(b) && e-s <= w.max; e++ {
				if flags[e]&fBoundary != 0 {
					if c, ok := w.match(n, s, e, scrubbed); ok {
						return c, true
					}
				}
			}
		}
	}
	return 0, false
}

func (w *witness) match(n *normal, s, e int, scrubbed bool) (int, bool) {
	o, ok := w.pats.Get(mix(w.span(n, s, e)))
	if !ok || o.info&patInText == 0 {
		return 0, false
	}
	if l, d := n.seps(s, e); !o.agrees(l, d, n.flags[s]&fDigits == 0 && n.flags[e]&fDigits == 0) {
		return 0, false
	}
	switch {
	case o.info&patProseWord != 0 && !(scrubbed && n.capitalised(s, e)):
		return 0, false
	case o.info&patProsePhrase != 0 && !n.capitalised(s, e):
		return 0, false
	}
	return int(o.info & patColumn), true
}

// capitalised reports whether every word of b[s:e] starts with a capital in the text.
func (n *normal) capitalised(s, e int) bool {
	for p := s; p < e; p++ {
		if n.flags[p]&fBoundary != 0 && n.flags[p]&fUpper == 0 {
			return false
		}
	}
	return true
}

// folds are the letters whose normal form is not their lower case: Latin letters with
// diacritics, ligatures and the like. Combining accents are dropped separately.
var folds = func() map[rune]string {
	m := map[rune]string{}
	for letters, to := range map[string]string{
		"ÀÁÂÃÄÅàáâãäåĀāĂăĄąǍǎǞǟǠǡǺǻȀȁȂȃȦȧẠạẢảẤấẦầẨẩẪẫẬậẮắẰằẲẳẴẵẶặ": "a",
		"ÆæǢǣǼǽ":             "ae",
		"ḂḃḄḅḆḇƀɓ":           "b",
		"ÇçĆćĈĉĊċČčƈ":        "c",
		"ÐðĎďĐđḊḋḌḍḎḏḐḑḒḓɖɗ": "d",
		"ÈÉÊËèéêëĒēĔĕĖėĘęĚěȄȅȆȇȨȩẸẹẺẻẼẽẾếỀềỂểỄễỆệ": "e",
		"Ḟḟƒ":              "f",
		"ĜĝĞğĠġĢģǦǧǴǵḠḡ":   "g",
		"ĤĥĦħȞȟḢḣḤḥḦḧḨḩḪḫ": "h",
		"ÌÍÎÏìíîïĨĩĪīĬĭĮįİıǏǐȈȉȊȋỈỉỊị": "i",
		"Ĳĳ":          "ij",
		"Ĵĵǰ":         "j",
		"ĶķĸǨǩḰḱḲḳḴḵ": "k",
		"ĹĺĻļĽľĿŀŁłḶḷḸḹḺḻḼḽ":    "l",
		"ḾḿṀṁṂṃ":                "m",
		"ÑñŃńŅņŇňŉŊŋǸǹṄṅṆṇṈṉṊṋ": "n",
		"ÒÓÔÕÖØòóôõöøŌōŎŏŐőƠơǑǒǪǫǬǭǾǿȌȍȎȏȪȫȬȭȮȯȰȱỌọỎỏỐốỒồỔổỖỗỘộỚớỜờỞởỠỡỢợ": "o",
		"Œœ":   "oe",
		"ṔṕṖṗ": "p",
		"ŔŕŖŗŘřȐȑȒȓṘṙṚṛṜṝṞṟ": "r",
		"ŚśŜŝŞşŠšȘșṠṡṢṣſ":    "s",
		"ß":                  "ss",
		"ŢţŤťŦŧȚțṪṫṬṭṮṯṰṱẗ":  "t",
		"Þþ": "th",
		"ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲųƯưǓǔǕǖǗǘǙǚǛǜȔȕȖȗỤụỦủỨứỪừỬửỮữỰự": "u",
		"ṼṽṾṿ":          "v",
		"ŴŵẀẁẂẃẄẅẆẇẈẉẘ": "w",
		"ẊẋẌẍ":          "x",
		"ÝýÿŶŷŸȲȳẎẏỲỳỴỵỶỷỸỹẙ": "y",
		"ŹźŻżŽžƶȤȥẐẑẒẓẔẕ":     "z",
	} {
		for _, r := range letters {
			m[r] = to
		}
	}
	return m
}()
