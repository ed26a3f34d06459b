package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/derrors"
	"github.com/stewardhealth/steward/internal/governance"
)

// governanceRoutes serves ethics review, consent, purposes, individual access and
// retention (issue 9): the API under /api/v1/ and the pages /ethics, /ethics/{id},
// /admin/people and /admin/corrections. g nil: a service with the policy's notice periods.
func (s *Server) governanceRoutes(g *governance.Service) {
	if g == nil {
		g = governance.New(s.svc.DB, governance.Config{})
	}
	s.HandleAPI("GET /api/v1/ethics", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		apps, err := g.Applications(r.Context(), p, r.URL.Query().Get("project"))
		return reply(w, apps, err)
	})
	s.HandleAPI("POST /api/v1/ethics", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var a governance.Application
		if err := decode(r, &a); err != nil {
			return err
		}
		a, err := g.Submit(r.Context(), p, a)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, a)
	})
	s.HandleAPI("GET /api/v1/ethics/{id}", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		a, err := g.Application(r.Context(), p, r.PathValue("id"))
		return reply(w, a, err)
	})
	s.HandleAPI("POST /api/v1/ethics/{id}/circulate", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		a, err := g.Circulate(r.Context(), p, r.PathValue("id"))
		return reply(w, a, err)
	})
	s.HandleAPI("POST /api/v1/ethics/{id}/decision", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var d governance.Decision
		if err := decode(r, &d); err != nil {
			return err
		}
		a, err := g.Decide(r.Context(), p, r.PathValue("id"), d)
		return reply(w, a, err)
	})
	s.HandleAPI("GET /api/v1/ethics/{id}/consents", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		a, err := g.Application(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return err
		}
		cs, err := g.Consents(r.Context(), a.ID, a.Project)
		return reply(w, cs, err)
	})
	s.HandleAPI("POST /api/v1/consents", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var c governance.Consent
		return created(w, r, &c, func() error { return g.RecordConsent(r.Context(), p, c) })
	})
	s.HandleAPI("POST /api/v1/permit", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var q struct {
			Project  string   `json:"project"`
			Agencies []string `json:"agencies"`
			Analysis string   `json:"analysis"`
		}
		if err := decode(r, &q); err != nil {
			return err
		}
		if _, err := s.svc.Project(r.Context(), p, q.Project); err != nil {
			return err
		}
		ad, err := g.Admit(r.Context(), q.Project, q.Agencies, q.Analysis)
		return reply(w, ad, err)
	})
	s.HandleAPI("GET /api/v1/projects/{id}/purposes", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if _, err := s.svc.Project(r.Context(), p, r.PathValue("id")); err != nil {
			return err
		}
		ps, err := g.ProjectPurposes(r.Context(), r.PathValue("id"))
		return reply(w, map[string]any{"purposes": ps}, err)
	})
	s.HandleAPI("PUT /api/v1/projects/{id}/purposes", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var q struct {
			Purposes []governance.Purpose `json:"purposes"`
		}
		if err := decode(r, &q); err != nil {
			return err
		}
		return reply(w, q, g.SetPurposes(r.Context(), p, r.PathValue("id"), q.Purposes))
	})
	s.HandleAPI("POST /api/v1/client-consents", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var q struct {
			Agency    string `json:"agency"`
			Client    string `json:"client"`
			Consented bool   `json:"consented"`
		}
		if err := decode(r, &q); err != nil {
			return err
		}
		return noContent(w, g.SetClientConsent(r.Context(), p, q.Agency, q.Client, q.Consented))
	})
	s.HandleAPI("POST /api/v1/people/report", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var who governance.Person
		if err := decode(r, &who); err != nil {
			return err
		}
		rep, err := g.PersonReport(r.Context(), p, who)
		return reply(w, rep, err)
	})
	s.HandleAPI("POST /api/v1/corrections", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var c governance.Correction
		if err := decode(r, &c); err != nil {
			return err
		}
		c, err := g.RequestCorrection(r.Context(), p, c)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusCreated, c)
	})
	s.HandleAPI("GET /api/v1/agencies/{code}/corrections", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		cs, err := g.Corrections(r.Context(), p, r.PathValue("code"))
		return reply(w, cs, err)
	})
	s.HandleAPI("POST /api/v1/corrections/{id}/close", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		var q struct {
			Amended  bool   `json:"amended"`
			Response string `json:"response"`
		}
		if err := decode(r, &q); err != nil {
			return err
		}
		return noContent(w, g.CloseCorrection(r.Context(), p, r.PathValue("id"), q.Amended, q.Response))
	})
	s.HandleAPI("GET /api/v1/retention", func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		if err := access.Check(p, access.ManageUsers, access.Project{}); err != nil {
			return err
		}
		due, err := g.Expired(r.Context())
		return reply(w, due, err)
	})
	s.governancePages(g)
}

