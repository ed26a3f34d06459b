package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/stewardhealth/steward/internal/audit"
	"github.com/stewardhealth/steward/internal/store"
)

func newAudit() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check the tamper-evident audit log",
	}
	cmd.AddCommand(newAuditVerify(), newAuditCheckpoint())
	return cmd
}

// auditStore opens the log named by --db (the server's) or --log (the command line's file).
func auditStore(ctx context.Context, dsn, log string) (audit.Store, string, func(), error) {
	if dsn == "" {
		return audit.FileStore{Path: log}, log, func() {}, nil
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, "", nil, err
	}
	return store.Audit{DB: db}, "application database (" + string(db.Dialect) + ")", func() { db.Close() }, nil
}

// verifiedStore opens the log and verifies its chain.
func verifiedStore(ctx context.Context, dsn, log string) (s audit.Store, name string, done func(), n int64, last audit.Entry, err error) {
	s, name, done, err = auditStore(ctx, dsn, log)
	if err != nil {
		return nil, "", nil, 0, last, err
	}
	if n, last, err = audit.Verify(ctx, s); err != nil {
		done()
		return nil, "", nil, 0, last, err
	}
	return s, name, done, n, last, nil
}

func newAuditVerify() *cobra.Command {
	var log, dsn, cpFile, keyFile string
	cmd := &cobra.Command{
		Use:   "verify [--log FILE | --db DSN] [--checkpoint FILE --key-file KEY]",
		Short: "Check that no audit entry was edited, deleted or reordered",
		Long: `Walk the hash-chained audit log and name the first entry that was edited, or that
follows a deleted, moved or inserted one. Exit status 0 when the chain holds.

The command line's log is $STEWARD_HOME/audit.jsonl (default ~/.local/state/steward); the
server's is in its application database (--db, as for 'steward serve'). With --checkpoint,
also check a signed checkpoint from 'steward audit checkpoint': its signature (--key-file, the
Ed25519 public or private key in PEM) and that the log still holds its entry unchanged, which
shows no entry was cut off the end since.`,
		Example: `  steward audit verify
  steward audit verify --log /srv/steward/audit.jsonl
  steward audit verify --db ~/.local/state/steward/steward.db
  steward audit verify --db ~/.local/state/steward/steward.db --checkpoint cp.json --key-file audit-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			s, name, done, n, last, err := verifiedStore(ctx, dsn, log)
			if err != nil {
				return err
			}
			defer done()
			if cpFile != "" {
				if err := checkCheckpoint(ctx, s, cpFile, keyFile); err != nil {
					return err
				}
			}
			if n == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: empty (no entries yet)\n", name)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %d entries, chain intact; last entry %d at %s, hash %s\n",
				name, n, last.Seq, last.Time.Format("2006-01-02 15:04:05Z"), last.Hash[:16])
			if cpFile != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "checkpoint %s holds\n", cpFile)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&log, "log", auditLogPath(), "audit log file")
	cmd.Flags().StringVar(&dsn, "db", "", "the server's application database instead of the file (SQLite path or postgres://…)")
	cmd.Flags().StringVar(&cpFile, "checkpoint", "", "a signed checkpoint to check against the log")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "Ed25519 key (PEM, public or private) the checkpoint was signed with")
	return cmd
}

func checkCheckpoint(ctx context.Context, s audit.Store, cpFile, keyFile string) error {
	b, err := os.ReadFile(cpFile)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	var cp audit.Checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return fmt.Errorf("checkpoint %s: %w", cpFile, err)
	}
	priv, pub, err := readEd25519(keyFile)
	if err != nil {
		return err
	}
	if priv != nil {
		pub = priv.Public().(ed25519.PublicKey)
	}
	return audit.CheckCheckpoint(ctx, s, cp, pub)
}

func newAuditCheckpoint() *cobra.Command {
	var log, dsn, keyFile, signer string
	cmd := &cobra.Command{
		Use:   "checkpoint (--db DSN | --log FILE) --key-file ED25519KEY",
		Short: "Verify the log and print a checkpoint of its last entry, signed with an administrator's key",
		Long: `Verify the whole log, then print (JSON) its last entry's sequence number and hash signed
with the Ed25519 private key in --key-file (PEM, PKCS #8, as 'openssl genpkey -algorithm
ed25519' writes). Keep checkpoints away from the server: later, 'steward audit verify
--checkpoint' shows whether entries were cut off the end since.`,
		Example: `  openssl genpkey -algorithm ed25519 -out audit-key.pem
  steward audit checkpoint --db ~/.local/state/steward/steward.db --key-file audit-key.pem > cp.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			priv, _, err := readEd25519(keyFile)
			if err != nil {
				return err
			}
			if priv == nil {
				return fmt.Errorf("key file %s: a checkpoint is signed with the private key", keyFile)
			}
			_, _, done, n, last, err := verifiedStore(ctx, dsn, log)
			if err != nil {
				return err
			}
			defer done()
			if n == 0 {
				return errors.New("the audit log is empty: nothing to checkpoint")
			}
			if signer == "" {
				signer = cliPrincipal().User
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(audit.Sign(last, signer, priv))
		},
	}
	cmd.Flags().StringVar(&log, "log", auditLogPath(), "audit log file")
	cmd.Flags().StringVar(&dsn, "db", "", "the server's application database instead of the file (SQLite path or postgres://…)")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "Ed25519 private key, PEM (required)")
	cmd.Flags().StringVar(&signer, "signer", "", "who signs (default cli:<your OS user name>)")
	cmd.MarkFlagRequired("key-file")
	return cmd
}

// readEd25519 reads a PEM Ed25519 key: PKCS #8 private or PKIX public.
func readEd25519(path string) (ed25519.PrivateKey, ed25519.PublicKey, error) {
	if path == "" {
		return nil, nil, errors.New("give --key-file")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("key file: %w", err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, nil, fmt.Errorf("key file %s: not PEM", path)
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		if priv, ok := k.(ed25519.PrivateKey); ok {
			return priv, nil, nil
		}
	}
	if k, err := x509.ParsePKIXPublicKey(blk.Bytes); err == nil {
		if pub, ok := k.(ed25519.PublicKey); ok {
			return nil, pub, nil
		}
	}
	return nil, nil, fmt.Errorf("key file %s: not an Ed25519 key (PKCS #8 private or PKIX public)", path)
}
