package querydef

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stewardhealth/steward/internal/xmltree"
)

// ParseXML reads an i2b2 query_definition (psm 1.1), alone or inside a whole request
// message (the first query_definition element is read), with or without namespace prefixes.
// Every element and attribute of the definition is either applied, or display only in i2b2
// too (names, icons, tooltips — Elements lists which), or refused with an error naming it; an
// element outside i2b2's schema is refused the same way. Values of attributes outside
// their schema's lists (time="end_date" in lower case, which i2b2 itself reads as absent) are
// refused, never guessed.
func ParseXML(b []byte) (Query, error) {
	root, err := parseTree(b)
	if err != nil {
		return Query{}, invalid("query_definition: %v", err)
	}
	def := root.Find("query_definition")
	if def == nil {
		return Query{}, invalid("no query_definition element")
	}
	var q Query
	if _, err := readQuery(def, &q, "query_definition", false); err != nil {
		return Query{}, err
	}
	return q, q.Normalize()
}

// Use says what Steward does with an element or attribute of i2b2's query_definition.
type Use int

const (
	Applied Use = iota // it changes the answer as in i2b2
	Display            // i2b2 reads it for display only; so does Steward (no effect)
	Refused            // an error names it
)

// Elements says, for every element and attribute of psm 1.1's query_definition type (the
// path from query_definition; attributes after @), how Steward uses it.
var Elements = map[string]Use{
	"query_id": Applied, "query_type": Applied, "query_name": Display, "query_description": Display,
	"query_timing": Applied, "specificity_scale": Display, "message": Refused, "email": Refused,
	"panel": Applied, "panel@name": Display, "panel/panel_number": Display, "panel/panel_timing": Applied,
	"panel/panel_date_from": Applied, "panel/panel_date_from@time": Applied, "panel/panel_date_from@inclusive": Applied,
	"panel/panel_date_to": Applied, "panel/panel_date_to@time": Applied, "panel/panel_date_to@inclusive": Applied,
	"panel/panel_accuracy_scale": Display, "panel/invert": Applied,
	"panel/total_item_occurrences": Applied, "panel/total_item_occurrences@operator": Applied,
	"panel/item": Applied, "panel/item/hlevel": Display, "panel/item/item_name": Display, "panel/item/item_key": Applied,
	"panel/item/item_icon": Display, "panel/item/tooltip": Display, "panel/item/class": Display,
	"panel/item/constrain_by_value": Applied, "panel/item/constrain_by_value/value_operator": Applied,
	"panel/item/constrain_by_value/value_constraint": Applied, "panel/item/constrain_by_value/value_unit_of_measure": Display,
	"panel/item/constrain_by_value/value_type": Applied,
	"panel/item/constrain_by_date":             Applied, "panel/item/constrain_by_date/date_from": Applied,
	"panel/item/constrain_by_date/date_from@time": Applied, "panel/item/constrain_by_date/date_from@inclusive": Applied,
	"panel/item/constrain_by_date/date_to": Applied, "panel/item/constrain_by_date/date_to@time": Applied,
	"panel/item/constrain_by_date/date_to@inclusive": Applied,
	"panel/item/constrain_by_modifier":               Applied, "panel/item/constrain_by_modifier/modifier_name": Display,
	"panel/item/constrain_by_modifier/modifier_key": Applied, "panel/item/constrain_by_modifier/applied_path": Display,
	"panel/item/constrain_by_modifier/constrain_by_value":                       Applied,
	"panel/item/constrain_by_modifier/constrain_by_value/value_operator":        Applied,
	"panel/item/constrain_by_modifier/constrain_by_value/value_constraint":      Applied,
	"panel/item/constrain_by_modifier/constrain_by_value/value_unit_of_measure": Display,
	"panel/item/constrain_by_modifier/constrain_by_value/value_type":            Applied,
	"panel/item/constrain_by_modifier/dim_tablename":                            Refused, "panel/item/constrain_by_modifier/dim_columnname": Refused,
	"panel/item/constrain_by_modifier/dim_dimcode": Refused, "panel/item/constrain_by_modifier/dim_columndatatype": Refused,
	"panel/item/constrain_by_modifier/dim_operator": Refused, "panel/item/constrain_by_modifier/facttablecolumn": Refused,
	"panel/item/constrain_by_modifier/modifier_visualattributes": Display, "panel/item/constrain_by_modifier/modifier_synonym_cd": Display,
	"panel/item/constrain_by_modifier/modifier_tooltip": Display, "panel/item/constrain_by_modifier/modifier_class": Display,
	"panel/item/dim_tablename": Refused, "panel/item/dim_columnname": Refused, "panel/item/dim_dimcode": Refused,
	"panel/item/dim_columndatatype": Refused, "panel/item/dim_operator": Refused, "panel/item/facttablecolumn": Refused,
	"panel/item/item_color": Display, "panel/item/item_shape": Display, "panel/item/item_row_number": Display,
	"panel/item/item_is_synonym": Display, "panel/item/metadataxml": Refused,
	"subquery_constraint": Applied, "subquery_constraint/constraint_type": Refused,
	"subquery_constraint/first_query": Applied, "subquery_constraint/first_query/query_id": Applied,
	"subquery_constraint/first_query/join_column": Applied, "subquery_constraint/first_query/aggregate_operator": Applied,
	"subquery_constraint/operator":     Applied,
	"subquery_constraint/second_query": Applied, "subquery_constraint/second_query/query_id": Applied,
	"subquery_constraint/second_query/join_column": Applied, "subquery_constraint/second_query/aggregate_operator": Applied,
	"subquery_constraint/span": Applied, "subquery_constraint/span/operator": Applied,
	"subquery_constraint/span/span_value": Applied, "subquery_constraint/span/units": Applied,
	"subquery": Applied,
}

