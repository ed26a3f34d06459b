package web

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
)

// TestI2B2CRCAnswersAsTheJSONAPI: for every role of the track, the CRC cell's
// runQueryInstance_fromQueryDefinition gives the set size and obfuscation method the JSON API
// gives for the same query definition — obfuscated (OBTOTAL, breakdowns OBSUBTOTAL) for
// DATA_OBFSC, exact above — and the breakdowns asked for, only those, with the JSON API's
// cells. The previous queries then list, and their instance, results, request XML and
// breakdown documents read back as told.
func TestI2B2CRCAnswersAsTheJSONAPI(t *testing.T) {
	// Every diagnosis: a count above the obfuscation threshold, so that DATA_OBFSC sees
	// breakdowns too.
	broad := `<query_definition><query_name>any diagnosis</query_name><panel><panel_number>1</panel_number>
<item><item_key>\i2b2\Diagnoses\</item_key></item></panel></query_definition>`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _ := loadedFixture(t, db, access.DataObfsc, Options{})
		ctx := context.Background()
		bearer := f.signIn("ann", rootPW)
		session := f.pmSignIn("ann", rootPW)
		for _, role := range access.Track {
			if err := f.svc.Grant(ctx, access.CLI("test"), "ann", "diab", role); err != nil {
				t.Fatal(err)
			}
			var a warehouse.Answer
			code, body, _ := f.call("POST", "/api/v1/projects/diab/queries?breakdowns=sex,age", bearer, broad, "Content-Type", "application/xml")
			if code != 201 || json.Unmarshal([]byte(body), &a) != nil {
				t.Fatalf("%s: JSON API: got %d %.200s", role, code, body)
			}
			st, msg, doc := f.i2b2Call(crcPath, runMessage("ann", session, "diab", broad, "PATIENT_COUNT_XML", "PATIENT_GENDER_COUNT_XML", "PATIENT_AGE_COUNT_XML"))
			if st != i2b2.Done {
				t.Fatalf("%s: run: %s %s", role, st, msg)
			}
			rs := resultInstances(doc)
			count := rs["PATIENT_COUNT_XML"]
			if count == nil || count.Child("set_size").Text() != jsonInt(a.Count) || count.Child("obfuscate_method").Text() != a.Method {
				t.Fatalf("%s: count result %v, want set_size %d and obfuscate_method %q as the JSON API", role, count.XML(), a.Count, a.Method)
			}
			wantMethod, wantSub := "", ""
			if role == access.DataObfsc {
				wantMethod, wantSub = "OBTOTAL", "OBSUBTOTAL"
			}
			if a.Method != wantMethod {
				t.Errorf("%s: method %q, want %q", role, a.Method, wantMethod)
			}
			if len(rs) != 3 || rs["PATIENT_RACE_COUNT_XML"] != nil {
				t.Errorf("%s: result types %v, want the count, gender and age only (as asked)", role, typesOf(rs))
			}
			for typ, dim := range map[string]string{"PATIENT_GENDER_COUNT_XML": "sex", "PATIENT_AGE_COUNT_XML": "age"} {
				r := rs[typ]
				if r == nil {
					t.Fatalf("%s: no %s", role, typ)
				}
				if m := r.Child("obfuscate_method").Text(); m != wantSub {
					t.Errorf("%s: %s method %q, want %q", role, typ, m, wantSub)
				}
				ds, dm, ddoc := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getResultDocument_fromResultInstanceId", "result_requestType",
					"<query_result_instance_id>"+r.Child("result_instance_id").Text()+"</query_result_instance_id>"))
				if ds != i2b2.Done {
					t.Fatalf("%s: result document %s: %s %s", role, typ, ds, dm)
				}
				if got := documentCells(t, ddoc); !maps.Equal(got, a.Breakdowns[dim]) || len(got) == 0 {
					t.Errorf("%s: %s cells %v, want the JSON API's %v", role, typ, got, a.Breakdowns[dim])
				}
			}
			master := doc.Find("query_master").Child("query_master_id").Text()
			instance := doc.Find("query_instance").Child("query_instance_id").Text()

			// Previous queries: both runs, newest first.
			_, _, list := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getQueryMasterList_fromUserId", "user_requestType",
				"<user_id>ann</user_id><group_id>diab</group_id><fetch_size>2</fetch_size>"))
			var ids []string
			for _, m := range list.Find("response").Find("message_body").Find("response").Children("query_master") {
				ids = append(ids, m.Child("query_master_id").Text())
			}
			if len(ids) != 2 || ids[0] != master || ids[1] != a.QueryID {
				t.Errorf("%s: query masters %v, want [%s %s]", role, ids, master, a.QueryID)
			}
			_, _, inst := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getQueryInstanceList_fromQueryMasterId", "master_requestType",
				"<query_master_id>"+master+"</query_master_id>"))
			if got := inst.Find("query_instance"); got.Child("query_instance_id").Text() != instance || got.Find("query_status_type").Child("name").Text() != "COMPLETED" {
				t.Errorf("%s: instance list %s, want %s COMPLETED", role, got.XML(), instance)
			}
			_, _, res := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getQueryResultInstanceList_fromQueryInstanceId", "instance_requestType",
				"<query_instance_id>"+instance+"</query_instance_id>"))
			again := resultInstances(res)
			if len(again) != 3 || again["PATIENT_COUNT_XML"].Child("set_size").Text() != jsonInt(a.Count) {
				t.Errorf("%s: result list %v, want the three results with the count told", role, typesOf(again))
			}
			_, _, rx := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getRequestXml_fromQueryMasterId", "master_requestType",
				"<query_master_id>"+master+"</query_master_id>"))
			if def := rx.Find("request_xml").Find("query_definition"); def == nil || !strings.Contains(def.XML(), `<item_key>\i2b2\Diagnoses\</item_key>`) {
				t.Errorf("%s: request XML %.300s, want the query definition asked", role, rx.Find("request_xml").XML())
			}
			if st, msg, _ := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getRequestXml_fromQueryMasterId", "master_requestType",
				"<query_master_id>"+a.QueryID+"</query_master_id>")); st != i2b2.Error || !strings.Contains(msg, "not asked through") {
				t.Errorf("%s: request XML of a JSON query: %s %s, want ERROR", role, st, msg)
			}
		}
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func typesOf(m map[string]*i2b2.Node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
