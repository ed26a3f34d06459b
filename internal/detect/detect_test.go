package detect

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// render turns matches into "kind:text" strings, which makes table
// expectations and failure messages readable.
func render(text string, ms []Match) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, fmt.Sprintf("%s:%s", m.Kind, text[m.Start:m.End]))
	}
	return out
}

type findCase struct {
	name string
	text string
	want []string // "kind:matched text", in order
}

func runCases(t *testing.T, cases []findCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := render(tc.text, Find(tc.text))
			if !slices.Equal(got, tc.want) {
				t.Errorf("Find(%q): got %q, want %q", tc.text, got, tc.want)
			}
		})
	}
}

func TestIPv4(t *testing.T) {
	runCases(t, []findCase{
		{"plain", "server 10.0.0.5 is down", []string{"ipv4:10.0.0.5"}},
		{"start of text", "192.168.1.20 pinged", []string{"ipv4:192.168.1.20"}},
		{"end of sentence", "Gateway was 172.16.254.1.", []string{"ipv4:172.16.254.1"}},
		{"extremes", "0.0.0.0 and 255.255.255.255", []string{"ipv4:0.0.0.0", "ipv4:255.255.255.255"}},
		{"cidr", "subnet 192.168.1.0/24 blocked", []string{"ipv4:192.168.1.0/24"}},
		{"cidr out of range", "net 10.0.0.0/33 x", []string{"ipv4:10.0.0.0"}},
		{"in parentheses", "(10.1.2.3)", []string{"ipv4:10.1.2.3"}},
		{"after label", "IP:10.20.30.40, port 22", []string{"ipv4:10.20.30.40"}},
		{"with port", "10.0.0.5:8080", []string{"ipv4:10.0.0.5"}},
		{"leading zeros", "010.001.002.003", []string{"ipv4:010.001.002.003"}},
		{"bare section number is an IP", "see 1.2.3.4", []string{"ipv4:1.2.3.4"}},
		{"five parts", "build 1.2.3.4.5", nil},
		{"octet too big", "256.1.1.1", nil},
		{"octet too long", "1234.1.1.1 and 1.1.1.1234", nil},
		{"three parts", "version 1.2.3 today", nil},
		{"version marker", "v1.2.3.4 and V10.0.0.1", nil},
		{"glued to digits", "91.2.3.4.", []string{"ipv4:91.2.3.4"}},
		{"date with dots", "seen 12.05.2021", nil},
	})
}

func TestIPv6(t *testing.T) {
	runCases(t, []findCase{
		{"compressed", "host 2001:db8::1 up", []string{"ipv6:2001:db8::1"}},
		{"link local", "fe80::1ff:fe23:4567:890a", []string{"ipv6:fe80::1ff:fe23:4567:890a"}},
		{"loopback", "bound to ::1.", []string{"ipv6:::1"}},
		{"full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", []string{"ipv6:2001:0db8:85a3:0000:0000:8a2e:0370:7334"}},
		{"upper case", "2001:DB8::ABCD", []string{"ipv6:2001:DB8::ABCD"}},
		{"ipv4 suffix", "mapped ::ffff:192.0.2.128 here", []string{"ipv6:::ffff:192.0.2.128"}},
		{"bracketed with port", "[2001:db8::1]:443", []string{"ipv6:2001:db8::1"}},
		{"prefix", "route 2001:db8::/32 via", []string{"ipv6:2001:db8::/32"}},
		{"after label", "IP:2001:db8::2", []string{"ipv6:2001:db8::2"}},
		{"trailing colon", "addr 2001:db8::3: retry", []string{"ipv6:2001:db8::3"}},
		{"zone left out", "fe80::1%eth0", []string{"ipv6:fe80::1"}},
		{"clock time", "seen at 10:30 today", nil},
		{"clock time seconds", "at 10:30:15 and 23:59:59.", nil},
		{"four groups", "12:30:45:00", nil},
		{"mac address", "mac 00:1a:2b:3c:4d:5e", nil},
		{"c++ scope", "std::vector and Note::1", nil},
		{"bare double colon", "ratio :: here", nil},
		{"invalid", "2001:db8:::1 and 1::2::3", nil},
	})
}

