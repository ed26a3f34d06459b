package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stewardhealth/steward/internal/database"
	"github.com/stewardhealth/steward/internal/deid"
	"github.com/stewardhealth/steward/internal/filemem"
	"github.com/stewardhealth/steward/internal/policy"
	"github.com/stewardhealth/steward/internal/transform"
)

func newDeid() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deid",
		Short: "De-identify a database copy by policy",
		Long: `De-identify a database by a policy file that gives every column a rule.

DSNs: sqlite:PATH, postgres://user:pass@host:port/db, mysql://user:pass@host:port/db.
The hashing key comes from --key-file or the STEWARD_KEY environment variable and is never
written anywhere.`,
	}
	cmd.AddCommand(newDeidScan(), newDeidRun(), newDeidCheck(), newDeidVerify(), newDeidScript())
	return cmd
}

type runFlags struct {
	policy, source, target, keyFile, report, workDir string
	inPlace, yes, unkeyed, asJSON                    bool
}

func newDeidRun() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run --policy policy.yaml --source DSN (--target DSN | --in-place)",
		Short: "Write a de-identified copy, or rewrite a standalone copy in place",
		Example: `  steward deid run --policy policy.yaml --source sqlite:hospital.db --target sqlite:hospital-deid.db --key-file steward.key
  STEWARD_KEY=$(cat steward.key) steward deid run --policy policy.yaml --source postgres://postgres@127.0.0.1:5432/xt_copy --in-place --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDeid(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.policy, "policy", "", "policy file (YAML)")
	fl.StringVar(&f.source, "source", "", "DSN of the database to read")
	fl.StringVar(&f.target, "target", "", "DSN of the copy to create (copy mode; the source is not changed)")
	fl.BoolVar(&f.inPlace, "in-place", false, "rewrite the source itself: only for a standalone copy")
	fl.BoolVar(&f.yes, "yes", false, "do not ask before rewriting in place")
	fl.StringVar(&f.keyFile, "key-file", "", "file holding the secret hashing key (else $STEWARD_KEY)")
	fl.BoolVar(&f.unkeyed, "unkeyed", false, "hash with plain SHA-256 and no key (weak: see the warning)")
	fl.StringVar(&f.report, "report", "", "write the run's report as JSON to this file")
	addJSONFlag(fl, &f.asJSON)
	addWorkDirFlag(fl, &f.workDir)
	cmd.MarkFlagRequired("policy")
	cmd.MarkFlagRequired("source")
	return cmd
}

func newDeidCheck() *cobra.Command {
	var pol, source string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check --policy policy.yaml --source DSN",
		Short: "Check a policy against a database's schema; change nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := policy.Load(pol)
			if err != nil {
				return usageError(err)
			}
			db, err := database.Open(cmd.Context(), source)
			if err != nil {
				return err
			}
			defer db.Close()
			s, err := deid.Check(cmd.Context(), p, db)
			if err != nil { // the policy does not fit the database (or its schema cannot be read)
				return usageError(err)
			}
			cols, changed := 0, 0
			for _, t := range s.Tables {
				for _, c := range t.Columns {
					cols++
					if r, _ := p.Rule(t.Name, c.Name); r.Transforms() {
						changed++
					}
				}
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), struct {
					Policy      string `json:"policy"`
					Source      string `json:"source"` // password hidden
					Fits        bool   `json:"fits"`
					Tables      int    `json:"tables"`
					Columns     int    `json:"columns"`
					Transformed int    `json:"transformed"`
				}{pol, database.Redact(source), true, len(s.Tables), cols, changed})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: policy fits %s: %d tables, %d columns, %d transformed\n", pol, database.Redact(source), len(s.Tables), cols, changed)
			return nil
		},
	}
	cmd.Flags().StringVar(&pol, "policy", "", "policy file (YAML)")
	cmd.Flags().StringVar(&source, "source", "", "DSN of the database")
	addJSONFlag(cmd.Flags(), &asJSON)
	cmd.MarkFlagRequired("policy")
	cmd.MarkFlagRequired("source")
	return cmd
}

const unkeyedWarning = `warning: --unkeyed hashes with plain SHA-256. Anyone can compute it, so an identifier
with few possible values — an SSN (under a billion), an MRN, a phone number, a birth date — is
recovered from its hash by hashing every candidate, in minutes on a laptop. Use a secret key
(--key-file) for anything that leaves your hands.`

// loadKey reads the key from --key-file or STEWARD_KEY.
func loadKey(file string, unkeyed bool, stderr io.Writer) (transform.Key, error) {
	var secret []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return transform.Key{}, fmt.Errorf("key file: %w", err)
		}
		secret = bytes.TrimRight(b, "\r\n")
	case os.Getenv("STEWARD_KEY") != "":
		secret = []byte(os.Getenv("STEWARD_KEY"))
	}
	if secret != nil {
		if unkeyed {
			return transform.Key{}, usageError(errors.New("give a key or --unkeyed, not both"))
		}
		return transform.NewKey(secret)
	}
	if !unkeyed {
		return transform.Key{}, usageError(errors.New("no hashing key: give --key-file FILE or set STEWARD_KEY (e.g. `openssl rand -hex 32 > steward.key`); --unkeyed runs without one, weakly"))
	}
	fmt.Fprintln(stderr, unkeyedWarning)
	return transform.Unkeyed(), nil
}

func runDeid(cmd *cobra.Command, f runFlags) error {
	ctx := cmd.Context()
	out, errw := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if f.inPlace == (f.target != "") {
		return usageError(errors.New("give --target DSN for a copy, or --in-place to rewrite the source"))
	}
	pol, err := policy.Load(f.policy)
	if err != nil {
		return usageError(err)
	}
	key, err := loadKey(f.keyFile, f.unkeyed, errw)
	if err != nil {
		return err
	}
	if f.inPlace {
		if err := confirmInPlace(cmd, pol, f); err != nil {
			return err
		}
	}
	work, err := workDir(f.workDir)
	if err != nil {
		return err
	}
	prog, wait := newProgress(errw)
	rep, err := deid.Run(ctx, deid.Options{Policy: pol, Key: key, Source: f.source, Target: f.target, InPlace: f.inPlace, Progress: prog, Work: work})
	wait()
	if rep != nil && (err == nil || len(rep.Tables) > 0) {
		if f.asJSON { // the same object as --report writes
			if werr := printJSON(out, rep); werr != nil && err == nil {
				err = werr
			}
		} else {
			printReport(out, rep)
		}
		if f.report != "" {
			if werr := writeJSON(f.report, rep); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil && f.inPlace && !errors.Is(err, deid.ErrOtherRun) {
		return fmt.Errorf("%w\nnothing half-done was kept: run the same command again to finish", err)
	}
	return err
}

// addWorkDirFlag adds --work-dir, where deid run and verify keep what grows with the rows.
func addWorkDirFlag(fl *pflag.FlagSet, p *string) {
	fl.StringVar(p, "work-dir", "", "directory for the temporary files that hold the lookups of large tables (digests, never values), removed as they are made (default: $TMPDIR, or /var/tmp where /tmp is in memory)")
}

// workDir opens the --work-dir directory; nil for the default.
func workDir(path string) (*filemem.Dir, error) {
	if path == "" {
		return nil, nil
	}
	return filemem.New(path, filemem.DefaultMinBytes)
}

// confirmInPlace says what will change and asks, unless --yes.
func confirmInPlace(cmd *cobra.Command, pol *policy.Policy, f runFlags) error {
	db, err := database.Open(cmd.Context(), f.source)
	if err != nil {
		return err
	}
	s, err := deid.Check(cmd.Context(), pol, db)
	db.Close()
	if err != nil {
		return err
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "This rewrites %s in place. It changes:\n", database.Redact(f.source))
	for _, t := range s.Tables {
		var cols []string
		for _, c := range t.Columns {
			if r, _ := pol.Rule(t.Name, c.Name); r.Transforms() {
				cols = append(cols, c.Name+" ("+r.String()+")")
			}
		}
		if len(cols) > 0 {
			fmt.Fprintf(w, "  %s: %s\n", t.Name, strings.Join(cols, ", "))
		}
	}
	if f.yes {
		return nil
	}
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !isatty.IsTerminal(in.Fd()) {
		return usageError(errors.New("not asking without a terminal: add --yes to rewrite in place"))
	}
	fmt.Fprint(w, "Rewrite these values for good? Type yes: ")
	line, _ := bufio.NewReader(in).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("nothing changed")
	}
	return nil
}

func printReport(w io.Writer, rep *deid.Report) {
	fmt.Fprintf(w, "\n%s run %s, key %s, rules %s, %s (steward %s)\n", rep.Mode, rep.Run, rep.KeyFingerprint, rep.PolicyDigest, rep.Elapsed.Round(time.Millisecond), rep.Steward)
	if rep.Dictionary > 0 {
		fmt.Fprintf(w, "free text scrubbed for %d transformed values and the identifier patterns\n", rep.Dictionary)
	}
	fmt.Fprintf(w, "%-24s %10s  %s\n", "table", "rows", "transformed columns")
	var total int64
	for _, t := range rep.Tables {
		total += t.Rows
		var parts []string
		rules := make([]string, 0, len(t.Rules))
		for r := range t.Rules {
			rules = append(rules, r)
		}
		sort.Strings(rules)
		for _, r := range rules {
			parts = append(parts, r+": "+strings.Join(t.Rules[r], ", "))
		}
		desc := strings.Join(parts, "; ")
		if desc == "" {
			desc = "(copied unchanged)"
		}
		if t.Skipped {
			desc = "already done by an earlier run"
		}
		fmt.Fprintf(w, "%-24s %10d  %s\n", t.Name, t.Rows, desc)
		cols := make([]string, 0, len(t.Collisions))
		for col := range t.Collisions {
			cols = append(cols, col)
		}
		sort.Strings(cols)
		for _, col := range cols {
			fmt.Fprintf(w, "%-24s %10s  note: %d distinct %s values share %s\n", "", "", t.Collisions[col], col, sharedOutput(t.Rules, col))
		}
	}
	fmt.Fprintf(w, "%-24s %10d rows, %.0f rows/s\n", "total", total, float64(total)/max(rep.Elapsed.Seconds(), 1e-9))
	if rep.Clearing > 0 {
		fmt.Fprintf(w, "what the rewrite left of the originals in the database's files cleared in %s (statistics, rebuilt tables)\n", rep.Clearing.Round(time.Millisecond))
	}
	for _, warning := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warning)
	}
}

// sharedOutput names what distinct values of a column can share, by its rule: a hash cut to
// the column's width, a placeholder or a pseudonym.
func sharedOutput(rules map[string][]string, col string) string {
	for rule, cols := range rules {
		if slices.Contains(cols, col) {
			switch rule {
			case "placeholder":
				return "a placeholder"
			case "pseudonym":
				return "a pseudonym"
			}
		}
	}
	return "a cut hash"
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