// why a refused element is refused.
var refusedWhy = map[string]string{
	"message":            "results are not sent as messages",
	"email":              "results are not sent by email",
	"dim_tablename":      "the warehouse reads an item's table and column from its ontology, not from the request",
	"dim_columnname":     "the warehouse reads an item's table and column from its ontology, not from the request",
	"dim_dimcode":        "the warehouse reads an item's table and column from its ontology, not from the request",
	"dim_columndatatype": "the warehouse reads an item's table and column from its ontology, not from the request",
	"dim_operator":       "the warehouse reads an item's table and column from its ontology, not from the request",
	"facttablecolumn":    "the warehouse reads an item's table and column from its ontology, not from the request",
	"metadataxml":        "value metadata (and unit conversion) is not supported",
	"constraint_type":    "constraint types are not supported",
}

// node is an element of the request, by its local name (namespace prefixes dropped).
type node = xmltree.Node

const (
	maxDepth = 64
	maxNodes = 200000
)

// parseTree reads a whole document strictly: UTF-8, no DTD, no entities beyond XML's own, one
// root element (a second one would be ignored, so it is refused).
func parseTree(b []byte) (*node, error) { return xmltree.Parse(b, maxDepth, maxNodes) }

// element is one element being read: its path for errors and its schema path.
type element struct {
	n      *node
	where  string // query_definition/panel[2]/item[1]
	schema string // panel/item
	seen   map[string]int
}

func newElement(n *node, where, schema string) *element {
	return &element{n: n, where: where, schema: schema, seen: map[string]int{}}
}

func (e *element) errorf(format string, args ...any) error {
	return invalid("%s: %s", e.where, fmt.Sprintf(format, args...))
}

