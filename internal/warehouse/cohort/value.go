package cohort

import (
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// fact is one observation_fact row as the evaluator reads it.
type fact struct {
	patient, enc  int64
	concept, prov string
	start, end    string // YYYY-MM-DD HH:MM:SS; end may be ""
	num           int64  // instance_num
	modifier      string
	valtype, tval string
	nval          float64
	hasNval       bool
	flag          string
}

func (f *fact) instance() inst {
	return inst{patient: f.patient, enc: f.enc, concept: f.concept, prov: f.prov, start: f.start, num: f.num}
}

// holds reports whether the fact meets a normalized value constraint, as i2b2 1.7's SQL on
// PostgreSQL does (see querydef.Value).
func holds(v *querydef.Value, f *fact) bool {
	switch v.Type {
	case "TEXT":
		if f.valtype != "T" {
			return false
		}
		return textHolds(v, f.tval)
	case "FLAG":
		switch v.Op {
		case "EQ":
			return f.flag == v.Text
		case "NE":
			return f.flag != v.Text && f.flag != ""
		case "IN":
			return slices.Contains(v.List, f.flag)
		}
		return false
	}
	if f.valtype != "N" || !f.hasNval {
		return false
	}
	n, t, x := f.nval, f.tval, v.Number
	switch v.Op {
	case "GT":
		return n > x && (t == "E" || t == "GE") || n >= x && t == "G"
	case "GE":
		return n >= x && (t == "E" || t == "GE" || t == "G")
	case "LT":
		return n < x && (t == "E" || t == "LE") || n <= x && t == "L"
	case "LE":
		return n <= x && (t == "E" || t == "LE" || t == "L")
	case "EQ":
		return n == x && t == "E"
	case "BETWEEN":
		return n >= x && n <= v.High && t == "E"
	case "NE":
		return n != x && t != "NE" || n == x && t == "NE"
	}
	return false
}

func textHolds(v *querydef.Value, s string) bool {
	switch v.Op {
	case "EQ", "LIKE[EXACT]":
		return s == v.Text
	case "NE":
		return s != v.Text && s != ""
	case "IN":
		return slices.Contains(v.List, s)
	case "LIKE[BEGIN]":
		return like(s, v.Text+"%")
	case "LIKE[END]":
		return like(s, "%"+v.Text)
	case "LIKE[CONTAINS]":
		return like(s, "%"+v.Text+"%")
	}
	return false
}

// like is SQL's LIKE without an escape character, case as written (PostgreSQL's): % any
// run of characters, _ any one character.
func like(s, pattern string) bool {
	p, t := []rune(pattern), []rune(s)
	// Classic two-pointer wildcard match with backtracking to the last %.
	i, j, star, mark := 0, 0, -1, 0
	for i < len(t) {
		switch {
		case j < len(p) && (p[j] == '_' || p[j] == t[i]) && p[j] != '%':
			i++
			j++
		case j < len(p) && p[j] == '%':
			star, mark = j, i
			j++
		case star >= 0:
			mark++
			i, j = mark, star+1
		default:
			return false
		}
	}
	for j < len(p) && p[j] == '%' {
		j++
	}
	return j == len(p)
}

// inBounds reports whether the fact's dates meet the bounds (from and to may be nil).
func inBounds(f *fact, from, to *querydef.Bound) bool {
	if from != nil {
		d := f.start
		if from.EndDate() {
			d = f.end
		}
		if d == "" || d < from.At || from.Exclusive && d == from.At {
			return false
		}
	}
	if to != nil {
		d := f.start
		if to.EndDate() {
			d = f.end
		}
		if d == "" || d > to.At || to.Exclusive && d == to.At {
			return false
		}
	}
	return true
}

// itemHolds reports whether a fact of the item's concepts is one of the item's facts: of the
// modifier (and its values) when the item has one, else meeting the item's values (on the
// concept's own facts, modifier '@') — any fact of the concept when it has neither — and in
// the item's date ranges and the panel's.
func itemHolds(it *querydef.Item, mods map[string]bool, p *querydef.Panel, f *fact) bool {
	if m := it.Modifier; m != nil {
		if !mods[f.modifier] {
			return false
		}
		for i := range m.Values {
			if !holds(&m.Values[i], f) {
				return false
			}
		}
	} else if len(it.Values) > 0 {
		if f.modifier != "@" {
			return false
		}
		for i := range it.Values {
			if !holds(&it.Values[i], f) {
				return false
			}
		}
	}
	for _, r := range it.Dates {
		if !inBounds(f, r.From, r.To) {
			return false
		}
	}
	return inBounds(f, p.DateFrom, p.DateTo)
}

func compareCount(op string, a, b int) bool {
	switch op {
	case "EQ":
		return a == b
	case "NE":
		return a != b
	case "GT":
		return a > b
	case "LT":
		return a < b
	case "LE":
		return a <= b
	}
	return a >= b
}

func trimPercent(s string) string { return strings.TrimRight(s, "%") }
