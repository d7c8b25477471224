// Package csvreply answers an HTTP request with a CSV attachment, for the
// API's reports and the dashboards' exports alike.
package csvreply

import (
	"encoding/csv"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// Send writes rows as a CSV attachment named filename.
func Send(c *fiber.Ctx, filename string, rows [][]string) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, filename))
	w := csv.NewWriter(c.Response().BodyWriter())
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s: %w", filename, err)
	}
	return nil
}
