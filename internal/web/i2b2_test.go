package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
)

// i2b2Envelope is a request message as i2b2 clients send them (hive msg 1.1), written for
// these tests from the message schema: the header with its security block, and body.
func i2b2Envelope(user, password, project, body string) string {
	pw := "<password>" + password + "</password>"
	if strings.HasPrefix(password, i2b2.SessionPrefix) {
		pw = `<password is_token="true" token_ms_timeout="1800000">` + password + "</password>"
	}
	return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<ns6:request xmlns:ns4="http://www.i2b2.org/xsd/cell/crc/psm/1.1/" xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/" xmlns:pm="http://www.i2b2.org/xsd/cell/pm/1.1/">
  <message_header>
    <i2b2_version_compatible>1.1</i2b2_version_compatible>
    <sending_application><application_name>test client</application_name><application_version>1.7</application_version></sending_application>
    <security><domain>steward</domain><username>` + user + `</username>` + pw + `</security>
    <message_control_id><message_num>t1</message_num><instance_num>0</instance_num></message_control_id>
    <project_id>` + project + `</project_id>
  </message_header>
  <request_header><result_waittime_ms>180000</result_waittime_ms></request_header>
  <message_body>` + body + `</message_body>
</ns6:request>`
}

const pmConfiguration = `<pm:get_user_configuration><project>undefined</project></pm:get_user_configuration>`

// i2b2Call posts a message and reads the answer's envelope: the result_status type and
// message, and the document.
func (f *fixture) i2b2Call(path, msg string) (string, string, *i2b2.Node) {
	f.t.Helper()
	code, body, _ := f.call("POST", path, "", msg, "Content-Type", "text/xml")
	if code != http.StatusOK {
		f.t.Fatalf("POST %s: got %d %.300s, want 200", path, code, body)
	}
	doc, err := i2b2.Parse([]byte(body))
	if err != nil {
		f.t.Fatalf("POST %s: the answer is not XML: %v\n%.500s", path, err, body)
	}
	st := doc.Find("response_header").Find("status")
	return st.Attr("type"), st.Text(), doc
}

const pmPath = "/i2b2/services/PMService/getServices"

// pmSignIn signs in through the PM cell and returns the session password (SessionKey:…).
func (f *fixture) pmSignIn(user, pw string) string {
	f.t.Helper()
	st, msg, doc := f.i2b2Call(pmPath, i2b2Envelope(user, pw, "undefined", pmConfiguration))
	if st != i2b2.Done {
		f.t.Fatalf("PM sign-in %s: %s %s", user, st, msg)
	}
	return doc.Find("user").Child("password").Text()
}

func projectRolesOf(doc *i2b2.Node, project string) []string {
	for _, x := range doc.Find("user").Children("project") {
		if x.Attr("id") == project {
			var out []string
			for _, r := range x.Children("role") {
				out = append(out, r.Text())
			}
			return out
		}
	}
	return nil
}

// TestI2B2PMSignIn: an i2b2 client signs in with get_user_configuration and gets its
// projects with i2b2's roles as Steward's map, the cell list pointing at Steward's CRC and
// ONT, and a session token it can sign in with again — a token that cannot administer. A
// wrong password, a wrong domain and another user's token are refused in i2b2's terms; the
// wrong password is audited and locks the account from the address as the JSON sign-in does.
func TestI2B2PMSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, Options{})
		ctx := context.Background()
		cli := access.CLI("test")
		for _, err := range []error{
			f.svc.Grant(ctx, cli, "ann", "diab", access.DataAgg),
			f.svc.CreateProject(ctx, cli, access.Project{Code: "asthma", Name: "Asthma", Agency: "north"}),
			f.svc.Grant(ctx, cli, "ann", "asthma", access.ProjectAdmin),
			f.svc.CreateUser(ctx, cli, access.User{Name: "bob", Agency: "north"}, rootPW),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		st, msg, doc := f.i2b2Call(pmPath, i2b2Envelope("ann", rootPW, "undefined", pmConfiguration))
		if st != i2b2.Done {
			t.Fatalf("sign-in: %s %s", st, msg)
		}
		if got := doc.Find("user").Child("user_name").Text(); got != "ann" {
			t.Errorf("user_name %q, want ann", got)
		}
		if got := projectRolesOf(doc, "diab"); !slices.Equal(got, []string{"USER", "DATA_OBFSC", "DATA_AGG"}) {
			t.Errorf("diab roles %v, want USER DATA_OBFSC DATA_AGG (the track cascaded, nothing above DATA_AGG)", got)
		}
		if got := projectRolesOf(doc, "asthma"); !slices.Equal(got, []string{"USER", "MANAGER"}) {
			t.Errorf("asthma roles %v, want USER MANAGER (a project administrator without data roles)", got)
		}
		if got := doc.Find("user").Child("is_admin").Text(); got != "false" {
			t.Errorf("ann is_admin %q", got)
		}
		urls := map[string]string{}
		for _, c := range doc.Find("cell_datas").Children("cell_data") {
			urls[c.Attr("id")] = c.Child("url").Text()
		}
		if urls["CRC"] != f.srv.URL+"/i2b2/services/QueryToolService/" || urls["ONT"] != f.srv.URL+"/i2b2/services/OntologyService/" {
			t.Errorf("cells %v, want CRC and ONT at this server", urls)
		}
		session := doc.Find("user").Child("password").Text()
		if !strings.HasPrefix(session, i2b2.SessionPrefix+access.TokenPrefix) || doc.Find("user").Child("password").Attr("is_token") != "true" {
			t.Fatalf("password %.20q…, want a session key", session)
		}
		// The session signs in again (the client sends it with every message).
		if st, msg, doc := f.i2b2Call(pmPath, i2b2Envelope("ann", session, "diab", pmConfiguration)); st != i2b2.Done || doc.Find("user").Child("password").Text() != session {
			t.Errorf("sign-in with the session: %s %s, want DONE and the same session", st, msg)
		}
		// It is not an administrator's token, even for an administrator.
		rootSession := f.pmSignIn("root", rootPW)
		token := strings.TrimPrefix(rootSession, i2b2.SessionPrefix)
		if code, body, _ := f.call("POST", "/api/v1/users", token, `{"name":"eve","agency":"north","password":"eve password 1"}`); code != 403 {
			t.Errorf("an i2b2 session creating a user: got %d %.100s, want 403", code, body)
		}
		if code, _, _ := f.call("GET", "/api/v1/me", token, ""); code != 200 {
			t.Errorf("an i2b2 session reading: got %d, want 200", code)
		}
		_, _, rootDoc := f.i2b2Call(pmPath, i2b2Envelope("root", rootSession, "", pmConfiguration))
		if got := projectRolesOf(rootDoc, "diab"); !slices.Equal(got, []string{"USER", "MANAGER", "ADMIN"}) || rootDoc.Find("is_admin").Text() != "true" {
			t.Errorf("root in diab: roles %v, is_admin %s; want USER MANAGER ADMIN, true", got, rootDoc.Find("is_admin").Text())
		}
		// Refusals.
		if st, msg, _ := f.i2b2Call(pmPath, i2b2Envelope("bob", session, "", pmConfiguration)); st != i2b2.Error || !strings.Contains(msg, "another user") {
			t.Errorf("ann's session for bob: %s %s, want ERROR", st, msg)
		}
		wrongDomain := strings.Replace(i2b2Envelope("ann", rootPW, "", pmConfiguration), "<domain>steward</domain>", "<domain>i2b2demo</domain>", 1)
		if st, msg, _ := f.i2b2Call(pmPath, wrongDomain); st != i2b2.Error || !strings.Contains(msg, "domain") {
			t.Errorf("wrong domain: %s %s, want ERROR naming the domain", st, msg)
		}
		failed := func() int {
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'login.failed' AND object = 'user/bob'`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for i := 1; i <= 3; i++ {
			st, msg, doc := f.i2b2Call(pmPath, i2b2Envelope("bob", fmt.Sprintf("guess %d", i), "", pmConfiguration))
			if st != i2b2.Error || !strings.Contains(msg, "wrong user name or password") || doc.Find("configure") != nil {
				t.Errorf("wrong password %d: %s %s, want ERROR and no configuration", i, st, msg)
			}
		}
		if n := failed(); n != 3 {
			t.Errorf("failed sign-ins audited: %d, want 3", n)
		}
		// The fixture locks an account from an address after 3 failures, as for the JSON sign-in.
		if st, msg, _ := f.i2b2Call(pmPath, i2b2Envelope("bob", rootPW, "", pmConfiguration)); st != i2b2.Error || !strings.Contains(msg, "refused") {
			t.Errorf("the right password after 3 failures: %s %s, want ERROR (locked)", st, msg)
		}
		if code, _, _ := f.call("POST", "/api/v1/signin", "", `{"user":"bob","password":"`+rootPW+`"}`); code != 423 {
			t.Errorf("JSON sign-in after 3 i2b2 failures: got %d, want 423 (the same lock)", code)
		}
		// Not an i2b2 message at all.
		for _, bad := range []string{"", "<request/>", `<!DOCTYPE r [<!ENTITY x "y">]><request>&x;</request>`, "{}"} {
			if code, _, _ := f.call("POST", pmPath, "", bad, "Content-Type", "text/xml"); code != 400 {
				t.Errorf("%.30q: got %d, want 400", bad, code)
			}
		}
	})
}

