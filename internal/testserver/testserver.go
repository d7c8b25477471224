// Package testserver starts real Souk servers for tests: in-process on a
// free loopback port (the same wiring as `souk serve`, through
// internal/server), or as separate `souk serve` processes sharing one
// database, for proofs that must hold across instances.
package testserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/server"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// Options choose the parts of a test server.
type Options struct {
	// Dialect is sqlite (default) or mysql; ignored when DatabaseURL is set.
	Dialect string
	// DatabaseURL shares an existing database (e.g. between two servers).
	DatabaseURL string
	// MinIO puts media in the test MinIO server (a fresh bucket) instead of a folder.
	MinIO bool
	// Stripe turns card payments on against stripe-mock.
	Stripe bool
	// Configure may change the configuration last.
	Configure func(*config.Config)
	// Log receives the server's log (default: discarded; set SOUK_TEST_LOG=1 to see it).
	Log io.Writer
	// Routes may add test-only routes before the server starts serving
	// (Fiber's router must not change while it serves).
	Routes func(app *fiber.App)
}

// Server is a running test server.
type Server struct {
	URL string // http://127.0.0.1:port
	*server.Server
	cancel context.CancelFunc
	done   chan error
}

// Config builds the test configuration for opts: a fresh database, media
// and outbox folders in the test's temporary folder, a random secret.
func Config(tb testing.TB, opts Options) config.Config {
	tb.Helper()
	cfg := config.Default()
	cfg.Env = config.Test
	cfg.Addr = "127.0.0.1:0"
	dir := tb.TempDir()
	cfg.DataDir = dir
	cfg.MediaDir = filepath.Join(dir, "media")
	cfg.OutboxDir = filepath.Join(dir, "outbox")
	cfg.SecretKey = randomHex(32)
	cfg.MigrateOnStart = true
	// Tests change the catalog and look at once: counts are not cached
	// (storefront tests the cache on its own).
	cfg.CountCacheTTL = 0
	cfg.DatabaseURL = opts.DatabaseURL
	if cfg.DatabaseURL == "" {
		d := opts.Dialect
		if d == "" {
			d = "sqlite"
		}
		cfg.DatabaseURL = dbtest.URL(tb, d)
	}
	if opts.MinIO {
		p := testenv.MinIO(tb)
		cfg.MinIO = config.MinIO{Endpoint: p.Endpoint, AccessKey: p.AccessKey, SecretKey: p.SecretKey,
			Bucket: "souk-test-" + randomHex(6), Region: "us-east-1"}
	}
	if opts.Stripe {
		cfg.StripeAPIURL = testenv.StripeMockURL(tb)
		cfg.StripeSecretKey = "sk_test_123"
		cfg.StripeWebhookSecret = "whsec_test_" + randomHex(16)
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("test configuration: %v", err)
	}
	return cfg
}

// Start wires a server from opts and serves it on a free loopback port
// until the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	cfg := Config(tb, opts)
	return startConfig(tb, cfg, opts.Log, opts.Routes)
}

// StartConfig serves a server built from cfg until the test ends.
func StartConfig(tb testing.TB, cfg config.Config, logw io.Writer) *Server {
	tb.Helper()
	return startConfig(tb, cfg, logw, nil)
}

func startConfig(tb testing.TB, cfg config.Config, logw io.Writer, routes func(*fiber.App)) *Server {
	tb.Helper()
	if logw == nil {
		logw = io.Discard
		if os.Getenv("SOUK_TEST_LOG") != "" {
			logw = os.Stderr
		}
	}
	log := slog.New(slog.NewTextHandler(logw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, log, server.Options{Version: "test", PasswordParams: account.TestPasswordParams})
	if err != nil {
		cancel()
		tb.Fatalf("start test server: %v", err)
	}
	if routes != nil {
		routes(srv.API.App())
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), Server: srv, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		s.Stop()
		srv.Close()
	})
	return s
}

// Stop shuts the server down gracefully and waits for it.
func (s *Server) Stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	s.cancel = nil
	<-s.done
}

var build struct {
	sync.Once
	bin string
	err error
}

