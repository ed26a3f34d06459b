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
	cmd.AddCommand(settings, newExportTable())
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
