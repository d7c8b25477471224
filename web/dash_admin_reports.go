package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/csvreply"
	"github.com/souk-tiznit/souk/storefront"
)

// chart is a horizontal bar chart drawn as SVG on the server: one bar per
// line, the label at the inline start, the value after the bar. In Arabic
// the bars grow from the right.
type chart struct {
	Title         string
	Width, Height int
	Bars          []chartBar
}

type chartBar struct {
	Label, Value                    string
	BarX, BarW, LabelX, ValueX, Y   int
	TextY                           int
	LabelAnchor, ValueAnchor, Class string
}

const (
	chartWidth  = 640
	chartLabelW = 190
	chartBarMax = 330
	chartRow    = 30
)

// newChart lays out bars for values (any unit), written by format.
func newChart(lang, title string, labels []string, values []int64, format func(int64) string) chart {
	ch := chart{Title: title, Width: chartWidth, Height: max(len(values), 1)*chartRow + 10}
	var top int64
	for _, v := range values {
		top = max(top, v)
	}
	rtl := Dir(lang) == "rtl"
	for i, v := range values {
		w := 0
		if top > 0 && v > 0 {
			w = max(int(v*int64(chartBarMax)/top), 2)
		}
		b := chartBar{Label: labels[i], Value: format(v), BarW: w, Y: 5 + i*chartRow, TextY: 5 + i*chartRow + 19, Class: "bar"}
		if rtl {
			b.LabelX, b.LabelAnchor = chartWidth-4, "end"
			b.BarX = chartWidth - chartLabelW - w
			b.ValueX, b.ValueAnchor = b.BarX-6, "end"
		} else {
			b.LabelX, b.LabelAnchor = 4, "start"
			b.BarX = chartLabelW
			b.ValueX, b.ValueAnchor = chartLabelW+w+6, "start"
		}
		ch.Bars = append(ch.Bars, b)
	}
	return ch
}

func percent(perMille int64) string { return fmt.Sprintf("%d.%d %%", perMille/10, perMille%10) }

// reportFilter is what a report page was asked for.
type reportFilter struct {
	Venue, Month, From, To string
	Venues                 []adminVenueRow
	CSV                    string // the CSV export of what is shown
	Error                  string
}

func (s *site) venueChoices(c *fiber.Ctx) ([]booking.Venue, []adminVenueRow, error) {
	vs, err := s.deps.Bookings.ListVenues(c.UserContext())
	if err != nil {
		return nil, nil, err
	}
	var rows []adminVenueRow
	for _, v := range vs {
		rows = append(rows, adminVenueRow{ID: v.ID, Name: v.Name, Slug: v.Slug})
	}
	return vs, rows, nil
}

// showOccupancyReport charts every venue's occupancy in a month, then the
// chosen venue's units. The CSV is the API's (same domain call).
func (s *site) showOccupancyReport(c *fiber.Ctx, lang string, p *account.Principal) error {
	ctx := c.UserContext()
	vs, rows, err := s.venueChoices(c)
	if err != nil {
		return err
	}
	rf := reportFilter{Venues: rows, Month: c.Query("month"), Venue: c.Query("venue")}
	month := booking.MonthOf(booking.DayOf(time.Now()))
	status := http.StatusOK
	if rf.Month != "" {
		if m, err := booking.ParseMonth(rf.Month); err == nil {
			month = m
		} else {
			rf.Error, status = T(lang, "admin.err.month"), http.StatusUnprocessableEntity
		}
	}
	rf.Month = month.String()
	if rf.Venue == "" && len(vs) > 0 {
		rf.Venue = vs[0].Slug
	}
	var labels []string
	var values []int64
	var chosen booking.Venue
	for _, v := range vs {
		rep, err := s.deps.Bookings.Occupancy(ctx, v.ID, month)
		if err != nil {
			return err
		}
		labels, values = append(labels, v.Name), append(values, int64(rep.Rate*1000+0.5))
		if v.Slug == rf.Venue {
			chosen = v
		}
	}
	charts := []chart{newChart(lang, T(lang, "admin.report.by_venue")+" — "+month.String(), labels, values, percent)}
	if chosen.ID != 0 {
		rep, err := s.deps.Bookings.Occupancy(ctx, chosen.ID, month)
		if err != nil {
			return err
		}
		labels, values = nil, nil
		for _, u := range rep.Units {
			labels, values = append(labels, u.Code), append(values, int64(u.Rate*1000+0.5))
		}
		charts = append(charts, newChart(lang, T(lang, "admin.report.by_unit")+" — "+chosen.Name, labels, values, percent))
		rf.CSV = "/api/v1/admin/reports/occupancy?" + url.Values{"venue": {chosen.Slug}, "month": {month.String()}, "format": {"csv"}}.Encode()
	}
	f := s.adminFrame(c, lang, p, "admin.report.occupancy", "/reports/occupancy")
	return render(c, status, adminReportPage(f, "occupancy", rf, charts))
}

