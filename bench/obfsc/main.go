// Command obfsc runs the attack harness of the obfuscated counts (package
// internal/warehouse/attack) and prints, for each noise mode and attack, the fraction of
// target cohorts whose exact count the attacker's best estimate recovers and the estimate's
// spread.
//
//	go run ./bench/obfsc [-patients 3000] [-cohorts 25] [-max 80] [-modes budget,i2b2] [-db DSN]
//
// It loads the fixed synthetic warehouse (seed attack.Seed) into a fresh SQLite store in a
// temporary folder, or into the PostgreSQL database -db names (which must be empty), and
// attacks each target cohort with a fresh DATA_OBFSC user per attack, each asking as much
// as the warehouse answers (at most -max answers).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stewardhealth/steward/internal/store"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/warehouse/attack"
	"github.com/stewardhealth/steward/internal/warehouse/noise"
	"github.com/stewardhealth/steward/internal/warehouse/seal"
)

func main() {
	var o attack.Options
	flag.Int64Var(&o.Patients, "patients", 3000, "patients in the synthetic warehouse")
	flag.IntVar(&o.Cohorts, "cohorts", 25, "target cohorts")
	flag.IntVar(&o.MaxAnswers, "max", 80, "answers an attacker asks for at most per cohort")
	modes := flag.String("modes", "budget,i2b2", "noise modes to attack, comma-separated (each with its default settings)")
	dsn := flag.String("db", "", "store DSN (default: a fresh SQLite file in a temporary folder)")
	flag.Parse()
	if err := run(*dsn, *modes, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench/obfsc:", err)
		os.Exit(1)
	}
}

func run(dsn, modes string, o attack.Options) error {
	ctx := context.Background()
	if dsn == "" {
		dir, err := os.MkdirTemp("", "steward-bench-obfsc-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dsn = filepath.Join(dir, "steward.db")
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	keys, err := seal.NewKeys(bytes.Repeat([]byte{17}, 32))
	if err != nil {
		return err
	}
	start := time.Now()
	wd, err := attack.Setup(ctx, db, keys, o)
	if err != nil {
		return err
	}
	fmt.Printf("store %s; %d patients (seed %d), %d target cohorts, at most %d answers per attacker; set up in %s\n",
		db.Dialect, o.Patients, attack.Seed, o.Cohorts, o.MaxAnswers, time.Since(start).Round(time.Millisecond))
	for _, m := range strings.Split(modes, ",") {
		mode, err := noise.ParseMode(m)
		if err != nil {
			return err
		}
		wd.W.Settings = warehouse.DefaultSettings()
		if mode == noise.I2B2 {
			wd.W.Settings = warehouse.I2B2Settings()
		}
		if g := wd.W.Settings.Guarantee(); g != nil {
			fmt.Printf("%s: %s\n", mode, g.Text)
		}
		start := time.Now()
		figs, err := wd.Run(ctx, o)
		if err != nil {
			return err
		}
		for _, f := range figs {
			fmt.Println(f)
		}
		fmt.Printf("(%s in %s)\n", mode, time.Since(start).Round(time.Millisecond))
	}
	return nil
}
