package main

import (
	"context"
	"fmt"
	"github.com/souk-tiznit/souk/internal/server"
	"io"
	"path/filepath"

	"github.com/souk-tiznit/souk/demo"
)

func cmdSeed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
	empty, err := db.IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty {
		return fmt.Errorf("seed: the database already holds data; the demo is only loaded into an empty database")
	}
	secret, err := server.SecretKey(cfg)
	if err != nil {
		return err
	}
	store, err := server.OpenMedia(ctx, cfg, secret, log)
	if err != nil {
		return err
	}
	res, err := demo.Seed(ctx, db, demo.Options{CredentialsFile: filepath.Join(cfg.DataDir, "demo-admin.txt"), Media: store})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d venues with %d units, %d fairs, %d cooperatives with %d products\n",
		res.Venues, res.Units, res.Fairs, res.Cooperatives, res.Products)
	return nil
}
