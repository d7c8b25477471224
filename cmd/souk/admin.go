package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/internal/server"
)

// cmdAdmin runs `souk admin create --email E --name N`. The password comes
// from SOUK_ADMIN_PASSWORD or the first line of standard input, never from a
// flag (flags end up in shell history and process listings).
func cmdAdmin(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("admin: usage: souk admin create --email E --name N (password from SOUK_ADMIN_PASSWORD or stdin)")
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the administrator's e-mail address")
	name := fs.String("name", "", "the administrator's name")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage
	}
	if *email == "" || *name == "" {
		return fmt.Errorf("admin create: --email and --name are required")
	}
	password := getenv("SOUK_ADMIN_PASSWORD")
	if password == "" {
		if stdin == nil {
			return fmt.Errorf("admin create: give the password in SOUK_ADMIN_PASSWORD or on standard input")
		}
		fmt.Fprintln(stderr, "password (one line on standard input):")
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("admin create: read the password from standard input: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := server.OpenDB(ctx, cfg, log, true)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := account.New(db, account.Options{Logger: log}).CreateAdmin(ctx, *email, *name, password)
	if err != nil {
		return fmt.Errorf("admin create: %w", err)
	}
	fmt.Fprintf(stdout, "administrator %s created (id %d)\n", u.Email, u.ID)
	return nil
}
