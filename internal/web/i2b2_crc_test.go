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
			refusals := func() int {
				var n int
				db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'access.refused'`).Scan(&n)
				return n
			}
			before := refusals()
			if st, msg, _ := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getRequestXml_fromQueryMasterId", "master_requestType",
				"<query_master_id>"+a.QueryID+"</query_master_id>")); st != i2b2.Error || !strings.Contains(msg, "not asked through") || refusals() != before {
				t.Errorf("%s: request XML of a JSON query: %s %s, want ERROR, not counted as refused access", role, st, msg)
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

// TestI2B2CRCRefusals: each refusal the JSON API gives is an i2b2 ERROR status (in the
// response header and the CRC's own condition), with the JSON API's message, and audited: a
// role without counts, the repeated-query lockout of DATA_OBFSC, the governance gate, an
// element or result type Steward does not support, another user's queries, a session that
// may not query.
func TestI2B2CRCRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _ := loadedFixture(t, db, access.DataOfficer, Options{})
		ctx := context.Background()
		cli := access.CLI("test")
		audited := func(action string) int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND actor = 'ann'`, action).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		session := f.pmSignIn("ann", rootPW)
		refused := func(what, msg, want string) {
			t.Helper()
			st, got, doc := f.i2b2Call(crcPath, msg)
			cond := doc.Find("message_body").Find("condition")
			if st != i2b2.Error || !strings.Contains(got, want) || cond.Attr("type") != i2b2.Error || cond.Text() != got {
				t.Errorf("%s: %s %q (condition %s %q), want ERROR containing %q", what, st, got, cond.Attr("type"), cond.Text(), want)
			}
		}
		// A role off the track: no counts.
		before := audited("access.refused")
		refused("DATA_OFFICER", runMessage("ann", session, "diab", diabetesXML, "PATIENT_COUNT_XML"), "obfuscated_count")
		if audited("access.refused") != before+1 {
			t.Errorf("the role refusal is not audited")
		}
		// Not supported: a result type, an element, a request type.
		if err := f.svc.Grant(ctx, cli, "ann", "diab", access.DataObfsc); err != nil {
			t.Fatal(err)
		}
		refused("result type", runMessage("ann", session, "diab", diabetesXML, "PATIENT_LOS_XML"), "PATIENT_LOS_XML is not supported")
		refused("element", runMessage("ann", session, "diab", strings.Replace(diabetesXML, "<panel>", "<email>x@example.org</email><panel>", 1), "PATIENT_COUNT_XML"), "email")
		refused("request type", crcMessage("ann", session, "diab", "CRC_QRY_getPDO_fromSomewhere", "x", ""), "not supported")
		if n := audited("i2b2.refused"); n != 3 {
			t.Errorf("unsupported requests audited: %d, want 3", n)
		}
		refused("another user's queries", crcMessage("ann", session, "diab", "CRC_QRY_getQueryMasterList_fromUserId", "user_requestType", "<user_id>root</user_id>"), "your own queries")
		refused("no project", runMessage("ann", session, "", diabetesXML, "PATIENT_COUNT_XML"), "project_id")
		// The lockout: the 8th run of the same query is refused, as by the JSON API.
		for i := 1; i <= 7; i++ {
			if st, msg, _ := f.i2b2Call(crcPath, runMessage("ann", session, "diab", diabetesXML, "PATIENT_COUNT_XML")); st != i2b2.Done {
				t.Fatalf("run %d: %s %s", i, st, msg)
			}
		}
		refused("locked out", runMessage("ann", session, "diab", diabetesXML, "PATIENT_COUNT_XML"), "may not run queries")
		if audited("warehouse.lockout") != 1 || audited("warehouse.query_refused") != 1 {
			t.Errorf("lockout audited %d, refusal %d; want 1 and 1", audited("warehouse.lockout"), audited("warehouse.query_refused"))
		}
		bearer := f.signIn("ann", rootPW)
		if code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", bearer, diabetesXML, "Content-Type", "application/xml"); code != 423 {
			t.Errorf("JSON API after the i2b2 lockout: got %d %.100s, want 423", code, body)
		}
		// The governance gate: a project of the whole site reading north's data without an
		// approved ethics application.
		for _, err := range []error{
			f.svc.CreateProject(ctx, cli, access.Project{Code: "outcomes", Name: "Outcomes"}),
			f.svc.CreateUser(ctx, cli, access.User{Name: "sam"}, rootPW),
			f.svc.Grant(ctx, cli, "sam", "outcomes", access.DataAgg),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		sam := f.pmSignIn("sam", rootPW)
		st, msg, _ := f.i2b2Call(crcPath, runMessage("sam", sam, "outcomes", diabetesXML, "PATIENT_COUNT_XML"))
		code, body, _ := f.call("POST", "/api/v1/projects/outcomes/queries", f.signIn("sam", rootPW), diabetesXML, "Content-Type", "application/xml")
		var jsonErr struct{ Error string }
		json.Unmarshal([]byte(body), &jsonErr)
		if st != i2b2.Error || code != 403 || msg != jsonErr.Error || !strings.Contains(msg, "ethics") {
			t.Errorf("gate: i2b2 %s %q, JSON %d %q; want ERROR with the JSON API's 403 message naming the ethics application", st, msg, code, jsonErr.Error)
		}
		var gate int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'warehouse.gate_refused' AND actor = 'sam'`).Scan(&gate); err != nil || gate != 2 {
			t.Errorf("gate refusals audited: %d (%v), want 2", gate, err)
		}
		// A session token without the query scope may read but not run.
		secret, _, err := f.svc.CreateToken(ctx, mustPrincipal(t, f.svc, "ann"), "read only", 0, access.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		refused("read-only token", runMessage("ann", i2b2.SessionPrefix+secret, "diab", diabetesXML, "PATIENT_COUNT_XML"), "query scope")
	})
}

func mustPrincipal(t *testing.T, svc *access.Service, name string) access.Principal {
	t.Helper()
	p, err := svc.Principal(context.Background(), name, "test")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestI2B2ResultTypesAndWorkplace: what i2b2's web client asks when it starts — the result
// types (exactly those Steward gives) and the workplace's folders (none: Steward keeps no
// workplace, and saving to it is refused).
func TestI2B2ResultTypesAndWorkplace(t *testing.T) {
	f, _ := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc, Options{})
	session := f.pmSignIn("ann", rootPW)
	st, msg, doc := f.i2b2Call(crcPath, i2b2Envelope("ann", session, "diab", `<ns4:psmheader><user login="ann">ann</user><request_type>CRC_QRY_getResultType</request_type></ns4:psmheader>`))
	var names []string
	for _, n := range doc.Find("message_body").Find("response").Children("query_result_type") {
		names = append(names, n.Child("name").Text())
	}
	want := []string{"PATIENTSET", "PATIENT_COUNT_XML", "PATIENT_GENDER_COUNT_XML", "PATIENT_VITALSTATUS_COUNT_XML", "PATIENT_RACE_COUNT_XML", "PATIENT_AGE_COUNT_XML"}
	if st != i2b2.Done || strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("result types: %s %s %v, want %v", st, msg, names, want)
	}
	work := "/i2b2/services/WorkplaceService/"
	if st, _, doc := f.i2b2Call(work+"getFoldersByUserId", i2b2Envelope("ann", session, "diab", `<ns4:get_folders_by_userId type="core"/>`)); st != i2b2.Done || doc.Find("folders") == nil || len(doc.Find("folders").Kids) != 0 {
		t.Errorf("workplace folders: %s, want DONE and none", st)
	}
	if st, msg, _ := f.i2b2Call(work+"addChild", i2b2Envelope("ann", session, "diab", `<ns4:add_child/>`)); st != i2b2.Error || !strings.Contains(msg, "not kept") {
		t.Errorf("saving to the workplace: %s %s, want ERROR", st, msg)
	}
}

// TestI2B2RenameDeleteKeepTheRecord: rename and delete of a query master change what i2b2
// clients list, never what Steward keeps — the JSON API still lists the query under its own
// name, both changes are audited, and deleting each run does not evade DATA_OBFSC's lockout
// (the 8th run of the same query is refused however many were deleted).
func TestI2B2RenameDeleteKeepTheRecord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _ := loadedFixture(t, db, access.DataObfsc, Options{})
		session, bearer := f.pmSignIn("ann", rootPW), f.signIn("ann", rootPW)
		run := func() (string, string) {
			t.Helper()
			st, msg, doc := f.i2b2Call(crcPath, runMessage("ann", session, "diab", diabetesXML, "PATIENT_COUNT_XML"))
			return st + " " + msg, doc.Find("query_master").Child("query_master_id").Text()
		}
		list := func() []string {
			t.Helper()
			_, _, doc := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_getQueryMasterList_fromUserId", "user_requestType", "<user_id>ann</user_id>"))
			var out []string
			for _, m := range doc.Find("message_body").Find("response").Children("query_master") {
				out = append(out, m.Child("query_master_id").Text()+"="+m.Child("name").Text())
			}
			return out
		}
		_, first := run()
		if st, msg, doc := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_renameQueryMaster", "master_rename_requestType",
			"<user_id>ann</user_id><query_master_id>"+first+"</query_master_id><query_name>glucose cohort</query_name>")); st != i2b2.Done || doc.Find("query_master").Child("name").Text() != "glucose cohort" {
			t.Fatalf("rename: %s %s", st, msg)
		}
		if got := list(); len(got) != 1 || got[0] != first+"=glucose cohort" {
			t.Errorf("after the rename: %v", got)
		}
		for i := 2; i <= 7; i++ {
			if st, id := run(); !strings.HasPrefix(st, "DONE") {
				t.Fatalf("run %d: %s", i, st)
			} else if st, msg, _ := f.i2b2Call(crcPath, crcMessage("ann", session, "diab", "CRC_QRY_deleteQueryMaster", "master_delete_requestType",
				"<user_id>ann</user_id><query_master_id>"+id+"</query_master_id>")); st != i2b2.Done {
				t.Fatalf("delete %d: %s %s", i, st, msg)
			}
		}
		if got := list(); len(got) != 1 {
			t.Errorf("after 6 deletes: %v, want the renamed query only", got)
		}
		if st, _ := run(); !strings.HasPrefix(st, "ERROR") || !strings.Contains(st, "may not run queries") {
			t.Errorf("the 8th run after deleting 6: %s, want the lockout", st)
		}
		code, body, _ := f.call("GET", "/api/v1/projects/diab/queries", bearer, "")
		var as []warehouse.Answer
		if code != 200 || json.Unmarshal([]byte(body), &as) != nil || len(as) != 7 || as[len(as)-1].Name != "dm" {
			t.Errorf("JSON API after i2b2's rename and deletes: %d, %d queries; want all 7, the first named dm", code, len(as))
		}
		var n int
		db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action IN ('i2b2.rename', 'i2b2.delete') AND actor = 'ann'`).Scan(&n)
		if n != 7 {
			t.Errorf("renames and deletes audited: %d, want 7", n)
		}
	})
}
