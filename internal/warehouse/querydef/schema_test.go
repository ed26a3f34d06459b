package querydef_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// psm11 is every element and attribute of i2b2's query_definition type (psm 1.1), as
// i2b2-core-server's schemas define them (CRC_PSM_QRY_query_definition.xsd, CRC_PANEL.xsd,
// CRC_PSM_QRY_query_constraint.xsd), paths from query_definition, attributes after @; each
// with what a query definition shows when it holds it: applied (the definition read
// changes), display (read, no effect, as in i2b2) or refused (an error naming it). The
// snippet is the element (or attribute) with a value that is not its default, put in the
// place its context says.
var psm11 = []struct {
	path    string
	use     querydef.Use
	context string // where the snippet goes: top, panel, item, modifier, value, date, constraint, side, span, subquery
	snippet string
}{
	{"query_id", querydef.Applied, "subquery", `<query_id>Event B</query_id>`},
	{"query_type", querydef.Applied, "subqueryType", `<query_type>SOMETHING</query_type>`},
	{"query_name", querydef.Display, "name", `<query_name>Another name</query_name>`},
	{"query_description", querydef.Display, "top", `<query_description>what it is for</query_description>`},
	{"query_timing", querydef.Applied, "top", `<query_timing>SAMEVISIT</query_timing>`},
	{"specificity_scale", querydef.Display, "top", `<specificity_scale>3</specificity_scale>`},
	{"panel", querydef.Applied, "top", `<panel><item><item_key>\i2b2\Other\</item_key></item></panel>`},
	{"panel@name", querydef.Display, "panelAttr", `name="Group 1"`},
	{"panel/panel_number", querydef.Display, "panel", `<panel_number>7</panel_number>`},
	{"panel/panel_timing", querydef.Applied, "panelSameVisit", `<panel_timing>ANY</panel_timing>`},
	{"panel/panel_date_from", querydef.Applied, "panel", `<panel_date_from>2010-01-01T00:00:00Z</panel_date_from>`},
	{"panel/panel_date_from@time", querydef.Applied, "panel", `<panel_date_from time="END_DATE">2010-01-01T00:00:00Z</panel_date_from>`},
	{"panel/panel_date_from@inclusive", querydef.Applied, "panel", `<panel_date_from inclusive="NO">2010-01-01T00:00:00Z</panel_date_from>`},
	{"panel/panel_date_to", querydef.Applied, "panel", `<panel_date_to>2010-01-01T00:00:00Z</panel_date_to>`},
	{"panel/panel_date_to@time", querydef.Applied, "panel", `<panel_date_to time="END_DATE">2010-01-01T00:00:00Z</panel_date_to>`},
	{"panel/panel_date_to@inclusive", querydef.Applied, "panel", `<panel_date_to inclusive="NO">2010-01-01T00:00:00Z</panel_date_to>`},
	{"panel/panel_accuracy_scale", querydef.Display, "panel", `<panel_accuracy_scale>100</panel_accuracy_scale>`},
	{"panel/invert", querydef.Applied, "panel", `<invert>1</invert>`},
	{"panel/total_item_occurrences", querydef.Applied, "panel", `<total_item_occurrences>3</total_item_occurrences>`},
	{"panel/total_item_occurrences@operator", querydef.Applied, "panel", `<total_item_occurrences operator="LT">3</total_item_occurrences>`},
	{"panel/item", querydef.Applied, "panel", `<item><item_key>\i2b2\Other\</item_key></item>`},
	{"panel/item/hlevel", querydef.Display, "item", `<hlevel>4</hlevel>`},
	{"panel/item/item_name", querydef.Display, "item", `<item_name>A name</item_name>`},
	{"panel/item/item_key", querydef.Applied, "itemKey", `<item_key>\i2b2\Other\</item_key>`},
	{"panel/item/item_icon", querydef.Display, "item", `<item_icon>FA</item_icon>`},
	{"panel/item/tooltip", querydef.Display, "item", `<tooltip>Diagnoses \ X</tooltip>`},
	{"panel/item/class", querydef.Display, "item", `<class>ENC</class>`},
	{"panel/item/constrain_by_value", querydef.Applied, "item", `<constrain_by_value><value_operator>GT</value_operator><value_constraint>5</value_constraint><value_type>NUMBER</value_type></constrain_by_value>`},
	{"panel/item/constrain_by_value/value_operator", querydef.Applied, "value", `<value_operator>LT</value_operator>`},
	{"panel/item/constrain_by_value/value_constraint", querydef.Applied, "value", `<value_constraint>9</value_constraint>`},
	{"panel/item/constrain_by_value/value_unit_of_measure", querydef.Display, "value", `<value_unit_of_measure>mg/dL</value_unit_of_measure>`},
	{"panel/item/constrain_by_value/value_type", querydef.Applied, "value", `<value_type>FLAG</value_type>`},
	{"panel/item/constrain_by_date", querydef.Applied, "item", `<constrain_by_date><date_from>2011-01-01T00:00:00Z</date_from></constrain_by_date>`},
	{"panel/item/constrain_by_date/date_from", querydef.Applied, "date", `<date_from>2011-01-01T00:00:00Z</date_from>`},
	{"panel/item/constrain_by_date/date_from@time", querydef.Applied, "date", `<date_from time="END_DATE">2010-01-01T00:00:00Z</date_from>`},
	{"panel/item/constrain_by_date/date_from@inclusive", querydef.Applied, "date", `<date_from inclusive="NO">2010-01-01T00:00:00Z</date_from>`},
	{"panel/item/constrain_by_date/date_to", querydef.Applied, "date", `<date_to>2012-01-01T00:00:00Z</date_to>`},
	{"panel/item/constrain_by_date/date_to@time", querydef.Applied, "date", `<date_to time="END_DATE">2012-01-01T00:00:00Z</date_to>`},
	{"panel/item/constrain_by_date/date_to@inclusive", querydef.Applied, "date", `<date_to inclusive="NO">2012-01-01T00:00:00Z</date_to>`},
	{"panel/item/constrain_by_modifier", querydef.Applied, "item", `<constrain_by_modifier><modifier_key>\i2b2\Modifiers\Other\</modifier_key></constrain_by_modifier>`},
	{"panel/item/constrain_by_modifier/modifier_name", querydef.Display, "modifier", `<modifier_name>Dose</modifier_name>`},
	{"panel/item/constrain_by_modifier/modifier_key", querydef.Applied, "modifierKey", `<modifier_key>\i2b2\Modifiers\Other\</modifier_key>`},
	{"panel/item/constrain_by_modifier/applied_path", querydef.Display, "modifier", `<applied_path>\i2b2\Medications\%</applied_path>`},
	{"panel/item/constrain_by_modifier/constrain_by_value", querydef.Applied, "modifier", `<constrain_by_value><value_operator>EQ</value_operator><value_constraint>PO</value_constraint><value_type>TEXT</value_type></constrain_by_value>`},
	{"panel/item/constrain_by_modifier/constrain_by_value/value_operator", querydef.Applied, "modifierValue", `<value_operator>LT</value_operator>`},
	{"panel/item/constrain_by_modifier/constrain_by_value/value_constraint", querydef.Applied, "modifierValue", `<value_constraint>9</value_constraint>`},
	{"panel/item/constrain_by_modifier/constrain_by_value/value_unit_of_measure", querydef.Display, "modifierValue", `<value_unit_of_measure>mg</value_unit_of_measure>`},
	{"panel/item/constrain_by_modifier/constrain_by_value/value_type", querydef.Applied, "modifierValue", `<value_type>FLAG</value_type>`},
	{"panel/item/constrain_by_modifier/dim_tablename", querydef.Refused, "modifier", `<dim_tablename>modifier_dimension</dim_tablename>`},
	{"panel/item/constrain_by_modifier/dim_columnname", querydef.Refused, "modifier", `<dim_columnname>modifier_path</dim_columnname>`},
	{"panel/item/constrain_by_modifier/dim_dimcode", querydef.Refused, "modifier", `<dim_dimcode>\Dose\</dim_dimcode>`},
	{"panel/item/constrain_by_modifier/dim_columndatatype", querydef.Refused, "modifier", `<dim_columndatatype>T</dim_columndatatype>`},
	{"panel/item/constrain_by_modifier/dim_operator", querydef.Refused, "modifier", `<dim_operator>LIKE</dim_operator>`},
	{"panel/item/constrain_by_modifier/facttablecolumn", querydef.Refused, "modifier", `<facttablecolumn>modifier_cd</facttablecolumn>`},
	{"panel/item/constrain_by_modifier/modifier_visualattributes", querydef.Display, "modifier", `<modifier_visualattributes>RA</modifier_visualattributes>`},
	{"panel/item/constrain_by_modifier/modifier_synonym_cd", querydef.Display, "modifier", `<modifier_synonym_cd>N</modifier_synonym_cd>`},
	{"panel/item/constrain_by_modifier/modifier_tooltip", querydef.Display, "modifier", `<modifier_tooltip>Dose</modifier_tooltip>`},
	{"panel/item/constrain_by_modifier/modifier_class", querydef.Display, "modifier", `<modifier_class>ENC</modifier_class>`},
	{"panel/item/dim_tablename", querydef.Refused, "item", `<dim_tablename>patient_dimension</dim_tablename>`},
	{"panel/item/dim_columnname", querydef.Refused, "item", `<dim_columnname>sex_cd</dim_columnname>`},
	{"panel/item/dim_dimcode", querydef.Refused, "item", `<dim_dimcode>'F'</dim_dimcode>`},
	{"panel/item/dim_columndatatype", querydef.Refused, "item", `<dim_columndatatype>T</dim_columndatatype>`},
	{"panel/item/dim_operator", querydef.Refused, "item", `<dim_operator>=</dim_operator>`},
	{"panel/item/facttablecolumn", querydef.Refused, "item", `<facttablecolumn>patient_num</facttablecolumn>`},
	{"panel/item/item_color", querydef.Display, "item", `<item_color>red</item_color>`},
	{"panel/item/item_shape", querydef.Display, "item", `<item_shape>box</item_shape>`},
	{"panel/item/item_row_number", querydef.Display, "item", `<item_row_number>2</item_row_number>`},
	{"panel/item/item_is_synonym", querydef.Display, "item", `<item_is_synonym>true</item_is_synonym>`},
	{"panel/item/metadataxml", querydef.Refused, "item", `<metadataxml><ValueMetadata><Version>3.02</Version></ValueMetadata></metadataxml>`},
	{"subquery_constraint", querydef.Applied, "temporalTop", `<subquery_constraint><first_query><query_id>Event A</query_id></first_query><operator>GREATER</operator><second_query><query_id>Event B</query_id></second_query></subquery_constraint>`},
	{"subquery_constraint/constraint_type", querydef.Refused, "constraint", `<constraint_type>TEMPORAL</constraint_type>`},
	{"subquery_constraint/first_query", querydef.Applied, "constraintFirst", `<first_query><query_id>Event A</query_id><aggregate_operator>FIRST</aggregate_operator></first_query>`},
	{"subquery_constraint/first_query/query_id", querydef.Applied, "sideFirst", `<query_id>Event C</query_id>`},
	{"subquery_constraint/first_query/join_column", querydef.Applied, "side", `<join_column>ENDDATE</join_column>`},
	{"subquery_constraint/first_query/aggregate_operator", querydef.Applied, "side", `<aggregate_operator>LAST</aggregate_operator>`},
	{"subquery_constraint/operator", querydef.Applied, "constraintOp", `<operator>GREATER</operator>`},
	{"subquery_constraint/second_query", querydef.Applied, "constraintSecond", `<second_query><query_id>Event B</query_id><aggregate_operator>FIRST</aggregate_operator></second_query>`},
	{"subquery_constraint/second_query/query_id", querydef.Applied, "sideSecond", `<query_id>Event C</query_id>`},
	{"subquery_constraint/second_query/join_column", querydef.Applied, "sideSecondCol", `<join_column>ENDDATE</join_column>`},
	{"subquery_constraint/second_query/aggregate_operator", querydef.Applied, "sideSecondCol", `<aggregate_operator>FIRST</aggregate_operator>`},
	{"subquery_constraint/span", querydef.Applied, "constraint", `<span><operator>LESS</operator><span_value>30</span_value><units>DAY</units></span>`},
	{"subquery_constraint/span/operator", querydef.Applied, "span", `<operator>GREATER</operator>`},
	{"subquery_constraint/span/span_value", querydef.Applied, "span", `<span_value>9</span_value>`},
	{"subquery_constraint/span/units", querydef.Applied, "span", `<units>MONTH</units>`},
	{"subquery", querydef.Applied, "temporalTop", `<subquery><query_id>Event C</query_id><panel><item><item_key>\i2b2\C\</item_key></item></panel></subquery>`},
	{"message", querydef.Refused, "top", `<message>done</message>`},
	{"email", querydef.Refused, "top", `<email>someone@example.org</email>`},
}

