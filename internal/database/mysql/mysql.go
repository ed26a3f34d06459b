// Package mysql is Steward's adapter for MySQL and MariaDB, over github.com/go-sql-driver/mysql.
//
// # Connections
//
// A DSN mysql://user:pass@host:port/db?params (or mariadb://…) becomes the driver's
// user:pass@tcp(host:port)/db form; ?socket=/path connects over a Unix socket instead, and other
// parameters go to the driver as they are. Every connection uses utf8mb4, leaves dates as text
// (parseTime=false), refuses multi-statements and sets its session to time_zone '+00:00' (so that
// TIMESTAMP values are read and written unchanged whatever the servers' zones) and to a fixed
// sql_mode: strict, so that a value that does not fit fails instead of being truncated; without
// NO_ZERO_DATE, so that zero dates the source holds can be written back; with
// NO_AUTO_VALUE_ON_ZERO, so that a 0 in an AUTO_INCREMENT column stays 0; and without
// NO_BACKSLASH_ESCAPES, which the literals this package writes rely on.
//
// # Reading
//
// Schema reads information_schema. Column.Native is COLUMN_TYPE, except that a MariaDB JSON
// column (a LONGTEXT with a json_valid check) is reported as "json", type Other. What the portable
// Schema has no field for — the table's collation, each column's character set and collation,
// ON UPDATE clauses, generated column expressions, CHECK constraints and the AUTO_INCREMENT
// counter — is kept beside the *database.Table values Schema returns, so that a MySQL copy target
// given those same tables recreates them; tables from elsewhere get utf8mb4 and no extras.
// Scan streams with the text protocol and hands every value over as the server printed it,
// except integers (int64), floating point (float64) and binary columns ([]byte).
//
// # Copy mode
//
// CreateTables creates bare InnoDB tables (columns, defaults, generated columns; no keys).
// Writer loads each table in one transaction on its own connection, with unique_checks and
// foreign_key_checks off, by LOAD DATA LOCAL INFILE streamed from memory when the server
// allows local_infile (any warning it raises fails the load, since LOCAL turns errors into
// warnings), and otherwise by multi-row INSERTs of at most 1,000 rows or 4 MiB. Generated
// columns are left to the server. Finish adds, per table in one ALTER TABLE, the primary
// key, the indexes, the AUTO_INCREMENT attribute and counter and the CHECK constraints, and
// then the foreign keys of every table, with foreign_key_checks off so that they are added in
// place and, like the source's, not re-validated.
//
// # In-place mode
//
// MySQL commits a transaction implicitly before most DDL, so Rewrite keeps DDL out of the
// transaction that changes the tables. On one dedicated connection, with foreign_key_checks
// off (so ON DELETE actions do not fire and the order of the tables does not matter):
//
//  0. It takes the database's rewrite lock (GET_LOCK, held by that session: a killed run's
//     session keeps it until the server has rolled its transaction back) and reads the
//     ledger again under it: a group already recorded is left alone.
//  1. For each table of the group it creates a session-private copy, CREATE TEMPORARY TABLE
//     steward_stage_N LIKE table, and fill writes the new rows into it (fill reads the
//     original rows through Scan on other pooled connections; nothing has touched them).
//  2. BEGIN; for each table DELETE FROM table and INSERT INTO table (columns) SELECT columns
//     FROM steward_stage_N; one row per table in the ledger steward_progress (run, table,
//     key fingerprint, normalised policy and its digest, when); COMMIT.
//
// Any error before COMMIT rolls back and drops the connection, with its temporary tables: the
// originals and the ledger are as they were. InnoDB makes step 2 atomic across a crash too.
// (MariaDB does not commit implicitly on CREATE TEMPORARY TABLE either — a test checks it —
// but creating the staging tables before BEGIN does not depend on that, and works under
// MySQL's enforce_gtid_consistency, which refuses temporary tables inside a transaction.)
//
// Rewrite refuses tables it cannot rewrite that way: engines other than InnoDB (the rollback
// would not undo them), system-versioned tables (their history would keep the original rows)
// and tables with triggers (they would fire on the DELETE and INSERT: an audit trigger would
// copy the original values elsewhere). The ledger table steward_progress is created on first
// use and never appears in Schema.
//
// DELETE leaves the original rows' bytes in the tables' pages, and ANALYZE TABLE …
// PERSISTENT their smallest and largest values in mysql.column_stats: ClearResidue rebuilds
// every rewritten table into a new file (ALTER TABLE … FORCE) and the statistics table. The
// redo log (ib_logfile*), the undo log (in ibdata1 unless undo tablespaces are configured)
// and the binary log, when on, are the server's and keep what was written until overwritten
// or purged, originals included; they never travel in a bundle (mariadb-dump).
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/stewardhealth/steward/internal/database"
)

func init() { database.Register(database.MySQL, open) }

// sessionSQLMode is the sql_mode of every connection; see the package comment.
const sessionSQLMode = "STRICT_TRANS_TABLES,STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"

