package access

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
)

// Seed 002: "Unauthorized access and hacking will be monitored each business day." Every
// business day the directors get a digest of the unauthorized attempts since the last one:
// refused requests by user and address, failed and refused sign-ins, refused tokens, locks
// and requests to reinstate — a digest that says none is evidence of the watch too. Each
// digest is audited (digest.sent, with the time it covers up to), which is where the next
// one starts.

// watched are the audit actions a digest reports.
var watched = []string{"access.refused", "token.refused", "login.failed", "login.refused", "lock", "unlock.requested", "unlock"}

// Digest is one digest's content.
type Digest struct {
	Since, Until time.Time
	Counts       map[string]int // action → entries
	Users        map[string]int // refused requests per user
	Addresses    map[string]int // watched entries per source address
	Locks        []string       // what was locked, by whom
}

// Empty reports whether nothing was seen.
func (d Digest) Empty() bool { return len(d.Counts) == 0 }

// BuildDigest reads the watched entries from since up to until.
func (s *Service) BuildDigest(ctx context.Context, since, until time.Time) (Digest, error) {
	d := Digest{Since: since, Until: until, Counts: map[string]int{}, Users: map[string]int{}, Addresses: map[string]int{}}
	marks := make([]string, len(watched))
	args := []any{store.FormatTime(since), store.FormatTime(until)}
	for i, a := range watched {
		marks[i] = fmt.Sprintf("$%d", i+3)
		args = append(args, a)
	}
	err := s.Audit.Query(ctx, `WHERE time >= $1 AND time < $2 AND action IN (`+strings.Join(marks, ", ")+`) ORDER BY seq`, args, func(e audit.Entry) error {
		d.Counts[e.Action]++
		if e.Source != "" && e.Source != "cli" {
			d.Addresses[e.Source]++
		}
		switch e.Action {
		case "access.refused":
			d.Users[e.Actor]++
		case "lock":
			d.Locks = append(d.Locks, fmt.Sprintf("%s at %s (%s, from %s)", e.Object, e.Time.Format("2006-01-02 15:04Z"), e.Detail["cause"], e.Detail["address"]))
		}
		return nil
	})
	return d, err
}

// Text is the digest as mailed.
func (d Digest) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Unauthorized access attempts from %s to %s (UTC).\n\n", d.Since.UTC().Format("2006-01-02 15:04"), d.Until.UTC().Format("2006-01-02 15:04"))
	if d.Empty() {
		b.WriteString("None: no refused request, failed or refused sign-in, refused token or lock.\n")
		return b.String()
	}
	for _, a := range watched {
		if n := d.Counts[a]; n > 0 {
			fmt.Fprintf(&b, "  %-17s %d\n", a, n)
		}
	}
	top := func(title string, m map[string]int) {
		if len(m) == 0 {
			return
		}
		keys := slices.Collect(maps.Keys(m))
		slices.SortFunc(keys, func(x, y string) int {
			if m[x] != m[y] {
				return m[y] - m[x]
			}
			return strings.Compare(x, y)
		})
		fmt.Fprintf(&b, "\n%s:\n", title)
		for i, k := range keys {
			if i == 20 {
				fmt.Fprintf(&b, "  … and %d more\n", len(keys)-20)
				break
			}
			fmt.Fprintf(&b, "  %-40s %d\n", k, m[k])
		}
	}
	top("Refused requests by user", d.Users)
	top("Attempts by source address", d.Addresses)
	if len(d.Locks) > 0 {
		b.WriteString("\nLocks:\n")
		for _, l := range d.Locks {
			fmt.Fprintf(&b, "  %s\n", l)
		}
	}
	b.WriteString("\nEvery attempt is in the audit log (steward audit verify; the Audit log page).\n")
	return b.String()
}

// lastDigest is the time the last digest covered up to, or the zero time.
func (s *Service) lastDigest(ctx context.Context) (time.Time, error) {
	es, err := s.Audit.Find(ctx, store.Filter{Action: "digest.sent", Limit: 1})
	if err != nil || len(es) == 0 {
		return time.Time{}, err
	}
	return store.ParseTime(es[0].Detail["until"])
}

// SendDigest mails the directors the digest since the last one (the first covers the week
// before) and audits it.
func (s *Service) SendDigest(ctx context.Context, now time.Time) (Digest, error) {
	since, err := s.lastDigest(ctx)
	if err != nil {
		return Digest{}, err
	}
	if since.IsZero() {
		since = now.Add(-7 * 24 * time.Hour)
	}
	d, err := s.BuildDigest(ctx, since, now)
	if err != nil {
		return d, err
	}
	total := 0
	for _, n := range d.Counts {
		total += n
	}
	subject := fmt.Sprintf("Steward: unauthorized access digest, %s: %d attempts", now.Format("Mon 2006-01-02"), total)
	s.NotifyDirectors(ctx, "steward", "digest", "digest", subject, d.Text())
	return d, s.record(ctx, event(Principal{User: "steward", Source: "steward"}, "digest.sent", "digest",
		map[string]string{"since": store.FormatTime(since), "until": store.FormatTime(now), "attempts": fmt.Sprint(total)}))
}

// DigestDue reports whether the business day's digest is due at now: a weekday, at or past
// hour (local time), and none sent yet that day.
func (s *Service) DigestDue(ctx context.Context, now time.Time, hour int) (bool, error) {
	if wd := now.Weekday(); wd == time.Saturday || wd == time.Sunday || now.Hour() < hour {
		return false, nil
	}
	last, err := s.lastDigest(ctx)
	if err != nil {
		return false, err
	}
	y, m, d := now.Date()
	return last.Before(time.Date(y, m, d, hour, 0, 0, 0, now.Location())), nil
}
