// Package database opens Souk's database — MySQL/MariaDB in production, a
// SQLite file as the embedded default — applies the versioned migrations of
// both dialects, runs transactions that retry on deadlocks, and translates
// driver errors into errs codes.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/souk-tiznit/souk/config"
)

// Dialects.
const (
	MySQL  = "mysql"
	SQLite = "sqlite"
)

// DB is an open database: GORM plus the dialect, for the few queries that
// must branch on it.
type DB struct {
	*gorm.DB
	Dialect string

	galera *galeraProbe // MySQL: whether the server is a Galera node (Transact)
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	Logger          *slog.Logger
}

// OptionsFrom takes the pool settings from the configuration.
func OptionsFrom(c config.Config, log *slog.Logger) Options {
	return Options{MaxOpenConns: c.DBMaxOpenConns, MaxIdleConns: c.DBMaxIdleConns, ConnMaxLifetime: c.DBConnLifetime, Logger: log}
}

// Open connects to the database named by rawURL (sqlite://… or mysql://…).
// For MySQL a missing database is created (utf8mb4); for SQLite the folder
// is created. Open does not fail when a MySQL server is down: the pool
// reconnects by itself and Ping reports the state.
func Open(ctx context.Context, rawURL string, opts Options) (*DB, error) {
	u, err := config.ParseDatabaseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	gcfg := &gorm.Config{
		TranslateError:                           true,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
		Logger:                                   newGormLogger(opts.Logger),
		DisableForeignKeyConstraintWhenMigrating: true,
	}
	var dialector gorm.Dialector
	switch u.Dialect {
	case SQLite:
		if u.Path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(u.Path), 0o750); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		dialector = sqlite.Open(SQLiteDSN(u.Path))
	case MySQL:
		mc := MySQLConfig(u)
		mc.Logger = mysqlLogger{opts.Logger} // per connector: the driver's SetLogger is a racy global
		if err := ensureMySQLDatabase(ctx, u); err != nil {
			opts.Logger.Warn("could not make sure the database exists; continuing", "database", u.Name, "err", err)
		}
		conn, err := mysqldriver.NewConnector(mc)
		if err != nil {
			return nil, fmt.Errorf("mysql connector: %w", err)
		}
		dialector = mysql.New(mysql.Config{Conn: sql.OpenDB(conn), DSNConfig: mc, DefaultStringSize: 191})
	}
	g, err := gorm.Open(dialector, gcfg)
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", u.Dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("database pool: %w", err)
	}
	maxOpen := opts.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 20
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(min(opts.MaxIdleConns, maxOpen))
	if opts.ConnMaxLifetime > 0 {
		sqlDB.SetConnMaxLifetime(opts.ConnMaxLifetime)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{DB: g, Dialect: u.Dialect, galera: &galeraProbe{}}, nil
}

// SQLiteDSN is the DSN of a SQLite file with the settings Souk relies on:
// WAL, a busy timeout, foreign keys, and transactions that start IMMEDIATE
// so competing writers queue instead of failing at commit, and reads through
// a memory map of up to 256 MiB (the catalog's listing read half its time
// from disk through the default 2 MB page cache, docs/performance.md).
//
// No _time_format parameter: glebarez/go-sqlite v1.21 stops reading the
// parameters after it, which silently dropped _txlock (TestSQLiteWritersQueue
// guards this). The driver's default time format is the one Souk wants.
func SQLiteDSN(path string) string {
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_pragma=mmap_size(268435456)&_txlock=immediate"
}

// MySQLConfig is the driver configuration for a parsed MySQL URL: utf8mb4,
// UTC, parsed times, strict SQL mode and bounded network waits.
func MySQLConfig(u config.DatabaseURL) *mysqldriver.Config {
	c := mysqldriver.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = u.User, u.Password, "tcp", u.Host, u.Name
	c.ParseTime = true
	c.Loc = time.UTC
	c.Collation = "utf8mb4_unicode_ci"
	c.Timeout = 5 * time.Second
	c.ReadTimeout = 30 * time.Second
	c.WriteTimeout = 30 * time.Second
	c.Params = map[string]string{
		"time_zone":                "'+00:00'",
		"sql_mode":                 "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'",
		"innodb_lock_wait_timeout": "10",
	}
	for k, v := range u.Params {
		if len(v) > 0 {
			if k == "tls" {
				c.TLSConfig = v[0]
				continue
			}
			c.Params[k] = v[0]
		}
	}
	return c
}

func ensureMySQLDatabase(ctx context.Context, u config.DatabaseURL) error {
	c := MySQLConfig(u)
	c.DBName = ""
	db, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+u.Name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	return err
}

// Ping checks the database answers within a short time.
func (db *DB) Ping(ctx context.Context) error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		return Translate(err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Stats returns the pool statistics (for /metrics).
func (db *DB) Stats() sql.DBStats {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return sql.DBStats{}
	}
	return sqlDB.Stats()
}

// IsEmpty reports whether the database holds no user and no venue yet (the
// demo is seeded into an empty database only).
func (db *DB) IsEmpty(ctx context.Context) (bool, error) {
	var n int64
	if err := db.WithContext(ctx).Raw("SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM venues)").Scan(&n).Error; err != nil {
		return false, fmt.Errorf("count rows: %w", Translate(err))
	}
	return n == 0, nil
}

type gormLogger struct {
	log  *slog.Logger
	slow time.Duration
}

func newGormLogger(log *slog.Logger) logger.Interface {
	return &gormLogger{log: log, slow: 500 * time.Millisecond}
}

func (l *gormLogger) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (l *gormLogger) Error(ctx context.Context, msg string, args ...any) {
	l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

// Trace logs slow queries only; errors are returned to the caller, who
// decides whether they matter (not found and duplicates are ordinary).
func (l *gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if d := time.Since(begin); d > l.slow {
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "duration_ms", d.Milliseconds(), "rows", rows, "sql", truncate(sql, 500))
	}
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) && l.log.Enabled(ctx, slog.LevelDebug) {
		sql, _ := fc()
		l.log.DebugContext(ctx, "query failed", "err", err, "sql", truncate(sql, 500))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// mysqlLogger sends the MySQL driver's own messages (dropped connections,
// mostly) to the structured log instead of stderr.
type mysqlLogger struct{ log *slog.Logger }

func (l mysqlLogger) Print(v ...any) { l.log.Debug("mysql driver", "msg", fmt.Sprint(v...)) }
