package web

import "github.com/gofiber/fiber/v2"

// mountArtisanDashboard registers the artisans' pages under
// /{lang}/dashboard/artisan/….
func (s *site) mountArtisanDashboard(app *fiber.App) {}
