package chart

import (
	"encoding/xml"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// svgDoc is the part of the drawn SVG the tests read.
type svgDoc struct {
	Title string `xml:"title"`
	Rects []struct {
		Class string `xml:"class,attr"`
		Width string `xml:"width,attr"`
	} `xml:"rect"`
	Texts []struct {
		Class string `xml:"class,attr"`
		Text  string `xml:",chardata"`
	} `xml:"text"`
}

// texts are the chart's texts but the axis' numbers.
func (d svgDoc) texts() []string {
	var out []string
	for _, x := range d.Texts {
		if x.Class != "tick" {
			out = append(out, x.Text)
		}
	}
	return out
}

func parse(t *testing.T, c Bars) svgDoc {
	t.Helper()
	var d svgDoc
	if err := xml.Unmarshal([]byte(c.SVG()), &d); err != nil {
		t.Fatalf("the chart is not well-formed XML: %v\n%s", err, c.SVG())
	}
	return d
}

func widths(t *testing.T, d svgDoc, class string) []float64 {
	var out []float64
	for _, r := range d.Rects {
		if r.Class == class {
			w, err := strconv.ParseFloat(r.Width, 64)
			if err != nil {
				t.Fatalf("bar width %q: %v", r.Width, err)
			}
			out = append(out, w)
		}
	}
	return out
}

// Each bar's length is its value's share of the largest, from zero.
func TestBarsProportional(t *testing.T) {
	c := Bars{Title: "Patients by age band", Bars: []Bar{{"0-9", 40, "40", false, false}, {"10-17", 55, "55", false, false}, {"18-34", 110, "110", false, false}, {"35-44", 0, "0", false, false}}}
	w := widths(t, parse(t, c), "bar")
	if len(w) != 4 {
		t.Fatalf("got %d bars, want 4", len(w))
	}
	for i, b := range c.Bars {
		if want := w[2] * b.Value / 110; math.Abs(w[i]-want) > 0.01 {
			t.Errorf("bar %s: length %.2f, want %.2f (its value's share of the largest)", b.Label, w[i], want)
		}
	}
	if w[2] <= 100 {
		t.Errorf("the largest bar is %.1f long; want it to span the chart", w[2])
	}
	// A fixed scale: 25 of 100 is a quarter of the full length, 50 half.
	f := Bars{Title: "share", Max: 100, Bars: []Bar{{"a", 25, "25 %", false, false}, {"b", 50, "50 %", false, false}, {"c", 150, "150 %", false, false}}}
	fw := widths(t, parse(t, f), "bar")
	if math.Abs(fw[1]-2*fw[0]) > 0.01 || math.Abs(fw[0]-barArea/4) > 0.01 || fw[2] != barArea {
		t.Errorf("on a scale to 100: lengths %v, want a quarter, a half and the whole (capped) of %d", fw, barArea)
	}
}

// A hidden value draws no bar whatever its value, and its text is written as given.
func TestBarsHidden(t *testing.T) {
	c := Bars{Title: "Patients by race", Bars: []Bar{{"white", 300, "300", false, false}, {"asian", 2, "below the threshold", true, false}}}
	d := parse(t, c)
	if w := widths(t, d, "bar"); len(w) != 1 {
		t.Errorf("bars drawn: %v, want only the shown value's", w)
	}
	if len(widths(t, d, "hidden")) != 1 || !strings.Contains(strings.Join(d.texts(), "|"), "below the threshold") {
		t.Errorf("hidden value: want one hatched stub and its text, got texts %q", d.texts())
	}
	if c.Length(1) != 0 {
		t.Errorf("the hidden bar's length: %v, want 0", c.Length(1))
	}
}

// Labels, texts and the title are escaped: markup in them stays text.
func TestBarsEscaped(t *testing.T) {
	evil := `<script>alert("x")</script> & "q"`
	c := Bars{Title: evil, Bars: []Bar{{evil, 1, evil, false, false}}}
	svg := string(c.SVG())
	if strings.Contains(svg, "<script") {
		t.Fatalf("markup from a label reached the SVG: %s", svg)
	}
	d := parse(t, c)
	if x := d.texts(); d.Title != evil || len(x) != 2 || x[0] != evil || x[1] != evil {
		t.Errorf("escaped texts do not read back as given: title %q, texts %q", d.Title, x)
	}
}

// Two charts on one page do not share the hatch pattern's id.
func TestBarsOwnIDs(t *testing.T) {
	a := Bars{Title: "sex", Bars: []Bar{{"f", 1, "< 3", true, false}}}
	b := Bars{Title: "age", Bars: []Bar{{"0-9", 1, "< 3", true, false}}}
	id := func(c Bars) string { s := string(c.SVG()); i := strings.Index(s, `pattern id="`); return s[i : i+30] }
	if id(a) == id(b) {
		t.Errorf("both charts use %s", id(a))
	}
}

// The axis is marked from 0 in round steps up to the scale.
func TestTicks(t *testing.T) {
	for _, c := range []struct {
		scale float64
		want  string
	}{{107, "[0 20 40 60 80 100]"}, {37, "[0 10 20 30]"}, {100, "[0 20 40 60 80 100]"}, {4, "[0 1 2 3 4]"}, {0.3, "[0 0.1 0.2 0.3]"}} {
		got := ticks(c.scale)
		var ss []string
		for _, v := range got {
			ss = append(ss, strconv.FormatFloat(math.Round(v*1e9)/1e9, 'f', -1, 64))
		}
		if s := "[" + strings.Join(ss, " ") + "]"; s != c.want {
			t.Errorf("ticks(%v) = %s, want %s", c.scale, s, c.want)
		}
	}
}

// A muted bar is drawn in another tone than the others.
func TestBarsMuted(t *testing.T) {
	svg := string(Bars{Title: "before and after", Bars: []Bar{{Label: "before", Value: 2, Text: "2", Muted: true}, {Label: "after", Value: 1, Text: "1"}}}.SVG())
	fills := regexp.MustCompile(`class="bar"[^>]*fill="([^"]+)"`).FindAllStringSubmatch(svg, -1)
	if len(fills) != 2 || fills[0][1] == fills[1][1] {
		t.Errorf("fills of a muted and a plain bar: %v, want two different", fills)
	}
}
