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

// auditLog is a log to verify: the store, its name, and for the server's the key and the
// checkpoints the server wrote beside it.
type auditLog struct {
	store       audit.Store
	name        string
	key         *audit.Key
	keyPath     string
	checkpoints []audit.Checkpoint
	cpPath      string
	done        func()
}

// openAuditLog opens the log named by --db (the server's) or --log (the command line's
// file). For the server's it reads the server key and the checkpoint file, when they exist.
func openAuditLog(ctx context.Context, dsn, log, keyPath, cpPath string) (*auditLog, error) {
	if dsn == "" {
		return &auditLog{store: audit.FileStore{Path: log}, name: log, done: func() {}}, nil
	}
	if keyPath == "" {
		keyPath = serverKeyPath(dsn)
	}
	if cpPath == "" {
		cpPath = checkpointPath(dsn)
	}
	l := &auditLog{keyPath: keyPath, cpPath: cpPath}
	if _, err := os.Stat(keyPath); err == nil {
		if l.key, err = audit.LoadKeyFile(keyPath, false); err != nil {
			return nil, err
		}
	}
	var err error
	if l.checkpoints, err = (audit.CheckpointFile{Path: cpPath}).Read(); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	db.AuditKey = l.key
	l.store, l.name, l.done = store.Audit{DB: db}, "application database ("+string(db.Dialect)+")", func() { db.Close() }
	return l, nil
}

// verify checks the chain (keyed entries with the server key) and every automatic checkpoint.
func (l *auditLog) verify(ctx context.Context) (audit.Report, error) {
	r, err := audit.Verifier{Key: l.key, Checkpoints: l.checkpoints}.Verify(ctx, l.store)
	if err != nil && l.key == nil && l.keyPath != "" && !errors.As(err, new(*audit.BrokenError)) {
		err = fmt.Errorf("%w (the server key is not at %s: give --server-key-file)", err, l.keyPath)
	}
	return r, err
}

func newAuditVerify() *cobra.Command {
	var log, dsn, cpFile, keyFile, serverKey, checkpoints string
	cmd := &cobra.Command{
		Use:   "verify [--log FILE | --db DSN] [--checkpoint FILE --key-file KEY]",
		Short: "Check that no audit entry was edited, deleted, reordered or cut off the end",
		Long: `Walk the hash-chained audit log and name the first entry that was edited, or that
follows a deleted, moved or inserted one. Exit status 0 when the chain holds.

The command line's log is $STEWARD_HOME/audit.jsonl (default ~/.local/state/steward); the
server's is in its application database (--db, as for 'steward serve'). The server's log is
keyed: each entry's hash is an HMAC under the server key (beside a SQLite store as
PATH.server-key, or $STEWARD_SERVER_KEY_FILE), which verify reads by itself, so an edit with
every following hash recomputed is found. The server also signs checkpoints by itself
(every minute while it runs, and when it stops) into PATH.audit-checkpoints
($STEWARD_AUDIT_CHECKPOINTS); verify checks every one, which shows whether entries were cut
off the end: only what was written after the last checkpoint could go unseen.

With --checkpoint, also check a checkpoint made by hand with 'steward audit checkpoint' and
an administrator's own Ed25519 key (--key-file, public or private, PEM).`,
		Example: `  steward audit verify
  steward audit verify --log /srv/steward/audit.jsonl
  steward audit verify --db ~/.local/state/steward/steward.db
  steward audit verify --db ~/.local/state/steward/steward.db --checkpoint cp.json --key-file audit-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			l, err := openAuditLog(ctx, dsn, log, serverKey, checkpoints)
			if err != nil {
				return err
			}
			defer l.done()
			r, err := l.verify(ctx)
			if err != nil {
				return err
			}
			if cpFile != "" {
				if err := checkCheckpoint(ctx, l, cpFile, keyFile); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if r.Entries == 0 {
				fmt.Fprintf(out, "%s: empty (no entries yet)\n", l.name)
				return nil
			}
			fmt.Fprintf(out, "%s: %d entries, chain intact; last entry %d at %s, hash %s\n",
				l.name, r.Entries, r.Last.Seq, r.Last.Time.Format("2006-01-02 15:04:05Z"), r.Last.Hash[:16])
			if l.key != nil {
				fmt.Fprintf(out, "keyed with the server key %s", l.key.ID)
				if r.Unkeyed > 0 {
					fmt.Fprintf(out, " (the first %d entries are from before the key, checked by SHA-256)", r.Unkeyed)
				}
				fmt.Fprintln(out)
			}
			switch {
			case r.Latest != nil:
				fmt.Fprintf(out, "%d automatic checkpoints hold; the latest, signed %s, vouches for entry %d (%d entries written since)\n",
					len(l.checkpoints), r.Latest.Time.Format("2006-01-02 15:04:05Z"), r.Latest.Seq, r.Last.Seq-r.Latest.Seq)
			case dsn != "":
				fmt.Fprintf(out, "no automatic checkpoint at %s yet: a truncated tail would not show\n", l.cpPath)
			}
			if cpFile != "" {
				fmt.Fprintf(out, "checkpoint %s holds\n", cpFile)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&log, "log", auditLogPath(), "audit log file")
	cmd.Flags().StringVar(&dsn, "db", "", "the server's application database instead of the file (SQLite path or postgres://…)")
	cmd.Flags().StringVar(&serverKey, "server-key-file", "", "the server key (default: beside the store, or $"+serverKeyEnv+")")
	cmd.Flags().StringVar(&checkpoints, "checkpoints", "", "the server's automatic checkpoints (default: beside the store, or $"+checkpointsEnv+")")
	cmd.Flags().StringVar(&cpFile, "checkpoint", "", "a checkpoint made by hand to check against the log")
	cmd.Flags().StringVar(&keyFile, "key-file", "", "Ed25519 key (PEM, public or private) the hand-made checkpoint was signed with")
	return cmd
}

func checkCheckpoint(ctx context.Context, l *auditLog, cpFile, keyFile string) error {
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
	return audit.CheckCheckpoint(ctx, l.store, cp, pub, l.key)
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
			l, err := openAuditLog(ctx, dsn, log, "", "")
			if err != nil {
				return err
			}
			defer l.done()
			r, err := l.verify(ctx)
			if err != nil {
				return err
			}
			last := r.Last
			if r.Entries == 0 {
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
		return nil, nil, usageError(errors.New("give --key-file"))
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
