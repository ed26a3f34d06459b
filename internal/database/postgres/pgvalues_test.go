package postgres

import (
	"strings"
	"testing"
	"time"
)

// Dates and timestamps of years 1 to 9999 print as Go's time package prints them, and read
// back to the same count of days or microseconds.
func TestDateTimeTextAgainstGo(t *testing.T) {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	first := int32(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).Sub(epoch).Hours() / 24)
	last := int32(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).Sub(epoch).Hours() / 24)
	for days := first; days <= last; days += 7 {
		want := epoch.AddDate(0, 0, int(days)).Format(time.DateOnly)
		if got := string(appendDate(nil, days)); got != want {
			t.Fatalf("day %d: got %q, want %q", days, got, want)
		}
		if back, ok := parseDate(want); !ok || back != days {
			t.Fatalf("%s read back as day %d (%v), want %d", want, back, ok, days)
		}
	}
	for _, us := range []int64{0, 1, -1, 500_000, 123_456, 86_399_999_999, -86_400_000_000, 1 << 50, -(1 << 55), 252_423_993_599_999_999} {
		sec, frac := us/1_000_000, us%1_000_000
		if frac < 0 {
			sec, frac = sec-1, frac+1_000_000
		}
		tm := time.Unix(epoch.Unix()+sec, frac*1000).UTC()
		want := strings.TrimRight(strings.TrimRight(tm.Format("2006-01-02 15:04:05.000000"), "0"), ".")
		if got := string(appendTimestamp(nil, us)); got != want {
			t.Errorf("timestamp %d: got %q, want %q", us, got, want)
		}
		if back, ok := parseTimestamp(want, false); !ok || back != us {
			t.Errorf("%s read back as %d (%v), want %d", want, back, ok, us)
		}
	}
}

// Outside Go's range the text is PostgreSQL's: BC years, years past 9999, infinity, offsets.
func TestDateTimeTextExtremes(t *testing.T) {
	dates := []string{"4713-01-01 BC", "0001-12-31 BC", "0005-02-29 BC", "0001-01-01", "10000-01-01", "5874897-12-31", "infinity", "-infinity"}
	for _, s := range dates {
		d, ok := parseDate(s)
		if !ok {
			t.Errorf("date %q not read", s)
			continue
		}
		if got := string(appendDate(nil, d)); got != s {
			t.Errorf("date %q printed back as %q", s, got)
		}
	}
	for _, s := range []string{"0000-01-01", "0002-02-29 BC", "2023-02-29", "4714-01-01 BC", "5874898-01-01", "2024-1-31", "02024-01-01", "2024-01-31x", "Jan 31 2024", ""} {
		if _, ok := parseDate(s); ok {
			t.Errorf("date %q read: it should be left to the server", s)
		}
	}
	stamps := []string{"0044-03-15 12:00:00 BC", "294276-12-31 23:59:59.999999", "4713-01-01 00:00:00 BC", "10000-06-15 01:02:03.04", "infinity", "-infinity"}
	for _, s := range stamps {
		us, ok := parseTimestamp(s, false)
		if !ok {
			t.Errorf("timestamp %q not read", s)
			continue
		}
		if got := string(appendTimestamp(nil, us)); got != s {
			t.Errorf("timestamp %q printed back as %q", s, got)
		}
	}
	zoned := map[string]string{
		"2024-01-31 12:00:00+00":          "2024-01-31 12:00:00",
		"2024-01-31 12:00:00-05":          "2024-01-31 17:00:00",
		"2024-01-31 12:00:00+05:30":       "2024-01-31 06:30:00",
		"1800-01-01 00:00:00+00:09:21":    "1799-12-31 23:50:39",
		"0044-03-15 12:00:00+01 BC":       "0044-03-15 11:00:00 BC",
		"2024-01-31 00:30:00.25+01":       "2024-01-30 23:30:00.25",
		"294276-12-31 23:59:59.999999+00": "294276-12-31 23:59:59.999999",
	}
	for in, utc := range zoned {
		us, ok := parseTimestamp(in, true)
		if !ok {
			t.Errorf("timestamptz %q not read", in)
			continue
		}
		if got := string(appendTimestamp(nil, us)); got != utc {
			t.Errorf("timestamptz %q is %q in UTC, want %q", in, got, utc)
		}
	}
	for _, s := range []string{"2024-01-31 12:00:00", "2024-01-31T12:00:00+00", "2024-01-31 24:00:00+00", "2024-01-31 12:00:60+00", "2024-01-31 12:00:00.1234567+00", "2024-01-31 12:00+00", "2024-01-31 12:00:00+16", "294276-12-31 23:59:59-01"} {
		if _, ok := parseTimestamp(s, true); ok {
			t.Errorf("timestamptz %q read: it should be left to the server", s)
		}
	}
	if _, ok := parseTimestamp("2024-01-31 12:00:00+01", false); ok {
		t.Error("a timestamp without time zone read an offset: it should be left to the server")
	}
}
