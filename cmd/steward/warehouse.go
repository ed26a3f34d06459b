package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/schema"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
	"github.com/stewardhealth/steward/internal/warehouse/synthetic"
)

func newWarehouse() *cobra.Command {
	var dsn, keyFile, agency string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "warehouse",
		Short: "Load the research warehouse (i2b2's star schema) that cohort queries run on",
		Long: `The research warehouse lives in the application database (SQLite file or PostgreSQL), in
i2b2's tables: observation_fact, patient_dimension, visit_dimension, concept_dimension,
provider_dimension, modifier_dimension, patient_mapping, encounter_mapping, and
patient_identity for names, record numbers and addresses.

Blob columns and identified data are sealed with AES-256-GCM under the warehouse key, which
is kept outside the database: --key-file (64 hex digits; made if missing), or
$STEWARD_WAREHOUSE_KEY. For a SQLite store the default key file is the database path plus
".warehouse-key". The server (steward serve) reads the same key.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	pf.StringVar(&keyFile, "key-file", "", "warehouse key file (default: beside a SQLite database)")
	pf.StringVar(&agency, "agency", "", "agency the loaded rows belong to (none: the whole site)")
	loadCmd := &cobra.Command{
		Use:   "load DIR",
		Short: "Load CSV files named after i2b2's tables (observation_fact.csv, …) in one transaction",
		Long: `Load DIR/<table>.csv for every warehouse table that has a file, as i2b2 exports them: a
header naming i2b2's columns (any order, any case; leave out the optional ones), then one
row per line. Every standard i2b2 column is accepted; the warehouse keeps those listed
first below and drops the load bookkeeping ones listed as ignored. Folder rows of the
dimensions may have no code. Start and end dates of facts and visits keep their time of
day (YYYY-MM-DD HH:MM:SS; T or a space, fractions and zones accepted, the zone dropped as
i2b2 does); birth and death dates are days. patient_identity.csv has patient_num, name,
mrn, address (sealed). The ontology (i2b2's metadata table: ontology.csv or i2b2.csv) says
how items find patients through patient_dimension or visit_dimension; the load adds
\i2b2\Demographics\ entries (Gender, Race, Vital Status, Language, Marital Status,
Religion, Age bands) for the patients it loads. PostgreSQL loads by COPY, SQLite by
batched INSERTs, with progress per table (bars on a terminal, lines otherwise); a bad row stops the load with its
file, line and column, and nothing of the load is kept.

` + columnHelp(),
		Example: `  steward warehouse demo --db steward.db --csv warehouse-csv
  steward warehouse load --db other.db --agency '' warehouse-csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			in, done, err := load.CSVInputs(args[0])
			if err != nil {
				return err
			}
			defer done()
			return loadWarehouse(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), dsn, keyFile, agency, in, asJSON)
		},
	}
	addJSONFlag(loadCmd.Flags(), &asJSON)
	var patients int64
	var csvDir string
	demo := &cobra.Command{
		Use:   "demo",
		Short: "Load a synthetic warehouse: 10,000 patients, about 1,000,000 facts (deterministic)",
		Long: `Load a synthetic warehouse made by Steward's own generator: patients with demographics,
visits, ICD-10-like diagnoses under \i2b2\Diagnoses\ICD10\, lab results with numeric values
under \i2b2\Labs\LOINC\, providers, mappings and made-up identities. The same size gives the
same rows. With --csv, write the CSV files instead of loading them.`,
		Example: `  steward warehouse demo --db steward.db
  steward warehouse demo --db steward.db --patients 100000`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			in := synthetic.Warehouse{Seed: synthetic.DemoSeed, Patients: patients, Ontology: true}.Inputs()
			if csvDir != "" {
				return load.WriteCSV(csvDir, in)
			}
			return loadWarehouse(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), dsn, keyFile, agency, in, asJSON)
		},
	}
	demo.Flags().Int64Var(&patients, "patients", synthetic.DemoPatients, "patients to make (about 100 facts each)")
	demo.Flags().StringVar(&csvDir, "csv", "", "write CSV files to this folder instead of loading")
	cmd.AddCommand(loadCmd, demo)
	cmd.AddCommand(batchCommands(&dsn)...)
	return cmd
}

