package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/souk-tiznit/souk/config"
)

// loadConfig reads .env (if present) and the environment, and validates.
func loadConfig(getenv func(string) string) (config.Config, error) {
	path := getenv("SOUK_ENV_FILE")
	if path == "" {
		path = ".env"
	}
	get, err := config.WithDotEnv(getenv, path)
	if err != nil {
		return config.Config{}, err
	}
	cfg, err := config.Load(get)
	if err != nil {
		return cfg, fmt.Errorf("invalid settings:\n%w", err)
	}
	return cfg, nil
}

// newLogger builds the process logger: JSON in production, text otherwise.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

var errUsage = errors.New("bad usage")
