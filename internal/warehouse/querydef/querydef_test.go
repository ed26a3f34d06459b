package querydef_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func FuzzParseXML(f *testing.F) {
	f.Add([]byte(`<query_definition><panel><item><item_key>\\T\a\</item_key><constrain_by_modifier><modifier_key>\m\</modifier_key><constrain_by_value><value_type>FLAG</value_type><value_operator>IN</value_operator><value_constraint>('H','L''s')</value_constraint></constrain_by_value></constrain_by_modifier></item></panel></query_definition>`))
	f.Add([]byte(`<query_definition><panel><invert>1</invert><total_item_occurrences>3</total_item_occurrences><item><item_key>\a\</item_key></item></panel></query_definition>`))
	f.Add([]byte(`<query_definition><query_timing>SAMEVISIT</query_timing><panel><item><item_key>\a\</item_key><constrain_by_value><value_type>NUMBER</value_type><value_operator>BETWEEN</value_operator><value_constraint>1 and 2</value_constraint></constrain_by_value></item></panel></query_definition>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := querydef.ParseXML(b)
		if err != nil {
			if !errors.Is(err, derrors.Invalid) {
				t.Fatalf("error not marked invalid: %v", err)
			}
			return
		}
		again := q
		again.Panels = append([]querydef.Panel(nil), q.Panels...)
		must(t, again.Normalize())
		if again.Canonical() != q.Canonical() {
			t.Fatalf("normalizing twice changed the query")
		}
	})
}

// Spellings outside i2b2's schema that i2b2 reads as absent: read so when that is what they
// say (time="start_date", inclusive="yes"), refused when i2b2 would read them otherwise than
// written (time="end_date", inclusive="no"); an empty span is no condition, and noted.
func TestSpellingsI2B2ReadsAsAbsent(t *testing.T) {
	doc := func(attrs string) string {
		return `<query_definition><panel><item><item_key>\x\</item_key><constrain_by_date><date_from ` + attrs +
			`>2010-01-01T00:00:00Z</date_from></constrain_by_date></item></panel></query_definition>`
	}
	plain, err := querydef.ParseXML([]byte(doc("")))
	must(t, err)
	for _, attrs := range []string{`time="start_date"`, `inclusive="yes"`, `time="Start_Date" inclusive="Yes"`} {
		q, err := querydef.ParseXML([]byte(doc(attrs)))
		if err != nil || q.Canonical() != plain.Canonical() {
			t.Errorf("%s: got %v, want the same as without it", attrs, err)
		}
	}
	for _, attrs := range []string{`time="end_date"`, `inclusive="no"`} {
		if _, err := querydef.ParseXML([]byte(doc(attrs))); !errors.Is(err, derrors.Invalid) {
			t.Errorf("%s: got %v, want refused", attrs, err)
		}
	}
	temporal := `<query_definition><query_timing>ANY</query_timing><subquery_constraint><first_query><query_id>A</query_id></first_query>
		<operator>LESS</operator><second_query><query_id>B</query_id></second_query><span></span></subquery_constraint>
		<subquery><query_id>A</query_id><panel><item><item_key>\a\</item_key></item></panel></subquery>
		<subquery><query_id>B</query_id><panel><item><item_key>\b\</item_key></item></panel></subquery></query_definition>`
	q, err := querydef.ParseXML([]byte(temporal))
	must(t, err)
	if len(q.Constraints[0].Spans) != 0 || len(q.Notes) != 1 || !strings.Contains(q.Notes[0], "span without units") {
		t.Errorf("empty span: got spans %v and notes %q, want none and a note", q.Constraints[0].Spans, q.Notes)
	}
}

// A document with a second root element: the parser used to read the first and drop the
// second without a word — a panel the user wrote but the count never applied. It is refused.
func TestSecondRootElementRefused(t *testing.T) {
	one := `<query_definition><panel><item><item_key>\a\</item_key></item></panel></query_definition>`
	if _, err := querydef.ParseXML([]byte(one)); err != nil {
		t.Fatalf("one root: %v", err)
	}
	two := one + `<query_definition><panel><invert>1</invert><item><item_key>\b\</item_key></item></panel></query_definition>`
	if q, err := querydef.ParseXML([]byte(two)); !errors.Is(err, derrors.Invalid) || !strings.Contains(fmtErr(err), "more than one root") {
		t.Fatalf("two roots: got %+v, %v; want refused (more than one root element)", q, err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
