package web

import (
	"fmt"
	"net/http"
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
}
