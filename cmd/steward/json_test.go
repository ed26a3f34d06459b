package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/azure"
	"github.com/stewardhealth/steward/internal/transfer/azure/azuritetest"
	"github.com/stewardhealth/steward/internal/transfer/s3/s3test"
	"github.com/stewardhealth/steward/internal/version"
)

// stewardJSON runs the command line as main does and returns the exit status, stdout and
// stderr apart: a script parses stdout alone.
func stewardJSON(t *testing.T, args ...string) (int, []byte, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := execute(context.Background(), newRoot(), args, &out, &errb)
	return code, out.Bytes(), errb.String()
}

// decode parses b as exactly one JSON object into v.
func decode(t *testing.T, what string, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s --json: %v\n%s", what, err, b)
	}
	if dec.More() {
		t.Fatalf("%s --json printed more than one object:\n%s", what, b)
	}
}

// deid run --json and deid verify --json print one object a script can read: the run's
// tables and rows, the checks and their verdict, passing and failing (exit 1 still).
func TestDeidRunAndVerifyJSON(t *testing.T) {
	dir := t.TempDir()
	demo := filepath.Join(dir, "demo")
	if out, err := steward(t, "demo", "--dir", demo, "--warehouse-patients", "0"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	key := filepath.Join(dir, "k")
	os.WriteFile(key, []byte(strings.Repeat("cd", 32)+"\n"), 0o600)
	pol, orig := filepath.Join(demo, "policy.yaml"), "sqlite:"+filepath.Join(demo, "hospital.db")
	target := filepath.Join(dir, "copy.db")
	var sc scanResult
	scanned := filepath.Join(dir, "scanned.yaml")
	if code, out, stderr := stewardJSON(t, "deid", "scan", "--json", "--source", orig, "--out", scanned); code != 0 {
		t.Fatalf("deid scan --json: exit %d\n%s", code, stderr)
	} else {
		decode(t, "deid scan", out, &sc)
	}
	cols, transformed, mrn := 0, 0, ""
	for _, tb := range sc.Tables {
		for _, c := range tb.Columns {
			cols++
			if c.Rule != "keep" {
				transformed++
			}
			if tb.Name == "patient" && c.Name == "mrn" {
				mrn = c.Rule
			}
		}
	}
	if st, err := os.Stat(scanned); err != nil || st.Size() == 0 || sc.Policy != scanned {
		t.Errorf("deid scan --json wrote no policy at %s: %v", scanned, err)
	}
	if cols != sc.Columns || transformed != sc.Transformed || sc.Columns == 0 || mrn == "" || mrn == "keep" || len(sc.Tables) < 5 {
		t.Errorf("deid scan --json: %d columns (%d listed), %d transformed (%d listed), patient.mrn %q", sc.Columns, cols, sc.Transformed, transformed, mrn)
	}
	if code, _, stderr := stewardJSON(t, "deid", "scan", "--json", "--source", orig); code != exitBadInput || !strings.Contains(stderr, "--out") {
		t.Errorf("deid scan --json without --out: exit %d %s, want 2", code, stderr)
	}
	var fit struct {
		Policy, Source               string
		Fits                         bool
		Tables, Columns, Transformed int
	}
	if code, out, stderr := stewardJSON(t, "deid", "check", "--json", "--policy", pol, "--source", orig); code != 0 {
		t.Fatalf("deid check --json: exit %d\n%s", code, stderr)
	} else if decode(t, "deid check", out, &fit); !fit.Fits || fit.Tables < 5 || fit.Columns <= fit.Transformed || fit.Transformed == 0 || fit.Policy != pol {
		t.Errorf("deid check --json = %+v", fit)
	}
	code, out, stderr := stewardJSON(t, "deid", "run", "--json", "--policy", pol, "--source", orig, "--target", "sqlite:"+target, "--key-file", key)
	if code != 0 {
		t.Fatalf("deid run --json: exit %d\n%s", code, stderr)
	}
	var run struct {
		Steward, Mode, Source, Target, KeyFingerprint, PolicyDigest, Run, WorkDir string
		Dictionary                                                                int
		Warnings                                                                  []string
		Tables                                                                    []struct {
			Name       string
			Rows       int64
			Skipped    bool
			Rules      map[string][]string
			Collisions map[string]int64
			Elapsed    int64
		}
		Elapsed, Clearing int64
	}
	decode(t, "deid run", out, &run)
	var patients int64 = -1
	for _, tb := range run.Tables {
		if tb.Name == "patient" {
			patients = tb.Rows
		}
	}
	db, err := sql.Open("sqlite", target)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM patient").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if run.Steward != version.String() || run.Mode == "" || len(run.Tables) < 5 || patients != n || run.Run == "" {
		t.Errorf("deid run --json: steward %q, mode %q, %d tables, patient rows %d (the copy holds %d), run %q", run.Steward, run.Mode, len(run.Tables), patients, n, run.Run)
	}

	type check struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Findings int64  `json:"findings"`
	}
	var rep struct {
		Steward  string  `json:"steward_version"`
		Passed   bool    `json:"passed"`
		Verdict  string  `json:"verdict"`
		Checks   []check `json:"checks"`
		Findings []struct {
			Check, Table, Column string
		} `json:"findings"`
	}
	verifyJSON := func() int {
		code, out, stderr := stewardJSON(t, "deid", "verify", "--json", "--policy", pol, "--source", orig, "--target", "sqlite:"+target)
		if err := json.Unmarshal(out, &rep); err != nil {
			t.Fatalf("deid verify --json: %v\n%s\n%s", err, out, stderr)
		}
		return code
	}
	failed := func() (n int) {
		for _, c := range rep.Checks {
			if c.Status == "failed" {
				n++
			}
		}
		return n
	}
	// The demo's copy passes every check but one marked for review (small k-anonymity groups).
	if code := verifyJSON(); code != 0 || failed() != 0 || len(rep.Checks) != 6 || rep.Steward != version.String() || rep.Verdict == "" {
		t.Errorf("verify --json of a good copy: exit %d, %d failed of %d checks, steward %q", code, failed(), len(rep.Checks), rep.Steward)
	}
	var surname string
	src, _ := sql.Open("sqlite", filepath.Join(demo, "hospital.db"))
	defer src.Close()
	if err := src.QueryRow("SELECT last_name FROM patient ORDER BY id LIMIT 1").Scan(&surname); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE bed SET label = ? WHERE id = 1", surname); err != nil {
		t.Fatal(err)
	}
	rep.Findings, rep.Passed = nil, true
	code = verifyJSON()
	found := false
	for _, f := range rep.Findings {
		found = found || f.Table == "bed" && f.Column == "label"
	}
	if code != 1 || rep.Passed || failed() == 0 || !found {
		t.Errorf("verify --json of a copy with a planted surname: exit %d, passed %v, findings %+v; want 1, false, bed.label", code, rep.Passed, rep.Findings)
	}
}

