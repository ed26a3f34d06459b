package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/warehouse"
)

// withGovernance opens the store and runs fn with the governance service over it.
func withGovernance(dsn *string, fn func(ctx context.Context, g *governance.Service, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		s, done, err := openAccess(c.Context(), *dsn, access.Config{}, nil)
		if err != nil {
			return err
		}
		defer done()
		var w *warehouse.Warehouse
		if keys, err := warehouseKeys(*dsn, os.Getenv("STEWARD_WAREHOUSE_KEY_FILE"), false); err == nil {
			w = warehouse.New(s.DB, s, keys)
		}
		return fn(c.Context(), warehouse.Governance(s.DB, governance.Config{}, w), args, c.OutOrStdout())
	}
}

func newRetention() *cobra.Command {
	var dsn string
	var yes bool
	cmd := &cobra.Command{
		Use:   "retention [--yes]",
		Short: "List the records past their retention rule; --yes removes them",
		Long: `Each kind of record Steward keeps about people and projects has a retention rule: how many
days it is kept after it stopped being needed (a project's end, a rejection, a closed
correction, a token's expiry). Without --yes, list each kind, its rule and how many records
are past it; with --yes, remove them, one audit entry per kind. Kinds without a rule are
kept. Set rules with 'retention rule', a project's end with 'retention project-end'.`,
		Example: `  steward retention
  steward retention rule project_grants 90 --basis "Part A, 5: kept only as long as the purpose needs"
  steward retention project-end outcomes 2026-12-31
  steward retention --yes`,
		Args: cobra.NoArgs,
		RunE: withGovernance(&dsn, func(ctx context.Context, g *governance.Service, _ []string, out io.Writer) error {
			due, err := g.Expired(ctx)
			if yes && err == nil {
				due, err = g.RemoveExpired(ctx, cliPrincipal())
			}
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			verb := "past the rule"
			if yes {
				verb = "removed"
			}
			fmt.Fprintf(tw, "KIND\tRULE\t%s\tWHAT\n", strings.ToUpper(verb))
			for _, d := range due {
				rule, n := "no rule", "-"
				if d.Rule != nil {
					rule, n = fmt.Sprintf("%d days", d.Rule.Days), fmt.Sprint(d.Past)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", d.Name, rule, n, d.Describe)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if !yes {
				fmt.Fprintln(out, "nothing removed: run again with --yes to remove what is past its rule")
			}
			return nil
		}),
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	cmd.Flags().BoolVar(&yes, "yes", false, "remove the records past their rule")
	var basis string
	rule := &cobra.Command{
		Use:     "rule KIND DAYS --basis TEXT",
		Short:   "Set how many days a kind of record is kept",
		Example: `  steward retention rule closed_corrections 730 --basis "two years after the agency answered"`,
		Args:    cobra.ExactArgs(2),
		RunE: withGovernance(&dsn, func(ctx context.Context, g *governance.Service, args []string, out io.Writer) error {
			var days int
			if _, err := fmt.Sscan(args[1], &days); err != nil {
				return fmt.Errorf("DAYS %q is not a whole number", args[1])
			}
			return g.SetRule(ctx, cliPrincipal(), governance.Rule{Kind: args[0], Days: days, Basis: basis})
		}),
	}
	rule.Flags().StringVar(&basis, "basis", "", "why the records are kept that long (required)")
	end := &cobra.Command{
		Use:     "project-end PROJECT YYYY-MM-DD",
		Short:   "Record when a project's work ends",
		Example: `  steward retention project-end outcomes 2026-12-31`,
		Args:    cobra.ExactArgs(2),
		RunE: withGovernance(&dsn, func(ctx context.Context, g *governance.Service, args []string, out io.Writer) error {
			t, err := time.Parse("2006-01-02", args[1])
			if err != nil {
				return fmt.Errorf("date %q: want YYYY-MM-DD", args[1])
			}
			return g.SetProjectEnd(ctx, cliPrincipal(), args[0], t)
		}),
	}
	cmd.AddCommand(rule, end)
	return cmd
}

func newGovernance() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "governance",
		Short: "Purposes of projects, individual access reports and corrections",
		Long: `Offline governance work on the application database (the same --db as 'steward serve').
Ethics applications, board decisions and consent are made on the server's pages or API.`,
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	purposes := &cobra.Command{
		Use:   "purposes PROJECT PURPOSE...",
		Short: "State a project's purposes (replacing what it stated)",
		Long: "Purposes: " + fmt.Sprint(governance.Purposes) + `. An ethics application must name one of
its project's research or evaluation purposes.`,
		Example: `  steward governance purposes outcomes program_evaluation best_practice_research`,
		Args:    cobra.MinimumNArgs(2),
		RunE: withGovernance(&dsn, func(ctx context.Context, g *governance.Service, args []string, out io.Writer) error {
			var ps []governance.Purpose
			for _, a := range args[1:] {
				ps = append(ps, governance.Purpose(a))
			}
			return g.SetPurposes(ctx, cliPrincipal(), args[0], ps)
		}),
	}
	var clients []string
	var user, outFile string
	report := &cobra.Command{
		Use:   "person-report --client AGENCY:ID... [--user NAME] --out FILE.html|FILE.json",
		Short: "Everything held about one person across agencies (Part A, 9)",
		Long: `Write, for one person, what Steward holds about them under each agency's client identifier
(and their Steward account, if any), and which approved analyses may use their records. The
file holds the person's identifiers: it is written owner-only, for the person and the
agencies to inform; the audit log records a digest.`,
		Example: `  steward governance person-report --client north:N-0042 --client river:R-7 --out person.html`,
		Args:    cobra.NoArgs,
		RunE: withGovernance(&dsn, func(ctx context.Context, g *governance.Service, _ []string, out io.Writer) error {
			who, err := parsePerson(clients, user)
			if err != nil {
				return err
			}
			r, err := g.PersonReport(ctx, cliPrincipal(), who)
			if err != nil {
				return err
			}
			f, err := os.OpenFile(outFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			format := "html"
			if strings.HasSuffix(outFile, ".json") {
				format = "json"
			}
			if err := r.Write(f, format); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s: %d records held, %d uses; inform %s\n", outFile, len(r.Held), len(r.Uses), strings.Join(r.Agencies, ", "))
			return nil
		}),
	}
	report.Flags().StringArrayVar(&clients, "client", nil, "agency:client identifier (repeat for each agency)")
	report.Flags().StringVar(&user, "user", "", "the person's Steward account, if they have one")
	report.Flags().StringVar(&outFile, "out", "person-report.html", "the report: .html or .json")
	var item, requested string
	correction := &cobra.Command{
		Use:     "correction --client AGENCY:ID --item WHAT --requested TEXT",
		Short:   "Record a correction the person asks for; the agency answers it",
		Example: `  steward governance correction --client north:N-0042 --item "date of birth" --requested "1981-04-02, not 1987-04-02"`,
		Args:    cobra.NoArgs,
		RunE: withGovernance(&dsn, func(ctx context.Context, g *governance.Service, _ []string, out io.Writer) error {
			who, err := parsePerson(clients, "")
			if err != nil {
				return err
			}
			if len(who.Clients) != 1 {
				return usageError(fmt.Errorf("--client: name exactly one agency:client"))
			}
			c, err := g.RequestCorrection(ctx, cliPrincipal(), governance.Correction{Agency: who.Clients[0].Agency, Client: who.Clients[0].Client, Item: item, Requested: requested})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "correction %s recorded; agency %s answers it\n", c.ID, c.Agency)
			return nil
		}),
	}
	correction.Flags().StringArrayVar(&clients, "client", nil, "agency:client identifier")
	correction.Flags().StringVar(&item, "item", "", "what is wrong")
	correction.Flags().StringVar(&requested, "requested", "", "what the person says it should be")
	cmd.AddCommand(purposes, report, correction)
	return cmd
}

// parsePerson reads agency:client pairs.
func parsePerson(clients []string, user string) (governance.Person, error) {
	who := governance.Person{User: user}
	for i, c := range clients {
		a, id, ok := strings.Cut(c, ":")
		if !ok || a == "" || id == "" {
			return who, usageError(fmt.Errorf("--client %d (%s…): want AGENCY:ID", i+1, firstRunes(c, 3)))
		}
		who.Clients = append(who.Clients, governance.ClientRef{Agency: a, Client: id})
	}
	return who, nil
}

// firstRunes is the start of s, to name a bad value without printing it whole.
func firstRunes(s string, n int) string {
	r := []rune(s)
	return string(r[:min(n, len(r))])
}
