package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/transfer/s3"
)

func s3Detail(g s3.Grant) map[string]string {
	return map[string]string{"bucket": g.Bucket, "prefix": g.Prefix, "region": g.Region, "endpoint": g.Endpoint,
		"client_ip": g.ClientIP, "expiry": g.Expiry.Format(time.RFC3339), "uploads": strconv.Itoa(len(g.Uploads))}
}

func newTransferS3Presign() *cobra.Command {
	var (
		b                  s3.Bucket
		req                s3.GrantRequest
		out                string
		partMiB            int
		expires            time.Duration
		credentialsMissing error
	)
	cmd := &cobra.Command{
		Use:   "s3-presign DIR --bucket B --region R --prefix P --client-ip RANGE [--expires 2h] --out uploads.json",
		Short: "Grant an S3 upload of a bundle: multipart uploads with presigned part URLs, and the bucket policy that binds them (bucket owner)",
		Long: `For the owner of an S3 bucket (credentials from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
AWS_SESSION_TOKEN): start a multipart upload for every file of the bundle's manifest (DIR holds
at least manifest.json) and for the manifest itself, and presign one URL per part — each bound
to its object, upload, part number and exact length — and one to complete each upload. Files of
any size up to 5 TiB go in parts of --part-mib (default 16) or more (S3 takes at most 10,000
parts, 5 GiB each; a single PUT is refused over 5 GiB).

The URLs all expire after --expires (default 2h, at most 7 days: keep it to the upload's
duration plus a margin); the expiry is printed and written in the file. They go to --out,
readable by its owner only — they are bearer credentials, never printed. Send the file to the
client, who runs 'steward transfer push-s3'. The grant is recorded (upload ids, sizes and
digests, never a URL) in $STEWARD_HOME/grants and the audit log; 'transfer confirm --grant ID'
checks every object's SHA-256 against the manifest, and revocation aborts the uploads still
open, which kills their part URLs.

Presigned URLs carry no IP restriction. The command prints two bucket-policy statements to add
before sending the file: plain HTTP denied for the whole bucket (aws:SecureTransport), and
presigned writes under the prefix from outside --client-ip (aws:SourceIp; an address, a CIDR
block or a range a.b.c.d-e.f.g.h) denied; your own header-signed requests are not affected.`,
		Example: `  steward transfer s3-presign hospital-bundle --bucket hospital-handover --region eu-west-1 --prefix xt/2026-11 --client-ip 203.0.113.0-203.0.113.255 --expires 3h --out uploads.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cidrs, err := s3.CIDRs(req.ClientIP)
			if err != nil {
				return err
			}
			if b.Credentials, credentialsMissing = s3.EnvCredentials(); credentialsMissing != nil {
				return credentialsMissing
			}
			m, err := transfer.ReadManifest(args[0])
			if err != nil {
				return err
			}
			mf, err := transfer.HashFile(filepath.Join(args[0], transfer.ManifestName), transfer.ManifestName)
			if err != nil {
				return err
			}
			l := ledger()
			req.Taken, req.Expires, req.PartSize = l.Taken, expires, int64(partMiB)<<20
			g, plan, err := b.Grant(cmd.Context(), req, m, mf)
			if err != nil {
				return err
			}
			if err := l.Save(&g); err != nil {
				return fmt.Errorf("record grant %s (its uploads are open until %s): %w", g.ID, g.Expiry.Format(time.RFC3339), err)
			}
			pb, _ := json.MarshalIndent(plan, "", "  ")
			if err := writeSecret(out, string(pb)); err != nil { // chmods an existing file too
				return err
			}
			pol, err := s3.Policy(b.Name, req.Prefix, cidrs)
			if err != nil {
				return err
			}
			parts := 0
			for _, f := range plan.Files {
				parts += len(f.Parts)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "grant %s: %d files in %d parts to s3://%s/%s, URLs valid until %s (%s), written to %s (owner-only; send it to the client by a private channel)\n",
				g.ID, len(plan.Files), parts, b.Name, req.Prefix, g.Expiry.Format(time.RFC3339), expires, out)
			fmt.Fprintf(w, "after the upload: steward transfer confirm --grant %s\n\n", g.ID)
			fmt.Fprintf(w, "Add these statements to the Statement list of bucket %s's policy first:\n%s\n", b.Name, pol)
			return l.Audit(cmd.Context(), "transfer.s3-presign", "grant:"+g.ID, s3Detail(g))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&b.Name, "bucket", "", "S3 bucket")
	fl.StringVar(&b.Region, "region", os.Getenv("AWS_REGION"), "the bucket's region (default $AWS_REGION)")
	fl.StringVar(&req.Prefix, "prefix", "", "key prefix for this hand-over")
	fl.StringVar(&b.Endpoint, "endpoint", "", "an S3-compatible endpoint (https://HOST:PORT) instead of AWS")
	fl.DurationVar(&expires, "expires", s3.DefaultExpiry, "how long the URLs stay valid (at most 168h)")
	fl.IntVar(&partMiB, "part-mib", s3.DefaultPartSize>>20, "part size in MiB (at least 5; raised so a file fits 10,000 parts)")
	fl.StringVar(&req.ClientIP, "client-ip", "", "the client's public address, CIDR block or range a.b.c.d-e.f.g.h")
	fl.StringVar(&out, "out", "", "file to write the upload plan to (JSON, mode 0600)")
	for _, f := range []string{"bucket", "prefix", "client-ip", "out"} {
		cmd.MarkFlagRequired(f)
	}
	return cmd
}

func newTransferPushS3() *cobra.Command {
	var (
		uploads string
		o       s3.PushOptions
		asJSON  bool
	)
	cmd := &cobra.Command{
		Use:   "push-s3 DIR --uploads uploads.json",
		Short: "Upload a bundle to S3 with the presigned part URLs the bucket's owner sent, resuming where an interrupted upload stopped (client side)",
		Long: `Upload every file of the bundle in DIR part by part, several parts in flight, then complete
each upload, the manifest last. Each part's MD5 goes with it (S3 refuses bytes that differ) and
must come back as its ETag. Every finished part is written to a journal beside the uploads
file (uploads.json.journal): after an interruption, kill -9 included, run the same command again
and only the missing parts are sent. The URLs are never printed.`,
		Example: `  steward transfer push-s3 hospital-bundle --uploads uploads.json`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := s3.ReadPlan(uploads)
			if err != nil {
				return err
			}
			o.Journal = uploads + ".journal"
			prog, wait := newUploadProgress(cmd.ErrOrStderr())
			o.Progress = prog
			start := time.Now()
			rep, err := s3.Push(cmd.Context(), args[0], plan, o)
			wait()
			el := time.Since(start)
			detail := map[string]string{"destination": "s3", "bundle": args[0], "grant": plan.Grant, "files": strconv.Itoa(rep.Files),
				"parts_sent": strconv.Itoa(rep.PartsSent), "parts_skipped": strconv.Itoa(rep.PartsSkipped), "bytes_sent": strconv.FormatInt(rep.BytesSent, 10), "outcome": "done"}
			if err != nil {
				detail["outcome"] = "failed"
			}
			if aerr := ledger().Audit(cmd.Context(), "transfer.push", "s3://"+plan.Bucket+"/"+plan.Prefix, detail); err == nil {
				err = aerr
			}
			if err != nil {
				return fmt.Errorf("push %s: %w", args[0], err)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), pushResult{Destination: "s3://" + plan.Bucket + "/" + plan.Prefix, Files: rep.Files, FilesSkipped: rep.FilesSkipped,
					Sent: rep.PartsSent, Skipped: rep.PartsSkipped, BytesSent: rep.BytesSent, Seconds: el.Seconds(), CompletedBefore: rep.CompletedBefore})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pushed %d files to s3://%s/%s (%d already complete): %d parts sent, %d already uploaded, %.1f MiB in %s (%.1f MiB/s)\n",
				rep.Files, plan.Bucket, plan.Prefix, rep.FilesSkipped, rep.PartsSent, rep.PartsSkipped, float64(rep.BytesSent)/(1<<20),
				el.Round(time.Millisecond), float64(rep.BytesSent)/(1<<20)/max(el.Seconds(), 1e-9))
			if len(rep.CompletedBefore) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "note: %s had been completed by an earlier run; the owner's confirm checks them\n", strings.Join(rep.CompletedBefore, ", "))
			}
			fmt.Fprintln(cmd.OutOrStdout(), "tell the bucket's owner the upload is complete, so that they confirm it")
			return nil
		},
	}
	cmd.Flags().StringVar(&uploads, "uploads", "", "the upload plan from 'transfer s3-presign'")
	cmd.Flags().IntVar(&o.Concurrency, "concurrency", 4, "parts in flight")
	addJSONFlag(cmd.Flags(), &asJSON)
	cmd.MarkFlagRequired("uploads")
	return cmd
}

// loadS3Grant reads an S3 grant's record and the owner's credentials.
func loadS3Grant(id string) (s3.Grant, s3.Bucket, error) {
	var g s3.Grant
	if err := ledger().Load(id, &g); err != nil {
		return g, s3.Bucket{}, err
	}
	creds, err := s3.EnvCredentials()
	return g, s3.Bucket{Name: g.Bucket, Region: g.Region, Endpoint: g.Endpoint, Credentials: creds}, err
}

// revokeS3 aborts the grant's open uploads and proves every upload id dead.
func revokeS3(cmd *cobra.Command, id, action string, detail map[string]string, wait time.Duration) error {
	g, b, err := loadS3Grant(id)
	if err != nil {
		return err
	}
	for k, v := range s3Detail(g) {
		detail[k] = v
	}
	rev, err := ledger().Revoke(cmd.Context(), &g, b.Killer(g), action, detail, wait)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "the token is dead: %s\n", rev.Proof)
	return nil
}

// confirmS3 checks every object of an S3 grant against the manifest's digests, then revokes.
func confirmS3(cmd *cobra.Command, id string, anyway bool, wait time.Duration, out *confirmResult) error {
	g, b, err := loadS3Grant(id)
	if err != nil {
		return err
	}
	prog, done := newUploadProgress(cmd.ErrOrStderr())
	checks, err := b.Check(cmd.Context(), g, prog)
	done()
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	bad := 0
	out.Files = []fileCheck{}
	for _, f := range checks {
		out.Files = append(out.Files, fileCheck{f.Name, f.Size, f.SHA256, f.Problem})
		if f.Problem == "" {
			fmt.Fprintf(w, "ok    %-32s %14d bytes  sha256 %s…\n", f.Name, f.Size, f.SHA256[:16])
		} else {
			bad++
			fmt.Fprintf(w, "FAIL  %-32s %s\n", f.Name, f.Problem)
		}
	}
	detail := map[string]string{"files": strconv.Itoa(len(checks)), "failed": strconv.Itoa(bad)}
	if bad > 0 && !anyway {
		detail["outcome"] = "checks failed, not revoked"
		return errors.Join(fmt.Errorf("%d of %d files do not match the manifest: the URLs stay valid so that the client can push again (or use --revoke-anyway)", bad, len(checks)),
			ledger().Audit(cmd.Context(), "transfer.confirm", "grant:"+g.ID, detail))
	}
	if bad == 0 {
		g.Confirmed = time.Now().UTC()
		if err := ledger().Save(&g); err != nil {
			return err
		}
		fmt.Fprintf(w, "confirmed: the upload matches the manifest (%d file(s))\n", len(checks))
	}
	detail["outcome"] = "confirmed, revoked"
	if bad > 0 {
		detail["outcome"] = "checks failed, revoked anyway"
	}
	if err := revokeS3(cmd, id, "transfer.confirm", detail, wait); err != nil {
		return fmt.Errorf("not revoked: %w", err)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d files do not match the manifest (revoked anyway)", bad, len(checks))
	}
	return nil
}
