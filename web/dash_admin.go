package web

import "github.com/gofiber/fiber/v2"

// mountAdminDashboard registers the administrators' pages under
// /{lang}/dashboard/admin/….
func (s *site) mountAdminDashboard(app *fiber.App) {}