func (s *Server) governancePages(g *governance.Service) {
	ethics := page{name: "ethics.html", load: func(r *http.Request, p access.Principal) (any, error) {
		apps, err := g.Applications(r.Context(), p, "")
		xs, err2 := s.svc.Projects(r.Context(), p)
		xs = slices.DeleteFunc(xs, func(x access.Project) bool { return !access.Allowed(p, access.SubmitEthics, x) })
		as, err3 := s.svc.Agencies(r.Context(), access.Principal{}) // every agency: an application names others' too
		rs, err4 := s.svc.Regions(r.Context())
		return struct {
			Applications []governance.Application
			Projects     []access.Project
			Agencies     []access.Agency
			Regions      []access.Region
			Purposes     []governance.Purpose
			Assurances   []governance.Assurance
		}{apps, xs, as, rs, governance.ResearchPurposes, governance.AssuranceList()}, errors.Join(err, err2, err3, err4)
	}}
	s.pageHandlers("/ethics", "Ethics review", ethics, func(r *http.Request, p access.Principal) (string, error) {
		f := r.PostForm
		a, err := g.Submit(r.Context(), p, governance.Application{Project: f.Get("project"), Title: f.Get("title"),
			Purpose: governance.Purpose(f.Get("purpose")), Summary: f.Get("summary"), Risks: f.Get("risks"), Benefits: f.Get("benefits"),
			Conflicts: f.Get("conflicts"), Agencies: f["agency"], Regions: f["region"], Sectors: words(f.Get("sectors")),
			Analyses: words(f.Get("analyses")), Assurances: f["assurance"]})
		return fmt.Sprintf("Application %s submitted. The board meets on it no sooner than %s after submission and %s after every member has received it.",
			a.ID, governance.Days(g.Config.AfterSubmission), governance.Days(g.Config.AfterCirculation)), err
	})

	one := page{name: "ethics_app.html", load: func(r *http.Request, p access.Principal) (any, error) {
		a, err := g.Application(r.Context(), p, r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		x, err := g.Project(r.Context(), a.Project)
		if err != nil {
			return nil, err
		}
		cs, err := g.Consents(r.Context(), a.ID, a.Project)
		return struct {
			App      governance.Application
			Consents []governance.Consent
			Board    bool
			Consent  bool
			Now      string
		}{a, cs, access.Allowed(p, access.ApproveEthics, x) && a.Investigator != p.User, access.Allowed(p, access.RecordConsent, x),
			g.Now().UTC().Format("2006-01-02 15:04")}, err
	}}
	s.pageHandlers("/ethics/{id}", "Ethics application", one, func(r *http.Request, p access.Principal) (string, error) {
		id, f := r.PathValue("id"), r.PostForm
		switch f.Get("do") {
		case "circulate":
			_, err := g.Circulate(r.Context(), p, id)
			return "Recorded that every board member has received the application.", err
		case "decide":
			d := governance.Decision{Approve: f.Get("decision") == "approve", Reasons: f.Get("reasons"), Conditions: f.Get("conditions")}
			a, err := g.Decide(r.Context(), p, id, d)
			return fmt.Sprintf("Decision recorded: %s.", a.Status), err
		case "consent":
			c := governance.Consent{Application: id, PartyKind: f.Get("party_kind"), Party: f.Get("party"), Consented: f.Get("consented") == "yes", Note: f.Get("note")}
			return fmt.Sprintf("Recorded: %s %s %s.", c.PartyKind, c.Party, map[bool]string{true: "consents", false: "does not consent"}[c.Consented]),
				g.RecordConsent(r.Context(), p, c)
		}
		return "", fmt.Errorf("%w: unknown action", derrors.Invalid)
	})

	s.HandlePage("GET /admin/people", true, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		return s.render(w, r, http.StatusOK, s.tmpl("people.html"), view{Title: "Individual access", Me: p, Request: r})
	})
	s.HandlePage("POST /admin/people", true, func(w http.ResponseWriter, r *http.Request, p access.Principal) error {
		who := governance.Person{User: strings.TrimSpace(r.PostFormValue("user"))}
		for _, l := range strings.Fields(r.PostFormValue("clients")) {
			a, c, _ := strings.Cut(l, ":")
			who.Clients = append(who.Clients, governance.ClientRef{Agency: a, Client: c})
		}
		rep, err := g.PersonReport(r.Context(), p, who)
		if err != nil {
			if status(err) == http.StatusInternalServerError {
				return err
			}
			return s.render(w, r, status(err), s.tmpl("people.html"), view{Title: "Individual access", Me: p, Request: r, Error: err.Error()})
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		return rep.Write(w, "html")
	})

	corrections := page{name: "corrections.html", need: access.PersonalAccess, load: func(r *http.Request, p access.Principal) (any, error) {
		agency := r.URL.Query().Get("agency")
		var cs []governance.Correction
		var err error
		if agency != "" {
			cs, err = g.Corrections(r.Context(), p, agency)
		}
		as, err2 := s.svc.Agencies(r.Context(), p)
		return struct {
			Agency      string
			Agencies    []access.Agency
			Corrections []governance.Correction
		}{agency, as, cs}, errors.Join(err, err2)
	}}
	s.pageHandlers("/admin/corrections", "Corrections asked for", corrections, func(r *http.Request, p access.Principal) (string, error) {
		f := r.PostForm
		if f.Get("do") == "close" {
			return "Correction " + f.Get("id") + " answered.", g.CloseCorrection(r.Context(), p, f.Get("id"), f.Get("amended") == "yes", f.Get("response"))
		}
		c, err := g.RequestCorrection(r.Context(), p, governance.Correction{Agency: f.Get("agency"), Client: f.Get("client"), Item: f.Get("item"), Requested: f.Get("requested")})
		return "Correction " + c.ID + " recorded; agency " + c.Agency + " answers it.", err
	})
}

// words splits a comma- or space-separated list.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}
