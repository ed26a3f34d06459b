package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/stewardhealth/steward/internal/audit"
	"os"
	"time"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

// The demo's server: an application store holding the synthetic research warehouse spread
// over three agencies in two regions, a project for two of the agencies, and a user for each
// of i2b2's roles, so that `steward serve` on it answers cohort queries at once.

// SiteAgency is an agency of the demo and the patients it holds.
type SiteAgency struct {
	access.Agency
	First, Patients int64 // its patients are numbered First+1 … First+Patients
}

// SiteUser is a person who can sign in to the demo's server.
type SiteUser struct {
	access.User
	Project string      // the project they have a role in ("" for none)
	Role    access.Role // their role there
	Gets    string      // what that role is shown, in words
}

// Site is what BuildSite made.
type Site struct {
	Store    string // the SQLite file of the application store
	KeyFile  string // the warehouse key, beside it
	Password string // every demo user's password, random per build
	Agencies []SiteAgency
	Projects []access.Project
	Users    []SiteUser
	Rows     int64         // warehouse rows loaded
	Facts    int64         // of which observation_fact
	Load     time.Duration // time the warehouse load took
}

// siteShares are the agencies and their shares of the patients (percent).
var siteShares = []struct {
	agency access.Agency
	share  int64
}{
	{access.Agency{Code: "north", Name: "North clinic", Region: "west"}, 40},
	{access.Agency{Code: "south", Name: "South clinic", Region: "west"}, 30},
	{access.Agency{Code: "river", Name: "River hospital", Region: "east"}, 30},
}

// BuildSite makes a new application store at path (an earlier one there, and its key, are
// replaced) with the synthetic warehouse of patients patients (synthetic.DemoSeed; the same
// rows as `steward warehouse demo`), its agencies, projects and users. The warehouse key is
// made beside the store (seal.DefaultKeyFile), unless $STEWARD_WAREHOUSE_KEY holds one.
func BuildSite(ctx context.Context, path string, patients int64, progress deid.Progress) (Site, error) {
	if patients < 10 {
		return Site{}, fmt.Errorf("demo site: %d patients is too few to spread over agencies", patients)
	}
	site := Site{Store: path, KeyFile: seal.DefaultKeyFile(path)}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal", site.KeyFile, path + ".server-key", path + ".audit-checkpoints"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return Site{}, err
		}
	}
	keys, err := seal.LoadKeys(site.KeyFile, true)
	if err != nil {
		return Site{}, err
	}
	// The server key beside the store (as steward serve finds it): the audit log is keyed
	// from its first entry.
	auditKey, err := audit.LoadKeyFile(path+".server-key", true)
	if err != nil {
		return Site{}, err
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return Site{}, err
	}
	defer db.Close()
	db.AuditKey = auditKey
	svc := access.New(db, access.Config{}, nil)
	cli := access.CLI("demo")
	secret := make([]byte, 6)
	rand.Read(secret)
	site.Password = "demo-" + hex.EncodeToString(secret)

	// The ontology belongs to the whole site; each agency's patients to the agency.
	in := synthetic.Warehouse{Ontology: true}.Inputs()
	var first int64
	for i, s := range siteShares {
		n := patients * s.share / 100
		if i == len(siteShares)-1 {
			n = patients - first
		}
		site.Agencies = append(site.Agencies, SiteAgency{Agency: s.agency, First: first, Patients: n})
		for _, x := range (synthetic.Warehouse{Seed: synthetic.DemoSeed, First: first, Patients: n}).Inputs() {
			x.Agency = s.agency.Code
			in = append(in, x)
		}
		first += n
	}
	// Count the facts as they pass.
	for i := range in {
		if in[i].Table == "observation_fact" {
			in[i].Source = &counted{Source: in[i].Source, n: &site.Facts}
		}
	}
	start := time.Now()
	site.Rows, err = load.Run(ctx, db, keys, in, load.Options{Progress: progress, NewStore: true})
	if err != nil {
		return Site{}, fmt.Errorf("demo warehouse: %w", err)
	}
	site.Load = time.Since(start)

	for _, r := range []access.Region{{Code: "west", Name: "West"}, {Code: "east", Name: "East"}} {
		if err := svc.CreateRegion(ctx, cli, r); err != nil {
			return Site{}, err
		}
	}
	for _, a := range site.Agencies {
		if err := svc.CreateAgency(ctx, cli, a.Agency); err != nil {
			return Site{}, err
		}
	}
	// A project of one agency is that agency's own evaluation: the governance gate lets its
	// queries read the agency's data without an ethics application.
	site.Projects = []access.Project{
		{Code: "north-diabetes", Name: "Diabetes outcomes at North clinic", Agency: "north"},
		{Code: "river-diabetes", Name: "Diabetes outcomes at River hospital", Agency: "river"},
	}
	for _, x := range site.Projects {
		if err := svc.CreateProject(ctx, cli, x); err != nil {
			return Site{}, err
		}
	}
	site.Users = []SiteUser{
		{User: access.User{Name: "admin", FullName: "Site administrator", Admin: true}, Gets: "administration: users, projects, lockouts, the audit log"},
		{User: access.User{Name: "olga", FullName: "Olga (North clinic)", Agency: "north"}, Project: "north-diabetes", Role: access.DataObfsc, Gets: "counts with noise, locked out after 7 answers with the same count"},
		{User: access.User{Name: "ana", FullName: "Ana (North clinic)", Agency: "north"}, Project: "north-diabetes", Role: access.DataAgg, Gets: "exact counts and breakdowns"},
		{User: access.User{Name: "lena", FullName: "Lena (North clinic)", Agency: "north"}, Project: "north-diabetes", Role: access.DataLDS, Gets: "patient-level data without blobs"},
		{User: access.User{Name: "pia", FullName: "Pia (North clinic)", Agency: "north"}, Project: "north-diabetes", Role: access.DataProt, Gets: "patient-level data with blobs and identities"},
		{User: access.User{Name: "rita", FullName: "Rita (River hospital)", Agency: "river"}, Project: "river-diabetes", Role: access.DataAgg, Gets: "exact counts and breakdowns of River's patients only"},
		{User: access.User{Name: "dora", FullName: "Dora (executive director)", Director: true, Email: "dora@example.org"},
			Gets: "the director: mailed at once of every lock and refused access (serve --smtp), reinstates locked accounts, reads the audit log"},
	}
	for _, u := range site.Users {
		if u.Admin {
			err = svc.Bootstrap(ctx, cli, u.User, site.Password)
		} else {
			err = svc.CreateUser(ctx, cli, u.User, site.Password)
		}
		if err == nil && u.Project != "" {
			err = svc.Grant(ctx, cli, u.Name, u.Project, u.Role)
		}
		if err != nil {
			return Site{}, fmt.Errorf("demo user %s: %w", u.Name, err)
		}
	}
	return site, nil
}

// counted counts the rows a Source yields.
type counted struct {
	load.Source
	n *int64
}

func (c *counted) Next() ([]any, error) {
	r, err := c.Source.Next()
	if err == nil {
		*c.n++
	}
	return r, err
}
