package booking

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// WaitlistStatus is where a waitlist entry stands.
type WaitlistStatus string

// The waitlist statuses.
const (
	WaitlistWaiting WaitlistStatus = "waiting" // waiting for the days to be freed
	WaitlistOffered WaitlistStatus = "offered" // the days were freed and held for the artisan (OfferedBookingID)
	WaitlistExpired WaitlistStatus = "expired" // the days began before anything was freed
)

// maxWaitingPerVenue bounds the entries an artisan may keep waiting at one
// venue.
const maxWaitingPerVenue = 10

// wakeBatch bounds the entries tried for one freed unit in one wake-up.
const wakeBatch = 20

// WaitlistEntry is an artisan waiting for days at a venue — on one unit,
// or on any unit that admits their trade — first come, first offered.
type WaitlistEntry struct {
	ID               int64          `json:"id"`
	VenueID          int64          `json:"venue_id"`
	UnitID           *int64         `json:"unit_id,omitempty"` // nil: any unit of the venue
	EventID          *int64         `json:"event_id,omitempty"`
	ArtisanID        int64          `json:"artisan_id"`
	FirstDay         Day            `json:"first_day"`
	LastDay          Day            `json:"last_day"`
	Trade            string         `json:"trade,omitempty"`
	PaymentMethod    PaymentMethod  `json:"payment_method"`
	Status           WaitlistStatus `json:"status"`
	OfferedBookingID *int64         `json:"offered_booking_id,omitempty"`
	OfferedAt        *time.Time     `json:"offered_at,omitempty"`
	CreatedAt        time.Time      `json:"created_at"`
	UpdatedAt        time.Time      `json:"updated_at"`
}

// TableName is the waitlist_entries table.
func (WaitlistEntry) TableName() string { return "waitlist_entries" }

// Range returns the days waited for.
func (e WaitlistEntry) Range() DayRange { return DayRange{First: e.FirstDay, Last: e.LastDay} }

// WaitlistOffer is a hold placed for a waitlist entry when its days were
// freed: the artisan has until Booking.HoldExpiresAt to pay.
type WaitlistOffer struct {
	Entry   WaitlistEntry `json:"entry"`
	Booking Booking       `json:"booking"`
}

// WaitlistInput is a request to wait for days at a venue.
type WaitlistInput struct {
	VenueSlug         string
	UnitID            int64 // 0: any unit of the venue that admits the trade
	EventID           int64 // for a fair stall; the days are the fair's
	ArtisanID         int64
	FirstDay, LastDay string // as for PlaceHold
	Trade             string
	PaymentMethod     PaymentMethod // how the artisan will pay an offer; empty means card
	Now               time.Time     // zero means the store's clock
}

