package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// maxEventDays bounds the length of a fair.
const maxEventDays = 92

// Event is a fair held at a venue (often alongside a local festival): its
// stalls are booked for the whole event at one stall price, by artisans of
// the eligible trades, until the application deadline.
type Event struct {
	ID                  int64      `json:"id"`
	VenueID             int64      `json:"venue_id"`
	Name                Text       `json:"name"`
	FirstDay            Day        `json:"first_day"`
	LastDay             Day        `json:"last_day"`
	StallPrice          int64      `json:"stall_price"` // centimes for the whole event
	Currency            string     `json:"currency"`
	ApplicationDeadline Day        `json:"application_deadline"` // the last day on which a stall may be booked
	EligibleTrades      StringList `json:"eligible_trades"`
	CreatedAt           time.Time  `json:"created_at"`
	UpdatedAt           time.Time  `json:"updated_at"`
}

// TableName is the events table.
func (Event) TableName() string { return "events" }

// Range returns the days of the event.
func (e Event) Range() DayRange { return DayRange{First: e.FirstDay, Last: e.LastDay} }

// CreateEvent adds a fair to its venue (e.VenueID). A zero deadline means
// the day before the fair; zero trades mean any trade; a zero currency means
// MAD. It returns errs.NotFound when the venue does not exist and
// errs.Invalid for bad fields.
func (s *Store) CreateEvent(ctx context.Context, e Event) (Event, error) {
	if _, err := s.FindVenue(ctx, e.VenueID); err != nil {
		return Event{}, fmt.Errorf("create event: %w", err)
	}
	e.ID = 0
	if e.Currency == "" {
		e.Currency = Currency
	}
	if len(e.EligibleTrades) == 0 {
		e.EligibleTrades = StringList{AnyTrade}
	}
	if e.ApplicationDeadline.IsZero() && !e.FirstDay.IsZero() {
		e.ApplicationDeadline = e.FirstDay.AddDays(-1)
	}
	var f errs.Fields
	e.Name.validate(&f, "name", true, 200)
	switch {
	case e.FirstDay.IsZero():
		f.Add("first_day", "is required")
	case e.LastDay.IsZero():
		f.Add("last_day", "is required")
	case e.LastDay.Before(e.FirstDay):
		f.Add("last_day", "must not be before first_day")
	case e.Range().Days() > maxEventDays:
		f.Add("last_day", "a fair lasts at most %d days", maxEventDays)
	case e.ApplicationDeadline.After(e.LastDay):
		f.Add("application_deadline", "must not be after the last day")
	}
	if e.StallPrice < 0 || e.StallPrice > maxPrice {
		f.Add("stall_price", "must be between 0 and %d centimes", maxPrice)
	}
	if e.Currency != Currency {
		f.Add("currency", "prices are set in MAD")
	}
	validTrades(&f, "eligible_trades", e.EligibleTrades, true)
	if err := f.Err(); err != nil {
		return Event{}, err
	}
	now := s.now(time.Time{})
	e.CreatedAt, e.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(&e).Error; err != nil {
		return Event{}, fmt.Errorf("create event in venue %d: %w", e.VenueID, database.Translate(err))
	}
	return e, nil
}

// FindEvent returns an event by id. It returns errs.NotFound when there is
// none.
func (s *Store) FindEvent(ctx context.Context, id int64) (Event, error) {
	var e Event
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&e).Error; err != nil {
		return Event{}, fmt.Errorf("find event %d: %w", id, notFound(err, "event"))
	}
	return e, nil
}

// ListEvents returns the events of an active venue that have not ended by
// today, soonest first. It returns errs.NotFound when there is no such venue.
func (s *Store) ListEvents(ctx context.Context, venueSlug string, today Day) ([]Event, error) {
	var v Venue
	if err := s.db.WithContext(ctx).Where("slug = ? AND active = ?", venueSlug, true).Take(&v).Error; err != nil {
		return nil, fmt.Errorf("events of venue %q: %w", venueSlug, notFound(err, "venue"))
	}
	var es []Event
	if err := s.db.WithContext(ctx).Where("venue_id = ? AND last_day >= ?", v.ID, today).
		Order("first_day, id").Find(&es).Error; err != nil {
		return nil, fmt.Errorf("events of venue %q: %w", venueSlug, database.Translate(err))
	}
	return es, nil
}
