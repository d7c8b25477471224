package booking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Status is where a booking stands.
type Status string

// The statuses. Held and confirmed bookings own claims; pending applications
// do not; the others are history.
const (
	StatusHeld            Status = "held"             // days claimed until HoldExpiresAt, waiting for payment
	StatusPendingApproval Status = "pending_approval" // an application waiting for an administrator; no days claimed
	StatusConfirmed       Status = "confirmed"        // paid (or free of charge); days claimed for good
	StatusCancelled       Status = "cancelled"        // cancelled by the artisan
	StatusExpired         Status = "expired"          // the hold ran out before payment
	StatusRejected        Status = "rejected"         // an application an administrator turned down
)

// PaymentMethod is how an artisan pays for a booking.
type PaymentMethod string

// The payment methods.
const (
	PaymentCard   PaymentMethod = "card"   // online, through the payment provider
	PaymentOffice PaymentMethod = "office" // cash or transfer at the venue office, recorded by an administrator
)

// How long days stay held, waiting for payment.
const (
	CardHold          = 15 * time.Minute   // paying online takes minutes
	OfficeHold        = 48 * time.Hour     // time to reach the venue office
	ApprovedHold      = 7 * 24 * time.Hour // an approved application, to pay either way
	WaitlistOfferHold = 24 * time.Hour     // at least this long for an offer sent by e-mail
)

// HoldFor returns how long days are held for a payment method.
func HoldFor(m PaymentMethod) time.Duration {
	if m == PaymentOffice {
		return OfficeHold
	}
	return CardHold
}

// Booking is an artisan's booking of a unit for a run of days, or of a
// stall for a whole fair. It is kept forever: the history of who had which
// unit when, and of who decided on an application.
type Booking struct {
	ID              int64         `json:"id"`
	VenueID         int64         `json:"venue_id"`
	UnitID          int64         `json:"unit_id"`
	ArtisanID       int64         `json:"artisan_id"`
	EventID         *int64        `json:"event_id,omitempty"`
	WaitlistEntryID *int64        `json:"waitlist_entry_id,omitempty"` // the waitlist entry this booking was offered to
	FirstDay        Day           `json:"first_day"`
	LastDay         Day           `json:"last_day"`
	Days            int           `json:"days"`
	Status          Status        `json:"status"`
	HoldExpiresAt   *time.Time    `json:"hold_expires_at,omitempty"`
	Amount          int64         `json:"amount"` // centimes, computed by the server
	Currency        string        `json:"currency"`
	PaymentMethod   PaymentMethod `json:"payment_method"`
	PaymentRef      string        `json:"payment_ref,omitempty"`
	IdempotencyKey  *string       `json:"-"`
	Trade           string        `json:"trade,omitempty"`
	LeaseMonths     int           `json:"lease_months,omitempty"` // for a lease (lease.go): its months; Amount is the first
	RefundAmount    int64         `json:"refund_amount"`
	DecidedBy       *int64        `json:"decided_by,omitempty"`
	DecidedAt       *time.Time    `json:"decided_at,omitempty"`
	DecisionReason  string        `json:"decision_reason,omitempty"`
	ConfirmedAt     *time.Time    `json:"confirmed_at,omitempty"`
	CancelledAt     *time.Time    `json:"cancelled_at,omitempty"`
	CreatedAt       time.Time     `json:"created_at"`
	UpdatedAt       time.Time     `json:"updated_at"`
}

// TableName is the bookings table.
func (Booking) TableName() string { return "bookings" }

// Range returns the booked days.
func (b Booking) Range() DayRange { return DayRange{First: b.FirstDay, Last: b.LastDay} }

// PlaceHoldInput is a request to book a unit.
type PlaceHoldInput struct {
	UnitID    int64
	ArtisanID int64 // the user booking, from the session
	// FirstDay and LastDay are the inclusive days (YYYY-MM-DD, Africa/
	// Casablanca) as the client sent them. For a fair stall they may be
	// empty: the whole event is booked.
	FirstDay, LastDay string
	EventID           int64         // the fair a stall is booked for; 0 otherwise
	Trade             string        // the artisan's trade slug, checked against the unit's and the event's trades
	PaymentMethod     PaymentMethod // card (held 15 minutes) or office (48 hours); empty means card
	IdempotencyKey    string        // optional; the same key from the same artisan returns the same booking
	Now               time.Time     // the instant of the request; zero means the store's clock
}

