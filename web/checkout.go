package web

import "github.com/gofiber/fiber/v2"

// mountCheckoutPages registers the cart, checkout and order pages.
func (s *site) mountCheckoutPages(app *fiber.App) {}

// cartCount is the number of pieces in the visitor's cart, for the header.
func (s *site) cartCount(c *fiber.Ctx) int { return 0 }

// csrfToken is the token a page form that changes state must carry in its
// csrf_token field.
func (s *site) csrfToken(c *fiber.Ctx) string { return "" }
