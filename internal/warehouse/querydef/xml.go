package querydef

import (
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/stewardhealth/steward/internal/derrors"
)

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
