package booking

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// OccupancyReport says how much of a venue was booked in a month: confirmed
// unit-days over the unit-days the active units were in service.
type OccupancyReport struct {
	VenueID           int64           `json:"venue_id"`
	Month             Month           `json:"month"`
	AvailableUnitDays int             `json:"available_unit_days"`
	BookedUnitDays    int             `json:"booked_unit_days"`
	Rate              float64         `json:"rate"` // BookedUnitDays / AvailableUnitDays, 0 when nothing was available
	Units             []UnitOccupancy `json:"units"`
}

// UnitOccupancy is one unit's line of the occupancy report.
type UnitOccupancy struct {
	UnitID        int64   `json:"unit_id"`
	Code          string  `json:"code"`
	AvailableDays int     `json:"available_days"`
	BookedDays    int     `json:"booked_days"`
	Rate          float64 `json:"rate"`
}

func rate(num, den int) float64 {
	if den == 0 {
		return 0
	}
	return float64(num) / float64(den)
}

// Occupancy reports a venue's occupancy in a month, unit by unit in code
// order: available days are the month's days less the blocked ones, booked
// days those of confirmed bookings. It returns errs.Invalid for a month
// that is not one and errs.NotFound for an unknown venue.
func (s *Store) Occupancy(ctx context.Context, venueID int64, month Month) (OccupancyReport, error) {
	if month.Year < 1000 || month.Year > 9999 || month.Month < time.January || month.Month > time.December {
		return OccupancyReport{}, errs.InvalidField("month", "must be a month written YYYY-MM")
	}
	if _, err := s.FindVenue(ctx, venueID); err != nil {
		return OccupancyReport{}, fmt.Errorf("occupancy: %w", err)
	}
	r := month.Range()
	db := s.db.WithContext(ctx)
	var units []Unit
	if err := db.Where("venue_id = ? AND active = ?", venueID, true).Order("code").Find(&units).Error; err != nil {
		return OccupancyReport{}, fmt.Errorf("occupancy of venue %d: units: %w", venueID, database.Translate(err))
	}
	var blocked []struct {
		UnitID int64
		N      int
	}
	if err := db.Raw(`SELECT b.unit_id, COUNT(*) AS n FROM unit_blocks b JOIN units u ON u.id = b.unit_id
		WHERE u.venue_id = ? AND b.day BETWEEN ? AND ? GROUP BY b.unit_id`, venueID, r.First, r.Last).Scan(&blocked).Error; err != nil {
		return OccupancyReport{}, fmt.Errorf("occupancy of venue %d: blocks: %w", venueID, database.Translate(err))
	}
	var booked []struct {
		UnitID            int64
		FirstDay, LastDay Day
	}
	if err := db.Raw(`SELECT unit_id, first_day, last_day FROM bookings
		WHERE venue_id = ? AND status = ? AND first_day <= ? AND last_day >= ?`, venueID, StatusConfirmed, r.Last, r.First).
		Scan(&booked).Error; err != nil {
		return OccupancyReport{}, fmt.Errorf("occupancy of venue %d: bookings: %w", venueID, database.Translate(err))
	}
	blockedBy := make(map[int64]int, len(blocked))
	for _, b := range blocked {
		blockedBy[b.UnitID] = b.N
	}
	bookedBy := make(map[int64]int)
	for _, b := range booked {
		if o, ok := (DayRange{First: b.FirstDay, Last: b.LastDay}).Overlap(r); ok {
			bookedBy[b.UnitID] += o.Days()
		}
	}
	out := OccupancyReport{VenueID: venueID, Month: month, Units: make([]UnitOccupancy, 0, len(units))}
	for _, u := range units {
		avail := r.Days() - blockedBy[u.ID]
		bk := min(bookedBy[u.ID], avail)
		out.Units = append(out.Units, UnitOccupancy{UnitID: u.ID, Code: u.Code, AvailableDays: avail, BookedDays: bk, Rate: rate(bk, avail)})
		out.AvailableUnitDays += avail
		out.BookedUnitDays += bk
	}
	out.Rate = rate(out.BookedUnitDays, out.AvailableUnitDays)
	return out, nil
}

