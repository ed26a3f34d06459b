package verify

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	ttemplate "text/template"
	"time"

	"github.com/stewardhealth/steward/internal/chart"
)

//go:embed templates
var templates embed.FS

// SignOff is one line of the sign-off block: who reviewed the report and what they decided.
// The report leaves the fields blank for the reviewers to fill in.
type SignOff struct {
	Role     string `json:"role"`
	Name     string `json:"name"`
	Date     string `json:"date"`
	Decision string `json:"decision"` // approved | rejected
}

// Reviewers are the people the seed's project plan names for the review call.
var Reviewers = []string{"Solution engineer", "Product owner", "Database administrator"}

// Formats maps a report file's extension to its format.
var Formats = map[string]string{".html": "html", ".htm": "html", ".json": "json", ".md": "md"}

// FormatOf returns the format for a report file name, or an error naming the ones known.
func FormatOf(path string) (string, error) {
	if f, ok := Formats[strings.ToLower(filepath.Ext(path))]; ok {
		return f, nil
	}
	return "", fmt.Errorf("report %s: unknown extension %q: use .html, .json or .md", path, filepath.Ext(path))
}

// Render writes the report in a format: html, json or md.
func Render(w io.Writer, format string, r *Report) error {
	switch format {
	case "json":
		type signed struct {
			*Report
			SignOff []SignOff `json:"sign_off"`
		}
		var so []SignOff
		for _, role := range Reviewers {
			so = append(so, SignOff{Role: role})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(signed{r, so})
	case "html":
		t, err := template.New("report.html").Funcs(template.FuncMap(funcs)).Funcs(template.FuncMap{"riskChart": riskChart}).ParseFS(templates, "templates/report.html")
		if err != nil {
			return err
		}
		return t.Execute(w, view{r, Reviewers})
	case "md":
		t, err := ttemplate.New("report.md").Funcs(funcs).ParseFS(templates, "templates/report.md")
		if err != nil {
			return err
		}
		return t.Execute(w, view{r, Reviewers})
	}
	return fmt.Errorf("unknown report format %q", format)
}

// WriteFile writes the report to path, in the format its extension names, through a
// temporary file so that a reader never sees half a report.
func WriteFile(path string, r *Report) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := Render(tmp, format, r); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

type view struct {
	*Report
	Reviewers []string
}

var funcs = ttemplate.FuncMap{
	"num": func(n int64) string {
		s := fmt.Sprint(n)
		for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
			s = s[:i] + "," + s[i:]
		}
		return s
	},
	"when":     func(t time.Time) string { return t.Format("2 January 2006, 15:04 UTC") },
	"took":     func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() },
	"title":    func(c Check) string { return checkTitle(c) },
	"findings": func(m map[Check]int64) int64 { return sumFindings(m) },
	"checks":   func() []CheckInfo { return Checks },
	"count":    func(m map[Check]int64, c Check) int64 { return m[c] },
	"inc":      func(i int) int { return i + 1 },
	"join":     func(s []string) string { return strings.Join(s, ", ") },
	"pct": func(part, whole int64) string {
		if whole == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f %%", 100*float64(part)/float64(whole))
	},
}

// riskChart draws a table's risk before and after: the share of its records in groups
// smaller than 5 and of records alone in their group, on a scale to 100 %.
func riskChart(t *Table) template.HTML {
	pct := func(part, whole int64) float64 {
		if whole == 0 {
			return 0
		}
		return 100 * float64(part) / float64(whole)
	}
	bar := func(label string, part, whole int64, original bool) chart.Bar {
		return chart.Bar{Label: label, Value: pct(part, whole), Text: fmt.Sprintf("%.1f %%", pct(part, whole)), Muted: original}
	}
	o, d := t.Risk.Original, t.Risk.Deidentified
	return chart.Bars{Title: "Share of " + t.Name + "'s records at risk, original and de-identified", Max: 100, Unit: " %", Bars: []chart.Bar{
		bar("In groups < 5, original", o.Below5, o.Records, true), bar("In groups < 5, de-identified", d.Below5, d.Records, false),
		bar("Unique, original", o.Unique, o.Records, true), bar("Unique, de-identified", d.Unique, d.Records, false)}}.SVG()
}

func checkTitle(c Check) string {
	for _, i := range Checks {
		if i.ID == c {
			return i.Title
		}
	}
	return string(c)
}

func sumFindings(m map[Check]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}
