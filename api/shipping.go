package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/storefront"
)

// shippingRoutes are the shipping table: public to read (buyers see what
// a parcel costs before they order), administrators replace it.
func (s *Server) shippingRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/shipping/rates", Public, s.showShippingTable},
		{"PUT", "/api/v1/admin/shipping/rates", AdminOnly, s.replaceShippingTable},
	}
}

func (s *Server) showShippingTable(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	t, err := cat.ShippingTable(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// replaceShippingTable sets every zone's brackets and packing fee at once;
// orders placed before keep the amounts they were priced with.
func (s *Server) replaceShippingTable(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	var in storefront.ShippingTable
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	in.UpdatedAt = nil
	t, err := cat.ReplaceShippingTable(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(t)
}
