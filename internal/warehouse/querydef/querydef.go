// Package querydef is i2b2's query language as Steward reads it: a cohort definition of panels
// (items OR-ed within a panel, panels AND-ed, a panel may be inverted), with dates,
// occurrence counts, value and modifier constraints and timing, as JSON (Query's own form)
// or as i2b2's query_definition XML (psm 1.1). Normalize checks a definition and puts it in
// canonical form, so that two wordings of the same cohort compare equal; Canonical is that
// form as text. Finding the patients of a definition is package cohort's work.
package querydef

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/derrors"
)

// Query is a cohort definition: panels AND-ed, items within a panel OR-ed.
type Query struct {
	Name   string  `json:"name,omitempty"`
	Timing string  `json:"timing,omitempty"` // ANY (default) or SAMEVISIT
	Panels []Panel `json:"panels"`
}

// Panel is a group of items of which one must hold (or, inverted, none).
type Panel struct {
	Invert   bool   `json:"invert,omitempty"`
	DateFrom string `json:"date_from,omitempty"` // YYYY-MM-DD, inclusive, on the fact's start date
	DateTo   string `json:"date_to,omitempty"`
	// Occurrences: total_item_occurrences; the patient's matching facts must compare so.
	Occurs Occurrence `json:"occurrences,omitzero"`
	Items  []Item     `json:"items"`
}

// Occurrence is a comparison of a patient's number of matching facts: GE 1 by default.
type Occurrence struct {
	Op string `json:"op,omitempty"` // EQ NE GT LT GE LE
	N  int    `json:"n"`
}

// Item is a concept (a path in the concept tree; a folder means everything under it). It
// matches the concept's facts (modifier_cd '@'), optionally only those whose value meets a
// constraint; or, with Modifier, the concept's facts of a modifier instead.
type Item struct {
	Key      string    `json:"key"`
	Value    *Value    `json:"value,omitempty"`
	Modifier *Modifier `json:"modifier,omitempty"`
}

// Value constrains a fact's value, as i2b2's constrain_by_value does.
//
//   - NUMBER (the default type) compares nval_num: EQ NE GT LT GE LE with Number, or
//     BETWEEN Number and High.
//   - TEXT compares tval_char of text facts (valtype_cd T): EQ or NE with Text, IN with List,
//     or LIKE[begin] (also plain LIKE), LIKE[end], LIKE[contains], LIKE[exact] with Text,
//     ignoring case.
//   - FLAG compares valueflag_cd (i2b2's H high, L low, A abnormal, N normal…): EQ or NE with
//     Text, IN with List.
//
// NE never matches an empty value (i2b2's rule).
type Value struct {
	Type   string   `json:"type,omitempty"` // NUMBER (default), TEXT, FLAG
	Op     string   `json:"op"`
	Number float64  `json:"number,omitempty"`
	High   float64  `json:"high,omitempty"`
	Text   string   `json:"text,omitempty"`
	List   []string `json:"list,omitempty"`
}

// Modifier narrows an item to the facts that carry a modifier (i2b2's constrain_by_modifier):
// Key is a path in modifier_dimension (a folder means every modifier under it), Value an
// optional constraint on the modifier facts' values.
type Modifier struct {
	Key   string `json:"key"`
	Value *Value `json:"value,omitempty"`
}

var ops = map[string]string{"EQ": "=", "NE": "<>", "GT": ">", "LT": "<", "GE": ">=", "LE": "<="}

// Normalize checks the query and puts it in canonical form: defaults made explicit, items
// sorted and unique within a panel, panels sorted. Two queries with the same meaning written
// differently normalize to the same value.
func (q *Query) Normalize() error {
	q.Timing = strings.ToUpper(strings.TrimSpace(q.Timing))
	switch q.Timing {
	case "", "ANY":
		q.Timing = "ANY"
	case "SAMEVISIT":
	default:
		return fmt.Errorf("%w: timing %q (want ANY or SAMEVISIT)", derrors.Invalid, q.Timing)
	}
	if len(q.Panels) == 0 || len(q.Panels) > 40 {
		return fmt.Errorf("%w: a query needs 1 to 40 panels", derrors.Invalid)
	}
	for i := range q.Panels {
		p := &q.Panels[i]
		where := fmt.Sprintf("panel %d", i+1)
		if p.Occurs.Op == "" && p.Occurs.N == 0 {
			p.Occurs = Occurrence{"GE", 1}
		}
		p.Occurs.Op = strings.ToUpper(p.Occurs.Op)
		if _, ok := ops[p.Occurs.Op]; !ok || p.Occurs.N < 0 {
			return fmt.Errorf("%w: %s: occurrences %q %d (want EQ NE GT LT GE LE and a count ≥ 0)", derrors.Invalid, where, p.Occurs.Op, p.Occurs.N)
		}
		for _, d := range []*string{&p.DateFrom, &p.DateTo} {
			if *d == "" {
				continue
			}
			v, err := parseDate(*d)
			if err != nil {
				return fmt.Errorf("%w: %s: %v", derrors.Invalid, where, err)
			}
			*d = v
		}
		if len(p.Items) == 0 || len(p.Items) > 200 {
			return fmt.Errorf("%w: %s needs 1 to 200 items", derrors.Invalid, where)
		}
		for j := range p.Items {
			it := &p.Items[j]
			at := fmt.Sprintf("%s item %d", where, j+1)
			var ok bool
			if it.Key, ok = pathKey(it.Key); !ok {
				return fmt.Errorf("%w: %s: empty or overlong key", derrors.Invalid, at)
			}
			if m := it.Modifier; m != nil {
				if it.Value != nil {
					return fmt.Errorf("%w: %s: a value constraint goes on the item or on its modifier, not both", derrors.Invalid, at)
				}
				if m.Key, ok = pathKey(m.Key); !ok {
					return fmt.Errorf("%w: %s: empty or overlong modifier key", derrors.Invalid, at)
				}
				if m.Value != nil {
					if err := m.Value.normalize(); err != nil {
						return fmt.Errorf("%w: %s modifier: %v", derrors.Invalid, at, err)
					}
				}
			}
			if v := it.Value; v != nil {
				if err := v.normalize(); err != nil {
					return fmt.Errorf("%w: %s: %v", derrors.Invalid, at, err)
				}
			}
		}
		slices.SortFunc(p.Items, func(a, b Item) int { return strings.Compare(itemKey(a), itemKey(b)) })
		p.Items = slices.CompactFunc(p.Items, func(a, b Item) bool { return itemKey(a) == itemKey(b) })
	}
	slices.SortFunc(q.Panels, func(a, b Panel) int { return strings.Compare(panelKey(a), panelKey(b)) })
	q.Panels = slices.CompactFunc(q.Panels, func(a, b Panel) bool { return panelKey(a) == panelKey(b) })
	return nil
}

