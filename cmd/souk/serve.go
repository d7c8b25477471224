package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/server"
)

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stderr)
	srv, err := server.New(ctx, cfg, log, server.Options{Version: Version()})
	if err != nil {
		return err
	}
	defer srv.Close()
	if cfg.SeedDemoIfEmpty {
		seeded, err := demo.SeedIfEmpty(ctx, srv.DB, demo.Options{CredentialsFile: filepath.Join(cfg.DataDir, "demo-admin.txt"), Media: srv.Media})
		if err != nil {
			return fmt.Errorf("seed the demo: %w", err)
		}
		if seeded {
			log.Info("demo seeded")
		}
	}

	srv.RunJobs(ctx)
	if cfg.PprofAddr != "" {
		if err := servePprof(ctx, cfg.PprofAddr, log); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	printBanner(stdout, cfg.BaseURL, ln.Addr().String(), filepath.Join(cfg.DataDir, "demo-admin.txt"))
	log.Info("serving", "addr", ln.Addr().String(), "env", cfg.Env, "database", srv.DB.Dialect, "media", mediaKind(cfg.MinIO.Enabled()),
		"stripe", cfg.StripeEnabled(), "version", Version())
	return srv.Serve(ctx, ln)
}

func mediaKind(minio bool) string {
	if minio {
		return "minio"
	}
	return "local"
}

// printBanner tells a person where to go, and the demo administrator's
// credentials when the demo was seeded here.
func printBanner(w io.Writer, baseURL, addr, credsFile string) {
	url := baseURL
	if strings.HasPrefix(addr, "127.0.0.1:") || strings.HasPrefix(addr, "[::]:") {
		url = strings.TrimSuffix(baseURL, "/")
	}
	fmt.Fprintf(w, "\n  Souk is serving on %s  (listening on %s)\n", url, addr)
	if b, err := os.ReadFile(credsFile); err == nil {
		fmt.Fprintf(w, "  Demo administrator: %s\n", strings.TrimSpace(string(b)))
	}
	fmt.Fprintln(w)
}
