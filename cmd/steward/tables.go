package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/airlock"
)

// newExportTable asks a running server to compute a table and export it, as the analyst:
// the API token is read from the environment (never a flag, which other users may see).
func newExportTable() *cobra.Command {
	var server, purpose, dims, name, format, statistic, concept, structuralReason string
	var concepts, structural []string
	var quantile float64
	cmd := &cobra.Command{
		Use:   "table PROJECT QUERY --dims sex[,age] [--concepts CODE,…] [--statistic S --concept CODE] --purpose TEXT",
		Short: "Ask the server to compute a table over a stored cohort query of yours and export it",
		Long: `Steward computes the table itself from the warehouse — the count of persons of the stored
cohort query QUERY (qm-…, yours, in PROJECT); with --statistic events the count of events
(observations of --concept CODE or path and the concepts under it, or without --concept the
persons' visits); or with --statistic sum|mean|median|sd|quantile --concept CODE that statistic of
each person's latest exact value of CODE — by one or two dimensions: sex, age, race,
vital_status; concept (its levels the --concepts given, codes or paths, and "none of these");
visit_type or visit_location (a level per value of the visits of your data, and "no visit");
agency or region (refused at the evaluation-group access level). Concept and visit levels
overlap — a person is in every level they have, so totals are not sums — and the column says
so. Every combination of the levels is a cell (the levels are the warehouse's, not the
cohort's): a cell of no persons is suppressed like a small one, unless you declare it a
structural zero with --structural-zero VALUE[,VALUE] (its dimension values in --dims order;
the flag repeated for more cells) and --structural-reason TEXT — then it is shown as 0 and
the request always waits for a reviewer, who sees the reason. Steward computes it through the governance gate, checks its true counts, and checks its shown cells against the
persons of every cell released before (the ledger over people). An automatic exporter's
table is released at once; a validated exporter's, or one the ledger could not clear within
its limits, waits for review. With --format xlsx (or --name ending in .xlsx) the released file
is a workbook: the checked table in a sheet "table", the provenance in a sheet "provenance".
The answer is the export request as JSON.

The API token (with the export scope) is read from $STEWARD_TOKEN. The same request is
POST /api/v1/projects/{id}/exports/tables.`,
		Example: `  STEWARD_TOKEN=… steward export table north-diabetes qm-0123456789abcdef --dims sex,age --purpose "outcomes by sex and age"
  STEWARD_TOKEN=… steward export table north-diabetes qm-0123456789abcdef --dims concept,sex --concepts ICD10:E11,'\i2b2\Diagnoses\ICD10\I\' --purpose "comorbidities by sex"
  STEWARD_TOKEN=… steward export table north-diabetes qm-0123456789abcdef --dims visit_type --statistic events --purpose "visits by setting"`,
		Args: cobra.ExactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			token := os.Getenv("STEWARD_TOKEN")
			if token == "" {
				return fmt.Errorf("set STEWARD_TOKEN to an API token of yours with the export scope")
			}
			tr := airlock.TableRequest{Purpose: purpose, Query: args[1], Name: name, Format: format, Statistic: statistic, Concept: concept, Quantile: quantile, Concepts: concepts}
			tr.StructuralReason = structuralReason
			for _, z := range structural {
				tr.StructuralZeros = append(tr.StructuralZeros, strings.Split(z, ","))
			}
			for _, d := range strings.Split(dims, ",") {
				if d = strings.TrimSpace(d); d != "" {
					tr.Dimensions = append(tr.Dimensions, d)
				}
			}
			body, _ := json.Marshal(tr)
			u := strings.TrimRight(server, "/") + "/api/v1/projects/" + url.PathEscape(args[0]) + "/exports/tables"
			req, err := http.NewRequestWithContext(c.Context(), http.MethodPost, u, bytes.NewReader(body))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			out, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusCreated {
				return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(out)))
			}
			var r airlock.Request
			if err := json.Unmarshal(out, &r); err != nil {
				return fmt.Errorf("the server's answer: %w", err)
			}
			return printJSON(c.OutOrStdout(), r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "http://localhost:8080", "the Steward server")
	f.StringVar(&purpose, "purpose", "", "what the table is for (required)")
	f.StringVar(&dims, "dims", "", "one or two of sex, age, race, vital_status, concept, visit_type, visit_location, agency, region, comma-separated")
	f.StringSliceVar(&concepts, "concepts", nil, "the concept dimension's levels: concept codes or paths, comma-separated (or the flag repeated)")
	f.StringVar(&statistic, "statistic", "", "the statistic: count of persons (the default), events, or sum, mean, median, sd, quantile of --concept's value")
	f.StringVar(&concept, "concept", "", "the concept code of a numeric value (with --statistic), or the code or path whose observations events counts")
	f.Float64Var(&quantile, "quantile", 0, "p of a quantile, in (0, 1)")
	f.StringArrayVar(&structural, "structural-zero", nil, "a cell whose zero is structural (impossible by construction): its dimension values in --dims order, comma-separated; repeat the flag for more cells")
	f.StringVar(&structuralReason, "structural-reason", "", "why the --structural-zero cells cannot hold anyone (shown to the reviewer, audited)")
	f.StringVar(&name, "name", "", "the file's name, ending in .csv or .xlsx (default table.csv, or table.xlsx with --format xlsx)")
	f.StringVar(&format, "format", "", "csv (the default) or xlsx: the checked table in a sheet table, the provenance in a sheet provenance")
	return cmd
}
