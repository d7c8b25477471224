package booking

// How bookings stay single (rule 1, DESIGN.md).
//
// A live booking — held and not expired, or confirmed — owns one row of
// day_claims per unit and day, under the primary key (unit_id, day). Every
// transaction that writes claims, or the status of a booking that owns
// claims, first locks the unit's row (SELECT … FOR UPDATE on MySQL; on
// SQLite a first write takes the database's single write lock, see
// lockUnit). Under that lock it reads the claims and blocks of the range, deletes the expired holds in exactly that
// range, and inserts all its claim rows in one statement, in day order. The
// lock serialises competitors for one unit without deadlocks; the primary
// key is the net that still holds if some code path forgets the lock: a
// duplicate key means taken, the same 409 as a visible claim.
//
// Claims are deleted and updated by their exact keys (unit_id and a list of
// days), never by a range or a secondary index, so that on InnoDB they take
// record locks only: no gap lock that a transaction on a neighbouring unit
// could run into. Expiry is lazy: a held claim whose expires_at has passed
// is free to everyone at once; the sweeper (ExpireHolds) only tidies.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// ClaimState is the state of a day claim.
type ClaimState string

// The claim states.
const (
	ClaimHeld      ClaimState = "held"      // taken until ExpiresAt, waiting for payment
	ClaimConfirmed ClaimState = "confirmed" // paid (or free of charge); taken for good
)

