// Package config owns Souk's settings: their defaults (which boot a bare
// machine: SQLite under ./data, media in a local folder, Stripe off), loading
// them from SOUK_* environment variables and an optional .env file, and
// validating them with one clear message per bad value.
//
// No other package reads the environment.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Environments.
const (
	Development = "development"
	Production  = "production"
	Test        = "test"
)

// Config is every setting of a souk process.
type Config struct {
	Env     string // development | production | test (SOUK_ENV)
	Addr    string // listen address (SOUK_ADDR)
	BaseURL string // public URL of the site, used in links and e-mails (SOUK_BASE_URL)

	DatabaseURL     string        // sqlite://path or mysql://user:pass@host:port/db (SOUK_DATABASE_URL)
	DBMaxOpenConns  int           // SOUK_DB_MAX_OPEN_CONNS
	DBMaxIdleConns  int           // SOUK_DB_MAX_IDLE_CONNS
	DBConnLifetime  time.Duration // SOUK_DB_CONN_MAX_LIFETIME
	MigrateOnStart  bool          // SOUK_MIGRATE_ON_START
	SeedDemoIfEmpty bool          // SOUK_SEED_DEMO

	DataDir   string // SOUK_DATA_DIR: the root of local state in development
	MediaDir  string // SOUK_MEDIA_DIR: the local media folder when MinIO is not configured
	OutboxDir string // SOUK_OUTBOX_DIR: where mail is written when SMTP is not configured

	MinIO MinIO

	StripeSecretKey     string // SOUK_STRIPE_SECRET_KEY; empty turns card payments off
	StripeWebhookSecret string // SOUK_STRIPE_WEBHOOK_SECRET
	StripeAPIURL        string // SOUK_STRIPE_API_URL: override (stripe-mock in tests)

	SMTPURL  string // SOUK_SMTP_URL: smtp://user:pass@host:port; empty writes to the outbox folder
	MailFrom string // SOUK_MAIL_FROM

	SecretKey string // SOUK_SECRET_KEY: signs media URLs and CSRF tokens; generated and kept under DataDir when empty

	LogLevel  string // debug | info | warn | error (SOUK_LOG_LEVEL)
	LogFormat string // text | json (SOUK_LOG_FORMAT); json by default in production

	BodyLimitBytes  int           // SOUK_BODY_LIMIT_MB
	ShutdownTimeout time.Duration // SOUK_SHUTDOWN_TIMEOUT
	RequestTimeout  time.Duration // SOUK_REQUEST_TIMEOUT: bound on each request's work
	// CountCacheTTL keeps the catalog's totals and facet counts that long
	// in each process (SOUK_COUNT_CACHE_TTL; 0 counts on every request).
	CountCacheTTL  time.Duration
	TrustedProxies []string // SOUK_TRUSTED_PROXIES: comma-separated IPs or CIDRs whose X-Forwarded-For is believed

	// CommissionBPS is the platform's commission on each order line, in
	// basis points of the line's total (1000 = 10 %), taken when the
	// order is placed (SOUK_COMMISSION_BPS).
	CommissionBPS int

	// PprofAddr, when set, serves net/http/pprof on this loopback address
	// (e.g. 127.0.0.1:6060), apart from the site; off by default
	// (SOUK_PPROF_ADDR). docs/performance.md uses it to profile.
	PprofAddr string

	// FXEURPerMAD and FXUSDPerMAD are how many euros and dollars one dirham
	// is worth, as decimals ("0.092"): the pages show approximate prices in
	// those currencies beside the real one in MAD. Nothing is ever charged
	// at these rates (DESIGN rule 3).
	FXEURPerMAD string // SOUK_FX_EUR_PER_MAD
	FXUSDPerMAD string // SOUK_FX_USD_PER_MAD
}

// MinIO holds the S3-compatible store settings; an empty Endpoint keeps
// media in the local folder.
type MinIO struct {
	Endpoint      string // SOUK_MINIO_ENDPOINT host:port
	AccessKey     string // SOUK_MINIO_ACCESS_KEY
	SecretKey     string // SOUK_MINIO_SECRET_KEY
	Bucket        string // SOUK_MINIO_BUCKET
	Region        string // SOUK_MINIO_REGION
	UseTLS        bool   // SOUK_MINIO_USE_TLS
	PublicBaseURL string // SOUK_MINIO_PUBLIC_URL: CDN or public bucket URL for public objects
}

// Enabled reports whether media go to MinIO.
func (m MinIO) Enabled() bool { return m.Endpoint != "" }

