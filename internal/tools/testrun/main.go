// Command testrun runs a test command (by default `go test -race ./...`)
// against real peers: it builds stripe-mock and the MinIO server at pinned
// versions with `go install` into a cache outside the repository (reused
// when present), starts them on free loopback ports, finds MySQL/MariaDB,
// passes their addresses to the tests in SOUK_TEST_* variables, prints which
// peers were used, and stops the peers afterwards. The browser tests'
// Chromium is Debian's chromium package, installed with apt-get when it is
// missing and the runner is root.
//
// Under CI=true a peer that cannot be built, started or reached fails the
// run before any test starts.
//
//	go run ./internal/tools/testrun [-- command args…]
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Pinned peers. stripe-mock v0.183.0's spec matches stripe-go v76's API
// version 2023-10-16 (newer ones reject v76 under strict version checks).
// MinIO's community server is pinned by module version: right for tests;
// production uses any S3-compatible store (see README).
var peers = []peerSpec{
	{Name: "stripe-mock", Module: "github.com/stripe/stripe-mock", Version: "v0.183.0", Binary: "stripe-mock"},
	{Name: "minio", Module: "github.com/minio/minio", Version: "v0.0.0-20260212201848-7aac2a2c5b7c", Binary: "minio"},
}

type peerSpec struct{ Name, Module, Version, Binary string }

func main() {
	os.Exit(run())
}

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		args = []string{"go", "test", "-race", "-count=1", "./..."}
	}
	ci := isCI()
	env := os.Environ()
	var used, missing []string
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	cache := peerCache()
	// Build what is missing first (both builds are slow only the first time).
	bins := map[string]string{}
	for _, p := range peers {
		bin, err := ensurePeer(ctx, cache, p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testrun: build %s %s: %v\n", p.Name, p.Version, err)
			missing = append(missing, p.Name)
			continue
		}
		bins[p.Name] = bin
	}

	if bin, ok := bins["stripe-mock"]; ok {
		url, stop, err := startStripeMock(ctx, bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testrun: start stripe-mock: %v\n", err)
			missing = append(missing, "stripe-mock")
		} else {
			cleanups = append(cleanups, stop)
			env = append(env, "SOUK_TEST_STRIPE_URL="+url)
			used = append(used, "stripe-mock "+peers[0].Version+" at "+url)
		}
	}
	if bin, ok := bins["minio"]; ok {
		endpoint, user, pass, stop, err := startMinIO(ctx, bin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "testrun: start minio: %v\n", err)
			missing = append(missing, "minio")
		} else {
			cleanups = append(cleanups, stop)
			env = append(env, "SOUK_TEST_MINIO_ENDPOINT="+endpoint, "SOUK_TEST_MINIO_ACCESS_KEY="+user, "SOUK_TEST_MINIO_SECRET_KEY="+pass)
			used = append(used, "minio at "+endpoint)
		}
	}
	if path, err := ensureChromium(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "testrun: chromium: %v\n", err)
		missing = append(missing, "chromium ("+chromiumPath+")")
	} else {
		env = append(env, "SOUK_TEST_CHROMIUM="+path)
		used = append(used, "chromium at "+path)
	}
	dsn, addr := mysqlDSN()
	if reachable(addr, 3*time.Second) {
		used = append(used, "mysql at "+addr)
		env = append(env, "SOUK_TEST_MYSQL_DSN="+dsn)
	} else {
		missing = append(missing, "mysql ("+addr+")")
	}

	fmt.Println("testrun: peers used:")
	for _, u := range used {
		fmt.Println("  +", u)
	}
	for _, m := range missing {
		fmt.Println("  - MISSING:", m)
	}
	if len(missing) > 0 {
		if ci {
			fmt.Fprintln(os.Stderr, "testrun: CI=true and a peer is missing: failing before the tests run")
			return 1
		}
		fmt.Println("testrun: tests that need a missing peer will SKIP (they fail under CI=true)")
	}

	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr, cmd.Stdin = os.Stdout, os.Stderr, os.Stdin
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	fmt.Fprintf(os.Stderr, "testrun: %v\n", err)
	return 1
}

func isCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1" || v == "yes"
}

// peerCache is where peers are installed: SOUK_PEERS_DIR, else the user
// cache folder (outside the repository).
func peerCache() string {
	if d := os.Getenv("SOUK_PEERS_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "souk", "peers")
	}
	return filepath.Join(os.TempDir(), "souk-peers")
}

// ensurePeer installs the pinned version with `go install` unless present.
func ensurePeer(ctx context.Context, cache string, p peerSpec) (string, error) {
	dir := filepath.Join(cache, p.Name+"-"+p.Version)
	bin := filepath.Join(dir, p.Binary)
	if st, err := os.Stat(bin); err == nil && st.Mode()&0o111 != 0 {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	fmt.Printf("testrun: building %s %s with go install (first run only; MinIO takes a few minutes)…\n", p.Name, p.Version)
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", "install", p.Module+"@"+p.Version)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", err
	}
	fmt.Printf("testrun: built %s in %s\n", p.Name, time.Since(start).Round(time.Second))
	return bin, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startProcess(ctx context.Context, name string, bin string, args []string, env []string, logPath string) (func(), error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		logf.Close()
	}, nil
}

