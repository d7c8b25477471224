package account

import (
	"context"
	"fmt"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// InclusionRow is one commune's reach: its verified cooperatives, how many
// of them reported member figures, and the sums of those figures.
type InclusionRow struct {
	Commune          string `json:"commune"`
	Cooperatives     int    `json:"cooperatives"`
	Reporting        int    `json:"cooperatives_reporting"`
	Women            int    `json:"women"`
	Men              int    `json:"men"`
	WithDisabilities int    `json:"with_disabilities"`
}

// InclusionReport is the inclusion report: who the platform reaches, by
// commune, with the total.
type InclusionReport struct {
	Communes []InclusionRow `json:"communes"`
	Total    InclusionRow   `json:"total"`
}

// Inclusion sums the member figures of the verified cooperatives by
// commune, for administrators (errs.Forbidden otherwise). A cooperative
// that reported no figure counts as reached, not in the member sums.
func (s *Service) Inclusion(ctx context.Context, p *Principal) (InclusionReport, error) {
	if p == nil || !p.IsAdmin() {
		return InclusionReport{}, errs.E(errs.Forbidden, "only administrators read the inclusion report")
	}
	rows := []InclusionRow{}
	err := s.db.WithContext(ctx).Raw(`SELECT commune, COUNT(*) AS cooperatives,
		SUM(CASE WHEN women_members IS NOT NULL OR men_members IS NOT NULL OR disabled_members IS NOT NULL THEN 1 ELSE 0 END) AS reporting,
		COALESCE(SUM(women_members), 0) AS women, COALESCE(SUM(men_members), 0) AS men,
		COALESCE(SUM(disabled_members), 0) AS with_disabilities
		FROM cooperatives WHERE status = ? GROUP BY commune ORDER BY commune`, StatusVerified).Scan(&rows).Error
	if err != nil {
		return InclusionReport{}, fmt.Errorf("inclusion report: %w", database.Translate(err))
	}
	out := InclusionReport{Communes: rows, Total: InclusionRow{Commune: "total"}}
	for _, r := range rows {
		out.Total.Cooperatives += r.Cooperatives
		out.Total.Reporting += r.Reporting
		out.Total.Women += r.Women
		out.Total.Men += r.Men
		out.Total.WithDisabilities += r.WithDisabilities
	}
	return out, nil
}
