package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// TestI2B2WebClient runs i2b2's own web client (1.8, github.com/hms-dbmi/i2b2v2-webclient,
// a checkout named by STEWARD_I2B2_WEBCLIENT; none is shipped with Steward) in headless
// chromium against the server: the client's files and Steward's /i2b2/ paths on one origin
// (as the client's proxy would put them), its domain configuration pointing at Steward's PM
// cell. The client signs in, shows the project's concept tree and expands a folder, runs a
// query with breakdowns through its own message templates, lists previous queries, reloads
// the query into its query tool and runs it from there, and reads patient data per role.
// STEWARD_I2B2_WEBCLIENT_LOG=1 logs every answer the client gets.
func TestI2B2WebClient(t *testing.T) {
	dir := os.Getenv("STEWARD_I2B2_WEBCLIENT")
	if dir == "" {
		t.Skip("STEWARD_I2B2_WEBCLIENT is unset: skipping the i2b2 web client test (set it to a checkout of i2b2's web client)")
	}
	b := startChromium(t)
	f, _ := loadedFixture(t, storetest.Open(t, store.SQLite), access.DataObfsc, Options{})
	target, _ := url.Parse(f.srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	files := http.FileServer(http.Dir(dir))
	var base string
	mux := http.NewServeMux()
	proxy.ModifyResponse = func(r *http.Response) error {
		if os.Getenv("STEWARD_I2B2_WEBCLIENT_LOG") != "" {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			t.Logf("%s %d %.1500s", r.Request.URL.Path, r.StatusCode, b)
		}
		return nil
	}
	mux.Handle("/i2b2/", proxy)
	mux.HandleFunc("/i2b2_config_domains.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"urlProxy": "", "urlFramework": "js-i2b2/", "lstDomains": [{"domain": "steward", "name": "Steward",
			"urlCellPM": "` + base + `/i2b2/services/PMService/", "allowAnalysis": true, "debug": false}], "loginTimeout": 5}`))
	})
	mux.Handle("/", files)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base = strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	shots := os.Getenv("STEWARD_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}

	b.call("Page.addScriptToEvaluateOnNewDocument", map[string]any{"source": `window.__errs = []; window.alert = m => window.__errs.push("alert: " + m); window.confirm = m => { window.__errs.push("confirm: " + m); return true }; window.addEventListener("error", e => window.__errs.push(String(e.message) + " @ " + e.filename + ":" + e.lineno)); window.addEventListener("unhandledrejection", e => window.__errs.push("rejection: " + String(e.reason && (e.reason.stack || e.reason))));`}, nil)
	b.navigate(base + "/")
	b.waitFor("the login form", `document.querySelector("#loginusr") && document.querySelector("#logindomain option")`)
	b.eval(`document.querySelector("#loginusr").value = "ann"; document.querySelector("#loginpass").value = ` + jsString(rootPW) + `; document.querySelector(".login-button").click()`)
	b.waitFor("the signed-in client", `window.i2b2 && i2b2.PM.model.login_project === "diab"`)
	defer func() { t.Logf("page errors: %s", b.eval(`JSON.stringify(window.__errs)`)) }()
	defer b.screenshot(filepath.Join(shots, "i2b2-0-last.png"))
	b.waitFor("the concept tree", `document.body.innerText.includes("Diagnoses")`)
	b.screenshot(filepath.Join(shots, "i2b2-1-signed-in.png"))
	// Expand Diagnoses in the tree (clicked again until the tree has bound its handlers).
	b.waitFor("the diagnoses' children", `(() => {
		if (document.body.innerText.includes("ICD-10")) return true;
		const li = [...document.querySelectorAll("li.node-i2b2TreeviewOntNav")].find(li => li.innerText.trim() === "Diagnoses");
		const icon = li && li.querySelector(".expand-icon.glyphicon-plus");
		if (icon) icon.click();
		return false })()`)
	b.screenshot(filepath.Join(shots, "i2b2-1b-expanded.png"))
	if got := b.eval(`i2b2.PM.model.userRoles.join(" ")`); !strings.Contains(got, "DATA_OBFSC") {
		t.Errorf("the client's roles: %s", got)
	}
	b.eval(`window.__run = null; i2b2.CRC.ajax.runQueryInstance_fromQueryDefinition("steward test", {
		psm_query_definition: "<query_definition><query_name>any diagnosis</query_name><panel><panel_number>1</panel_number><invert>0</invert><panel_timing>ANY</panel_timing><total_item_occurrences>1</total_item_occurrences><item><hlevel>1</hlevel><item_name>Diagnoses</item_name><item_key>\\\\Diagnoses\\i2b2\\Diagnoses\\</item_key><tooltip>Diagnoses</tooltip><item_icon>FA</item_icon><class>ENC</class></item></panel></query_definition>",
		psm_result_output: "<result_output_list><result_output priority_index=\"1\" name=\"patient_count_xml\"/><result_output priority_index=\"2\" name=\"patient_gender_count_xml\"/></result_output_list>",
		shrine_topic: "", query_run_method: ""}, function(r) { window.__run = r; })`)
	b.waitFor("the query's answer", `window.__run`)
	if e := b.eval(`window.__run.error`); e != "false" {
		t.Fatalf("run: error %s: %s", e, b.eval(`window.__run.msgResponse`))
	}
	resp := b.eval(`window.__run.msgResponse`)
	if !strings.Contains(resp, "<obfuscate_method>OBTOTAL</obfuscate_method>") || !strings.Contains(resp, "PATIENT_GENDER_COUNT_XML") {
		t.Errorf("run answer: %.600s", resp)
	}
	b.eval(`window.__list = null; i2b2.CRC.ajax.getQueryMasterList_fromUserId("steward test", {crc_max_records: "20", crc_user_type: "CRC_QRY_getQueryMasterList_fromUserId", crc_user_by: "ann"}, function(r) { window.__list = r; })`)
	b.waitFor("the previous queries", `window.__list`)
	if got := b.eval(`window.__list.error === false && window.__list.refXML.getElementsByTagName("query_master").length`); got != "1" {
		t.Errorf("previous queries read by the client: %s (%.300s)", got, b.eval(`window.__list.msgResponse`))
	}
	// The client's own query tool: reload the query from its request XML into the panels, run
	// it from there with a breakdown, and show the answer in the Query Status panel.
	master := b.eval(`window.__run.refXML.getElementsByTagName("query_master_id")[0].textContent`)
	b.eval(`i2b2.CRC.ctrlr.QT.doQueryLoad(` + master + `)`)
	b.waitFor("the query reloaded into the panels", `i2b2.CRC.model.query && JSON.stringify(i2b2.CRC.model.query).includes("Diagnoses") && !i2b2.CRC.model.runner.isLoading`)
	b.eval(`setTimeout(() => i2b2.CRC.ctrlr.QueryMgr.startQuery("from the query tool", ["PATIENT_COUNT_XML", "PATIENT_GENDER_COUNT_XML"]), 0)`)
	b.waitFor("the query tool's answer", `i2b2.CRC.model.runner.finished && !i2b2.CRC.model.runner.isRunning && i2b2.CRC.model.runner.patientCount !== undefined`)
	if e := b.eval(`i2b2.CRC.model.runner.hasError`); e != "false" {
		t.Errorf("the query tool's run has an error")
	}
	// The same question gets the same keyed answer: the tool shows the first run's set size.
	shown, first := b.eval(`String(i2b2.CRC.model.runner.patientCount)`), b.eval(`window.__run.refXML.getElementsByTagName("set_size")[0].textContent`)
	if !strings.HasPrefix(strings.Trim(shown, `"`), strings.Trim(first, `"`)) {
		t.Errorf("the query tool shows %s patients, the first run's set size %s", shown, first)
	}
	b.screenshot(filepath.Join(shots, "i2b2-2-queried.png"))
	b.eval(`[...document.querySelectorAll("button")].find(x => x.innerText.trim() === "View Report").click()`)
	// The breakdown as the report shows it, from the result document: a line per cell.
	b.waitFor("the report's gender breakdown", `[...document.querySelectorAll("*")].some(e => e.offsetParent !== null && e.children.length < 40 &&
		e.innerText && e.innerText.startsWith("Gender patient breakdown") && /\n(F|M)\t\d+/.test(e.innerText))`)
	b.screenshot(filepath.Join(shots, "i2b2-3-report.png"))
	// Patient data through the client's PDO message: refused to DATA_OBFSC, given to DATA_LDS.
	pdo := `window.__pdo = null; i2b2.CRC.ajax.getPDO_fromInputList("steward test", {patient_limit: "3", PDO_Request:
		"<input_list><patient_list max=\"3\" min=\"0\"><patient_set_coll_id>" + window.__run.refXML.getElementsByTagName("result_instance_id")[0].textContent +
		"</patient_set_coll_id></patient_list></input_list><filter_list/><output_option names=\"asattributes\"><patient_set select=\"using_input_list\" onlykeys=\"false\"/>" +
		"<observation_set blob=\"false\" onlykeys=\"false\"/></output_option>"}, function(r) { window.__pdo = r; })`
	b.eval(pdo)
	b.waitFor("the refused patient data", `window.__pdo`)
	if got := b.eval(`window.__pdo.refXML.getElementsByTagName("patient").length + " " + window.__pdo.msgResponse.includes('type="ERROR"')`); got != `"0 true"` {
		t.Errorf("DATA_OBFSC patient data: %s, want none and an ERROR", got)
	}
	if err := f.svc.Grant(context.Background(), access.CLI("test"), "ann", "diab", access.DataLDS); err != nil {
		t.Fatal(err)
	}
	b.eval(pdo)
	b.waitFor("the patient data", `window.__pdo`)
	if got := b.eval(`window.__pdo.error === false && window.__pdo.refXML.getElementsByTagName("patient").length`); got != "3" {
		t.Errorf("DATA_LDS patient data read by the client: %s patients (%.300s)", got, b.eval(`window.__pdo.msgResponse`))
	}
}
