package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/mail"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// This file starts real API servers with accounts wired in, for the account,
// cooperative and matrix tests (and for other resources' tests that need
// signed-in callers): a real database, a real listener on 127.0.0.1, a
// local media folder and a mail outbox.

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testClock is a settable clock shared by the servers of one test.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now().UTC()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// envOptions choose the parts of a test server.
type envOptions struct {
	// Dialect is sqlite (default) or mysql, for a fresh database.
	Dialect string
	// DatabaseURL shares an existing database (e.g. between two servers or
	// across a restart); it is migrated if needed.
	DatabaseURL string
	// Limits override the account rate limits.
	Limits account.Limits
	// Clock drives the account service (sessions, tokens, limits).
	Clock *testClock
	// OutboxDir shares a mail outbox folder.
	OutboxDir string
	// Configure may change the configuration last.
	Configure func(*config.Config)
}

// testEnv is one running API server.
type testEnv struct {
	URL      string
	DBURL    string
	DB       *database.DB
	Accounts *account.Service
	Bookings *booking.Store
	Catalog  *storefront.Service
	Media    media.Store
	Server   *api.Server
	Outbox   *mail.Outbox
	Clock    *testClock
	stop     func()
}

// startEnv serves an API server on a free loopback port until Stop or the
// end of the test.
func startEnv(t *testing.T, opts envOptions) *testEnv {
	t.Helper()
	dbURL := opts.DatabaseURL
	if dbURL == "" {
		d := opts.Dialect
		if d == "" {
			d = database.SQLite
		}
		dbURL = dbtest.URL(t, d)
	}
	db := dbtest.OpenURL(t, dbURL) // a pool of its own, as a separate process would have
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := db.Migrate(ctx, quietLog); err != nil {
		cancel()
		t.Fatalf("migrate: %v", err)
	}
	cfg := config.Default()
	cfg.Env = config.Test
	cfg.BodyLimitBytes = 1 << 20
	cfg.DatabaseURL = dbURL
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	store, err := media.NewLocal(t.TempDir(), "http://127.0.0.1", []byte("test-signing-key-test-signing-key"))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if opts.OutboxDir == "" {
		opts.OutboxDir = t.TempDir()
	}
	outbox, err := mail.NewOutbox(opts.OutboxDir, "Souk <no-reply@souk.test>")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if opts.Clock == nil {
		opts.Clock = newTestClock()
	}
	svc := account.New(db, account.Options{Mail: outbox, BaseURL: "http://souk.test", Password: account.TestPasswordParams,
		Limits: opts.Limits, Now: opts.Clock.Now, Logger: quietLog})
	bookings := booking.NewStore(db, nil, quietLog)
	catalog := storefront.New(db, storefront.Options{Now: opts.Clock.Now})
	srv := api.New(cfg, api.Deps{DB: db, Media: store, Logger: quietLog, Version: "test", Accounts: svc,
		Bookings: bookings, PaymentStore: payment.NewStore(db), Catalog: catalog})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	e := &testEnv{URL: "http://" + ln.Addr().String(), DBURL: dbURL, DB: db, Accounts: svc, Bookings: bookings, Catalog: catalog, Media: store, Server: srv, Outbox: outbox, Clock: opts.Clock}
	var once sync.Once
	e.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
				t.Errorf("serve: %v", err)
			}
		})
	}
	t.Cleanup(e.stop)
	return e
}

// Stop shuts the server down and waits for it.
func (e *testEnv) Stop() { e.stop() }

// call is one request to a test server.
type call struct {
	Method string
	Path   string
	// Body is sent as is when a string or []byte, else as JSON.
	Body any
	// Token is sent as a Bearer token; Cookie as the session cookie.
	Token  string
	Cookie string
	// CSRF is sent in the X-CSRF-Token header.
	CSRF   string
	Header map[string]string
}

