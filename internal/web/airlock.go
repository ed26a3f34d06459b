package web

import (
	"cmp"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/disclosure"
)

// airlockRoutes serves export requests (issue 8): the API under /api/v1/, the project's
// exports page (the analyst's requests, the officer's queue and sample), the SPOC's list,
// the inbox of links and the download pages. Without a service every route answers 404.
func (s *Server) airlockRoutes(svc *airlock.Service) {
	need := func(h APIHandler) APIHandler {
		return func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
			if svc == nil {
				return fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
			}
			return h(w, r, p)
		}
	}
	api := func(pattern string, h APIHandler) { s.HandleAPI(pattern, need(h)) }
	api("GET /api/v1/projects/{id}/exports", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		rs, err := svc.List(r.Context(), p, r.PathValue("id"), airlock.Status(r.URL.Query().Get("status")))
		return reply(w, rs, err)
	})
	api("POST /api/v1/projects/{id}/exports", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var sub airlock.Submission
		if err := decode(r, &sub); err != nil {
			return err
		}
		req, err := svc.Submit(r.Context(), p, r.PathValue("id"), sub)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, req)
	})
	api("POST /api/v1/projects/{id}/exports/tables", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var tr airlock.TableRequest
		if err := decode(r, &tr); err != nil {
			return err
		}
		req, err := svc.SubmitTable(r.Context(), p, r.PathValue("id"), tr)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, req)
	})
	api("POST /api/v1/projects/{id}/exports/sample", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			N int `json:"n"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		rs, err := svc.Sample(r.Context(), p, r.PathValue("id"), max(1, req.N))
		return reply(w, rs, err)
	})
	api("GET /api/v1/projects/{id}/exporters", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		es, err := svc.Exporters(r.Context(), p, r.PathValue("id"))
		return reply(w, es, err)
	})
	api("PUT /api/v1/projects/{id}/exporters/{user}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Mode    airlock.Mode `json:"mode"`
			IPRange string       `json:"ip_range"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		return noContent(w, svc.SetExporter(r.Context(), p, r.PathValue("id"), r.PathValue("user"), req.Mode, req.IPRange))
	})
	api("GET /api/v1/projects/{id}/export-settings", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		st, err := svc.ProjectSettings(r.Context(), p, r.PathValue("id"))
		return reply(w, st, err)
	})
	api("PUT /api/v1/projects/{id}/export-settings", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		st, err := svc.ProjectSettings(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		if err := decode(r, &st); err != nil { // the fields given change, the others stay
			return err
		}
		if err := svc.SetSettings(r.Context(), p, r.PathValue("id"), st); err != nil {
			return err
		}
		st, err = svc.ProjectSettings(r.Context(), p, r.PathValue("id"))
		return reply(w, st, err)
	})
	api("GET /api/v1/exports/{eid}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		req, err := svc.Get(r.Context(), p, r.PathValue("eid"))
		return reply(w, req, err)
	})
	api("POST /api/v1/exports/{eid}/review", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req airlock.Decision
		if err := decode(r, &req); err != nil {
			return err
		}
		out, err := svc.Decide(r.Context(), p, r.PathValue("eid"), req)
		return reply(w, out, err)
	})
	api("POST /api/v1/exports/{eid}/recall", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Reason string `json:"reason"`
			Demote bool   `json:"demote"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		return noContent(w, svc.Recall(r.Context(), p, r.PathValue("eid"), req.Reason, req.Demote))
	})
	api("POST /api/v1/exports/{eid}/links", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var req struct {
			Recipient string `json:"recipient"`
			IPRange   string `json:"ip_range"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		token, l, err := svc.Issue(r.Context(), p, r.PathValue("eid"), req.Recipient, req.IPRange)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, struct {
			airlock.Link
			Token string `json:"token"`
		}{l, token})
	})
	api("GET /api/v1/links", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		ls, err := svc.Inbox(r.Context(), p)
		return reply(w, ls, err)
	})
	api("DELETE /api/v1/links/{lid}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return noContent(w, svc.RevokeLink(r.Context(), p, r.PathValue("lid")))
	})
	download := func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		addr, _ := netip.ParseAddr(source(r))
		rc, err := svc.Download(r.Context(), p, r.PathValue("token"), r.PathValue("file"), addr)
		if err != nil {
			return err
		}
		defer rc.Close()
		w.Header().Set("Content-Type", airlock.ContentType(r.PathValue("file")))
		w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(r.PathValue("file"), `"`, "")+`"`)
		_, err = io.Copy(w, rc)
		return err
	}
	api("GET /api/v1/download/{token}/{file}", download)
	s.airlockPages(svc, need, download)
}