// children calls read for each child element with the child's element; elements outside the
// schema or refused are errors naming them; elements that may appear once are checked.
func (e *element) children(many map[string]bool, read func(c *element) error) error {
	if e.n.Value() != "" && len(e.n.Kids) > 0 {
		return e.errorf("text beside elements")
	}
	for _, k := range e.n.Kids {
		e.seen[k.Name]++
		schema := k.Name
		if e.schema != "" {
			schema = e.schema + "/" + k.Name
		}
		where := e.where + "/" + k.Name
		if many[k.Name] {
			where = fmt.Sprintf("%s[%d]", where, e.seen[k.Name])
		} else if e.seen[k.Name] > 1 {
			return e.errorf("element %s appears twice", k.Name)
		}
		use, ok := Elements[schema]
		c := newElement(k, where, schema)
		switch {
		case !ok:
			return c.errorf("element %s is not part of i2b2's query_definition (psm 1.1): not supported", k.Name)
		case use == Refused:
			return c.errorf("element %s is not supported: %s", k.Name, refusedWhy[k.Name])
		}
		if err := c.attributes(); err != nil {
			return err
		}
		if use == Display {
			continue
		}
		if err := read(c); err != nil {
			return err
		}
	}
	return nil
}

// attributes refuses attributes outside the schema.
func (e *element) attributes() error {
	for _, a := range e.n.Attrs {
		if a.Name.Space != "" && a.Name.Local == "type" { // xsi:type
			continue
		}
		if _, ok := Elements[e.schema+"@"+a.Name.Local]; !ok {
			return e.errorf("attribute %s is not part of i2b2's query_definition (psm 1.1): not supported", a.Name.Local)
		}
	}
	return nil
}

func (e *element) attr(name string) (string, bool) {
	for _, a := range e.n.Attrs {
		if a.Name.Local == name {
			return strings.TrimSpace(a.Value), true
		}
	}
	return "", false
}

// text is the element's text; an element with children where text belongs is an error.
func (e *element) text() (string, error) {
	if len(e.n.Kids) > 0 {
		return "", e.errorf("element %s holds elements, want text", e.n.Kids[0].Name)
	}
	return e.n.Value(), nil
}

func (e *element) integer() (int, error) {
	s, err := e.text()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, e.errorf("not a whole number")
	}
	return n, nil
}