func (in *PlaceHoldInput) validate() error {
	var f errs.Fields
	if in.UnitID <= 0 {
		f.Add("unit_id", "is required")
	}
	if in.ArtisanID <= 0 {
		f.Add("artisan_id", "is required")
	}
	if in.PaymentMethod == "" {
		in.PaymentMethod = PaymentCard
	}
	if in.PaymentMethod != PaymentCard && in.PaymentMethod != PaymentOffice {
		f.Add("payment_method", "must be card or office")
	}
	if len(in.IdempotencyKey) > 100 {
		f.Add("idempotency_key", "must be at most 100 bytes")
	}
	if in.Trade != "" && !tradeRe.MatchString(in.Trade) {
		f.Add("trade", "is not a trade slug")
	}
	if in.EventID < 0 {
		f.Add("event_id", "must be an event id")
	}
	return f.Err()
}

// PlaceHold books a unit for an artisan, following rule 1 (claims.go).
//
// At an instant venue the days are claimed at once, in one short
// transaction, and the booking is held until the hold expires (CardHold or
// OfficeHold) — or confirmed straight away when it costs nothing. At an
// application venue the booking waits as pending_approval and claims
// nothing until ApproveApplication. The amount is computed here: PriceDays
// for a unit, the stall price for a fair.
//
// The same IdempotencyKey from the same artisan returns the booking the
// first request made (in its current state) and claims nothing more.
//
// It returns errs.Invalid for bad input (days: see ParseDayRange; a trade
// the unit or fair does not admit), errs.NotFound for an unknown unit or
// event, and errs.Conflict when the unit is closed, the fair's deadline has
// passed, the key was used for another request, or a day is taken — then
// with the taken days in Extra["conflicting_days"].
func (s *Store) PlaceHold(ctx context.Context, in PlaceHoldInput) (Booking, error) {
	if err := in.validate(); err != nil {
		return Booking{}, err
	}
	now := s.now(in.Now)
	var out Booking
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		out = Booking{}
		u, err := s.lockUnit(tx, in.UnitID)
		if err != nil {
			return err
		}
		if in.IdempotencyKey != "" {
			prev, found, err := s.findByKey(tx, in.ArtisanID, in.IdempotencyKey)
			if err != nil {
				return err
			}
			if found {
				out = prev
				return sameRequest(prev, in)
			}
		}
		b, policy, err := s.newBooking(tx, u, in, now)
		if err != nil {
			return err
		}
		if policy == PolicyApplication {
			b.Status = StatusPendingApproval
			if err := createBooking(tx, &b); err != nil {
				return err
			}
			out = b
			return nil
		}
		if err := s.clearDays(tx, u.ID, b.Range(), now); err != nil {
			return err
		}
		state, expires := ClaimHeld, (*time.Time)(nil)
		if b.Amount == 0 {
			b.Status, b.ConfirmedAt = StatusConfirmed, &now
			state = ClaimConfirmed
		} else {
			e := now.Add(HoldFor(b.PaymentMethod))
			b.Status, b.HoldExpiresAt, expires = StatusHeld, &e, &e
		}
		if err := createBooking(tx, &b); err != nil {
			return err
		}
		if err := s.insertClaims(tx, u.ID, b.Range(), b.ID, state, expires); err != nil {
			return err
		}
		out = b
		return nil
	})
	if errors.Is(err, errKeyRace) {
		// The same key raced in on another unit and committed first.
		prev, found, ferr := s.findByKey(s.db.WithContext(ctx), in.ArtisanID, in.IdempotencyKey)
		if ferr != nil || !found {
			return Booking{}, fmt.Errorf("place hold on unit %d: %w", in.UnitID, errors.Join(err, ferr))
		}
		if err := sameRequest(prev, in); err != nil {
			return Booking{}, fmt.Errorf("place hold on unit %d: %w", in.UnitID, err)
		}
		return prev, nil
	}
	if err != nil {
		return Booking{}, fmt.Errorf("place hold on unit %d: %w", in.UnitID, err)
	}
	return out, nil
}

