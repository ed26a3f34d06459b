package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// warehouseFixture is the server with a small synthetic warehouse of north's and ann
// holding role in diab.
func warehouseFixture(t *testing.T, db *store.DB, role access.Role) (*fixture, string, string) {
	f, _ := loadedFixture(t, db, role, Options{})
	return f, f.signIn("ann", rootPW), f.signIn("root", rootPW)
}

// loadedFixture is the server with the warehouse loaded and ann holding role in diab.
func loadedFixture(t testing.TB, db *store.DB, role access.Role, o Options) (*fixture, *warehouse.Warehouse) {
	t.Helper()
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	o.Warehouse = warehouse.New(db, access.New(db, access.Config{}, nil), keys)
	f := newFixture(t, db, o)
	ctx := context.Background()
	if _, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: 5, Patients: 200, Ontology: true}.Inputs(), load.Options{Agency: "north"}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Grant(ctx, access.CLI("test"), "ann", "diab", role); err != nil {
		t.Fatal(err)
	}
	return f, o.Warehouse
}

const diabetesJSON = `{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\ICD10\\E\\E11\\"}]},{"items":[{"key":"\\i2b2\\Labs\\LOINC\\2345-7\\","value":{"op":"GT","number":120}}]}]}`

const diabetesXML = `<query_definition><query_name>dm</query_name><panel><panel_number>1</panel_number><invert>0</invert>
<item><item_key>\i2b2\Labs\LOINC\2345-7\</item_key><constrain_by_value><value_type>NUMBER</value_type><value_operator>GT</value_operator><value_constraint>120</value_constraint></constrain_by_value></item></panel>
<panel><panel_number>2</panel_number><item><item_key>\i2b2\Diagnoses\ICD10\E\E11\</item_key></item></panel></query_definition>`

func TestWarehouseAPIExactJSONAndXML(t *testing.T) {
	f, ann, _ := warehouseFixture(t, storetest.Open(t, store.SQLite), access.DataLDS)
	var a, x warehouse.Answer
	code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON)
	if code != 201 || json.Unmarshal([]byte(body), &a) != nil {
		t.Fatalf("JSON query: got %d %s, want 201", code, body)
	}
	code, body, _ = f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesXML, "Content-Type", "application/xml")
	if code != 201 || json.Unmarshal([]byte(body), &x) != nil {
		t.Fatalf("XML query: got %d %s, want 201", code, body)
	}
	if a.Count == 0 || a.Count != x.Count || a.Method != "" || len(a.Breakdowns["age"]) == 0 {
		t.Errorf("exact answers: JSON %d (method %q), XML %d; want the same non-zero exact count with breakdowns", a.Count, a.Method, x.Count)
	}
	code, body, _ = f.call("GET", "/api/v1/projects/diab/queries/"+a.QueryID+"/patients?limit=3", ann, "")
	var pdo warehouse.PDO
	if code != 200 || json.Unmarshal([]byte(body), &pdo) != nil || len(pdo.Patients) != 3 || pdo.Total != a.Count {
		t.Errorf("patients: got %d, %d patients of %d; want 200, 3 of %d", code, len(pdo.Patients), pdo.Total, a.Count)
	}
	if strings.Contains(body, "patient_blob") {
		t.Errorf("an LDS page holds blob columns")
	}
	if code, _, _ := f.call("GET", "/api/v1/projects/diab/queries/"+a.QueryID+"/patients?blobs=true", ann, ""); code != 403 {
		t.Errorf("blobs for DATA_LDS: got %d, want 403", code)
	}
	code, body, _ = f.call("GET", "/api/v1/projects/diab/concepts?parent=\\i2b2\\Diagnoses\\ICD10\\", ann, "")
	if code != 200 || !strings.Contains(body, `"path": "\\i2b2\\Diagnoses\\ICD10\\E\\"`) {
		t.Errorf("concepts: got %d %.200s, want the chapters", code, body)
	}
	if code, _, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, `{"panels":[]}`); code != 400 {
		t.Errorf("empty query: got %d, want 400", code)
	}
}

func TestWarehouseAPILockout(t *testing.T) {
	f, ann, root := warehouseFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc)
	var first warehouse.Answer
	for i := 1; i <= 14; i++ {
		code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON)
		want := 201
		if i > 7 {
			want = 423
		}
		if code != want {
			t.Fatalf("run %d: got %d %s, want %d", i, code, body, want)
		}
		var a warehouse.Answer
		json.Unmarshal([]byte(body), &a)
		if i == 1 {
			first = a
		} else if i <= 7 && (a.Count != first.Count || a.Budget == nil || a.Budget.Cost != 0) {
			t.Errorf("run %d: got %d costing %v, want the first answer %d at no cost (keyed noise)", i, a.Count, a.Budget, first.Count)
		}
		if i == 1 && (a.Method != "OBTOTAL" || a.Budget == nil || a.Budget.Cost == 0) {
			t.Errorf("obfuscated answer: method %q, budget %v; want OBTOTAL and a cost", a.Method, a.Budget)
		}
	}
	if code, _, _ := f.call("POST", "/api/v1/warehouse/lockouts/ann/unlock", ann, `{"reason":"it is me"}`); code != 403 {
		t.Errorf("self-unlock: got %d, want 403", code)
	}
	if code, body, _ := f.call("GET", "/api/v1/warehouse/lockouts", root, ""); code != 200 || !strings.Contains(body, `"user": "ann"`) {
		t.Errorf("lockouts: got %d %s", code, body)
	}
	if code, body, _ := f.call("POST", "/api/v1/warehouse/lockouts/ann/unlock", root, `{"reason":"spoke with ann about repeats"}`); code != 204 {
		t.Errorf("unlock: got %d %s, want 204", code, body)
	}
	if code, _, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON); code != 201 {
		t.Errorf("after unlock: got %d, want 201", code)
	}
}

