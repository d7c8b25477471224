package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/souk-tiznit/souk/database"
)

// ListOfficeHolds returns the bookings held for payment at the venue office
// whose hold has not run out at instant now, the soonest to expire first:
// the administrators' queue of payments to record. At most limit (1 to
// 200).
func (s *Store) ListOfficeHolds(ctx context.Context, now time.Time, limit int) ([]Booking, error) {
	limit = min(max(limit, 1), 200)
	var bs []Booking
	if err := s.db.WithContext(ctx).Where("status = ? AND payment_method = ? AND hold_expires_at > ?", StatusHeld, PaymentOffice, s.now(now)).
		Order("hold_expires_at, id").Limit(limit).Find(&bs).Error; err != nil {
		return nil, fmt.Errorf("list office holds: %w", database.Translate(err))
	}
	return bs, nil
}

// ListDecisions returns the latest decided applications (approved or
// rejected by an administrator), the newest decision first, at most limit
// (1 to 200): who decided what, and when.
func (s *Store) ListDecisions(ctx context.Context, limit int) ([]Booking, error) {
	limit = min(max(limit, 1), 200)
	var bs []Booking
	if err := s.db.WithContext(ctx).Where("decided_by IS NOT NULL").Order("decided_at DESC, id DESC").Limit(limit).Find(&bs).Error; err != nil {
		return nil, fmt.Errorf("list decisions: %w", database.Translate(err))
	}
	return bs, nil
}

// ListAllVenues returns every venue, active or not, by name, each with its
// count of units (active or not) but not the units: the administrators'
// list.
func (s *Store) ListAllVenues(ctx context.Context) ([]Venue, error) {
	var vs []Venue
	if err := s.db.WithContext(ctx).Order("name, id").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("list all venues: %w", database.Translate(err))
	}
	var counts []struct {
		VenueID int64
		N       int
	}
	if err := s.db.WithContext(ctx).Raw("SELECT venue_id, COUNT(*) AS n FROM units GROUP BY venue_id").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("count units: %w", database.Translate(err))
	}
	byVenue := make(map[int64]int, len(counts))
	for _, c := range counts {
		byVenue[c.VenueID] = c.N
	}
	for i := range vs {
		vs[i].UnitCount = byVenue[vs[i].ID]
	}
	return vs, nil
}

// ListVenueUnits returns every unit of a venue, active or not, in code
// order.
func (s *Store) ListVenueUnits(ctx context.Context, venueID int64) ([]Unit, error) {
	var us []Unit
	if err := s.db.WithContext(ctx).Where("venue_id = ?", venueID).Order("code, id").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("units of venue %d: %w", venueID, database.Translate(err))
	}
	return us, nil
}
