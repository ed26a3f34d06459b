package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/derrors"
)

// retroRoutes serve issue 16's retroactive checks: a project's sampling settings, a run of
// its last ended period, its samples and their outcomes — for its data-governance officers.
func (s *Server) retroRoutes(svc *airlock.Service) {
	api := func(pattern string, h APIHandler) {
		s.HandleAPI(pattern, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if svc == nil {
				return fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
			}
			return h(w, r, p)
		})
	}
	api("GET /api/v1/projects/{id}/retro/settings", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		st, err := svc.RetroSettings(r.Context(), p, r.PathValue("id"))
		return reply(w, st, err)
	})
	api("PUT /api/v1/projects/{id}/retro/settings", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var st airlock.RetroSettings
		if err := decode(r, &st); err != nil {
			return err
		}
		if err := svc.SetRetroSettings(r.Context(), p, r.PathValue("id"), st); err != nil {
			return err
		}
		st, err := svc.RetroSettings(r.Context(), p, r.PathValue("id"))
		return reply(w, st, err)
	})
	api("POST /api/v1/projects/{id}/retro/run", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Seed *int64 `json:"seed"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		runs, err := svc.RunRetro(r.Context(), p, r.PathValue("id"), time.Now(), req.Seed)
		return reply(w, runs, err)
	})
	api("GET /api/v1/projects/{id}/retro/samples", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		ss, err := svc.RetroSamples(r.Context(), p, r.PathValue("id"), r.URL.Query().Get("period"))
		return reply(w, ss, err)
	})
	api("PUT /api/v1/projects/{id}/retro/samples/{eid}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Outcome string `json:"outcome"`
			Note    string `json:"note"`
			Demote  bool   `json:"demote"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		return noContent(w, svc.SetRetroOutcome(r.Context(), p, r.PathValue("id"), r.PathValue("eid"), req.Outcome, req.Note, req.Demote))
	})

	// The officer's page: the sampling settings, a run now, the samples and their outcomes.
	pg := page{name: "retro.html", load: func(r *http.Request, p access.Principal) (any, error) {
		if svc == nil {
			return nil, fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		x, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		st, err := svc.RetroSettings(r.Context(), p, x.Code)
		if err != nil {
			return nil, err
		}
		ss, err := svc.RetroSamples(r.Context(), p, x.Code, "")
		return struct {
			Project     access.Project
			Settings    airlock.RetroSettings
			RatePercent string
			Samples     []airlock.RetroSample
		}{x, st, strconv.FormatFloat(st.Rate*100, 'f', -1, 64), ss}, err
	}}
	s.pageHandlers("/projects/{id}/retro", "Retroactive checks", pg, func(r *http.Request, p access.Principal) (string, error) {
		if svc == nil {
			return "", fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		f, project := r.PostFormValue, r.PathValue("id")
		switch f("do") {
		case "settings":
			pct, err := strconv.ParseFloat(strings.TrimSpace(f("rate_percent")), 64)
			if err != nil {
				return "", fmt.Errorf("%w: the share sampled is a percentage", derrors.Invalid)
			}
			return "Sampling saved.", svc.SetRetroSettings(r.Context(), p, project, airlock.RetroSettings{Rate: pct / 100, Period: f("period")})
		case "run":
			runs, err := svc.RunRetro(r.Context(), p, project, time.Now(), nil)
			if err != nil || len(runs) == 0 {
				return "", err
			}
			if runs[0].Already {
				return fmt.Sprintf("Period %s was sampled already.", runs[0].Period), nil
			}
			return fmt.Sprintf("Period %s: %d of %d released automatic exports sampled.", runs[0].Period, runs[0].Picked, runs[0].Released), nil
		case "outcome":
			return fmt.Sprintf("Export %s: %s.", f("export"), f("outcome")),
				svc.SetRetroOutcome(r.Context(), p, project, f("export"), f("outcome"), f("note"), f("demote") == "on")
		}
		return "", fmt.Errorf("%w: nothing to do", derrors.Invalid)
	})
}