// errKeyRace reports that the idempotency key was inserted by a concurrent
// request between our lookup and our insert.
var errKeyRace = errors.New("idempotency key taken concurrently")

// newBooking checks a request against its unit, venue and event and builds
// the booking it asks for, with its days and amount.
func (s *Store) newBooking(tx *gorm.DB, u Unit, in PlaceHoldInput, now time.Time) (Booking, Policy, error) {
	var v Venue
	if err := tx.Where("id = ?", u.VenueID).Take(&v).Error; err != nil {
		return Booking{}, "", fmt.Errorf("venue of unit %d: %w", u.ID, err)
	}
	if !u.Active || !v.Active {
		return Booking{}, "", errs.E(errs.Conflict, "unit %s is not open for booking", u.Code)
	}
	if err := checkTrade(u.Trades, in.Trade, "unit"); err != nil {
		return Booking{}, "", err
	}
	today := DayOf(now)
	b := Booking{
		VenueID: v.ID, UnitID: u.ID, ArtisanID: in.ArtisanID, Currency: u.Currency,
		PaymentMethod: in.PaymentMethod, Trade: in.Trade, CreatedAt: now, UpdatedAt: now,
	}
	if in.IdempotencyKey != "" {
		key := in.IdempotencyKey
		b.IdempotencyKey = &key
	}
	var r DayRange
	switch {
	case in.EventID != 0:
		var ev Event
		if err := tx.Where("id = ?", in.EventID).Take(&ev).Error; err != nil {
			return Booking{}, "", fmt.Errorf("event %d: %w", in.EventID, notFound(err, "event"))
		}
		if ev.VenueID != v.ID {
			return Booking{}, "", errs.InvalidField("event_id", "is not held at the venue of unit %s", u.Code)
		}
		if err := checkEventDays(ev, in.FirstDay, in.LastDay); err != nil {
			return Booking{}, "", err
		}
		if today.After(ev.ApplicationDeadline) || today.After(ev.FirstDay) {
			return Booking{}, "", errs.E(errs.Conflict, "bookings for this fair closed on %s", ev.ApplicationDeadline)
		}
		if err := checkTrade(ev.EligibleTrades, in.Trade, "fair"); err != nil {
			return Booking{}, "", err
		}
		r = ev.Range()
		id := ev.ID
		b.EventID, b.Amount, b.Currency = &id, ev.StallPrice, ev.Currency
	case v.Kind == KindFair:
		return Booking{}, "", errs.InvalidField("event_id", "is required: the stalls of a fair are booked for one of its events")
	default:
		var err error
		if r, err = ParseDayRange(in.FirstDay, in.LastDay, today, v.Stay); err != nil {
			return Booking{}, "", err
		}
		b.Amount, b.LeaseMonths = priceBooking(r, u)
	}
	b.FirstDay, b.LastDay, b.Days = r.First, r.Last, r.Days()
	return b, v.Policy, nil
}

// checkEventDays accepts empty days or exactly the event's days.
func checkEventDays(ev Event, first, last string) error {
	if first == "" && last == "" {
		return nil
	}
	if first != ev.FirstDay.String() || last != ev.LastDay.String() {
		return errs.InvalidField("first_day", "a fair stall is booked for the whole fair, %s to %s", ev.FirstDay, ev.LastDay)
	}
	return nil
}

func createBooking(tx *gorm.DB, b *Booking) error {
	if err := tx.Create(b).Error; err != nil {
		if database.IsDuplicate(err) {
			return errKeyRace
		}
		return fmt.Errorf("insert booking: %w", err)
	}
	return nil
}

