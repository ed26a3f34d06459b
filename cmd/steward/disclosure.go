package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/disclosure"
)

func newDisclosure() *cobra.Command {
	cmd := &cobra.Command{Use: "disclosure", Short: "Check an output table before asking for its export"}
	var metaPath, out string
	var asJSON bool
	check := &cobra.Command{
		Use:   "check FILE.csv --meta META.json [--out RELEASED.csv]",
		Short: "Run the export checks on a table: per cell, with reasons (no earlier releases are compared)",
		Long: `Check a CSV table as the export request would: a file that is not an aggregate is refused
outright; cells of 30 persons or fewer, of 3 projects or fewer, dominated by one or two
contributions, or zero/100 % in a sensitive dimension are hidden, and further cells are hidden
so that none can be recomputed from the margins. META.json is the file's metadata, with the
project's rules under "rules" when they differ from the defaults:

  {"persons": "patients", "contributor": "project", "dimensions": ["sector", "age_band"],
   "sensitive": [], "magnitudes": ["cost"], "total": "Total", "population": "dwh:diabetes-2025",
   "rules": {"min_persons": 30, "min_projects": 3}}

The exit status is 1 when the file is refused. --out writes the table as it would leave.`,
		Example: `  steward disclosure check by_age.csv --meta by_age.json --out by_age.released.csv`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var m struct {
				disclosure.Meta
				Rules disclosure.Rules `json:"rules"`
			}
			b, err := os.ReadFile(metaPath)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &m); err != nil {
				return fmt.Errorf("%s: %w", metaPath, err)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			t, head, err := disclosure.ReadCSV(args[0], f, m.Meta)
			if err != nil {
				return err
			}
			res := disclosure.Check(t, head, m.Rules, nil)
			w := cmd.OutOrStdout()
			if !asJSON {
				fmt.Fprintf(w, "%s: %s, %d of %d cells hidden\n", res.File, res.Verdict, len(res.Hidden), res.Cells)
				for _, r := range res.Reasons {
					fmt.Fprintf(w, "  refused: %s\n", r)
				}
				for _, e := range res.Hidden {
					for _, f := range e.Findings {
						fmt.Fprintf(w, "  %s: %s\n", e.Cell, f.Reason)
					}
				}
			}
			written := ""
			if res.Verdict != disclosure.Refused && out != "" {
				if err := writeReleased(out, res); err != nil {
					return err
				}
				written = out
			}
			if asJSON {
				if err := printJSON(w, struct {
					*disclosure.Result
					Released string `json:"released,omitempty"` // where --out wrote the table as it would leave
				}{res, written}); err != nil {
					return err
				}
			}
			if res.Verdict == disclosure.Refused {
				return errors.New("refused")
			}
			return nil
		},
	}
	check.Flags().StringVar(&metaPath, "meta", "", "the file's metadata (JSON)")
	check.Flags().StringVar(&out, "out", "", "write the table as it would leave here")
	addJSONFlag(check.Flags(), &asJSON)
	check.MarkFlagRequired("meta")
	cmd.AddCommand(check)
	return cmd
}

// writeReleased writes the table as it would leave to path.
func writeReleased(path string, res *disclosure.Result) error {
	o, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := res.WriteReleased(o); err != nil {
		o.Close()
		return err
	}
	return o.Close()
}
