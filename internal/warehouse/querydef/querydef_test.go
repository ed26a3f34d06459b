package querydef_test

import (
	"errors"
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