// RevenueReport sums a venue's booking payments over a period: what was
// confirmed (paid) in it, and the later monthly invoices of leases paid in
// it, less what was refunded in it. Amounts are in centimes of Currency.
type RevenueReport struct {
	VenueID  int64         `json:"venue_id"`
	From     Day           `json:"from"`
	To       Day           `json:"to"`
	Currency string        `json:"currency"`
	Bookings int           `json:"bookings"` // bookings confirmed in the period
	Invoices int           `json:"invoices"` // later lease invoices paid in the period (a lease's first month is its booking)
	Gross    int64         `json:"gross"`
	Refunds  int64         `json:"refunds"`
	Net      int64         `json:"net"`
	Units    []UnitRevenue `json:"units"`
}

// UnitRevenue is one unit's line of the revenue report.
type UnitRevenue struct {
	UnitID   int64  `json:"unit_id"`
	Code     string `json:"code"`
	Bookings int    `json:"bookings"`
	Invoices int    `json:"invoices"`
	Gross    int64  `json:"gross"`
	Refunds  int64  `json:"refunds"`
	Net      int64  `json:"net"`
}

// Revenue reports a venue's revenue from bookings confirmed, and refunds of
// cancellations made, between the starts of day from and of the day after
// to (Africa/Casablanca), unit by unit in code order (every unit, active or
// not, that has a line). It returns errs.Invalid for a reversed period and
// errs.NotFound for an unknown venue.
func (s *Store) Revenue(ctx context.Context, venueID int64, from, to Day) (RevenueReport, error) {
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return RevenueReport{}, errs.InvalidField("to", "the period needs from and to, to not before from")
	}
	if _, err := s.FindVenue(ctx, venueID); err != nil {
		return RevenueReport{}, fmt.Errorf("revenue: %w", err)
	}
	start, end := instant(from.Start()), instant(to.AddDays(1).Start())
	db := s.db.WithContext(ctx)
	var paid []struct {
		UnitID int64
		N      int
		Gross  int64
	}
	if err := db.Raw(`SELECT unit_id, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS gross FROM bookings
		WHERE venue_id = ? AND confirmed_at >= ? AND confirmed_at < ? GROUP BY unit_id`, venueID, start, end).Scan(&paid).Error; err != nil {
		return RevenueReport{}, fmt.Errorf("revenue of venue %d: payments: %w", venueID, database.Translate(err))
	}
	var refunded []struct {
		UnitID  int64
		Refunds int64
	}
	if err := db.Raw(`SELECT unit_id, COALESCE(SUM(refund_amount), 0) AS refunds FROM bookings
		WHERE venue_id = ? AND status = ? AND cancelled_at >= ? AND cancelled_at < ? AND refund_amount > 0 GROUP BY unit_id`,
		venueID, StatusCancelled, start, end).Scan(&refunded).Error; err != nil {
		return RevenueReport{}, fmt.Errorf("revenue of venue %d: refunds: %w", venueID, database.Translate(err))
	}
	var invoiced []struct {
		UnitID int64
		N      int
		Gross  int64
	}
	if err := db.Raw(`SELECT unit_id, COUNT(*) AS n, COALESCE(SUM(amount), 0) AS gross FROM lease_invoices
		WHERE venue_id = ? AND status = ? AND seq > 1 AND paid_at >= ? AND paid_at < ? GROUP BY unit_id`,
		venueID, InvoicePaid, start, end).Scan(&invoiced).Error; err != nil {
		return RevenueReport{}, fmt.Errorf("revenue of venue %d: invoices: %w", venueID, database.Translate(err))
	}
	var units []Unit
	if err := db.Where("venue_id = ?", venueID).Order("code").Find(&units).Error; err != nil {
		return RevenueReport{}, fmt.Errorf("revenue of venue %d: units: %w", venueID, database.Translate(err))
	}
	lines := make(map[int64]*UnitRevenue, len(units))
	for _, p := range paid {
		l := line(lines, p.UnitID)
		l.Bookings, l.Gross = p.N, p.Gross
	}
	for _, p := range invoiced {
		l := line(lines, p.UnitID)
		l.Invoices, l.Gross = p.N, l.Gross+p.Gross
	}
	for _, r := range refunded {
		line(lines, r.UnitID).Refunds = r.Refunds
	}
	out := RevenueReport{VenueID: venueID, From: from, To: to, Currency: Currency, Units: []UnitRevenue{}}
	for _, u := range units {
		l, ok := lines[u.ID]
		if !ok {
			continue
		}
		l.Code, l.Net = u.Code, l.Gross-l.Refunds
		out.Units = append(out.Units, *l)
		out.Bookings += l.Bookings
		out.Invoices += l.Invoices
		out.Gross += l.Gross
		out.Refunds += l.Refunds
	}
	out.Net = out.Gross - out.Refunds
	return out, nil
}

