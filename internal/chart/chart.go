// Package chart draws bar charts as SVG on the server, for pages and reports that must read
// without a script: a horizontal bar per category, its length proportional to the value on
// a scale from zero, the value written beside it as the caller gives it.
package chart

import (
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"
)

// Bar is one category.
type Bar struct {
	Label string  // the category, written at the bar's left
	Value float64 // the bar's length on the scale (negative is taken as 0)
	Text  string  // what is written after the bar: the number as the reader may see it
	// Hidden marks a value withheld (below a threshold, suppressed): no bar is drawn, a
	// hatched stub stands in its place, and Text says why.
	Hidden bool
}

// Bars is a horizontal bar chart.
type Bars struct {
	Title string  // the chart's accessible name, e.g. "Patients by age band"
	Max   float64 // the scale's end; 0: the largest value
	Bars  []Bar
}

// Geometry, in SVG user units (CSS pixels at scale 1).
const (
	rowHeight = 24
	barHeight = 16
	barArea   = 320 // the length of a bar at the scale's end
	charWidth = 7.2 // the width of a character of the 13 px label font, roughly
	pad       = 8
)

func esc(s string) string { return template.HTMLEscapeString(s) }

func (c Bars) labelWidth() float64 {
	n := 4
	for _, b := range c.Bars {
		n = max(n, utf8.RuneCountInString(b.Label))
	}
	return math.Min(float64(n)*charWidth, 260) + pad
}

func (c Bars) textWidth() float64 {
	n := 4
	for _, b := range c.Bars {
		n = max(n, utf8.RuneCountInString(b.Text))
	}
	return float64(n)*charWidth + pad
}

// Length is the length of bar i on the chart's scale.
func (c Bars) Length(i int) float64 {
	b := c.Bars[i]
	scale := c.Max
	if scale <= 0 {
		for _, x := range c.Bars {
			if !x.Hidden {
				scale = math.Max(scale, x.Value)
			}
		}
	}
	if b.Hidden || scale <= 0 || b.Value <= 0 {
		return 0
	}
	return math.Min(b.Value/scale, 1) * barArea
}

// SVG is the chart as an inline <svg> element. Every text in it is escaped. The chart has
// role img and the title as its name; the numbers belong in a table beside it.
func (c Bars) SVG() template.HTML {
	lw, tw := c.labelWidth(), c.textWidth()
	w, h := lw+barArea+tw, float64(len(c.Bars)*rowHeight+2*pad)
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-size="13" font-family="system-ui, sans-serif">`, w, h, w, h)
	fmt.Fprintf(&s, `<title>%s</title>`, esc(c.Title))
	// The hatch's id is the chart's own, so that charts on one page do not share ids.
	h32 := fnv.New32a()
	fmt.Fprintf(h32, "%#v", c)
	hatch := fmt.Sprintf("hatch-%08x", h32.Sum32())
	fmt.Fprintf(&s, `<defs><pattern id="%s" `, hatch)
	s.WriteString(`width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>`)
	fmt.Fprintf(&s, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" stroke="#555"/>`, lw, pad/2, lw, h-pad/2)
	for i, b := range c.Bars {
		y := float64(pad + i*rowHeight)
		mid := y + rowHeight/2 + 4.5
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, lw-pad, mid, esc(b.Label))
		l, end := c.Length(i), lw
		if b.Hidden {
			fmt.Fprintf(&s, `<rect class="hidden" x="%.1f" y="%.1f" width="12" height="%d" fill="url(#%s)" stroke="#888"/>`, lw, y+(rowHeight-barHeight)/2, barHeight, hatch)
			end += 12
		} else {
			fmt.Fprintf(&s, `<rect class="bar" x="%.1f" y="%.1f" width="%.2f" height="%d" fill="#2a6f97"/>`, lw, y+(rowHeight-barHeight)/2, l, barHeight)
			end += l
		}
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="#1b1b1b">%s</text>`, end+4, mid, esc(b.Text))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
