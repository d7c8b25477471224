package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
)

// inclusionRoutes are the inclusion report (DESIGN: women, members with
// disabilities, cooperatives reached), for administrators.
func (s *Server) inclusionRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/admin/reports/inclusion", AdminOnly, s.inclusionReport},
	}
}

// inclusionReport answers the report as JSON or, with ?format=csv (or
// Accept: text/csv), as CSV with a total row.
func (s *Server) inclusionReport(c *fiber.Ctx) error {
	var f errs.Fields
	csvOut := wantsCSV(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	rep, err := s.deps.Accounts.Inclusion(c.UserContext(), principal(c))
	if err != nil {
		return err
	}
	if !csvOut {
		return c.JSON(rep)
	}
	rows := [][]string{{"commune", "cooperatives", "cooperatives_reporting", "women", "men", "with_disabilities"}}
	for _, r := range append(rep.Communes, rep.Total) {
		rows = append(rows, []string{r.Commune, strconv.Itoa(r.Cooperatives), strconv.Itoa(r.Reporting), strconv.Itoa(r.Women),
			strconv.Itoa(r.Men), strconv.Itoa(r.WithDisabilities)})
	}
	return sendCSV(c, "inclusion.csv", rows)
}
