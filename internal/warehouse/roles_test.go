package warehouse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/smtptest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

func diabetics() querydef.Query {
	return querydef.Query{Panels: []querydef.Panel{panel(item(e11)), panel(item(`\i2b2\Demographics\Sex\F\`), item(`\i2b2\Demographics\Sex\M\`))}}
}

func TestWhatEachRoleGets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		exact, err := w.Run(ctx, users["agg"], "diab", diabetics())
		must(t, err)
		obf, err := w.Run(ctx, users["obfsc"], "diab", diabetics())
		must(t, err)
		if obf.Method != "OBTOTAL" || obf.Noise != "budget" || exact.Method != "" {
			t.Errorf("methods: obfuscated got %q/%q, exact got %q; want OBTOTAL/budget and empty", obf.Method, obf.Noise, exact.Method)
		}
		// 43 diabetics: under the threshold of 60, shown as such whatever the noise.
		if exact.Count >= 60 || obf.Count != 0 || obf.Shown != "< 60" {
			t.Errorf("diabetics: exact %d, obfuscated %d %q; want fewer than 60 shown as 0 \"< 60\"", exact.Count, obf.Count, obf.Shown)
		}
		women := querydef.Query{Panels: []querydef.Panel{panel(item(`\i2b2\Demographics\Sex\F\`)), panel(item(smoking))}}
		exactWomen, err := w.Run(ctx, users["agg"], "diab", women)
		must(t, err)
		obfWomen, err := w.Run(ctx, users["obfsc"], "diab", women)
		must(t, err)
		if d := obfWomen.Count - exactWomen.Count; d < -60 || d > 60 || obfWomen.Shown != fmt.Sprintf("%d±20", obfWomen.Count) {
			t.Errorf("obfuscated count %d (%q) is %d away from the true %d: more than 6σ, or not shown ±20", obfWomen.Count, obfWomen.Shown, d, exactWomen.Count)
		}
		// Panels and items reordered: the same question, the same answer, nothing spent.
		re := women
		re.Panels = []querydef.Panel{women.Panels[1], women.Panels[0]}
		again, err := w.Run(ctx, users["obfsc"], "diab", re)
		must(t, err)
		if again.Count != obfWomen.Count || again.Budget == nil || again.Budget.Cost != 0 || obfWomen.Budget.Cost != 0.005 {
			t.Errorf("same question reordered: got %d costing %v, want the first answer %d costing 0 (the first cost %v, want 0.005)",
				again.Count, again.Budget, obfWomen.Count, obfWomen.Budget.Cost)
		}
		stored, err := w.Result(ctx, users["obfsc"], "diab", obfWomen.QueryID)
		must(t, err)
		if stored.Count != obfWomen.Count || stored.Shown != obfWomen.Shown {
			t.Errorf("re-read result: got %d %q, want %d %q", stored.Count, stored.Shown, obfWomen.Count, obfWomen.Shown)
		}
		// A tiny cohort: ≤ 3 shows 0 "< 60" to the obfuscated user.
		tiny := querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "GE", N: 1}, Items: []querydef.Item{item(synthetic.DiagnosisPath(499))}}}}
		te, err := w.Run(ctx, users["agg"], "diab", tiny)
		must(t, err)
		to, err := w.Run(ctx, users["obfsc"], "diab", tiny)
		must(t, err)
		if te.Count <= 3 && (to.Count != 0 || to.Shown != "< 60") {
			t.Errorf("true count %d: obfuscated got %d %q, want 0 \"< 60\"", te.Count, to.Count, to.Shown)
		}

		// Patient-level data by role.
		if _, err := w.Patients(ctx, users["lds"], "diab", exact.QueryID, warehouse.PDOOptions{}); !errors.Is(err, derrors.NotFound) {
			t.Errorf("PDO of another user's query: got %v, want not found", err)
		}
		lq, err := w.Run(ctx, users["lds"], "diab", diabetics())
		must(t, err)
		for _, c := range []struct {
			user                    string
			blobs, identified, deny bool
		}{
			{"agg", false, false, true}, {"lds", false, false, false}, {"lds", true, false, true}, {"lds", false, true, true},
		} {
			_, err := w.Patients(ctx, users[c.user], "diab", lq.QueryID, warehouse.PDOOptions{Blobs: c.blobs, Identified: c.identified})
			if c.deny != errors.Is(err, derrors.Forbidden) {
				t.Errorf("%s blobs=%v: got %v, want refused=%v", c.user, c.blobs, err, c.deny)
			}
		}
		lds, err := w.Patients(ctx, users["lds"], "diab", lq.QueryID, warehouse.PDOOptions{Limit: 5})
		must(t, err)
		if lds.Total != exact.Count || len(lds.Patients) != min(5, int(exact.Count)) || len(lds.Observations) == 0 || len(lds.Concepts) == 0 {
			t.Fatalf("LDS page: got total %d, %d patients, %d observations, %d concepts; want total %d and 5 patients with data",
				lds.Total, len(lds.Patients), len(lds.Observations), len(lds.Concepts), exact.Count)
		}
		if _, has := lds.Patients[0]["patient_blob"]; has || lds.Identities != nil {
			t.Errorf("LDS page holds blobs or identities: %v", lds.Patients[0])
		}
		for role, o := range map[string]warehouse.PDOOptions{"deid": {Blobs: true, Limit: 5}, "prot": {Blobs: true, Identified: true, Limit: 5}} {
			q, err := w.Run(ctx, users[role], "diab", diabetics())
			must(t, err)
			got, err := w.Patients(ctx, users[role], "diab", q.QueryID, o)
			must(t, err)
			want := fmt.Sprintf("chart summary of patient %v", got.Patients[0]["patient_num"])
			if got.Patients[0]["patient_blob"] != want {
				t.Errorf("%s: patient_blob got %q, want %q", role, got.Patients[0]["patient_blob"], want)
			}
			if role == "prot" && (len(got.Identities) != 5 || !strings.HasPrefix(got.Identities[0]["mrn"].(string), "MRN")) {
				t.Errorf("prot: identities got %v, want 5 with record numbers", got.Identities)
			}
			if role == "deid" && got.Identities != nil {
				t.Errorf("deid got identities")
			}
		}
		if _, err := w.Patients(ctx, users["deid"], "diab", lq.QueryID, warehouse.PDOOptions{Identified: true}); !errors.Is(err, derrors.Forbidden) && !errors.Is(err, derrors.NotFound) {
			t.Errorf("deid asking identified data: got %v, want refused", err)
		}
		// Nothing sealed is stored in the clear.
		var plain int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM patient_dimension WHERE patient_blob LIKE 'chart%'`).Scan(&plain))
		if plain != 0 {
			t.Errorf("%d patient_blob values stored in the clear", plain)
		}
		// Every answer and read is audited, counts only.
		var audited int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('warehouse.query', 'warehouse.pdo')`).Scan(&audited))
		// 10 answers (agg 3, obfsc 4, lds, deid, prot) and 4 reads (lds 2, deid, prot); refusals read nothing.
		if audited != 14 {
			t.Errorf("audit entries of answers and reads: got %d, want 14", audited)
		}
	})
}

func TestLockoutAfterSevenSameCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w, users := world(t, db)
		ctx := context.Background()
		mail := smtptest.Start(t)
		w.Access.Notify = access.Mailer{Addr: mail.Addr, From: "steward@example.org"}
		must(t, w.Access.CreateUser(ctx, root, access.User{Name: "dora", Email: "dora@example.org", Director: true}, "correct horse battery"))
		obf := users["obfsc"]
		for i := 1; i <= 14; i++ {
			a, err := w.Run(ctx, obf, "diab", diabetics())
			switch {
			case i <= 7 && err != nil:
				t.Fatalf("run %d: %v", i, err)
			case i == 7 && !a.Locked, i < 7 && a.Locked:
				t.Errorf("run %d: locked=%v, want locked at the 7th", i, a.Locked)
			case i > 7 && !errors.Is(err, derrors.Locked):
				t.Errorf("run %d: got %v, want locked", i, err)
			}
		}
		// The directors are told once, without the count; the 7 refused runs are audited.
		msgs := mail.Wait(1, 10*time.Second)
		real, err := w.Run(ctx, users["agg"], "diab", diabetics())
		must(t, err)
		if len(msgs) != 1 || !slices.Equal(msgs[0].To, []string{"dora@example.org"}) || !strings.Contains(msgs[0].Data, `"obfsc" out of cohort queries`) {
			t.Errorf("director's mail: got %v, want one to dora naming obfsc", msgs)
		} else if body := mailText(t, msgs[0].Data); regexp.MustCompile(`\b` + fmt.Sprint(real.Count) + `\b`).MatchString(body) {
			t.Errorf("director's mail gives the real count %d:\n%s", real.Count, msgs[0].Data)
		}
		var refused int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.query_refused' AND actor = 'obfsc'`).Scan(&refused))
		if refused != 7 {
			t.Errorf("audited refused runs: got %d, want 7", refused)
		}
		// An exact-count user running the same query is never locked.
		for range 8 {
			_, err := w.Run(ctx, users["agg"], "diab", diabetics())
			must(t, err)
		}
		if err := w.Unlock(ctx, users["agg"], "obfsc", "reviewed the queries"); !errors.Is(err, derrors.Forbidden) {
			t.Errorf("unlock by a non-administrator: got %v, want forbidden", err)
		}
		if err := w.Unlock(ctx, root, "obfsc", ""); !errors.Is(err, derrors.Invalid) {
			t.Errorf("unlock without a reason: got %v, want invalid", err)
		}
		locks, err := w.Lockouts(ctx, root)
		must(t, err)
		if len(locks) != 1 || locks[0].User != "obfsc" {
			t.Errorf("lockouts: got %v, want obfsc", locks)
		}
		must(t, w.Unlock(ctx, root, "obfsc", "reviewed the queries with the PI"))
		if _, err := w.Run(ctx, obf, "diab", diabetics()); err != nil {
			t.Errorf("after unlock: %v", err)
		}
		var unlocks int
		must(t, db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.unlock' AND detail LIKE '%reviewed%'`).Scan(&unlocks))
		if unlocks != 1 {
			t.Errorf("audited unlocks with reason: got %d, want 1", unlocks)
		}
	})
}

