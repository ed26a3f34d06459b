package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/airlock"
)

// exportsDir is where released files are kept, beside the store: PATH.exports for a SQLite
// store at PATH, $STEWARD_HOME/exports for PostgreSQL.
func exportsDir(dsn string) string { return besideStore(dsn, ".exports", "exports") }

// exportFiles is the released files' storage: sealed under a key derived from the server key.
func exportFiles(s *access.Service, dsn string) airlock.Sealed {
	return airlock.Sealed{Dir: exportsDir(dsn), Key: s.DB.AuditKey.Derive("steward exports v1")}
}

// airlockService builds the export service: released files sealed beside the store, links
// mailed through the server's SMTP settings. Download links in its emails start with
// publicURL, the address people reach the server at (behind a proxy, not --addr); when it is
// empty they start with the listening address.
func airlockService(s *access.Service, dsn string, n access.Notifier, addr, publicURL string, tls bool) *airlock.Service {
	if publicURL == "" {
		scheme := "http"
		if tls {
			scheme = "https"
		}
		publicURL = scheme + "://" + addr
	}
	return airlock.New(s.DB, s, exportFiles(s, dsn), n, strings.TrimRight(publicURL, "/"))
}

// sweepExports removes released files past their retention, with one audit entry.
func sweepExports(ctx context.Context, s *access.Service, files airlock.Sealed, retention time.Duration) {
	gone, err := files.Sweep(time.Now().Add(-retention))
	if len(gone) > 0 {
		err = errors.Join(err, s.Record(ctx, access.CLI("steward"), "export.files_removed", "exports",
			map[string]string{"files": strings.Join(gone, " "), "retention": retention.String()}))
	}
	if err != nil {
		slog.Error("export retention", "err", err)
	}
}

// newExport is the command line's export settings: what the officer changes on the server.
func newExport() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "A project's export settings: disclosure thresholds, reviewers, link lifetime, bunker mode",
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	var st airlock.Settings
	settings := &cobra.Command{
		Use:   "settings PROJECT [--reviewers N] [--link-days N] [--bunker] [--min-persons N] …",
		Short: "Show a project's export settings, changing those given by flags first (audited)",
		Long: `Without flags, print the project's export settings as JSON. With flags, change only the
settings named (the others stay) and print the result; the change is written to the audit log
as done by cli:<your OS user name>, with every value. The data-governance officer makes the
same change on the server (PUT /api/v1/projects/{id}/export-settings). A threshold of 0 is its
default.`,
		Example: `  steward export settings outcomes
  steward export settings outcomes --reviewers 2 --link-days 3
  steward export settings outcomes --min-persons 10 --bunker=false`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			s, done, err := openAccess(ctx, dsn, access.Config{}, nil)
			if err != nil {
				return err
			}
			defer done()
			al := airlock.New(s.DB, s, nil, nil, "")
			p := cliPrincipal()
			cur, err := al.ProjectSettings(ctx, p, args[0])
			if err != nil {
				return err
			}
			changed := false
			set := func(flag string, dst, src any) {
				if !c.Flags().Changed(flag) {
					return
				}
				changed = true
				switch d := dst.(type) {
				case *int:
					*d = *src.(*int)
				case *float64:
					*d = *src.(*float64)
				case *bool:
					*d = *src.(*bool)
				}
			}
			set("reviewers", &cur.Reviewers, &st.Reviewers)
			set("link-days", &cur.LinkDays, &st.LinkDays)
			set("bunker", &cur.Bunker, &st.Bunker)
			set("min-persons", &cur.Rules.MinPersons, &st.Rules.MinPersons)
			set("min-projects", &cur.Rules.MinProjects, &st.Rules.MinProjects)
			set("dominance-n", &cur.Rules.DominanceN, &st.Rules.DominanceN)
			set("dominance-k", &cur.Rules.DominanceK, &st.Rules.DominanceK)
			set("p-percent", &cur.Rules.P, &st.Rules.P)
			set("max-differencing", &cur.Rules.MaxDifferencing, &st.Rules.MaxDifferencing)
			if changed {
				if err := al.SetSettings(ctx, p, args[0], cur); err != nil {
					return err
				}
				if cur, err = al.ProjectSettings(ctx, p, args[0]); err != nil {
					return err
				}
			}
			return printJSON(c.OutOrStdout(), cur)
		},
	}
	f := settings.Flags()
	f.IntVar(&st.Reviewers, "reviewers", 1, "distinct reviewers who approve a request: 1 or 2 (an exception always needs 2)")
	f.IntVar(&st.LinkDays, "link-days", 7, "download links live this many days (1 to 90)")
	f.BoolVar(&st.Bunker, "bunker", false, "bunker mode: the analysts are not known; the data publishers verify and receive")
	f.IntVar(&st.Rules.MinPersons, "min-persons", 0, "a cell needs more than this many persons (0: the default, 30)")
	f.IntVar(&st.Rules.MinProjects, "min-projects", 0, "and persons of more than this many contributors (0: the default, 3; -1 off)")
	f.IntVar(&st.Rules.DominanceN, "dominance-n", 0, "(n,k) rule: the n largest contributions (0: the default, 2)")
	f.Float64Var(&st.Rules.DominanceK, "dominance-k", 0, "… must make less than k % of the cell (0: the default, 90)")
	f.Float64Var(&st.Rules.P, "p-percent", 0, "p % rule (0: the default, 10)")
	f.IntVar(&st.Rules.MaxDifferencing, "max-differencing", 0, "releases of a population may not differ by 1 to this many persons (0: min-persons)")
	cmd.AddCommand(settings, newRetro(&dsn), newExportTable())
	return cmd
}