// disclosure check --json: the verdict, the hidden cells with their reasons, where the
// released table went; a refused file is an object too, with exit 1.
func TestDisclosureCheckJSON(t *testing.T) {
	corpus := "../../internal/disclosure/testdata/corpus/"
	out := filepath.Join(t.TempDir(), "released.csv")
	type result struct {
		File     string   `json:"file"`
		Verdict  string   `json:"verdict"`
		Outright bool     `json:"outright"`
		Reasons  []string `json:"reasons"`
		Cells    int      `json:"cells"`
		Hidden   []struct {
			Cell     string `json:"cell"`
			Findings []struct{ Rule, Reason string }
		} `json:"hidden"`
		Released   string                          `json:"released"`
		Unverified []struct{ Rule, Reason string } `json:"unverified"`
	}
	var r result
	code, b, stderr := stewardJSON(t, "disclosure", "check", "--json", corpus+"cell_30_persons/table.csv", "--meta", corpus+"cell_30_persons/meta.json", "--out", out)
	decode(t, "disclosure check", b, &r)
	if code != 0 || r.Verdict != "suppressed" || r.Cells != 3 || len(r.Hidden) != 2 || r.Released != out || r.Hidden[0].Cell != "age_band=0-17" {
		t.Errorf("suppressed table: exit %d %s, got %+v", code, stderr, r)
	}
	if len(r.Unverified) == 0 || r.Unverified[0].Rule != "projects" {
		t.Errorf("a checked file's declared contributors: got unverified %+v, want the projects rule", r.Unverified)
	}
	if st, err := os.Stat(out); err != nil || st.Size() == 0 {
		t.Errorf("the released table was not written: %v", err)
	}
	r = result{}
	code, b, stderr = stewardJSON(t, "disclosure", "check", "--json", corpus+"row_per_person/table.csv", "--meta", corpus+"row_per_person/meta.json")
	decode(t, "disclosure check", b, &r)
	if code != 1 || r.Verdict != "refused" || !r.Outright || len(r.Reasons) == 0 || !strings.Contains(stderr, "refused") {
		t.Errorf("row-per-person table: exit %d, %+v, stderr %q; want 1, refused outright", code, r, stderr)
	}
}

