package main

import "github.com/spf13/cobra"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "steward",
		Short:         "De-identify copies of health databases and hand them over safely",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newDeid(), newDemo(), newAudit(), newServe(), newAdmin(), newTransfer(), newDisclosure(),
		newBackup(), newRetention(), newGovernance(), newWarehouse(), newExport())
	return root
}