func TestCohortPage(t *testing.T) {
	f, wh := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataAgg, Options{InsecureCookies: true})
	ctx := context.Background()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	post := func(path string, v url.Values) (int, string) {
		resp, err := client.PostForm(f.srv.URL+path, v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := post("/signin", url.Values{"user": {"ann"}, "password": {rootPW}}); code != 200 {
		t.Fatalf("sign in: %d", code)
	}
	resp, err := client.Get(f.srv.URL + "/projects/diab/cohort?parent=" + url.QueryEscape(`\i2b2\Diagnoses\ICD10\`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `Diseases of the circulatory system`) {
		t.Fatalf("concept tree: got %d, want the ICD-10 chapters", resp.StatusCode)
	}
	want, err := f.web.svc.Principal(ctx, "ann", "test")
	if err != nil {
		t.Fatal(err)
	}
	a, err := wh.Run(ctx, want, "diab", querydef.Query{Panels: []querydef.Panel{{Items: []querydef.Item{{Key: `\i2b2\Diagnoses\ICD10\E\`}}}}})
	if err != nil {
		t.Fatal(err)
	}
	code, body := post("/projects/diab/cohort", url.Values{"panel": {`\i2b2\Diagnoses\ICD10\E\`, "", ""}})
	if code != 200 || !strings.Contains(body, "Patients: <strong>"+a.Shown+"</strong>") {
		t.Errorf("answer on the page: got %d, want Patients: %s", code, a.Shown)
	}
	if code, body := post("/projects/diab/cohort", url.Values{"panel": {`\nowhere\`}}); code != 200 || !strings.Contains(body, "no concept at") {
		t.Errorf("unknown concept: got %d, want the error on the page", code)
	}
}

// Issue 9 through the API: in the site-wide project outcomes, ann (of north) reads north's
// data, which needs north's consent to a single-agency evaluation (or an approved ethics
// application). Refused before with 403, answered after with the basis, and the same count
// as north's own project gives.
func TestWarehouseAPIGovernanceGate(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	keys, err := seal.NewKeys([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	wh := warehouse.New(db, access.New(db, access.Config{}, nil), keys)
	f, g, _ := govFixture(t, db, Options{Warehouse: wh})
	ctx, cli := context.Background(), access.CLI("test")
	for _, err := range []error{
		func() error {
			_, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: 5, Patients: 200, Ontology: true}.Inputs(), load.Options{Agency: "north"})
			return err
		}(),
		func() error {
			_, err := load.Run(ctx, db, keys, synthetic.Warehouse{Seed: 6, First: 10000, Patients: 50}.Inputs(), load.Options{Agency: "river"})
			return err
		}(),
		f.svc.Grant(ctx, cli, "ann", "diab", access.DataAgg),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ann := f.signIn("ann", rootPW)
	code, body, _ := f.call("POST", "/api/v1/projects/outcomes/queries", ann, diabetesJSON)
	if code != 403 || !strings.Contains(body, "single-agency evaluation") {
		t.Fatalf("north's data in a site project without consent: got %d %s, want 403 saying what is missing", code, body)
	}
	dora, err := f.svc.Principal(ctx, "dora", "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := g.RecordConsent(ctx, dora, governance.Consent{Project: "outcomes", PartyKind: "agency", Party: "north", Consented: true}); err != nil {
		t.Fatal(err)
	}
	var site, own warehouse.Answer
	code, body, _ = f.call("POST", "/api/v1/projects/outcomes/queries", ann, diabetesJSON)
	if code != 201 || json.Unmarshal([]byte(body), &site) != nil || site.Governance == nil || site.Governance.SingleAgency != "north" {
		t.Fatalf("after north's consent: got %d %s, want 201 on north's single-agency basis", code, body)
	}
	code, body, _ = f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON)
	if code != 201 || json.Unmarshal([]byte(body), &own) != nil {
		t.Fatalf("north's own project: got %d %s", code, body)
	}
	if site.Count == 0 || site.Count != own.Count {
		t.Errorf("site project over north's data: %d patients, north's own project %d; want the same, non-zero", site.Count, own.Count)
	}
}