func (s *Store) findByKey(tx *gorm.DB, artisanID int64, key string) (Booking, bool, error) {
	var b Booking
	res := tx.Where("artisan_id = ? AND idempotency_key = ?", artisanID, key).Limit(1).Find(&b)
	if res.Error != nil {
		return Booking{}, false, fmt.Errorf("find booking by idempotency key: %w", res.Error)
	}
	return b, res.RowsAffected > 0, nil
}

// sameRequest refuses an idempotency key reused for a different booking.
func sameRequest(prev Booking, in PlaceHoldInput) error {
	same := prev.UnitID == in.UnitID
	if in.EventID != 0 {
		same = same && prev.EventID != nil && *prev.EventID == in.EventID
	} else {
		same = same && prev.EventID == nil && prev.FirstDay.String() == in.FirstDay && prev.LastDay.String() == in.LastDay
	}
	if !same {
		return errs.E(errs.Conflict, "this idempotency key was already used for another booking")
	}
	return nil
}

// withBooking runs fn in a transaction (retried on deadlocks) that holds
// the lock of the booking's unit, with the booking read under that lock.
// Every change to a booking that owns or may own claims goes through here,
// so it queues behind PlaceHold on the same unit.
func (s *Store) withBooking(ctx context.Context, id int64, fn func(tx *gorm.DB, u Unit, b Booking) error) error {
	var ref struct{ UnitID int64 }
	res := s.db.WithContext(ctx).Raw("SELECT unit_id FROM bookings WHERE id = ?", id).Scan(&ref)
	if res.Error != nil {
		return fmt.Errorf("find booking %d: %w", id, database.Translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return errs.E(errs.NotFound, "no such booking")
	}
	return s.db.Transact(ctx, func(tx *gorm.DB) error {
		u, err := s.lockUnit(tx, ref.UnitID) // a booking never changes unit
		if err != nil {
			return err
		}
		b, err := s.lockBooking(tx, id)
		if err != nil {
			return err
		}
		return fn(tx, u, b)
	})
}

// setStatus moves a booking from one status to another with the given
// column changes; it fails unless exactly that booking was in that status.
func setStatus(tx *gorm.DB, b Booking, to Status, changes map[string]any) error {
	changes["status"] = to
	res := tx.Model(&Booking{}).Where("id = ? AND status = ?", b.ID, b.Status).Updates(changes)
	if res.Error != nil {
		return fmt.Errorf("set booking %d %s: %w", b.ID, to, res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("set booking %d %s: it was no longer %s", b.ID, to, b.Status)
	}
	return nil
}

// ConfirmBooking records the payment of a held booking (paymentRef: the
// provider's payment id or the office receipt number) and moves every one
// of its claims from held to confirmed, in a transaction of its own. See
// ConfirmBookingTx for the rules and the errors.
func (s *Store) ConfirmBooking(ctx context.Context, bookingID int64, paymentRef string) (Booking, error) {
	var out Booking
	lost := false
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var err error
		out, err = s.ConfirmBookingTx(ctx, tx, bookingID, paymentRef)
		lost = errors.Is(err, ErrHoldLost)
		if lost {
			return nil // commit the expiry and the days given back
		}
		return err
	})
	if err == nil && lost {
		err = fmt.Errorf("confirm booking %d: %w", bookingID, ErrHoldLost)
	}
	if err != nil {
		return Booking{}, err
	}
	return out, nil
}

