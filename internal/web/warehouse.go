package web

import (
	"bytes"
	"cmp"
	"fmt"
	"html/template"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/chart"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/querydef"
)

// warehouseRoutes serves cohort queries, patient-level data and query lockouts (issue 7).
// Without a warehouse the routes answer 404.
func (s *Server) warehouseRoutes(wh *warehouse.Warehouse) {
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, p access.Principal) error) {
		s.HandleAPI(pattern, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if wh == nil {
				return derrors.NotFound
			}
			return h(w, r, p)
		})
	}
	api("POST /api/v1/projects/{id}/queries", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		q, err := readQuery(r)
		if err != nil {
			return err
		}
		var o warehouse.RunOptions
		if b := r.URL.Query().Get("breakdowns"); b != "" {
			o.Breakdowns = strings.Split(b, ",")
		}
		a, err := wh.RunWith(r.Context(), p, r.PathValue("id"), q, o)
		if err != nil {
			return err
		}
		v, err := neutralJSON(a)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, v)
	})
	api("GET /api/v1/projects/{id}/queries", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		as, err := wh.Queries(r.Context(), p, r.PathValue("id"))
		return replyNeutral(w, as, err)
	})
	api("GET /api/v1/projects/{id}/queries/{query}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		a, err := wh.Result(r.Context(), p, r.PathValue("id"), r.PathValue("query"))
		return replyNeutral(w, a, err)
	})
	api("GET /api/v1/projects/{id}/queries/{query}/patients", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		v := r.URL.Query()
		o := warehouse.PDOOptions{Blobs: v.Get("blobs") == "true", Identified: v.Get("identified") == "true"}
		for name, dst := range map[string]*int{"offset": &o.Offset, "limit": &o.Limit} {
			if s := v.Get(name); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil {
					return derrors.Invalid
				}
				*dst = n
			}
		}
		pdo, err := wh.Patients(r.Context(), p, r.PathValue("id"), r.PathValue("query"), o)
		return replyNeutral(w, pdo, err)
	})
	api("GET /api/v1/projects/{id}/concepts", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		v := r.URL.Query()
		children := wh.Children
		switch v.Get("totalnum") {
		case "", "false":
		case "true":
			children = wh.ChildrenCounted
		default:
			return fmt.Errorf("%w: totalnum is true or false", derrors.Invalid)
		}
		cs, err := children(r.Context(), p, r.PathValue("id"), v.Get("parent"))
		return reply(w, cs, err)
	})
	api("GET /api/v1/warehouse/lockouts", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		ls, err := wh.Lockouts(r.Context(), p)
		return reply(w, ls, err)
	})
	api("POST /api/v1/warehouse/lockouts/{user}/unlock", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Reason string `json:"reason"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		return noContent(w, wh.Unlock(r.Context(), p, r.PathValue("user"), req.Reason))
	})
	s.cohortRoutes(wh)
	s.obfuscationRoutes(wh)
	s.batchRoutes(wh)
}

// replyNeutral is reply in the API's vocabulary (vocabulary.go), not the warehouse's columns.
func replyNeutral(w http.ResponseWriter, v any, err error) error {
	if err != nil {
		return err
	}
	n, err := neutralJSON(v)
	return reply(w, n, err)
}

// cohortPage is the page that builds a query from the concept tree and shows the answer.
type cohortPage struct {
	Project, Parent, Up string
	Children            []warehouse.Concept // the tree's top: the concepts under Parent
	Q                   string              // the concept search's text, when searched without htmx
	Results             []warehouse.Concept
	Chosen              [][]conceptNode // per panel, the concepts picked (checkboxes concept0, concept1…) and their values
	Panels              []string        // per panel, paths typed by hand (textareas panel)
	Options             []panelOptions  // per panel, its constraints
	Timing              string          // where the panels' facts must meet: ANY or SAMEVISIT
	Breakdowns          bool            // asked for (obfuscated users: each dimension spends from the budget)
	Answer              *warehouse.Answer
	Charts              []breakdownView // the answer's breakdowns, a chart and a table each
}

// panelOptions are a panel's constraints as the page's form controls give them: exclude the
// patients it finds, how often each item must occur, and the dates its facts fall between
// (both days included).
type panelOptions struct {
	Exclude  bool
	Occurs   int // at least; 1 is i2b2's default
	From, To string
}

// apply reads panel i's constraints from the form into o and the query's panel.
func (o *panelOptions) apply(f url.Values, i int, pn *querydef.Panel) error {
	n := strconv.Itoa(i)
	o.Exclude, o.From, o.To, o.Occurs = f.Get("exclude"+n) == "on", strings.TrimSpace(f.Get("from"+n)), strings.TrimSpace(f.Get("to"+n)), 1
	if v := strings.TrimSpace(f.Get("occurs" + n)); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil || k < 1 || k > 1000 {
			return fmt.Errorf("%w: panel %d: at least how many times must be a whole number from 1 to 1000", derrors.Invalid, i+1)
		}
		o.Occurs = k
	}
	day := func(name, v string) (time.Time, error) {
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return t, fmt.Errorf("%w: panel %d: %s must be a date like 2024-01-31", derrors.Invalid, i+1, name)
		}
		return t, nil
	}
	pn.Invert = o.Exclude
	if o.Occurs > 1 {
		pn.Occurs = querydef.Occurrence{Op: "GE", N: o.Occurs}
	}
	if o.From != "" {
		t, err := day("from", o.From)
		if err != nil {
			return err
		}
		pn.DateFrom = &querydef.Bound{At: t.Format("2006-01-02 15:04:05")}
	}
	if o.To != "" {
		t, err := day("to", o.To)
		if err != nil {
			return err
		}
		// The whole day of To: facts before the next day's start.
		pn.DateTo = &querydef.Bound{At: t.AddDate(0, 0, 1).Format("2006-01-02 15:04:05"), Exclusive: true}
	}
	return nil
}

// cohortPanels is the number of panels the cohort page offers.
const cohortPanels = 3

// conceptNode is a concept as the page's fragments draw it, in its project.
type conceptNode struct {
	Project string
	C       warehouse.Concept
	Panel   int
	// Op and Number are a picked concept's numeric value constraint (fields op{panel}:{path}
	// and number{panel}:{path}); Op "" for any value.
	Op, Number string
}

// valueOps are the comparisons the page offers for a picked concept's value, in order.
var valueOps = []struct{ Op, Text string }{{"", "any value"}, {"GT", ">"}, {"GE", "≥"}, {"EQ", "="}, {"LE", "≤"}, {"LT", "<"}}

// value reads a picked concept's value constraint from the form: nil for any value.
func (c *conceptNode) value(f url.Values) (*querydef.Value, error) {
	key := strconv.Itoa(c.Panel) + ":" + c.C.Path
	c.Op, c.Number = f.Get("op"+key), strings.TrimSpace(f.Get("number"+key))
	if c.Op == "" {
		return nil, nil
	}
	if !slices.ContainsFunc(valueOps, func(o struct{ Op, Text string }) bool { return o.Op == c.Op }) {
		return nil, fmt.Errorf("%w: %s: unknown comparison %q", derrors.Invalid, c.C.Name, c.Op)
	}
	n, err := strconv.ParseFloat(c.Number, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) {
		return nil, fmt.Errorf("%w: %s: the value to compare with must be a number", derrors.Invalid, c.C.Name)
	}
	return &querydef.Value{Type: "NUMBER", Op: c.Op, Number: n}, nil
}

// breakdownView is one breakdown dimension on a page: an SVG bar chart and the numbers in a
// table beside it, written as the answer gives them (never more exact).
type breakdownView struct {
	Dim, Title, Head string
	Noised           bool
	Rows             []breakdownRow
	Chart            template.HTML
}

type breakdownRow struct{ Label, Text string }

var dimensionNames = map[string][2]string{"sex": {"Patients by sex", "Sex"}, "age": {"Patients by age band (years)", "Age band"},
	"race": {"Patients by race", "Race"}, "vital_status": {"Patients by vital status", "Vital status"}}

// breakdownViews draws an answer's breakdowns in the order of warehouse.Dimensions (others
// after, by name). A noised cell of 0 is below the threshold: no bar, and said so.
func breakdownViews(a *warehouse.Answer) []breakdownView {
	dims := slices.Collect(maps.Keys(a.Breakdowns))
	rank := func(d string) int {
		if i := slices.Index(warehouse.Dimensions, d); i >= 0 {
			return i
		}
		return len(warehouse.Dimensions)
	}
	slices.SortFunc(dims, func(x, y string) int { return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(x, y)) })
	// One room for labels in every chart, so that they align one under another.
	room := 0
	for _, cells := range a.Breakdowns {
		for k := range cells {
			room = max(room, utf8.RuneCountInString(k))
		}
	}
	var out []breakdownView
	for _, d := range dims {
		cells := a.Breakdowns[d]
		names, ok := dimensionNames[d]
		if !ok {
			names = [2]string{"Patients by " + d, d}
		}
		v := breakdownView{Dim: d, Title: names[0], Head: names[1], Noised: a.Method != ""}
		c := chart.Bars{Title: names[0], LabelChars: room}
		for _, k := range cellOrder(slices.Collect(maps.Keys(cells))) {
			n := cells[k]
			hidden := v.Noised && n == 0
			text := strconv.FormatInt(n, 10)
			if hidden {
				text = "below the threshold"
			}
			v.Rows = append(v.Rows, breakdownRow{k, text})
			c.Bars = append(c.Bars, chart.Bar{Label: k, Value: float64(n), Text: text, Hidden: hidden})
		}
		v.Chart = c.SVG()
		out = append(out, v)
	}
	return out
}

// cellOrder sorts a dimension's cells for reading: by a leading number (age bands) when
// they have one, then by name; "unknown" last.
func cellOrder(ks []string) []string {
	lead := func(k string) (int, bool) {
		i := 0
		for i < len(k) && k[i] >= '0' && k[i] <= '9' {
			i++
		}
		n, err := strconv.Atoi(k[:i])
		return n, err == nil
	}
	slices.SortFunc(ks, func(x, y string) int {
		if ux, uy := x == "unknown", y == "unknown"; ux != uy {
			if ux {
				return 1
			}
			return -1
		}
		nx, okx := lead(x)
		ny, oky := lead(y)
		if okx && oky && nx != ny {
			return cmp.Compare(nx, ny)
		}
		return cmp.Compare(x, y)
	})
	return ks
}

func (s *Server) cohortRoutes(wh *warehouse.Warehouse) {
	t := template.Must(template.New("layout.html").Funcs(funcs).Funcs(template.FuncMap{
		"inc":    func(i int) int { return i + 1 },
		"node":   func(project string, c warehouse.Concept) conceptNode { return conceptNode{Project: project, C: c} },
		"ops":    func() any { return valueOps },
		"panels": func() []int { return []int{0, 1, 2} },
	}).ParseFS(files, "templates/layout.html", "templates/cohort.html"))
	h := func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if wh == nil {
			return derrors.NotFound
		}
		d := cohortPage{Project: r.PathValue("id"), Parent: cmp.Or(r.FormValue("parent"), `\i2b2\`), Panels: make([]string, cohortPanels),
			Chosen: make([][]conceptNode, cohortPanels), Options: make([]panelOptions, cohortPanels), Timing: querydef.Any,
			Q: strings.TrimSpace(r.URL.Query().Get("q"))}
		for i := range d.Options {
			d.Options[i].Occurs = 1
		}
		if i := strings.LastIndex(strings.TrimSuffix(d.Parent, `\`), `\`); i > 0 {
			d.Up = d.Parent[:i+1]
		}
		v := view{Title: "Cohort query", Me: p, Data: &d, Request: r}
		if r.Method == http.MethodPost {
			var q querydef.Query
			for i := range cohortPanels {
				var items []querydef.Item
				for _, path := range dedupe(r.PostForm[fmt.Sprintf("concept%d", i)]) {
					c, err := conceptAt(r, wh, p, d.Project, path)
					if err != nil {
						v.Error = err.Error()
						continue
					}
					n := conceptNode{Project: d.Project, C: c, Panel: i}
					val, err := n.value(r.PostForm)
					if err != nil {
						v.Error = err.Error()
					}
					d.Chosen[i] = append(d.Chosen[i], n)
					items = append(items, querydef.Item{Key: c.Path, Value: val})
				}
				if typed := r.PostForm["panel"]; i < len(typed) {
					d.Panels[i] = typed[i]
					for _, line := range strings.Split(typed[i], "\n") {
						if line = strings.TrimSpace(line); line != "" {
							items = append(items, querydef.Item{Key: line})
						}
					}
				}
				pn := querydef.Panel{Items: items}
				if err := d.Options[i].apply(r.PostForm, i, &pn); err != nil {
					v.Error = err.Error()
				}
				if len(items) > 0 {
					q.Panels = append(q.Panels, pn)
				}
			}
			switch t := r.PostFormValue("timing"); t {
			case "", querydef.Any:
			case querydef.SameVisit:
				d.Timing, q.Timing = t, t
			default:
				v.Error = fmt.Sprintf("timing %q: want %s or %s", t, querydef.Any, querydef.SameVisit)
			}
			var o warehouse.RunOptions
			if d.Breakdowns = r.PostFormValue("breakdowns") == "on"; d.Breakdowns {
				o.Breakdowns = []string{"all"}
			}
			if v.Error == "" {
				a, err := wh.RunWith(r.Context(), p, d.Project, q, o)
				if k := derrors.Kind(err); err != nil && k != derrors.Invalid && k != derrors.Locked && k != derrors.TooMany && k != derrors.Forbidden {
					return err
				}
				if err != nil {
					v.Error = err.Error()
				} else {
					d.Answer = &a
					d.Charts = breakdownViews(&a)
				}
			}
		}
		var err error
		if d.Children, err = wh.Children(r.Context(), p, d.Project, d.Parent); err != nil {
			return err
		}
		if d.Q != "" {
			if d.Results, err = wh.FindConcepts(r.Context(), p, d.Project, d.Q); err != nil {
				return err
			}
		}
		return s.render(w, r, http.StatusOK, t, v)
	}
	s.HandlePage("GET /projects/{id}/cohort", false, h)
	s.HandlePage("POST /projects/{id}/cohort", false, h)

	// The fragments htmx loads into the page: a concept's children (when its folder opens),
	// the search's results, and a picked concept for a panel.
	fragment := func(w http.ResponseWriter, name string, data any) error {
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, data); err != nil {
			return fmt.Errorf("render %s: %w", name, err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, err := w.Write(buf.Bytes())
		return err
	}
	s.HandlePage("GET /projects/{id}/cohort/concepts", false, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if wh == nil {
			return derrors.NotFound
		}
		project := r.PathValue("id")
		cs, err := wh.Children(r.Context(), p, project, cmp.Or(r.FormValue("parent"), `\i2b2\`))
		if err != nil {
			return err
		}
		return fragment(w, "children", struct {
			Project  string
			Children []warehouse.Concept
		}{project, cs})
	})
	s.HandlePage("GET /projects/{id}/cohort/search", false, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if wh == nil {
			return derrors.NotFound
		}
		d := cohortPage{Project: r.PathValue("id"), Q: strings.TrimSpace(r.FormValue("q"))}
		if len(d.Q) > 200 {
			return fmt.Errorf("%w: search for at most 200 characters", derrors.Invalid)
		}
		var err error
		if d.Results, err = wh.FindConcepts(r.Context(), p, d.Project, d.Q); err != nil {
			return err
		}
		return fragment(w, "results", &d)
	})
	s.HandlePage("GET /projects/{id}/cohort/pick", false, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if wh == nil {
			return derrors.NotFound
		}
		project := r.PathValue("id")
		panel, err := strconv.Atoi(cmp.Or(r.FormValue("target"), "0"))
		if err != nil || panel < 0 || panel >= cohortPanels {
			return fmt.Errorf("%w: target must be a panel from 0 to %d", derrors.Invalid, cohortPanels-1)
		}
		c, err := conceptAt(r, wh, p, project, r.FormValue("path"))
		if err != nil {
			return err
		}
		// The picked concept goes to the end of its panel's list, unless it is there already.
		if slices.Contains(r.Form[fmt.Sprintf("concept%d", panel)], c.Path) {
			w.Header().Set("HX-Reswap", "none")
			w.WriteHeader(http.StatusNoContent)
			return nil
		}
		w.Header().Set("HX-Retarget", fmt.Sprintf("#panel-%d-items", panel))
		w.Header().Set("HX-Reswap", "beforeend")
		return fragment(w, "picked", conceptNode{Project: project, C: c, Panel: panel})
	})
}

// conceptAt is the concept at path as the project's queries see it (its parent's child).
func conceptAt(r *http.Request, wh *warehouse.Warehouse, p access.Principal, project, path string) (warehouse.Concept, error) {
	path = strings.TrimSpace(path)
	if path != "" && !strings.HasSuffix(path, `\`) {
		path += `\`
	}
	i := strings.LastIndex(strings.TrimSuffix(path, `\`), `\`)
	if len(path) > 700 || i < 1 {
		return warehouse.Concept{}, fmt.Errorf("%w: no concept at %q", derrors.Invalid, path)
	}
	cs, err := wh.Children(r.Context(), p, project, path[:i+1])
	if err != nil {
		return warehouse.Concept{}, err
	}
	for _, c := range cs {
		if c.Path == path {
			return c, nil
		}
	}
	return warehouse.Concept{}, fmt.Errorf("%w: no concept at %q", derrors.Invalid, path)
}

// readQuery reads a cohort query: JSON, or i2b2's query_definition XML when the body is XML.
func readQuery(r *http.Request) (querydef.Query, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/xml" || mt == "text/xml" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return querydef.Query{}, err
		}
		return querydef.ParseXML(b)
	}
	var q querydef.Query
	return q, decode(r, &q)
}

// dedupe is vs without empty and repeated values, in order.
func dedupe(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
