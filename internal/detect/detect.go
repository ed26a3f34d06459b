// Package detect recognises identifiers: in free text (Find), as a column's
// whole value (Classify), by a column's name (Column) and in the bundled
// dictionaries of US given names and surnames (IsFirstName, IsSurname,
// IsPersonName). scrub, scan and verify share it.
//
// Find finds machine identifiers inside free text: IP addresses,
// e-mail addresses, URLs, host names, North-American phone numbers and US
// social security numbers. Steward uses it to scrub clinical notes and other
// free-text columns, so it is written to catch every identifier of the listed
// kinds while leaving ordinary prose alone. Classify adds what only a whole
// value shows (dates, ZIP codes, record numbers); FindInText adds record
// numbers and known names written inside text; Column reads a column's name
// (snake_case or camelCase, abbreviations such as pt_fname, dob, mrn, acct_no,
// ws_name, ip_addr) as a Class.
//
// The model is a set of small hand-written scanners, one per kind, each
// anchored on a cheap landmark byte ("://" for URLs, '@' for e-mail, ':' for
// IPv6, '.' for host names, a digit for IPv4, phone numbers and SSNs). Text
// without the landmark costs one fast byte search (digits are looked for
// eight bytes at a time) and nothing more; no regular expressions are used. Every scanner proposes candidates, and where
// candidates overlap the longer one wins, so a URL beats the host name or IP
// address inside it and an e-mail address beats its domain.
//
// What each kind matches, and what it deliberately does not:
//
//   - IPv4: four dotted decimal octets 0–255 (leading zeros allowed), with an
//     optional /0–/32 CIDR suffix. It is not matched inside a longer dotted
//     number (1.2.3.4.5), right after a digit or a dot, or right after a
//     version marker ("v1.2.3.4", "V10.0.0.1"). A bare 1.2.3.4 is reported
//     even though it could be a section or version number: in text that is
//     being de-identified, a false alarm is cheaper than a missed address.
//   - IPv6: full, compressed and IPv4-suffixed forms ("2001:db8::1",
//     "fe80::1ff:fe23:4567:890a", "::1", "::ffff:10.0.0.1"), with an optional
//     /0–/128 suffix, validated with net/netip. Clock times (10:30, 10:30:15)
//     and C++ style names (std::vector) are not matched: a candidate must not
//     touch a letter, digit or underscore on either side and must either use
//     "::" compression or have all eight groups.
//   - Email: local@domain.tld where the domain has at least two labels and an
//     alphabetic top-level label of two or more letters. The local part may
//     hold letters, digits and . _ % + - ' (so O'Brien's address is found);
//     leading dots and quotes are not part of it.
//   - URL: any RFC 3986 scheme followed by "://" (http, https, ftp, sftp, but
//     also tcp://, mllp:// for HL7 feeds, jdbc:sqlserver://, smb:// and so
//     on: prose never contains "://"). The URL runs to the first white space
//     (Unicode included), typographic quote, or character that can never
//     appear unescaped in a URL (" < >), and
//     trailing . , ; : ! ? ' " are dropped, as are ) and ] that close nothing
//     opened inside the URL. A "jdbc:" prefix is kept with its sub-scheme.
//   - Hostname: two or more dot-separated labels of letters, digits, hyphens
//     and underscores, ending in an alphabetic label of 2–63 letters, where
//     either the top-level label is in a small built-in list of common public
//     and internal TLDs (com, org, net, local, lan, internal, corp, health,
//     hospital, us, ca, uk, be, ...) or there are three or more labels. To
//     keep prose intact it does not match: abbreviations (e.g., i.e., a.m.,
//     Dr.), decimals (3.5), sentence breaks missing a space ("end.Next":
//     a Title-case top-level label such as ".Net" is treated as the start of
//     a sentence), two-label names whose first label is a common abbreviation
//     ("Dr.de"), and file names whose last label is a common file extension
//     (report.pdf, scan.final.jpg, notes.txt, data.csv, log.json, ...). Names
//     with an unlisted top-level label must also have no one-letter label and
//     no Title-case label, which rules out run-together sentences.
//   - Phone: North-American numbers written as (555) 123-4567, 555-123-4567,
//     555.123.4567, 555 123-4567, optionally preceded by a country code
//     (+1 555 123 4567, 1-800-555-0199, +15551234567). Separators are single
//     hyphens, dots or spaces, except that an all-space 555 123 4567 needs
//     the +1 or the parentheses: on its own it is as likely to be three lab
//     values. A bare run of ten digits is not matched (it is as likely to be
//     an account or record number), nor are dates (2021-03-04), SSNs, or
//     3-3-4 groups that are part of a bigger number (a digit, or a digit and
//     a separator, directly before or after). Letters directly before are
//     allowed, so "Tel555-123-4567" and "MRN123-456-7890" are reported.
//   - SSN: the dashed form 123-45-6789 only, excluding numbers that are never
//     issued: area 000, 666 or 900–999, group 00, serial 0000. Undashed nine
//     digit runs are not matched for the same reason bare phone numbers are
//     not.
//
// All offsets are byte offsets into the original string. The scanners decide
// on ASCII bytes, which never occur inside a multi-byte UTF-8 sequence (only
// the end of a URL is found by decoding runes), so offsets stay correct in
// text containing any Unicode.
package detect