func TestEmail(t *testing.T) {
	runCases(t, []findCase{
		{"simple", "mail jane.doe@stmarys.org today", []string{"email:jane.doe@stmarys.org"}},
		{"apostrophe", "o'brien@mercy.health replied", []string{"email:o'brien@mercy.health"}},
		{"angle brackets", "<a.b+tag@x.co.uk>", []string{"email:a.b+tag@x.co.uk"}},
		{"quoted", "'nurse_1@ward.example.com'", []string{"email:nurse_1@ward.example.com"}},
		{"end of sentence", "Write to pt@example.com.", []string{"email:pt@example.com"}},
		{"mailto", "mailto:help@desk.stmarys.org", []string{"email:help@desk.stmarys.org"}},
		{"no tld", "user@localhost", nil},
		{"one letter tld", "a@b.c", nil},
		{"numeric tld", "email@123.456", nil},
		{"handle", "ping @oncall now", nil},
		{"at in prose", "BP 120/80 @ rest", nil},
	})
}

func TestURL(t *testing.T) {
	runCases(t, []findCase{
		{"https", "see https://portal.stmarys.org/p?id=42.", []string{"url:https://portal.stmarys.org/p?id=42"}},
		{"http upper", "HTTP://EXAMPLE.COM/X", []string{"url:HTTP://EXAMPLE.COM/X"}},
		{"ftp", "ftp://files.example.com/in/a.csv, then", []string{"url:ftp://files.example.com/in/a.csv"}},
		{"sftp", "sftp://ftp.example.com/out/", []string{"url:sftp://ftp.example.com/out/"}},
		{"mllp", "feed mllp://10.2.3.4:2575; down", []string{"url:mllp://10.2.3.4:2575"}},
		{"tcp", "tcp://hl7-gw.stmarys.local:6661", []string{"url:tcp://hl7-gw.stmarys.local:6661"}},
		{"jdbc", "jdbc:sqlserver://db01.corp:1433;databaseName=EHR", []string{"url:jdbc:sqlserver://db01.corp:1433;databaseName=EHR"}},
		{"balanced paren kept", "(see http://x.org/a_(b))", []string{"url:http://x.org/a_(b)"}},
		{"unbalanced paren dropped", "(http://x.org/a)", []string{"url:http://x.org/a"}},
		{"trailing quote", `"https://x.org/q"`, []string{"url:https://x.org/q"}},
		{"html attribute", `<a href="https://x.org/q">x</a>`, []string{"url:https://x.org/q"}},
		{"trailing punctuation", "https://x.org/a]'.", []string{"url:https://x.org/a"}},
		{"smart quotes", "“https://x.org/q”", []string{"url:https://x.org/q"}},
		{"non-breaking space ends", "https://x.org/q\u00a0next", []string{"url:https://x.org/q"}},
		{"empty body", "http:// nothing", nil},
		{"no scheme", "ratio 3://4 and ://x", nil},
	})
}

func TestHostname(t *testing.T) {
	runCases(t, []findCase{
		{"internal fqdn", "logged on ws-er-04.stmarys.local at", []string{"hostname:ws-er-04.stmarys.local"}},
		{"two labels listed", "visit stmarys.org.", []string{"hostname:stmarys.org"}},
		{"cctld", "from klinik.de and ziekenhuis.be", []string{"hostname:klinik.de", "hostname:ziekenhuis.be"}},
		{"three labels unlisted", "mail.example.xyz", []string{"hostname:mail.example.xyz"}},
		{"upper case", "EHR01.STMARYS.LOCAL", []string{"hostname:EHR01.STMARYS.LOCAL"}},
		{"underscore label", "pacs_02.rad.corp", []string{"hostname:pacs_02.rad.corp"}},
		{"with port", "see ws01.stmarys.local:8080", []string{"hostname:ws01.stmarys.local"}},
		{"possessive", "stmarys.org's portal", []string{"hostname:stmarys.org"}},
		{"sentence break", "went home.Next day", nil},
		{"title case tld", "went home.Net result", nil},
		{"abbreviations", "e.g. i.e. a.m. p.r.n. b.i.d. Dr. Smith", nil},
		{"abbreviation first label", "Dr.de Vries", nil},
		{"decimal", "dose 3.5 mg, 0.25mg", nil},
		{"two labels unlisted", "foo.bar", nil},
		{"run-together prose", "stable.Vitals.stable and a.m.daily", nil},
		{"files", "report.pdf scan.jpg notes.txt data.csv x.docx a.xml log.json page.html", nil},
		{"three label file", "scan.final.JPG and John.Smith.pdf", nil},
		{"double dot", "see...stmarys.org", []string{"hostname:stmarys.org"}},
	})
}

