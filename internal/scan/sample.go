package scan

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/detect"
)

// stats is what a column's sampled values look like: counts only. The values themselves are
// dropped as soon as they are counted (the distinct set holds digests, not values).
type stats struct {
	n        int                 // non-NULL values
	kinds    map[detect.Kind]int // whole-value kinds (detect.Classify)
	inText   map[detect.Kind]int // values with an identifier inside (detect.FindInText)
	textN    int                 // values of 20 characters or more with a space: prose
	first    int                 // one word, a known given name
	surname  int                 // one word, a known surname
	person   int                 // a known given name and surname
	user     int                 // looks like a login built from a name: jsmith, maria.santos
	org      int                 // holds a word naming an organisation (hospital, clinic, campus…)
	ints     int                 // whole numbers
	minYear  int                 // of the Date values
	maxYear  int                 //
	distinct map[uint64]struct{} // digests of the distinct values
}

func newStats() *stats {
	return &stats{kinds: map[detect.Kind]int{}, inText: map[detect.Kind]int{}, distinct: map[uint64]struct{}{}}
}

var errEnough = errors.New("sample complete")

// sample reads up to n rows of t and counts what its columns' values look like.
func sample(ctx context.Context, db database.DB, t *database.Table, n int) ([]*stats, int, error) {
	st := make([]*stats, len(t.Columns))
	for i := range st {
		st[i] = newStats()
	}
	rows := 0
	if n <= 0 {
		return st, 0, nil
	}
	err := db.Scan(ctx, t, func(r database.Row) error {
		for i, v := range r {
			st[i].add(t.Columns[i], v)
		}
		rows++
		if rows >= n {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, 0, fmt.Errorf("sample %s: %w", t.Name, err)
	}
	return st, rows, nil
}

func (s *stats) add(c *database.Column, v any) {
	var text string
	switch x := v.(type) {
	case nil:
		return
	case string:
		text = x
	case []byte:
		if c.Type == database.Bytes {
			s.n++
			return
		}
		text = string(x)
	case int64:
		s.n++
		s.ints++
		s.distinct[uint64(x)] = struct{}{}
		return
	default:
		text = fmt.Sprint(x)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	s.n++
	s.distinct[digest(text)] = struct{}{}
	if _, err := strconv.ParseInt(text, 10, 64); err == nil {
		s.ints++
	}
	k := detect.Classify(text)
	if k != "" {
		s.kinds[k]++
	}
	if k == detect.Date {
		if y, ok := detect.DateYear(text); ok {
			if s.minYear == 0 || y < s.minYear {
				s.minYear = y
			}
			s.maxYear = max(s.maxYear, y)
		}
	}
	if len(text) >= 20 && strings.ContainsRune(text, ' ') {
		s.textN++
	}
	if k == "" {
		if ik, ok := detect.FindInText(text); ok {
			s.inText[ik]++
		}
	}
	switch words := strings.Fields(text); {
	case len(text) < 3: // state and sex codes, initials
	case len(words) == 1 && detect.IsFirstName(text):
		s.first++
		if detect.IsSurname(text) {
			s.surname++
		}
	case len(words) == 1 && detect.IsSurname(text):
		s.surname++
	case detect.IsPersonName(text):
		s.person++
	}
	if loginLike(text) {
		s.user++
	}
	if orgLike(text) {
		s.org++
	}
}

// digest is FNV-1a: enough to count distinct values without keeping them.
func digest(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// loginLike reports a login name made of a person's names: jsmith, smithj, maria.santos, msantos2.
func loginLike(v string) bool {
	if len(v) < 3 || len(v) > 40 || strings.ContainsAny(v, " @") {
		return false
	}
	v = strings.ToLower(strings.TrimRightFunc(v, unicode.IsDigit))
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	if a, b, ok := strings.Cut(strings.NewReplacer("_", ".", "-", ".").Replace(v), "."); ok {
		return (detect.IsFirstName(a) || len(a) == 1) && detect.IsSurname(b)
	}
	return len(v) > 3 && (detect.IsSurname(v[1:]) || detect.IsSurname(v[:len(v)-1]))
}

var orgVocabulary = map[string]bool{
	"hospital": true, "hospitals": true, "health": true, "healthcare": true, "medical": true, "center": true, "centre": true,
	"clinic": true, "clinics": true, "campus": true, "memorial": true, "regional": true, "st": true, "saint": true,
	"university": true, "community": true, "institute": true, "infirmary": true, "physicians": true, "associates": true,
	"practice": true, "children's": true, "mercy": true, "providence": true, "baptist": true, "methodist": true, "presbyterian": true,
}

func orgLike(v string) bool {
	for _, w := range strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ' ' || r == '.' || r == ',' || r == '-' }) {
		if orgVocabulary[w] {
			return true
		}
	}
	return false
}

// share is part/n as a whole percentage.
func (s *stats) share(part int) int {
	if s.n == 0 {
		return 0
	}
	return (part*100 + s.n/2) / s.n
}

// top returns the most frequent whole-value kind and its count.
func (s *stats) top() (detect.Kind, int) {
	var best detect.Kind
	n := 0
	for k, c := range s.kinds {
		if c > n || c == n && k < best {
			best, n = k, c
		}
	}
	return best, n
}

// textHits counts values with an identifier inside or as a whole.
func (s *stats) textHits() int {
	n := 0
	for _, c := range s.inText {
		n += c
	}
	return n
}

func (s *stats) unique() int { return len(s.distinct) }
