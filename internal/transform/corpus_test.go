package transform

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"unicode"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/policy"
)

type corpusCase struct {
	line       int
	kind, text string
	marks      [][2]int // byte ranges of text that must be replaced
}

// readCorpus reads testdata/scrub-corpus.txt (its format is described at its top) into a
// dictionary, the way the engine fills one, and its cases.
func readCorpus(t *testing.T) (*Dictionary, []corpusCase) {
	t.Helper()
	f, err := os.Open("testdata/scrub-corpus.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := NewDictionary()
	sources := map[string]Source{}
	unescape := strings.NewReplacer(`\n`, "\n", `\t`, "\t")
	var cases []corpusCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kind, text, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("scrub-corpus.txt:%d: want KIND<TAB>TEXT", n)
		}
		if rule, ok := strings.CutPrefix(kind, "= "); ok {
			src, ok := sources[rule]
			if !ok {
				var r policy.Rule
				name, arg, _ := strings.Cut(rule, " ")
				switch name {
				case "hash":
					r = policy.Rule{Kind: policy.Hash}
				case "null":
					r = policy.Rule{Kind: policy.Null}
				case "pseudonym":
					r = policy.Rule{Kind: policy.Pseudonym, Text: arg}
				case "placeholder":
					r = policy.Rule{Kind: policy.Placeholder, Text: arg}
				default:
					t.Fatalf("scrub-corpus.txt:%d: unknown rule %q", n, rule)
				}
				src = d.Rule(InText(r, &database.Column{Name: "c", Type: database.Text, Length: 80}))
				sources[rule] = src
			}
			d.AddFrom(text, src)
			if label, ok := HostLabel(text); ok && rule == "placeholder hostname" {
				d.AddFrom(label, src) // as the engine does for host name columns
			}
			continue
		}
		c := corpusCase{line: n, kind: kind}
		text = unescape.Replace(text)
		for {
			a := strings.Index(text, "{{")
			if a < 0 {
				break
			}
			b := strings.Index(text[a:], "}}")
			if b < 0 {
				t.Fatalf("scrub-corpus.txt:%d: {{ without }}", n)
			}
			text = text[:a] + text[a+2:a+b] + text[a+b+2:]
			c.marks = append(c.marks, [2]int{a, a + b - 2})
		}
		if strings.Contains(text, "}}") {
			t.Fatalf("scrub-corpus.txt:%d: }} without {{", n)
		}
		if (kind == "prose") != (len(c.marks) == 0) {
			t.Fatalf("scrub-corpus.txt:%d: prose marks nothing, every other case marks something", n)
		}
		c.text = text
		cases = append(cases, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d, cases
}

// TestScrubCorpus scrubs every case of the corpus and prints recall (the marked identifiers
// replaced: every letter and digit of a mark inside something scrub replaced) and precision
// (what scrub replaced that overlaps a mark). Recall must be 100 %; nothing of the prose
// may change; parentheses stay balanced.
func TestScrubCorpus(t *testing.T) {
	d, cases := readCorpus(t)
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	var marks, found, replaced, wrong int
	kinds := map[string][2]int{} // kind → found, marks
	for _, c := range cases {
		spans := d.spans(nil, h, c.text)
		for _, m := range c.marks {
			marks++
			ok := true
			for i, r := range c.text[m[0]:m[1]] {
				if (unicode.IsLetter(r) || unicode.IsDigit(r)) && !inSpans(spans, m[0]+i) {
					ok = false
				}
			}
			k := kinds[c.kind]
			k[1]++
			if ok {
				found++
				k[0]++
			} else {
				t.Errorf("scrub-corpus.txt:%d: %q left in %q (scrubbed: %q)", c.line, c.text[m[0]:m[1]], c.text, d.Scrub(h, c.text, 0))
			}
			kinds[c.kind] = k
		}
		for _, s := range spans {
			replaced++
			hit := false
			for _, m := range c.marks {
				if s.start < m[1] && m[0] < s.end {
					hit = true
				}
			}
			if !hit {
				wrong++
				t.Errorf("scrub-corpus.txt:%d: %q replaced in %q, which is not an identifier", c.line, c.text[s.start:s.end], c.text)
			}
		}
		out := d.Scrub(h, c.text, 0)
		if strings.Count(out, "(")-strings.Count(out, ")") != strings.Count(c.text, "(")-strings.Count(c.text, ")") {
			t.Errorf("scrub-corpus.txt:%d: %q became %q: parentheses no longer balance", c.line, c.text, out)
		}
	}
	for kind, k := range kinds {
		t.Logf("%-8s %d of %d found", kind, k[0], k[1])
	}
	t.Logf("recall %.1f %% (%d of %d marked identifiers replaced), precision %.1f %% (%d of %d replacements are identifiers), %d cases",
		100*float64(found)/float64(marks), found, marks, 100*float64(replaced-wrong)/float64(max(replaced, 1)), replaced-wrong, replaced, len(cases))
}

func inSpans(spans []span, i int) bool {
	for _, s := range spans {
		if s.start <= i && i < s.end {
			return true
		}
	}
	return false
}
