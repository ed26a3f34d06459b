package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/stewardhealth/steward/internal/access"
	"github.com/stewardhealth/steward/internal/governance"
	"github.com/stewardhealth/steward/internal/transfer"
	"github.com/stewardhealth/steward/internal/version"
	"github.com/stewardhealth/steward/internal/warehouse"
	"github.com/stewardhealth/steward/internal/web"
)

func newServe() *cobra.Command {
	var dsn, addr, publicURL, smtp, from, cert, key string
	var cfg access.Config
	var checkpointEvery, exportRetention time.Duration
	var digestHour int
	var o web.Options
	var gcfg governance.Config
	var obfsc obfscFlags
	metricsOn := true
	var accessLog, configPath string
	cmd := &cobra.Command{
		Use:   "serve [--db DSN] [--addr 127.0.0.1:8080]",
		Short: "Run the web server: sign-in, projects and roles, administration, the audit log",
		Long: `Serve the pages and the JSON API (/api/v1/, described at /api/v1/openapi.json) over the
application database: an embedded SQLite file by default, or PostgreSQL with --db postgres://….
Migrations are applied at start. Create the first administrator with 'steward admin bootstrap'.

Without --tls-cert/--tls-key the server speaks plain HTTP: keep it on loopback or behind a
TLS-terminating proxy (the session cookie is marked Secure; browsers accept it on
http://localhost).

Every flag may also come from the environment (STEWARD_ and its name in capitals:
STEWARD_RATE_LIMIT=50) or from a YAML file (--config FILE or $STEWARD_CONFIG) mapping flag
names to values. A flag on the command line overrides the environment, which overrides the
file, which overrides the default.`,
		Example: `  steward serve
  steward serve --addr 127.0.0.1:8080 --smtp mail.example.org:25 --smtp-from steward@example.org
  steward serve --db postgres://steward@127.0.0.1:5432/steward
  STEWARD_SMTP=mail.example.org:25 steward serve --config /etc/steward/serve.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("config") {
				configPath = os.Getenv(envName("config"))
			}
			if err := applyConfig(cmd.Flags(), configPath, os.Getenv, "config"); err != nil {
				return usageError(err)
			}
			ctx := cmd.Context()
			var n access.Notifier
			if smtp != "" {
				n = access.Mailer{Addr: smtp, From: from}
			}
			s, done, err := openAccess(ctx, dsn, cfg, n)
			if err != nil {
				return err
			}
			defer done()
			// Which build served from when: the first entry of every run, vouched for by the
			// checkpoint made at start.
			if err := s.Record(ctx, access.Principal{User: "steward", Source: "steward"}, "server.start", "server",
				map[string]string{"version": version.String(), "addr": addr}); err != nil {
				return fmt.Errorf("audit the server's start: %w", err)
			}
			waitCheckpoints := startCheckpoints(ctx, s, s.DB.AuditKey, dsn, checkpointEvery)
			defer waitCheckpoints()
			o.NoMetrics = !metricsOn
			switch accessLog {
			case "":
			case "-":
				o.AccessLog = slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), nil))
			default:
				f, err := os.OpenFile(accessLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
				if err != nil {
					return usageError(fmt.Errorf("--access-log: %w", err))
				}
				defer f.Close()
				o.AccessLog = slog.New(slog.NewJSONHandler(f, nil))
			}
			o.Airlock = airlockService(s, dsn, n, addr, publicURL, cert != "")
			o.Warehouse = serveWarehouse(s, dsn)
			o.PublicURL = publicURL
			if err := obfsc.apply(ctx, cmd.Flags(), o.Warehouse, cliPrincipal()); err != nil {
				return err
			}
			o.Governance = warehouse.Governance(s.DB, gcfg, o.Warehouse)
			o.Airlock.Gate = o.Governance // one governance service gates exports and queries
			if o.Warehouse != nil {
				o.Warehouse.Gate = o.Governance
				o.Airlock.Tables = o.Warehouse // tables Steward computes over stored cohort queries
			}
			o.Grants = &transfer.Ledger{Dir: grantsDir()} // the hand-over page lists this machine's upload grants
			srv := &http.Server{Addr: addr, Handler: web.New(s, o).Handler(),
				ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute}
			go func() { // retroactive checks: each project's last ended period, sampled once (issue 16)
				for t := time.NewTicker(time.Hour); ; {
					runRetroSchedule(ctx, o.Airlock)
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
					}
				}
			}()
			go func() { // stale failure counts and expired sessions
				for t := time.NewTicker(10 * time.Minute); ; {
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
						if err := s.Sweep(ctx); err != nil {
							slog.Error("sweep", "err", err)
						}
						sweepExports(ctx, s, exportFiles(s, dsn), exportRetention)
					}
				}
			}()
			if n == nil {
				slog.Warn("no --smtp: the directors are not mailed of locks, refused access or the business-day digest (all are still audited)")
			}
			go func() { // the business day's digest of unauthorized attempts to the directors
				if n == nil {
					return
				}
				for t := time.NewTicker(5 * time.Minute); ; {
					if due, err := s.DigestDue(ctx, time.Now(), digestHour); err == nil && due {
						if _, err := s.SendDigest(ctx, time.Now()); err != nil {
							slog.Error("digest", "err", err)
						}
					}
					select {
					case <-ctx.Done():
						t.Stop()
						return
					case <-t.C:
					}
				}
			}()
			go func() {
				<-ctx.Done()
				shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				srv.Shutdown(shut)
			}()
			scheme, serve := "http", srv.ListenAndServe
			if cert != "" || key != "" {
				scheme, serve = "https", func() error { return srv.ListenAndServeTLS(cert, key) }
			}
			fmt.Fprintf(cmd.OutOrStdout(), "steward %s: serving on %s://%s (database: %s)\n", version.String(), scheme, addr, s.DB.Dialect)
			if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&publicURL, "public-url", "", "the address people reach the server at, for links in emails (e.g. https://steward.example.org; default: http(s)://ADDR)")
	f.StringVar(&o.I2B2Domain, "i2b2-domain", web.DefaultI2B2Domain, "the domain i2b2 clients sign in to (their hive configuration's domain)")
	f.StringVar(&cert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
	f.StringVar(&key, "tls-key", "", "the certificate's private key (PEM)")
	f.StringVar(&smtp, "smtp", "", "SMTP server host:port for lockout notices to directors (none: no email)")
	f.StringVar(&from, "smtp-from", "steward@localhost", "sender address of notices")
	f.IntVar(&cfg.AccountLockAfter, "lock-after", 5, "failed sign-ins on one account from one address within --lock-window that lock the account from that address")
	f.IntVar(&cfg.AddressLockAfter, "lock-address-after", 20, "failed sign-ins from one address (any accounts) within --lock-window that lock the address")
	f.IntVar(&cfg.AccountAlertAfter, "alert-account-after", 50, "failed sign-ins on one account from anywhere within --lock-window that alert the directors (never a lock)")
	f.DurationVar(&cfg.SignInDelay, "sign-in-delay", time.Second, "after 2 failures from one address on one account, the wait before the next attempt, doubling each time (negative: none)")
	f.Func("trusted-proxy", "a reverse proxy (address or CIDR, repeatable) whose X-Forwarded-For names the client; from other peers the header is ignored", func(v string) error {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return fmt.Errorf("not an address or CIDR: %q", v)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		o.TrustedProxies = append(o.TrustedProxies, p)
		return nil
	})
	f.DurationVar(&cfg.Window, "lock-window", 15*time.Minute, "how long a failed sign-in counts")
	f.DurationVar(&cfg.TokenTTL, "token-ttl", 12*time.Hour, "lifetime of the API token a sign-in returns")
	f.IntVar(&digestHour, "digest-hour", 7, "hour (local time) of each business day (Monday to Friday) at which the directors are mailed the digest of unauthorized attempts")
	f.DurationVar(&exportRetention, "export-retention", 30*24*time.Hour, "released export files, sealed beside the store, are removed this long after their release")
	f.DurationVar(&checkpointEvery, "audit-checkpoint-every", time.Minute, "sign a checkpoint of the audit log this often (and at shutdown), beside the store")
	f.IntVar(&cfg.RefusalLockAfter, "lock-refused-after", 10, "refused requests of one signed-in user within --lock-refused-window that lock the account")
	f.DurationVar(&cfg.RefusalWindow, "lock-refused-window", 10*time.Minute, "how long a refused request counts")
	f.Float64Var(&o.RateLimit, "rate-limit", 20, "requests per second per source address and per user, bursts of 4× (0: off)")
	f.DurationVar(&gcfg.AfterSubmission, "ethics-after-submission", 30*24*time.Hour, "the ethics board meets no sooner than this after an application is submitted")
	f.DurationVar(&gcfg.AfterCirculation, "ethics-after-circulation", 7*24*time.Hour, "… and no sooner than this after every member received it")
	obfsc.add(f)
	f.StringVar(&configPath, "config", "", "read settings from this YAML file: flag names to values (addr: 127.0.0.1:9090, a list for --trusted-proxy); the environment (STEWARD_ADDR, …) overrides it, flags override both (default $STEWARD_CONFIG)")
	f.StringVar(&accessLog, "access-log", "-", "write one JSON line per request (request id, route, status, duration, user; never a value from the path, query or body) to this file, - for stderr, empty for none")
	f.BoolVar(&metricsOn, "metrics", true, "serve GET /metrics in Prometheus' format, without sign-in: let only the monitoring reach it (--metrics=false: off)")
	f.BoolVar(&o.InsecureCookies, "insecure-cookies", false, "drop the Secure flag of the session cookie (plain HTTP on a host other than localhost; testing only)")
	return cmd
}
