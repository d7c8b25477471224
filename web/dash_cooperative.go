package web

import "github.com/gofiber/fiber/v2"

// mountCooperativeDashboard registers the cooperative managers' pages
// under /{lang}/dashboard/cooperatives/{id}/….
func (s *site) mountCooperativeDashboard(app *fiber.App) {}
