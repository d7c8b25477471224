package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestNewMinIO_ErrOptions(t *testing.T) {
	for name, opts := range map[string]MinIOOptions{
		"NoEndpoint": {Bucket: "souk-media"},
		"Scheme":     {Endpoint: "http://127.0.0.1:9000", Bucket: "souk-media"},
		"BadBucket":  {Endpoint: "127.0.0.1:9000", Bucket: "Souk_Media"},
		"NoBucket":   {Endpoint: "127.0.0.1:9000"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := NewMinIO(context.Background(), opts); err == nil {
				t.Errorf("NewMinIO(%+v) succeeded; want an error", opts)
			}
		})
	}
}

// The server must start while MinIO is down, and calls must then fail
// fast with Unavailable and a retry hint.
func TestMinIO_ServerDown(t *testing.T) {
	start := time.Now()
	m, err := NewMinIO(context.Background(), MinIOOptions{Endpoint: closedAddr(t), Bucket: "souk-media", AccessKey: "k", SecretKey: "secretsecret"})
	if err != nil {
		t.Fatalf("NewMinIO with the server down: %v; want a store", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("NewMinIO took %v; want no network call", d)
	}
	ctx := context.Background()
	calls := map[string]func() error{
		"Ping": func() error { return m.Ping(ctx) },
		"Put":  func() error { return m.Put(ctx, "public/x.jpg", strings.NewReader("x"), 1, PutOptions{}) },
		"Stat": func() error { _, err := m.Stat(ctx, "public/x.jpg"); return err },
		"Get": func() error {
			rc, _, err := m.Get(ctx, "public/x.jpg")
			if rc != nil {
				rc.Close()
			}
			return err
		},
		"Delete": func() error { return m.Delete(ctx, "public/x.jpg") },
		"List":   func() error { return m.List(ctx, "public/", func(Object) error { return nil }) },
	}
	for name, call := range calls {
		err := call()
		e := errs.As(err)
		if e == nil || e.Code != errs.Unavailable || e.RetryAfter <= 0 {
			t.Errorf("%s with the server down: %v; want Unavailable with RetryAfter", name, err)
		}
	}
	if err := m.EnsureBucket(ctx); !errs.Is(err, errs.Unavailable) {
		t.Errorf("EnsureBucket with the server down: %v; want Unavailable", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("failing against a down server took %v; want it fast", d)
	}
	// Presigning needs no server.
	if u, err := m.URL(ctx, "private/doc.pdf", time.Minute); err != nil || !strings.Contains(u, "X-Amz-Signature=") {
		t.Errorf("URL with the server down = %q, %v; want a presigned URL", u, err)
	}
}

// A server that accepts connections and never answers must not hang calls.
func TestMinIO_StalledServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // hold it open, say nothing
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})

	bounds := minioBounds{dial: time.Second, header: 300 * time.Millisecond, call: time.Second, transfer: 2 * time.Second,
		backoff: time.Second, retries: 1}
	m, err := newMinIO(context.Background(), MinIOOptions{Endpoint: ln.Addr().String(), Bucket: "souk-media"}, bounds)
	if err != nil {
		t.Fatalf("newMinIO: %v", err)
	}
	for name, call := range map[string]func() error{
		"EnsureBucket": func() error { return m.EnsureBucket(context.Background()) },
		"Stat": func() error {
			m.ready.Store(true) // straight to the object call
			_, err := m.Stat(context.Background(), "public/x.jpg")
			return err
		},
	} {
		start := time.Now()
		if err := call(); !errs.Is(err, errs.Unavailable) {
			t.Errorf("%s against a stalled server: %v; want Unavailable", name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s against a stalled server took %v; want it bounded", name, d)
		}
	}
}