// transfer status --json lists every recorded grant with its state, from the records alone.
func TestTransferStatusJSON(t *testing.T) {
	home := t.TempDir()
	t.Setenv("STEWARD_HOME", home)
	type status struct {
		Dir    string `json:"dir"`
		Grants []struct {
			ID        string    `json:"id"`
			Kind      string    `json:"kind"`
			State     string    `json:"state"`
			Where     string    `json:"where"`
			Created   time.Time `json:"created"`
			Expiry    time.Time `json:"expiry"`
			Revoked   time.Time `json:"revoked"`
			Confirmed time.Time `json:"confirmed"`
			Proof     string    `json:"proof"`
			Note      string    `json:"note"`
		} `json:"grants"`
	}
	var s status
	code, b, _ := stewardJSON(t, "transfer", "status", "--json")
	decode(t, "transfer status", b, &s)
	if code != 0 || s.Grants == nil || len(s.Grants) != 0 {
		t.Fatalf("no grants: exit %d, %s; want an empty list", code, b)
	}
	l := ledger()
	now := time.Now().UTC().Truncate(time.Second)
	for _, g := range []*azure.Grant{
		{Record: transfer.Record{ID: "sg-00000000000000a1", Created: now.Add(-time.Hour), Expiry: now.Add(time.Hour)}, Account: "acme", Container: "live"},
		{Record: transfer.Record{ID: "sg-00000000000000b2", Created: now.Add(-3 * time.Hour), Expiry: now.Add(-time.Hour)}, Account: "acme", Container: "old"},
		{Record: transfer.Record{ID: "sg-00000000000000c3", Created: now.Add(-time.Hour), Expiry: now.Add(time.Hour), Revoked: now, Confirmed: now}, Account: "acme", Container: "done"},
	} {
		if err := l.Save(g); err != nil {
			t.Fatal(err)
		}
	}
	s = status{}
	code, b, _ = stewardJSON(t, "transfer", "status", "--json")
	decode(t, "transfer status", b, &s)
	got := map[string]string{}
	for _, g := range s.Grants {
		got[g.ID] = g.State + " " + g.Kind + " " + g.Where
	}
	want := map[string]string{
		"sg-00000000000000a1": "live azure azure://acme/live",
		"sg-00000000000000b2": "expired azure azure://acme/old",
		"sg-00000000000000c3": "confirmed azure azure://acme/done",
	}
	if code != 0 || len(got) != 3 || s.Dir != filepath.Join(home, "grants") {
		t.Fatalf("status --json: exit %d, %s", code, b)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
}

// transfer grant --json: the grant's record and its token file, the token itself only with
// --show-token; status --json then lists it live.
func TestTransferGrantJSON(t *testing.T) {
	s := transferEnv(t)
	grant := func(extra ...string) map[string]any {
		t.Helper()
		args := append([]string{"transfer", "grant", "--json", "--account", azuritetest.Account, "--container", "json" + strings.Repeat("x", len(extra)),
			"--client-ip", "127.0.0.1", "--duration", "1h", "--margin", "30m", "--endpoint", s.Endpoint}, extra...)
		code, b, stderr := stewardJSON(t, args...)
		if code != 0 {
			t.Fatalf("grant --json: exit %d\n%s", code, stderr)
		}
		var g map[string]any
		decode(t, "transfer grant", b, &g)
		return g
	}
	g := grant()
	id, _ := g["id"].(string)
	if !strings.HasPrefix(id, "sg-") || g["container"] != "json" || g["ip_range"] != "127.0.0.1" || g["permissions"] != "rcw" || g["token_file"] != filepath.Join(os.Getenv("STEWARD_HOME"), "grants", id+".sas") {
		t.Errorf("grant --json = %v", g)
	}
	if _, ok := g["token"]; ok {
		t.Errorf("grant --json shows the token without --show-token")
	}
	tf, _ := os.ReadFile(g["token_file"].(string))
	if azure.ParseTokenFile(tf).Token == "" {
		t.Errorf("no token in %s", g["token_file"])
	}
	if g := grant("--show-token"); !strings.Contains(g["token"].(string), "sig=") {
		t.Errorf("grant --json --show-token: no token in %v", g)
	}
	code, b, _ := stewardJSON(t, "transfer", "status", "--json")
	var st struct {
		Grants []struct{ ID, State string }
	}
	json.Unmarshal(b, &st)
	live := false
	for _, x := range st.Grants {
		live = live || x.ID == id && x.State == "live"
	}
	if code != 0 || len(st.Grants) != 2 || !live {
		t.Errorf("status --json after two grants: exit %d, %s", code, b)
	}
}

// backup, backup list and backup restore --json: the backup's record (set, tables, rows,
// checksums) a script can compare, the same backup in each.
func TestBackupJSON(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("STEWARD_HOME", dir)
	db := filepath.Join(dir, "steward.db")
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("a long password\n"), 0o600)
	if out, err := steward(t, "admin", "bootstrap", "root", "--password-file", pw, "--db", db); err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, out)
	}
	type table struct {
		Name     string `json:"name"`
		Rows     int64  `json:"rows"`
		Checksum string `json:"checksum"`
	}
	type rec struct {
		Dir      string    `json:"dir"`
		Name     string    `json:"name"`
		Set      string    `json:"set"`
		Taken    time.Time `json:"taken"`
		Dialect  string    `json:"dialect"`
		File     string    `json:"file"`
		Tables   []table   `json:"tables"`
		Verified time.Time `json:"verified"`
		Rows     int64     `json:"rows"`
	}
	var took rec
	code, b, stderr := stewardJSON(t, "backup", "--json", "--db", db)
	if code != 0 {
		t.Fatalf("backup --json: exit %d\n%s", code, stderr)
	}
	if err := json.Unmarshal(b, &took); err != nil {
		t.Fatalf("backup --json: %v\n%s", err, b)
	}
	var sum int64
	users := int64(-1)
	for _, tb := range took.Tables {
		sum += tb.Rows
		if tb.Name == "users" {
			users = tb.Rows
		}
	}
	if took.Set != "monthly" || took.Dialect != "sqlite" || took.Rows != sum || users != 1 || took.Verified.IsZero() || filepath.Dir(took.Dir) != filepath.Join(dir, "backups") {
		t.Errorf("backup --json: %+v (users %d)", took, users)
	}
	var list struct {
		Dir     string `json:"dir"`
		Backups []rec  `json:"backups"`
	}
	code, b, _ = stewardJSON(t, "backup", "list", "--json")
	decode(t, "backup list", b, &list)
	if code != 0 || len(list.Backups) != 1 || list.Backups[0].Name != took.Name || list.Backups[0].Rows != took.Rows || list.Backups[0].Dir != took.Dir {
		t.Errorf("backup list --json: %s", b)
	}
	var restored struct {
		rec
		Restored       string `json:"restored"`
		KeyCopiedTo    string `json:"server_key_copied_to"`
		ChecksumsEqual bool   `json:"checksums_equal"`
	}
	target := filepath.Join(dir, "restored.db")
	code, b, stderr = stewardJSON(t, "backup", "restore", "--json", took.Dir, "--db", target)
	if code != 0 {
		t.Fatalf("backup restore --json: exit %d\n%s", code, stderr)
	}
	decode(t, "backup restore", b, &restored)
	if !restored.ChecksumsEqual || restored.Name != took.Name || restored.Rows != took.Rows || restored.Restored != target || restored.KeyCopiedTo != serverKeyPath(target) {
		t.Errorf("backup restore --json: %s", b)
	}
}

