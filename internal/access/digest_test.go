package access_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/smtptest"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/store/storetest"
)

// "Unauthorized access and hacking will be monitored each business day": the directors get
// a digest of the attempts since the last one on every business day, and one that says
// there were none.
func TestBusinessDayDigest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		mail := smtptest.Start(t)
		s := world(t, db, access.Config{SignInDelay: -1}, access.Mailer{Addr: mail.Addr, From: "steward@example.org"})
		bob, err := s.Principal(ctx, "bob", "192.0.2.66")
		must(t, err)
		for range 4 {
			must(t, s.Refused(ctx, bob, "GET /api/v1/projects/{id}", "/api/v1/projects/diab", 404))
		}
		s.SignIn(ctx, "ann", "guess guess guess", "203.0.113.5")
		now := time.Now()
		monday := time.Date(2026, 11, 30, 8, 0, 0, 0, time.Local)
		for _, c := range []struct {
			at   time.Time
			want bool
		}{{monday, true}, {monday.Add(-2 * time.Hour), false}, {monday.Add(-2 * 24 * time.Hour), false}} { // before 7:00; Saturday
			if due, err := s.DigestDue(ctx, c.at, 7); err != nil || due != c.want {
				t.Errorf("digest due at %s: got %v, %v; want %v", c.at.Format("Mon 15:04"), due, err, c.want)
			}
		}
		d, err := s.SendDigest(ctx, now.Add(time.Second))
		must(t, err)
		if d.Counts["access.refused"] != 4 || d.Users["bob"] != 4 || d.Counts["login.failed"] != 1 || d.Addresses["192.0.2.66"] != 4 {
			t.Errorf("digest: got %+v, want bob's 4 refusals from 192.0.2.66 and ann's failed sign-in", d)
		}
		msgs := mail.Wait(1, 10*time.Second)
		if len(msgs) != 1 || msgs[0].To[0] != "dora@example.org" || !strings.Contains(msgs[0].Data, "bob") || !strings.Contains(msgs[0].Data, "access.refused") {
			t.Fatalf("digest mail: got %+v, want one to dora naming bob's refusals", msgs)
		}
		if due, _ := s.DigestDue(ctx, time.Now().Add(time.Minute), 0); due && time.Now().Weekday() != time.Saturday && time.Now().Weekday() != time.Sunday {
			t.Errorf("digest due again right after one was sent")
		}
		d, err = s.SendDigest(ctx, now.Add(2*time.Second))
		must(t, err)
		msgs = mail.Wait(2, 10*time.Second)
		if !d.Empty() || len(msgs) != 2 || !strings.Contains(msgs[1].Data, "None") {
			t.Errorf("the next digest with nothing new: got %+v and %d mails, want an empty digest that says so", d, len(msgs))
		}
	})
}
