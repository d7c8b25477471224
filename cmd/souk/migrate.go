package main

import (
	"context"
	"fmt"
	"github.com/souk-tiznit/souk/internal/server"
	"io"
	"text/tabwriter"
)

func cmdMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub := "up"
	if len(args) > 0 {
		sub = args[0]
	}
	if sub != "up" && sub != "status" {
		return fmt.Errorf("migrate: unknown subcommand %q (want up or status)", sub)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	db, err := server.OpenDB(ctx, cfg, log, false)
	if err != nil {
		return err
	}
	defer db.Close()
	if sub == "up" {
		n, err := db.Migrate(ctx, log)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "applied %d migration(s) on %s\n", n, db.Dialect)
		return nil
	}
	ms, err := db.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tNAME\tAPPLIED")
	for _, m := range ms {
		applied := "pending"
		if m.AppliedAt != nil {
			applied = m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
		}
		fmt.Fprintf(tw, "%04d\t%s\t%s\n", m.Version, m.Name, applied)
	}
	return tw.Flush()
}