// reportDays reads from and to (YYYY-MM-DD), the current month to today by
// default.
func reportDays(c *fiber.Ctx, lang string, rf *reportFilter) (from, to storefront.Date, ok bool) {
	now := time.Now().In(storefront.Zone)
	from, to, ok = storefront.NewDate(now.Year(), now.Month(), 1), storefront.DateOf(now), true
	if v := c.Query("from"); v != "" {
		d, err := storefront.ParseDate(v)
		if err != nil {
			ok = false
		} else {
			from = d
		}
	}
	if v := c.Query("to"); v != "" {
		d, err := storefront.ParseDate(v)
		if err != nil {
			ok = false
		} else {
			to = d
		}
	}
	if to.Before(from) {
		ok = false
	}
	if !ok {
		rf.Error = T(lang, "admin.err.period")
		from, to = storefront.NewDate(now.Year(), now.Month(), 1), storefront.DateOf(now)
	}
	rf.From, rf.To = from.String(), to.String()
	return from, to, ok
}

// showRevenueReport charts a venue's net revenue by unit over a period.
func (s *site) showRevenueReport(c *fiber.Ctx, lang string, p *account.Principal) error {
	vs, rows, err := s.venueChoices(c)
	if err != nil {
		return err
	}
	rf := reportFilter{Venues: rows, Venue: c.Query("venue")}
	sf, st, ok := reportDays(c, lang, &rf)
	status := http.StatusOK
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	if rf.Venue == "" && len(vs) > 0 {
		rf.Venue = vs[0].Slug
	}
	var charts []chart
	for _, v := range vs {
		if v.Slug != rf.Venue {
			continue
		}
		from, _ := booking.ParseDay(sf.String())
		to, _ := booking.ParseDay(st.String())
		rep, err := s.deps.Bookings.Revenue(c.UserContext(), v.ID, from, to)
		if err != nil {
			return err
		}
		var labels []string
		var values []int64
		for _, u := range rep.Units {
			labels, values = append(labels, u.Code), append(values, u.Net)
		}
		title := T(lang, "admin.report.net_by_unit") + " — " + v.Name + " (" + T(lang, "admin.total") + " " + money(lang, rep.Net) + ")"
		charts = append(charts, newChart(lang, title, labels, values, func(n int64) string { return money(lang, n) }))
		rf.CSV = "/api/v1/admin/reports/revenue?" + url.Values{"venue": {v.Slug}, "from": {rf.From}, "to": {rf.To}, "format": {"csv"}}.Encode()
	}
	f := s.adminFrame(c, lang, p, "admin.report.revenue", "/reports/revenue")
	return render(c, status, adminReportPage(f, "revenue", rf, charts))
}

// communeSales sums the sales report's cooperatives by commune.
type communeSales struct {
	Commune                         string
	Cooperatives                    int
	Gross, Commission, Refunds, Net int64
}

func (s *site) salesByCommune(c *fiber.Ctx, rows []storefront.SalesRow) ([]communeSales, error) {
	by := map[string]*communeSales{}
	for _, r := range rows {
		co, err := s.deps.Accounts.FindCooperative(c.UserContext(), r.CooperativeID)
		if err != nil {
			return nil, err
		}
		cs := by[co.Commune]
		if cs == nil {
			cs = &communeSales{Commune: co.Commune}
			by[co.Commune] = cs
		}
		cs.Cooperatives++
		cs.Gross, cs.Commission, cs.Refunds, cs.Net = cs.Gross+r.GrossSales, cs.Commission+r.Commission, cs.Refunds+r.Refunds, cs.Net+r.Net
	}
	out := make([]communeSales, 0, len(by))
	for _, cs := range by {
		out = append(out, *cs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Commune < out[j].Commune })
	return out, nil
}

