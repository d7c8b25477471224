package api

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
)

// healthz answers while the process is up.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok", "version": s.deps.Version})
}

// readyz checks the peers a request needs — the database and the media
// store — in parallel, each within a short time, and answers 503 naming
// every one that fails.
func (s *Server) readyz(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := map[string]func(context.Context) error{
		"database": s.deps.DB.Ping,
		"media":    s.deps.Media.Ping,
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	state := map[string]string{}
	var failed []errs.FieldError
	for name, check := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				state[name] = "unavailable"
				failed = append(failed, errs.FieldError{Field: name, Message: "unreachable"})
				s.log.Warn("readiness check failed", "peer", name, "err", err)
				return
			}
			state[name] = "ok"
		}()
	}
	wg.Wait()
	sort.Slice(failed, func(i, j int) bool { return failed[i].Field < failed[j].Field })
	if len(failed) > 0 {
		names := ""
		for i, f := range failed {
			if i > 0 {
				names += ", "
			}
			names += f.Field
		}
		return (&errs.Error{Code: errs.Unavailable, Message: "not ready: " + names + " unavailable", Fields: failed}).
			WithRetryAfter(5*time.Second).WithExtra("checks", state)
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": state})
}
