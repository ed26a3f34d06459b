package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// Issue 16's data validator through the API: the review setting (administrators change it,
// audited; others refused), a staged batch invisible to an analyst's count and patient-level
// read until the validator approves it, a review in the API's vocabulary (no table or column
// names, no sealed values), and the analyst refused the validator's routes.
func TestValidatorBatchesAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, wh := loadedFixture(t, db, access.DataLDS, Options{})
		ctx := context.Background()
		cli := access.CLI("test")
		if err := f.svc.CreateUser(ctx, cli, access.User{Name: "val", Agency: "north"}, rootPW); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Grant(ctx, cli, "val", "diab", access.DataValidator); err != nil {
			t.Fatal(err)
		}
		ann, val, root := f.signIn("ann", rootPW), f.signIn("val", rootPW), f.signIn("root", rootPW)

		if code, _, _ := f.call("PUT", "/api/v1/warehouse/review", ann, `{"required":true,"reason":"seed 003 asks for it"}`); code != 403 {
			t.Errorf("review setting changed by an analyst: got %d, want 403", code)
		}
		if code, body, _ := f.call("PUT", "/api/v1/warehouse/review", root, `{"required":true,"reason":"seed 003 asks for it"}`); code != 200 {
			t.Fatalf("review setting: got %d %s", code, body)
		}
		if code, body, _ := f.call("GET", "/api/v1/warehouse/review", ann, ""); code != 200 || strings.Join(strings.Fields(body), "") != `{"required":true}` {
			t.Errorf("review setting read back: got %d %s", code, body)
		}

		count := func() (int64, int64) {
			t.Helper()
			var a warehouse.Answer
			code, body, _ := f.call("POST", "/api/v1/projects/diab/queries", ann, diabetesJSON)
			if code != 201 || json.Unmarshal([]byte(body), &a) != nil {
				t.Fatalf("query: got %d %s", code, body)
			}
			var pdo warehouse.PDO
			code, body, _ = f.call("GET", "/api/v1/projects/diab/queries/"+a.QueryID+"/patients?limit=1000", ann, "")
			if code != 200 || json.Unmarshal([]byte(body), &pdo) != nil {
				t.Fatalf("patients: got %d %s", code, body)
			}
			return a.Count, pdo.Total
		}
		c0, p0 := count()
		var in []load.Input
		for _, x := range (synthetic.Warehouse{Seed: 6, First: 500000, Patients: 150}).Inputs() {
			switch x.Table {
			case "patient_dimension", "visit_dimension", "observation_fact", "patient_identity":
				in = append(in, x)
			}
		}
		r, err := load.RunBatch(ctx, db, wh.Keys, in, load.Options{Agency: "north", Review: true, By: "loader"})
		if err != nil {
			t.Fatal(err)
		}
		if c, p := count(); c != c0 || p != p0 {
			t.Errorf("pending batch: analyst counts %d and reads %d patients, want %d and %d as without it", c, p, c0, p0)
		}
		path := fmt.Sprintf("/api/v1/projects/diab/batches/%d", r.Batch)
		if code, _, _ := f.call("GET", path, ann, ""); code != 403 {
			t.Errorf("analyst reviewing: got %d, want 403", code)
		}
		if code, _, _ := f.call("POST", path+"/approve", ann, `{"reason":"I want my data"}`); code != 403 {
			t.Errorf("analyst approving: got %d, want 403", code)
		}
		code, body, _ := f.call("GET", path+"?sample=2", val, "")
		if code != 200 || !strings.Contains(body, `"patients"`) || !strings.Contains(body, "(sealed)") {
			t.Fatalf("review: got %d %.400s", code, body)
		}
		for _, name := range []string{"patient_dimension", "observation_fact", "patient_num", "patient_blob", "chart summary"} {
			if strings.Contains(body, name) {
				t.Errorf("review names %q", name)
			}
		}
		var bs []warehouse.Batch
		if code, body, _ := f.call("GET", "/api/v1/projects/diab/batches", val, ""); code != 200 || json.Unmarshal([]byte(body), &bs) != nil || len(bs) != 2 || bs[0].Status != load.Pending {
			t.Errorf("batches: got %d %.300s", code, body)
		}
		// A script's token with the export scope decides, as the validator.
		code, body, _ = f.call("POST", "/api/v1/tokens", val, `{"label":"validation script","scopes":["read","export"]}`)
		var tk struct{ Token string }
		if code != 201 || json.Unmarshal([]byte(body), &tk) != nil || tk.Token == "" {
			t.Fatalf("export token: got %d %s", code, body)
		}
		if code, body, _ := f.call("POST", path+"/approve", tk.Token, `{"reason":"counts match the sender's"}`); code != 200 || !strings.Contains(body, `"approved"`) {
			t.Fatalf("approve: got %d %s", code, body)
		}
		if c, p := count(); c <= c0 || p != c {
			t.Errorf("approved batch: analyst counts %d (before %d), reads %d patients; want more, all readable", c, c0, p)
		}
		if code, _, _ := f.call("POST", path+"/reject", val, `{"reason":"too late now"}`); code != 409 {
			t.Errorf("rejecting an approved batch: got %d, want 409", code)
		}
	})
}
