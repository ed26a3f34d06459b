package backup

import (
	"slices"
	"time"
)

// Set is the rotation set a backup belongs to, as CORI's tapes did.
type Set string

const (
	Daily   Set = "daily"
	Weekly  Set = "weekly"
	Monthly Set = "monthly"
)

// Keep is how many backups of each set are kept.
type Keep struct{ Daily, Weekly, Monthly int }

// Policy is CORI's rotation (seed 002, Part C, "Database Backup Policy"): five tapes rotated
// through each week, four weekly tapes on a four-week cycle, and two monthly tapes used in
// turn — the newest monthly stays at the fiscal agent while the older one is the spare.
var Policy = Keep{Daily: 5, Weekly: 4, Monthly: 2}

// Entry is what rotation needs of a backup.
type Entry struct {
	Name  string    `json:"name"`
	Set   Set       `json:"set"`
	Taken time.Time `json:"taken"`
}

// Classify says which set a backup taken at now joins: the first backup of a calendar month
// is monthly, the first of an ISO week (that is not monthly) weekly, every other daily.
// Times are compared in now's location.
func Classify(existing []Entry, now time.Time) Set {
	y, m, _ := now.Date()
	wy, w := now.ISOWeek()
	month, week := false, false
	for _, e := range existing {
		t := e.Taken.In(now.Location())
		ey, em, _ := t.Date()
		ewy, ew := t.ISOWeek()
		month = month || e.Set == Monthly && ey == y && em == m
		week = week || e.Set != Daily && ewy == wy && ew == w
	}
	switch {
	case !month:
		return Monthly
	case !week:
		return Weekly
	}
	return Daily
}

// Expired returns the backups that fall out of rotation: in each set, all but the newest
// keep.Daily, keep.Weekly or keep.Monthly. The newest backups are never expired, whatever
// their set, so that rotation cannot remove the backup just taken.
func Expired(entries []Entry, keep Keep) []Entry {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b Entry) int { return b.Taken.Compare(a.Taken) }) // newest first
	seen := map[Set]int{}
	limit := map[Set]int{Daily: keep.Daily, Weekly: keep.Weekly, Monthly: keep.Monthly}
	var out []Entry
	for i, e := range sorted {
		seen[e.Set]++
		if i > 0 && seen[e.Set] > max(limit[e.Set], 1) {
			out = append(out, e)
		}
	}
	return out
}
