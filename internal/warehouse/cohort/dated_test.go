package cohort

import (
	"testing"
	"time"
)

// fastSeconds reads what time.Parse reads, for every day of four centuries and some times.
func TestFastSecondsIsTimeParse(t *testing.T) {
	for d := time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2250; d = d.AddDate(0, 0, 1) {
		late := d.Add(23*time.Hour + 59*time.Minute + 58*time.Second)
		for s, want := range map[string]time.Time{d.Format(time.DateOnly): d, late.Format(time.DateTime): late} {
			got, ok := fastSeconds(s)
			if !ok || got != want.Unix() {
				t.Fatalf("fastSeconds(%q) = %d, %v; want %d", s, got, ok, want.Unix())
			}
		}
	}
	for _, bad := range []string{"2016-13-01", "2016-01-01T10:00:00", "20160101", "2016-01-01 25:00:00", "abcd-ef-gh"} {
		if _, ok := fastSeconds(bad); ok {
			t.Errorf("fastSeconds(%q) accepted", bad)
		}
	}
}
