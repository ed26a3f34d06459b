package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
	"github.com/stewardhealth/steward/internal/web"
)

// TestDemoServesItsWarehouse follows what `steward demo` prints: serve its store, sign in with
// the printed password, and count a cohort. Ana (North clinic) counts North's patients and
// Rita (River hospital) River's — each as the generated rows say, computed here — and Rita
// does not see North's project.
func TestDemoServesItsWarehouse(t *testing.T) {
	const patients = 200 // north 1…80, south 81…140, river 141…200
	dir := filepath.Join(t.TempDir(), "demo")
	out, err := steward(t, "demo", "--dir", dir, "--warehouse-patients", "200")
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	path := filepath.Join(dir, "steward.db")
	if !strings.Contains(out, "steward serve --db "+path) {
		t.Errorf("the demo does not print the serve command for %s:\n%s", path, out)
	}
	m := regexp.MustCompile(`all with the password (demo-[0-9a-f]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the demo does not print the users' password:\n%s", out)
	}
	password := m[1]

	// What serve does with the store.
	ctx := context.Background()
	svc, done, err := openAccess(ctx, path, access.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	// Issue 18: a director with an e-mail address, so that locks and refused access are
	// mailed from the first run; and the store's audit log is keyed from its first entry.
	var directors int
	svc.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE director AND email <> ''`).Scan(&directors)
	if directors != 1 || !strings.Contains(out, "dora") {
		t.Errorf("the demo's directors with an e-mail address: got %d (dora printed: %v), want 1", directors, strings.Contains(out, "dora"))
	}
	if got, err := steward(t, "audit", "verify", "--db", path); err != nil || !strings.Contains(got, "keyed with the server key") || strings.Contains(got, "from before the key") {
		t.Errorf("audit verify of the demo's store: %v\n%s\nwant every entry keyed", err, got)
	}
	w := serveWarehouse(svc, path)
	if w == nil {
		t.Fatal("the server finds no warehouse key beside the demo's store")
	}
	w.Gate = governance.New(svc.DB, governance.Config{})
	srv := httptest.NewServer(web.New(svc, web.Options{Warehouse: w, Governance: w.Gate}).Handler())
	defer srv.Close()

	query := `{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\ICD10\\E\\"}]}]}`
	count := func(user, project string) (int, int64) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/api/v1/signin", "application/json", strings.NewReader(`{"user":"`+user+`","password":"`+password+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		var tok struct{ Token string }
		json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		if tok.Token == "" {
			t.Fatalf("sign-in of %s with the printed password: status %d", user, resp.StatusCode)
		}
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/projects/"+project+"/queries", strings.NewReader(query))
		req.Header.Set("Authorization", "Bearer "+tok.Token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var a warehouse.Answer
		json.Unmarshal(b, &a)
		return resp.StatusCode, a.Count
	}
	// The patients with an endocrine diagnosis, from the generated rows.
	want := func(first, n int64) int64 {
		seen := map[int64]bool{}
		for _, in := range (synthetic.Warehouse{Seed: synthetic.DemoSeed, First: first, Patients: n}).Inputs() {
			if in.Table != "observation_fact" {
				continue
			}
			for {
				r, err := in.Source.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if strings.HasPrefix(r[2].(string), "ICD10:E") {
					seen[r[1].(int64)] = true
				}
			}
		}
		return int64(len(seen))
	}
	north, river := want(0, patients*40/100), want(patients*70/100, patients*30/100)
	if north == 0 || river == 0 || north == river {
		t.Fatalf("north %d, river %d: the query does not tell the agencies apart", north, river)
	}
	if status, got := count("ana", "north-diabetes"); status != http.StatusCreated || got != north {
		t.Errorf("ana in north-diabetes: status %d, count %d; want 201 and North's %d", status, got, north)
	}
	if status, got := count("rita", "river-diabetes"); status != http.StatusCreated || got != river {
		t.Errorf("rita in river-diabetes: status %d, count %d; want 201 and River's %d", status, got, river)
	}
	if status, _ := count("rita", "north-diabetes"); status != http.StatusNotFound {
		t.Errorf("rita in north-diabetes: status %d, want 404", status)
	}
	if !bytes.Contains([]byte(out), []byte("north  North clinic")) {
		t.Errorf("the demo does not list its agencies:\n%s", out)
	}
}
