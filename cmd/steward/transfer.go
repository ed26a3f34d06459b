package main

import "github.com/spf13/cobra"

func newTransfer() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Hand a de-identified copy over: bundle, grant a revocable upload token, push, confirm, revoke, clean up",
		Long: `The hand-over of a de-identified copy, in the order it happens:

  client (DBA)   transfer bundle    back the copy up with a manifest of sizes and SHA-256
  vendor         transfer grant     a container token: stored access policy, HTTPS, IP range, short expiry
  client         transfer push      upload the bundle with the token (resumes after an interruption)
  vendor         transfer confirm   check the upload against the manifest, then revoke the token
  client         transfer cleanup   list and remove what the hand-over left behind

transfer revoke kills a token at once; transfer status lists the grants (live, revoked, expired,
confirmed); push-local, s3-presign and push-s3 use other destinations; transfer script writes the
SQL Server backup-to-URL job.`,
	}
	cmd.AddCommand(newTransferGrant(), newTransferPush(), newTransferConfirm(), newTransferRevoke(), newTransferStatus(), newTransferDiagnose())
	cmd.AddCommand(transferBundleCommands()...)
	return cmd
}