// transfer confirm --json: each file's check and the grant's state after, for a good upload
// (confirmed, the token proven dead) and a damaged one (exit 1, the token left live).
func TestTransferConfirmJSON(t *testing.T) {
	s := transferEnv(t)
	var r confirmResult
	confirm := func(id string) int {
		t.Helper()
		code, b, stderr := stewardJSON(t, "transfer", "confirm", "--json", "--grant", id, "--wait", "10s")
		r = confirmResult{}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("confirm --json: %v\n%s\n%s", err, b, stderr)
		}
		if !strings.Contains(stderr, "xt.dump") {
			t.Errorf("confirm --json: the lines for people are not on stderr:\n%s", stderr)
		}
		return code
	}
	id, _, sasFile := grantCLI(t, s, "xt-good")
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": 5000})
	var p pushResult
	code, b, stderr := stewardJSON(t, "transfer", "push", "--json", "--sas-file", sasFile, dir)
	if code != 0 {
		t.Fatalf("push --json: exit %d\n%s", code, stderr)
	}
	decode(t, "transfer push", b, &p)
	if p.Files != 2 || p.Sent != 2 || p.BytesSent <= 5000 || p.Resumable == nil || !*p.Resumable || !strings.HasSuffix(p.Destination, "/xt-good") || strings.Contains(string(b), "sig=") {
		t.Errorf("push --json: %s; want 2 files (the dump and the manifest) in 2 blocks, resumable, no signature", b)
	}
	if code := confirm(id); code != 0 || !r.Matched || r.State != "confirmed" || r.Proof == "" || r.Revoked.IsZero() || len(r.Files) != 1 || r.Files[0].Name != "xt.dump" || r.Files[0].Size != 5000 {
		t.Errorf("confirm --json of a good upload: exit %d, %+v", code, r)
	}
	id, token, sasFile := grantCLI(t, s, "xt-bad")
	if out, err := steward(t, "transfer", "push", "--sas-file", sasFile, dir); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	c, _ := container.NewClientWithNoCredential(token, nil)
	c.NewBlockBlobClient("xt.dump").Upload(context.Background(), streaming.NopCloser(bytes.NewReader(make([]byte, 5000))), nil)
	if code := confirm(id); code != 1 || r.Matched || r.State != "live" || !r.Revoked.IsZero() || len(r.Files) != 1 || r.Files[0].Problem == "" {
		t.Errorf("confirm --json of a damaged upload: exit %d, %+v; want 1, not matched, live", code, r)
	}
}

