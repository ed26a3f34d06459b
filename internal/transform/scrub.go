package transform

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stewardhealth/steward/internal/detect"
)

// Dictionary maps the values a run transforms anywhere (names, MRNs, host names…) to their
// de-identified counterparts, so that scrub can replace them inside free text. It is built
// before any table is written and only read afterwards, so it is safe for concurrent reads.
//
// A value is found in text as a whole word or a run of whole words, ignoring case with one
// exception that keeps notes readable: a value written with a capital ("May", "Hall") is
// matched only where the text capitalises it too, so "may" and "hall" in prose stay.
type Dictionary struct {
	entries  map[string]entry
	maxWords int
}

type entry struct {
	replacement string
	anyCase     bool
}

// NewDictionary returns an empty dictionary.
func NewDictionary() *Dictionary { return &Dictionary{entries: map[string]entry{}} }

// Len is the number of values in the dictionary.
func (d *Dictionary) Len() int {
	if d == nil {
		return 0
	}
	return len(d.entries)
}

// Add records that value becomes replacement. The first replacement given for a value wins.
// Values too short or too common to find safely in text are left out: one character, or
// fewer than four digits.
func (d *Dictionary) Add(value, replacement string) {
	words := strings.Fields(value)
	if len(words) == 0 || len(words) > 4 {
		return
	}
	norm := strings.ToLower(strings.Join(words, " "))
	if utf8.RuneCountInString(norm) < 2 || (isDigits(norm) && len(norm) < 4) {
		return
	}
	if _, ok := d.entries[norm]; ok {
		return
	}
	first, _ := utf8.DecodeRuneInString(value)
	d.entries[norm] = entry{replacement: replacement, anyCase: !unicode.IsUpper(first)}
	d.maxWords = max(d.maxWords, len(words))
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
	if d != nil && len(d.entries) > 0 {
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

// find returns the dictionary values in text, longest run of words first, left to right.
func (d *Dictionary) find(text string) []span {
	words := tokenize(text)
	var spans []span
	var key strings.Builder
	for i := 0; i < len(words); {
		matched := 0
		for n := min(d.maxWords, len(words)-i); n >= 1; n-- {
			if n > 1 && !spaced(text, words[i:i+n]) {
				continue
			}
			key.Reset()
			for j := i; j < i+n; j++ {
				if j > i {
					key.WriteByte(' ')
				}
				key.WriteString(strings.ToLower(text[words[j].start:words[j].end]))
			}
			e, ok := d.entries[key.String()]
			if !ok {
				continue
			}
			if !e.anyCase {
				r, _ := utf8.DecodeRuneInString(text[words[i].start:])
				if !unicode.IsUpper(r) {
					continue
				}
			}
			spans = append(spans, span{words[i].start, words[i+n-1].end, e.replacement})
			matched = n
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

// spaced reports whether consecutive words are separated by white space only.
func spaced(text string, ws []word) bool {
	for i := 1; i < len(ws); i++ {
		gap := text[ws[i-1].end:ws[i].start]
		if strings.TrimSpace(gap) != "" {
			return false
		}
	}
	return true
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
		return digitsLike(h, "phone", v)
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