func TestXMLRunsAsJSON(t *testing.T) {
	o := newOracle(t, north)
	def := `<?xml version="1.0"?><ns4:request xmlns:ns4="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_body>
<query_definition>
  <query_name>Diabetes with high glucose</query_name>
  <query_timing>ANY</query_timing>
  <specificity_scale>0</specificity_scale>
  <panel><panel_number>1</panel_number><panel_accuracy_scale>100</panel_accuracy_scale><invert>0</invert><panel_timing>ANY</panel_timing>
    <total_item_occurrences>2</total_item_occurrences>
    <item><hlevel>4</hlevel><item_name>E11</item_name><item_key>\i2b2\Diagnoses\ICD10\E\E11\</item_key><class>ENC</class></item>
  </panel>
  <panel><panel_number>2</panel_number><invert>0</invert><total_item_occurrences>1</total_item_occurrences>
    <item><item_key>` + glucose + `</item_key>
      <constrain_by_value><value_operator>GT</value_operator><value_constraint>150</value_constraint><value_unit_of_measure>mg/dL</value_unit_of_measure><value_type>NUMBER</value_type></constrain_by_value>
    </item>
  </panel>
  <panel><panel_number>3</panel_number><invert>1</invert><panel_date_from>2016-01-01T00:00:00.000-05:00</panel_date_from>
    <item><item_key>\i2b2\Diagnoses\ICD10\C\</item_key></item>
  </panel>
</query_definition></message_body></ns4:request>`
	q, err := querydef.ParseXML([]byte(def))
	must(t, err)
	want := querydef.Query{Panels: []querydef.Panel{{Occurs: querydef.Occurrence{Op: "GE", N: 2}, Items: []querydef.Item{item(e11)}},
		{Items: []querydef.Item{{Key: glucose, Value: &querydef.Value{Op: "GT", Number: 150}}}},
		{Invert: true, DateFrom: &querydef.Bound{At: "2016-01-01 00:00:00"}, Items: []querydef.Item{item(`\i2b2\Diagnoses\ICD10\C\`)}}}}
	must(t, want.Normalize())
	if q.Canonical() != want.Canonical() || q.Name != "Diabetes with high glucose" {
		t.Fatalf("parsed XML:\n got %s\nwant %s", q.Canonical(), want.Canonical())
	}
	db := storetest.Open(t, store.SQLite)
	w, users := world(t, db)
	a, err := w.Run(context.Background(), users["agg"], "diab", q)
	must(t, err)
	if n := o.count(want); a.Count != int64(n) {
		t.Errorf("XML query: got %d, want %d", a.Count, n)
	}
	// A value constraint without an operator is skipped, as i2b2 1.7 skips it, and said so.
	skipped, err := querydef.ParseXML([]byte(`<query_definition><panel><item><item_key>\x\</item_key><constrain_by_value><value_type>TEXT</value_type></constrain_by_value></item></panel></query_definition>`))
	must(t, err)
	if len(skipped.Panels[0].Items[0].Values) != 0 || len(skipped.Notes) != 1 || !strings.Contains(skipped.Notes[0], "without value_operator is skipped") {
		t.Errorf("TEXT constraint without an operator: got values %v and notes %q, want none and a note that it is skipped", skipped.Panels[0].Items[0].Values, skipped.Notes)
	}
	for _, bad := range []string{
		`<query_definition><panel><total_item_occurrences>two</total_item_occurrences><item><item_key>\x\</item_key></item></panel></query_definition>`,
		`<query_definition>`, `<query_definition></query_definition>`} {
		if _, err := querydef.ParseXML([]byte(bad)); !errors.Is(err, derrors.Invalid) {
			t.Errorf("ParseXML(%.60s…): got %v, want invalid", bad, err)
		}
	}
}

// An i2b2 query_definition with TEXT, FLAG and modifier constraints, keys with i2b2's table
// prefix and an IN list as i2b2 writes it, reads as its JSON twin and counts as the oracle.
func TestXMLValueConstraints(t *testing.T) {
	o := newOracle(t, north)
	def := `<query_definition><query_name>Smokers with severe or primary E diagnoses</query_name>
  <panel><panel_number>1</panel_number>
    <item><item_key>\\SMOKING\i2b2\Observations\Smoking\</item_key>
      <constrain_by_value><value_type>TEXT</value_type><value_operator>IN</value_operator><value_constraint>('current smoker','current every day smoker')</value_constraint></constrain_by_value></item>
    <item><item_key>\\SMOKING\i2b2\Observations\Smoking\</item_key>
      <constrain_by_value><value_type>TEXT</value_type><value_operator>LIKE[contains]</value_operator><value_constraint>former</value_constraint></constrain_by_value></item>
  </panel>
  <panel><panel_number>2</panel_number>
    <item><item_key>\\i2b2_DIAG\i2b2\Diagnoses\ICD10\E\</item_key>
      <constrain_by_modifier><modifier_name>Severity</modifier_name><applied_path>\i2b2\Diagnoses\%</applied_path>
        <modifier_key>\\i2b2_MOD\i2b2\Modifiers\Diagnosis\Severity\</modifier_key>
        <constrain_by_value><value_operator>EQ</value_operator><value_constraint>severe</value_constraint><value_type>TEXT</value_type></constrain_by_value>
      </constrain_by_modifier></item>
    <item><item_key>\\i2b2_DIAG\i2b2\Diagnoses\ICD10\E\</item_key>
      <constrain_by_modifier><modifier_key>\\i2b2_MOD\i2b2\Modifiers\Diagnosis\Primary\</modifier_key></constrain_by_modifier></item>
  </panel>
  <panel><panel_number>3</panel_number><invert>1</invert>
    <item><item_key>` + glucose + `</item_key>
      <constrain_by_value><value_type>FLAG</value_type><value_operator>EQ</value_operator><value_constraint>L</value_constraint></constrain_by_value></item>
  </panel>
</query_definition>`
	q, err := querydef.ParseXML([]byte(def))
	must(t, err)
	want := querydef.Query{Panels: []querydef.Panel{
		{Items: []querydef.Item{{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "IN", List: []string{"current smoker", "current every day smoker"}}},
			{Key: smoking, Value: &querydef.Value{Type: "TEXT", Op: "LIKE[contains]", Text: "former"}}}},
		{Items: []querydef.Item{{Key: chapE, Modifier: &querydef.Modifier{Key: severity, Value: &querydef.Value{Type: "TEXT", Op: "EQ", Text: "severe"}}},
			{Key: chapE, Modifier: &querydef.Modifier{Key: primary}}}},
		{Invert: true, Items: []querydef.Item{{Key: glucose, Value: &querydef.Value{Type: "FLAG", Op: "EQ", Text: "L"}}}}}}
	must(t, want.Normalize())
	if q.Canonical() != want.Canonical() {
		t.Fatalf("parsed XML:\n got %s\nwant %s", q.Canonical(), want.Canonical())
	}
	n := o.count(want)
	if n == 0 || n == len(o.patients) {
		t.Fatalf("the query selects %d of %d patients: the test would prove little", n, len(o.patients))
	}
	db := storetest.Open(t, store.SQLite)
	w, users := world(t, db)
	a, err := w.Run(context.Background(), users["agg"], "diab", q)
	must(t, err)
	if a.Count != int64(n) {
		t.Errorf("XML query: got %d, want %d", a.Count, n)
	}
	for _, bad := range []string{
		`<query_definition><panel><item><item_key>\x\</item_key><constrain_by_value><value_type>LARGETEXT</value_type><value_operator>CONTAINS</value_operator><value_constraint>x</value_constraint></constrain_by_value></item></panel></query_definition>`,
		`<query_definition><panel><item><item_key>\x\</item_key><constrain_by_value><value_type>FLAG</value_type><value_operator>LIKE</value_operator><value_constraint>H</value_constraint></constrain_by_value></item></panel></query_definition>`,
		`<query_definition><panel><item><item_key>\x\</item_key><constrain_by_value><value_type>TEXT</value_type><value_operator>BETWEEN</value_operator><value_constraint>a and b</value_constraint></constrain_by_value></item></panel></query_definition>`,
		`<query_definition><panel><item><item_key>\x\</item_key><constrain_by_modifier><modifier_key></modifier_key></constrain_by_modifier></item></panel></query_definition>`,
	} {
		if _, err := querydef.ParseXML([]byte(bad)); !errors.Is(err, derrors.Invalid) {
			t.Errorf("ParseXML(%.90s…): got %v, want invalid", bad[40:], err)
		}
	}
	// A modifier the tree does not have is named in the error.
	unknown := one(querydef.Item{Key: chapE, Modifier: &querydef.Modifier{Key: `\i2b2\Modifiers\Nothing\`}})
	if _, err := w.Run(context.Background(), users["agg"], "diab", unknown); !errors.Is(err, derrors.Invalid) || !strings.Contains(err.Error(), "no modifier at") {
		t.Errorf("unknown modifier: got %v, want invalid naming it", err)
	}
}

var _ = access.Track

// mailText is a message's body as the reader sees it — headers left out (their Date has
// seconds that may equal any count), quoted-printable decoded, times of the lock removed.
func mailText(t *testing.T, data string) string {
	t.Helper()
	_, body, ok := strings.Cut(strings.ReplaceAll(data, "\r\n", "\n"), "\n\n")
	if !ok {
		t.Fatalf("mail without a body:\n%s", data)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatalf("decode the mail's body: %v", err)
	}
	return regexp.MustCompile(`\d{4}-\d\d-\d\dT[\d:]+Z`).ReplaceAllString(string(b), "")
}
