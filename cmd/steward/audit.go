package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/audit"
)

func newAudit() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the tamper-evident audit log",
	}
	cmd.AddCommand(newAuditVerify())
	return cmd
}

func newAuditVerify() *cobra.Command {
	var log string
	cmd := &cobra.Command{
		Use:   "verify [--log FILE]",
		Short: "Check that no audit entry was edited, deleted or reordered",
		Long: `Walk the hash-chained audit log and name the first entry that was edited, or that
follows a deleted, moved or inserted one. Exit status 0 when the chain holds.

The command line's log is $STEWARD_HOME/audit.jsonl (default ~/.local/state/steward).`,
		Example: `  steward audit verify
  steward audit verify --log /srv/steward/audit.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, last, err := audit.Verify(cmd.Context(), audit.FileStore{Path: log})
			if err != nil {
				return err
			}
			if n == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: empty (no entries yet)\n", log)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d entries, chain intact; last entry %d at %s, hash %s\n",
				log, n, last.Seq, last.Time.Format("2006-01-02 15:04:05Z"), last.Hash[:16])
			return nil
		},
	}
	cmd.Flags().StringVar(&log, "log", auditLogPath(), "audit log file")
	return cmd
}