// batchCommands are issue 16's data validator on the command line: whether loads wait for
// review (administrators: cli:<OS user>), and a validator's batches, acting --as a user of
// the store who holds DATA_VALIDATOR in the project (audited as that user, from "cli").
func batchCommands(dsn *string) []*cobra.Command {
	var as, reason string
	var sample int
	with := func(fn func(ctx context.Context, w *warehouse.Warehouse, p access.Principal, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			s, done, err := openAccess(ctx, *dsn, access.Config{}, nil)
			if err != nil {
				return err
			}
			defer done()
			p := cliPrincipal()
			if c.Flags().Lookup("as") != nil {
				if as == "" {
					return fmt.Errorf("--as names the data validator acting")
				}
				if p, err = s.Principal(ctx, as, "cli"); err != nil {
					return err
				}
			}
			return fn(ctx, warehouse.New(s.DB, s, nil), p, args, c.OutOrStdout())
		}
	}
	review := &cobra.Command{
		Use:   "review [on|off] --reason TEXT",
		Short: "Show whether loads wait for a data validator's review, or turn it on or off (audited)",
		Long: `With review on, 'steward warehouse load' lands its rows as a pending batch that no cohort
count, breakdown, totalnum, patient-level read or export sees until a user holding
DATA_VALIDATOR in a project of the rows' agency approves it (steward warehouse approve, or
POST /api/v1/projects/{id}/batches/{batch}/approve). Off (the default) loads go live at once.`,
		Example: `  steward warehouse review
  steward warehouse review on --reason "seed 003: validated loads only"`,
		Args: cobra.MaximumNArgs(1),
		RunE: with(func(ctx context.Context, w *warehouse.Warehouse, p access.Principal, args []string, out io.Writer) error {
			if len(args) == 1 {
				if args[0] != "on" && args[0] != "off" {
					return fmt.Errorf("review on or review off, not %q", args[0])
				}
				if err := w.SetReviewRequired(ctx, p, args[0] == "on", reason); err != nil {
					return err
				}
			}
			on, err := w.ReviewRequired(ctx)
			if err != nil {
				return err
			}
			return printJSON(out, map[string]bool{"required": on})
		}),
	}
	review.Flags().StringVar(&reason, "reason", "", "why the setting changes (audited)")
	var extremes bool
	settings := &cobra.Command{
		Use:   "settings [--table-extremes=true|false --reason TEXT]",
		Short: "Show the warehouse settings, or let computed tables give min and max (audited)",
		Long: `Without flags, print the warehouse settings in force (obfuscation, budget, lockout,
table_extremes) as JSON. --table-extremes=true lets computed tables give the minimum and
maximum of a value (each one person's value: refused by default, as ACRO does);
--table-extremes=false refuses them again. A change needs --reason and is written to the
audit log with the old and new value. The same change on the server: PUT
/api/v1/warehouse/settings {"table_extremes": true, "reason": …}, or the page
/admin/obfuscation. Obfuscation settings are changed there or by serve's --obfsc-* flags.`,
		Example: `  steward warehouse settings
  steward warehouse settings --table-extremes=true --reason "ACRO-style extremes for the audit study"`,
		Args: cobra.NoArgs,
	}
	settings.RunE = func(c *cobra.Command, args []string) error {
		return with(func(ctx context.Context, w *warehouse.Warehouse, p access.Principal, args []string, out io.Writer) error {
			if c.Flags().Changed("table-extremes") {
				s, err := w.CurrentSettings(ctx)
				if err != nil {
					return err
				}
				s.TableExtremes = extremes
				v, err := w.SaveSettings(ctx, p, s, reason)
				if err != nil {
					return err
				}
				return printJSON(out, v)
			}
			v, err := w.ShowSettings(ctx, p)
			if err != nil {
				return err
			}
			return printJSON(out, v)
		})(c, args)
	}
	settings.Flags().BoolVar(&extremes, "table-extremes", false, "let computed tables give min and max (true) or refuse them (false)")
	settings.Flags().StringVar(&reason, "reason", "", "why the setting changes (audited)")
	list := &cobra.Command{
		Use:   "batches PROJECT --as USER",
		Short: "List the loads a data validator of the project may review",
		Args:  cobra.ExactArgs(1),
		RunE: with(func(ctx context.Context, w *warehouse.Warehouse, p access.Principal, args []string, out io.Writer) error {
			bs, err := w.Batches(ctx, p, args[0])
			if err != nil {
				return err
			}
			return printJSON(out, bs)
		}),
	}
	batchArg := func(s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("a batch is a positive whole number")
		}
		return n, nil
	}
	show := &cobra.Command{
		Use:   "batch PROJECT BATCH --as USER [--sample N]",
		Short: "Review a batch: rows per table and agency, rejected rows, its first rows as a validator sees them (audited)",
		Args:  cobra.ExactArgs(2),
		RunE: with(func(ctx context.Context, w *warehouse.Warehouse, p access.Principal, args []string, out io.Writer) error {
			id, err := batchArg(args[1])
			if err != nil {
				return err
			}
			r, err := w.ReviewBatch(ctx, p, args[0], id, sample)
			if err != nil {
				return err
			}
			return printJSON(out, r)
		}),
	}
	show.Flags().IntVar(&sample, "sample", 5, "first rows of each table to show (0 to 50)")
	decide := func(use string, approve bool, short string) *cobra.Command {
		c := &cobra.Command{
			Use:   use + " PROJECT BATCH --as USER --reason TEXT",
			Short: short,
			Args:  cobra.ExactArgs(2),
			RunE: with(func(ctx context.Context, w *warehouse.Warehouse, p access.Principal, args []string, out io.Writer) error {
				id, err := batchArg(args[1])
				if err != nil {
					return err
				}
				b, err := w.DecideBatch(ctx, p, args[0], id, approve, reason)
				if err != nil {
					return err
				}
				return printJSON(out, b)
			}),
		}
		c.Flags().StringVar(&reason, "reason", "", "why (audited)")
		return c
	}
	cmds := []*cobra.Command{list, show, decide("approve", true, "Approve a pending batch: its rows enter the warehouse, seen by every query from now on"),
		decide("reject", false, "Reject a pending batch: its rows are deleted, never seen")}
	for _, c := range cmds {
		c.Flags().StringVar(&as, "as", "", "the data validator acting (a user of the store holding DATA_VALIDATOR in the project)")
	}
	return append(cmds, review, settings)
}