func TestPhone(t *testing.T) {
	runCases(t, []findCase{
		{"parens", "call (555) 123-4567 now", []string{"phone:(555) 123-4567"}},
		{"parens no space", "(555)123-4567", []string{"phone:(555)123-4567"}},
		{"dashes", "555-123-4567", []string{"phone:555-123-4567"}},
		{"dots", "555.123.4567.", []string{"phone:555.123.4567"}},
		{"space then dash", "tel 555 123-4567", []string{"phone:555 123-4567"}},
		{"spaces with parens", "(555) 123 4567", []string{"phone:(555) 123 4567"}},
		{"all spaces alone", "counts 120 130 1400", nil},
		{"letters before", "Tel555-123-4567", []string{"phone:555-123-4567"}},
		{"plus one", "+1 555 123 4567", []string{"phone:+1 555 123 4567"}},
		{"plus one parens", "+1 (555) 123-4567", []string{"phone:+1 (555) 123-4567"}},
		{"one dash", "1-800-555-0199", []string{"phone:1-800-555-0199"}},
		{"tel uri", "tel:+1-555-123-4567", []string{"phone:+1-555-123-4567"}},
		{"vanity", "1-800-FLOWERS", nil},
		{"e164", "+15551234567", []string{"phone:+15551234567"}},
		{"plus one compact", "+1 5551234567", []string{"phone:+1 5551234567"}},
		{"extension", "555-123-4567x89", []string{"phone:555-123-4567"}},
		{"other country code", "+32 555-123-4567", []string{"phone:555-123-4567"}},
		{"date", "on 2021-03-04 at", nil},
		{"ssn is not a phone", "123-45-6789", []string{"ssn:123-45-6789"}},
		{"bare digits", "5551234567", nil},
		{"digit before", "12555-123-4567", nil},
		{"group before", "12-555-123-4567", nil},
		{"digit after", "555-123-45678", nil},
		{"group after", "555-123-4567-89", nil},
		{"short", "555-12-345", nil},
	})
}

func TestSSN(t *testing.T) {
	runCases(t, []findCase{
		{"valid", "SSN 123-45-6789.", []string{"ssn:123-45-6789"}},
		{"area 899", "899-99-9999", []string{"ssn:899-99-9999"}},
		{"area 000", "000-12-3456", nil},
		{"area 666", "666-12-3456", nil},
		{"area 9xx", "900-12-3456 987-65-4321", nil},
		{"group 00", "123-00-4567", nil},
		{"serial 0000", "123-45-0000", nil},
		{"undashed", "123456789", nil},
		{"spaced", "123 45 6789", nil},
		{"inside bigger number", "1123-45-6789 and 123-45-67890", nil},
	})
}

func TestOverlaps(t *testing.T) {
	runCases(t, []findCase{
		{"url over ipv4", "GET http://10.1.2.3:8080/api ok", []string{"url:http://10.1.2.3:8080/api"}},
		{"url over hostname", "https://ws-er-04.stmarys.local/x", []string{"url:https://ws-er-04.stmarys.local/x"}},
		{"url over ipv6", "http://[2001:db8::1]:80/", []string{"url:http://[2001:db8::1]:80/"}},
		{"url over email", "ftp://user@files.stmarys.org/x", []string{"url:ftp://user@files.stmarys.org/x"}},
		{"email over hostname", "nurse@ws-er-04.stmarys.local", []string{"email:nurse@ws-er-04.stmarys.local"}},
		{"email with dotted local", "first.last.name@stmarys.org", []string{"email:first.last.name@stmarys.org"}},
		{"ipv6 over ipv4", "::ffff:10.0.0.1", []string{"ipv6:::ffff:10.0.0.1"}},
		{"phone with country over bare", "+1 555 123 4567", []string{"phone:+1 555 123 4567"}},
		{"adjacent kinds", "10.0.0.1,555-123-4567;a@b.org", []string{"ipv4:10.0.0.1", "phone:555-123-4567", "email:a@b.org"}},
	})
}

