package i2b2

import (
	"errors"
	"strings"
	"testing"
)

func envelope(password string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><ns6:request xmlns:ns6="http://www.i2b2.org/xsd/hive/msg/1.1/"><message_header>
<security><domain>steward</domain><username>ann</username>` + password + `</security><project_id>diab</project_id></message_header>
<message_body><x/></message_body></ns6:request>`
}

// TestReadRequest: the security block's password, a SessionKey and an is_token password.
func TestReadRequest(t *testing.T) {
	for _, c := range []struct{ password, wantPW, wantToken string }{
		{`<password>secret words</password>`, "secret words", ""},
		{`<password is_token="true" token_ms_timeout="1800000">SessionKey:stw_abc</password>`, "", "stw_abc"},
		{`<password>SessionKey:stw_def</password>`, "", "stw_def"},
		{`<password is_token="true">stw_ghi</password>`, "", "stw_ghi"},
	} {
		r, err := ReadRequest([]byte(envelope(c.password)))
		if err != nil || r.Security.Password != c.wantPW || r.Security.Token != c.wantToken || r.Security.Username != "ann" || r.Project != "diab" || r.Body.Child("x") == nil {
			t.Errorf("%s: got %+v, %v", c.password, r.Security, err)
		}
	}
	if _, err := ReadRequest([]byte(envelope(""))); !errors.Is(err, ErrMalformed) {
		t.Errorf("no password: %v", err)
	}
}

// TestParseRefusesUnsafeDocuments: a DTD (and with it any entity), another encoding, too deep
// or too many elements, two roots, and bad XML are refused before anything reads them.
func TestParseRefusesUnsafeDocuments(t *testing.T) {
	deep := strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1)
	many := "<r>" + strings.Repeat("<a/>", MaxNodes) + "</r>"
	for name, doc := range map[string]string{
		"entity":   `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>`,
		"external": `<!DOCTYPE r SYSTEM "file:///etc/passwd"><r/>`,
		"encoding": `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`,
		"deep":     deep,
		"many":     many,
		"roots":    "<r/><r/>",
		"broken":   "<r><a></r>",
		"empty":    "",
	} {
		if _, err := Parse([]byte(doc)); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: got %v, want refused", name, err)
		}
	}
	if _, err := Parse([]byte(strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth))); err != nil {
		t.Errorf("%d levels: %v", MaxDepth, err)
	}
}

// TestWriterEscapes: text and attribute values cannot close an element or start markup.
func TestWriterEscapes(t *testing.T) {
	var w Writer
	w.El("name", `</name><evil x="1">&`, "a", `"><b>`)
	n, err := Parse([]byte(w.String()))
	if err != nil || n.Text() != `</name><evil x="1">&` || n.Attr("a") != `"><b>` || len(n.Kids) != 0 {
		t.Errorf("round trip: %q → %v %q %q", w.String(), err, n.Text(), n.Attr("a"))
	}
}
