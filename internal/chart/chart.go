// Package chart draws bar charts as SVG on the server, for pages and reports that must read
// without a script: a horizontal bar per category, its length proportional to the value on
// a scale from zero marked by an axis, the value written beside it as the caller gives it.
package chart

import (
	"fmt"
	"hash/fnv"
	"html/template"
	"math"
	"strconv"
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
	// Muted draws the bar in a lighter tone: the "before" of a before-and-after pair.
	Muted bool
}

// Bars is a horizontal bar chart.
type Bars struct {
	Title string  // the chart's accessible name, e.g. "Patients by age band"
	Max   float64 // the scale's end; 0: the largest value shown
	Bars  []Bar
	// LabelChars is the room for labels, in characters (0: the longest label's); charts
	// drawn one under another align when they are given the same.
	LabelChars int
	Unit       string // written after the axis' numbers, e.g. " %"
}

// Geometry, in SVG user units (CSS pixels at scale 1).
const (
	rowHeight = 26
	barHeight = 18
	barArea   = 340  // the length of a bar at the scale's end
	charWidth = 8.6  // the width of a character of the 14 px font, generously
	axisRoom  = 24   // under the bars, for the axis' numbers
	pad       = 10.0 // around the chart and between its parts
)

func esc(s string) string { return template.HTMLEscapeString(s) }

func (c Bars) labelWidth() float64 {
	n := c.LabelChars
	for _, b := range c.Bars {
		n = max(n, utf8.RuneCountInString(b.Label))
	}
	return math.Min(float64(max(n, 3))*charWidth, 300) + 2*pad
}

func (c Bars) textWidth() float64 {
	n := 4
	for _, b := range c.Bars {
		n = max(n, utf8.RuneCountInString(b.Text))
	}
	return float64(n)*charWidth + pad
}

// scale is the value at the bar area's end.
func (c Bars) scale() float64 {
	if c.Max > 0 {
		return c.Max
	}
	var m float64
	for _, x := range c.Bars {
		if !x.Hidden {
			m = math.Max(m, x.Value)
		}
	}
	return m
}

// Length is the length of bar i on the chart's scale.
func (c Bars) Length(i int) float64 {
	b, s := c.Bars[i], c.scale()
	if b.Hidden || s <= 0 || b.Value <= 0 {
		return 0
	}
	return math.Min(b.Value/s, 1) * barArea
}

// ticks are the axis' marks: 0 and round steps (1, 2 or 5 times a power of ten) up to the
// scale, at most 6.
func ticks(s float64) []float64 {
	if s <= 0 {
		return []float64{0}
	}
	step := math.Pow(10, math.Floor(math.Log10(s)))
	for _, m := range []float64{0.1, 0.2, 0.5, 1} {
		if math.Floor(s/(step*m)+1e-9) <= 5 {
			step *= m
			break
		}
	}
	var out []float64
	for i := 0.0; i*step <= s*(1+1e-9); i++ {
		out = append(out, i*step)
	}
	return out
}

// SVG is the chart as an inline <svg> element. Every text in it is escaped. The chart has
// role img and the title as its name; the numbers belong in a table beside it.
func (c Bars) SVG() template.HTML {
	lw, tw := c.labelWidth(), c.textWidth()
	w, h := lw+barArea+tw, float64(len(c.Bars)*rowHeight)+2*pad+axisRoom
	bottom := pad + float64(len(c.Bars)*rowHeight)
	// The hatch's id is the chart's own, so that charts on one page do not share ids.
	h32 := fnv.New32a()
	fmt.Fprintf(h32, "%#v", c)
	hatch := fmt.Sprintf("hatch-%08x", h32.Sum32())
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-size="14" font-family="system-ui, sans-serif">`, w, h, w, h)
	fmt.Fprintf(&s, `<title>%s</title>`, esc(c.Title))
	fmt.Fprintf(&s, `<defs><pattern id="%s" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#777" stroke-width="2"/></pattern></defs>`, hatch)
	if sc := c.scale(); sc > 0 {
		for _, v := range ticks(sc) {
			x := lw + v/sc*barArea
			fmt.Fprintf(&s, `<line class="grid" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#ddd"/>`, x, pad/2, x, bottom+4)
			fmt.Fprintf(&s, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#555">%s%s</text>`, x, bottom+18, strconv.FormatFloat(v, 'f', -1, 64), esc(c.Unit))
		}
	}
	fmt.Fprintf(&s, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#444"/>`, lw, pad/2, lw, bottom+4)
	for i, b := range c.Bars {
		y := pad + float64(i*rowHeight)
		top, mid := y+(rowHeight-barHeight)/2, y+rowHeight/2+5
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" text-anchor="end">%s</text>`, lw-pad, mid, esc(b.Label))
		end := lw
		if b.Hidden {
			fmt.Fprintf(&s, `<rect class="hidden" x="%.1f" y="%.1f" width="14" height="%d" fill="url(#%s)" stroke="#777"/>`, lw, top, barHeight, hatch)
			end += 14
		} else {
			l := c.Length(i)
			fill := "#2a6f97"
			if b.Muted {
				fill = "#9dbcd4"
			}
			fmt.Fprintf(&s, `<rect class="bar" x="%.1f" y="%.1f" width="%.2f" height="%d" fill="%s"/>`, lw, top, l, barHeight, fill)
			end += l
		}
		fmt.Fprintf(&s, `<text x="%.1f" y="%.1f" fill="#1b1b1b">%s</text>`, end+6, mid, esc(b.Text))
	}
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
