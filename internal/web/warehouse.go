package web

import (
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// warehouseRoutes serves cohort queries, patient-level data and query lockouts (issue 7).
// Without a warehouse the routes answer 404.
func (s *Server) warehouseRoutes(wh *warehouse.Warehouse) {
	api := func(pattern string, h func(w http.ResponseWriter, r *http.Request, p access.Principal) error) {
		s.HandleAPI(pattern, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if wh == nil {
				return derrors.NotFound
			}
			return h(w, r, p)
		})
	}
	api("POST /api/v1/projects/{id}/queries", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		q, err := readQuery(r)
		if err != nil {
			return err
		}
		a, err := wh.Run(r.Context(), p, r.PathValue("id"), q)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, a)
	})
	api("GET /api/v1/projects/{id}/queries", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		as, err := wh.Queries(r.Context(), p, r.PathValue("id"))
		return reply(w, as, err)
	})
	api("GET /api/v1/projects/{id}/queries/{query}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		a, err := wh.Result(r.Context(), p, r.PathValue("id"), r.PathValue("query"))
		return reply(w, a, err)
	})
	api("GET /api/v1/projects/{id}/queries/{query}/patients", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		v := r.URL.Query()
		o := warehouse.PDOOptions{Blobs: v.Get("blobs") == "true", Identified: v.Get("identified") == "true"}
		for name, dst := range map[string]*int{"offset": &o.Offset, "limit": &o.Limit} {
			if s := v.Get(name); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil {
					return derrors.Invalid
				}
				*dst = n
			}
		}
		pdo, err := wh.Patients(r.Context(), p, r.PathValue("id"), r.PathValue("query"), o)
		return reply(w, pdo, err)
	})
	api("GET /api/v1/projects/{id}/concepts", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		cs, err := wh.Children(r.Context(), p, r.PathValue("id"), r.URL.Query().Get("parent"))
		return reply(w, cs, err)
	})
	api("GET /api/v1/warehouse/lockouts", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		ls, err := wh.Lockouts(r.Context(), p)
		return reply(w, ls, err)
	})
	api("POST /api/v1/warehouse/lockouts/{user}/unlock", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Reason string `json:"reason"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		return noContent(w, wh.Unlock(r.Context(), p, r.PathValue("user"), req.Reason))
	})
}

// readQuery reads a cohort query: JSON, or i2b2's query_definition XML when the body is XML.
func readQuery(r *http.Request) (warehouse.Query, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "application/xml" || mt == "text/xml" {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return warehouse.Query{}, err
		}
		return warehouse.ParseXML(b)
	}
	var q warehouse.Query
	return q, decode(r, &q)
}