func TestMinIO_URL(t *testing.T) {
	ctx := context.Background()
	addr := closedAddr(t)
	direct, err := NewMinIO(ctx, MinIOOptions{Endpoint: addr, Bucket: "souk-media", AccessKey: "k", SecretKey: "secretsecret"})
	if err != nil {
		t.Fatal(err)
	}
	cdn, err := NewMinIO(ctx, MinIOOptions{Endpoint: addr, Bucket: "souk-media", UseTLS: true, PublicBaseURL: "https://cdn.souk.ma/"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s    *MinIO
		key  string
		want string
	}{
		{direct, "public/photos/ab/abc-320.jpg", "http://" + addr + "/souk-media/public/photos/ab/abc-320.jpg"},
		{cdn, "public/photos/ab/abc-320.jpg", "https://cdn.souk.ma/public/photos/ab/abc-320.jpg"},
	} {
		if got, err := tc.s.URL(ctx, tc.key, 0); err != nil || got != tc.want {
			t.Errorf("URL(%q) = %q, %v; want %q", tc.key, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		expiry time.Duration
		want   string
	}{
		{0, "900"},
		{time.Hour, "3600"},
		{30 * 24 * time.Hour, "604800"},
	} {
		got, err := direct.URL(ctx, "private/certificates/1/doc.pdf", tc.expiry)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatal(err)
		}
		if e := u.Query().Get("X-Amz-Expires"); e != tc.want || u.Path != "/souk-media/private/certificates/1/doc.pdf" {
			t.Errorf("URL(private, %v) = %s; want path /souk-media/private/certificates/1/doc.pdf expiring in %s s", tc.expiry, got, tc.want)
		}
	}
}

func TestMinIOTranslate(t *testing.T) {
	m := &MinIO{bucket: "souk-media"}
	for _, tc := range []struct {
		name string
		err  error
		want errs.Code
	}{
		{"NoSuchKey", minio.ErrorResponse{Code: minio.NoSuchKey, StatusCode: 404}, errs.NotFound},
		{"HeadNotFound", minio.ErrorResponse{StatusCode: 404}, errs.NotFound},
		{"NoSuchBucket", minio.ErrorResponse{Code: minio.NoSuchBucket, StatusCode: 404}, errs.Unavailable},
		{"ServiceUnavailable", minio.ErrorResponse{Code: "ServiceUnavailable", StatusCode: 503}, errs.Unavailable},
		{"SlowDown", minio.ErrorResponse{Code: "SlowDown", StatusCode: 503}, errs.Unavailable},
		{"NotInitialized", minio.ErrorResponse{Code: "XMinioServerNotInitialized", StatusCode: 503}, errs.Unavailable},
		{"AccessDenied", minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, errs.Internal},
		{"ConnRefused", &url.Error{Op: "Get", URL: "http://x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}, errs.Unavailable},
		{"DNS", &url.Error{Op: "Get", URL: "http://x", Err: &net.DNSError{Err: "no such host", Name: "minio"}}, errs.Unavailable},
		{"Deadline", context.DeadlineExceeded, errs.Unavailable},
		{"Canceled", context.Canceled, errs.Internal},
		{"Other", errors.New("boom"), errs.Internal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m.ready.Store(true)
			err := m.translate(tc.err, "stat %s", "public/x.jpg")
			wantCode(t, err, tc.want)
			if !errors.Is(err, tc.err) && errs.As(err) == nil {
				t.Errorf("translate lost the cause %v", tc.err)
			}
			if e := errs.As(err); tc.want == errs.Unavailable && (e == nil || e.RetryAfter != UnavailableRetryAfter) {
				t.Errorf("Unavailable without RetryAfter: %v", err)
			}
			if tc.name == "NoSuchBucket" && m.ready.Load() {
				t.Error("NoSuchBucket did not mark the bucket for preparing again")
			}
		})
	}
}

// When EnsureBucket was not called (or failed at start), the bucket is
// created and its policy set on first use.
func TestMinIO_LazyEnsureBucket(t *testing.T) {
	peer := testenv.MinIO(t)
	ctx := context.Background()
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	bucket := "souk-test-lazy-" + hex.EncodeToString(rnd[:])
	m, err := NewMinIO(ctx, MinIOOptions{Endpoint: peer.Endpoint, AccessKey: peer.AccessKey, SecretKey: peer.SecretKey, Bucket: bucket})
	if err != nil {
		t.Fatalf("NewMinIO: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, m.client, bucket) })
	if ok, err := m.client.BucketExists(ctx, bucket); err != nil || ok {
		t.Fatalf("bucket exists = %v, %v before first use; want false", ok, err)
	}
	body := []byte("pot from Tighmi")
	if err := m.Put(ctx, "public/photos/aa/pot-320.jpg", bytes.NewReader(body), int64(len(body)), PutOptions{ContentType: "image/jpeg"}); err != nil {
		t.Fatalf("first Put: %v", err)
	}
	u, _ := m.URL(ctx, "public/photos/aa/pot-320.jpg", 0)
	if status, got, _ := httpGet(t, u); status != http.StatusOK || !bytes.Equal(got, body) {
		t.Errorf("anonymous GET of a public object = %d %q; want 200", status, got)
	}
	// The policy opens public/* objects only, not the listing.
	if status, _, _ := httpGet(t, "http://"+peer.Endpoint+"/"+bucket+"/"); status != http.StatusForbidden {
		t.Errorf("anonymous listing of the bucket = %d; want 403", status)
	}
	if status, _, _ := httpGet(t, "http://"+peer.Endpoint+"/"+bucket+"/?prefix=public/"); status != http.StatusForbidden {
		t.Errorf("anonymous listing of public/ = %d; want 403", status)
	}
	if err := m.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

// A server that refuses the public-read policy (S3's Block Public Access,
// or credentials without s3:PutBucketPolicy) still stores objects; only
// EnsureBucket reports the refusal, for the start-up log.
func TestMinIO_PolicyRefused(t *testing.T) {
	var mu sync.Mutex
	var puts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodHead && strings.TrimSuffix(r.URL.Path, "/") == "/souk-media":
			w.WriteHeader(http.StatusOK)
		case r.Method == http.MethodPut && r.URL.Query().Has("policy"):
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		case r.Method == http.MethodPut:
			mu.Lock()
			puts = append(puts, r.URL.Path)
			mu.Unlock()
			io.Copy(io.Discard, r.Body)
			w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
			w.WriteHeader(http.StatusOK)
		default:
			http.Error(w, "unexpected", http.StatusNotImplemented)
		}
	}))
	defer srv.Close()
	ctx := context.Background()
	m, err := NewMinIO(ctx, MinIOOptions{Endpoint: strings.TrimPrefix(srv.URL, "http://"), Bucket: "souk-media", AccessKey: "k", SecretKey: "secretsecret"})
	if err != nil {
		t.Fatal(err)
	}
	err = m.EnsureBucket(ctx)
	if err == nil || errs.Is(err, errs.Unavailable) {
		t.Errorf("EnsureBucket with the policy refused: %v; want the refusal, not Unavailable", err)
	}
	if err := m.Put(ctx, "public/photos/aa/x-320.jpg", strings.NewReader("jpeg"), 4, PutOptions{ContentType: "image/jpeg"}); err != nil {
		t.Errorf("Put after the policy was refused: %v; want the store usable", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(puts) != 1 || puts[0] != "/souk-media/public/photos/aa/x-320.jpg" {
		t.Errorf("object PUTs = %q", puts)
	}
}
