package detect

import (
	_ "embed"
	"strings"
	"sync"
)

// words/common.txt: the common English words of SCOWL sizes 10–35, lower case (see
// words/README.md).
//
//go:embed words/common.txt
var commonWordList string

var commonWords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, strings.Count(commonWordList, "\n"))
	for w := range strings.SplitSeq(commonWordList, "\n") {
		if w != "" {
			m[w] = struct{}{}
		}
	}
	return m
})

// IsCommonWord reports whether w, one word in lower case without diacritics, is a common
// English word ("hall", "west", "grace"): prose, when a text writes it in lower case.
func IsCommonWord(w string) bool {
	_, ok := commonWords()[w]
	return ok
}

// IsCommonWordBytes is IsCommonWord for a word held in bytes (it does not allocate).
func IsCommonWordBytes(w []byte) bool {
	_, ok := commonWords()[string(w)]
	return ok
}