import (
	"net/netip"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind names what a recogniser found.
type Kind string

const (
	IPv4     Kind = "ipv4"
	IPv6     Kind = "ipv6"
	Email    Kind = "email"
	URL      Kind = "url"
	Hostname Kind = "hostname" // a fully qualified host name, e.g. ws-er-04.stmarys.local
	Phone    Kind = "phone"    // North-American style numbers: (555) 123-4567, 555-123-4567, 555.123.4567, +1 555 123 4567
	SSN      Kind = "ssn"      // 123-45-6789 (dashed only; area 000, 666, 9xx and group 00 / serial 0000 are not SSNs)
)

// Match is one recognised identifier: text[Start:End] (byte offsets).
type Match struct {
	Start, End int
	Kind       Kind
}

// Kinds lists every kind Find reports, in a stable order.
func Kinds() []Kind {
	return []Kind{IPv4, IPv6, Email, URL, Hostname, Phone, SSN}
}

// Find returns the identifiers in text, left to right, never overlapping.
// Where candidates overlap, the longer one wins (a URL over the host name inside it,
// an e-mail address over its domain).
func Find(text string) []Match {
	var buf [16]Match
	c := buf[:0]
	c = findURLs(text, c)
	c = findEmails(text, c)
	c = findIPv6(text, c)
	c = findHostnames(text, c)
	c = findNumbers(text, c)
	if len(c) == 0 {
		return nil
	}
	return resolve(c)
}

// ---------------------------------------------------------------------------
// Byte classes.

const (
	cDigit  = 1 << iota // 0-9
	cAlpha              // A-Z a-z
	cHex                // 0-9 A-F a-f
	cLocal              // e-mail local part: alnum . _ % + - '
	cDomain             // e-mail domain: alnum . -
	cHost               // host-name run: alnum . - _
	cScheme             // URL scheme: alnum + -
)

var class = func() (t [256]uint8) {
	for b := '0'; b <= '9'; b++ {
		t[b] |= cDigit | cHex | cLocal | cDomain | cHost | cScheme
	}
	for b := 'a'; b <= 'z'; b++ {
		t[b] |= cAlpha | cLocal | cDomain | cHost | cScheme
		t[b-'a'+'A'] |= cAlpha | cLocal | cDomain | cHost | cScheme
	}
	for b := 'a'; b <= 'f'; b++ {
		t[b] |= cHex
		t[b-'a'+'A'] |= cHex
	}
	for _, b := range ".-_%+'" {
		t[b] |= cLocal
	}
	for _, b := range ".-" {
		t[b] |= cDomain
	}
	for _, b := range ".-_" {
		t[b] |= cHost
	}
	for _, b := range "+-" {
		t[b] |= cScheme
	}
	return t
}()

func is(b byte, c uint8) bool { return class[b]&c != 0 }
func isDigit(b byte) bool     { return '0' <= b && b <= '9' }
func isAlnum(b byte) bool     { return class[b]&(cDigit|cAlpha) != 0 }
func isWord(b byte) bool      { return b == '_' || isAlnum(b) }
func isLower(b byte) bool     { return 'a' <= b && b <= 'z' }
func isUpper(b byte) bool     { return 'A' <= b && b <= 'Z' }

// at returns s[i], or 0 when i is out of range.
func at(s string, i int) byte {
	if i < 0 || i >= len(s) {
		return 0
	}
	return s[i]
}

// digitsAt reports whether s[i:i+k] is k ASCII digits.
func digitsAt(s string, i, k int) bool {
	if i < 0 || i+k > len(s) {
		return false
	}
	for _, b := range []byte(s[i : i+k]) {
		if !isDigit(b) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Overlap resolution.

// resolve sorts the candidates and drops overlapping ones. Candidates are
// grouped into clusters of (transitively) overlapping spans; inside a cluster
// the longest span is kept first, then the longest of those that do not
// overlap it, and so on.
func resolve(c []Match) []Match {
	slices.SortFunc(c, func(x, y Match) int {
		if x.Start != y.Start {
			return x.Start - y.Start
		}
		return y.End - x.End
	})
	out := make([]Match, 0, len(c))
	for i := 0; i < len(c); {
		j, end := i+1, c[i].End
		for j < len(c) && c[j].Start < end {
			end = max(end, c[j].End)
			j++
		}
		if j == i+1 {
			out = append(out, c[i])
		} else {
			out = append(out, longestFirst(c[i:j])...)
		}
		i = j
	}
	return out
}

func kindRank(k Kind) int {
	switch k {
	case URL:
		return 0
	case Email:
		return 1
	case IPv6:
		return 2
	case IPv4:
		return 3
	case Phone:
		return 4
	case SSN:
		return 5
	}
	return 6
}

// longestFirst picks non-overlapping matches from one cluster, longest first,
// and returns them ordered by position. It reuses the cluster's storage.
func longestFirst(cl []Match) []Match {
	slices.SortFunc(cl, func(x, y Match) int {
		if lx, ly := x.End-x.Start, y.End-y.Start; lx != ly {
			return ly - lx
		}
		if x.Start != y.Start {
			return x.Start - y.Start
		}
		return kindRank(x.Kind) - kindRank(y.Kind)
	})
	kept := cl[:0]
	for _, m := range cl {
		ok := true
		for _, k := range kept {
			if m.Start < k.End && k.Start < m.End {
				ok = false
				break
			}
		}
		if ok {
			kept = append(kept, m)
		}
	}
	slices.SortFunc(kept, func(x, y Match) int { return x.Start - y.Start })
	return kept
}

// ---------------------------------------------------------------------------
// URL.

func findURLs(s string, c []Match) []Match {
	for i := 0; i < len(s); {
		k := strings.Index(s[i:], "://")
		if k < 0 {
			break
		}
		k += i
		i = k + 3
		a := k
		for a > 0 && is(s[a-1], cScheme) {
			a--
		}
		for a < k && !is(s[a], cAlpha) { // a scheme starts with a letter
			a++
		}
		if a == k {
			continue
		}
		if a >= 5 && s[a-1] == ':' && strings.EqualFold(s[a-5:a-1], "jdbc") && !is(at(s, a-6), cScheme) {
			a -= 5
		}
		b := trimURL(s, k+3, urlEnd(s, k+3))
		if b == k+3 {
			continue
		}
		c = append(c, Match{a, b, URL})
		i = b
	}
	return c
}

// urlEnd returns the end of the URL body that starts at p: the first white
// space, control character, or character that is never part of a URL.
func urlEnd(s string, p int) int {
	for p < len(s) {
		b := s[p]
		if b < utf8.RuneSelf {
			if b <= ' ' || b == 0x7f || b == '"' || b == '<' || b == '>' {
				return p
			}
			p++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[p:])
		if unicode.IsSpace(r) || r == '“' || r == '”' || r == '‘' || r == '’' || r == '«' || r == '»' {
			return p
		}
		p += n
	}
	return p
}

// trimURL drops trailing punctuation from s[p:e] and returns the new end.
func trimURL(s string, p, e int) int {
	var open, close [2]int // () and []
	for _, b := range []byte(s[p:e]) {
		switch b {
		case '(':
			open[0]++
		case ')':
			close[0]++
		case '[':
			open[1]++
		case ']':
			close[1]++
		}
	}
	for e > p {
		switch s[e-1] {
		case '.', ',', ';', ':', '!', '?', '\'', '"':
		case ')':
			if close[0] <= open[0] {
				return e
			}
			close[0]--
		case ']':
			if close[1] <= open[1] {
				return e
			}
			close[1]--
		default:
			return e
		}
		e--
	}
	return e
}

// ---------------------------------------------------------------------------
// E-mail.

func findEmails(s string, c []Match) []Match {
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '@')
		if k < 0 {
			break
		}
		k += i
		i = k + 1
		a := k
		for a > 0 && is(s[a-1], cLocal) {
			a--
		}
		for a < k && (s[a] == '.' || s[a] == '\'') {
			a++
		}
		if a == k {
			continue
		}
		b := k + 1
		for b < len(s) && is(s[b], cDomain) {
			b++
		}
		d := s[k+1 : b]
		if x := strings.Index(d, ".."); x >= 0 {
			d = d[:x]
		}
		d = strings.TrimRight(d, ".-")
		if !validDomain(d) {
			continue
		}
		c = append(c, Match{a, k + 1 + len(d), Email})
		i = k + 1 + len(d)
	}
	return c
}

// validDomain reports whether d is at least two non-empty labels ending in
// an alphabetic label of two or more letters.
func validDomain(d string) bool {
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 || d[0] == '.' || d[0] == '-' || strings.Contains(d, "..") {
		return false
	}
	tld := d[dot+1:]
	if len(tld) < 2 || len(tld) > 63 {
		return false
	}
	for _, b := range []byte(tld) {
		if !is(b, cAlpha) {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// IPv6.

func findIPv6(s string, c []Match) []Match {
	n := len(s)
	for i := 0; i < n; {
		k := strings.IndexByte(s[i:], ':')
		if k < 0 {
			break
		}
		k += i
		a := k
		for a > 0 && (is(s[a-1], cHex) || s[a-1] == ':') {
			a--
		}
		b := k + 1
		for b < n && (is(s[b], cHex) || s[b] == ':' || s[b] == '.') {
			b++
		}
		i = b
		for b > a && s[b-1] == '.' {
			b--
		}
		if b-a >= 2 && s[b-1] == ':' && s[b-2] != ':' { // "… 2001:db8::1: next"
			b--
		}
		if b-a >= 2 && s[a] == ':' && s[a+1] != ':' { // "IP:2001:db8::1"
			a++
		}
		if isWord(at(s, a-1)) || isWord(at(s, b)) {
			continue
		}
		cand := s[a:b]
		colons := strings.Count(cand, ":")
		dotted := strings.IndexByte(cand, '.') >= 0
		if !(strings.Contains(cand, "::") || colons == 7 && !dotted || colons == 6 && dotted) {
			continue // clock times and other colon-separated numbers
		}
		hex := false
		for _, ch := range []byte(cand) {
			if is(ch, cHex) {
				hex = true
				break
			}
		}
		if !hex {
			continue // a bare "::"
		}
		addr, err := netip.ParseAddr(cand)
		if err != nil || !addr.Is6() {
			continue
		}
		b = prefixLen(s, b, 128)
		c = append(c, Match{a, b, IPv6})
	}
	return c
}

// prefixLen extends an address ending at e over a "/n" suffix with n ≤ limit.
func prefixLen(s string, e, limit int) int {
	if at(s, e) != '/' || !isDigit(at(s, e+1)) {
		return e
	}
	v, q := 0, e+1
	for q < len(s) && isDigit(s[q]) && q-e <= 3 {
		v = v*10 + int(s[q]-'0')
		q++
	}
	if isDigit(at(s, q)) || v > limit || (s[e+1] == '0' && q-e > 2) {
		return e
	}
	return q
}

// ---------------------------------------------------------------------------
// Host names.

func findHostnames(s string, c []Match) []Match {
	n := len(s)
	for i := 0; i < n; {
		k := strings.IndexByte(s[i:], '.')
		if k < 0 {
			break
		}
		k += i
		if k == 0 || !isAlnum(s[k-1]) || !isAlnum(at(s, k+1)) {
			i = k + 1
			continue
		}
		a := k
		for a > 0 && is(s[a-1], cHost) {
			a--
		}
		b := k + 1
		for b < n && is(s[b], cHost) {
			b++
		}
		i = b
		// A run may hold several candidates separated by "..".
		for p := a; p < b; {
			q := p + strings.Index(s[p:b], "..")
			if q < p {
				q = b
			}
			x, y := p, q
			for x < y && (s[x] == '.' || s[x] == '-' || s[x] == '_') {
				x++
			}
			for y > x && (s[y-1] == '.' || s[y-1] == '-' || s[y-1] == '_') {
				y--
			}
			if y > x && validHost(s[x:y]) {
				c = append(c, Match{x, y, Hostname})
			}
			p = q + 2
		}
	}
	return c
}

// validHost applies the host-name rules to h, which consists of host-run
// bytes and starts and ends with neither a dot, a hyphen nor an underscore.
func validHost(h string) bool {
	if len(h) > 253 {
		return false
	}
	dot := strings.LastIndexByte(h, '.')
	if dot < 0 {
		return false
	}
	tld := h[dot+1:]
	if len(tld) < 2 || len(tld) > 63 {
		return false
	}
	var lower, upper bool
	for _, b := range []byte(tld) {
		switch {
		case isLower(b):
			lower = true
		case isUpper(b):
			upper = true
		default:
			return false
		}
	}
	if lower && upper {
		return false // "end.Next": a sentence break, not a host
	}
	var tb [63]byte
	t := tb[:len(tld)]
	for i := range len(tld) {
		t[i] = tld[i] | 0x20
	}
	if fileExts[string(t)] {
		return false
	}
	listed := knownTLDs[string(t)]

	labels, short, title := 0, false, false
	for rest := h; ; {
		j := strings.IndexByte(rest, '.')
		l := rest
		if j >= 0 {
			l = rest[:j]
		}
		if len(l) == 0 || len(l) > 63 {
			return false
		}
		labels++
		if len(l) == 1 {
			short = true
		}
		if isTitle(l) {
			title = true
		}
		if labels == 1 && j >= 0 && strings.IndexByte(rest[j+1:], '.') < 0 && abbreviation(l) {
			return false // two labels, "Dr.de"
		}
		if j < 0 {
			break
		}
		rest = rest[j+1:]
	}
	if listed {
		return true
	}
	return labels >= 3 && !short && !title
}

// isTitle reports whether l is a capitalised word such as "Patient".
func isTitle(l string) bool {
	if len(l) < 2 || !isUpper(l[0]) {
		return false
	}
	for _, b := range []byte(l[1:]) {
		if !isLower(b) {
			return false
		}
	}
	return true
}

func abbreviation(l string) bool {
	if len(l) > 6 {
		return false
	}
	var b [6]byte
	for i := range len(l) {
		b[i] = l[i] | 0x20
	}
	return abbreviations[string(b[:len(l)])]
}

// knownTLDs is the short list of top-level labels that make a two-label name
// a host name. It mixes the common generic TLDs, the internal pseudo-TLDs
// hospitals use for their Active Directory and DNS zones, and the ccTLDs of
// the countries Steward is deployed in or near. Country codes that are common
// English words (in, it, is, no, to, me, at) are left out on purpose.
var knownTLDs = setOf(
	"com", "org", "net", "edu", "gov", "mil", "int", "info", "biz", "io", "co",
	"local", "localdomain", "lan", "internal", "corp", "intra", "intranet",
	"health", "hospital",
	"us", "ca", "uk", "be", "de", "fr", "nl", "au", "eu", "ie", "nz", "ch", "lu",
)

// fileExts are last labels that mark a file name, not a host.
var fileExts = setOf(
	"pdf", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "webp", "heic", "svg",
	"txt", "csv", "tsv", "doc", "docx", "xls", "xlsx", "xlsm", "ppt", "pptx", "rtf",
	"odt", "ods", "odp", "xml", "json", "html", "htm", "xhtml", "log", "dat", "dcm",
	"dicom", "zip", "gz", "tgz", "tar", "rar", "exe", "dll", "msi", "msg", "eml",
	"mpeg", "mpg", "wav", "avi", "mov", "mkv", "bak", "tmp", "ini", "cfg",
	"conf", "yaml", "yml", "sql", "py", "js", "ts", "css", "sh", "bat", "cmd", "ps",
	"md", "rst", "pem", "crt", "cer", "key", "lnk", "vbs", "jar", "war", "db",
)

// abbreviations are first labels that turn "Dr.de" into prose.
var abbreviations = setOf(
	"dr", "mr", "mrs", "ms", "mx", "st", "jr", "sr", "no", "vs", "etc", "approx",
	"fig", "vol", "dept", "pt", "prof", "rev", "ave", "inc", "ltd", "eg", "ie",
)

func setOf(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// ---------------------------------------------------------------------------
// Numbers: IPv4, phone, SSN.

func findNumbers(s string, c []Match) []Match {
	n := len(s)
	for i := nextDigit(s, 0); i < n; i = nextDigit(s, i) {
		j := i + 1
		for j < n && isDigit(s[j]) {
			j++
		}
		switch j - i {
		case 1, 2, 3:
			if at(s, j) != '.' {
				break
			}
			if e, ok := ipv4At(s, i); ok {
				c = append(c, Match{i, e, IPv4})
			}
		}
		switch j - i {
		case 1:
			if s[i] == '1' { // country code: +1 …, 1-800-…
				start := i
				if at(s, i-1) == '+' {
					start = i - 1
				}
				if numStartOK(s, start) {
					if e, ok := phoneWithCountry(s, i+1, start < i); ok {
						c = append(c, Match{start, e, Phone})
					}
				}
			}
		case 3:
			if at(s, i-1) == '(' && numStartOK(s, i-1) {
				if e, ok := phoneBody(s, i-1, true); ok {
					c = append(c, Match{i - 1, e, Phone})
				}
			}
			if numStartOK(s, i) {
				if e, ok := phoneBody(s, i, false); ok {
					c = append(c, Match{i, e, Phone})
				}
				if e, ok := ssnAt(s, i); ok {
					c = append(c, Match{i, e, SSN})
				}
			}
		case 11:
			if s[i] == '1' && at(s, i-1) == '+' && numStartOK(s, i-1) && numEndOK(s, j) {
				c = append(c, Match{i - 1, j, Phone}) // +15551234567
			}
		}
		i = j
	}
	return c
}

// nextDigit returns the index of the first ASCII digit in s at or after i,
// or len(s). It tests eight bytes at a time: prose is mostly letters, and
// this loop is the only one in Find that visits every byte.
func nextDigit(s string, i int) int {
	const (
		ones = 0x0101010101010101
		low7 = 0x7f7f7f7f7f7f7f7f
		high = 0x8080808080808080
	)
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte b of x has its high bit set here iff '0' <= b <= '9'
		// (bytes >= 0x80 are excluded by the final &^ x).
		y := x & low7
		if ((ones*(127+'9'+1)-y)&^x&(y+ones*(127-('0'-1))))&high != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if isDigit(s[i]) {
			return i
		}
	}
	return i
}

// numStartOK reports whether a phone number or SSN may start at p: it must
// not continue a bigger number ("4", "4-" or "4." directly before it).
func numStartOK(s string, p int) bool {
	b := at(s, p-1)
	if isDigit(b) {
		return false
	}
	return !((b == '-' || b == '.') && isDigit(at(s, p-2)))
}

// numEndOK is numStartOK for the end of a match.
func numEndOK(s string, e int) bool {
	b := at(s, e)
	if isDigit(b) {
		return false
	}
	return !((b == '-' || b == '.') && isDigit(at(s, e+1)))
}

func isPhoneSep(b byte) bool { return b == '-' || b == '.' || b == ' ' }

// phoneBody matches "(555) 123-4567" or "555-123-4567" at p and returns the
// end of the number. The separator before the last four digits may be a
// space only when the number has a parenthesised area code or a country code
// (spaced reports a country code): "555 123 4567" alone is as likely to be
// three values from a table of results.
func phoneBody(s string, p int, spaced bool) (int, bool) {
	if s[p] == '(' {
		spaced = true
		if !digitsAt(s, p+1, 3) || at(s, p+4) != ')' {
			return 0, false
		}
		p += 5
		if b := at(s, p); b == ' ' || b == '-' {
			p++
		}
	} else {
		if !digitsAt(s, p, 3) || !isPhoneSep(at(s, p+3)) {
			return 0, false
		}
		p += 4
	}
	if sep := at(s, p+3); !digitsAt(s, p, 3) || !isPhoneSep(sep) || (sep == ' ' && !spaced) || !digitsAt(s, p+4, 4) {
		return 0, false
	}
	p += 8
	if !numEndOK(s, p) {
		return 0, false
	}
	return p, true
}

// phoneWithCountry matches the rest of a number after a leading "1" or "+1";
// p is just past the "1".
func phoneWithCountry(s string, p int, plus bool) (int, bool) {
	switch b := at(s, p); {
	case isPhoneSep(b):
		p++
	case b == '(':
	case plus && isDigit(b):
	default:
		return 0, false
	}
	if plus && digitsAt(s, p, 10) && numEndOK(s, p+10) {
		return p + 10, true // +1 5551234567
	}
	if at(s, p) != '(' && !isDigit(at(s, p)) {
		return 0, false
	}
	return phoneBody(s, p, true)
}

// ssnAt matches a dashed SSN at p.
func ssnAt(s string, p int) (int, bool) {
	if !digitsAt(s, p, 3) || at(s, p+3) != '-' || !digitsAt(s, p+4, 2) ||
		at(s, p+6) != '-' || !digitsAt(s, p+7, 4) || !numEndOK(s, p+11) {
		return 0, false
	}
	area, group, serial := s[p:p+3], s[p+4:p+6], s[p+7:p+11]
	if area == "000" || area == "666" || area[0] == '9' || group == "00" || serial == "0000" {
		return 0, false
	}
	return p + 11, true
}

// ipv4At matches a dotted quad starting at the digit s[i].
func ipv4At(s string, i int) (int, bool) {
	switch b := at(s, i-1); {
	case b == '.' || isDigit(b):
		return 0, false
	case (b == 'v' || b == 'V') && !isAlnum(at(s, i-2)):
		return 0, false // a version: v1.2.3.4
	}
	p := i
	for k := range 4 {
		if k > 0 {
			if at(s, p) != '.' {
				return 0, false
			}
			p++
		}
		v, q := 0, p
		for q < len(s) && isDigit(s[q]) && q-p < 4 {
			v = v*10 + int(s[q]-'0')
			q++
		}
		if q == p || q-p > 3 || v > 255 {
			return 0, false
		}
		p = q
	}
	if at(s, p) == '.' && isDigit(at(s, p+1)) {
		return 0, false // part of a longer dotted number
	}
	return prefixLen(s, p, 32), true
}
