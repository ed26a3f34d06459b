package verify

import (
	"fmt"
	"testing"
)

// The witness's rules, case by case: what a text must hold for an original to be found.
func TestWitness(t *testing.T) {
	w := newWitness(nil, 0)
	var n normal
	originals := []struct {
		value string
		col   uint16
	}{
		{"MRN518998294", 1}, {"Vasquez-Ortiz", 2}, {"Zoë", 3}, {"835-12-6709", 4}, {"4128675309", 5},
		{"10.0.7.7", 6}, {"202-403-0410", 7}, {"Todd", 8}, {"Hall", 9}, {"Fox Crossing", 10},
		{"Allegheny Riverside Health System", 11}, {"Łukasz Straße", 12},
	}
	for _, o := range originals {
		w.add(&n, o.value, o.col, true)
	}
	for _, c := range []struct {
		text     string
		scrubbed bool
		want     int // the column found; 0: none
	}{
		{"see MRN518998294/att", false, 1},
		{"key:mrn518998294", false, 1},
		{"MRN 518 998 294", false, 1},
		{"MRN5189982941", false, 0},
		{"XMRN518998294", false, 0},
		{"Vasquez-Ortiz1's room", false, 2},
		{"VASQUEZORTIZ", false, 2},
		{"Vasquez Or tiz", false, 0}, // a separator the original does not have
		{"saw zoe", false, 0},        // three letters: too short to look for inside text
		{"ZOE\u0308 Vasquez Ortiz", false, 2},
		{"SSN 835 12 6709", false, 4},
		{"ssn835126709", false, 4},
		{"835-126-709", false, 0}, // other groups
		{"(412) 867-5309", false, 5},
		{"412-867-5309-2", false, 0}, // a longer number
		{"198.18.100.77", false, 0},
		{"100.77", false, 0},
		{"seen 2024-03-04 10:30", false, 0},
		{"to dd06c3f7ad87", false, 0},
		{"by Todd", false, 8},
		{"Dr. Hall", false, 0}, // a common word in a kept column
		{"Dr. Hall", true, 9},
		{"down the hall", true, 0},
		{"Fox Crossing clinic", false, 10},
		{"a Fox crossing", false, 0},
		{"allegheny riverside\nhealth  system", false, 11},
		{"lukasz strasse", false, 12},
	} {
		n.normalise(c.text)
		w.digests(&n)
		got, ok := w.inside(&n, c.scrubbed)
		if !ok {
			got = 0
		}
		if got != c.want {
			t.Errorf("%q (scrubbed %v): got column %d, want %d", c.text, c.scrubbed, got, c.want)
		}
	}
	// absent never says no to an original, whatever its spelling.
	for _, text := range []string{"MRN518998294", "mrn-518998294", "TODD", "Zoë", "ZOE", "10.0.7.7", "100.77"} {
		n.normalise(text)
		w.digests(&n)
		if _, ok := w.whole(&n); ok && w.absent(text) {
			t.Errorf("absent(%q) is true, but whole finds it", text)
		}
	}
	if !w.absent("3fa9c0e1d2b4") || !w.absent("") || w.absent("MRN518998294") {
		t.Error("absent: a hash is not an original, an original is")
	}
	// Whole values of any length.
	for _, c := range []struct {
		text string
		want int
	}{{"ZOE\u0308", 3}, {"zoe", 3}, {"Hall", 9}, {"100.77", 0}, {"10-0-7-7", 6}, {"4128675309", 5}, {"412 867 5309", 5}} {
		n.normalise(c.text)
		w.digests(&n)
		got, ok := w.whole(&n)
		if !ok {
			got = 0
		}
		if got != c.want {
			t.Errorf("whole %q: got column %d, want %d", c.text, got, c.want)
		}
	}
}

func BenchmarkWitness(b *testing.B) {
	w := newWitness(nil, 0)
	var n normal
	for _, s := range []string{"Jane", "Doe", "Omar", "Haddad", "Zoë", "Lefèvre"} {
		w.add(&n, s, 1, true)
	}
	for i := range 1_000_000 {
		w.add(&n, fmt.Sprintf("MRN%09d", i*7919%1_000_000_000), 2, true)
		w.add(&n, fmt.Sprintf("(%03d) %03d-%04d", 201+i%789, 200+i%800, i%10000), 3, true)
	}
	notes := make([]string, 1<<16)
	for i := range notes {
		notes[i] = fmt.Sprintf("Pt 3fa9c0e1d2b4 7bc1a2f9e0d3 (0a6102bd4c0e) seen for chest pain; ECG normal, troponin pending. Portal login from 198.18.%d.%d noted at triage.", i%256, i/256)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		n.normalise(notes[i%len(notes)])
		w.digests(&n)
		w.inside(&n, true)
	}
}
