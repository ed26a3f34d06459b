package web

import (
	"net/http"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/transfer"
)

// handoverView is the hand-over page: every upload grant recorded in the ledger's folder,
// with its state and whether its token can still be used.
type handoverView struct {
	Dir     string // "" when the server has no ledger
	Grants  []handoverGrant
	Counts  map[string]int // grants by state
	Checked time.Time
}

type handoverGrant struct {
	transfer.Record
	State transfer.State
	Dead  bool
	Why   string // when not dead: until when, or why an expired token may come back
}

// handoverRoutes serves /admin/handovers, for those who manage the site.
func (s *Server) handoverRoutes(l *transfer.Ledger) {
	pg := page{name: "handovers.html", need: access.ManageUsers, load: func(r *http.Request, p access.Principal) (any, error) {
		v := handoverView{Counts: map[string]int{}, Checked: time.Now().UTC()}
		if l == nil {
			return v, nil
		}
		v.Dir = l.Dir
		rs, err := l.Records()
		for _, rec := range rs {
			g := handoverGrant{Record: rec, State: rec.State(v.Checked)}
			g.Dead, g.Why = rec.Dead(v.Checked)
			v.Counts[string(g.State)]++
			v.Grants = append(v.Grants, g)
		}
		return v, err
	}}
	s.pageHandlers("/admin/handovers", "Hand-overs", pg, nil)
}