// Binary builds the souk command once per test binary (with the race
// detector when the tests run under it) and returns its path.
func Binary(tb testing.TB) string {
	tb.Helper()
	build.Do(func() {
		dir, err := os.MkdirTemp("", "souk-bin-")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "souk")
		args := []string{"build", "-o", build.bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		args = append(args, "github.com/souk-tiznit/souk/cmd/souk")
		cmd := exec.Command("go", args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			build.err = fmt.Errorf("go build souk: %v\n%s", err, out.String())
		}
	})
	if build.err != nil {
		tb.Fatal(build.err)
	}
	return build.bin
}

// Process is a `souk serve` running as its own process.
type Process struct {
	URL string
	cmd *exec.Cmd
}

// StartProcess runs `souk serve` with cfg's settings (as SOUK_* variables) on
// a free port, waits until /healthz answers, and stops it when the test ends.
func StartProcess(tb testing.TB, cfg config.Config) *Process {
	tb.Helper()
	return StartProcesses(tb, cfg)[0]
}

// StartProcesses runs one `souk serve` per configuration, all launched
// before any is waited for (so that they migrate at the same moment), and
// returns them once every /healthz answers; they stop when the test ends.
func StartProcesses(tb testing.TB, cfgs ...config.Config) []*Process {
	tb.Helper()
	bin := Binary(tb)
	type launched struct {
		p      *Process
		out    *syncBuffer
		exited chan struct{}
		addr   string
	}
	var all []launched
	for _, cfg := range cfgs {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		cmd := exec.Command(bin, "serve")
		cmd.Env = append(os.Environ(), Environ(cfg)...)
		cmd.Env = append(cmd.Env, "SOUK_ADDR="+addr, "SOUK_ENV_FILE=/nonexistent")
		out := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		l := launched{p: &Process{URL: "http://" + addr, cmd: cmd}, out: out, exited: make(chan struct{}), addr: addr}
		go func() { _ = cmd.Wait(); close(l.exited) }()
		tb.Cleanup(func() {
			_ = cmd.Process.Signal(os.Interrupt)
			select {
			case <-l.exited:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-l.exited
			}
			if tb.Failed() {
				tb.Logf("souk serve at %s said:\n%s", addr, out.String())
			}
		})
		all = append(all, l)
	}
	deadline := time.Now().Add(60 * time.Second)
	var procs []*Process
	for _, l := range all {
		for {
			resp, err := http.Get(l.p.URL + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					break
				}
			}
			select {
			case <-l.exited:
				tb.Fatalf("souk serve exited early:\n%s", l.out.String())
			default:
			}
			if time.Now().After(deadline) {
				tb.Fatalf("souk serve did not become healthy:\n%s", l.out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		procs = append(procs, l.p)
	}
	return procs
}

// Kill ends the process at once (SIGKILL), as a crash would.
func (p *Process) Kill() { _ = p.cmd.Process.Kill() }

// Environ renders the settings a test process needs as SOUK_* variables.
func Environ(cfg config.Config) []string {
	env := []string{
		"SOUK_ENV=" + cfg.Env,
		"SOUK_BASE_URL=" + cfg.BaseURL,
		"SOUK_COUNT_CACHE_TTL=" + cfg.CountCacheTTL.String(),
		"SOUK_DATABASE_URL=" + cfg.DatabaseURL,
		"SOUK_DATA_DIR=" + cfg.DataDir,
		"SOUK_MEDIA_DIR=" + cfg.MediaDir,
		"SOUK_OUTBOX_DIR=" + cfg.OutboxDir,
		"SOUK_SECRET_KEY=" + cfg.SecretKey,
		fmt.Sprintf("SOUK_MIGRATE_ON_START=%t", cfg.MigrateOnStart),
		"SOUK_LOG_LEVEL=" + cfg.LogLevel,
	}
	if cfg.MinIO.Enabled() {
		env = append(env, "SOUK_MINIO_ENDPOINT="+cfg.MinIO.Endpoint, "SOUK_MINIO_ACCESS_KEY="+cfg.MinIO.AccessKey,
			"SOUK_MINIO_SECRET_KEY="+cfg.MinIO.SecretKey, "SOUK_MINIO_BUCKET="+cfg.MinIO.Bucket)
	}
	if cfg.StripeSecretKey != "" {
		env = append(env, "SOUK_STRIPE_SECRET_KEY="+cfg.StripeSecretKey, "SOUK_STRIPE_WEBHOOK_SECRET="+cfg.StripeWebhookSecret,
			"SOUK_STRIPE_API_URL="+cfg.StripeAPIURL)
	}
	return env
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