// JoinWaitlist puts an artisan on the waitlist of an instant venue. When the
// days are already free the entry is offered at once (the returned entry is
// then "offered" and names the held booking). It returns errs.NotFound for
// an unknown venue, unit or event, errs.Invalid for bad fields, and
// errs.Conflict for an application venue (apply instead) or when the
// artisan already waits for too many days there.
func (s *Store) JoinWaitlist(ctx context.Context, in WaitlistInput) (WaitlistEntry, error) {
	now := s.now(in.Now)
	today := DayOf(now)
	if in.PaymentMethod == "" {
		in.PaymentMethod = PaymentCard
	}
	if in.PaymentMethod != PaymentCard && in.PaymentMethod != PaymentOffice {
		return WaitlistEntry{}, errs.InvalidField("payment_method", "must be card or office")
	}
	if in.ArtisanID <= 0 {
		return WaitlistEntry{}, errs.InvalidField("artisan_id", "is required")
	}
	if in.Trade != "" && !tradeRe.MatchString(in.Trade) {
		return WaitlistEntry{}, errs.InvalidField("trade", "is not a trade slug")
	}
	db := s.db.WithContext(ctx)
	var v Venue
	if err := db.Where("slug = ? AND active = ?", in.VenueSlug, true).Take(&v).Error; err != nil {
		return WaitlistEntry{}, fmt.Errorf("join waitlist of %q: %w", in.VenueSlug, notFound(err, "venue"))
	}
	if v.Policy != PolicyInstant {
		return WaitlistEntry{}, errs.E(errs.Conflict, "this venue takes applications: apply for the days instead")
	}
	e := WaitlistEntry{VenueID: v.ID, ArtisanID: in.ArtisanID, Trade: in.Trade, PaymentMethod: in.PaymentMethod,
		Status: WaitlistWaiting, CreatedAt: now, UpdatedAt: now}
	if in.UnitID != 0 {
		u, err := s.FindUnit(ctx, in.UnitID)
		if err != nil {
			return WaitlistEntry{}, fmt.Errorf("join waitlist: %w", err)
		}
		if u.VenueID != v.ID || !u.Active {
			return WaitlistEntry{}, errs.InvalidField("unit_id", "is not a unit of this venue")
		}
		if err := checkTrade(u.Trades, in.Trade, "unit"); err != nil {
			return WaitlistEntry{}, err
		}
		id := u.ID
		e.UnitID = &id
	}
	switch {
	case in.EventID != 0:
		ev, err := s.FindEvent(ctx, in.EventID)
		if err != nil {
			return WaitlistEntry{}, fmt.Errorf("join waitlist: %w", err)
		}
		if ev.VenueID != v.ID {
			return WaitlistEntry{}, errs.InvalidField("event_id", "is not held at this venue")
		}
		if err := checkEventDays(ev, in.FirstDay, in.LastDay); err != nil {
			return WaitlistEntry{}, err
		}
		if !today.Before(ev.FirstDay) {
			return WaitlistEntry{}, errs.E(errs.Conflict, "this fair has begun")
		}
		if err := checkTrade(ev.EligibleTrades, in.Trade, "fair"); err != nil {
			return WaitlistEntry{}, err
		}
		id := ev.ID
		e.EventID, e.FirstDay, e.LastDay = &id, ev.FirstDay, ev.LastDay
	case v.Kind == KindFair:
		return WaitlistEntry{}, errs.InvalidField("event_id", "is required: the stalls of a fair are booked for one of its events")
	default:
		r, err := ParseDayRange(in.FirstDay, in.LastDay, today, v.Stay)
		if err != nil {
			return WaitlistEntry{}, err
		}
		e.FirstDay, e.LastDay = r.First, r.Last
	}
	var waiting int64
	if err := db.Model(&WaitlistEntry{}).Where("venue_id = ? AND artisan_id = ? AND status = ?", v.ID, in.ArtisanID, WaitlistWaiting).
		Count(&waiting).Error; err != nil {
		return WaitlistEntry{}, fmt.Errorf("count waitlist entries: %w", database.Translate(err))
	}
	if waiting >= maxWaitingPerVenue {
		return WaitlistEntry{}, errs.E(errs.Conflict, "you already wait for %d bookings at this venue", waiting)
	}
	if err := db.Create(&e).Error; err != nil {
		return WaitlistEntry{}, fmt.Errorf("join waitlist of %q: %w", in.VenueSlug, database.Translate(err))
	}
	// Free already? Offer it now rather than at the next cancellation.
	var candidates []Unit
	if e.UnitID != nil {
		candidates = []Unit{{ID: *e.UnitID}}
	} else if err := db.Where("venue_id = ? AND active = ?", v.ID, true).Order("code").Find(&candidates).Error; err != nil {
		return e, fmt.Errorf("units of venue %q: %w", in.VenueSlug, database.Translate(err))
	}
	for _, u := range candidates {
		if e.UnitID == nil && !allowsTrade(u.Trades, e.Trade) {
			continue
		}
		offer, ok, err := s.tryOffer(ctx, e, u.ID, now)
		if err != nil {
			return e, fmt.Errorf("offer waitlist entry %d: %w", e.ID, err)
		}
		if ok {
			s.tell(ctx, offer)
			return offer.Entry, nil
		}
	}
	return e, nil
}

// wakeWaitlist offers the days freed on a unit to the entries waiting for
// them, first come first offered. Each offer is its own PlaceHold-like
// transaction, so any number of processes may wake the same unit at once:
// an entry is offered once, a day is held once. Failures are logged: the
// change that freed the days is already committed, and the sweeper wakes
// the unit again when the offered holds lapse.
func (s *Store) wakeWaitlist(ctx context.Context, unitID int64, now time.Time) []WaitlistOffer {
	var u Unit
	if err := s.db.WithContext(ctx).Where("id = ?", unitID).Take(&u).Error; err != nil {
		s.log.ErrorContext(ctx, "wake waitlist: read unit", "unit_id", unitID, "err", err)
		return nil
	}
	if !u.Active {
		return nil
	}
	var entries []WaitlistEntry
	if err := s.db.WithContext(ctx).
		Where("venue_id = ? AND status = ? AND (unit_id = ? OR unit_id IS NULL) AND first_day >= ?", u.VenueID, WaitlistWaiting, u.ID, DayOf(now)).
		Order("id").Limit(wakeBatch).Find(&entries).Error; err != nil {
		s.log.ErrorContext(ctx, "wake waitlist: read entries", "unit_id", unitID, "err", err)
		return nil
	}
	var offers []WaitlistOffer
	for _, e := range entries {
		if !allowsTrade(u.Trades, e.Trade) {
			continue
		}
		offer, ok, err := s.tryOffer(ctx, e, u.ID, now)
		if err != nil {
			s.log.ErrorContext(ctx, "wake waitlist: offer", "unit_id", unitID, "entry_id", e.ID, "err", err)
			continue
		}
		if ok {
			s.tell(ctx, offer)
			offers = append(offers, offer)
		}
	}
	return offers
}

