package warehouse

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
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

// Item is a concept (a path in the concept tree; a folder means everything under it),
// optionally with a constraint on the fact's numeric value.
type Item struct {
	Key   string `json:"key"`
	Value *Value `json:"value,omitempty"`
}

// Value constrains nval_num: Op EQ NE GT LT GE LE with Number, or BETWEEN Number and High.
type Value struct {
	Op     string  `json:"op"`
	Number float64 `json:"number"`
	High   float64 `json:"high,omitempty"`
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
			it.Key = strings.TrimSpace(it.Key)
			if it.Key == "" || len(it.Key) > 700 {
				return fmt.Errorf("%w: %s item %d: empty or overlong key", derrors.Invalid, where, j+1)
			}
			if !strings.HasSuffix(it.Key, `\`) {
				it.Key += `\`
			}
			if v := it.Value; v != nil {
				v.Op = strings.ToUpper(v.Op)
				if _, ok := ops[v.Op]; !ok && v.Op != "BETWEEN" {
					return fmt.Errorf("%w: %s item %d: value operator %q (want EQ NE GT LT GE LE BETWEEN)", derrors.Invalid, where, j+1, v.Op)
				}
				if v.Op != "BETWEEN" {
					v.High = 0
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
		Key   string `xml:"item_key"`
		Value *struct {
			Type       string `xml:"value_type"`
			Operator   string `xml:"value_operator"`
			Constraint string `xml:"value_constraint"`
		} `xml:"constrain_by_value"`
	} `xml:"item"`
}

// ParseXML reads an i2b2 query_definition (psm 1.1). The occurrence count is
// total_item_occurrences (GE n, i2b2's meaning); NUMBER value constraints with EQ NE GT LT GE
// LE BETWEEN ("low and high") are read; other value types are refused by name.
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
			it := Item{Key: strings.TrimSpace(xi.Key)}
			if v := xi.Value; v != nil {
				if t := strings.ToUpper(strings.TrimSpace(v.Type)); t != "NUMBER" {
					return Query{}, fmt.Errorf("%w: %s item %d: value_type %s is not supported (NUMBER is)", derrors.Invalid, where, j+1, t)
				}
				val, err := parseConstraint(strings.ToUpper(strings.TrimSpace(v.Operator)), v.Constraint)
				if err != nil {
					return Query{}, fmt.Errorf("%w: %s item %d: %v", derrors.Invalid, where, j+1, err)
				}
				it.Value = val
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