// runRetroSchedule samples every project's last ended period not sampled yet, as the
// server's schedule (audited as cli:steward, like the export files' sweep).
func runRetroSchedule(ctx context.Context, al *airlock.Service) {
	runs, err := al.RunRetro(ctx, access.CLI("steward"), "", time.Now(), nil)
	for _, r := range runs {
		if !r.Already && r.Picked > 0 {
			slog.Info("retroactive check sampled", "project", r.Project, "period", r.Period, "released", r.Released, "picked", r.Picked)
		}
	}
	if err != nil {
		slog.Error("retroactive checks", "err", err)
	}
}

// newRetro is issue 16's retroactive checks on the command line: a run (for cron, beside
// the server's own hourly schedule), a project's settings, samples and outcomes.
func newRetro(dsn *string) *cobra.Command {
	var as, note, period string
	var seed int64
	var rate float64
	var demote bool
	cmd := &cobra.Command{
		Use:   "retro",
		Short: "Retroactive checks of automatic exports: sample each ended period, record outcomes",
		Long: `Each project samples a share of the automatic exports released in a period (10 % per month
unless its officer sets otherwise): once a period has ended, 'steward serve' samples it within
the hour, or 'steward export retro run' does (from cron). A period is sampled once; the run
records how many were released, how many it picked (round(rate × released)) and its seed. The
officer then records each sample's outcome: no_issue, analyst_contacted, new_export_asked or
recalled (which recalls the export: its links die and the analyst is mailed). Commands acting
for an officer take --as, a user of the store holding DATA_OFFICER in the project.`,
	}
	with := func(officer bool, fn func(ctx context.Context, al *airlock.Service, p access.Principal, c *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			s, done, err := openAccess(ctx, *dsn, access.Config{}, nil)
			if err != nil {
				return err
			}
			defer done()
			p := cliPrincipal()
			if officer {
				if as == "" {
					return fmt.Errorf("--as names the data-governance officer acting")
				}
				if p, err = s.Principal(ctx, as, "cli"); err != nil {
					return err
				}
			}
			return fn(ctx, airlock.New(s.DB, s, exportFiles(s, *dsn), nil, ""), p, c, args)
		}
	}
	run := &cobra.Command{
		Use:   "run [PROJECT] [--seed N]",
		Short: "Sample the last ended period of every project (or one) not sampled yet (audited as cli:<OS user>)",
		Example: `  steward export retro run
  steward export retro run north-diabetes --seed 42`,
		Args: cobra.MaximumNArgs(1),
		RunE: with(false, func(ctx context.Context, al *airlock.Service, p access.Principal, c *cobra.Command, args []string) error {
			project := ""
			if len(args) == 1 {
				project = args[0]
			}
			var sd *int64
			if c.Flags().Changed("seed") {
				sd = &seed
			}
			runs, err := al.RunRetro(ctx, p, project, time.Now(), sd)
			if err != nil {
				return err
			}
			return printJSON(c.OutOrStdout(), runs)
		}),
	}
	run.Flags().Int64Var(&seed, "seed", 0, "the seed that picks the samples (default: a random one, recorded)")
	settings := &cobra.Command{
		Use:   "settings PROJECT --as USER [--rate R] [--period month|week]",
		Short: "Show a project's sampling settings, changing those given first (audited)",
		Args:  cobra.ExactArgs(1),
		RunE: with(true, func(ctx context.Context, al *airlock.Service, p access.Principal, c *cobra.Command, args []string) error {
			st, err := al.RetroSettings(ctx, p, args[0])
			if err != nil {
				return err
			}
			if c.Flags().Changed("rate") || c.Flags().Changed("period") {
				if c.Flags().Changed("rate") {
					st.Rate = rate
				}
				if c.Flags().Changed("period") {
					st.Period = period
				}
				if err := al.SetRetroSettings(ctx, p, args[0], st); err != nil {
					return err
				}
			}
			return printJSON(c.OutOrStdout(), st)
		}),
	}
	settings.Flags().Float64Var(&rate, "rate", 0.10, "the share of a period's released automatic exports sampled (0 to 1)")
	settings.Flags().StringVar(&period, "period", "month", "month or week")
	samples := &cobra.Command{
		Use:   "samples PROJECT --as USER [--period 2026-11]",
		Short: "List a project's sampled exports and their outcomes",
		Args:  cobra.ExactArgs(1),
		RunE: with(true, func(ctx context.Context, al *airlock.Service, p access.Principal, c *cobra.Command, args []string) error {
			ss, err := al.RetroSamples(ctx, p, args[0], period)
			if err != nil {
				return err
			}
			return printJSON(c.OutOrStdout(), ss)
		}),
	}
	samples.Flags().StringVar(&period, "period", "", "one period (2026-11, 2026-W47); none: every period")
	outcome := &cobra.Command{
		Use:   "outcome PROJECT EXPORT OUTCOME --as USER [--note TEXT] [--demote]",
		Short: "Record a sample's outcome: no_issue, analyst_contacted, new_export_asked or recalled (audited)",
		Example: `  steward export retro outcome north-diabetes exp-0123456789abcdef no_issue --as pia
  steward export retro outcome north-diabetes exp-0123456789abcdef recalled --as pia --note "a cell of 4" --demote`,
		Args: cobra.ExactArgs(3),
		RunE: with(true, func(ctx context.Context, al *airlock.Service, p access.Principal, c *cobra.Command, args []string) error {
			if err := al.SetRetroOutcome(ctx, p, args[0], args[1], args[2], note, demote); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "export %s: %s\n", args[1], args[2])
			return nil
		}),
	}
	outcome.Flags().StringVar(&note, "note", "", "what was found or done (required but for no_issue; a recall's reason)")
	outcome.Flags().BoolVar(&demote, "demote", false, "with recalled: move the analyst back to validated exports")
	for _, c := range []*cobra.Command{settings, samples, outcome} {
		c.Flags().StringVar(&as, "as", "", "the data-governance officer acting (a user of the store holding DATA_OFFICER in the project)")
	}
	cmd.AddCommand(run, settings, samples, outcome)
	return cmd
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