// serveWarehouse is the server's warehouse: its key from $STEWARD_WAREHOUSE_KEY, the file
// $STEWARD_WAREHOUSE_KEY_FILE or the default beside a SQLite store. Without a key the server
// runs without cohort queries and says so.
func serveWarehouse(s *access.Service, dsn string) *warehouse.Warehouse {
	keys, err := warehouseKeys(dsn, os.Getenv("STEWARD_WAREHOUSE_KEY_FILE"), false)
	if err != nil {
		slog.Warn("cohort queries are off: no warehouse key (load a warehouse first, or set STEWARD_WAREHOUSE_KEY_FILE)", "err", err)
		return nil
	}
	return warehouse.New(s.DB, s, keys)
}

// obfscFlags are serve's flags for the obfuscation, budget and lockout settings.
type obfscFlags struct {
	s    warehouse.Settings
	mode string
}

func (o *obfscFlags) add(f *pflag.FlagSet) {
	d := warehouse.DefaultSettings()
	f.StringVar(&o.mode, "obfsc-noise", string(d.Noise), "noise of DATA_OBFSC counts: budget (keyed Gaussian noise under a privacy budget) or i2b2 (i2b2's fresh noise, no budget: weaker); also $STEWARD_WAREHOUSE_NOISE")
	f.Float64Var(&o.s.Sigma, "obfsc-sigma", d.Sigma, "σ of a count's noise (i2b2: 1.323)")
	f.Float64Var(&o.s.BreakdownSigma, "obfsc-breakdown-sigma", d.BreakdownSigma, "σ of a breakdown cell's noise (i2b2: 1.6)")
	f.IntVar(&o.s.Minimum, "obfsc-minimum", d.Minimum, "totals of this many patients or fewer are never shown")
	f.IntVar(&o.s.Threshold, "obfsc-threshold", d.Threshold, "noisy counts under this are shown as \"< N\" (budget mode)")
	f.StringVar(&o.s.Breakdowns, "obfsc-breakdowns", d.Breakdowns, "breakdowns for DATA_OBFSC: noised (on request, under the budget) or withheld")
	f.Float64Var(&o.s.Budget, "obfsc-budget", d.Budget, "privacy budget ρ (zCDP) per user, project and period; a count costs 1/(2σ²)")
	f.IntVar(&o.s.PeriodDays, "obfsc-period-days", d.PeriodDays, "the budget's period in days")
	f.IntVar(&o.s.LockoutCount, "query-lockout-count", d.LockoutCount, "runs of the same query (i2b2 mode: results of the same real count) that lock a DATA_OBFSC user out of queries; 0: off")
	f.IntVar(&o.s.LockoutDays, "query-lockout-days", d.LockoutDays, "the query lockout's window in days")
}

