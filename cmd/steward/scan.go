package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/scan"
)

func newDeidScan() *cobra.Command {
	var source, out string
	var sample int
	cmd := &cobra.Command{
		Use:   "scan --source DSN [--sample N] [--out policy.yaml]",
		Short: "Propose a policy: a rule and the reason for every column, from the schema and a sample",
		Long: `Read the schema and the first N rows of every table and write a complete policy: every
column gets a rule and a comment saying why, with counts and percentages only (never a sampled
value). Lines marked REVIEW are undecided and hashed or emptied until a person decides; each
table's quasi_identifiers are what verify measures re-identification risk on.`,
		Example: `  steward deid scan --source sqlite:steward-demo/hospital.db --out policy.yaml
  steward deid scan --source postgres://postgres@127.0.0.1:5432/xt_copy --sample 5000 > policy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sample < 0 {
				return usageError(fmt.Errorf("--sample must be 0 or more rows, got %d", sample))
			}
			if sample == 0 {
				sample = -1 // names only
			}
			db, err := database.Open(cmd.Context(), source)
			if err != nil {
				return err
			}
			defer db.Close()
			res, err := scan.Scan(cmd.Context(), db, scan.Options{Sample: sample})
			if err != nil {
				return err
			}
			if out == "" {
				_, err = cmd.OutOrStdout().Write(res.Policy)
				return err
			}
			if err := os.WriteFile(out, res.Policy, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", out, scanSummary(res))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&source, "source", "", "DSN of the database to scan")
	fl.IntVar(&sample, "sample", scan.DefaultSample, "rows read per table (0: decide by the names alone)")
	fl.StringVar(&out, "out", "", "policy file to write (default: standard output)")
	cmd.MarkFlagRequired("source")
	return cmd
}

// scanSummary counts a scan's decisions.
func scanSummary(res *scan.Result) string {
	cols, changed, review, quasi := 0, 0, 0, 0
	for _, t := range res.Tables {
		for _, d := range t.Columns {
			cols++
			if d.Identifying() {
				changed++
			}
			if d.Review {
				review++
			}
			if d.Quasi {
				quasi++
			}
		}
	}
	return fmt.Sprintf("%d tables, %d columns: %d transformed (%d quasi-identifiers), %d to review", len(res.Tables), cols, changed, quasi, review)
}