// pathKey puts a concept or modifier key in the form the trees use: trimmed, with i2b2's
// table prefix (\\TABLE_CD) taken off and a trailing backslash. It reports false for an
// empty or overlong key.
func pathKey(k string) (string, bool) {
	k = strings.TrimSpace(k)
	if rest, ok := strings.CutPrefix(k, `\\`); ok {
		if i := strings.Index(rest, `\`); i >= 0 {
			k = rest[i:]
		}
	}
	if k == "" || len(k) > 700 {
		return "", false
	}
	if !strings.HasSuffix(k, `\`) {
		k += `\`
	}
	return k, true
}

// textOps are the operators of TEXT and FLAG constraints.
var textOps = map[string]bool{"EQ": true, "NE": true, "IN": true}

// likeOps are TEXT's LIKE operators (LIKE alone is LIKE[begin]).
var likeOps = map[string]bool{"LIKE[BEGIN]": true, "LIKE[END]": true, "LIKE[CONTAINS]": true, "LIKE[EXACT]": true}

// normalize checks a value constraint and puts it in canonical form; errors never repeat
// the values asked for.
func (v *Value) normalize() error {
	v.Type = strings.ToUpper(strings.TrimSpace(v.Type))
	v.Op = strings.ToUpper(strings.ReplaceAll(v.Op, " ", ""))
	switch v.Type {
	case "", "NUMBER":
		v.Type = "NUMBER"
		if _, ok := ops[v.Op]; !ok && v.Op != "BETWEEN" {
			return fmt.Errorf("NUMBER value operator %q (want EQ NE GT LT GE LE BETWEEN)", v.Op)
		}
		if v.Op != "BETWEEN" {
			v.High = 0
		}
		v.Text, v.List = "", nil
		return nil
	case "TEXT", "FLAG":
		if v.Op == "LIKE" {
			v.Op = "LIKE[BEGIN]"
		}
		if !textOps[v.Op] && !(v.Type == "TEXT" && likeOps[v.Op]) {
			want := "EQ NE IN"
			if v.Type == "TEXT" {
				want += " LIKE[begin] LIKE[end] LIKE[contains] LIKE[exact]"
			}
			return fmt.Errorf("%s value operator %q (want %s)", v.Type, v.Op, want)
		}
		v.Number, v.High = 0, 0
		if v.Op == "IN" {
			v.Text = ""
			if len(v.List) == 0 || len(v.List) > 200 {
				return fmt.Errorf("%s IN needs 1 to 200 values", v.Type)
			}
			for _, x := range v.List {
				if len(x) > 255 {
					return fmt.Errorf("%s IN: a value is longer than 255 bytes", v.Type)
				}
			}
			slices.Sort(v.List)
			v.List = slices.Compact(v.List)
			return nil
		}
		v.List = nil
		if v.Text == "" || len(v.Text) > 255 {
			return fmt.Errorf("%s %s needs a value of 1 to 255 bytes", v.Type, v.Op)
		}
		return nil
	case "LARGETEXT":
		return errors.New("value_type LARGETEXT searches observation_blob, which the warehouse keeps sealed: not supported")
	case "MODIFIER":
		return errors.New("value_type MODIFIER (valtype_cd M) is not supported; constrain by modifier instead")
	}
	return fmt.Errorf("value type %q (want NUMBER TEXT FLAG)", v.Type)
}

func itemKey(it Item) string { b, _ := json.Marshal(it); return string(b) }

func panelKey(p Panel) string { b, _ := json.Marshal(p); return string(b) }

// Canonical is the normalized query's meaning as text: the same for every way of writing the
// same cohort (the name does not count).
func (q Query) Canonical() string {
	q.Name = ""
	b, _ := json.Marshal(q)
	return string(b)
}

// parseDate accepts YYYY-MM-DD, optionally followed by a time (dropped).
func parseDate(s string) (string, error) {
	if len(s) >= 10 {
		if _, err := time.Parse("2006-01-02", s[:10]); err == nil && (len(s) == 10 || s[10] == ' ' || s[10] == 'T') {
			return s[:10], nil
		}
	}
	return "", errors.New("not a date (want YYYY-MM-DD)")
}