// contexts are documents with %s where a snippet goes, and the same document without it.
func document(context, snippet string) string {
	item := `<item_key>\i2b2\X\</item_key>`
	panel := func(inner string) string { return `<panel>` + inner + `</panel>` }
	def := func(inner string) string {
		return `<query_definition><query_name>q</query_name>` + inner + `</query_definition>`
	}
	event := func(id, key, extra string) string {
		return `<subquery><query_id>` + id + `</query_id><query_type>EVENT</query_type><query_timing>SAMEINSTANCENUM</query_timing>` + extra +
			`<panel><panel_timing>SAMEINSTANCENUM</panel_timing><item><item_key>` + key + `</item_key></item></panel></subquery>`
	}
	temporal := func(constraint, extra string) string {
		return def(`<query_timing>ANY</query_timing>` + constraint + event("Event A", `\i2b2\A\`, "") + event("Event B", `\i2b2\B\`, "") + extra)
	}
	constraint := func(first, op, second, extra string) string {
		return `<subquery_constraint>` + first + op + second + extra + `</subquery_constraint>`
	}
	first := `<first_query><query_id>Event A</query_id><join_column>STARTDATE</join_column><aggregate_operator>ANY</aggregate_operator></first_query>`
	second := `<second_query><query_id>Event B</query_id><join_column>STARTDATE</join_column><aggregate_operator>ANY</aggregate_operator></second_query>`
	less := `<operator>LESS</operator>`
	span := func(inner string) string {
		return `<span>` + cmpOr(inner, `<operator>LESS</operator>`) + `<span_value>30</span_value><units>DAY</units></span>`
	}
	switch context {
	case "top":
		return def(snippet + panel(`<item>`+item+`</item>`))
	case "name":
		return `<query_definition>` + snippet + panel(`<item>`+item+`</item>`) + `</query_definition>`
	case "panel":
		return def(panel(snippet + `<item>` + item + `</item>`))
	case "panelAttr":
		return def(`<panel ` + snippet + `><item>` + item + `</item></panel>`)
	case "panelSameVisit":
		return def(`<query_timing>SAMEVISIT</query_timing>` + panel(snippet+`<item>`+item+`</item>`))
	case "item":
		return def(panel(`<item>` + item + snippet + `</item>`))
	case "itemKey":
		return def(panel(`<item>` + cmpOr(snippet, item) + `</item>`))
	case "modifier":
		return def(panel(`<item>` + item + `<constrain_by_modifier><modifier_key>\i2b2\Modifiers\M\</modifier_key>` + snippet + `</constrain_by_modifier></item>`))
	case "modifierKey":
		return def(panel(`<item>` + item + `<constrain_by_modifier>` + cmpOr(snippet, `<modifier_key>\i2b2\Modifiers\M\</modifier_key>`) + `</constrain_by_modifier></item>`))
	case "value":
		return def(panel(`<item>` + item + `<constrain_by_value>` + valueParts(snippet, "") + `</constrain_by_value></item>`))
	case "modifierValue":
		return def(panel(`<item>` + item + `<constrain_by_modifier><modifier_key>\i2b2\Modifiers\M\</modifier_key><constrain_by_value>` +
			valueParts(snippet, "") + `</constrain_by_value></constrain_by_modifier></item>`))
	case "date":
		return def(panel(`<item>` + item + `<constrain_by_date>` + dateParts(snippet) + `</constrain_by_date></item>`))
	case "temporalTop":
		return temporal(constraint(first, less, second, ""), snippet)
	case "constraint":
		return temporal(constraint(first, less, second, snippet), "")
	case "constraintOp":
		return temporal(constraint(first, cmpOr(snippet, less), second, ""), "")
	case "constraintFirst":
		return temporal(constraint(cmpOr(snippet, first), less, second, ""), "")
	case "constraintSecond":
		return temporal(constraint(first, less, cmpOr(snippet, second), ""), "")
	case "side":
		return temporal(constraint(`<first_query><query_id>Event A</query_id>`+snippet+`</first_query>`, less, second, ""), "")
	case "sideFirst":
		return temporal(constraint(`<first_query>`+cmpOr(snippet, `<query_id>Event A</query_id>`)+`</first_query>`, less, second, ""),
			event("Event C", `\i2b2\C\`, ""))
	case "sideSecond":
		return temporal(constraint(first, less, `<second_query>`+cmpOr(snippet, `<query_id>Event B</query_id>`)+`</second_query>`, ""),
			event("Event C", `\i2b2\C\`, ""))
	case "sideSecondCol":
		return temporal(constraint(first, less, `<second_query><query_id>Event B</query_id>`+snippet+`</second_query>`, ""), "")
	case "span":
		return temporal(constraint(first, less, second, span(snippet)), "")
	case "subquery":
		// The second event's id: "Event B", or (without the snippet) "Event C".
		id := cmpOr(snippet, "<query_id>Event C</query_id>")
		return def(`<query_timing>ANY</query_timing>` + constraint(first, less, `<second_query>`+id+`</second_query>`, "") +
			event("Event A", `\i2b2\A\`, "") + strings.Replace(event("Event B", `\i2b2\B\`, ""), "<query_id>Event B</query_id>", id, 1))
	case "subqueryType":
		return def(`<query_timing>ANY</query_timing>` + constraint(first, less, second, "") +
			event("Event A", `\i2b2\A\`, snippet) + event("Event B", `\i2b2\B\`, ""))
	}
	panic("no context " + context)
}

// valueParts is a constrain_by_value's elements: NUMBER GT 5, with the snippet in place of
// its own kind of element.
func valueParts(snippet, _ string) string {
	parts := []string{`<value_operator>GT</value_operator>`, `<value_constraint>5</value_constraint>`, `<value_type>NUMBER</value_type>`}
	for i, p := range parts {
		if snippet != "" && strings.HasPrefix(snippet, p[:strings.Index(p, ">")]) {
			parts[i] = snippet
			snippet = ""
			if strings.HasPrefix(p, "<value_type>") && strings.Contains(parts[i], "FLAG") {
				parts[0], parts[1] = `<value_operator>EQ</value_operator>`, `<value_constraint>5</value_constraint>`
			}
		}
	}
	return strings.Join(parts, "") + snippet
}

// dateParts is a constrain_by_date's elements: from 2010-01-01, with the snippet in place of
// its own kind of element.
func dateParts(snippet string) string {
	from := `<date_from>2010-01-01T00:00:00Z</date_from>`
	if strings.HasPrefix(snippet, "<date_from") {
		return snippet
	}
	return from + snippet
}

func cmpOr(a, b string) string {
	if a == "" {
		return b
	}
	return a
}

// TestEveryQueryDefinitionElement walks psm 1.1's query_definition: every element and
// attribute is applied (the definition read with it differs from the one without), display
// only (the same), or refused with an error that names it; and the parser's own list of what
// it applies holds exactly these, so nothing is read without a decision.
func TestEveryQueryDefinitionElement(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range psm11 {
		seen[e.path] = true
		if got, ok := querydef.Elements[e.path]; !ok || got != e.use {
			t.Errorf("%s: the parser's list has %v (listed %v), want %v", e.path, got, ok, e.use)
		}
		with, without := document(e.context, e.snippet), document(e.context, "")
		base, err := querydef.ParseXML([]byte(without))
		if err != nil {
			t.Fatalf("%s: the document without it does not parse: %v\n%s", e.path, err, without)
		}
		q, err := querydef.ParseXML([]byte(with))
		name := e.path[strings.LastIndexAny(e.path, "/@")+1:]
		switch e.use {
		case querydef.Refused:
			if !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), name) {
				t.Errorf("%s: got %v, want an error naming %s", e.path, err, name)
			}
		case querydef.Display:
			if err != nil || q.Canonical() != base.Canonical() {
				t.Errorf("%s: got %v and definition\n%s\nwant the definition without it\n%s", e.path, err, q.Canonical(), base.Canonical())
			}
		case querydef.Applied:
			if err == nil && q.Canonical() == base.Canonical() {
				t.Errorf("%s: the definition read with it is the one without it: not applied\n%s", e.path, q.Canonical())
			}
			if err != nil && !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), strings.ToUpper(name)) {
				t.Errorf("%s: got %v, want it applied or an error naming it", e.path, err)
			}
		}
	}
	for path := range querydef.Elements {
		if !seen[path] {
			t.Errorf("the parser lists %s, which is not in psm 1.1's query_definition", path)
		}
	}
	// Outside the schema: refused by name, elements and attributes alike.
	for _, doc := range []string{
		`<query_definition><panel><item><item_key>\x\</item_key><constrain_by_genome>x</constrain_by_genome></item></panel></query_definition>`,
		`<query_definition><panel weight="2"><item><item_key>\x\</item_key></item></panel></query_definition>`,
		`<query_definition><panel><panel_date_from time="end_date">2010-01-01T00:00:00Z</panel_date_from><item><item_key>\x\</item_key></item></panel></query_definition>`,
	} {
		_, err := querydef.ParseXML([]byte(doc))
		for _, name := range []string{"constrain_by_genome", "weight", "end_date"} {
			if strings.Contains(doc, name) && (err == nil || !strings.Contains(err.Error(), name)) {
				t.Errorf("%.70s…: got %v, want an error naming %s", doc[30:], err, name)
			}
		}
	}
	t.Logf("%d elements and attributes: %s", len(psm11), summary())
}

func summary() string {
	n := map[querydef.Use]int{}
	for _, e := range psm11 {
		n[e.use]++
	}
	return fmt.Sprintf("%d applied, %d display only, %d refused", n[querydef.Applied], n[querydef.Display], n[querydef.Refused])
}
