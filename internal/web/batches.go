package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// batchRoutes serve issue 16's data validator: whether loads wait for review (anyone signed
// in reads it, site administrators change it), and a project's validators' batches — list,
// review, approve, reject. Table and column names go out in the API's vocabulary.
func (s *Server) batchRoutes(wh *warehouse.Warehouse) {
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, p access.Principal) error) {
		s.HandleAPI(pattern, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if wh == nil {
				return derrors.NotFound
			}
			return h(w, r, p)
		})
	}
	type review struct {
		Required bool   `json:"required"`
		Reason   string `json:"reason,omitempty"`
	}
	api("GET /api/v1/warehouse/review", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		on, err := wh.ReviewRequired(r.Context())
		return reply(w, review{Required: on}, err)
	})
	api("PUT /api/v1/warehouse/review", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req review
		if err := decode(r, &req); err != nil {
			return err
		}
		if err := wh.SetReviewRequired(r.Context(), p, req.Required, req.Reason); err != nil {
			return err
		}
		return reply(w, review{Required: req.Required}, nil)
	})
	batchID := func(r *http.Request) (int64, error) {
		n, err := strconv.ParseInt(r.PathValue("batch"), 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%w: a batch is a positive whole number", derrors.Invalid)
		}
		return n, nil
	}
	api("GET /api/v1/projects/{id}/batches", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		bs, err := wh.Batches(r.Context(), p, r.PathValue("id"))
		return reply(w, bs, err)
	})
	api("GET /api/v1/projects/{id}/batches/{batch}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		id, err := batchID(r)
		if err != nil {
			return err
		}
		sample := 10
		if v := r.URL.Query().Get("sample"); v != "" {
			if sample, err = strconv.Atoi(v); err != nil || sample < 0 || sample > 50 {
				return fmt.Errorf("%w: sample is 0 to 50 rows", derrors.Invalid)
			}
		}
		rv, err := wh.ReviewBatch(r.Context(), p, r.PathValue("id"), id, sample)
		if err != nil {
			return err
		}
		for _, cs := range [][]warehouse.TableCount{rv.Counts, rv.Rejected} {
			for i := range cs {
				cs[i].Table, cs[i].Reason = neutralText(cs[i].Table), neutralText(cs[i].Reason)
			}
		}
		return replyNeutral(w, rv, nil)
	})
	decide := func(approve bool) func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			id, err := batchID(r)
			if err != nil {
				return err
			}
			var req struct {
				Reason string `json:"reason"`
			}
			if err := decode(r, &req); err != nil {
				return err
			}
			b, err := wh.DecideBatch(r.Context(), p, r.PathValue("id"), id, approve, req.Reason)
			return reply(w, b, err)
		}
	}
	api("POST /api/v1/projects/{id}/batches/{batch}/approve", decide(true))
	api("POST /api/v1/projects/{id}/batches/{batch}/reject", decide(false))
}