// ConfirmBookingTx confirms a held booking inside the caller's transaction
// tx — the one in which the payment package records the provider event
// (ApplyOnce) or the office receipt — so that the payment and the booking
// commit together. Run tx through database.(*DB).Transact: a deadlock is
// retried whole.
//
// Confirming touches every day or none. A payment that arrives after the
// hold expired still confirms if nobody has taken any of the days. If the
// booking no longer owns all its days, ConfirmBookingTx marks it expired,
// gives back the days it still had and returns ErrHoldLost (errs.Conflict):
// commit tx all the same, and refund the payment. A cancelled, expired or
// rejected booking also returns ErrHoldLost, changing nothing. Confirming a
// confirmed booking again with the same reference returns it unchanged
// (webhooks are retried); with another reference it returns errs.Conflict
// (a second payment, to refund). A pending application returns
// errs.Conflict; an unknown booking errs.NotFound.
func (s *Store) ConfirmBookingTx(ctx context.Context, tx *gorm.DB, bookingID int64, paymentRef string) (Booking, error) {
	paymentRef = strings.TrimSpace(paymentRef)
	if paymentRef == "" || len(paymentRef) > 200 {
		return Booking{}, errs.InvalidField("payment_ref", "is required (at most 200 bytes)")
	}
	now := s.now(time.Time{})
	tx = tx.WithContext(ctx)
	if !s.mysql() {
		// Write before reading: on SQLite a transaction that reads first
		// cannot take the write lock once another writer has committed
		// (see lockUnit). On MySQL the unit is locked before the booking.
		if err := tx.Exec("UPDATE bookings SET updated_at = updated_at WHERE id = ?", bookingID).Error; err != nil {
			return Booking{}, fmt.Errorf("confirm booking %d: %w", bookingID, err)
		}
	}
	var ref struct{ UnitID int64 }
	res := tx.Raw("SELECT unit_id FROM bookings WHERE id = ?", bookingID).Scan(&ref)
	if res.Error != nil {
		return Booking{}, fmt.Errorf("confirm booking %d: %w", bookingID, res.Error)
	}
	if res.RowsAffected == 0 {
		return Booking{}, errs.E(errs.NotFound, "no such booking")
	}
	if _, err := s.lockUnit(tx, ref.UnitID); err != nil {
		return Booking{}, fmt.Errorf("confirm booking %d: %w", bookingID, err)
	}
	b, err := s.lockBooking(tx, bookingID)
	if err != nil {
		return Booking{}, fmt.Errorf("confirm booking %d: %w", bookingID, err)
	}
	switch b.Status {
	case StatusHeld:
	case StatusConfirmed:
		if b.PaymentRef == paymentRef {
			return b, nil
		}
		return Booking{}, errs.E(errs.Conflict, "this booking was already paid (another payment)")
	case StatusPendingApproval:
		return Booking{}, errs.E(errs.Conflict, "this application has not been approved yet")
	default:
		return Booking{}, fmt.Errorf("confirm booking %d (%s): %w", bookingID, b.Status, ErrHoldLost)
	}
	// Write first, then count: the update reads the current rows by their
	// keys, whatever snapshot the caller's transaction holds.
	up := tx.Exec("UPDATE day_claims SET state = ?, expires_at = NULL WHERE unit_id = ? AND day IN ? AND booking_id = ? AND state = ?",
		ClaimConfirmed, b.UnitID, b.Range().List(), b.ID, ClaimHeld)
	if up.Error != nil {
		return Booking{}, fmt.Errorf("confirm claims of booking %d: %w", bookingID, up.Error)
	}
	if up.RowsAffected != int64(b.Days) {
		// Someone took a day after the hold expired: give back what is left
		// (the days just confirmed included) and let the payment be refunded.
		del := tx.Exec("DELETE FROM day_claims WHERE unit_id = ? AND day IN ? AND booking_id = ?", b.UnitID, b.Range().List(), b.ID)
		if del.Error != nil {
			return Booking{}, fmt.Errorf("release claims of booking %d: %w", bookingID, del.Error)
		}
		if err := setStatus(tx, b, StatusExpired, map[string]any{"updated_at": now}); err != nil {
			return Booking{}, err
		}
		return Booking{}, fmt.Errorf("confirm booking %d: %d of %d days still held: %w", bookingID, up.RowsAffected, b.Days, ErrHoldLost)
	}
	if err := setStatus(tx, b, StatusConfirmed, map[string]any{
		"hold_expires_at": nil, "payment_ref": paymentRef, "confirmed_at": now, "updated_at": now,
	}); err != nil {
		return Booking{}, err
	}
	if b.LeaseMonths > 0 {
		if err := openLease(tx, b, now, paymentRef); err != nil {
			return Booking{}, err
		}
	}
	b.Status, b.HoldExpiresAt, b.PaymentRef, b.ConfirmedAt, b.UpdatedAt = StatusConfirmed, nil, paymentRef, &now, now
	return b, nil
}

