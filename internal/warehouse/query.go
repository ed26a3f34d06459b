package warehouse

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

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

// i2b2's query_definition (psm 1.1), the parts Steward reads.
type xmlQuery struct {
	XMLName xml.Name   `xml:"query_definition"`
	Name    string     `xml:"query_name"`
	Timing  string     `xml:"query_timing"`
	Panels  []xmlPanel `xml:"panel"`
}

type xmlPanel struct {
	Number      string `xml:"panel_number"`
	Timing      string `xml:"panel_timing"`
	DateFrom    string `xml:"panel_date_from"`
	DateTo      string `xml:"panel_date_to"`
	Invert      string `xml:"invert"`
	Occurrences struct {
		N  string `xml:",chardata"`
		Op string `xml:"operator,attr"` // an extension: psm 1.1 means GE
	} `xml:"total_item_occurrences"`
	Items []struct {
		Key      string     `xml:"item_key"`
		Values   []xmlValue `xml:"constrain_by_value"`
		Modifier *struct {
			Key    string     `xml:"modifier_key"`
			Values []xmlValue `xml:"constrain_by_value"`
		} `xml:"constrain_by_modifier"`
	} `xml:"item"`
}

type xmlValue struct {
	Type       string `xml:"value_type"`
	Operator   string `xml:"value_operator"`
	Constraint string `xml:"value_constraint"`
}

// xmlValueOf reads an item's or modifier's constrain_by_value (none: nil; more than one is
// refused).
func xmlValueOf(vs []xmlValue) (*Value, error) {
	switch len(vs) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errors.New("more than one constrain_by_value")
	}
	x := vs[0]
	v := &Value{Type: strings.ToUpper(strings.TrimSpace(x.Type)), Op: strings.ToUpper(strings.ReplaceAll(x.Operator, " ", ""))}
	switch v.Type {
	case "", "NUMBER":
		n, err := parseConstraint(v.Op, x.Constraint)
		if err != nil {
			return nil, err
		}
		n.Type = "NUMBER"
		return n, nil
	case "TEXT", "FLAG":
		if v.Op == "IN" {
			v.List = parseINList(x.Constraint)
		} else {
			v.Text = strings.TrimSpace(x.Constraint)
		}
	}
	return v, nil
}

// parseINList reads i2b2's IN constraint: values in single quotes (a quote doubled inside),
// separated by commas, optionally in parentheses: ('H','L'). Unquoted values are taken as
// they are.
func parseINList(c string) []string {
	c = strings.TrimSpace(c)
	if strings.HasPrefix(c, "(") && strings.HasSuffix(c, ")") {
		c = c[1 : len(c)-1]
	}
	var out []string
	for c = strings.TrimSpace(c); c != ""; c = strings.TrimSpace(c) {
		if c[0] != '\'' {
			v, rest, _ := strings.Cut(c, ",")
			out = append(out, strings.TrimSpace(v))
			c = rest
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(c); i++ {
			if c[i] == '\'' {
				if i+1 < len(c) && c[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				break
			}
			b.WriteByte(c[i])
		}
		out = append(out, b.String())
		c = strings.TrimSpace(c[min(i+1, len(c)):])
		c = strings.TrimPrefix(c, ",")
	}
	return out
}

// ParseXML reads an i2b2 query_definition (psm 1.1). The occurrence count is
// total_item_occurrences (GE n, i2b2's meaning). Value constraints (constrain_by_value) of
// types NUMBER (EQ NE GT LT GE LE, BETWEEN "low and high"), TEXT (EQ NE IN LIKE[…]) and FLAG
// (EQ NE IN) are read, IN lists as i2b2 writes them ('a','b'); so are modifier constraints
// (constrain_by_modifier: modifier_key, optionally with a constrain_by_value). Item and
// modifier keys may carry i2b2's table prefix (\\i2b2_DIAG\i2b2\…). LARGETEXT and MODIFIER
// value types are refused by name.
func ParseXML(b []byte) (Query, error) {
	var x xmlQuery
	b = stripRequestWrapper(b)
	if err := xml.Unmarshal(b, &x); err != nil {
		return Query{}, fmt.Errorf("%w: query_definition: %v", derrors.Invalid, err)
	}
	q := Query{Name: strings.TrimSpace(x.Name), Timing: strings.TrimSpace(x.Timing)}
	for i, xp := range x.Panels {
		where := fmt.Sprintf("panel %d", i+1)
		p := Panel{DateFrom: trimDate(xp.DateFrom), DateTo: trimDate(xp.DateTo), Invert: strings.TrimSpace(xp.Invert) == "1"}
		if t := strings.ToUpper(strings.TrimSpace(xp.Timing)); t == "SAMEVISIT" && q.Timing != "SAMEVISIT" {
			q.Timing = "SAMEVISIT"
		}
		if s := strings.TrimSpace(xp.Occurrences.N); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return Query{}, fmt.Errorf("%w: %s: total_item_occurrences is not a whole number", derrors.Invalid, where)
			}
			p.Occurs = Occurrence{cmp.Or(strings.TrimSpace(xp.Occurrences.Op), "GE"), n}
		}
		for j, xi := range xp.Items {
			at := fmt.Sprintf("%s item %d", where, j+1)
			it := Item{Key: strings.TrimSpace(xi.Key)}
			var err error
			if it.Value, err = xmlValueOf(xi.Values); err != nil {
				return Query{}, fmt.Errorf("%w: %s: %v", derrors.Invalid, at, err)
			}
			if m := xi.Modifier; m != nil {
				it.Modifier = &Modifier{Key: m.Key}
				if it.Modifier.Value, err = xmlValueOf(m.Values); err != nil {
					return Query{}, fmt.Errorf("%w: %s modifier: %v", derrors.Invalid, at, err)
				}
			}
			p.Items = append(p.Items, it)
		}
		q.Panels = append(q.Panels, p)
	}
	return q, q.Normalize()
}

// stripRequestWrapper finds the query_definition inside a full i2b2 request message.
func stripRequestWrapper(b []byte) []byte {
	s := string(b)
	start := strings.Index(s, "<query_definition")
	if start < 0 {
		return b
	}
	end := strings.LastIndex(s, "</query_definition>")
	if end < start {
		return b
	}
	return []byte(s[start : end+len("</query_definition>")])
}

func trimDate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 10 {
		s = s[:10]
	}
	return s
}

func parseConstraint(op, c string) (*Value, error) {
	num := func(s string) (float64, error) {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return 0, fmt.Errorf("value_constraint is not a number")
		}
		return f, nil
	}
	if op == "BETWEEN" {
		lo, hi, ok := strings.Cut(strings.ToLower(c), " and ")
		if !ok {
			return nil, fmt.Errorf(`BETWEEN needs "low and high"`)
		}
		l, err := num(lo)
		if err != nil {
			return nil, err
		}
		h, err := num(hi)
		return &Value{Op: op, Number: l, High: h}, err
	}
	n, err := num(c)
	return &Value{Op: op, Number: n}, err
}
