package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/transfer"
)

// grantStatus is one line of transfer status --json.
type grantStatus struct {
	transfer.Record
	Kind  string         `json:"kind"`
	State transfer.State `json:"state"`
	Where string         `json:"where"`
	Note  string         `json:"note,omitempty"`
}

func newTransferStatus() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List the grants made on this machine: live, revoked, expired, confirmed",
		Long: `List every grant recorded under $STEWARD_HOME/grants with its state:

  live       the token can be used (until its expiry)
  revoked    the token was killed at the service and an attempt to use it was refused
  expired    past its expiry; an Azure grant's stored access policy is still in the
             container, where the account key can extend it: revoke it to be sure
  confirmed  the upload matched the manifest, then the token was revoked and proven dead

A grant whose upload matched the manifest but whose token could not be revoked (an S3 server
without AbortMultipartUpload) stays live, marked "upload confirmed".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l := ledger()
			rs, err := l.Records()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			now := time.Now()
			if asJSON {
				list := []grantStatus{}
				for _, r := range rs {
					list = append(list, grantStatus{Record: r, Kind: r.KindOrDefault(), State: r.State(now), Where: where(l.Dir, r.ID), Note: grantNote(r, now)})
				}
				return printJSON(w, struct {
					Dir    string        `json:"dir"`
					Grants []grantStatus `json:"grants"`
				}{l.Dir, list})
			}
			if len(rs) == 0 {
				fmt.Fprintf(w, "no grants recorded in %s\n", l.Dir)
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "GRANT\tKIND\tSTATE\tWHERE\tCREATED\tEXPIRES\tNOTE")
			for _, r := range rs {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.KindOrDefault(), r.State(now), where(l.Dir, r.ID),
					r.Created.UTC().Format("2006-01-02 15:04"), r.Expiry.UTC().Format("2006-01-02 15:04"), grantNote(r, now))
			}
			return tw.Flush()
		},
	}
	addJSONFlag(cmd.Flags(), &asJSON)
	return cmd
}

// grantNote is what status adds about a grant: a confirmed upload whose token lives on, or why
// an expired token may not be dead.
func grantNote(r transfer.Record, now time.Time) string {
	if !r.Confirmed.IsZero() && r.Revoked.IsZero() {
		return "upload confirmed, token not revoked"
	} else if dead, why := r.Dead(now); !dead && r.State(now) == transfer.Expired {
		return why
	}
	return ""
}

// where names a grant's destination from its record.
func where(dir, id string) string {
	b, err := os.ReadFile(filepath.Join(dir, id+".json"))
	if err != nil {
		return "?"
	}
	var f struct{ Account, Container, Bucket, Prefix string }
	json.Unmarshal(b, &f)
	if f.Bucket != "" {
		return "s3://" + f.Bucket + "/" + f.Prefix
	}
	return "azure://" + f.Account + "/" + f.Container
}
