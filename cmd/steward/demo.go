package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/demo"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/scan"
	"github.com/stewardhealth/steward/internal/transform"
	"github.com/stewardhealth/steward/internal/verify"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
	_ "modernc.org/sqlite"
)

func newDemo() *cobra.Command {
	var dir string
	var seed uint64
	var patients int64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Build a synthetic hospital database and de-identify it; load a synthetic research warehouse to query",
		Long: `Build a synthetic hospital capacity-management database (SQLite), write its policy next to
it, de-identify it into a copy with a fresh random key, and show what changed.

Then make an application store for the server (steward.db, its warehouse key beside it)
holding a synthetic research warehouse — 10,000 patients and 1,155,193 facts over three
agencies in two regions — with a project for two of the agencies and a user for each of
i2b2's roles, and print the command that serves it and how to sign in.

Everything in it is made up by Steward's own generator, deterministic by --seed (the
warehouse by its size).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			if err := runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), dir, seed); err != nil {
				return err
			}
			if patients > 0 {
				if err := runSiteDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), dir, patients); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "\nThe demo took %s.\n", time.Since(start).Round(100*time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "steward-demo", "folder for the demo's files (its earlier demo files are replaced)")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the synthetic hospital database")
	cmd.Flags().Int64Var(&patients, "warehouse-patients", synthetic.DemoPatients, "patients of the research warehouse, about 100 facts each (0: no warehouse)")
	return cmd
}

// runSiteDemo makes the demo's application store with its warehouse and says how to query it.
func runSiteDemo(ctx context.Context, out, errw io.Writer, dir string, patients int64) error {
	path := filepath.Join(dir, "steward.db")
	fmt.Fprintf(out, "\n6. Loading a synthetic research warehouse into the server's store %s\n   (its key: %s)\n", path, seal.DefaultKeyFile(path))
	prog, wait := newProgress(errw)
	site, err := demo.BuildSite(ctx, path, patients, prog)
	wait()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   %d rows, %d of them facts, in %s (%.0f rows/s); the patients by agency:\n", site.Rows, site.Facts,
		site.Load.Round(100*time.Millisecond), float64(site.Rows)/site.Load.Seconds())
	for _, a := range site.Agencies {
		fmt.Fprintf(out, "     %-6s %-16s region %-5s %6d patients (numbers %d to %d)\n", a.Code, a.Name, a.Region, a.Patients, a.First+1, a.First+a.Patients)
	}
	fmt.Fprintln(out, "   Projects (each one agency's own evaluation, so the governance gate admits its queries):")
	for _, x := range site.Projects {
		fmt.Fprintf(out, "     %-15s %s (agency %s)\n", x.Code, x.Name, x.Agency)
	}
	fmt.Fprintf(out, "   Users, all with the password %s:\n", site.Password)
	for _, u := range site.Users {
		where := "site"
		if u.Project != "" {
			where = fmt.Sprintf("%-6s %-10s in %s", u.Agency, u.Role, u.Project)
		}
		fmt.Fprintf(out, "     %-6s %-36s %s\n", u.Name, where, u.Gets)
	}
	fmt.Fprintf(out, `
Query the warehouse:
  steward serve --db %s        (from a clone: go run ./cmd/steward serve --db %s)
  then open http://localhost:8080/projects/north-diabetes/cohort and sign in as ana with %s;
  sign in as rita at /projects/river-diabetes/cohort: the same query counts River's patients only.
  The director dora (dora@example.org) is mailed every lock, refused access and digest when serve
  is given --smtp HOST:PORT; she reinstates locked accounts on /admin/locks.
  The API: TOKEN=$(curl -s localhost:8080/api/v1/signin -d '{"user":"ana","password":"%s"}' | sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
           curl -s -H "Authorization: Bearer $TOKEN" localhost:8080/api/v1/projects/north-diabetes/queries \
             -d '{"panels":[{"items":[{"key":"\\i2b2\\Diagnoses\\ICD10\\E\\E11\\"}]}]}'
`, path, path, site.Password, site.Password)
	return nil
}

func runDemo(ctx context.Context, out, errw io.Writer, dir string, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	src := filepath.Join(dir, "hospital.db")
	dst := filepath.Join(dir, "hospital-deid.db")
	polPath := filepath.Join(dir, "policy.yaml")
	for _, p := range []string{src, dst, filepath.Join(dir, "copy.db")} { // copy.db: the next steps' copy
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	fmt.Fprintf(out, "1. Building a synthetic hospital database: %s\n", src)
	if err := demo.Build(ctx, src, seed, demo.Default); err != nil {
		return err
	}
	scanned := filepath.Join(dir, "scanned.yaml")
	db, err := database.Open(ctx, "sqlite:"+src)
	if err != nil {
		return err
	}
	res, err := scan.Scan(ctx, db, scan.Options{})
	db.Close()
	if err != nil {
		return err
	}
	if err := os.WriteFile(scanned, res.Policy, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "2. Scanning it: a proposed policy with the reason for every rule: %s\n   %s\n", scanned, scanSummary(res))
	if err := os.WriteFile(polPath, demo.Policy(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "   The policy used below, reviewed by hand, a rule for every column: %s\n", polPath)
	pol, err := policy.Load(polPath)
	if err != nil {
		return err
	}
	secret := make([]byte, 32)
	rand.Read(secret)
	key, err := transform.NewKey(secret)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. De-identifying into %s with a random key (%s) that is not kept\n", dst, key.Fingerprint())
	prog, wait := newProgress(errw)
	rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: "sqlite:" + src, Target: "sqlite:" + dst, Progress: prog})
	wait()
	if err != nil {
		return err
	}
	printReport(out, rep)
	fmt.Fprintln(out, "\n4. The same rows before and after:")
	if err := showSamples(ctx, out, src, dst); err != nil {
		return err
	}
	report := filepath.Join(dir, "report.html")
	fmt.Fprintf(out, "\n5. Verifying the copy against the original (six checks, counts only):\n")
	vrep, err := verify.Run(ctx, verify.Options{Policy: pol, Source: "sqlite:" + src, Target: "sqlite:" + dst})
	if err != nil {
		return err
	}
	printVerify(out, vrep)
	if err := verify.WriteFile(report, vrep); err != nil {
		return err
	}
	fmt.Fprintf(out, "   The sign-off report: %s\n", report)
	if len(vrep.Failed()) > 0 {
		return &exitError{exitChecksFailed, errors.New("the demo's copy failed verification")}
	}
	me, in := invokedAs(), func(name string) string { return filepath.Join(dir, name) }
	fmt.Fprintf(out, "\nTry it yourself (then on your own database):\n  %[1]s deid scan --source sqlite:%[2]s --out %[4]s\n  %[1]s deid check --policy %[3]s --source sqlite:%[2]s\n  openssl rand -hex 32 > %[5]s\n  %[1]s deid run --policy %[3]s --source sqlite:%[2]s --target sqlite:%[6]s --key-file %[5]s\n  %[1]s deid verify --policy %[3]s --source sqlite:%[2]s --target sqlite:%[6]s --report %[7]s\n",
		me, src, polPath, in("my-policy.yaml"), in("steward.key"), in("copy.db"), in("copy-report.html"))
	return nil
}

// invokedAs is how to run this same program again from where it was started: `go run
// ./cmd/steward` when it is a binary `go run` built, `steward` when that is the one on the
// PATH, else the path it was started by.
func invokedAs() string {
	exe, err := os.Executable()
	if err != nil {
		return "steward"
	}
	if strings.Contains(exe, string(filepath.Separator)+"go-build") {
		return "go run ./cmd/steward"
	}
	if onPath, err := exec.LookPath("steward"); err == nil {
		if a, err1 := filepath.EvalSymlinks(onPath); err1 == nil {
			if b, err2 := filepath.EvalSymlinks(exe); err2 == nil && a == b {
				return "steward"
			}
		}
	}
	if strings.ContainsRune(os.Args[0], filepath.Separator) {
		return os.Args[0]
	}
	return exe
}

// showSamples prints the same rows of the original and of its copy.
func showSamples(ctx context.Context, out io.Writer, src, dst string) error {
	samples, err := demo.Samples(ctx, src, dst)
	if err != nil {
		return err
	}
	for _, s := range samples {
		fmt.Fprintf(out, "  %s\n", s.Title)
		for i := range s.Before {
			fmt.Fprintf(out, "    before: %s\n", s.Before[i])
			if i < len(s.After) {
				fmt.Fprintf(out, "    after:  %s\n", s.After[i])
			}
		}
	}
	return nil
}
