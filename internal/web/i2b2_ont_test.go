package web

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
)

func ontPath(op string) string { return "/i2b2/services/OntologyService/" + op }

// ontConcepts reads an ONT answer's concepts.
func ontConcepts(t *testing.T, f *fixture, op, session, body string) []*i2b2.Node {
	t.Helper()
	st, msg, doc := f.i2b2Call(ontPath(op), i2b2Envelope("ann", session, "diab", body))
	if st != i2b2.Done {
		t.Fatalf("%s: %s %s", op, st, msg)
	}
	return doc.Find("concepts").Children("concept")
}

// jsonConcepts is the JSON API's listing under parent.
func jsonConcepts(t *testing.T, f *fixture, bearer, parent string, totalnum bool) []warehouse.Concept {
	t.Helper()
	path := "/api/v1/projects/diab/concepts?parent=" + strings.ReplaceAll(parent, `\`, "%5C")
	if totalnum {
		path += "&totalnum=true"
	}
	code, body, _ := f.call("GET", path, bearer, "")
	var cs []warehouse.Concept
	if code != 200 || json.Unmarshal([]byte(body), &cs) != nil {
		t.Fatalf("JSON concepts: got %d %.200s", code, body)
	}
	return cs
}

// TestI2B2Ontology: the ontology cell browses the concept tree the JSON API lists — the
// same concepts, names and folders, with i2b2's fields — and gives totalnums as the role may
// see them: none to DATA_OBFSC by default in the budget mode (browsing must not spend the
// budget), the JSON API's keyed obfuscated totalnums when asked, obfuscated ones in i2b2's
// noise mode, exact ones to DATA_AGG (the same number the CRC gives for the concept). Term
// info and name search find concepts; what is not supported is refused.
func TestI2B2Ontology(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f, _ := loadedFixture(t, db, access.DataObfsc, Options{})
		bearer, session := f.signIn("ann", rootPW), f.pmSignIn("ann", rootPW)

		cats := ontConcepts(t, f, "getCategories", session, `<ns4:get_categories synonyms="false" hiddens="false" type="core"/>`)
		var keys []string
		for _, c := range cats {
			keys = append(keys, c.Child("key").Text())
			if c.Child("totalnum") != nil {
				t.Errorf("category %s has a totalnum for DATA_OBFSC in the budget mode", c.Child("key").Text())
			}
		}
		if !strings.Contains(strings.Join(keys, " "), `\\Diagnoses\i2b2\Diagnoses\`) {
			t.Fatalf("categories %v, want \\\\Diagnoses\\i2b2\\Diagnoses\\ (the category's name as its table code)", keys)
		}

		parent := `\i2b2\Diagnoses\ICD10\`
		children := func(attrs string) []*i2b2.Node {
			return ontConcepts(t, f, "getChildren", session, `<ns4:get_children blob="false" type="core" `+attrs+`><parent>\\Diagnoses`+parent+`</parent></ns4:get_children>`)
		}
		got, want := children(""), jsonConcepts(t, f, bearer, parent, false)
		if len(got) != len(want) || len(want) == 0 {
			t.Fatalf("children: %d concepts, the JSON API %d", len(got), len(want))
		}
		for i, c := range got {
			w := want[i]
			visual := map[bool]string{true: "LA", false: "FA"}[w.Leaf]
			if c.Child("dimcode").Text() != w.Path || c.Child("key").Text() != `\\Diagnoses`+w.Path || c.Child("name").Text() != w.Name ||
				c.Child("visualattributes").Text() != visual || c.Child("basecode").Text() != w.Code || c.Child("level").Text() != "3" ||
				c.Child("tablename").Text() != "concept_dimension" || c.Child("totalnum") != nil {
				t.Errorf("child %d: %s; want %+v at level 3 without totalnum", i, c.XML(), w)
			}
		}
		// Asked for: the JSON API's keyed totalnums (the same releases, at no new cost).
		counted := jsonConcepts(t, f, bearer, parent, true)
		for i, c := range children(`totalnum="true"`) {
			if c.Child("totalnum").Text() != strconv.FormatInt(*counted[i].Totalnum, 10) {
				t.Errorf("obfuscated totalnum of %s: %s, want the JSON API's %d", counted[i].Path, c.Child("totalnum").Text(), *counted[i].Totalnum)
			}
		}
		// Term info and search.
		chapter := want[0]
		terms := ontConcepts(t, f, "getTermInfo", session, `<ns4:get_term_info blob="true" type="core"><self>\\steward`+chapter.Path+`</self></ns4:get_term_info>`)
		if len(terms) != 1 || terms[0].Child("name").Text() != chapter.Name {
			t.Errorf("term info of %s: %d concepts", chapter.Path, len(terms))
		}
		word := strings.ToUpper(chapter.Name[1 : len(chapter.Name)-1])
		// The category as i2b2's web client names it: its table code.
		found := ontConcepts(t, f, "getNameInfo", session, `<ns4:get_name_info blob="true" type="core" category="Diagnoses"><match_str strategy="contains">`+word+`</match_str></ns4:get_name_info>`)
		if other := ontConcepts(t, f, "getNameInfo", session, `<ns4:get_name_info category="Labs"><match_str strategy="contains">`+word+`</match_str></ns4:get_name_info>`); slices.ContainsFunc(other, func(c *i2b2.Node) bool { return c.Child("dimcode").Text() == chapter.Path }) {
			t.Errorf("search in Labs found the diagnosis chapter %s", chapter.Path)
		}
		hit := false
		for _, c := range found {
			hit = hit || c.Child("dimcode").Text() == chapter.Path
			if !strings.Contains(strings.ToUpper(c.Child("name").Text()), word) {
				t.Errorf("search %q found %q", word, c.Child("name").Text())
			}
		}
		if !hit {
			t.Errorf("search %q: %d concepts, not %s", word, len(found), chapter.Path)
		}
		for op, body := range map[string]string{
			"getNameInfo":         `<ns4:get_name_info><match_str strategy="sounds_like">x</match_str></ns4:get_name_info>`,
			"getModifierChildren": `<ns4:get_modifier_children/>`,
			"getChildren":         `<ns4:get_children><parent></parent></ns4:get_children>`,
		} {
			if st, _, _ := f.i2b2Call(ontPath(op), i2b2Envelope("ann", session, "diab", body)); st != i2b2.Error {
				t.Errorf("%s %s: %s, want ERROR", op, body, st)
			}
		}
		// i2b2's noise mode: obfuscated totalnums without asking.
		code, body, _ := f.call("PUT", "/api/v1/warehouse/settings", f.signIn("root", rootPW), `{"noise":"i2b2","sigma":1.323,"breakdown_sigma":1.6,"minimum":3,"threshold":3,"breakdowns":"noised",
			"budget":0.1,"period_days":30,"lockout_count":7,"lockout_days":30,"epoch":1,"reason":"i2b2's own noise for the test"}`)
		if code != 200 {
			t.Fatalf("settings: %d %s", code, body)
		}
		for _, c := range children("") {
			if c.Child("totalnum") == nil {
				t.Errorf("i2b2 mode: %s has no totalnum", c.Child("dimcode").Text())
			}
		}
		// DATA_AGG: exact, the number the CRC gives for the concept's query.
		if err := f.svc.Grant(context.Background(), access.CLI("test"), "ann", "diab", access.DataAgg); err != nil {
			t.Fatal(err)
		}
		first := children("")[0]
		def := `<query_definition><panel><item><item_key>` + first.Child("key").Text() + `</item_key></item></panel></query_definition>`
		_, _, doc := f.i2b2Call(crcPath, runMessage("ann", session, "diab", def, "PATIENT_COUNT_XML"))
		if n := resultInstances(doc)["PATIENT_COUNT_XML"].Child("set_size").Text(); first.Child("totalnum").Text() != n || n == "0" {
			t.Errorf("DATA_AGG totalnum of %s: %s, the CRC's count %s", first.Child("dimcode").Text(), first.Child("totalnum").Text(), n)
		}
	})
}
