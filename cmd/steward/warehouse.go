package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

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
			return loadWarehouse(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), dsn, keyFile, agency, in)
		},
	}
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
			return loadWarehouse(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), dsn, keyFile, agency, in)
		},
	}
	demo.Flags().Int64Var(&patients, "patients", synthetic.DemoPatients, "patients to make (about 100 facts each)")
	demo.Flags().StringVar(&csvDir, "csv", "", "write CSV files to this folder instead of loading")
	cmd.AddCommand(loadCmd, demo)
	return cmd
}

// serveWarehouse is the server's warehouse: its key from $STEWARD_WAREHOUSE_KEY, the file
// $STEWARD_WAREHOUSE_KEY_FILE or the default beside a SQLite store; noise mode from
// $STEWARD_WAREHOUSE_NOISE (consistent, the default, or i2b2). Without a key the server runs
// without cohort queries and says so.
func serveWarehouse(s *access.Service, dsn string) *warehouse.Warehouse {
	keys, err := warehouseKeys(dsn, os.Getenv("STEWARD_WAREHOUSE_KEY_FILE"), false)
	if err != nil {
		slog.Warn("cohort queries are off: no warehouse key (load a warehouse first, or set STEWARD_WAREHOUSE_KEY_FILE)", "err", err)
		return nil
	}
	w := warehouse.New(s.DB, s, keys)
	if m := os.Getenv("STEWARD_WAREHOUSE_NOISE"); m != "" {
		mode, err := noise.ParseMode(m)
		if err != nil {
			slog.Warn("STEWARD_WAREHOUSE_NOISE ignored", "err", err)
		} else {
			w.Settings.Noise = mode
		}
	}
	return w
}

// warehouseKeys reads (or, with create, makes) the warehouse key for a store.
func warehouseKeys(dsn, keyFile string, create bool) (*seal.Keys, error) {
	if keyFile == "" {
		keyFile = seal.DefaultKeyFile(dsn)
	}
	return seal.LoadKeys(keyFile, create)
}

func loadWarehouse(ctx context.Context, out, errw io.Writer, dsn, keyFile, agency string, in []load.Input) error {
	keys, err := warehouseKeys(dsn, keyFile, true)
	if err != nil {
		return err
	}
	db, _, err := openStore(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	prog, wait := newProgress(errw)
	n, err := load.Run(ctx, db, keys, in, load.Options{Agency: agency, Progress: prog})
	wait()
	if err != nil {
		return fmt.Errorf("warehouse load (nothing kept): %w", err)
	}
	fmt.Fprintf(out, "loaded %d rows in %s\n", n, time.Since(start).Round(time.Millisecond))
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