const crcPath = "/i2b2/services/QueryToolService/request"

// crcMessage is a CRC request of that type with the request element's content.
func crcMessage(user, session, project, requestType, xsiType, content string) string {
	return i2b2Envelope(user, session, project, `<ns4:psmheader><user group="`+project+`" login="`+user+`">`+user+`</user>
<patient_set_limit>0</patient_set_limit><estimated_time>0</estimated_time><query_mode>optimize_without_temp_table</query_mode>
<request_type>`+requestType+`</request_type></ns4:psmheader>
<ns4:request xsi:type="ns4:`+xsiType+`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`+content+`</ns4:request>`)
}

// runMessage runs the query definition with the result outputs named (lower case, as i2b2's
// web client writes them).
func runMessage(user, session, project, def string, outputs ...string) string {
	list := "<result_output_list>"
	for i, o := range outputs {
		list += fmt.Sprintf(`<result_output priority_index="%d" name="%s"/>`, i+1, strings.ToLower(o))
	}
	return crcMessage(user, session, project, "CRC_QRY_runQueryInstance_fromQueryDefinition", "query_definition_requestType", def+list+"</result_output_list>")
}

// resultInstances are the query_result_instance elements of an answer by result type.
func resultInstances(doc *i2b2.Node) map[string]*i2b2.Node {
	out := map[string]*i2b2.Node{}
	var walk func(n *i2b2.Node)
	walk = func(n *i2b2.Node) {
		if n.Name == "query_result_instance" {
			out[n.Find("query_result_type").Child("name").Text()] = n
			return
		}
		for _, k := range n.Kids {
			walk(k)
		}
	}
	walk(doc)
	return out
}

