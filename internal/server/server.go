// Package server wires a whole Souk process from its configuration: the
// database (migrated when asked), the media store, the mail sender, the API
// and the pages. `souk serve` and the test harness both build through New,
// so tests run the same wiring as production.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/mail"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
	"github.com/souk-tiznit/souk/web"
)

// Server is a wired process, ready to serve.
type Server struct {
	Config   config.Config
	DB       *database.DB
	Media    media.Store
	Mail     mail.Sender
	Accounts *account.Service
	Bookings *booking.Store
	Payments *payment.Store
	// Catalog is the marketplace: products, photos, certificates.
	Catalog *storefront.Service
	// Card is the card payment provider; nil when Stripe is off.
	Card   *payment.Stripe
	API    *api.Server
	Log    *slog.Logger
	Secret []byte
}

// Options are what the caller adds to the configuration.
type Options struct {
	Version string
	// PasswordParams overrides the argon2id cost (tests use a light one).
	PasswordParams account.PasswordParams
}

// New opens every part and builds the app. The database is migrated when
// cfg.MigrateOnStart is set.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opts Options) (*Server, error) {
	db, err := OpenDB(ctx, cfg, log, cfg.MigrateOnStart)
	if err != nil {
		return nil, err
	}
	s := &Server{Config: cfg, DB: db, Log: log}
	if s.Secret, err = SecretKey(cfg); err != nil {
		db.Close()
		return nil, err
	}
	if s.Media, err = OpenMedia(ctx, cfg, s.Secret, log); err != nil {
		db.Close()
		return nil, err
	}
	if s.Mail, err = OpenMail(cfg); err != nil {
		db.Close()
		return nil, err
	}
	s.Accounts = account.New(db, account.Options{Mail: s.Mail, BaseURL: cfg.BaseURL, Logger: log, Password: opts.PasswordParams})
	s.Bookings = booking.NewStore(db, mailNotifier{mail: s.Mail, accounts: s.Accounts, baseURL: cfg.BaseURL, log: log}, log)
	s.Payments = payment.NewStore(db)
	s.Catalog = storefront.New(db, storefront.Options{CommissionBPS: &cfg.CommissionBPS, CountCacheTTL: cfg.CountCacheTTL})
	deps := api.Deps{DB: db, Media: s.Media, Logger: log, Version: opts.Version, ErrorPage: web.ErrorPage,
		Accounts: s.Accounts, Bookings: s.Bookings, PaymentStore: s.Payments,
		Catalog: s.Catalog, PhotoLimiter: media.DefaultLimiter(), Mail: s.Mail}
	if cfg.StripeEnabled() {
		if s.Card, err = payment.NewStripe(payment.StripeConfig{SecretKey: cfg.StripeSecretKey, APIURL: cfg.StripeAPIURL, MaxNetworkRetries: 2, Logger: log}); err != nil {
			db.Close()
			return nil, fmt.Errorf("stripe: %w", err)
		}
		deps.Payments = s.Card
	}
	s.API = api.New(cfg, deps)
	web.Mount(s.API.App(), web.Deps{DB: db, Config: cfg, Logger: log, Media: s.Media, Bookings: s.Bookings, Catalog: s.Catalog,
		Orders:   web.Orders{PlaceOrder: s.API.PlaceOrder, CancelOrder: s.API.CancelOrder, Secret: s.Secret},
		Accounts: s.Accounts, Sessions: web.Sessions{SignIn: s.API.SignIn, SignOut: s.API.SignOut},
		Cooperatives: web.CooperativeActions{AddPhotos: s.API.AddProductPhotos, DeletePhoto: s.API.DeleteProductPhoto,
			SubmitCertificate: s.API.SubmitCertificateForm, Ship: s.API.ShipFulfilment, Deliver: s.API.DeliverFulfilment},
		Admin: web.Admin{RecordOfficePayment: s.API.RecordOfficePayment, RecordPayout: s.API.RecordPayout},
		Rentals: web.Rentals{PlaceBooking: s.API.PlaceBooking, PayBookingByCard: s.API.PayBookingByCard,
			PayInvoiceByCard: s.API.PayInvoiceByCard, CancelBooking: s.API.CancelBooking, CardPayments: s.API.CardPayments}})
	return s, nil
}

// Serve answers on ln until ctx ends, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	return s.API.Serve(ctx, ln)
}

// Close releases the database.
func (s *Server) Close() error { return s.DB.Close() }

// OpenDB opens the database and, when asked, migrates it, waiting up to a
// minute for a server that is still starting (containers start together).
func OpenDB(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*database.DB, error) {
	db, err := database.Open(ctx, cfg.DatabaseURL, database.OptionsFrom(cfg, log))
	if err != nil {
		return nil, err
	}
	if !migrate {
		return db, nil
	}
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := db.Migrate(ctx, log)
		if err == nil {
			if n > 0 {
				log.Info("database migrated", "applied", n, "dialect", db.Dialect)
			}
			return db, nil
		}
		if !database.IsUnavailable(err) || time.Now().After(deadline) || ctx.Err() != nil {
			db.Close()
			return nil, fmt.Errorf("migrate: %w", err)
		}
		log.Warn("database not reachable yet; retrying", "err", err)
		select {
		case <-ctx.Done():
			db.Close()
			return nil, ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

// SecretKey returns the configured secret, or outside production one
// generated once and kept under the data folder, so sessions and signed
// URLs survive restarts.
func SecretKey(cfg config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return []byte(cfg.SecretKey), nil
	}
	path := filepath.Join(cfg.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(b)
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return []byte(key), nil
}

// OpenMedia returns the MinIO store when configured, else the local folder.
func OpenMedia(ctx context.Context, cfg config.Config, secret []byte, log *slog.Logger) (media.Store, error) {
	if cfg.MinIO.Enabled() {
		m, err := media.NewMinIO(ctx, media.MinIOOptions{
			Endpoint: cfg.MinIO.Endpoint, AccessKey: cfg.MinIO.AccessKey, SecretKey: cfg.MinIO.SecretKey,
			Bucket: cfg.MinIO.Bucket, UseTLS: cfg.MinIO.UseTLS, Region: cfg.MinIO.Region, PublicBaseURL: cfg.MinIO.PublicBaseURL,
		})
		if err != nil {
			return nil, fmt.Errorf("media store: %w", err)
		}
		if err := m.EnsureBucket(ctx); err != nil {
			// Not fatal: the store retries on use and /readyz reports it.
			log.Warn("media bucket not ready yet; will retry", "bucket", cfg.MinIO.Bucket, "err", err)
		}
		return m, nil
	}
	l, err := media.NewLocal(cfg.MediaDir, cfg.BaseURL, secret)
	if err != nil {
		return nil, fmt.Errorf("media folder: %w", err)
	}
	return l, nil
}

// OpenMail returns the SMTP sender when configured, else the outbox folder.
func OpenMail(cfg config.Config) (mail.Sender, error) {
	if cfg.SMTPURL != "" {
		return mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
	}
	return mail.NewOutbox(cfg.OutboxDir, cfg.MailFrom)
}