// Claim is one unit-day owned by one live booking.
type Claim struct {
	UnitID    int64      `json:"unit_id" gorm:"primaryKey;autoIncrement:false"`
	Day       Day        `json:"day" gorm:"primaryKey"`
	BookingID int64      `json:"booking_id"`
	State     ClaimState `json:"state"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // for held claims
}

// TableName is the day_claims table.
func (Claim) TableName() string { return "day_claims" }

// Live reports whether the claim takes its day at instant now: it is
// confirmed, or held and not yet expired (expires_at < now is free).
func (c Claim) Live(now time.Time) bool {
	return c.State != ClaimHeld || c.ExpiresAt == nil || !c.ExpiresAt.Before(now)
}

// ErrHoldLost is returned (wrapped) by ConfirmBooking and ConfirmBookingTx
// when the booking no longer owns every one of its days — its hold expired and someone else took
// a day, or it was cancelled, expired or rejected — so the payment that
// arrived for it must be refunded. Its code is errs.Conflict. Test with
// errors.Is; never modify it.
var ErrHoldLost = &errs.Error{Code: errs.Conflict, Message: "the hold on these days was lost; the payment will be refunded"}

// daysTaken is the 409 answer to a request for days that are not free, with
// the days at fault.
func daysTaken(days []Day) *errs.Error {
	out := make([]string, len(days))
	for i, d := range days {
		out[i] = d.String()
	}
	return errs.E(errs.Conflict, "the unit is not free on every day asked for").WithExtra("conflicting_days", out)
}

// lockUnit reads a unit and locks it until the transaction ends. Every
// writer of claims takes this lock first, as the first statement of its
// transaction, so they queue per unit.
//
// On MySQL it locks the unit's row (SELECT … FOR UPDATE). On SQLite it takes
// the database's write lock with a write that changes nothing: SQLite has no
// row locks, and a transaction that read before writing fails with
// SQLITE_BUSY_SNAPSHOT, without waiting, when another writer committed in
// between. Writing first makes it wait its turn (busy_timeout) instead, as
// BEGIN IMMEDIATE would; it does not rely on the DSN's _txlock, which the
// driver ignores when _time_format is also set.
func (s *Store) lockUnit(tx *gorm.DB, unitID int64) (Unit, error) {
	if !s.mysql() {
		if err := tx.Exec("UPDATE units SET active = active WHERE id = ?", unitID).Error; err != nil {
			return Unit{}, fmt.Errorf("lock unit %d: %w", unitID, err)
		}
	}
	var u Unit
	res := tx.Raw("SELECT * FROM units WHERE id = ?"+s.forUpdate(), unitID).Scan(&u)
	if res.Error != nil {
		return Unit{}, fmt.Errorf("lock unit %d: %w", unitID, res.Error)
	}
	if res.RowsAffected == 0 {
		return Unit{}, errs.E(errs.NotFound, "no such unit")
	}
	return u, nil
}

// lockBooking reads a booking under its unit's lock; on MySQL it also locks
// the booking's row (a current read, whatever the transaction's snapshot).
func (s *Store) lockBooking(tx *gorm.DB, id int64) (Booking, error) {
	var b Booking
	res := tx.Raw("SELECT * FROM bookings WHERE id = ?"+s.forUpdate(), id).Scan(&b)
	if res.Error != nil {
		return Booking{}, fmt.Errorf("read booking %d: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return Booking{}, errs.E(errs.NotFound, "no such booking")
	}
	return b, nil
}

// clearDays makes sure every day of r is free on the unit at instant now,
// deleting the expired holds found in exactly that range. It returns a 409
// listing the days held, confirmed or blocked. The unit must be locked.
func (s *Store) clearDays(tx *gorm.DB, unitID int64, r DayRange, now time.Time) error {
	var claims []Claim
	if err := tx.Raw("SELECT unit_id, day, booking_id, state, expires_at FROM day_claims WHERE unit_id = ? AND day BETWEEN ? AND ? ORDER BY day",
		unitID, r.First, r.Last).Scan(&claims).Error; err != nil {
		return fmt.Errorf("read claims of unit %d: %w", unitID, err)
	}
	var blocks []Block
	if err := tx.Raw("SELECT unit_id, day FROM unit_blocks WHERE unit_id = ? AND day BETWEEN ? AND ? ORDER BY day",
		unitID, r.First, r.Last).Scan(&blocks).Error; err != nil {
		return fmt.Errorf("read blocks of unit %d: %w", unitID, err)
	}
	var taken, expired []Day
	for _, c := range claims {
		if c.Live(now) {
			taken = append(taken, c.Day)
		} else {
			expired = append(expired, c.Day)
		}
	}
	for _, b := range blocks {
		if !slices.Contains(taken, b.Day) {
			taken = append(taken, b.Day)
		}
	}
	if len(taken) > 0 {
		slices.SortFunc(taken, Day.Compare)
		return daysTaken(taken)
	}
	if len(expired) > 0 {
		if err := tx.Exec("DELETE FROM day_claims WHERE unit_id = ? AND day IN ? AND state = ? AND expires_at < ?",
			unitID, expired, ClaimHeld, now).Error; err != nil {
			return fmt.Errorf("delete expired claims of unit %d: %w", unitID, err)
		}
	}
	return nil
}

// insertClaims claims every day of r on the unit for a booking, in one
// statement, in day order. A duplicate key means another booking has one of
// the days: the same 409 as clearDays gives.
func (s *Store) insertClaims(tx *gorm.DB, unitID int64, r DayRange, bookingID int64, state ClaimState, expires *time.Time) error {
	days := r.List()
	var q strings.Builder
	q.Grow(80 + 18*len(days))
	q.WriteString("INSERT INTO day_claims (unit_id, day, booking_id, state, expires_at) VALUES ")
	args := make([]any, 0, 5*len(days))
	for i, d := range days {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?)")
		var exp any
		if expires != nil {
			exp = *expires
		}
		args = append(args, unitID, d, bookingID, string(state), exp)
	}
	res := tx.Exec(q.String(), args...)
	if res.Error != nil {
		if database.IsDuplicate(res.Error) {
			return s.takenAfterDuplicate(tx, unitID, r)
		}
		return fmt.Errorf("insert claims of unit %d for booking %d: %w", unitID, bookingID, res.Error)
	}
	if res.RowsAffected != int64(len(days)) {
		return fmt.Errorf("insert claims of unit %d for booking %d: %d rows written, want %d", unitID, bookingID, res.RowsAffected, len(days))
	}
	return nil
}

// takenAfterDuplicate names the days another transaction claimed behind the
// lock's back. On MySQL it must read the current rows, not the
// transaction's snapshot.
func (s *Store) takenAfterDuplicate(tx *gorm.DB, unitID int64, r DayRange) error {
	q := "SELECT day FROM day_claims WHERE unit_id = ? AND day BETWEEN ? AND ? ORDER BY day"
	if s.mysql() {
		q += " LOCK IN SHARE MODE"
	}
	var rows []struct{ Day Day }
	if err := tx.Raw(q, unitID, r.First, r.Last).Scan(&rows).Error; err != nil || len(rows) == 0 {
		return daysTaken(r.List())
	}
	days := make([]Day, len(rows))
	for i, row := range rows {
		days[i] = row.Day
	}
	return daysTaken(days)
}

// releaseClaims deletes the claims a booking still owns, by their keys. It
// returns the days released.
func (s *Store) releaseClaims(tx *gorm.DB, b Booking) ([]Day, error) {
	var rows []struct{ Day Day }
	if err := tx.Raw("SELECT day FROM day_claims WHERE booking_id = ? ORDER BY day", b.ID).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read claims of booking %d: %w", b.ID, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	days := make([]Day, len(rows))
	for i, row := range rows {
		days[i] = row.Day
	}
	if err := tx.Exec("DELETE FROM day_claims WHERE unit_id = ? AND day IN ? AND booking_id = ?", b.UnitID, days, b.ID).Error; err != nil {
		return nil, fmt.Errorf("release claims of booking %d: %w", b.ID, err)
	}
	return days, nil
}
