package detect

import (
	"strings"
	"time"
	"unicode"
)

// Kinds of whole column values that Find does not report inside text: they are recognised
// only as a column's entire value, where the column's name or the share of matching values
// says what they are (five digits alone may be a ZIP code or a CPT code).
const (
	MRN  Kind = "mrn"  // record or account number: up to four letters, then 6–12 digits (MRN0012345, A1234567, 100234567)
	Date Kind = "date" // a calendar date, with or without a time: 1984-03-07, 1984-03-07 10:30:00, 03/07/1984
	ZIP  Kind = "zip"  // a US ZIP code: 60614 or 60614-1234
)

// Classify says what kind of identifier the whole of v is: one of Find's kinds when a
// single match covers it, else Date, ZIP or MRN, else "".
func Classify(v string) Kind {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	if m := Find(v); len(m) == 1 && m[0].Start == 0 && m[0].End == len(v) {
		return m[0].Kind
	}
	switch {
	case isDateValue(v):
		return Date
	case isZIP(v):
		return ZIP
	case isRecordNumber(v):
		return MRN
	}
	return ""
}

var dateLayouts = []string{
	"2006-01-02", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05-07", "01/02/2006", "1/2/2006", "20060102",
}

// DateYear returns the year of a date or timestamp value in a common text form.
func DateYear(v string) (int, bool) {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '.'); i > 0 && strings.IndexByte(v, ':') > 0 {
		if j := strings.IndexAny(v[i:], "+-Z"); j > 0 { // fractional seconds before a zone
			v = v[:i] + v[i+j:]
		} else {
			v = v[:i]
		}
	}
	for _, l := range dateLayouts {
		if len(v) < len(l)-6 || len(v) > len(l)+6 {
			continue
		}
		if t, err := time.Parse(l, v); err == nil {
			return t.Year(), true
		}
	}
	return 0, false
}

func isDateValue(v string) bool {
	y, ok := DateYear(v)
	return ok && y >= 1850 && y <= 2200
}

func isZIP(v string) bool {
	return len(v) == 5 && digitsAt(v, 0, 5) || len(v) == 10 && digitsAt(v, 0, 5) && v[5] == '-' && digitsAt(v, 6, 4)
}

// isRecordNumber matches up to four letters, an optional hyphen and 6–12 digits, which may
// be grouped by single hyphens (C24-123456).
func isRecordNumber(v string) bool {
	i := 0
	for i < len(v) && i < 4 && is(v[i], cAlpha) {
		i++
	}
	if i < len(v) && i > 0 && v[i] == '-' {
		i++
	}
	digits := 0
	for ; i < len(v); i++ {
		switch {
		case isDigit(v[i]):
			digits++
		case v[i] == '-' && isDigit(at(v, i-1)) && isDigit(at(v, i+1)):
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 12
}

// FindInText reports the first kind of identifier found inside free text: one of Find's
// kinds, MRN for a record number written as a word (MRN12345678, #100234567), or
// PersonName for a known given name followed by a known surname. ok is false when the text
// holds none of them.
func FindInText(text string) (Kind, bool) {
	if m := Find(text); len(m) > 0 {
		return m[0].Kind, true
	}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { // words, also in HL7 (PID|1||123^^^MRN)
		return r != '-' && r != '.' && !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if isRecordNumber(strings.TrimRight(w, ".")) {
			return MRN, true
		}
	}
	if ContainsPersonName(text) {
		return PersonName, true
	}
	return "", false
}

// PersonName is the kind FindInText reports for a person's name.
const PersonName Kind = "person name"