// apply saves the flags given on the command line (and $STEWARD_WAREHOUSE_NOISE) over the
// stored settings, audited as a change by the operator who started the server; flags not
// given leave the stored settings as they are.
func (o *obfscFlags) apply(ctx context.Context, f *pflag.FlagSet, w *warehouse.Warehouse, by access.Principal) error {
	if env := os.Getenv("STEWARD_WAREHOUSE_NOISE"); env != "" && !f.Changed("obfsc-noise") {
		o.mode = env
		if err := f.Set("obfsc-noise", env); err != nil {
			return err
		}
	}
	var changed []string
	f.Visit(func(fl *pflag.Flag) {
		if strings.HasPrefix(fl.Name, "obfsc-") || strings.HasPrefix(fl.Name, "query-lockout-") {
			changed = append(changed, fl.Name)
		}
	})
	if len(changed) == 0 || w == nil {
		return nil
	}
	s, err := w.CurrentSettings(ctx)
	if err != nil {
		return err
	}
	for _, name := range changed {
		switch name {
		case "obfsc-noise":
			m, err := noise.ParseMode(o.mode)
			if err != nil {
				return usageError(fmt.Errorf("--obfsc-noise: %w", err))
			}
			if m != s.Noise {
				// A new mode starts from that mode's defaults; other flags given apply over them.
				base := warehouse.DefaultSettings()
				if m == noise.I2B2 {
					base = warehouse.I2B2Settings()
				}
				base.Epoch = s.Epoch
				s = base
			}
		case "obfsc-sigma":
			s.Sigma = o.s.Sigma
		case "obfsc-breakdown-sigma":
			s.BreakdownSigma = o.s.BreakdownSigma
		case "obfsc-minimum":
			s.Minimum = o.s.Minimum
		case "obfsc-threshold":
			s.Threshold = o.s.Threshold
		case "obfsc-breakdowns":
			s.Breakdowns = o.s.Breakdowns
		case "obfsc-budget":
			s.Budget = o.s.Budget
		case "obfsc-period-days":
			s.PeriodDays = o.s.PeriodDays
		case "query-lockout-count":
			s.LockoutCount = o.s.LockoutCount
		case "query-lockout-days":
			s.LockoutDays = o.s.LockoutDays
		}
	}
	if _, err := w.SaveSettings(ctx, by, s, "steward serve --"+strings.Join(changed, " --")); err != nil {
		return fmt.Errorf("obfuscation settings from serve's flags: %w", err)
	}
	return nil
}

// warehouseKeys reads (or, with create, makes) the warehouse key for a store.
func warehouseKeys(dsn, keyFile string, create bool) (*seal.Keys, error) {
	if keyFile == "" {
		keyFile = seal.DefaultKeyFile(dsn)
	}
	return seal.LoadKeys(keyFile, create)
}

func loadWarehouse(ctx context.Context, out, errw io.Writer, dsn, keyFile, agency string, in []load.Input, asJSON bool) error {
	keys, err := warehouseKeys(dsn, keyFile, true)
	if err != nil {
		return err
	}
	db, _, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	review, err := warehouse.ReviewRequiredIn(ctx, db)
	if err != nil {
		return err
	}
	start := time.Now()
	prog, wait := newProgress(errw)
	r, err := load.RunBatch(ctx, db, keys, in, load.Options{Agency: agency, Progress: prog, Review: review, By: cliPrincipal().User})
	wait()
	if err != nil {
		return fmt.Errorf("warehouse load (nothing kept): %w", err)
	}
	took := time.Since(start)
	if asJSON {
		return printJSON(out, struct {
			Rows    int64   `json:"rows"`
			Agency  string  `json:"agency"` // "": the whole site
			Seconds float64 `json:"seconds"`
			Rate    float64 `json:"rows_per_second"`
			Pending bool    `json:"pending"` // the batch waits for a data validator's review
			Batch   int64   `json:"batch,omitempty"`
		}{r.Rows, agency, took.Seconds(), float64(r.Rows) / took.Seconds(), r.Pending, r.Batch})
	}
	fmt.Fprintf(out, "loaded %d rows in %s\n", r.Rows, took.Round(time.Millisecond))
	if r.Pending {
		fmt.Fprintf(out, "batch %d waits for a data validator's review: no query sees it until it is approved (steward warehouse batch PROJECT %d --as USER)\n", r.Batch, r.Batch)
	}
	return nil
}

// columnHelp lists, per table, the columns the warehouse keeps and those it drops.
func columnHelp() string {
	var b strings.Builder
	for _, t := range schema.Tables {
		names := t.Files
		if len(names) == 0 {
			names = []string{t.Name}
		}
		var kept []string
		for _, c := range t.Cols {
			n := c.Name
			if c.Required {
				n += "*"
			}
			kept = append(kept, n)
		}
		fmt.Fprintf(&b, "%s.csv: %s", strings.Join(names, ".csv or "), strings.Join(kept, " "))
		if len(t.Ignored) > 0 {
			fmt.Fprintf(&b, "; ignored: %s", strings.Join(t.Ignored, " "))
		}
		b.WriteString("\n")
	}
	b.WriteString("(* required)")
	return b.String()
}
