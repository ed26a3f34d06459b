// Package dbtest gives tests a fresh, empty database on the real servers Steward supports.
//
// The servers are named by environment variables holding a DSN of a database the tests may
// use to create others: STEWARD_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/postgres)
// and STEWARD_TEST_MYSQL (e.g. mysql://root@127.0.0.1:3306/test). When one is unset the test
// is skipped with a message, except under CI (CI=true), where a missing server fails the test.
// Every database a test gets is created for it alone and dropped when it ends.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Postgres returns the DSN of a new, empty PostgreSQL database.
func Postgres(t testing.TB) string {
	t.Helper()
	admin := server(t, "STEWARD_TEST_POSTGRES")
	name := "steward_test_" + suffix()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to STEWARD_TEST_POSTGRES: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() { DropPostgres(t, admin, name) })
	return withPath(t, admin, name)
}

// DropPostgres drops a PostgreSQL database that tests created beside admin's.
func DropPostgres(t testing.TB, admin, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Errorf("connect to drop %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		t.Errorf("drop database %s: %v", name, err)
	}
}

// PostgresName returns the DSN of a PostgreSQL database that does not exist yet, dropped at the
// end of the test if something created it.
func PostgresName(t testing.TB) string {
	t.Helper()
	admin := server(t, "STEWARD_TEST_POSTGRES")
	name := "steward_test_" + suffix()
	t.Cleanup(func() { DropPostgres(t, admin, name) })
	return withPath(t, admin, name)
}

// MySQL returns the DSN of a new, empty MySQL/MariaDB database.
func MySQL(t testing.TB) string {
	t.Helper()
	dsn := MySQLName(t)
	db := mysqlAdmin(t)
	defer db.Close()
	u, _ := url.Parse(dsn)
	if _, err := db.Exec("CREATE DATABASE " + strings.TrimPrefix(u.Path, "/")); err != nil {
		t.Fatalf("create database: %v", err)
	}
	return dsn
}

// MySQLName returns the DSN of a MySQL database that does not exist yet, dropped at the end
// of the test if something created it.
func MySQLName(t testing.TB) string {
	t.Helper()
	admin := server(t, "STEWARD_TEST_MYSQL")
	name := "steward_test_" + suffix()
	t.Cleanup(func() {
		db := mysqlAdmin(t)
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	return withPath(t, admin, name)
}

func mysqlAdmin(t testing.TB) *sql.DB {
	t.Helper()
	u, err := url.Parse(os.Getenv("STEWARD_TEST_MYSQL"))
	if err != nil {
		t.Fatalf("STEWARD_TEST_MYSQL: %v", err)
	}
	pass, _ := u.User.Password()
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/", u.User.Username(), pass, u.Host))
	if err != nil {
		t.Fatalf("open mysql: %v", err)
	}
	return db
}

func server(t testing.TB, env string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: CI must run this test against a real server (.ci/run sets it)", env)
		}
		t.Skipf("%s is not set: skipping a test that needs a real server (.ci/run starts one)", env)
	}
	return dsn
}

func withPath(t testing.TB, dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse test DSN: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func suffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SQL opens any Steward DSN (sqlite:, postgres://, mysql://) with database/sql, for a test's
// own checks; it is closed when the test ends.
func SQL(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	var db *sql.DB
	var err error
	u, perr := url.Parse(dsn)
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		db, err = sql.Open("sqlite", "file:"+strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite:"), "//"))
	case perr == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql"):
		db, err = sql.Open("pgx", dsn)
	case perr == nil && (u.Scheme == "mysql" || u.Scheme == "mariadb"):
		pass, _ := u.User.Password()
		db, err = sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)%s", u.User.Username(), pass, u.Host, u.Path))
	default:
		t.Fatalf("dbtest.SQL: unrecognised DSN")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
