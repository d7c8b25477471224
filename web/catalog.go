package web

import "github.com/gofiber/fiber/v2"

// mountCatalogPages registers the buyer's catalog pages: search, product
// and cooperative.
func (s *site) mountCatalogPages(app *fiber.App) {}
