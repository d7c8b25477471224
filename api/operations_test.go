package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
)

type answer struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u string, body string, hdr map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header, b}
}

func problem(t *testing.T, a answer) api.Problem {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != api.ProblemContentType {
		t.Fatalf("content type %q, want %s; body %s", ct, api.ProblemContentType, a.body)
	}
	var p api.Problem
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("problem body %s: %v", a.body, err)
	}
	if p.Status != a.status || p.Code == "" || p.Title == "" || p.Type == "" {
		t.Fatalf("incomplete problem (HTTP %d): %+v", a.status, p)
	}
	return p
}

func TestHealthz(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	a := do(t, "GET", s.URL+"/healthz", "", nil)
	if a.status != 200 || !strings.Contains(string(a.body), `"status":"ok"`) {
		t.Fatalf("healthz: %d %s", a.status, a.body)
	}
}

// /readyz follows the database: 503 naming it while it is down, 200 again
// once it is back, without a restart.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	dbURL := dbtest.URL(t, "mysql")
	u, _ := url.Parse(dbURL)
	proxy := testenv.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	s := testserver.Start(t, testserver.Options{DatabaseURL: u.String()})

	if a := do(t, "GET", s.URL+"/readyz", "", nil); a.status != 200 {
		t.Fatalf("readyz with the database up: %d %s", a.status, a.body)
	}
	proxy.Down()
	a := do(t, "GET", s.URL+"/readyz", "", nil)
	p := problem(t, a)
	if a.status != 503 || p.Code != "unavailable" || !strings.Contains(p.Detail, "database") || a.header.Get("Retry-After") == "" {
		t.Fatalf("readyz with the database down: %d %+v (Retry-After %q)", a.status, p, a.header.Get("Retry-After"))
	}
	if len(p.Errors) != 1 || p.Errors[0].Field != "database" {
		t.Fatalf("the failing peer is not named: %+v", p.Errors)
	}
	// A page that needs the database answers 503 too, not 500.
	if a := do(t, "GET", s.URL+"/en/", "", nil); a.status != 503 {
		t.Fatalf("home page with the database down: %d, want 503", a.status)
	}
	proxy.Up()
	deadline := time.Now().Add(15 * time.Second)
	for {
		a := do(t, "GET", s.URL+"/readyz", "", nil)
		if a.status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz did not recover after the database came back: %d %s", a.status, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// /readyz names the media store when MinIO is unreachable, and recovers.
func TestReadyzFollowsMinIO(t *testing.T) {
	peer := testenv.MinIO(t)
	proxy := testenv.NewProxy(t, peer.Endpoint)
	s := testserver.Start(t, testserver.Options{MinIO: true, Configure: func(c *config.Config) { c.MinIO.Endpoint = proxy.Addr() }})
	if a := do(t, "GET", s.URL+"/readyz", "", nil); a.status != 200 {
		t.Fatalf("readyz with MinIO up: %d %s", a.status, a.body)
	}
	proxy.Down()
	a := do(t, "GET", s.URL+"/readyz", "", nil)
	if p := problem(t, a); a.status != 503 || len(p.Errors) != 1 || p.Errors[0].Field != "media" {
		t.Fatalf("readyz with MinIO down: %d %s", a.status, a.body)
	}
	proxy.Up()
	deadline := time.Now().Add(15 * time.Second)
	for do(t, "GET", s.URL+"/readyz", "", nil).status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover after MinIO came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestErrorsAreProblems(t *testing.T) {
	s := testserver.Start(t, testserver.Options{
		Configure: func(c *config.Config) { c.BodyLimitBytes = 1 << 20 },
		Routes: func(app *fiber.App) {
			app.Get("/api/v1/test/panic", func(c *fiber.Ctx) error { panic("secret internals") })
		},
	})

	t.Run("NotFound", func(t *testing.T) {
		a := do(t, "GET", s.URL+"/api/v1/no-such-thing", "", nil)
		if p := problem(t, a); a.status != 404 || p.Code != "not_found" {
			t.Fatalf("%d %+v", a.status, p)
		}
	})
	t.Run("TooLarge", func(t *testing.T) {
		// The server answers from the Content-Length alone, before reading
		// the body, and closes: send the headers only, as a raw client.
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /api/v1/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 2<<20)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		a := answer{resp.StatusCode, resp.Header, b}
		if p := problem(t, a); a.status != 413 || p.Code != "too_large" {
			t.Fatalf("%d %+v", a.status, p)
		}
	})
	t.Run("PanicIsAnInternalProblemWithoutDetails", func(t *testing.T) {
		a := do(t, "GET", s.URL+"/api/v1/test/panic", "", nil)
		p := problem(t, a)
		if a.status != 500 || p.Code != "internal" || strings.Contains(string(a.body), "secret internals") {
			t.Fatalf("%d %s", a.status, a.body)
		}
		if p.RequestID == "" || p.RequestID != a.header.Get("X-Request-ID") {
			t.Fatalf("request id %q vs header %q", p.RequestID, a.header.Get("X-Request-ID"))
		}
	})
	t.Run("PageNotFoundIsAnHTMLPage", func(t *testing.T) {
		a := do(t, "GET", s.URL+"/ar/no-such-page", "", nil)
		if a.status != 404 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(string(a.body), `lang="ar"`) || !strings.Contains(string(a.body), `dir="rtl"`) {
			t.Fatalf("%d %s %.300s", a.status, a.header.Get("Content-Type"), a.body)
		}
	})
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	a := do(t, "GET", s.URL+"/healthz", "", map[string]string{"X-Request-ID": "abc-123"})
	want := map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
		"Content-Security-Policy": api.ContentSecurityPolicy,
		"X-Request-Id":            "abc-123",
	}
	for k, v := range want {
		if got := a.header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(api.ContentSecurityPolicy, "frame-ancestors 'none'") || strings.Contains(api.ContentSecurityPolicy, "unsafe-inline") {
		t.Errorf("CSP must forbid framing and inline script: %s", api.ContentSecurityPolicy)
	}
	if a.header.Get("Strict-Transport-Security") == "" {
		t.Error("HSTS missing outside development")
	}
	// A hostile request id is replaced, not echoed.
	b := do(t, "GET", s.URL+"/healthz", "", map[string]string{"X-Request-ID": "<script>"})
	if id := b.header.Get("X-Request-ID"); id == "<script>" || id == "" {
		t.Errorf("request id %q", id)
	}
}

func TestMetrics(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	for range 3 {
		do(t, "GET", s.URL+"/healthz", "", nil)
	}
	do(t, "GET", s.URL+"/api/v1/nothing-here", "", nil)
	a := do(t, "GET", s.URL+"/metrics", "", nil)
	body := string(a.body)
	for _, want := range []string{
		`souk_http_requests_total{method="GET",route="/healthz",status="200"} 3`,
		`souk_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`souk_http_request_duration_seconds_bucket{method="GET",route="/healthz"`,
		`souk_db_open_connections`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// In-flight requests finish during a graceful shutdown.
func TestGracefulShutdown(t *testing.T) {
	started := make(chan struct{})
	s := testserver.Start(t, testserver.Options{Routes: func(app *fiber.App) {
		app.Get("/api/v1/test/slow", func(c *fiber.Ctx) error {
			close(started)
			time.Sleep(500 * time.Millisecond)
			return c.SendString("finished")
		})
	}})
	var wg sync.WaitGroup
	var got answer
	wg.Add(1)
	go func() {
		defer wg.Done()
		got = do(t, "GET", s.URL+"/api/v1/test/slow", "", nil)
	}()
	<-started
	s.Stop()
	wg.Wait()
	if got.status != 200 || string(got.body) != "finished" {
		t.Fatalf("in-flight request cut by shutdown: %d %q", got.status, got.body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/healthz", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("server still answers after shutdown")
	}
}

// The OpenAPI file documents every JSON route, and documents nothing else.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	ops, err := api.Operations()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.Method+" "+o.Path] = true
		if o.OperationID == "" || o.Summary == "" || len(o.Responses) == 0 {
			t.Errorf("%s %s lacks an operationId, a summary or responses", o.Method, o.Path)
		}
	}
	registered := map[string]bool{}
	for _, r := range s.API.Routes() {
		key := r.Method + " " + api.OpenAPIPath(r.Path)
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in api/openapi.yaml", key)
		}
	}
	for k := range documented {
		if !registered[k] {
			t.Errorf("api/openapi.yaml documents %s, which no route serves", k)
		}
	}
	a := do(t, "GET", s.URL+"/api/openapi.yaml", "", nil)
	if a.status != 200 || !strings.HasPrefix(string(a.body), "openapi: 3.1") {
		t.Fatalf("openapi.yaml: %d", a.status)
	}
	d := do(t, "GET", s.URL+"/api/docs", "", nil)
	if d.status != 200 || !strings.Contains(string(d.body), "/readyz") {
		t.Fatalf("docs: %d", d.status)
	}
}
