package main

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/spf13/pflag"
)

// envName is the environment variable that sets a flag of serve: STEWARD_ and the flag's
// name in capitals, hyphens as underscores (--rate-limit: STEWARD_RATE_LIMIT).
func envName(flag string) string {
	return "STEWARD_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyConfig sets the flags of fs not given on the command line, first from the
// environment (envName), then from the YAML file path (a map of flag names to values; a
// list for a repeatable flag) when path is not empty. So a flag overrides the environment,
// which overrides the file, which overrides the default. A key that names no flag, or a value
// a flag refuses, is an error naming the key.
func applyConfig(fs *pflag.FlagSet, path string, getenv func(string) string, skip ...string) error {
	given := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { given[f.Name] = true })
	for _, s := range skip {
		given[s] = true
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		v := getenv(envName(f.Name))
		if v == "" {
			return
		}
		vals := []string{v}
		if f.Value.Type() == "func" || strings.HasSuffix(f.Value.Type(), "Slice") { // repeatable: comma-separated
			vals = strings.Split(v, ",")
		}
		for _, x := range vals {
			if serr := fs.Set(f.Name, strings.TrimSpace(x)); serr != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), serr)
				return
			}
		}
		given[f.Name] = true
	})
	if err != nil || path == "" {
		return err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("configuration %s: not a YAML map of flag names to values: %w", path, err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := fs.Lookup(k)
		if f == nil || k == "config" || k == "help" {
			return fmt.Errorf("configuration %s: %q is not a setting of serve (see steward serve --help)", path, k)
		}
		if given[k] {
			continue
		}
		vals := []any{m[k]}
		if list, ok := m[k].([]any); ok {
			vals = list
		}
		for _, v := range vals {
			if err := fs.Set(k, fmt.Sprint(v)); err != nil {
				return fmt.Errorf("configuration %s: %s: %w", path, k, err)
			}
		}
	}
	return nil
}