// CancelBooking cancels an artisan's own booking at instant now and returns
// the refund, in centimes, that the venue's cancellation policy gives: for a
// confirmed booking CancellationPolicy.Refund of its amount, for one not
// paid yet nothing. The days are freed at once and offered to the waitlist.
//
// It returns errs.NotFound when the booking does not exist or is not the
// artisan's, and errs.Conflict when it is already over, cancelled, expired
// or rejected.
func (s *Store) CancelBooking(ctx context.Context, bookingID, byArtisanID int64, now time.Time) (int64, error) {
	now = s.now(now)
	today := DayOf(now)
	var refund int64
	var freed []Day
	var unitID int64
	err := s.withBooking(ctx, bookingID, func(tx *gorm.DB, u Unit, b Booking) error {
		refund, freed, unitID = 0, nil, u.ID
		if b.ArtisanID != byArtisanID {
			return errs.E(errs.NotFound, "no such booking")
		}
		switch b.Status {
		case StatusHeld, StatusConfirmed, StatusPendingApproval:
		default:
			return errs.E(errs.Conflict, "this booking is %s and cannot be cancelled", strings.ReplaceAll(string(b.Status), "_", " "))
		}
		if today.After(b.LastDay) {
			return errs.E(errs.Conflict, "this booking ended on %s", b.LastDay)
		}
		if b.Status == StatusConfirmed {
			var v Venue
			if err := tx.Where("id = ?", b.VenueID).Take(&v).Error; err != nil {
				return fmt.Errorf("venue %d: %w", b.VenueID, err)
			}
			refund = b.RefundOnCancel(v.Cancellation, today)
		}
		days, err := s.releaseClaims(tx, b)
		if err != nil {
			return err
		}
		if err := cancelLeaseInvoices(tx, b, today, now); err != nil {
			return err
		}
		for _, d := range days {
			if !d.Before(today) {
				freed = append(freed, d)
			}
		}
		return setStatus(tx, b, StatusCancelled, map[string]any{
			"refund_amount": refund, "cancelled_at": now, "hold_expires_at": nil, "updated_at": now,
		})
	})
	if err != nil {
		return 0, fmt.Errorf("cancel booking %d: %w", bookingID, err)
	}
	if len(freed) > 0 {
		s.wakeWaitlist(ctx, unitID, now)
	}
	return refund, nil
}

// RefundOnCancel returns what cancelling b on day today gives back under
// the venue's policy p: for a confirmed (paid) booking p.Refund of its
// amount, for one not paid yet nothing. CancelBooking refunds exactly this,
// so a page may show it before the artisan confirms.
func (b Booking) RefundOnCancel(p CancellationPolicy, today Day) int64 {
	if b.Status != StatusConfirmed {
		return 0
	}
	return p.Refund(b.Amount, b.FirstDay, today)
}

// ApproveApplication accepts a pending application at instant now: its
// days are claimed the way PlaceHold claims them and held for ApprovedHold
// for payment (confirmed at once when the booking costs nothing). The
// decision and the administrator are recorded.
//
// It returns errs.NotFound for an unknown booking and errs.Conflict when it
// is not pending, its first day has passed, or a day was taken meanwhile
// (with Extra["conflicting_days"]); the application then stays pending.
func (s *Store) ApproveApplication(ctx context.Context, bookingID, adminID int64, now time.Time) (Booking, error) {
	now = s.now(now)
	var out Booking
	err := s.withBooking(ctx, bookingID, func(tx *gorm.DB, u Unit, b Booking) error {
		out = Booking{}
		if b.Status != StatusPendingApproval {
			return errs.E(errs.Conflict, "only a pending application can be approved; this one is %s", b.Status)
		}
		if DayOf(now).After(b.FirstDay) {
			return errs.E(errs.Conflict, "the first day of this application (%s) has passed", b.FirstDay)
		}
		if err := s.clearDays(tx, u.ID, b.Range(), now); err != nil {
			return err
		}
		changes := map[string]any{"decided_by": adminID, "decided_at": now, "updated_at": now}
		to, state, expires := StatusHeld, ClaimHeld, (*time.Time)(nil)
		if b.Amount == 0 {
			to, state = StatusConfirmed, ClaimConfirmed
			changes["confirmed_at"] = now
			b.ConfirmedAt = &now
		} else {
			e := now.Add(ApprovedHold)
			expires, b.HoldExpiresAt = &e, &e
			changes["hold_expires_at"] = e
		}
		if err := s.insertClaims(tx, u.ID, b.Range(), b.ID, state, expires); err != nil {
			return err
		}
		if err := setStatus(tx, b, to, changes); err != nil {
			return err
		}
		b.Status, b.DecidedBy, b.DecidedAt, b.UpdatedAt = to, &adminID, &now, now
		out = b
		return nil
	})
	if err != nil {
		return Booking{}, fmt.Errorf("approve application %d: %w", bookingID, err)
	}
	return out, nil
}