// Default returns the settings that boot a bare machine.
func Default() Config {
	return Config{
		Env:             Development,
		Addr:            ":8080",
		BaseURL:         "http://localhost:8080",
		DatabaseURL:     "sqlite://data/souk.db",
		DBMaxOpenConns:  20,
		DBMaxIdleConns:  10,
		DBConnLifetime:  30 * time.Minute,
		MigrateOnStart:  true,
		SeedDemoIfEmpty: false,
		DataDir:         "data",
		MediaDir:        "data/media",
		OutboxDir:       "data/outbox",
		MinIO:           MinIO{Bucket: "souk", Region: "us-east-1"},
		MailFrom:        "Souk <no-reply@souk.localhost>",
		LogLevel:        "info",
		LogFormat:       "text",
		BodyLimitBytes:  20 << 20,
		ShutdownTimeout: 20 * time.Second,
		RequestTimeout:  30 * time.Second,
		CountCacheTTL:   30 * time.Second,
		CommissionBPS:   DefaultCommissionBPS,
		FXEURPerMAD:     "0.092",
		FXUSDPerMAD:     "0.108",
	}
}

// DefaultCommissionBPS is the platform's commission when none is set: 10 %.
const DefaultCommissionBPS = 1000

// MaxCommissionBPS bounds the commission: half of a line.
const MaxCommissionBPS = 5000

// Dialect returns "mysql" or "sqlite" from DatabaseURL.
func (c Config) Dialect() string {
	if strings.HasPrefix(c.DatabaseURL, "mysql://") {
		return "mysql"
	}
	return "sqlite"
}

// Development reports whether the process runs in development.
func (c Config) Development() bool { return c.Env == Development }

// StripeEnabled reports whether card payments through Stripe are on.
func (c Config) StripeEnabled() bool { return c.StripeSecretKey != "" }

