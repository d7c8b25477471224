package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Route is one registered route with the policy that guards it. Every route
// declares a policy; a test fails for one that does not.
type Route struct {
	Method  string
	Path    string
	Policy  Policy
	Handler fiber.Handler
}

// Policy says who may call a route. Check runs before the handler and
// returns errs.Unauthorized or errs.Forbidden to refuse; rules about a
// particular resource (is this product the caller's?) are checked again in
// the domain package that owns the resource.
type Policy struct {
	Name  string
	Check func(c *fiber.Ctx) error
}

// Public lets anyone call the route.
var Public = Policy{Name: "public", Check: func(*fiber.Ctx) error { return nil }}

// allRoutes lists every route the API serves. Each group lives in the file
// of its resource.
func (s *Server) allRoutes() []Route {
	var rs []Route
	rs = append(rs, s.operationsRoutes()...)
	rs = append(rs, s.accountRoutes()...)
	rs = append(rs, s.bookingRoutes()...)
	rs = append(rs, s.paymentRoutes()...)
	rs = append(rs, s.catalogRoutes()...)
	rs = append(rs, s.orderRoutes()...)
	rs = append(rs, s.cartRoutes()...)
	rs = append(rs, s.ledgerRoutes()...)
	rs = append(rs, s.shippingRoutes()...)
	rs = append(rs, s.inclusionRoutes()...)
	return rs
}

func (s *Server) operationsRoutes() []Route {
	return []Route{
		{"GET", "/healthz", Public, s.healthz},
		{"GET", "/readyz", Public, s.readyz},
		{"GET", "/metrics", Public, s.metrics.handler()},
		{"GET", "/api/openapi.yaml", Public, serveOpenAPI},
		{"GET", "/api/docs", Public, serveDocs},
	}
}

func (s *Server) register() {
	for _, r := range s.routes {
		check := r.Policy.Check
		if check == nil { // a route without a policy is refused outright (and fails TestEveryRouteHasAPolicy)
			check = func(*fiber.Ctx) error { return fiber.ErrForbidden }
		}
		s.app.Add(r.Method, r.Path, func(c *fiber.Ctx) error {
			if err := check(c); err != nil {
				return err
			}
			return c.Next()
		}, r.Handler)
	}
}

// OpenAPIPath turns a Fiber path (/products/:id) into its OpenAPI form
// (/products/{id}).
func OpenAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, ":") {
			name := strings.TrimSuffix(strings.TrimPrefix(s, ":"), "?")
			if j := strings.IndexByte(name, '<'); j >= 0 {
				name = name[:j]
			}
			parts[i] = "{" + name + "}"
		}
	}
	return strings.Join(parts, "/")
}