// documentCells reads a crc_xml_result's document: its count per column.
func documentCells(t *testing.T, doc *i2b2.Node) map[string]int64 {
	t.Helper()
	inner, err := i2b2.Parse([]byte(doc.Find("crc_xml_result").Child("xml_value").Text()))
	if err != nil {
		t.Fatalf("result document: %v", err)
	}
	out := map[string]int64{}
	for _, d := range inner.Find("result").Children("data") {
		var n int64
		fmt.Sscan(d.Text(), &n)
		out[d.Attr("column")] = n
	}
	return out
}

// TestI2B2RateLimited: PM sign-ins are limited per source address as JSON sign-ins are (the
// same limiter: a burst of 4 at 1 per second, then 429 with Retry-After).
func TestI2B2RateLimited(t *testing.T) {
	f := newFixture(t, storetest.Open(t, store.SQLite), Options{RateLimit: 1})
	msg := i2b2Envelope("ann", rootPW, "", pmConfiguration)
	codes := []int{}
	for range 6 {
		code, _, _ := f.call("POST", pmPath, "", msg, "Content-Type", "text/xml")
		codes = append(codes, code)
	}
	if !slices.Contains(codes, http.StatusTooManyRequests) || codes[0] != http.StatusOK {
		t.Errorf("6 PM sign-ins at once: %v, want 200 first and then 429", codes)
	}
	if code, _, hdr := f.call("POST", "/api/v1/signin", "", `{"user":"ann","password":"`+rootPW+`"}`); code != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" {
		t.Errorf("a JSON sign-in from the same address after them: %d, want 429 with Retry-After (one limit for both)", code)
	}
}
