package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database/dbtest"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve runs `souk serve` in-process until the returned stop is called.
func serve(t *testing.T, env map[string]string) (url string, out *lockedBuffer, stop func() error) {
	t.Helper()
	addr := freeAddr(t)
	env["SOUK_ADDR"] = addr
	env["SOUK_ENV_FILE"] = filepath.Join(t.TempDir(), "none.env")
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	out = &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, getenv, strings.NewReader(""), out, out) }()
	url = "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not come up:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return url, out, func() error { cancel(); return <-done }
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// `make run` on embedded defaults: the SQLite file and the media folder
// appear under data/, the demo is seeded once, /healthz and /readyz answer,
// and a second start keeps the data.
func TestServeEmbeddedDefaults(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SOUK_DATA_DIR": filepath.Join(dir, "data"), "SOUK_DATABASE_URL": "sqlite://" + filepath.Join(dir, "data", "souk.db"), "SOUK_SEED_DEMO": "true"}
	url, out, stop := serve(t, env)
	for _, p := range []string{"/healthz", "/readyz"} {
		if s := status(t, url+p); s != 200 {
			t.Fatalf("%s: %d\n%s", p, s, out.String())
		}
	}
	if s := status(t, url+"/fr/"); s != 200 {
		t.Fatalf("home: %d", s)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve: %v", err)
	}
	for _, p := range []string{"data/souk.db", "data/media", "data/secret.key"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s missing after make run: %v", p, err)
		}
	}
	if !strings.Contains(out.String(), "Souk is serving on") || !strings.Contains(out.String(), "Demo administrator: admin@souk.localhost / ") {
		t.Errorf("the banner lacks the address or the demo administrator:\n%s", out.String())
	}
	// Second start: the data is kept and the demo is not seeded again.
	url, out2, stop := serve(t, env)
	defer stop()
	if s := status(t, url+"/readyz"); s != 200 {
		t.Fatalf("second start readyz: %d\n%s", s, out2.String())
	}
	if strings.Contains(out2.String(), "demo seeded") {
		t.Error("the demo was seeded again into a database that holds data")
	}
	var b bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "status"}, func(k string) string { return env[k] }, nil, &b, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "pending") || !strings.Contains(b.String(), "0001") {
		t.Errorf("migrate status:\n%s", b.String())
	}
}

// Two instances started at once on one MariaDB both come up, with one
// migration history.
func TestServeTwoInstancesOnMySQL(t *testing.T) {
	dbURL := dbtest.URL(t, "mysql")
	var wg sync.WaitGroup
	urls := make([]string, 2)
	stops := make([]func() error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			urls[i], _, stops[i] = serve(t, map[string]string{"SOUK_DATABASE_URL": dbURL, "SOUK_DATA_DIR": t.TempDir(), "SOUK_SEED_DEMO": "true"})
		}()
	}
	wg.Wait()
	for i, u := range urls {
		if s := status(t, u+"/readyz"); s != 200 {
			t.Errorf("instance %d readyz: %d", i, s)
		}
	}
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}
	db := dbtest.OpenURL(t, dbURL)
	var dup int64
	db.Raw("SELECT COUNT(*) FROM (SELECT version FROM schema_migrations GROUP BY version HAVING COUNT(*) > 1) d").Scan(&dup)
	var venues int64
	db.Raw("SELECT COUNT(*) FROM venues WHERE slug = 'aouartas-artisan-zone'").Scan(&venues)
	if dup != 0 || venues != 1 {
		t.Fatalf("duplicate migrations %d, Aouartas seeded %d times", dup, venues)
	}
}

func TestCommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, nil, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "souk ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
	err := run(context.Background(), []string{"serve"}, func(k string) string {
		return map[string]string{"SOUK_DATABASE_URL": "postgres://x", "SOUK_LOG_LEVEL": "loud", "SOUK_ENV_FILE": "/nonexistent"}[k]
	}, nil, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SOUK_DATABASE_URL") || !strings.Contains(err.Error(), "SOUK_LOG_LEVEL") {
		t.Fatalf("bad settings: %v", err)
	}
}

// `souk admin create` reads the password from the environment or standard
// input, never from a flag, and the administrator can log in.
func TestAdminCreate(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"SOUK_DATA_DIR": dir, "SOUK_DATABASE_URL": "sqlite://" + filepath.Join(dir, "souk.db"), "SOUK_ENV_FILE": "/nonexistent"}
	getenv := func(k string) string { return env[k] }
	var out bytes.Buffer
	err := run(context.Background(), []string{"admin", "create", "--email", "Chef@Tiznit.ma", "--name", "Chef"}, getenv,
		strings.NewReader("a-long-admin-passphrase\n"), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), "administrator chef@tiznit.ma created") && !strings.Contains(out.String(), "administrator Chef@Tiznit.ma created") {
		t.Fatalf("admin create: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"admin", "create", "--email", "x@tiznit.ma", "--name", "X", "--password", "nope"}, getenv, strings.NewReader(""), io.Discard, io.Discard); err == nil {
		t.Fatal("a --password flag was accepted")
	}
	env["SOUK_ADMIN_PASSWORD"] = "short"
	if err := run(context.Background(), []string{"admin", "create", "--email", "y@tiznit.ma", "--name", "Y"}, getenv, nil, io.Discard, io.Discard); err == nil {
		t.Fatal("a too short password was accepted")
	}
	// The administrator can sign in through the API.
	delete(env, "SOUK_ADMIN_PASSWORD")
	url, _, stop := serve(t, env)
	defer stop()
	resp, err := http.Post(url+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"chef@tiznit.ma","password":"a-long-admin-passphrase"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"admin"`) {
		t.Fatalf("admin login: %d %s", resp.StatusCode, body)
	}
}