// showSalesReport charts gross sales by cooperative and by commune.
func (s *site) showSalesReport(c *fiber.Ctx, lang string, p *account.Principal) error {
	rf := reportFilter{}
	from, to, ok := reportDays(c, lang, &rf)
	status := http.StatusOK
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	rows, err := s.deps.Catalog.SalesReport(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	var labels []string
	var values []int64
	for _, r := range rows {
		labels, values = append(labels, r.Name), append(values, r.GrossSales)
	}
	mad := func(n int64) string { return money(lang, n) }
	charts := []chart{newChart(lang, T(lang, "admin.report.by_cooperative"), labels, values, mad)}
	communes, err := s.salesByCommune(c, rows)
	if err != nil {
		return err
	}
	labels, values = nil, nil
	for _, cs := range communes {
		labels, values = append(labels, cs.Commune), append(values, cs.Gross)
	}
	charts = append(charts, newChart(lang, T(lang, "admin.report.by_commune"), labels, values, mad))
	period := url.Values{"from": {rf.From}, "to": {rf.To}}.Encode()
	rf.CSV = "/api/v1/admin/reports/sales?format=csv&" + period
	f := s.adminFrame(c, lang, p, "admin.report.sales", "/reports/sales")
	extra := "/" + lang + "/dashboard/admin/reports/sales.csv?" + period
	return render(c, status, adminReportPageExtra(f, "sales", rf, charts, extra))
}

// salesByCommuneCSV exports the sales report summed by commune.
func (s *site) salesByCommuneCSV(c *fiber.Ctx, lang string, p *account.Principal) error {
	rf := reportFilter{}
	from, to, ok := reportDays(c, lang, &rf)
	if !ok {
		return errs.InvalidField("from", "from and to must be dates YYYY-MM-DD, to not before from")
	}
	rows, err := s.deps.Catalog.SalesReport(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	communes, err := s.salesByCommune(c, rows)
	if err != nil {
		return err
	}
	out := [][]string{{"commune", "cooperatives", "gross_sales", "commission", "refunds", "net", "currency"}}
	for _, cs := range communes {
		out = append(out, []string{cs.Commune, strconv.Itoa(cs.Cooperatives), storefront.FormatMAD(cs.Gross), storefront.FormatMAD(cs.Commission),
			storefront.FormatMAD(cs.Refunds), storefront.FormatMAD(cs.Net), storefront.Currency})
	}
	return sendPageCSV(c, fmt.Sprintf("sales-by-commune-%s-%s.csv", from, to), out)
}

// inclusionRow is one commune's members, from its cooperatives' figures
// (account.Inclusion sums them).
type inclusionRow = account.InclusionRow

// inclusion is the inclusion report, by commune and in total.
func (s *site) inclusion(c *fiber.Ctx, p *account.Principal) ([]inclusionRow, inclusionRow, error) {
	rep, err := s.deps.Accounts.Inclusion(c.UserContext(), p)
	if err != nil {
		return nil, inclusionRow{}, err
	}
	return rep.Communes, rep.Total, nil
}

// showInclusionReport charts women and members with disabilities by
// commune, with the cooperatives reached.
func (s *site) showInclusionReport(c *fiber.Ctx, lang string, p *account.Principal) error {
	rows, total, err := s.inclusion(c, p)
	if err != nil {
		return err
	}
	var labels []string
	var women, disabled, coops []int64
	for _, r := range rows {
		labels = append(labels, r.Commune)
		women, disabled, coops = append(women, int64(r.Women)), append(disabled, int64(r.WithDisabilities)), append(coops, int64(r.Cooperatives))
	}
	count := func(n int64) string { return strconv.FormatInt(n, 10) }
	charts := []chart{
		newChart(lang, T(lang, "admin.report.women"), labels, women, count),
		newChart(lang, T(lang, "admin.report.disabled"), labels, disabled, count),
		newChart(lang, T(lang, "admin.report.coops_reached"), labels, coops, count),
	}
	rf := reportFilter{CSV: "/" + lang + "/dashboard/admin/reports/inclusion.csv"}
	f := s.adminFrame(c, lang, p, "admin.report.inclusion", "/reports/inclusion")
	return render(c, http.StatusOK, adminInclusionPage(f, rf, charts, total))
}

func (s *site) inclusionCSV(c *fiber.Ctx, lang string, p *account.Principal) error {
	rows, total, err := s.inclusion(c, p)
	if err != nil {
		return err
	}
	out := [][]string{{"commune", "cooperatives", "cooperatives_reporting", "women", "men", "with_disabilities"}}
	total.Commune = "total"
	for _, r := range append(rows, total) {
		out = append(out, []string{r.Commune, strconv.Itoa(r.Cooperatives), strconv.Itoa(r.Reporting), strconv.Itoa(r.Women),
			strconv.Itoa(r.Men), strconv.Itoa(r.WithDisabilities)})
	}
	return sendPageCSV(c, "inclusion.csv", out)
}

// sendPageCSV answers rows as a CSV attachment.
func sendPageCSV(c *fiber.Ctx, filename string, rows [][]string) error {
	return csvreply.Send(c, filename, rows)
}

// clip shortens a chart label to n characters (the full label is in the
// bar's title and the table beside the chart).
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// isBracketField reports whether a field of the shipping form is one of
// the bracket cells (their messages show in the cell).
func isBracketField(k string) bool {
	return strings.HasPrefix(k, "w_") || strings.HasPrefix(k, "a_")
}
