package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/budget"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
)

// obfuscationRoutes serve issue 17's settings and privacy budget: the settings with their
// guarantee (anyone signed in reads them, site administrators change them), a user's own
// budget in a project, the period's budgets and grants of more (administrators), and the
// page /admin/obfuscation.
func (s *Server) obfuscationRoutes(wh *warehouse.Warehouse) {
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, p access.Principal) error) {
		s.HandleAPI(pattern, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if wh == nil {
				return derrors.NotFound
			}
			return h(w, r, p)
		})
	}
	api("GET /api/v1/warehouse/settings", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		v, err := wh.ShowSettings(r.Context(), p)
		return reply(w, v, err)
	})
	api("PUT /api/v1/warehouse/settings", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		// the body is read over the settings in force: fields not given stay as they are
		cur, err := wh.CurrentSettings(r.Context())
		if err != nil {
			return err
		}
		req := struct {
			warehouse.Settings
			Reason string `json:"reason"`
		}{Settings: cur}
		if err := decode(r, &req); err != nil {
			return err
		}
		v, err := wh.SaveSettings(r.Context(), p, req.Settings, req.Reason)
		return reply(w, v, err)
	})
	api("GET /api/v1/projects/{id}/budget", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		st, err := wh.Budget(r.Context(), p, r.PathValue("id"))
		return reply(w, st, err)
	})
	api("GET /api/v1/warehouse/budgets", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		es, err := wh.Budgets(r.Context(), p, r.URL.Query().Get("project"))
		return reply(w, es, err)
	})
	api("POST /api/v1/warehouse/budgets/{user}/grant", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Project string `json:"project"`
			Counts  int    `json:"counts"`
			Reason  string `json:"reason"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		st, err := wh.GrantBudget(r.Context(), p, r.PathValue("user"), req.Project, req.Counts, req.Reason)
		return reply(w, st, err)
	})

	if wh == nil {
		return
	}
	pg := page{name: "obfuscation.html", need: access.ManageUsers, load: func(r *http.Request, p access.Principal) (any, error) {
		v, err := wh.ShowSettings(r.Context(), p)
		if err != nil {
			return nil, err
		}
		d := struct {
			warehouse.SettingsView
			Budgets []budget.Entry
		}{SettingsView: v}
		if v.Noise == noise.Budget {
			d.Budgets, err = wh.Budgets(r.Context(), p, "")
		}
		return d, err
	}}
	s.pageHandlers("/admin/obfuscation", "Obfuscated counts: settings and budgets", pg, func(r *http.Request, p access.Principal) (string, error) {
		f := r.PostFormValue
		if f("do") == "grant" {
			n, err := strconv.Atoi(f("counts"))
			if err != nil {
				return "", fmt.Errorf("%w: counts is a whole number", derrors.Invalid)
			}
			st, err := wh.GrantBudget(r.Context(), p, f("user"), f("project"), n, f("reason"))
			return fmt.Sprintf("Granted %s %d more counts in %s until %s.", f("user"), n, f("project"), st.PeriodEnd.Format("2006-01-02 15:04 UTC")), err
		}
		cur, err := wh.CurrentSettings(r.Context())
		if err != nil {
			return "", err
		}
		st, err := settingsForm(r, cur)
		if err != nil {
			return "", err
		}
		_, err = wh.SaveSettings(r.Context(), p, st, f("reason"))
		return "Settings saved.", err
	})
}

// settingsForm reads the settings page's form over the current settings, naming a field that
// is not a number.
func settingsForm(r *http.Request, st warehouse.Settings) (warehouse.Settings, error) {
	f := func(name string) string { return strings.TrimSpace(r.PostFormValue(name)) }
	mode, err := noise.ParseMode(f("noise"))
	if err != nil {
		return st, fmt.Errorf("%w: %v", derrors.Invalid, err)
	}
	st.Noise, st.Breakdowns, st.LockoutZeros = mode, f("breakdowns"), f("lockout_zeros") == "on"
	st.TableExtremes = f("table_extremes") == "on"
	floats := map[string]*float64{"sigma": &st.Sigma, "breakdown_sigma": &st.BreakdownSigma, "budget": &st.Budget}
	ints := map[string]*int{"minimum": &st.Minimum, "threshold": &st.Threshold, "period_days": &st.PeriodDays,
		"lockout_count": &st.LockoutCount, "lockout_days": &st.LockoutDays, "epoch": &st.Epoch}
	for name, dst := range floats {
		v, err := strconv.ParseFloat(f(name), 64)
		if err != nil {
			return st, fmt.Errorf("%w: %s is not a number", derrors.Invalid, name)
		}
		*dst = v
	}
	for name, dst := range ints {
		v, err := strconv.Atoi(f(name))
		if err != nil {
			return st, fmt.Errorf("%w: %s is not a whole number", derrors.Invalid, name)
		}
		*dst = v
	}
	return st, nil
}
