package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/stewardhealth/steward/internal/access"
)

// appDBPath is the server's default application database.
func appDBPath() string { return filepath.Join(stateDir(), "steward.db") }

// openAccess opens the application database (migrating it, with the server key) and the
// access service over it.
func openAccess(ctx context.Context, dsn string, cfg access.Config, n access.Notifier) (*access.Service, func(), error) {
	db, _, err := openStore(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	return access.New(db, cfg, n), func() { db.Close() }, nil
}

// cliPrincipal is the administrator the offline commands act as, named after the OS user.
func cliPrincipal() access.Principal {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return access.CLI(name)
}

func newAdmin() *cobra.Command {
	var dsn string
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Manage the server's users, agencies, projects and roles offline",
		Long: `Work directly on the server's application database (the same --db as 'steward serve'):
create the first administrator, users, regions, agencies and projects; grant and revoke
roles; list and unlock locked accounts. Every change is written to the audit log as done
by cli:<your OS user name>. Passwords are read from --password-file or asked for on the
terminal, never taken from a flag's value.`,
	}
	cmd.PersistentFlags().StringVar(&dsn, "db", appDBPath(), "application database: a SQLite file path or postgres://…")
	with := func(fn func(ctx context.Context, s *access.Service, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
		return func(c *cobra.Command, args []string) error {
			s, done, err := openAccess(c.Context(), dsn, access.Config{}, nil)
			if err != nil {
				return err
			}
			defer done()
			return fn(c.Context(), s, args, c.OutOrStdout())
		}
	}
	var pwFile string
	var u access.User
	userFlags := func(c *cobra.Command, withRoles bool) {
		c.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file's first line (else asked on the terminal)")
		c.Flags().StringVar(&u.FullName, "full-name", "", "the person's full name")
		c.Flags().StringVar(&u.Email, "email", "", "email address (directors are told of lockouts here)")
		if withRoles {
			c.Flags().StringVar(&u.Agency, "agency", "", "agency code (none: the site's own staff)")
			c.Flags().BoolVar(&u.Admin, "admin", false, "steward administrator")
			c.Flags().BoolVar(&u.Director, "director", false, "director: told by email of every lockout and refused access; reinstates accounts")
			c.Flags().Var((*levelFlag)(&u.Level), "level", "CORI access level: evaluation_group (an agency's personnel; the default), district (a regional agency's personnel: the agencies of its region, aggregates only), database_administrator (CORI's own staff, no agency: the default)")
		}
	}

	// addUser runs bootstrap (the first administrator) or user-add.
	addUser := func(first bool, what string) func(*cobra.Command, []string) error {
		return with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			pw, err := readPassword(pwFile, "Password for "+args[0])
			if err != nil {
				return err
			}
			u.Name = args[0]
			create := s.CreateUser
			if first {
				create = s.Bootstrap
			}
			if err := create(ctx, cliPrincipal(), u, pw); err != nil {
				return err
			}
			fmt.Fprintf(out, "%s %s created\n", what, u.Name)
			return nil
		})
	}
	bootstrap := &cobra.Command{
		Use:   "bootstrap NAME",
		Short: "Create the first steward administrator (refused once one exists)",
		Example: `  steward admin bootstrap admin --email admin@example.org
  steward admin bootstrap admin --password-file admin.pw --db postgres://steward@127.0.0.1/steward`,
		Args: cobra.ExactArgs(1),
		RunE: addUser(true, "administrator"),
	}
	userFlags(bootstrap, false)

	userAdd := &cobra.Command{
		Use:     "user-add NAME",
		Short:   "Create a user",
		Example: `  steward admin user-add ann --agency north --email ann@example.org --password-file ann.pw`,
		Args:    cobra.ExactArgs(1),
		RunE:    addUser(false, "user"),
	}
	userFlags(userAdd, true)

	password := &cobra.Command{
		Use:     "password NAME",
		Short:   "Set a user's password",
		Example: `  steward admin password ann --password-file ann.pw`,
		Args:    cobra.ExactArgs(1),
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			pw, err := readPassword(pwFile, "New password for "+args[0])
			if err != nil {
				return err
			}
			return s.SetPassword(ctx, cliPrincipal(), args[0], pw)
		}),
	}
	password.Flags().StringVar(&pwFile, "password-file", "", "read the password from this file's first line (else asked on the terminal)")

	users := &cobra.Command{
		Use:   "users",
		Short: "List users",
		Args:  cobra.NoArgs,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			us, err := s.Users(ctx, cliPrincipal())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tAGENCY\tADMIN\tDIRECTOR\tEMAIL")
			for _, u := range us {
				fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\n", u.Name, u.Agency, u.Admin, u.Director, u.Email)
			}
			return tw.Flush()
		}),
	}

	region := &cobra.Command{
		Use: "region-add CODE NAME", Short: "Create a region", Args: cobra.ExactArgs(2),
		Example: `  steward admin region-add west "Western region"`,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			return s.CreateRegion(ctx, cliPrincipal(), access.Region{Code: args[0], Name: args[1]})
		}),
	}
	var regionCode, agencyCode string
	var regional bool
	agency := &cobra.Command{
		Use: "agency-add CODE NAME --region CODE [--regional]", Short: "Create an agency in a region", Args: cobra.ExactArgs(2),
		Example: `  steward admin agency-add north "North clinic" --region west
  steward admin agency-add westhealth "Western health region" --region west --regional`,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			return s.CreateAgency(ctx, cliPrincipal(), access.Agency{Code: args[0], Name: args[1], Region: regionCode, Regional: regional})
		}),
	}
	agency.Flags().StringVar(&regionCode, "region", "", "the agency's region (required)")
	agency.Flags().BoolVar(&regional, "regional", false, "an associate regional agency: its personnel may hold district level")
	agency.MarkFlagRequired("region")
	project := &cobra.Command{
		Use: "project-add CODE NAME [--agency CODE]", Short: "Create a project, of an agency or of the whole site", Args: cobra.ExactArgs(2),
		Example: `  steward admin project-add diabetes "Diabetes outcomes" --agency north`,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			return s.CreateProject(ctx, cliPrincipal(), access.Project{Code: args[0], Name: args[1], Agency: agencyCode})
		}),
	}
	project.Flags().StringVar(&agencyCode, "agency", "", "the agency the project belongs to (none: the whole site)")

	grant := &cobra.Command{
		Use: "grant USER PROJECT ROLE", Short: "Grant a role (a data role brings every lower one)", Args: cobra.ExactArgs(3),
		Long:    "Roles: " + roleList() + ".",
		Example: `  steward admin grant ann diabetes DATA_LDS`,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			return s.Grant(ctx, cliPrincipal(), args[0], args[1], access.Role(args[2]))
		}),
	}
	revoke := &cobra.Command{
		Use: "revoke USER PROJECT ROLE", Short: "Revoke a role (a data role takes every higher one)", Args: cobra.ExactArgs(3),
		Long:    "Roles: " + roleList() + ".",
		Example: `  steward admin revoke ann diabetes DATA_DEID`,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			return s.Revoke(ctx, cliPrincipal(), args[0], args[1], access.Role(args[2]))
		}),
	}

	locks := &cobra.Command{
		Use: "locks", Short: "List locked accounts and source addresses", Args: cobra.NoArgs,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			ls, err := s.Locks(ctx, cliPrincipal())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tACCOUNT OR ADDRESS\tFAILURES\tLOCKED AT (UTC)\tCAUSE\tFROM ADDRESS\tUNLOCK ASKED BY")
			for _, l := range ls {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", l.Kind, l.Key, l.Failures, l.LockedAt.Format("2006-01-02 15:04:05"), l.Cause, l.Address, l.RequestedBy)
			}
			return tw.Flush()
		}),
	}
	var account, address, reason string
	unlock := &cobra.Command{
		Use:   "unlock (--account NAME | --address ADDR) --reason TEXT",
		Short: "Reinstate a locked account or source address, giving the reason",
		Example: `  steward admin unlock --account ann --reason "called ann, she mistyped; ticket 4711"
  steward admin unlock --address 192.0.2.7 --reason "office NAT, checked with IT"`,
		Args: cobra.NoArgs,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			kind, key := access.LockAccount, account
			if (account == "") == (address == "") {
				return usageError(errors.New("give one of --account or --address"))
			}
			if address != "" {
				kind, key = access.LockAddress, address
			}
			res, err := s.Unlock(ctx, cliPrincipal(), kind, key, reason)
			if err != nil {
				return err
			}
			if res == access.AwaitingDirector {
				fmt.Fprintf(out, "%s %s is locked for refused access: only a director reinstates it; the directors were asked\n", kind, key)
				return nil
			}
			fmt.Fprintf(out, "%s %s unlocked\n", kind, key)
			return nil
		}),
	}
	unlock.Flags().StringVar(&account, "account", "", "the locked account name")
	unlock.Flags().StringVar(&address, "address", "", "the locked source address")
	unlock.Flags().StringVar(&reason, "reason", "", "why the access is reinstated (recorded in the audit log)")
	unlock.MarkFlagRequired("reason")

	var smtpAddr, smtpFrom string
	digest := &cobra.Command{
		Use:     "digest --smtp HOST:PORT",
		Short:   "Mail the directors the digest of unauthorized attempts since the last one (serve sends it every business day)",
		Example: `  steward admin digest --smtp mail.example.org:25 --smtp-from steward@example.org`,
		Args:    cobra.NoArgs,
		RunE: with(func(ctx context.Context, s *access.Service, args []string, out io.Writer) error {
			if smtpAddr == "" {
				return usageError(errors.New("give --smtp HOST:PORT: the digest is mailed to the directors"))
			}
			s.Notify = access.Mailer{Addr: smtpAddr, From: smtpFrom}
			d, err := s.SendDigest(ctx, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprint(out, d.Text())
			return nil
		}),
	}
	digest.Flags().StringVar(&smtpAddr, "smtp", "", "SMTP server host:port")
	digest.Flags().StringVar(&smtpFrom, "smtp-from", "steward@localhost", "sender address")

	cmd.AddCommand(bootstrap, userAdd, password, users, region, agency, project, grant, revoke, locks, unlock, digest)
	return cmd
}

