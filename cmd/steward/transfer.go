package main

import "github.com/spf13/cobra"

func newTransfer() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Hand a de-identified copy over: bundle, grant a revocable upload token, push, confirm, revoke",
	}
	cmd.AddCommand(newTransferGrant(), newTransferPush(), newTransferConfirm(), newTransferRevoke())
	return cmd
}
