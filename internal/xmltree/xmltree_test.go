package xmltree

import (
	"strings"
	"testing"
)

func TestParseRefusesWhatItDoesNotRead(t *testing.T) {
	for name, doc := range map[string]string{
		"document type":  `<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`,
		"custom entity":  `<a>&x;</a>`,
		"other encoding": `<?xml version="1.0" encoding="ISO-8859-1"?><a/>`,
		"second root":    `<a/><b/>`,
		"no element":     `  `,
		"too deep":       strings.Repeat("<a>", 5) + strings.Repeat("</a>", 5),
		"too many":       "<a>" + strings.Repeat("<b/>", 10) + "</a>",
		"unclosed":       `<a><b></a>`,
	} {
		if _, err := Parse([]byte(doc), 4, 8); err == nil {
			t.Errorf("%s: parsed, want refused", name)
		}
	}
}

func TestParseTree(t *testing.T) {
	root, err := Parse([]byte(`<ns4:request xmlns:ns4="urn:x" xmlns="urn:y"><ns4:a k="v" ns4:j="w"> one </ns4:a><b>two<c/>three</b></ns4:request>`), 8, 16)
	if err != nil {
		t.Fatal(err)
	}
	if root.Name != "request" || len(root.Attrs) != 0 || len(root.Kids) != 2 {
		t.Fatalf("root %q with %d attributes (namespace declarations kept?) and %d children", root.Name, len(root.Attrs), len(root.Kids))
	}
	a := root.Find("a")
	if a == nil || a.Value() != "one" || a.Raw() != " one " || len(a.Attrs) != 2 || a.Attrs[0].Name.Local != "k" || a.Attrs[1].Name.Local != "j" {
		t.Errorf("a: %+v", a)
	}
	if b := root.Find("b"); b == nil || b.Raw() != "twothree" || root.Find("c") == nil || root.Find("d") != nil {
		t.Errorf("b's text %q, c found %v", b.Raw(), root.Find("c") != nil)
	}
}