// exportsView is the project's exports page.
type exportsView struct {
	Project  access.Project
	Officer  bool
	Settings *airlock.Settings // the officer's settings form
	Requests []*airlock.Request
	Sample   []*airlock.Request
}

func (s *Server) airlockPages(svc *airlock.Service, need func(APIHandler) APIHandler, download APIHandler) {
	exports := page{name: "exports.html", load: func(r *http.Request, p access.Principal) (any, error) {
		if svc == nil {
			return nil, fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		x, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		rs, err := svc.List(r.Context(), p, x.Code, "")
		v := exportsView{Project: x, Officer: access.Allowed(p, access.ReviewExport, x), Requests: rs}
		if v.Officer && err == nil {
			st, serr := svc.ProjectSettings(r.Context(), p, x.Code)
			v.Settings, err = &st, serr
		}
		return v, err
	}}
	s.pageHandlers("/projects/{id}/exports", "Export requests", exports, func(r *http.Request, p access.Principal) (string, error) {
		if svc == nil {
			return "", fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		f := r.PostFormValue
		switch f("do") {
		case "review":
			out, err := svc.Decide(r.Context(), p, f("export"), airlock.Decision{Approve: f("decision") == "approve", Comment: f("comment"),
				Free: freeCells(f("free"))})
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("Export %s: %s.", out.ID, out.Status), nil
		case "settings":
			st, err := svc.ProjectSettings(r.Context(), p, r.PathValue("id"))
			if err != nil {
				return "", err
			}
			num := func(name string, dst *int) error {
				v, err := strconv.Atoi(strings.TrimSpace(f(name)))
				if err != nil {
					return fmt.Errorf("%w: %s: want a whole number", derrors.Invalid, name)
				}
				*dst = v
				return nil
			}
			for name, dst := range map[string]*int{"reviewers": &st.Reviewers, "link_days": &st.LinkDays,
				"min_persons": &st.Rules.MinPersons, "min_projects": &st.Rules.MinProjects} {
				if err := num(name, dst); err != nil {
					return "", err
				}
			}
			st.Bunker = f("bunker") == "on"
			return "Export settings saved.", svc.SetSettings(r.Context(), p, r.PathValue("id"), st)
		case "recall":
			return "Export " + f("export") + " recalled.", svc.Recall(r.Context(), p, f("export"), f("reason"), f("demote") == "on")
		case "sample":
			n, _ := strconv.Atoi(f("n"))
			rs, err := svc.Sample(r.Context(), p, r.PathValue("id"), max(1, n))
			ids := make([]string, len(rs))
			for i, x := range rs {
				ids[i] = x.ID
			}
			return fmt.Sprintf("Sampled for a retroactive check: %s.", strings.Join(ids, ", ")), err
		}
		meta := disclosure.Meta{Persons: f("persons"), Contributor: f("contributor"), Dimensions: fields(f("dimensions")),
			Sensitive: fields(f("sensitive")), Magnitudes: fields(f("magnitudes")), Total: f("total"), Population: f("population")}
		for _, line := range strings.Split(f("structural"), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				k := strings.Split(line, ",")
				for i := range k {
					k[i] = strings.TrimSpace(k[i])
				}
				meta.StructuralCells = append(meta.StructuralCells, k)
			}
		}
		out, err := svc.Submit(r.Context(), p, r.PathValue("id"), airlock.Submission{Purpose: f("purpose"), Exception: f("exception"), StructuralReason: f("structural_reason"),
			Agencies: fields(f("agencies")), Analysis: f("analysis"), Files: []airlock.FileInput{{Name: f("name"), Meta: meta, Data: f("data")}}})
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("Export %s: %s.", out.ID, out.Status), nil
	})

	review := page{name: "export.html", load: func(r *http.Request, p access.Principal) (any, error) {
		if svc == nil {
			return nil, fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		x, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		req, err := svc.Get(r.Context(), p, r.PathValue("eid"))
		if err != nil {
			return nil, err
		}
		if req.Project != x.Code {
			return nil, fmt.Errorf("%w: export %s", derrors.NotFound, req.ID)
		}
		v := exportView{Project: x, Officer: access.Allowed(p, access.ReviewExport, x), Request: req}
		if req.Status != airlock.Pending && req.Status != airlock.Released {
			return v, nil
		}
		for _, f := range req.Files {
			lf, err := leavingFile(r.Context(), svc, p, req.ID, f.Name)
			if err != nil {
				return nil, err
			}
			lf.mark(f)
			v.Files = append(v.Files, lf)
		}
		return v, nil
	}}
	s.pageHandlers("/projects/{id}/exports/{eid}", "Export request", review, nil)

	exporters := page{name: "exporters.html", load: func(r *http.Request, p access.Principal) (any, error) {
		if svc == nil {
			return nil, fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		x, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		es, err := svc.Exporters(r.Context(), p, x.Code)
		return struct {
			Project   access.Project
			Exporters []airlock.Exporter
		}{x, es}, err
	}}
	s.pageHandlers("/projects/{id}/exporters", "Who may request exports", exporters, func(r *http.Request, p access.Principal) (string, error) {
		user, mode := r.PostFormValue("user"), airlock.Mode(r.PostFormValue("mode"))
		return fmt.Sprintf("%s: %s.", user, cmp.Or(string(mode), "removed")), svc.SetExporter(r.Context(), p, r.PathValue("id"), user, mode, r.PostFormValue("ip_range"))
	})

	inbox := page{name: "inbox.html", load: func(r *http.Request, p access.Principal) (any, error) {
		if svc == nil {
			return nil, fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		return svc.Inbox(r.Context(), p)
	}}
	s.pageHandlers("/airlock/inbox", "Exports sent to me", inbox, nil)

	files := page{name: "download.html", load: func(r *http.Request, p access.Principal) (any, error) {
		if svc == nil {
			return nil, fmt.Errorf("%w: export requests are not set up on this server", derrors.NotFound)
		}
		addr, _ := netip.ParseAddr(source(r))
		req, err := svc.LinkFiles(r.Context(), p, r.PathValue("token"), addr)
		return struct {
			Token   string
			Request *airlock.Request
		}{r.PathValue("token"), req}, err
	}}
	s.pageHandlers("/airlock/download/{token}", "Download an export", files, nil)
	s.handle("GET /airlock/download/{token}/{file}", s.signedIn(page{}, need(download)))
}

// exportView is an export request's review page: the request, its check evidence and each
// file exactly as it leaves.
type exportView struct {
	Project access.Project
	Officer bool
	Request *airlock.Request
	Files   []leaving
}

// leaving is a file as it leaves: its header and rows, and each cell as the review page
// shows it.
type leaving struct {
	Name  string
	Head  []string
	Rows  [][]string
	Cells [][]leavingCell
	Mark  string // the numbers' mark: airlock.CellsDeclared or airlock.CellsComputed
}

// leavingCell is a cell of the file that leaves: its value and, for a number (the persons
// and magnitude columns, after the dimensions), where its persons and contributors come from.
type leavingCell struct {
	Value string
	Mark  string // "" for a dimension's label
	Class string // "declared" or "computed"
}

// mark sets lf's cells with f's marks: every number of a hand-made upload's file is
// "declared, not verified" (its persons and contributors are the analyst's), every number
// of a computed table's "computed".
func (lf *leaving) mark(f airlock.File) {
	lf.Mark = f.Cells
	class := "computed"
	if f.Cells == airlock.CellsDeclared {
		class = "declared"
	}
	nd := len(f.Meta.Dimensions)
	for _, row := range lf.Rows {
		cells := make([]leavingCell, len(row))
		for i, v := range row {
			cells[i].Value = v
			if i >= nd && f.Cells != "" {
				cells[i].Mark, cells[i].Class = f.Cells, class
			}
		}
		lf.Cells = append(lf.Cells, cells)
	}
}

// leavingFile reads a file of a request through airlock's Leaving, the path a download takes.
func leavingFile(ctx context.Context, svc *airlock.Service, p access.Principal, id, name string) (leaving, error) {
	rc, err := svc.Leaving(ctx, p, id, name)
	if err != nil {
		return leaving{}, err
	}
	defer rc.Close()
	var rows [][]string
	if strings.HasSuffix(name, ".xlsx") { // the workbook's sheet "table", as stored
		x, err := excelize.OpenReader(rc)
		if err != nil {
			return leaving{}, fmt.Errorf("export %s file %s: %w", id, name, err)
		}
		defer x.Close()
		rows, err = x.GetRows("table", excelize.Options{RawCellValue: true})
		if err != nil {
			return leaving{}, fmt.Errorf("export %s file %s: %w", id, name, err)
		}
	} else if rows, err = csv.NewReader(rc).ReadAll(); err != nil {
		return leaving{}, fmt.Errorf("export %s file %s: %w", id, name, err)
	}
	lf := leaving{Name: name}
	if len(rows) > 0 {
		lf.Head, lf.Rows = rows[0], rows[1:]
	}
	return lf, nil
}

// freeCells reads the page's list of cells an exception frees: one a line, "file: label".
func freeCells(s string) map[string][]string {
	var out map[string][]string
	for _, line := range strings.Split(s, "\n") {
		file, label, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[strings.TrimSpace(file)] = append(out[strings.TrimSpace(file)], strings.TrimSpace(label))
	}
	return out
}

func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}
