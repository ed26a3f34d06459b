package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/load"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
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
		Long: `Load DIR/<table>.csv for every warehouse table that has a file: a header naming i2b2's
columns (any order; leave out the optional ones), then one row per line. Dates are
YYYY-MM-DD (a time after the date is dropped). patient_identity.csv has patient_num, name,
mrn, address. PostgreSQL loads by COPY, SQLite by batched INSERTs; a bad row stops the load
with its file, line and column, and nothing of the load is kept.`,
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
