package transform

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/detect"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/policy"
)

func testKey(t testing.TB, s string) Key {
	t.Helper()
	k, err := NewKey([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func compile(t testing.TB, r policy.Rule, c *database.Column, dict *Dictionary) Func {
	t.Helper()
	tbl := &database.Table{Name: "t", Columns: []*database.Column{{Name: "id", Type: database.Integer, Bits: 64}, c}}
	f, err := Compile(r, tbl, c, nil, dict)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func apply(t testing.TB, f Func, h *Hasher, v any) any {
	t.Helper()
	out, err := f(h, database.Row{int64(1), v}, v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestHashCutToColumn(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	other := testKey(t, "another key, also long enough").NewHasher()
	cases := []struct {
		rule    policy.Rule
		length  int
		wantLen int
		chars   string
	}{
		{policy.Rule{Kind: policy.Hash}, 12, 12, "0123456789abcdef"},
		{policy.Rule{Kind: policy.Hash}, 0, 64, "0123456789abcdef"},
		{policy.Rule{Kind: policy.Hash}, 200, 64, "0123456789abcdef"},
		{policy.Rule{Kind: policy.Hash, Alphabet: policy.Base32}, 10, 10, "abcdefghijklmnopqrstuvwxyz234567"},
		{policy.Rule{Kind: policy.Hash, Alphabet: policy.Digits}, 11, 11, "0123456789"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%d", c.rule, c.length), func(t *testing.T) {
			f := compile(t, c.rule, &database.Column{Name: "mrn", Type: database.Text, Length: c.length}, nil)
			a := apply(t, f, h, "MRN00012345").(string)
			if len(a) != c.wantLen {
				t.Errorf("got %d characters, want %d", len(a), c.wantLen)
			}
			if strings.Trim(a, c.chars) != "" {
				t.Errorf("got %q, want only %q", a, c.chars)
			}
			if b := apply(t, f, h, "MRN00012345"); b != a {
				t.Errorf("same input gave %q then %q", a, b)
			}
			if b := apply(t, f, other, "MRN00012345"); b == a {
				t.Errorf("two keys gave the same hash %q", a)
			}
			if got := apply(t, f, h, nil); got != nil {
				t.Errorf("NULL became %v", got)
			}
		})
	}
}

func TestUnkeyedIsPlainSHA256(t *testing.T) {
	f := compile(t, policy.Rule{Kind: policy.Hash}, &database.Column{Name: "ssn", Type: database.Text}, nil)
	got := apply(t, f, Unkeyed().NewHasher(), "abc")
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" // SHA-256("abc")
	if got != want {
		t.Errorf("got %v, want %s", got, want)
	}
}

func TestIntegerHashIsAPermutation(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	for _, c := range []*database.Column{
		{Name: "n", Type: database.Integer, Bits: 8},
		{Name: "n", Type: database.Integer, Bits: 16},
		{Name: "n", Type: database.Integer, Bits: 8, Unsigned: true},
	} {
		f := compile(t, policy.Rule{Kind: policy.Hash}, c, nil)
		lo, hi := int64(-1)<<(c.Bits-1), int64(1)<<(c.Bits-1)-1
		if c.Unsigned {
			lo, hi = 0, int64(1)<<c.Bits-1
		}
		seen := map[int64]bool{}
		unchanged := 0
		for v := lo; v <= hi; v++ {
			out := apply(t, f, h, v).(int64)
			if out < lo || out > hi {
				t.Fatalf("%d bits: %d became %d, outside [%d, %d]", c.Bits, v, out, lo, hi)
			}
			if (v < 0) != (out < 0) {
				t.Fatalf("%d bits: %d became %d: sign changed", c.Bits, v, out)
			}
			if seen[out] {
				t.Fatalf("%d bits: two inputs became %d", c.Bits, out)
			}
			seen[out] = true
			if out == v {
				unchanged++
			}
		}
		if unchanged > int(hi-lo)/50 {
			t.Errorf("%d bits: %d values unchanged", c.Bits, unchanged)
		}
	}
	// PostgreSQL hands integers over as text; the result must be the same number.
	f := compile(t, policy.Rule{Kind: policy.Hash}, &database.Column{Name: "n", Type: database.Integer, Bits: 32}, nil)
	if a, b := apply(t, f, h, int64(4242)), apply(t, f, h, "4242"); fmt.Sprint(a) != b {
		t.Errorf("int64 gave %v, text gave %v", a, b)
	}
}

func TestPlaceholders(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	doc4 := netip.MustParsePrefix("198.18.0.0/15")
	doc6 := netip.MustParsePrefix("2001:db8::/32")
	for _, in := range []string{"10.1.2.3", "192.168.0.10", "172.16.5.4/24"} {
		out := Place(h, policy.PlaceIP, in, 0)
		addr, _, _ := strings.Cut(out, "/")
		if a, err := netip.ParseAddr(addr); err != nil || !doc4.Contains(a) {
			t.Errorf("ip %s became %s, want an address in %s", in, out, doc4)
		}
		if strings.Contains(in, "/") && !strings.HasSuffix(out, "/24") {
			t.Errorf("ip %s became %s: prefix length lost", in, out)
		}
		if Place(h, policy.PlaceIP, in, 0) != out {
			t.Errorf("ip %s: not consistent", in)
		}
	}
	if out := Place(h, policy.PlaceIP, "fe80::1ff:fe23:4567:890a", 0); !doc6.Contains(netip.MustParseAddr(out)) {
		t.Errorf("IPv6 became %s, want an address in %s", out, doc6)
	}
	if out := Place(h, policy.PlaceHostname, "STB-XT-SQL01", 0); out != Place(h, policy.PlaceHostname, "stb-xt-sql01", 0) || !strings.HasSuffix(out, ".invalid") {
		t.Errorf("hostname became %s, want a name under .invalid whatever the case", out)
	}
	if out := Place(h, policy.PlaceHostname, "stb-xt-sql01", 15); len(out) > 15 {
		t.Errorf("hostname %q overflows 15 characters", out)
	}
	if out := Place(h, policy.PlaceURL, "mllp://stb-hl7-01.stbrigid.local:6661", 0); !strings.HasPrefix(out, "https://endpoint-") || strings.Contains(out, "stbrigid") {
		t.Errorf("url became %s", out)
	}
	if a, b := Place(h, policy.PlaceURL, "https://x.org/a", 0), Place(h, policy.PlaceURL, "https://x.org/b", 0); a == b || a[:26] != b[:26] {
		t.Errorf("two URLs of one host: %s and %s, want the same endpoint and different paths", a, b)
	}
	if out := Place(h, policy.PlaceEmail, "Jane.Doe@StMarys.org", 0); !strings.HasSuffix(out, "@example.invalid") {
		t.Errorf("email became %s", out)
	}
	if out := Place(h, "REDACTED-SERVER", "anything", 8); out != "REDACTED" {
		t.Errorf("fixed placeholder: got %q, want it cut to 8", out)
	}
	if got := Pseudonym(h, "Enterprise", "St. Brigid  Health", 0); got != Pseudonym(h, "Enterprise", "st. brigid health", 0) || !strings.HasPrefix(got, "Enterprise ") {
		t.Errorf("pseudonym %q: want one per name whatever the case and spacing", got)
	}
	if got := Pseudonym(h, "Enterprise", "St. Brigid", 9); len(got) > 9 {
		t.Errorf("pseudonym %q overflows 9 characters", got)
	}
}

func TestShiftDate(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	tbl := &database.Table{Name: "e", Columns: []*database.Column{{Name: "patient_id", Type: database.Integer}, {Name: "at", Type: database.Timestamp}}}
	f, err := Compile(policy.Rule{Kind: policy.ShiftDate, By: "patient_id", Days: 10}, tbl, tbl.Columns[1], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	shift := func(id int64, v string) string {
		out, err := f(h, database.Row{id, v}, v)
		if err != nil {
			t.Fatal(err)
		}
		return out.(string)
	}
	a, b := shift(7, "2024-03-01 08:15:00"), shift(7, "2024-03-05 17:45:30.5+01")
	if a[10:] != " 08:15:00" || b[10:] != " 17:45:30.5+01" {
		t.Errorf("time of day changed: %s, %s", a, b)
	}
	da, _ := parseDate(a[:10])
	db, _ := parseDate(b[:10])
	if db.Sub(da).Hours() != 4*24 {
		t.Errorf("interval changed: %s to %s", a, b)
	}
	offsets := map[int]bool{}
	for id := int64(0); id < 500; id++ {
		d, _ := parseDate(shift(id, "2024-03-01")[:10])
		days := int(d.Sub(mustDate("2024-03-01")).Hours() / 24)
		if days < -10 || days > 10 {
			t.Fatalf("entity %d shifted %d days, outside ±10", id, days)
		}
		offsets[days] = true
	}
	if len(offsets) < 15 {
		t.Errorf("only %d distinct offsets over 500 entities", len(offsets))
	}
	if _, err := f(h, database.Row{int64(1), "03/01/2024"}, "03/01/2024"); err == nil || strings.Contains(err.Error(), "03/01") {
		t.Errorf("bad date: got error %v, want one that does not repeat the value", err)
	}
}

func TestGeneralizeAndNull(t *testing.T) {
	cases := []struct {
		rule policy.Rule
		col  *database.Column
		in   any
		want any
	}{
		{policy.Rule{Kind: policy.Generalize, Text: policy.Zip3}, &database.Column{Type: database.Text, Length: 5}, "60615", "60600"},
		{policy.Rule{Kind: policy.Generalize, Text: policy.Zip3}, &database.Column{Type: database.Text, Length: 10}, "03601-1234", "00000"},
		{policy.Rule{Kind: policy.Generalize, Text: policy.Zip3}, &database.Column{Type: database.Text}, "T2P 1J9", "T2P"},
		{policy.Rule{Kind: policy.Generalize, Text: policy.Year}, &database.Column{Type: database.Date}, "1962-05-26", "1962-01-01"},
		{policy.Rule{Kind: policy.Generalize, Text: policy.Month}, &database.Column{Type: database.Timestamp}, "2024-03-05 17:45:30", "2024-03-01 00:00:00"},
		{policy.Rule{Kind: policy.Generalize, Text: policy.AgeBand}, &database.Column{Type: database.Integer, Bits: 32}, int64(47), int64(40)},
		{policy.Rule{Kind: policy.Generalize, Text: policy.AgeBand}, &database.Column{Type: database.Integer, Bits: 32}, "93", "90"},
		{policy.Rule{Kind: policy.Generalize, Text: policy.AgeBand}, &database.Column{Type: database.Text}, "93", "90+"},
		{policy.Rule{Kind: policy.Null}, &database.Column{Type: database.Text, NotNull: true}, "Jane", ""},
		{policy.Rule{Kind: policy.Null}, &database.Column{Type: database.Text}, "Jane", nil},
		{policy.Rule{Kind: policy.Null}, &database.Column{Type: database.Integer, NotNull: true}, int64(5), int64(0)},
	}
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	for _, c := range cases {
		c.col.Name = "c"
		if got := apply(t, compile(t, c.rule, c.col, nil), h, c.in); got != c.want {
			t.Errorf("%s on %v: got %#v, want %#v", c.rule, c.in, got, c.want)
		}
	}
}

func TestScrub(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	d := NewDictionary()
	d.Add("Jane", "NAME1")
	d.Add("Doe", "NAME2")
	d.Add("MRN0012345", "a1b2c3")
	d.Add("May", "NAME3")
	d.Add("Mary Ann", "NAME4")
	d.Add("7", "never")  // too short to find safely
	d.Add("Al", "NAME6") // the shortest values it keeps: two letters, four digits
	d.Add("1234", "PIN")
	d.Add("12 Oak", "ADDR") // a value whose first word is too short to find alone
	f := compile(t, policy.Rule{Kind: policy.Scrub}, &database.Column{Name: "note", Type: database.Text}, d)
	cases := []struct{ in, want string }{
		{"Seen by Haddad", "Seen by Haddad"},
		{"Pt Jane Doe (MRN0012345) to CT.", "Pt NAME1 NAME2 (a1b2c3) to CT."},
		{"JANE DOE, bed 7", "NAME1 NAME2, bed 7"},
		{"Pt may go home in May.", "Pt may go home in NAME3."},
		{"Mary called", "Mary called"},
		{"Seen by Mary Ann; Mary said ok", "Seen by NAME4; Mary said ok"},
		{"no identifiers here", "no identifiers here"},
		{"Al paid 1234 at 12 Oak Lane, room 12, bed 7", "NAME6 paid PIN at ADDR Lane, room 12, bed 7"},
	}
	for _, c := range cases {
		if got := apply(t, f, h, c.in); got != c.want {
			t.Errorf("scrub %q: got %q, want %q", c.in, got, c.want)
		}
	}
	// One hasher, another dictionary: what the first did not hold, the second may.
	other := NewDictionary()
	other.Add("Haddad", "NAME5")
	if got := other.Scrub(h, "Seen by Haddad", 0); got != "Seen by NAME5" {
		t.Errorf("a word absent from one dictionary was not looked up in another: got %q", got)
	}
	note := "Call 555-201-3344 or mail jdoe@stmarys.org; ssn 123-45-6789 logged from 10.20.1.12 on ws07.stmarys.local"
	got := apply(t, f, h, note).(string)
	for _, leak := range []string{"201-3344", "jdoe", "123-45", "10.20.1.12", "ws07"} {
		if strings.Contains(got, leak) {
			t.Errorf("scrub left %q in %q", leak, got)
		}
	}
	for _, m := range detect.Find(got) {
		if !detect.Reserved(m, got) {
			t.Errorf("scrubbed note %q still holds a real-looking %v %q", got, m.Kind, got[m.Start:m.End])
		}
	}
	if !strings.Contains(got, Place(h, policy.PlaceIP, "10.20.1.12", 0)) {
		t.Errorf("the address in %q is not the one {placeholder: ip} gives", got)
	}
	if cut := apply(t, compile(t, policy.Rule{Kind: policy.Scrub}, &database.Column{Name: "note", Type: database.Text, Length: 10}, d), h, "Zoë Zoë Zoë Zoë"); cut != "Zoë Zoë Zo" {
		t.Errorf("scrub into varchar(10): got %q", cut)
	}
}

func TestCollisionsCounted(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	track := NewCollisions()
	c := &database.Column{Name: "code", Type: database.Text, Length: 6}
	tbl := &database.Table{Name: "t", Columns: []*database.Column{c}}
	f, err := Compile(policy.Rule{Kind: policy.Hash}, tbl, c, track, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 6 hex characters are 24 bits: 20,000 values collide about 12 times.
	for i := range 20000 {
		for range 2 { // a repeated value is not a collision
			if _, err := f(h, nil, fmt.Sprintf("V%d", i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if track.Count() < 3 || track.Count() > 40 {
		t.Errorf("got %d collisions, want about 12", track.Count())
	}
}

func BenchmarkHash(b *testing.B) {
	h := testKey(b, "a key of sixteen bytes or more").NewHasher()
	f := compile(b, policy.Rule{Kind: policy.Hash}, &database.Column{Name: "mrn", Type: database.Text, Length: 12}, nil)
	row := database.Row{int64(1), "MRN00012345"}
	for b.Loop() {
		f(h, row, "MRN00012345")
	}
}

func parseDate(s string) (t time.Time, err error) { return time.Parse(time.DateOnly, s) }

func mustDate(s string) time.Time {
	t, err := parseDate(s)
	if err != nil {
		panic(err)
	}
	return t
}

// BenchmarkScrub scrubs notes like bench/deid's against a dictionary of two million values.
func BenchmarkScrub(b *testing.B) {
	h := testKey(b, "a key of sixteen bytes or more").NewHasher()
	d := NewDictionary()
	hash := d.Rule(InText(policy.Rule{Kind: policy.Hash}, &database.Column{Type: database.Text, Length: 12}))
	for _, n := range []string{"Jane", "Doe", "Omar", "Haddad", "Zoë", "Lefèvre"} {
		d.AddFrom(n, hash)
	}
	for i := range 1_000_000 {
		d.AddFrom(fmt.Sprintf("MRN%09d", i*7919%1_000_000_000), hash)
		d.AddFrom(fmt.Sprintf("(%03d) %03d-%04d", 201+i%789, 200+i%800, i%10000), hash)
	}
	notes := make([]string, 1<<16) // more notes than any cache holds
	for i := range notes {
		notes[i] = fmt.Sprintf("Pt Jane Doe (MRN%09d) seen for chest pain; ECG normal, troponin pending. Portal login from 10.%d.%d.7 noted at triage.", (i*13)*7919%1_000_000_000, i%256, i/256)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.Scrub(h, notes[i%len(notes)], 0)
	}
}

// A value a column's rule transforms is replaced in text as the column's rule replaces it:
// the hash cut to 12 characters, the pseudonym, the placeholder.
func TestScrubInText(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	d := NewDictionary()
	col := func(r policy.Rule, c *database.Column) string {
		t.Helper()
		c.Name = "c"
		got := apply(t, compile(t, r, c, nil), h, map[policy.Kind]string{policy.Hash: "MRN0012345", policy.Pseudonym: "St. Mary's North", policy.Placeholder: "ws07.stmarys.local"}[r.Kind])
		d.AddFrom(map[policy.Kind]string{policy.Hash: "MRN0012345", policy.Pseudonym: "St. Mary's North", policy.Placeholder: "ws07.stmarys.local"}[r.Kind], d.Rule(InText(r, c)))
		return got.(string)
	}
	mrn := col(policy.Rule{Kind: policy.Hash}, &database.Column{Type: database.Text, Length: 40})
	site := col(policy.Rule{Kind: policy.Pseudonym, Text: "Campus"}, &database.Column{Type: database.Text, Length: 20})
	host := col(policy.Rule{Kind: policy.Placeholder, Text: policy.PlaceHostname}, &database.Column{Type: database.Text})
	f := compile(t, policy.Rule{Kind: policy.Scrub}, &database.Column{Name: "note", Type: database.Text}, d)
	got := apply(t, f, h, "MRN0012345 moved to St. Mary's North, terminal ws07.stmarys.local").(string)
	if want := mrn[:12] + " moved to " + site + ", terminal " + host; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// Another spelling is found too, and replaced by the rule applied to what the text says.
	if got := apply(t, f, h, "ST. MARY'S  NORTH").(string); got != site {
		t.Errorf("pseudonym in capitals: got %q, want %q", got, site)
	}
}

// A value added from several sources is replaced as the lowest source says, and found in
// any case if any source gave it in lower case, whatever the order it was added in.
func TestDictionaryOrderFree(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	for _, order := range [][2]int{{0, 1}, {1, 0}} {
		d := NewDictionary()
		srcs := []Source{d.Fixed("A"), d.Fixed("B")}
		vals := []string{"Hall", "hall"}
		for _, i := range order {
			d.AddFrom(vals[i], srcs[i])
		}
		if got := d.Scrub(h, "the hall of Hall", 0); got != "the A of A" {
			t.Errorf("order %v: got %q, want %q", order, got, "the A of A")
		}
	}
}

// Collisions counts each distinct input whose output was taken once, however often it
// repeats, for outputs that are a digest's prefix and for those that are not, with its sets
// on the heap and in files.
func TestCollisionsExact(t *testing.T) {
	files, err := filemem.New(t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, deferred := range []bool{false, true} {
		for _, mem := range []*filemem.Dir{nil, files} {
			collisionsExact(t, deferred, mem)
		}
	}
	if err := files.Err(); err != nil {
		t.Fatal(err)
	}
}

func collisionsExact(t *testing.T, deferred bool, mem *filemem.Dir) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	if deferred {
		h.DeferCounts()
	}
	for _, r := range []policy.Rule{{Kind: policy.Hash}, {Kind: policy.Hash, Alphabet: policy.Digits}, {Kind: policy.Pseudonym, Text: "P"}} {
		track := NewCollisionsIn(mem)
		defer track.Close()
		c := &database.Column{Name: "code", Type: database.Text, Length: 4}
		f, err := Compile(r, &database.Table{Name: "t", Columns: []*database.Column{c}}, c, track, nil)
		if err != nil {
			t.Fatal(err)
		}
		outs := map[string]map[string]bool{}
		for i := range 3000 {
			v := fmt.Sprintf("V%d", i)
			out, _ := f(h, nil, v)
			if outs[out.(string)] == nil {
				outs[out.(string)] = map[string]bool{}
			}
			outs[out.(string)][v] = true
		}
		var want int64
		for _, ins := range outs {
			want += int64(len(ins) - 1)
		}
		for i := range 3000 { // again: repeats are not collisions
			f(h, nil, fmt.Sprintf("V%d", i))
			if i%100 == 0 {
				h.Flush()
			}
		}
		h.Flush()
		if want == 0 || track.Count() != want {
			t.Errorf("%s, deferred %v, in files %v: got %d collisions, want %d (and more than none)", r, deferred, mem != nil, track.Count(), want)
		}
	}
}

// The shift of YYYY-MM-DD text without the time package agrees with the time package's.
func TestShiftISODate(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200_000 {
		d := time.Date(1+r.IntN(9999), 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(366))
		days := r.IntN(2*3650+1) - 3650
		s := d.Format(time.DateOnly) + []string{"", " 10:20:30", "T08:00:00+02"}[r.IntN(3)]
		want := d.AddDate(0, 0, days)
		got, ok := shiftISODate(s, days)
		if want.Year() < 1 || want.Year() > 9999 {
			if ok {
				t.Fatalf("%s %+d: got %q, want no fast path", s, days, got)
			}
			continue
		}
		if !ok || got != want.Format(time.DateOnly)+s[10:] {
			t.Fatalf("%s %+d: got %q %v, want %q", s, days, got, ok, want.Format(time.DateOnly)+s[10:])
		}
	}
	for _, s := range []string{"2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "20a4-01-01", "2024/01/01", "0000-01-01", "infinity", "2024-1-01"} {
		if got, ok := shiftISODate(s, 1); ok {
			t.Errorf("%q: got %q, want it left to the time package", s, got)
		}
	}
}

// The one-pass split of ASCII text agrees with tokenizeInto, and lower-cases the text.
func TestUnits(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"key:MRN518998294/att", "key mrn 518998294 att"},
		{"x-MRN518998294's", "x mrn 518998294 s"},
		{"Vasquez-Ortiz1's", "vasquez ortiz 1 s"},
		{"ZOË  Lefèvre\nO'Brien", "zoe lefevre o brien"},
		{"Zoe\u0308", "zoe"},
		{"(412) 867-5309, 835 12 6709", "4128675309 835126709"},
		{"2024-03-04 10:30", "2024030410 30"},
		{"STBN-ED-WS10 (10.21.10.21) at 10 10", "stbn ed ws 10 10211021 at 1010"},
		{"trcn-xt-app01.trcn.local", "trcn xt app 01 trcn local"},
		{"Straße ٣٤٥٦", "strasse 3456"},
	} {
		us, _, keys := units(nil, nil, nil, c.in)
		var got []string
		for _, u := range us {
			got = append(got, string(keys[u.ks:u.ke]))
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("units(%q): got %q, want %q", c.in, g, c.want)
		}
	}
}

// IPv4 placeholders taken without netip are the ones netip gives.
func TestPlaceIPv4Fast(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	r := rand.New(rand.NewPCG(7, 8))
	for range 20_000 {
		a := netip.AddrFrom4([4]byte{byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256)), byte(r.IntN(256))})
		s := a.String()
		if _, ok := canonicalIPv4(s); !ok {
			t.Fatalf("%s: not taken as canonical", s)
		}
		d := h.Derive("ip", s)
		want := netip.AddrFrom4([4]byte{198, 18 + d[0]&1, d[1], d[2]}).String()
		if got := placeIP(h, s); got != want {
			t.Fatalf("%s: got %s, want %s", s, got, want)
		}
	}
	for _, s := range []string{"010.1.2.3", "1.2.3", "1.2.3.4.", "256.1.1.1", " 1.2.3.4", "1.2.3.4/24", "::1", "1..2.3", ""} {
		if _, ok := canonicalIPv4(s); ok {
			t.Errorf("%q: taken as a canonical IPv4 address", s)
		}
	}
}

// A dictionary out of sources replaces further values by Removed, never by another source's
// replacement.
func TestDictionarySourcesRunOut(t *testing.T) {
	h := testKey(t, "a key of sixteen bytes or more").NewHasher()
	d := NewDictionary()
	for i := range MaxSources - 1 {
		d.Fixed(fmt.Sprintf("R%d", i))
	}
	d.Add("Haddad", "late")
	d.AddFrom("Okafor", d.Rule(func(*Hasher, string) string { return "rule" }))
	if got := d.Scrub(h, "Haddad and Okafor", 0); got != Removed+" and "+Removed {
		t.Errorf("got %q, want both values %s", got, Removed)
	}
}

// A hasher that shares its outputs' memory gives the same hashes as one that does not, and
// an output stays as it was while later ones are written (blocks are never written over).
func TestShareOutputs(t *testing.T) {
	k := testKey(t, "a key of sixteen bytes or more")
	plain, shared := k.NewHasher(), k.NewHasher()
	shared.ShareOutputs()
	for _, alpha := range []string{policy.Hex, policy.Base32, policy.Digits} {
		f := compile(t, policy.Rule{Kind: policy.Hash, Alphabet: alpha}, &database.Column{Name: "mrn", Type: database.Text, Length: 12}, nil)
		var want, got []string
		for i := range 2 * outputBlock / 12 { // outputs enough for several blocks
			v := fmt.Sprint("MRN", i)
			want = append(want, apply(t, f, plain, v).(string))
			got = append(got, apply(t, f, shared, v).(string))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s hash %d: got %q sharing memory, %q not", alpha, i, got[i], want[i])
			}
		}
	}
}
