// Package dbtest gives each test a fresh, migrated database: a SQLite file in
// the test's temporary folder, or a throw-away database on the MySQL/MariaDB
// server found by testenv (created at start, dropped at cleanup).
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"testing"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// Dialects lists the dialects storage tests run on.
var Dialects = []string{database.SQLite, database.MySQL}

// ForEachDialect runs fn as a subtest on SQLite and on MySQL/MariaDB.
func ForEachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// URL returns a SOUK_DATABASE_URL for a new, empty database of the dialect
// (not yet migrated), removed when the test ends. Several processes can
// share it: use it to start `souk serve` instances against one database.
func URL(tb testing.TB, dialect string) string {
	tb.Helper()
	switch dialect {
	case database.SQLite:
		return "sqlite://" + filepath.Join(tb.TempDir(), "souk.db")
	case database.MySQL:
		dsn := testenv.MySQLDSN(tb)
		cfg, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			tb.Fatalf("SOUK_TEST_MYSQL_DSN: %v", err)
		}
		name := "souk_test_" + randomHex(6)
		root, err := sql.Open("mysql", dsn)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := root.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			root.Close()
			tb.Fatalf("create test database: %v", err)
		}
		tb.Cleanup(func() {
			defer root.Close()
			if _, err := root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
				tb.Logf("drop test database %s: %v", name, err)
			}
		})
		u := url.URL{Scheme: "mysql", Host: cfg.Addr, Path: "/" + name}
		if cfg.Passwd != "" {
			u.User = url.UserPassword(cfg.User, cfg.Passwd)
		} else {
			u.User = url.User(cfg.User)
		}
		return u.String()
	}
	tb.Fatalf("unknown dialect %q", dialect)
	return ""
}

// Open returns a fresh database of the dialect with every migration applied.
func Open(tb testing.TB, dialect string) *database.DB {
	tb.Helper()
	db := OpenEmpty(tb, dialect)
	if _, err := db.Migrate(context.Background(), quietLogger()); err != nil {
		tb.Fatalf("migrate %s: %v", dialect, err)
	}
	return db
}

// OpenEmpty returns a fresh database of the dialect with no migration applied.
func OpenEmpty(tb testing.TB, dialect string) *database.DB {
	tb.Helper()
	return OpenURL(tb, URL(tb, dialect))
}

// OpenURL opens an existing database URL and closes it at cleanup.
func OpenURL(tb testing.TB, rawURL string) *database.DB {
	tb.Helper()
	db, err := database.Open(context.Background(), rawURL, database.Options{MaxOpenConns: 16, MaxIdleConns: 8, Logger: quietLogger()})
	if err != nil {
		tb.Fatalf("open %s: %v", rawURL, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("random: %v", err))
	}
	return hex.EncodeToString(b)
}