func (s *Store) tell(ctx context.Context, o WaitlistOffer) {
	if s.notify == nil {
		return
	}
	if err := s.notify.WaitlistOffered(ctx, o); err != nil {
		s.log.ErrorContext(ctx, "notify waitlist offer", "entry_id", o.Entry.ID, "booking_id", o.Booking.ID, "err", err)
	}
}

// tryOffer holds the entry's days on the unit for its artisan, the way
// PlaceHold does, and marks the entry offered — all or nothing. ok is false
// when a day is not free or the entry was offered meanwhile.
func (s *Store) tryOffer(ctx context.Context, e WaitlistEntry, unitID int64, now time.Time) (WaitlistOffer, bool, error) {
	var offer WaitlistOffer
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		offer = WaitlistOffer{}
		u, err := s.lockUnit(tx, unitID)
		if err != nil {
			return err
		}
		var cur WaitlistEntry
		if err := tx.Raw("SELECT * FROM waitlist_entries WHERE id = ?"+s.forUpdate(), e.ID).Scan(&cur).Error; err != nil {
			return fmt.Errorf("read waitlist entry %d: %w", e.ID, err)
		}
		if cur.Status != WaitlistWaiting || cur.FirstDay.Before(DayOf(now)) || !u.Active {
			return errNoOffer
		}
		r := cur.Range()
		b := Booking{
			VenueID: u.VenueID, UnitID: u.ID, ArtisanID: cur.ArtisanID, FirstDay: r.First, LastDay: r.Last, Days: r.Days(),
			Currency: u.Currency, PaymentMethod: cur.PaymentMethod, Trade: cur.Trade, WaitlistEntryID: &cur.ID,
			CreatedAt: now, UpdatedAt: now,
		}
		b.Amount, b.LeaseMonths = priceBooking(r, u)
		if cur.EventID != nil {
			var ev Event
			if err := tx.Where("id = ?", *cur.EventID).Take(&ev).Error; err != nil {
				return fmt.Errorf("event %d: %w", *cur.EventID, err)
			}
			b.EventID, b.Amount, b.Currency, b.LeaseMonths = cur.EventID, ev.StallPrice, ev.Currency, 0
		}
		if err := s.clearDays(tx, u.ID, r, now); err != nil {
			if errs.Is(err, errs.Conflict) {
				return errNoOffer
			}
			return err
		}
		state, expires := ClaimConfirmed, (*time.Time)(nil)
		if b.Amount == 0 {
			b.Status, b.ConfirmedAt = StatusConfirmed, &now
		} else {
			exp := now.Add(max(HoldFor(b.PaymentMethod), WaitlistOfferHold))
			b.Status, b.HoldExpiresAt, state, expires = StatusHeld, &exp, ClaimHeld, &exp
		}
		if err := createBooking(tx, &b); err != nil {
			return err
		}
		if err := s.insertClaims(tx, u.ID, r, b.ID, state, expires); err != nil {
			if errs.Is(err, errs.Conflict) {
				return errNoOffer
			}
			return err
		}
		res := tx.Model(&WaitlistEntry{}).Where("id = ? AND status = ?", cur.ID, WaitlistWaiting).
			Updates(map[string]any{"status": WaitlistOffered, "offered_booking_id": b.ID, "offered_at": now, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("mark waitlist entry %d offered: %w", cur.ID, res.Error)
		}
		if res.RowsAffected != 1 {
			return errNoOffer
		}
		cur.Status, cur.OfferedBookingID, cur.OfferedAt, cur.UpdatedAt = WaitlistOffered, &b.ID, &now, now
		offer = WaitlistOffer{Entry: cur, Booking: b}
		return nil
	})
	switch {
	case err == nil:
		return offer, true, nil
	case errors.Is(err, errNoOffer):
		return WaitlistOffer{}, false, nil
	}
	return WaitlistOffer{}, false, err
}

// errNoOffer rolls back an offer that cannot be made; it is not a failure.
var errNoOffer = errs.E(errs.Conflict, "no offer")

// ListWaitlist returns an artisan's waitlist entries, newest first.
func (s *Store) ListWaitlist(ctx context.Context, artisanID int64) ([]WaitlistEntry, error) {
	var es []WaitlistEntry
	if err := s.db.WithContext(ctx).Where("artisan_id = ?", artisanID).Order("created_at DESC, id DESC").Limit(100).Find(&es).Error; err != nil {
		return nil, fmt.Errorf("list waitlist of artisan %d: %w", artisanID, database.Translate(err))
	}
	return es, nil
}
