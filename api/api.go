// Package api is Souk's HTTP front: the Fiber app built by New, its
// middleware (request id, access log, metrics, recovery, security headers,
// compression, limits), the single error handler that answers
// application/problem+json, and the JSON routes under /api/v1 listed in
// routes.go with the policy each one enforces.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/mail"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// Deps are the parts a Server works with. DB and Media are required.
type Deps struct {
	DB     *database.DB
	Media  media.Store
	Logger *slog.Logger
	// Version is reported by /healthz.
	Version string
	// ErrorPage renders an error for a page (non-API) request; nil answers
	// problem+json everywhere.
	ErrorPage func(c *fiber.Ctx, status int, e *errs.Error) error
	// Accounts checks credentials and holds the account and cooperative
	// rules. Without it every request is anonymous and the account routes
	// answer 503.
	Accounts *account.Service
	// Bookings holds venues, units, fairs and the booking rules; without it
	// the booking routes answer 503.
	Bookings *booking.Store
	// Payments is the card payment provider (Stripe); nil turns card
	// payments off. PaymentStore records payments and webhook events.
	Payments     payment.Provider
	PaymentStore *payment.Store
	// Catalog holds products, photos and certificates; without it the
	// catalog routes answer 503.
	Catalog *storefront.Service
	// PhotoLimiter bounds photo processing across the process; nil means
	// media.DefaultLimiter().
	PhotoLimiter *media.Limiter
	// Mail sends the order confirmations; nil sends none.
	Mail mail.Sender
}

// Server is a configured Fiber app.
type Server struct {
	cfg     config.Config
	deps    Deps
	log     *slog.Logger
	app     *fiber.App
	metrics *metrics
	routes  []Route
}

// New builds the app: middleware, the error handler, the JSON routes,
// operations endpoints. Pages are mounted by the caller on App().
func New(cfg config.Config, deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger}
	s.metrics = newMetrics(deps.DB)
	fcfg := fiber.Config{
		AppName:               "souk",
		ErrorHandler:          s.handleError,
		BodyLimit:             cfg.BodyLimitBytes,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		StrictRouting:         false,
		CaseSensitive:         true,
		ReadBufferSize:        16 << 10,
	}
	if len(cfg.TrustedProxies) > 0 {
		fcfg.ProxyHeader = fiber.HeaderXForwardedFor
		fcfg.EnableTrustedProxyCheck = true
		fcfg.TrustedProxies = cfg.TrustedProxies
	}
	s.app = fiber.New(fcfg)
	s.useMiddleware()
	s.routes = s.allRoutes()
	s.register()
	return s
}

// App returns the Fiber app, for mounting pages and for tests.
func (s *Server) App() *fiber.App { return s.app }

// Routes returns the JSON and operations routes with their policies.
func (s *Server) Routes() []Route { return s.routes }

// Serve answers on ln until ctx ends, then stops taking connections and lets
// in-flight requests finish for up to the configured shutdown timeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	done := make(chan error, 1)
	go func() { done <- s.app.Listener(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
	if err := s.app.ShutdownWithTimeout(s.cfg.ShutdownTimeout); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// isAPI reports whether a request is for the JSON API (problem+json errors)
// rather than a page (HTML errors).
func isAPI(c *fiber.Ctx) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/api/") || p == "/healthz" || p == "/readyz" || p == "/metrics"
}
