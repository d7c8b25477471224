package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoad(t *testing.T) {
	t.Run("OK_Defaults", func(t *testing.T) {
		c, err := Load(env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if c.DatabaseURL != "sqlite://data/souk.db" || c.Addr != ":8080" || c.MediaDir != "data/media" || c.StripeEnabled() || c.MinIO.Enabled() {
			t.Fatalf("defaults do not boot a bare machine: %+v", c)
		}
		if c.Dialect() != "sqlite" || c.LogFormat != "text" {
			t.Fatalf("dialect %q format %q", c.Dialect(), c.LogFormat)
		}
	})
	t.Run("OK_MySQLAndMinIO", func(t *testing.T) {
		c, err := Load(env(map[string]string{
			"SOUK_DATABASE_URL":      "mysql://souk:pw@db:3306/souk",
			"SOUK_MINIO_ENDPOINT":    "minio:9000",
			"SOUK_MINIO_ACCESS_KEY":  "a",
			"SOUK_MINIO_SECRET_KEY":  "b",
			"SOUK_DB_MAX_OPEN_CONNS": "40",
			"SOUK_SHUTDOWN_TIMEOUT":  "5s",
		}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Dialect() != "mysql" || !c.MinIO.Enabled() || c.DBMaxOpenConns != 40 || c.ShutdownTimeout != 5*time.Second {
			t.Fatalf("got %+v", c)
		}
	})
	t.Run("OK_DataDirMovesDerivedFolders", func(t *testing.T) {
		c, err := Load(env(map[string]string{"SOUK_DATA_DIR": "/var/lib/souk"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.MediaDir != "/var/lib/souk/media" || c.OutboxDir != "/var/lib/souk/outbox" {
			t.Fatalf("got %q %q", c.MediaDir, c.OutboxDir)
		}
	})
	t.Run("ErrOneLinePerBadValue", func(t *testing.T) {
		_, err := Load(env(map[string]string{
			"SOUK_ENV":               "staging",
			"SOUK_DATABASE_URL":      "postgres://x",
			"SOUK_DB_MAX_OPEN_CONNS": "many",
			"SOUK_MIGRATE_ON_START":  "perhaps",
			"SOUK_MINIO_ENDPOINT":    "http://minio:9000",
			"SOUK_LOG_LEVEL":         "loud",
		}))
		if err == nil {
			t.Fatal("want error")
		}
		var names []string
		for _, line := range strings.Split(err.Error(), "\n") {
			name, _, _ := strings.Cut(line, ":")
			names = append(names, name)
		}
		want := []string{"SOUK_DB_MAX_OPEN_CONNS", "SOUK_MIGRATE_ON_START", "SOUK_ENV", "SOUK_DATABASE_URL",
			"SOUK_MINIO_ENDPOINT", "SOUK_MINIO_ACCESS_KEY", "SOUK_MINIO_SECRET_KEY", "SOUK_LOG_LEVEL"}
		if diff := cmp.Diff(want, names); diff != "" {
			t.Fatalf("error lines (-want +got):\n%s\nfull:\n%v", diff, err)
		}
	})
	t.Run("ErrProductionNeedsSecret", func(t *testing.T) {
		_, err := Load(env(map[string]string{"SOUK_ENV": "production"}))
		if err == nil || !strings.Contains(err.Error(), "SOUK_SECRET_KEY") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("OK_ExchangeRates", func(t *testing.T) {
		c, err := Load(env(map[string]string{"SOUK_FX_EUR_PER_MAD": "0.0915", "SOUK_FX_USD_PER_MAD": "0.11"}))
		if err != nil || c.FXEURPerMAD != "0.0915" || c.FXUSDPerMAD != "0.11" {
			t.Fatalf("got %q %q, %v", c.FXEURPerMAD, c.FXUSDPerMAD, err)
		}
	})
	t.Run("ErrExchangeRates", func(t *testing.T) {
		for _, v := range []string{"0,092", "0", "0.000", "-0.1", "1e-2", "abc"} {
			_, err := Load(env(map[string]string{"SOUK_FX_EUR_PER_MAD": v}))
			if err == nil || !strings.HasPrefix(err.Error(), "SOUK_FX_EUR_PER_MAD:") {
				t.Errorf("%q: got %v", v, err)
			}
		}
	})
	t.Run("ErrPasswordNotEchoed", func(t *testing.T) {
		_, err := Load(env(map[string]string{"SOUK_SMTP_URL": "http://u:hunter22@mail"}))
		if err == nil || strings.Contains(err.Error(), "hunter22") {
			t.Fatalf("got %v", err)
		}
	})
}

func TestParseDatabaseURL(t *testing.T) {
	tests := []struct {
		in      string
		want    DatabaseURL
		wantErr bool
	}{
		{in: "sqlite://data/souk.db", want: DatabaseURL{Dialect: "sqlite", Path: "data/souk.db"}},
		{in: "sqlite:///abs/souk.db", want: DatabaseURL{Dialect: "sqlite", Path: "/abs/souk.db"}},
		{in: "mysql://root@127.0.0.1/souk", want: DatabaseURL{Dialect: "mysql", User: "root", Host: "127.0.0.1:3306", Name: "souk", Params: map[string][]string{}}},
		{in: "mysql://u:p%40ss@db:3307/s?tls=true", want: DatabaseURL{Dialect: "mysql", User: "u", Password: "p@ss", Host: "db:3307", Name: "s", Params: map[string][]string{"tls": {"true"}}}},
		{in: "sqlite://", wantErr: true},
		{in: "mysql://root@db:3306/", wantErr: true},
		{in: "mysql://db:3306/souk", wantErr: true},
		{in: "souk.db", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseDatabaseURL(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: err %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(tt.want, got); !tt.wantErr && diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestWithDotEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(path, []byte("# comment\nSOUK_ADDR=:9999\nexport SOUK_BASE_URL=\"http://x.test\"\nSOUK_ENV=test\n"), 0o600)
	get, err := WithDotEnv(env(map[string]string{"SOUK_ENV": "development"}), path)
	if err != nil {
		t.Fatal(err)
	}
	if get("SOUK_ADDR") != ":9999" || get("SOUK_BASE_URL") != "http://x.test" || get("SOUK_ENV") != "development" {
		t.Fatalf("got %q %q %q (the real environment must win)", get("SOUK_ADDR"), get("SOUK_BASE_URL"), get("SOUK_ENV"))
	}
	os.WriteFile(path, []byte("NOEQUALS\n"), 0o600)
	if _, err := WithDotEnv(env(nil), path); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Fatalf("want line number, got %v", err)
	}
	if _, err := WithDotEnv(env(nil), filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Fatalf("missing .env must be fine: %v", err)
	}
}
