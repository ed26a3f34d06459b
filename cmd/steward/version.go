package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/version"
)

func newVersion() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version [--json]",
		Short: "Print which build of steward this is (version, VCS revision and time)",
		Long: `Print the module version, the VCS commit and its time, whether the tree was modified, the
Go toolchain and the platform, from the build information the Go toolchain embeds. A build
made with -buildvcs=false records no revision: its version is "(devel)".`,
		Example: `  steward version
  steward version --json
  steward --version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			i := version.Get()
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(i)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "steward %s\n%s %s\n", i, i.GoVersion, i.Platform)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the build information as a JSON object")
	return cmd
}
