package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/verify"
)

func newDeidVerify() *cobra.Command {
	var pol, source, target, report, workPath string
	var minK int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --policy policy.yaml --source ORIGINAL --target COPY [--report FILE]",
		Short: "Prove a de-identified copy keeps nothing identifying; write the sign-off report",
		Long: `Read the original and its de-identified copy side by side and run six checks: no original
identifier survives (whole or inside text); no recognisable identifier remains in kept or
scrubbed text; nothing lost (tables, columns, types, constraints, row counts); joins survive
(no orphaned foreign key, hashed keys unique and full width); every column classified by the
policy; and the k-anonymity of each table's quasi_identifiers, before and after.

The report (--report; .html, .json or .md by the file's extension) holds counts only, never a
value, and ends with a sign-off block for the solution engineer, the product owner and the DBA.

Exit status: 0 when every check passes, 1 when a check fails, 2 when the input is wrong (a
database cannot be read, the copy is not a copy of the original, the policy does not fit), 3
when a database server does not answer (steward help exit-codes).`,
		Example: `  steward deid verify --policy steward-demo/policy.yaml --source sqlite:steward-demo/hospital.db --target sqlite:steward-demo/hospital-deid.db --report steward-demo/report.html
  steward deid verify --policy policy.yaml --source postgres://postgres@127.0.0.1:5432/xt --target postgres://postgres@127.0.0.1:5432/xt_deid --report report.json --min-k 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if report != "" {
				if _, err := verify.FormatOf(report); err != nil {
					return &exitError{exitBadInput, err}
				}
			}
			p, err := policy.Load(pol)
			if err != nil {
				return &exitError{exitBadInput, err}
			}
			work, err := workDir(workPath)
			if err != nil {
				return &exitError{exitBadInput, err}
			}
			prog, wait := newProgress(cmd.ErrOrStderr())
			rep, err := verify.Run(cmd.Context(), verify.Options{Policy: p, Source: source, Target: target, MinK: minK, Work: work, Progress: prog})
			wait()
			if err != nil {
				return &exitError{exitBadInput, err}
			}
			if asJSON { // the report's JSON form, as --report FILE.json writes it
				if err := verify.Render(cmd.OutOrStdout(), "json", rep); err != nil {
					return err
				}
			} else {
				printVerify(cmd.OutOrStdout(), rep)
			}
			if report != "" {
				if err := verify.WriteFile(report, rep); err != nil {
					return &exitError{exitBadInput, fmt.Errorf("write the report: %w", err)}
				}
				if !asJSON {
					fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", report)
				}
			}
			if len(rep.Failed()) > 0 {
				return &exitError{exitChecksFailed, fmt.Errorf("verification failed: %d of %d checks found problems", len(rep.Failed()), len(rep.Summary))}
			}
			if !asJSON {
				fmt.Fprintln(cmd.OutOrStdout(), rep.Verdict)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&pol, "policy", "", "the policy the copy was made with (YAML)")
	fl.StringVar(&source, "source", "", "DSN of the original database")
	fl.StringVar(&target, "target", "", "DSN of the de-identified copy")
	fl.StringVar(&report, "report", "", "write the report to this file (.html, .json or .md)")
	addWorkDirFlag(fl, &workPath)
	addJSONFlag(fl, &asJSON)
	fl.IntVar(&minK, "min-k", 0, "fail when a table's quasi-identifiers leave a group smaller than this in the copy, or when the policy marks none (0: groups under 5 are marked for review, and exit 0)")
	for _, f := range []string{"policy", "source", "target"} {
		cmd.MarkFlagRequired(f)
	}
	return cmd
}

// printVerify prints the checks' outcome and every finding: counts only.
func printVerify(w io.Writer, r *verify.Report) {
	for i, c := range r.Summary {
		mark := map[verify.Status]string{verify.StatusPassed: "ok    ", verify.StatusFailed: "FAIL  ", verify.StatusReview: "REVIEW", verify.StatusNotMeasured: "N/A   "}[c.Status]
		fmt.Fprintf(w, "%s %d. %-36s %d finding(s)%s\n", mark, i+1, c.Title, c.Findings, map[bool]string{true: "", false: " — " + c.Status.Label()}[c.Passed])
	}
	for _, f := range r.Findings {
		where := f.Table
		if f.Column != "" {
			where += "." + f.Column
		}
		review := ""
		if f.Review {
			review = " (review)"
		}
		rows := ""
		if len(f.Keys) > 0 {
			rows = "; rows " + strings.Join(f.Keys, ", ")
			if int64(len(f.Keys)) < f.Count {
				rows += ", …"
			}
		}
		fmt.Fprintf(w, "  - %s%s: %s: %d %s%s\n", f.Check, review, where, f.Count, f.What, rows)
	}
	for _, t := range r.Tables {
		if k := t.Risk; k != nil {
			fmt.Fprintf(w, "risk %s (%v): k = %d in the original, %d in the copy; %d records in groups < 5 (was %d)\n",
				t.Name, k.QuasiIdentifiers, k.Original.K, k.Deidentified.K, k.Deidentified.Below5, k.Original.Below5)
		}
	}
}
