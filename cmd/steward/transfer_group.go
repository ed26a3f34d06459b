package main

import "github.com/spf13/cobra"

// newTransfer is the transfer command group. (Stand-in until it is merged with the Azure
// commands' group in transfer.go.)
func newTransfer() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Hand a de-identified copy over: bundle, push, clean up",
	}
	cmd.AddCommand(transferBundleCommands()...)
	return cmd
}
