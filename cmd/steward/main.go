// Command steward de-identifies copies of health databases and hands them over safely.
// Run `steward --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/stewardhealth/steward/internal/database/mysql"
	_ "github.com/stewardhealth/steward/internal/database/postgres"
	_ "github.com/stewardhealth/steward/internal/database/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := execute(ctx, newRoot(), os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