func line(lines map[int64]*UnitRevenue, unitID int64) *UnitRevenue {
	l, ok := lines[unitID]
	if !ok {
		l = &UnitRevenue{UnitID: unitID}
		lines[unitID] = l
	}
	return l
}

// TenantsReport lists a venue's tenants on a day — the confirmed bookings
// whose days cover it — grouped by trade.
type TenantsReport struct {
	VenueID int64          `json:"venue_id"`
	Day     Day            `json:"day"`
	Total   int            `json:"total"`
	Trades  []TradeTenants `json:"trades"` // most tenants first, then by trade
}

// TradeTenants is one trade's line of the tenants report.
type TradeTenants struct {
	Trade   string   `json:"trade"` // the trade the booking was made for; "" when none was given
	Count   int      `json:"count"`
	Tenants []Tenant `json:"tenants"` // by unit code
}

// Tenant is one confirmed booking covering the report's day.
type Tenant struct {
	BookingID int64  `json:"booking_id"`
	UnitID    int64  `json:"unit_id"`
	UnitCode  string `json:"unit_code"`
	ArtisanID int64  `json:"artisan_id"`
	FirstDay  Day    `json:"first_day"`
	LastDay   Day    `json:"last_day"`
	Lease     bool   `json:"lease"`
}

// Tenants reports who occupies a venue's units on day d: its confirmed
// bookings covering d, grouped by trade with counts. It returns
// errs.Invalid without a day and errs.NotFound for an unknown venue.
func (s *Store) Tenants(ctx context.Context, venueID int64, d Day) (TenantsReport, error) {
	if d.IsZero() {
		return TenantsReport{}, errs.InvalidField("day", "is required")
	}
	if _, err := s.FindVenue(ctx, venueID); err != nil {
		return TenantsReport{}, fmt.Errorf("tenants: %w", err)
	}
	var rows []struct {
		ID, UnitID, ArtisanID int64
		Code, Trade           string
		FirstDay, LastDay     Day
		LeaseMonths           int
	}
	if err := s.db.WithContext(ctx).Raw(`SELECT b.id, b.unit_id, b.artisan_id, u.code, b.trade, b.first_day, b.last_day, b.lease_months
		FROM bookings b JOIN units u ON u.id = b.unit_id
		WHERE b.venue_id = ? AND b.status = ? AND b.first_day <= ? AND b.last_day >= ?
		ORDER BY u.code, b.id`, venueID, StatusConfirmed, d, d).Scan(&rows).Error; err != nil {
		return TenantsReport{}, fmt.Errorf("tenants of venue %d: %w", venueID, database.Translate(err))
	}
	out := TenantsReport{VenueID: venueID, Day: d, Total: len(rows), Trades: []TradeTenants{}}
	at := map[string]int{}
	for _, r := range rows {
		i, ok := at[r.Trade]
		if !ok {
			i = len(out.Trades)
			at[r.Trade] = i
			out.Trades = append(out.Trades, TradeTenants{Trade: r.Trade})
		}
		t := &out.Trades[i]
		t.Count++
		t.Tenants = append(t.Tenants, Tenant{BookingID: r.ID, UnitID: r.UnitID, UnitCode: r.Code, ArtisanID: r.ArtisanID,
			FirstDay: r.FirstDay, LastDay: r.LastDay, Lease: r.LeaseMonths > 0})
	}
	slices.SortStableFunc(out.Trades, func(a, b TradeTenants) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Trade, b.Trade)
	})
	return out, nil
}