// readQuery reads a query_definition (or, sub, a subquery, where names it) into q and
// returns a subquery's query_id.
func readQuery(e *node, q *Query, where string, sub bool) (string, error) {
	root := newElement(e, where, "")
	if err := root.attributes(); err != nil {
		return "", err
	}
	var id, qtype string
	err := root.children(map[string]bool{"panel": true, "subquery": true, "subquery_constraint": true}, func(c *element) error {
		var err error
		switch c.n.Name {
		case "query_id":
			id, err = c.text()
		case "query_type":
			qtype, err = c.text()
		case "query_timing":
			q.Timing, err = c.text()
		case "panel":
			var p Panel
			if err := readPanel(c, &p); err != nil {
				return err
			}
			q.Panels = append(q.Panels, p)
		case "subquery":
			if sub {
				return c.errorf("a subquery inside a subquery is not supported")
			}
			var s Query
			sid, err := readQuery(c.n, &s, c.where, true)
			if err != nil {
				return err
			}
			q.Notes = append(q.Notes, s.Notes...)
			q.Events = append(q.Events, Event{ID: sid, Name: s.Name, Timing: s.Timing, Panels: s.Panels})
		case "subquery_constraint":
			var k Constraint
			if err := readConstraint(c, &k); err != nil {
				return err
			}
			q.Notes = append(q.Notes, k.notes...)
			k.notes = nil
			q.Constraints = append(q.Constraints, k)
		default:
			return c.errorf("element %s is not supported here", c.n.Name)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	for _, k := range e.Kids {
		if k.Name == "query_name" {
			q.Name = k.Value()
		}
	}
	if sub {
		if t := strings.ToUpper(qtype); t != "" && t != "EVENT" {
			return "", root.errorf("query_type %q is not supported (want EVENT)", qtype)
		}
		return id, nil
	}
	if id != "" || qtype != "" {
		return "", root.errorf("query_id and query_type belong to subqueries")
	}
	return "", nil
}

func readPanel(e *element, p *Panel) error {
	if err := e.attributes(); err != nil {
		return err
	}
	return e.children(map[string]bool{"item": true}, func(c *element) error {
		var err error
		switch c.n.Name {
		case "panel_timing":
			p.Timing, err = c.text()
		case "panel_date_from":
			p.DateFrom, err = readBound(c)
		case "panel_date_to":
			p.DateTo, err = readBound(c)
		case "invert":
			var n int
			if n, err = c.integer(); err == nil {
				if n != 0 && n != 1 {
					return c.errorf("invert is 0 or 1")
				}
				p.Invert = n == 1
			}
		case "total_item_occurrences":
			var n int
			if n, err = c.integer(); err == nil {
				op, _ := c.attr("operator")
				p.Occurs = Occurrence{cmpOr(strings.ToUpper(op), "GE"), n}
				if !occurOps[p.Occurs.Op] {
					return c.errorf("operator %q is not supported (want EQ NE GT LT GE LE)", op)
				}
			}
		case "item":
			var it Item
			if err := readItem(c, &it); err != nil {
				return err
			}
			p.Items = append(p.Items, it)
		default:
			return c.errorf("element %s is not supported here", c.n.Name)
		}
		return err
	})
}

// readBound reads a constrainDateType element: its time and its time and inclusive
// attributes, which must be as i2b2's schema writes them (upper case).
func readBound(e *element) (*Bound, error) {
	s, err := e.text()
	if err != nil {
		return nil, err
	}
	at, err := ParseTime(s)
	if err != nil {
		return nil, e.errorf("%v", err)
	}
	// i2b2 reads a value outside its schema's list (upper case) as absent, that is as the
	// default: a spelling that means the default is read so; one that means otherwise is
	// refused, since i2b2 would answer as if it were not there.
	b := &Bound{At: at}
	if t, ok := e.attr("time"); ok {
		switch {
		case t == "END_DATE":
			b.Column = "END_DATE"
		case strings.EqualFold(t, "START_DATE") || t == "":
		default:
			return nil, e.errorf(`attribute time=%q is not supported: i2b2's schema has START_DATE and END_DATE, and i2b2 reads other spellings as absent (the start date)`, t)
		}
	}
	if in, ok := e.attr("inclusive"); ok {
		switch {
		case in == "NO":
			b.Exclusive = true
		case strings.EqualFold(in, "YES") || in == "":
		default:
			return nil, e.errorf(`attribute inclusive=%q is not supported: i2b2's schema has YES and NO, and i2b2 reads other spellings as absent (inclusive)`, in)
		}
	}
	return b, nil
}

func readItem(e *element, it *Item) error {
	return e.children(map[string]bool{"constrain_by_value": true, "constrain_by_date": true}, func(c *element) error {
		var err error
		switch c.n.Name {
		case "item_key":
			it.Key, err = c.text()
		case "constrain_by_value":
			var v Value
			if err := readValue(c, &v); err != nil {
				return err
			}
			it.Values = append(it.Values, v)
		case "constrain_by_date":
			var r Range
			err = c.children(nil, func(d *element) error {
				var err error
				switch d.n.Name {
				case "date_from":
					r.From, err = readBound(d)
				case "date_to":
					r.To, err = readBound(d)
				default:
					return d.errorf("element %s is not supported here", d.n.Name)
				}
				return err
			})
			it.Dates = append(it.Dates, r)
		case "constrain_by_modifier":
			m := &Modifier{}
			err = c.children(map[string]bool{"constrain_by_value": true}, func(d *element) error {
				var err error
				switch d.n.Name {
				case "modifier_key":
					m.Key, err = d.text()
				case "constrain_by_value":
					var v Value
					if err := readValue(d, &v); err != nil {
						return err
					}
					m.Values = append(m.Values, v)
				default:
					return d.errorf("element %s is not supported here", d.n.Name)
				}
				return err
			})
			it.Modifier = m
		default:
			return c.errorf("element %s is not supported here", c.n.Name)
		}
		return err
	})
}

// readValue reads a constrain_by_value. Its value_unit_of_measure is display only in
// i2b2 (no unit conversion by default) and is kept for the notes.
func readValue(e *element, v *Value) error {
	var constraint string
	hasConstraint := false
	for _, k := range e.n.Kids {
		if k.Name == "value_unit_of_measure" {
			v.Unit = k.Value()
		}
	}
	err := e.children(nil, func(c *element) error {
		var err error
		switch c.n.Name {
		case "value_operator":
			v.Op, err = c.text()
		case "value_constraint":
			constraint, err = c.text()
			hasConstraint = true
		case "value_type":
			v.Type, err = c.text()
		default:
			return c.errorf("element %s is not supported here", c.n.Name)
		}
		return err
	})
	if err != nil {
		return err
	}
	v.Type = strings.ToUpper(strings.TrimSpace(v.Type))
	v.Op = strings.ToUpper(strings.ReplaceAll(v.Op, " ", ""))
	// i2b2 1.7 skips a constraint without a value type, an operator or a value: so does
	// Steward, and says so.
	switch {
	case v.Type == "":
		v.skip = "constrain_by_value without value_type is skipped (as i2b2 1.7 does)"
	case v.Op == "":
		v.skip = "constrain_by_value " + v.Type + " without value_operator is skipped (as i2b2 1.7 does)"
	case !hasConstraint:
		v.skip = "constrain_by_value " + v.Type + " without value_constraint is skipped (as i2b2 1.7 does)"
	}
	if v.skip != "" {
		return nil
	}
	switch v.Type {
	case "NUMBER":
		n, err := parseNumber(v.Op, constraint)
		if err != nil {
			return e.errorf("%v", err)
		}
		v.Number, v.High = n.Number, n.High
	case "TEXT", "FLAG":
		if v.Op == "IN" {
			v.List = ParseINList(constraint)
		} else {
			v.Text = constraint
		}
	}
	return nil
}

// ParseINList reads i2b2's IN constraint: values in single quotes (a quote doubled inside),
// separated by commas, optionally in parentheses: ('H','L'). Unquoted values are taken as
// they are.
func ParseINList(c string) []string {
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

func parseNumber(op, c string) (Value, error) {
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
			return Value{}, fmt.Errorf(`BETWEEN needs "low and high"`)
		}
		l, err := num(lo)
		if err != nil {
			return Value{}, err
		}
		h, err := num(hi)
		return Value{Number: l, High: h}, err
	}
	n, err := num(c)
	return Value{Number: n}, err
}

func readConstraint(e *element, k *Constraint) error {
	side := func(c *element, s *Side) error {
		return c.children(nil, func(d *element) error {
			var err error
			switch d.n.Name {
			case "query_id":
				s.Event, err = d.text()
			case "join_column":
				s.Column, err = d.text()
			case "aggregate_operator":
				s.Aggregate, err = d.text()
			default:
				return d.errorf("element %s is not supported here", d.n.Name)
			}
			return err
		})
	}
	return e.children(map[string]bool{"span": true}, func(c *element) error {
		var err error
		switch c.n.Name {
		case "first_query":
			err = side(c, &k.First)
		case "second_query":
			err = side(c, &k.Second)
		case "operator":
			k.Op, err = c.text()
		case "span":
			var s Span
			err = c.children(nil, func(d *element) error {
				var err error
				switch d.n.Name {
				case "operator":
					s.Op, err = d.text()
				case "span_value":
					s.Value, err = d.integer()
				case "units":
					s.Units, err = d.text()
				default:
					return d.errorf("element %s is not supported here", d.n.Name)
				}
				return err
			})
			// i2b2 compares a span only when it has units (without an operator, as EQUAL).
			switch {
			case strings.TrimSpace(s.Units) == "":
				k.notes = append(k.notes, fmt.Sprintf("%s: a span without units is no condition (as in i2b2)", c.where))
			default:
				if strings.TrimSpace(s.Op) == "" {
					s.Op = "EQUAL"
				}
				k.Spans = append(k.Spans, s)
			}
		default:
			return c.errorf("element %s is not supported here", c.n.Name)
		}
		return err
	})
}