func TestOffsetsUTF8(t *testing.T) {
	cases := []struct {
		text       string
		start, end int
		kind       Kind
	}{
		{"Patient Zoë called from 555-123-4567", 25, 37, Phone},
		{"Müller’s IP was 10.0.0.7", 19, 27, IPv4},
		{"患者のメール: kenji@byoin.jp です", 20, 34, Email},
		{"Zoë→https://x.org/ü ok", 7, 23, URL},
	}
	for _, tc := range cases {
		got := Find(tc.text)
		want := []Match{{tc.start, tc.end, tc.kind}}
		if !slices.Equal(got, want) {
			t.Errorf("Find(%q): got %v, want %v", tc.text, got, want)
		}
	}
}

func TestMixedNote(t *testing.T) {
	note := "Pt seen 03/04/2021 10:30. Zoë's daughter (555) 123-4567 asked about results; " +
		"lab feed mllp://10.20.1.5:2575 was down, e-mailed it@stmarys.org. SSN 123-45-6789 on file. " +
		"Workstation ws-er-04.stmarys.local, dose 2.5 mg b.i.d., BP 120/80."
	want := []string{
		"phone:(555) 123-4567",
		"url:mllp://10.20.1.5:2575",
		"email:it@stmarys.org",
		"ssn:123-45-6789",
		"hostname:ws-er-04.stmarys.local",
	}
	got := render(note, Find(note))
	if !slices.Equal(got, want) {
		t.Errorf("Find(note): got %q, want %q", got, want)
	}
}

const prose = `Patient is a 67 year old male admitted on 03/04/2021 at 10:30 with
shortness of breath. Dr. Smith reviewed the chest X-ray, i.e. no acute findings,
e.g. no effusion. Vitals stable: BP 120/80, HR 72, T 37.2 C, SpO2 96% on 2 L.
Started furosemide 40 mg p.o. b.i.d. and KCl 20 mEq q.a.m. Plan: repeat BMP at
06:00, follow up in 2-3 weeks; see report.pdf and scan.jpg from 2021-03-04.
Weight 81.5 kg (prev. 83.0 kg). Score 3.5/10. Mr. O'Neil's v2.1.4 pump was fine.
Discussed with family.Next review Monday. Ratio 1:2, time 23:59:59, room 4B-12.`

func TestProseHasNoIdentifiers(t *testing.T) {
	if got := Find(prose); len(got) != 0 {
		t.Errorf("Find(prose): got %q, want none", render(prose, got))
	}
	if got := Find(""); got != nil {
		t.Errorf("Find(\"\"): got %v, want nil", got)
	}
}

func TestKinds(t *testing.T) {
	got := Kinds()
	want := []Kind{IPv4, IPv6, Email, URL, Hostname, Phone, SSN}
	if !slices.Equal(got, want) {
		t.Errorf("Kinds(): got %v, want %v", got, want)
	}
	got[0] = "changed"
	if Kinds()[0] != IPv4 {
		t.Errorf("Kinds() returned shared storage")
	}
}

func TestNextDigit(t *testing.T) {
	naive := func(s string, i int) int {
		for ; i < len(s); i++ {
			if s[i] >= '0' && s[i] <= '9' {
				return i
			}
		}
		return i
	}
	fillers := []byte{'a', ' ', '/', ':', 0x80, 0xff, 0x00}
	for _, fill := range fillers {
		for b := range 256 {
			for pos := range 20 {
				buf := bytes.Repeat([]byte{fill}, 20)
				buf[pos] = byte(b)
				s := string(buf)
				for from := range 3 {
					if got, want := nextDigit(s, from), naive(s, from); got != want {
						t.Fatalf("nextDigit(%q, %d): got %d, want %d", s, from, got, want)
					}
				}
			}
		}
	}
}

