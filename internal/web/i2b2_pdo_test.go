package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
)

const pdoPath = "/i2b2/services/QueryToolService/pdorequest"

// pdoMessage asks getPDO_fromInputList for a patient set with the output sets given
// (observation_set with its blob and onlykeys attributes, patient_set, event_set).
func pdoMessage(user, session, project, set, filter, output string) string {
	return i2b2Envelope(user, session, project, `<ns3:pdoheader xmlns:ns3="http://www.i2b2.org/xsd/cell/crc/pdo/1.1/"><patient_set_limit>0</patient_set_limit>
<estimated_time>180000</estimated_time><request_type>getPDO_fromInputList</request_type></ns3:pdoheader>
<ns3:request xmlns:ns3="http://www.i2b2.org/xsd/cell/crc/pdo/1.1/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="ns3:GetPDOFromInputList_requestType">
<input_list><patient_list max="8" min="5"><patient_set_coll_id>`+set+`</patient_set_coll_id></patient_list></input_list>
<filter_list>`+filter+`</filter_list><output_option names="asattributes">`+output+`</output_option></ns3:request>`)
}

// TestI2B2PDOPerRole: getPDO_fromInputList of a query's patient set gives patient-level data
// as the JSON API does for the role — refused to DATA_AGG, without blobs to DATA_LDS (and
// blob="true" refused, audited), with blobs to DATA_DEID — the same patients and observations;
// onlykeys gives keys only, and a filter panel only its concepts' observations.
func TestI2B2PDOPerRole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _ := loadedFixture(t, db, access.DataAgg, Options{})
		ctx := context.Background()
		bearer, session := f.signIn("ann", rootPW), f.pmSignIn("ann", rootPW)
		st, msg, doc := f.i2b2Call(crcPath, runMessage("ann", session, "diab", diabetesXML, "PATIENT_COUNT_XML", "PATIENTSET"))
		if st != i2b2.Done {
			t.Fatalf("run: %s %s", st, msg)
		}
		set := resultInstances(doc)["PATIENTSET"].Child("result_instance_id").Text()
		master := doc.Find("query_master").Child("query_master_id").Text()
		all := `<patient_set select="using_input_list" onlykeys="false"/><event_set onlykeys="false"/>`
		pdo := func(output, filter string) (string, string, *i2b2.Node) {
			return f.i2b2Call(pdoPath, pdoMessage("ann", session, "diab", set, filter, output))
		}
		refused := func(what, output, want string) {
			t.Helper()
			if st, msg, doc := pdo(output, ""); st != i2b2.Error || !strings.Contains(msg, want) || doc.Find("patient_data") != nil {
				t.Errorf("%s: %s %q, want ERROR containing %q and no data", what, st, msg, want)
			}
		}
		refused("DATA_AGG", all+`<observation_set blob="false" onlykeys="false"/>`, "patient_data")
		jsonPDO := func(blobs bool) warehouse.PDO {
			path := "/api/v1/projects/diab/queries/" + master + "/patients?limit=3&offset=5"
			if blobs {
				path += "&blobs=true"
			}
			code, body, _ := f.call("GET", path, bearer, "")
			var p warehouse.PDO
			if code != 200 || json.Unmarshal([]byte(body), &p) != nil {
				t.Fatalf("JSON patients: %d %.200s", code, body)
			}
			return p
		}
		for _, role := range []access.Role{access.DataLDS, access.DataDeid} {
			if err := f.svc.Grant(ctx, access.CLI("test"), "ann", "diab", role); err != nil {
				t.Fatal(err)
			}
			blob := role == access.DataDeid
			want := jsonPDO(blob)
			st, msg, doc := pdo(all+`<observation_set blob="`+map[bool]string{true: "true", false: "false"}[blob]+`" onlykeys="false"/>`, "")
			if st != i2b2.Done {
				t.Fatalf("%s: %s %s", role, st, msg)
			}
			obs := doc.Find("observation_set").Children("observation")
			pats := doc.Find("patient_set").Children("patient")
			if len(pats) != len(want.Patients) || len(obs) != len(want.Observations) || len(doc.Find("event_set").Children("event")) != len(want.Visits) || len(pats) == 0 {
				t.Errorf("%s: %d patients, %d observations; the JSON API %d, %d", role, len(pats), len(obs), len(want.Patients), len(want.Observations))
			}
			blobs, wantBlobs := 0, 0
			for _, o := range obs {
				if o.Child("observation_blob").Text() != "" {
					blobs++
				}
			}
			for _, o := range want.Observations {
				if s, _ := o["details"].(string); s != "" { // the API's name of observation_blob
					wantBlobs++
				}
			}
			if blobs != wantBlobs || blob != (wantBlobs > 0) {
				t.Errorf("%s: %d observation blobs, the JSON API %d", role, blobs, wantBlobs)
			}
			if role == access.DataLDS {
				if strings.Contains(doc.XML(), "_blob") {
					t.Errorf("DATA_LDS: a blob column in the answer")
				}
				var before, after int
				count := `SELECT COUNT(*) FROM audit_log WHERE action = 'access.refused' AND actor = 'ann'`
				db.QueryRowContext(ctx, count).Scan(&before)
				refused("blob for DATA_LDS", `<observation_set blob="true" onlykeys="false"/>`, "patient_blobs")
				if db.QueryRowContext(ctx, count).Scan(&after); after != before+1 {
					t.Errorf("the blob refusal is not audited")
				}
			}
		}
		// onlykeys: keys, no values.
		_, _, keys := pdo(`<observation_set blob="false" onlykeys="true"/>`, "")
		if o := keys.Find("observation"); o == nil || o.Child("concept_cd") == nil || o.Child("nval_num") != nil || o.Child("tval_char") != nil {
			t.Errorf("onlykeys: %v", o.XML())
		}
		// A filter panel: the observations of its concepts only.
		_, _, lab := pdo(`<observation_set blob="false" onlykeys="false"/>`, `<panel name="glucose"><panel_number>0</panel_number><item><item_key>\\steward\i2b2\Labs\LOINC\2345-7\</item_key></item></panel>`)
		got := lab.Find("observation_set")
		if got.Attr("panel_name") != "glucose" || len(got.Children("observation")) == 0 {
			t.Fatalf("filter: %d observations in %q", len(got.Children("observation")), got.Attr("panel_name"))
		}
		for _, o := range got.Children("observation") {
			if cd := o.Child("concept_cd").Text(); !strings.Contains(cd, "2345-7") {
				t.Errorf("filter: an observation of %s", cd)
			}
		}
		if st, msg, _ := f.i2b2Call(pdoPath, pdoMessage("ann", session, "diab", "qr-0000000000000000", "", `<observation_set/>`)); st != i2b2.Error || !strings.Contains(msg, "not found") {
			t.Errorf("an unknown patient set: %s %s", st, msg)
		}
	})
}