// reply is a server's answer.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// envHTTP does not follow redirects, so that a test sees the redirect
// itself (a certificate document's signed link).
var envHTTP = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// send makes the request and reads the whole answer.
func (e *testEnv) send(t *testing.T, c call) reply {
	t.Helper()
	var body io.Reader
	ct := ""
	switch b := c.Body.(type) {
	case nil:
	case string:
		body, ct = strings.NewReader(b), "application/json"
	case []byte:
		body, ct = bytes.NewReader(b), "application/json"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(c.Method, e.URL+c.Path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Cookie != "" {
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: c.Cookie})
	}
	if c.CSRF != "" {
		req.Header.Set(api.CSRFHeader, c.CSRF)
	}
	for k, v := range c.Header {
		req.Header.Set(k, v)
	}
	resp, err := envHTTP.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", c.Method, c.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", c.Method, c.Path, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// decode reads a JSON answer into dst.
func (r reply) decode(t *testing.T, dst any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, dst); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// problem reads a problem+json answer and checks it is well formed.
func (r reply) problem(t *testing.T) api.Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != api.ProblemContentType {
		t.Fatalf("content type %q, want %s; body %s", ct, api.ProblemContentType, r.Body)
	}
	var p api.Problem
	r.decode(t, &p)
	if p.Status != r.Status || p.Code == "" || p.Title == "" || p.Type == "" {
		t.Fatalf("incomplete problem (HTTP %d): %+v", r.Status, p)
	}
	return p
}

// problemFields are the fields a problem names.
type problemFields []string

// has reports whether field is among them.
func (p problemFields) has(field string) bool {
	for _, f := range p {
		if f == field {
			return true
		}
	}
	return false
}

func fieldsOf(p api.Problem) problemFields {
	var out problemFields
	for _, f := range p.Errors {
		out = append(out, f.Field)
	}
	return out
}

// sessionReply is the answer to a sign-up or login.
type sessionReply struct {
	Token     string       `json:"token"`
	CSRFToken string       `json:"csrf_token"`
	User      account.User `json:"user"`
}

const testPassword = "correct horse battery"

// signUp registers a person through the API and returns their session.
func (e *testEnv) signUp(t *testing.T, email string, role account.Role) sessionReply {
	t.Helper()
	r := e.send(t, call{Method: "POST", Path: "/api/v1/auth/register",
		Body: map[string]string{"email": email, "password": testPassword, "name": "Test " + email, "role": string(role)}})
	if r.Status != http.StatusCreated {
		t.Fatalf("sign up %s: %d %s", email, r.Status, r.Body)
	}
	var s sessionReply
	r.decode(t, &s)
	return s
}

// mailTo returns the newest message to the address, decoded, or fails.
func (e *testEnv) mailTo(t *testing.T, to string) string {
	t.Helper()
	msgs, err := e.Outbox.Messages()
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		raw, err := os.ReadFile(msgs[i])
		if err != nil {
			t.Fatal(err)
		}
		head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
		if !strings.Contains(head, "To: "+to+"\r\n") {
			continue
		}
		// The body is one quoted-printable part (after its own headers).
		if _, b, ok := strings.Cut(body, "\r\n\r\n"); ok {
			body = b
		}
		dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
		if err != nil {
			t.Fatalf("decode mail: %v", err)
		}
		return string(dec)
	}
	t.Fatalf("no mail to %s in the outbox", to)
	return ""
}

// mailCount is the number of messages in the outbox.
func (e *testEnv) mailCount(t *testing.T) int {
	t.Helper()
	msgs, err := e.Outbox.Messages()
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

var tokenInLink = regexp.MustCompile(`(?:token=|/invitations/)([A-Za-z0-9_-]{43})`)

// tokenIn finds the secret token of a link in a message.
func tokenIn(t *testing.T, msg string) string {
	t.Helper()
	m := tokenInLink.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("no token link in:\n%s", msg)
	}
	return m[1]
}

// countRows counts the rows of each table, to prove a refused request wrote
// nothing.
func (e *testEnv) countRows(t *testing.T, tables ...string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, tb := range tables {
		var n int64
		if err := e.DB.Raw("SELECT COUNT(*) FROM " + tb).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		out[tb] = n
	}
	return out
}