func roleList() string {
	s := make([]string, len(access.Roles))
	for i, r := range access.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// readPassword reads the first line of file, or asks on the terminal without echo (twice).
func readPassword(file, prompt string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	return askPassword(os.Stdin, os.Stderr, prompt)
}

// askPassword asks on the terminal in without echo, twice (golang.org/x/term: Linux, macOS,
// Windows); anything but a terminal is refused, so that a password never comes from a pipe
// by accident.
func askPassword(in *os.File, out io.Writer, prompt string) (string, error) {
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return "", usageError(errors.New("no terminal to ask for the password on: give --password-file"))
	}
	var failed error
	ask := func(p string) string {
		fmt.Fprint(out, p+": ")
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(out)
		if err != nil && failed == nil {
			failed = fmt.Errorf("read the password: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n")
	}
	pw := ask(prompt)
	again := ask("Again")
	if failed != nil {
		return "", failed
	}
	if again != pw {
		return "", errors.New("the two passwords differ")
	}
	return pw, nil
}

// levelFlag is a --level flag, checked as it is read.
type levelFlag access.Level

func (l *levelFlag) String() string { return string(*l) }
func (l *levelFlag) Type() string   { return "level" }
func (l *levelFlag) Set(v string) error {
	lv, err := access.ParseLevel(v)
	*l = levelFlag(lv)
	return err
}