// DB is an open MySQL or MariaDB database. It is a database.Target and a database.Rewriter.
type DB struct {
	db        *sql.DB
	name      string // database name
	host      string // host:port or socket, for messages
	mariaDB   bool
	maxPacket int  // the server's max_allowed_packet
	loadData  bool // LOAD DATA LOCAL INFILE is allowed
	method    loadMethod
}

type loadMethod int

const (
	methodAuto loadMethod = iota
	methodInsert
	methodLoadData
)

var (
	_ database.Target   = (*DB)(nil)
	_ database.Rewriter = (*DB)(nil)
)

// config turns a mysql:// or mariadb:// DSN into the driver's configuration.
func config(dsn database.DSN) (*mysql.Config, error) {
	u, err := url.Parse(dsn.Raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the DSN, password included
		}
		return nil, fmt.Errorf("invalid MySQL DSN %s: %v", dsn, err)
	}
	if u.Scheme != "mysql" && u.Scheme != "mariadb" {
		return nil, fmt.Errorf("invalid MySQL DSN %s: the scheme must be mysql:// or mariadb://", dsn)
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("invalid MySQL DSN %s: name one database, mysql://user:pass@host:port/db", dsn)
	}
	q := u.Query()
	network, addr := "tcp", u.Host
	if s := q.Get("socket"); s != "" {
		network, addr = "unix", s
	} else if addr == "" {
		addr = "127.0.0.1:3306"
	} else if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	q.Del("socket")
	q.Del("charset") // always utf8mb4
	if c := q.Get("collation"); c != "" && !strings.HasPrefix(c, "utf8mb4_") {
		return nil, fmt.Errorf("invalid MySQL DSN %s: collation %s is not a utf8mb4 collation, which Steward needs", dsn, c)
	}
	cfg, err := mysql.ParseDSN(network + "(" + addr + ")/?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("invalid MySQL DSN %s: %v", dsn, err)
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.DBName = name
	cfg.ParseTime = false
	cfg.MultiStatements = false
	cfg.InterpolateParams = true
	cfg.MaxAllowedPacket = 0 // ask the server
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["sql_mode"] = "'" + sessionSQLMode + "'"
	cfg.Params["time_zone"] = "'+00:00'"
	return cfg, nil
}

func open(ctx context.Context, dsn database.DSN, create bool) (database.DB, error) {
	cfg, err := config(dsn)
	if err != nil {
		return nil, err
	}
	d := &DB{name: cfg.DBName, host: cfg.Addr}
	if create {
		admin := cfg.Clone()
		admin.DBName = ""
		if err := d.createDatabase(ctx, admin); err != nil {
			return nil, err
		}
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, d.errorf("connect to", err)
	}
	d.db = sql.OpenDB(conn)
	d.db.SetMaxIdleConns(8)
	if err := d.init(ctx); err != nil {
		d.db.Close()
		return nil, d.errorf("connect to", err)
	}
	return d, nil
}

func (d *DB) errorf(what string, err error) error {
	return fmt.Errorf("%s MySQL database %s on %s: %w", what, d.name, d.host, err)
}

func (d *DB) createDatabase(ctx context.Context, admin *mysql.Config) error {
	conn, err := mysql.NewConnector(admin)
	if err != nil {
		return d.errorf("create", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(d.name)+" CHARACTER SET utf8mb4"); err != nil {
		return d.errorf("create", err)
	}
	return nil
}

func (d *DB) init(ctx context.Context) error {
	var version string
	var packet int64
	var local sql.NullString
	err := d.db.QueryRowContext(ctx, "SELECT VERSION(), @@max_allowed_packet, @@local_infile").Scan(&version, &packet, &local)
	if err != nil {
		return err
	}
	d.mariaDB = strings.Contains(strings.ToLower(version), "mariadb")
	d.maxPacket = int(packet)
	d.loadData = local.String == "1" || strings.EqualFold(local.String, "ON")
	return nil
}

// Kind is database.MySQL.
func (d *DB) Kind() database.Kind { return database.MySQL }

// Close closes the connection pool.
func (d *DB) Close() error { return d.db.Close() }

// quoteIdent quotes a table, column, index or constraint name with backticks.
func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

func quoteIdents(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}

// quoteString is a string literal, escaped for a session without NO_BACKSLASH_ESCAPES.
func quoteString(s string) string { return string(appendEscaped(nil, s)) }

// appendEscaped appends s as a quoted literal, escaping as MySQL's own client library does.
func appendEscaped[T string | []byte](buf []byte, s T) []byte {
	buf = append(buf, '\'')
	start := 0
	for i := 0; i < len(s); i++ {
		var esc byte
		switch s[i] {
		case 0:
			esc = '0'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\\':
			esc = '\\'
		case '\'':
			esc = '\''
		case '"':
			esc = '"'
		case 0x1a:
			esc = 'Z'
		default:
			continue
		}
		buf = append(buf, s[start:i]...)
		buf = append(buf, '\\', esc)
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '\'')
}

// discard returns a pooled connection to the driver as broken, so that it is closed with
// whatever session state (temporary tables, variables, an open statement) it has.
func discard(c *sql.Conn) {
	c.Raw(func(any) error { return driver.ErrBadConn })
	c.Close()
}

func itoa(n int) string { return strconv.Itoa(n) }