// Load reads the settings from getenv over the defaults, then validates them.
// Every bad value is reported, one line each.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	l := loader{getenv: getenv}
	l.str("SOUK_ENV", &c.Env)
	l.str("SOUK_ADDR", &c.Addr)
	l.str("SOUK_BASE_URL", &c.BaseURL)
	l.str("SOUK_DATABASE_URL", &c.DatabaseURL)
	l.int("SOUK_DB_MAX_OPEN_CONNS", &c.DBMaxOpenConns)
	l.int("SOUK_DB_MAX_IDLE_CONNS", &c.DBMaxIdleConns)
	l.duration("SOUK_DB_CONN_MAX_LIFETIME", &c.DBConnLifetime)
	l.bool("SOUK_MIGRATE_ON_START", &c.MigrateOnStart)
	l.bool("SOUK_SEED_DEMO", &c.SeedDemoIfEmpty)
	dataDir := c.DataDir
	l.str("SOUK_DATA_DIR", &c.DataDir)
	if c.DataDir != dataDir { // derived folders follow the data folder unless set
		c.MediaDir = strings.TrimSuffix(c.DataDir, "/") + "/media"
		c.OutboxDir = strings.TrimSuffix(c.DataDir, "/") + "/outbox"
	}
	l.str("SOUK_MEDIA_DIR", &c.MediaDir)
	l.str("SOUK_OUTBOX_DIR", &c.OutboxDir)
	l.str("SOUK_MINIO_ENDPOINT", &c.MinIO.Endpoint)
	l.str("SOUK_MINIO_ACCESS_KEY", &c.MinIO.AccessKey)
	l.str("SOUK_MINIO_SECRET_KEY", &c.MinIO.SecretKey)
	l.str("SOUK_MINIO_BUCKET", &c.MinIO.Bucket)
	l.str("SOUK_MINIO_REGION", &c.MinIO.Region)
	l.bool("SOUK_MINIO_USE_TLS", &c.MinIO.UseTLS)
	l.str("SOUK_MINIO_PUBLIC_URL", &c.MinIO.PublicBaseURL)
	l.str("SOUK_STRIPE_SECRET_KEY", &c.StripeSecretKey)
	l.str("SOUK_STRIPE_WEBHOOK_SECRET", &c.StripeWebhookSecret)
	l.str("SOUK_STRIPE_API_URL", &c.StripeAPIURL)
	l.str("SOUK_SMTP_URL", &c.SMTPURL)
	l.str("SOUK_MAIL_FROM", &c.MailFrom)
	l.str("SOUK_SECRET_KEY", &c.SecretKey)
	l.str("SOUK_LOG_LEVEL", &c.LogLevel)
	if c.Env == Production {
		c.LogFormat = "json"
	} else {
		c.LogFormat = "text"
	}
	l.str("SOUK_LOG_FORMAT", &c.LogFormat)
	mb := c.BodyLimitBytes >> 20
	l.int("SOUK_BODY_LIMIT_MB", &mb)
	c.BodyLimitBytes = mb << 20
	l.duration("SOUK_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	l.duration("SOUK_REQUEST_TIMEOUT", &c.RequestTimeout)
	l.duration("SOUK_COUNT_CACHE_TTL", &c.CountCacheTTL)
	l.str("SOUK_FX_EUR_PER_MAD", &c.FXEURPerMAD)
	l.str("SOUK_FX_USD_PER_MAD", &c.FXUSDPerMAD)
	l.str("SOUK_PPROF_ADDR", &c.PprofAddr)
	l.int("SOUK_COMMISSION_BPS", &c.CommissionBPS)
	if v := strings.TrimSpace(getenv("SOUK_TRUSTED_PROXIES")); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if err := errors.Join(append(l.errs, c.Validate())...); err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks every value and returns one error line per bad one.
func (c Config) Validate() error {
	var problems []error
	bad := func(name, format string, args ...any) {
		problems = append(problems, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	switch c.Env {
	case Development, Production, Test:
	default:
		bad("SOUK_ENV", "must be development, production or test, not %q", c.Env)
	}
	if c.Addr == "" {
		bad("SOUK_ADDR", "must not be empty (e.g. :8080)")
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("SOUK_BASE_URL", "must be an absolute http(s) URL, not %q", c.BaseURL)
	}
	if _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
		bad("SOUK_DATABASE_URL", "%v", err)
	}
	if c.DBMaxOpenConns < 1 {
		bad("SOUK_DB_MAX_OPEN_CONNS", "must be at least 1")
	}
	if c.DBMaxIdleConns < 0 || c.DBMaxIdleConns > c.DBMaxOpenConns {
		bad("SOUK_DB_MAX_IDLE_CONNS", "must be between 0 and SOUK_DB_MAX_OPEN_CONNS (%d)", c.DBMaxOpenConns)
	}
	if c.MinIO.Enabled() {
		if strings.Contains(c.MinIO.Endpoint, "://") || strings.Contains(c.MinIO.Endpoint, "/") {
			bad("SOUK_MINIO_ENDPOINT", "must be host:port without a scheme or path, not %q", c.MinIO.Endpoint)
		}
		if c.MinIO.AccessKey == "" {
			bad("SOUK_MINIO_ACCESS_KEY", "is required when SOUK_MINIO_ENDPOINT is set")
		}
		if c.MinIO.SecretKey == "" {
			bad("SOUK_MINIO_SECRET_KEY", "is required when SOUK_MINIO_ENDPOINT is set")
		}
		if len(c.MinIO.Bucket) < 3 || len(c.MinIO.Bucket) > 63 || strings.ToLower(c.MinIO.Bucket) != c.MinIO.Bucket {
			bad("SOUK_MINIO_BUCKET", "must be 3 to 63 lower-case characters, not %q", c.MinIO.Bucket)
		}
		if c.MinIO.PublicBaseURL != "" {
			if u, err := url.Parse(c.MinIO.PublicBaseURL); err != nil || u.Host == "" {
				bad("SOUK_MINIO_PUBLIC_URL", "must be an absolute URL, not %q", c.MinIO.PublicBaseURL)
			}
		}
	}
	if c.StripeSecretKey != "" && !strings.HasPrefix(c.StripeSecretKey, "sk_") && !strings.HasPrefix(c.StripeSecretKey, "rk_") {
		bad("SOUK_STRIPE_SECRET_KEY", "must start with sk_ or rk_")
	}
	if c.StripeSecretKey != "" && c.StripeWebhookSecret == "" && c.Env == Production {
		bad("SOUK_STRIPE_WEBHOOK_SECRET", "is required in production when Stripe is on: payments are only trusted from signed webhooks")
	}
	if c.StripeAPIURL != "" {
		if u, err := url.Parse(c.StripeAPIURL); err != nil || u.Host == "" {
			bad("SOUK_STRIPE_API_URL", "must be an absolute URL, not %q", c.StripeAPIURL)
		}
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			bad("SOUK_SMTP_URL", "must look like smtp://user:pass@host:587 or smtps://…, not %q", redact(c.SMTPURL))
		}
	}
	if c.Env == Production && c.SecretKey == "" {
		bad("SOUK_SECRET_KEY", "is required in production (32 random bytes or more, e.g. `openssl rand -hex 32`)")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		bad("SOUK_SECRET_KEY", "must be at least 32 characters long")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("SOUK_LOG_LEVEL", "must be debug, info, warn or error, not %q", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("SOUK_LOG_FORMAT", "must be text or json, not %q", c.LogFormat)
	}
	if c.BodyLimitBytes < 1<<20 || c.BodyLimitBytes > 512<<20 {
		bad("SOUK_BODY_LIMIT_MB", "must be between 1 and 512")
	}
	if c.ShutdownTimeout <= 0 {
		bad("SOUK_SHUTDOWN_TIMEOUT", "must be positive (e.g. 20s)")
	}
	if c.CountCacheTTL < 0 || c.CountCacheTTL > time.Hour {
		bad("SOUK_COUNT_CACHE_TTL", "must be from 0s to 1h (e.g. 30s)")
	}
	if c.RequestTimeout <= 0 {
		bad("SOUK_REQUEST_TIMEOUT", "must be positive (e.g. 30s)")
	}
	if c.CommissionBPS < 0 || c.CommissionBPS > MaxCommissionBPS {
		bad("SOUK_COMMISSION_BPS", "must be between 0 and %d basis points (1000 = 10 %%), not %d", MaxCommissionBPS, c.CommissionBPS)
	}
	if c.PprofAddr != "" && !loopbackAddr(c.PprofAddr) {
		bad("SOUK_PPROF_ADDR", "must be a loopback host:port such as 127.0.0.1:6060 (profiles reveal the process), not %q", c.PprofAddr)
	}
	for _, fx := range []struct{ name, v string }{{"SOUK_FX_EUR_PER_MAD", c.FXEURPerMAD}, {"SOUK_FX_USD_PER_MAD", c.FXUSDPerMAD}} {
		if !fxRate.MatchString(fx.v) || strings.Trim(fx.v, "0.") == "" {
			bad(fx.name, "must be a positive decimal number with a dot, such as 0.092, not %q", fx.v)
		}
	}
	return errors.Join(problems...)
}

// fxRate is the form of an exchange rate: digits, a dot, at most nine decimals.
var fxRate = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,9})?$`)

// loopbackAddr reports whether addr is host:port on a loopback host.
func loopbackAddr(addr string) bool {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DatabaseURL is a parsed SOUK_DATABASE_URL.
type DatabaseURL struct {
	Dialect string // mysql | sqlite
	// Path is the SQLite file (or ":memory:").
	Path string
	// User, Password, Host (host:port), Name and Params are MySQL's.
	User, Password, Host, Name string
	Params                     url.Values
}

// ParseDatabaseURL reads sqlite://path/to/file.db or
// mysql://user:pass@host:3306/dbname?param=value.
func ParseDatabaseURL(raw string) (DatabaseURL, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		p := strings.TrimPrefix(raw, "sqlite://")
		if i := strings.IndexByte(p, '?'); i >= 0 {
			p = p[:i]
		}
		if p == "" {
			return DatabaseURL{}, errors.New("sqlite URL needs a file path, e.g. sqlite://data/souk.db")
		}
		return DatabaseURL{Dialect: "sqlite", Path: p}, nil
	case strings.HasPrefix(raw, "mysql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return DatabaseURL{}, fmt.Errorf("cannot parse MySQL URL %q", redact(raw))
		}
		d := DatabaseURL{Dialect: "mysql", Host: u.Host, Name: strings.TrimPrefix(u.Path, "/"), Params: u.Query()}
		if u.User != nil {
			d.User = u.User.Username()
			d.Password, _ = u.User.Password()
		}
		if d.Host == "" {
			return DatabaseURL{}, errors.New("MySQL URL needs a host, e.g. mysql://user:pass@127.0.0.1:3306/souk")
		}
		if !strings.Contains(d.Host, ":") {
			d.Host += ":3306"
		}
		if d.Name == "" || strings.Contains(d.Name, "/") {
			return DatabaseURL{}, errors.New("MySQL URL needs a database name, e.g. mysql://user:pass@127.0.0.1:3306/souk")
		}
		if d.User == "" {
			return DatabaseURL{}, errors.New("MySQL URL needs a user, e.g. mysql://souk:secret@127.0.0.1:3306/souk")
		}
		return d, nil
	default:
		return DatabaseURL{}, fmt.Errorf("must start with sqlite:// or mysql://, not %q", redact(raw))
	}
}

// redact hides the password of a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// WithDotEnv returns a getenv that reads the environment first and then the
// KEY=VALUE lines of the file at path (a missing file is not an error).
// Real environment variables win over the file.
func WithDotEnv(getenv func(string) string, path string) (func(string) string, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	vals := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected KEY=VALUE", path, n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vals[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vals[k]
	}, nil
}

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) str(name string, dst *string) {
	if v := l.getenv(name); v != "" {
		*dst = strings.TrimSpace(v)
	}
}

func (l *loader) int(name string, dst *int) {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: must be a whole number, not %q", name, v))
		return
	}
	*dst = n
}

func (l *loader) bool(name string, dst *bool) {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: must be true or false, not %q", name, v))
		return
	}
	*dst = b
}

func (l *loader) duration(name string, dst *time.Duration) {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		l.errs = append(l.errs, fmt.Errorf("%s: must be a duration such as 30s or 5m, not %q", name, v))
		return
	}
	*dst = d
}
