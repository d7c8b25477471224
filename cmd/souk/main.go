// Command souk is the whole Souk platform in one binary:
//
//	souk serve                      serve the site and the API
//	souk migrate [up|status]        apply or list the database migrations
//	souk seed                       load the demo (places, cooperatives, products) into an empty database
//	souk admin create --email E --name N
//	                                create an administrator; the password is read from
//	                                SOUK_ADMIN_PASSWORD or the first line of standard input
//	souk version                    print the version
//
// Settings come from SOUK_* environment variables and an optional .env file
// (see the config package and README.md).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "souk:", err)
		os.Exit(1)
	}
}

const usage = `usage: souk <command>

commands:
  serve                     serve the site and the API on SOUK_ADDR (default :8080)
  migrate [up|status]       apply pending migrations (default) or list them
  seed                      load the demo into an empty database
  admin create --email E --name N
                            create an administrator (password from SOUK_ADMIN_PASSWORD or stdin)
  version                   print the version

settings: SOUK_* environment variables or a .env file; see README.md`

// run is the program: it parses args, reads settings through getenv and
// returns instead of exiting, so tests can start it.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return fmt.Errorf("no command given")
	}
	switch args[0] {
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "souk", Version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprintln(stdout, usage)
		return nil
	case "serve":
		return cmdServe(ctx, args[1:], getenv, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "seed":
		return cmdSeed(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return cmdAdmin(ctx, args[1:], getenv, stdin, stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
