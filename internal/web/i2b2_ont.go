package web

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/i2b2"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// ontTable is the table code of the tree's roots; every other concept's key carries its
// category's name as the table code (\\Diagnoses\i2b2\Diagnoses\ICD10\…), as i2b2's keys
// carry their category's metadata table (\\i2b2_DIAG\i2b2\Diagnoses\…) — i2b2's web client
// searches a category by that code. The query language takes the code off again.
const ontTable = "steward"

// tableCode is the table code of a concept path: its category's name (the path's second
// segment), or ontTable for a root.
func tableCode(path string) string {
	segs := strings.Split(strings.Trim(path, `\`), `\`)
	if len(segs) < 2 {
		return ontTable
	}
	return segs[1]
}

// ontService answers /i2b2/services/OntologyService/{op} from the warehouse's concept tree,
// with the concepts the project's queries can see (as the JSON API's concepts route).
//
// totalnum: exact for DATA_AGG and higher roles; for DATA_OBFSC obfuscated as the one-item
// query of the concept would be — in i2b2's noise mode always, in the budget mode only when
// the request asks with totalnum="true" on its element (each new count spends from the
// budget, so browsing the tree does not), as the JSON API's totalnum=true.
func (s *Server) ontService(wh *warehouse.Warehouse) i2b2Handler {
	return func(r *http.Request, p access.Principal, m i2b2Message) (string, error) {
		if wh == nil {
			return "", fmt.Errorf("%w: this server has no warehouse", derrors.NotFound)
		}
		project, err := i2b2Project(m)
		if err != nil {
			return "", err
		}
		if !p.HasScope(access.ScopeRead) {
			return "", fmt.Errorf("%w: this token lacks the read scope", derrors.Forbidden)
		}
		o := ont{wh: wh, r: r, p: p, project: project}
		var cs []warehouse.Concept
		switch op := r.PathValue("op"); op {
		case "getCategories":
			cs, err = o.categories(m.Body.Child("get_categories"))
		case "getChildren":
			el := m.Body.Child("get_children")
			cs, err = o.children(el, el.Child("parent").Text())
		case "getTermInfo":
			cs, err = o.term(m.Body.Child("get_term_info"))
		case "getNameInfo":
			cs, err = o.search(m.Body.Child("get_name_info"))
		case "getSchemes":
			return "<ns4:concepts/>", nil // no code schemes: concepts are found by path and name
		case "getModifiers":
			return "<ns4:modifiers/>", nil // modifiers are not listed (a query may still name one)
		default:
			return "", fmt.Errorf("%w: ontology operation %s is not supported", derrors.Invalid, op)
		}
		if err != nil {
			return "", err
		}
		var w i2b2.Writer
		w.Open("ns4:concepts")
		for _, c := range cs {
			writeConcept(&w, c)
		}
		w.Close("ns4:concepts")
		return w.String(), nil
	}
}

// ont is one ontology request being answered.
type ont struct {
	wh      *warehouse.Warehouse
	r       *http.Request
	p       access.Principal
	project string
}

// counted reports whether the listing carries totalnums for the principal (see ontService).
func (o ont) counted(el *i2b2.Node) (bool, error) {
	x, err := o.wh.Access.Project(o.r.Context(), o.p, o.project)
	if err != nil {
		return false, err
	}
	if access.Allowed(o.p, access.ExactCount, x) || el.Attr("totalnum") == "true" {
		return true, nil
	}
	st, err := o.wh.CurrentSettings(o.r.Context())
	return st.Noise == noise.I2B2, err
}

// list is the concepts directly under the parent path, with totalnums when counted.
func (o ont) list(el *i2b2.Node, parent string) ([]warehouse.Concept, error) {
	counted, err := o.counted(el)
	if err != nil {
		return nil, err
	}
	if counted {
		return o.wh.ChildrenCounted(o.r.Context(), o.p, o.project, parent)
	}
	return o.wh.Children(o.r.Context(), o.p, o.project, parent)
}

// categories are the folders below each root of the tree (\i2b2\Diagnoses\, \i2b2\Labs\…),
// and any root that is a concept itself.
func (o ont) categories(el *i2b2.Node) ([]warehouse.Concept, error) {
	roots, err := o.wh.Children(o.r.Context(), o.p, o.project, `\`)
	if err != nil {
		return nil, err
	}
	var out []warehouse.Concept
	for _, root := range roots {
		if root.Leaf {
			out = append(out, root)
			continue
		}
		cs, err := o.list(el, root.Path)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
	}
	return out, nil
}

func conceptPath(key string) (string, error) {
	k, ok := querydef.PathKey(key)
	if !ok {
		return "", fmt.Errorf("%w: a concept key is required", derrors.Invalid)
	}
	return k, nil
}

func (o ont) children(el *i2b2.Node, key string) ([]warehouse.Concept, error) {
	parent, err := conceptPath(key)
	if err != nil {
		return nil, err
	}
	return o.list(el, parent)
}

// term is the concept a key names, as its parent's listing gives it.
func (o ont) term(el *i2b2.Node) ([]warehouse.Concept, error) {
	self, err := conceptPath(el.Child("self").Text())
	if err != nil {
		return nil, err
	}
	trimmed := strings.TrimSuffix(self, `\`)
	parent := trimmed[:strings.LastIndex(trimmed, `\`)+1]
	cs, err := o.list(el, parent)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Path == self {
			return []warehouse.Concept{c}, nil
		}
	}
	return nil, fmt.Errorf("%w: concept %s", derrors.NotFound, self)
}

// search is getNameInfo: the concepts under the category — a concept key, a category's table
// code (what i2b2's web client sends), or none for the whole tree — whose names match.
func (o ont) search(el *i2b2.Node) ([]warehouse.Concept, error) {
	under := `\`
	switch c := strings.TrimSpace(el.Attr("category")); {
	case c == "" || strings.EqualFold(c, "all") || strings.EqualFold(c, "all categories") || c == ontTable:
	case strings.HasPrefix(c, `\`):
		var err error
		if under, err = conceptPath(c); err != nil {
			return nil, err
		}
	default: // a category's table code: its name under one of the roots
		roots, err := o.wh.Children(o.r.Context(), o.p, o.project, `\`)
		if err != nil {
			return nil, err
		}
		under = ""
		for _, r := range roots {
			cs, err := o.wh.Children(o.r.Context(), o.p, o.project, r.Path)
			if err != nil {
				return nil, err
			}
			if i := slices.IndexFunc(cs, func(x warehouse.Concept) bool { return x.Path == r.Path+c+`\` }); i >= 0 && under == "" {
				under = cs[i].Path
			}
		}
		if under == "" {
			return nil, fmt.Errorf("%w: no category %s", derrors.Invalid, c)
		}
	}
	ms := el.Child("match_str")
	max, _ := strconv.Atoi(el.Attr("max"))
	return o.wh.Search(o.r.Context(), o.p, o.project, under, ms.Text(), ms.Attr("strategy"), max)
}

// writeConcept writes a concept with i2b2's fields: Steward finds a concept's patients by
// its path in concept_dimension (and the facts under it), which is what tablename,
// columnname, operator and dimcode say.
func writeConcept(w *i2b2.Writer, c warehouse.Concept) {
	trimmed := strings.Trim(c.Path, `\`)
	visual := "FA"
	if c.Leaf {
		visual = "LA"
	}
	w.Open("concept")
	w.El("level", strconv.Itoa(strings.Count(trimmed, `\`))).El("key", `\\`+tableCode(c.Path)+c.Path).El("name", c.Name)
	w.El("synonym_cd", "N").El("visualattributes", visual)
	if c.Totalnum != nil {
		w.El("totalnum", strconv.FormatInt(*c.Totalnum, 10))
	}
	w.El("basecode", c.Code).El("facttablecolumn", "concept_cd").El("tablename", "concept_dimension").El("columnname", "concept_path")
	w.El("columndatatype", "T").El("operator", "LIKE").El("dimcode", c.Path)
	w.El("tooltip", strings.ReplaceAll(trimmed, `\`, ` \ `))
	w.Close("concept")
}
