package main

import (
	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/version"
)

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "steward",
		Short:         "De-identify copies of health databases and hand them over safely",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.String(),
	}
	root.SetVersionTemplate("steward {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.AddCommand(newDeid(), newDemo(), newAudit(), newServe(), newAdmin(), newTransfer(), newDisclosure(),
		newBackup(), newRetention(), newGovernance(), newWarehouse(), newExport(), newVersion(), newExitCodesTopic())
	refuseUnknownSubcommands(root)
	return root
}
