package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"

	"github.com/souk-tiznit/souk/errs"
)

const localRequestID = "request_id"

func (s *Server) useMiddleware() {
	s.app.Use(s.recoverPanics)
	s.app.Use(s.requestContext)
	s.app.Use(s.accessLog)
	s.app.Use(s.securityHeaders)
	s.app.Use(s.authenticate)
	s.app.Use(compress.New(compress.Config{Level: compress.LevelDefault}))
}

// recoverPanics turns a panic into an internal error with the stack logged.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.ErrorContext(c.UserContext(), "panic", "panic", fmt.Sprint(r), "stack", string(debug.Stack()), "path", c.Path())
			err = errs.Wrap(errs.Internal, fmt.Errorf("panic: %v", r), "internal error")
		}
	}()
	return c.Next()
}

// requestContext gives each request an id (kept from X-Request-ID when it
// is sane) and a context bounded by the request timeout.
func (s *Server) requestContext(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !saneRequestID(id) {
		b := make([]byte, 12)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

func saneRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r == '.' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return false
		}
	}
	return true
}

func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// accessLog writes one structured line per request and feeds the metrics.
// Errors are turned into answers here (not after the log) so the status
// logged is the status sent.
func (s *Server) accessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	route := routeLabel(c)
	d := time.Since(start)
	s.metrics.observe(methodLabel(c.Method()), route, status, d)
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case route == "/healthz" || route == "/readyz" || route == "/metrics" || strings.HasPrefix(route, "/static"):
		level = slog.LevelDebug
	}
	s.log.Log(c.UserContext(), level, "request",
		"method", c.Method(), "path", c.Path(), "route", route, "status", status,
		"duration_ms", float64(d.Microseconds())/1000, "bytes", len(c.Response().Body()),
		"ip", c.IP(), "request_id", requestID(c))
	return nil
}

// methodLabel is the request's method as a label of the metrics: one of
// the constants, never c.Method() itself, whose bytes Fiber reuses for the
// next request (the registry keeps a label's string, so a kept request
// buffer turned "POST" into "POS" and made /metrics answer 500 under load).
func methodLabel(m string) string {
	for _, known := range []string{fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete,
		fiber.MethodHead, fiber.MethodOptions} {
		if m == known {
			return known
		}
	}
	return "OTHER"
}

// routeLabel is the matched route pattern (bounded cardinality for metrics).
func routeLabel(c *fiber.Ctx) string {
	r := c.Route()
	if r == nil || r.Path == "" || r.Path == "/" && c.Path() != "/" {
		return "unmatched"
	}
	if r.Method == "USE" || strings.HasSuffix(r.Path, "*") && c.Response().StatusCode() == fiber.StatusNotFound {
		return "unmatched"
	}
	return r.Path
}

// ContentSecurityPolicy allows nothing from other hosts and no inline script.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self'; script-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self' https://checkout.stripe.com; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	if !s.cfg.Development() {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	return c.Next()
}
