package booking

import (
	"context"
	"fmt"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// MaxAvailabilityDays bounds the period one availability request covers.
const MaxAvailabilityDays = 366

// DayState is what a unit's day looks like to someone about to book it.
type DayState string

// The day states.
const (
	DayFree    DayState = "free"
	DayHeld    DayState = "held"    // held for someone waiting to pay; may come free again
	DayBooked  DayState = "booked"  // confirmed
	DayBlocked DayState = "blocked" // out of service
)

// Availability is the state of every active unit of a venue on every day
// of a period.
type Availability struct {
	From  Day                `json:"from"`
	To    Day                `json:"to"`
	Units []UnitAvailability `json:"units"`
}

// UnitAvailability is one unit's days.
type UnitAvailability struct {
	ID   int64            `json:"id"`
	Code string           `json:"code"`
	Days map[Day]DayState `json:"days"`
}

// Availability returns the state of each active unit of a venue on each
// day from from to to (inclusive) as seen at instant now: a hold that has
// expired is free. It reads the venue, its units, the claims and the blocks
// of the period — four queries whatever the period. It returns errs.Invalid
// for a period that is empty, reversed or longer than MaxAvailabilityDays,
// and errs.NotFound for an unknown venue.
func (s *Store) Availability(ctx context.Context, venueSlug string, from, to Day, now time.Time) (Availability, error) {
	var f errs.Fields
	if from.IsZero() {
		f.Add("from", "is required (YYYY-MM-DD)")
	}
	if to.IsZero() {
		f.Add("to", "is required (YYYY-MM-DD)")
	}
	if len(f) == 0 {
		r := DayRange{First: from, Last: to}
		switch {
		case to.Before(from):
			f.Add("to", "must not be before from")
		case r.Days() > MaxAvailabilityDays:
			f.Add("to", "the period covers at most %d days", MaxAvailabilityDays)
		}
	}
	if err := f.Err(); err != nil {
		return Availability{}, err
	}
	now = s.now(now)
	db := s.db.WithContext(ctx)
	var v Venue
	if err := db.Where("slug = ? AND active = ?", venueSlug, true).Take(&v).Error; err != nil {
		return Availability{}, fmt.Errorf("availability of %q: %w", venueSlug, notFound(err, "venue"))
	}
	var units []Unit
	if err := db.Where("venue_id = ? AND active = ?", v.ID, true).Order("code").Find(&units).Error; err != nil {
		return Availability{}, fmt.Errorf("units of %q: %w", venueSlug, database.Translate(err))
	}
	var claims []Claim
	if err := db.Raw(`SELECT c.unit_id, c.day, c.booking_id, c.state, c.expires_at
		FROM day_claims c JOIN units u ON u.id = c.unit_id
		WHERE u.venue_id = ? AND c.day BETWEEN ? AND ?`, v.ID, from, to).Scan(&claims).Error; err != nil {
		return Availability{}, fmt.Errorf("claims of %q: %w", venueSlug, database.Translate(err))
	}
	var blocks []Block
	if err := db.Raw(`SELECT b.unit_id, b.day FROM unit_blocks b JOIN units u ON u.id = b.unit_id
		WHERE u.venue_id = ? AND b.day BETWEEN ? AND ?`, v.ID, from, to).Scan(&blocks).Error; err != nil {
		return Availability{}, fmt.Errorf("blocks of %q: %w", venueSlug, database.Translate(err))
	}
	days := DayRange{First: from, Last: to}.List()
	out := Availability{From: from, To: to, Units: make([]UnitAvailability, len(units))}
	index := make(map[int64]int, len(units))
	for i, u := range units {
		index[u.ID] = i
		m := make(map[Day]DayState, len(days))
		for _, d := range days {
			m[d] = DayFree
		}
		out.Units[i] = UnitAvailability{ID: u.ID, Code: u.Code, Days: m}
	}
	for _, c := range claims {
		i, ok := index[c.UnitID]
		if !ok || !c.Live(now) {
			continue
		}
		if c.State == ClaimConfirmed {
			out.Units[i].Days[c.Day] = DayBooked
		} else {
			out.Units[i].Days[c.Day] = DayHeld
		}
	}
	for _, b := range blocks {
		if i, ok := index[b.UnitID]; ok {
			out.Units[i].Days[b.Day] = DayBlocked
		}
	}
	return out, nil
}
