// Package testenv finds the real peers the tests run against: MariaDB/MySQL,
// a MinIO server and stripe-mock. The test runner (internal/tools/testrun,
// used by `make test`) builds and starts MinIO and stripe-mock and passes
// their addresses in SOUK_TEST_* variables; MySQL is found through
// SOUK_TEST_MYSQL_DSN or on 127.0.0.1:3306.
//
// A missing peer skips the test loudly, except under CI=true where it fails:
// in CI every peer must really be used.
package testenv

import (
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// CI reports whether the tests run under CI=true, where missing peers fail.
func CI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1" || v == "yes"
}

// Missing skips the test because a peer is absent, or fails it under CI.
func Missing(tb testing.TB, peer, how string) {
	tb.Helper()
	msg := fmt.Sprintf("PEER MISSING: %s is not reachable (%s); run `make test` to start it", peer, how)
	if CI() {
		tb.Fatal(msg + " — required under CI=true")
	}
	tb.Skip(msg)
}

// MinIOPeer is a running MinIO server.
type MinIOPeer struct {
	Endpoint  string // host:port
	AccessKey string
	SecretKey string
}

// MinIO returns the MinIO server started by the test runner.
func MinIO(tb testing.TB) MinIOPeer {
	tb.Helper()
	p := MinIOPeer{
		Endpoint:  os.Getenv("SOUK_TEST_MINIO_ENDPOINT"),
		AccessKey: os.Getenv("SOUK_TEST_MINIO_ACCESS_KEY"),
		SecretKey: os.Getenv("SOUK_TEST_MINIO_SECRET_KEY"),
	}
	if p.Endpoint == "" || !reachable(p.Endpoint) {
		Missing(tb, "minio", "SOUK_TEST_MINIO_ENDPOINT="+p.Endpoint)
	}
	return p
}

// StripeMockURL returns the base URL (http://127.0.0.1:port) of stripe-mock.
func StripeMockURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("SOUK_TEST_STRIPE_URL")
	if u == "" || !reachable(strings.TrimPrefix(u, "http://")) {
		Missing(tb, "stripe-mock", "SOUK_TEST_STRIPE_URL="+u)
	}
	return u
}

// MySQLDSN returns a go-sql-driver DSN (without database name) for a MySQL
// or MariaDB server on which the tests may create and drop databases.
func MySQLDSN(tb testing.TB) string {
	tb.Helper()
	dsn, addr := mysqlDSN()
	if !reachable(addr) {
		Missing(tb, "mysql", "SOUK_TEST_MYSQL_DSN or 127.0.0.1:3306")
	}
	return dsn
}

var mysqlOnce struct {
	sync.Once
	dsn, addr string
}

func mysqlDSN() (dsn, addr string) {
	mysqlOnce.Do(func() {
		dsn := os.Getenv("SOUK_TEST_MYSQL_DSN")
		if dsn == "" {
			dsn = "root@tcp(127.0.0.1:3306)/"
		}
		addr := "127.0.0.1:3306"
		if i := strings.Index(dsn, "tcp("); i >= 0 {
			if j := strings.Index(dsn[i:], ")"); j > 0 {
				addr = dsn[i+4 : i+j]
			}
		}
		mysqlOnce.dsn, mysqlOnce.addr = dsn, addr
	})
	return mysqlOnce.dsn, mysqlOnce.addr
}

func reachable(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// DefaultChromium is where Debian's chromium package puts the browser.
const DefaultChromium = "/usr/bin/chromium"

// Chromium returns the path of the Chromium the browser tests drive:
// SOUK_TEST_CHROMIUM (the test runner installs Debian's chromium when it
// is missing and exports its path), else DefaultChromium. Without one the
// test skips loudly, or fails under CI=true.
func Chromium(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("SOUK_TEST_CHROMIUM")
	if p == "" {
		p = DefaultChromium
	}
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		Missing(tb, "chromium", p+" (apt-get install -y chromium)")
	}
	return p
}