func startStripeMock(ctx context.Context, bin string) (string, func(), error) {
	port, err := freePort()
	if err != nil {
		return "", nil, err
	}
	tlsPort, err := freePort()
	if err != nil {
		return "", nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// Both listeners get free ports: left alone, HTTPS takes :12112 and
	// stripe-mock exits when another instance holds it.
	stop, err := startProcess(ctx, "stripe-mock", bin, []string{"-http-addr", addr, "-https-addr", fmt.Sprintf("127.0.0.1:%d", tlsPort)},
		nil, filepath.Join(os.TempDir(), "souk-stripe-mock.log"))
	if err != nil {
		return "", nil, err
	}
	if err := waitHTTP(ctx, "http://"+addr+"/v1/customers", 30*time.Second, func(code int) bool { return code == 401 || code == 200 }); err != nil {
		stop()
		return "", nil, err
	}
	return "http://" + addr, stop, nil
}

func startMinIO(ctx context.Context, bin string) (endpoint, user, pass string, stop func(), err error) {
	port, err := freePort()
	if err != nil {
		return "", "", "", nil, err
	}
	cport, err := freePort()
	if err != nil {
		return "", "", "", nil, err
	}
	dir, err := os.MkdirTemp("", "souk-minio-")
	if err != nil {
		return "", "", "", nil, err
	}
	user, pass = "souktest", "souk-"+randomHex(12)
	endpoint = fmt.Sprintf("127.0.0.1:%d", port)
	stopProc, err := startProcess(ctx, "minio", bin,
		[]string{"server", dir, "--address", endpoint, "--console-address", fmt.Sprintf("127.0.0.1:%d", cport), "--quiet"},
		[]string{"MINIO_ROOT_USER=" + user, "MINIO_ROOT_PASSWORD=" + pass, "MINIO_BROWSER=off", "MINIO_UPDATE=off"},
		filepath.Join(os.TempDir(), "souk-minio.log"))
	if err != nil {
		os.RemoveAll(dir)
		return "", "", "", nil, err
	}
	stop = func() { stopProc(); os.RemoveAll(dir) }
	if err := waitHTTP(ctx, "http://"+endpoint+"/minio/health/ready", 60*time.Second, func(code int) bool { return code == 200 }); err != nil {
		stop()
		return "", "", "", nil, err
	}
	return endpoint, user, pass, stop, nil
}

func waitHTTP(ctx context.Context, url string, limit time.Duration, ok func(int) bool) error {
	deadline := time.Now().Add(limit)
	client := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if ok(resp.StatusCode) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer within %s", url, limit)
}

// chromiumPath is where Debian's chromium package puts the browser the
// browser tests drive (chromedp).
const chromiumPath = "/usr/bin/chromium"

// ensureChromium returns the browser's path, installing Debian's chromium
// package with apt-get when it is missing and we are root (containers,
// CI). Elsewhere a missing browser is reported, never installed.
func ensureChromium(ctx context.Context) (string, error) {
	if st, err := os.Stat(chromiumPath); err == nil && !st.IsDir() {
		return chromiumPath, nil
	}
	if os.Geteuid() != 0 {
		return "", fmt.Errorf("%s is missing and we are not root: install it with `sudo apt-get install -y chromium`", chromiumPath)
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", fmt.Errorf("%s is missing and there is no apt-get to install it", chromiumPath)
	}
	fmt.Println("testrun: installing chromium with apt-get (first run only)…")
	start := time.Now()
	install := func() error {
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "chromium")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		// A fresh container has no package lists yet.
		update := exec.CommandContext(ctx, "apt-get", "update")
		update.Stdout, update.Stderr = os.Stdout, os.Stderr
		if uerr := update.Run(); uerr != nil {
			return "", fmt.Errorf("apt-get update: %w", uerr)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("apt-get install -y chromium: %w", err)
		}
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		return "", fmt.Errorf("chromium installed but %s is missing: %w", chromiumPath, err)
	}
	fmt.Printf("testrun: installed chromium in %s\n", time.Since(start).Round(time.Second))
	return chromiumPath, nil
}

func mysqlDSN() (dsn, addr string) {
	dsn = os.Getenv("SOUK_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/"
	}
	addr = "127.0.0.1:3306"
	if i := strings.Index(dsn, "tcp("); i >= 0 {
		if j := strings.Index(dsn[i:], ")"); j > 0 {
			addr = dsn[i+4 : i+j]
		}
	}
	return dsn, addr
}

func reachable(addr string, timeout time.Duration) bool {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