// RejectApplication turns down a pending application at instant now,
// recording the administrator and the reason (allocation of public units
// must be traceable). It returns errs.Invalid without a reason,
// errs.NotFound for an unknown booking and errs.Conflict when it is not
// pending.
func (s *Store) RejectApplication(ctx context.Context, bookingID, adminID int64, reason string, now time.Time) (Booking, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 1000 {
		return Booking{}, errs.InvalidField("reason", "is required (at most 1000 bytes)")
	}
	now = s.now(now)
	var out Booking
	err := s.withBooking(ctx, bookingID, func(tx *gorm.DB, _ Unit, b Booking) error {
		out = Booking{}
		if b.Status != StatusPendingApproval {
			return errs.E(errs.Conflict, "only a pending application can be rejected; this one is %s", b.Status)
		}
		if err := setStatus(tx, b, StatusRejected, map[string]any{
			"decided_by": adminID, "decided_at": now, "decision_reason": reason, "updated_at": now,
		}); err != nil {
			return err
		}
		b.Status, b.DecidedBy, b.DecidedAt, b.DecisionReason, b.UpdatedAt = StatusRejected, &adminID, &now, reason, now
		out = b
		return nil
	})
	if err != nil {
		return Booking{}, fmt.Errorf("reject application %d: %w", bookingID, err)
	}
	return out, nil
}

// FindBooking returns a booking by id. It returns errs.NotFound when there
// is none; callers showing it to an artisan check ArtisanID themselves.
func (s *Store) FindBooking(ctx context.Context, id int64) (Booking, error) {
	var b Booking
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&b).Error; err != nil {
		return Booking{}, fmt.Errorf("find booking %d: %w", id, notFound(err, "booking"))
	}
	return b, nil
}

// ListArtisanBookings returns one page of an artisan's bookings, newest
// first, with the total count. page starts at 1; perPage is capped at 100.
func (s *Store) ListArtisanBookings(ctx context.Context, artisanID int64, page, perPage int) ([]Booking, int64, error) {
	page, perPage = max(page, 1), min(max(perPage, 1), 100)
	q := s.db.WithContext(ctx).Model(&Booking{}).Where("artisan_id = ?", artisanID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count bookings of artisan %d: %w", artisanID, database.Translate(err))
	}
	var bs []Booking
	if err := q.Order("created_at DESC, id DESC").Offset((page - 1) * perPage).Limit(perPage).Find(&bs).Error; err != nil {
		return nil, 0, fmt.Errorf("list bookings of artisan %d: %w", artisanID, database.Translate(err))
	}
	return bs, total, nil
}

// ListApplications returns a venue's pending applications, oldest first,
// for an administrator to review.
func (s *Store) ListApplications(ctx context.Context, venueID int64) ([]Booking, error) {
	var bs []Booking
	if err := s.db.WithContext(ctx).Where("venue_id = ? AND status = ?", venueID, StatusPendingApproval).
		Order("created_at, id").Find(&bs).Error; err != nil {
		return nil, fmt.Errorf("list applications of venue %d: %w", venueID, database.Translate(err))
	}
	return bs, nil
}
