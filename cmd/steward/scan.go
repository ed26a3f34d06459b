package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/scan"
)

func newDeidScan() *cobra.Command {
	var source, out string
	var sample int
	var asJSON bool
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
			if asJSON && out == "" {
				return usageError(errors.New("--json prints the scan's summary: give --out FILE for the policy"))
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
			if asJSON {
				return printJSON(cmd.OutOrStdout(), scanJSON(out, res))
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %s\n", out, scanSummary(res))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&source, "source", "", "DSN of the database to scan")
	fl.IntVar(&sample, "sample", scan.DefaultSample, "rows read per table (0: decide by the names alone)")
	fl.StringVar(&out, "out", "", "policy file to write (default: standard output)")
	addJSONFlag(fl, &asJSON)
	cmd.MarkFlagRequired("source")
	return cmd
}

// scanResult is deid scan --json: the counts of the summary line, and per table the columns
// the scan would transform, mark as quasi-identifiers or leave for review (names, rules and
// reasons: counts and percentages, never a sampled value).
type scanResult struct {
	Policy      string      `json:"policy"` // the file written
	Tables      []scanTable `json:"tables"`
	Columns     int         `json:"columns"`
	Transformed int         `json:"transformed"`
	Quasi       int         `json:"quasi_identifiers"`
	Review      int         `json:"review"`
}

type scanTable struct {
	Name    string       `json:"name"`
	Sampled int          `json:"sampled"`
	Columns []scanColumn `json:"columns"`
}

type scanColumn struct {
	Name   string `json:"name"`
	Rule   string `json:"rule"`
	Reason string `json:"reason"`
	Quasi  bool   `json:"quasi_identifier,omitempty"`
	Review bool   `json:"review,omitempty"`
}

func scanJSON(out string, res *scan.Result) scanResult {
	r := scanResult{Policy: out, Tables: []scanTable{}}
	for _, t := range res.Tables {
		st := scanTable{Name: t.Name, Sampled: t.Sampled, Columns: []scanColumn{}}
		for _, d := range t.Columns {
			r.Columns++
			if d.Identifying() {
				r.Transformed++
			}
			if d.Quasi {
				r.Quasi++
			}
			if d.Review {
				r.Review++
			}
			st.Columns = append(st.Columns, scanColumn{Name: d.Column, Rule: d.Rule.String(), Reason: d.Reason, Quasi: d.Quasi, Review: d.Review})
		}
		r.Tables = append(r.Tables, st)
	}
	return r
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