// transfer confirm --json of an S3 grant: every object checked; on s3rver, which cannot
// abort an upload, the upload is confirmed but the grant stays live (exit 1).
func TestTransferConfirmS3JSON(t *testing.T) {
	s := s3Env(t)
	dir := azuritetest.Bundle(t, map[string]int{"xt.dump": 5<<20 + 3})
	id, uploads := presignCLI(t, s, dir, "xt/json", "--part-mib", "5")
	var p pushResult
	code, b, stderr := stewardJSON(t, "transfer", "push-s3", "--json", dir, "--uploads", uploads)
	if code != 0 {
		t.Fatalf("push-s3 --json: exit %d\n%s", code, stderr)
	}
	decode(t, "transfer push-s3", b, &p)
	if p.Files != 2 || p.Sent != 3 || p.BytesSent <= 5<<20 || p.Destination != "s3://"+s3test.Bucket+"/xt/json" || strings.Contains(string(b), "X-Amz-Signature") {
		t.Errorf("push-s3 --json: %s; want 2 files in 3 parts", b)
	}
	code, b, stderr = stewardJSON(t, "transfer", "confirm", "--json", "--grant", id, "--wait", "1s")
	var r confirmResult
	decode(t, "transfer confirm", b, &r)
	if code != 1 || !r.Matched || r.Kind != "s3" || r.State != "live" || r.Confirmed.IsZero() || len(r.Files) != 2 || !strings.Contains(stderr, "AbortMultipartUpload") {
		t.Errorf("confirm --json on s3rver: exit %d, %+v\n%s", code, r, stderr)
	}
}

// warehouse load --json: the rows loaded, as the text says them.
func TestWarehouseLoadJSON(t *testing.T) {
	dir := t.TempDir()
	csvDir := filepath.Join(dir, "csv")
	if out, err := steward(t, "warehouse", "demo", "--db", filepath.Join(dir, "x.db"), "--patients", "5", "--csv", csvDir); err != nil {
		t.Fatalf("demo --csv: %v\n%s", err, out)
	}
	text, err := steward(t, "warehouse", "load", "--db", filepath.Join(dir, "a.db"), csvDir)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, text)
	}
	var r struct {
		Rows    int64   `json:"rows"`
		Agency  string  `json:"agency"`
		Seconds float64 `json:"seconds"`
		Rate    float64 `json:"rows_per_second"`
		Pending bool    `json:"pending"`
		Batch   int64   `json:"batch"`
	}
	code, b, stderr := stewardJSON(t, "warehouse", "load", "--json", "--db", filepath.Join(dir, "b.db"), csvDir)
	if code != 0 {
		t.Fatalf("load --json: exit %d\n%s", code, stderr)
	}
	decode(t, "warehouse load", b, &r)
	facts, _ := os.ReadFile(filepath.Join(csvDir, "observation_fact.csv"))
	if !strings.Contains(text, fmt.Sprintf("\nloaded %d rows in ", r.Rows)) || r.Rows <= int64(bytes.Count(facts, []byte("\n"))-1) || r.Seconds <= 0 || r.Rate <= 0 || r.Pending || r.Batch <= 0 {
		t.Errorf("load --json %+v (review is off: not pending, a batch recorded); the text said %q", r, text)
	}
}