// checkInvariants verifies the properties Find promises for any input.
func checkInvariants(t *testing.T, text string, ms []Match) {
	t.Helper()
	kinds := Kinds()
	prev := 0
	for i, m := range ms {
		if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
			t.Fatalf("Find(%q)[%d] = %v: out of bounds or empty (len %d)", text, i, m, len(text))
		}
		if m.Start < prev {
			t.Fatalf("Find(%q)[%d] = %v: overlaps or precedes previous match ending at %d", text, i, m, prev)
		}
		if !slices.Contains(kinds, m.Kind) {
			t.Fatalf("Find(%q)[%d] = %v: unknown kind", text, i, m)
		}
		prev = m.End
	}
}

func FuzzFind(f *testing.F) {
	seeds := []string{
		"", prose, "Patient Zoë called from 555-123-4567",
		"http://10.1.2.3:8080/api", "nurse@ws-er-04.stmarys.local",
		"+1 (555) 123-4567", "123-45-6789", "2001:db8::1/64", "::ffff:1.2.3.4",
		"jdbc:sqlserver://h:1;x", "(http://x.org/a_(b))", "a..b.stmarys.org",
		"1.2.3.4.5", "v1.2.3.4", "e.g. report.pdf", ":::", "@", "://", "+1",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkInvariants(t, text, Find(text))
	})
}

func TestInvariantsOnSeeds(t *testing.T) {
	// Dense, adversarial input: everything touching everything.
	dense := strings.Repeat("a@b.org:1.2.3.4::1(555)123-4567/24http://x.y.z.com.", 20)
	checkInvariants(t, dense, Find(dense))
}

// note is ~200 bytes of clinical prose with three identifiers.
const note = "Pt called back from (555) 123-4567 re: results. Daughter Zoë asked " +
	"for copies by e-mail to zoe.m@example.org; discussed dose 2.5 mg b.i.d. " +
	"Lab interface mllp://10.20.1.5:2575 retried at 10:30, BP 120/80."

const plainNote = "Pt seen in clinic today, reports mild dyspnoea on exertion. " +
	"Lungs clear, no oedema. Continue current dose 2.5 mg b.i.d., recheck " +
	"potassium in 2 weeks. Discussed with daughter, who agrees with the plan."

func BenchmarkFind(b *testing.B) {
	b.SetBytes(int64(len(note)))
	b.ReportAllocs()
	for b.Loop() {
		Find(note)
	}
}

func BenchmarkFindNoIdentifiers(b *testing.B) {
	b.SetBytes(int64(len(plainNote)))
	b.ReportAllocs()
	for b.Loop() {
		Find(plainNote)
	}
}

func TestReserved(t *testing.T) {
	for _, c := range []struct {
		text string
		want bool
	}{
		{"from 198.18.4.7 today", true},
		{"from 10.20.4.7 today", false},
		{"see 2001:db8::1f", true},
		{"see fe80::1ff:fe23:4567:890a", false},
		{"mail user-0a1b2c@example.invalid now", true},
		{"mail jane.doe@stbrigid.org now", false},
		{"host db1.host-1a2b3c4d.invalid down", true},
		{"host ws07.stb.local down", false},
		{"go https://endpoint-1a2b3c4d.invalid/0a0b", true},
		{"go https://user@emr.stbrigid.org:8443/x", false},
		{"call (617) 555-0134", true},
		{"call (617) 555-2134", false},
	} {
		ms := Find(c.text)
		if len(ms) != 1 {
			t.Errorf("%q: got %d matches, want 1", c.text, len(ms))
			continue
		}
		if got := Reserved(ms[0], c.text); got != c.want {
			t.Errorf("Reserved(%q) = %v, want %v", c.text[ms[0].Start:ms[0].End], got, c.want)
		}
	}
}
