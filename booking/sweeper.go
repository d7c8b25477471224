package booking

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
)

// sweepBatch bounds the holds one ExpireHolds call expires; the next call
// takes the rest.
const sweepBatch = 500

// ExpireHolds tidies after holds that ran out before instant now: each such
// booking is marked expired and its remaining claims deleted (availability
// already treated them as free: expiry is lazy), waitlist entries whose days
// have begun are closed, and the units freed are offered to the waitlist.
//
// It is safe to run in every instance at once: each booking is expired in
// its own transaction under its unit's lock, by a conditional update, so a
// booking is expired once and a concurrent payment either confirms it first
// or finds it gone. It returns how many bookings it expired.
func (s *Store) ExpireHolds(ctx context.Context, now time.Time) (int, error) {
	now = s.now(now)
	var due []struct{ ID, UnitID int64 }
	if err := s.db.WithContext(ctx).Raw("SELECT id, unit_id FROM bookings WHERE status = ? AND hold_expires_at < ? ORDER BY hold_expires_at, id LIMIT ?",
		StatusHeld, now, sweepBatch).Scan(&due).Error; err != nil {
		return 0, fmt.Errorf("find expired holds: %w", database.Translate(err))
	}
	expired := 0
	var failures []error
	var freedUnits []int64
	for _, d := range due {
		done := false
		err := s.withBooking(ctx, d.ID, func(tx *gorm.DB, _ Unit, b Booking) error {
			done = false
			if b.Status != StatusHeld || b.HoldExpiresAt == nil || !b.HoldExpiresAt.Before(now) {
				return nil // confirmed, cancelled or expired by someone else meanwhile
			}
			if _, err := s.releaseClaims(tx, b); err != nil {
				return err
			}
			if err := setStatus(tx, b, StatusExpired, map[string]any{"updated_at": now}); err != nil {
				return err
			}
			done = true
			return nil
		})
		if err != nil {
			failures = append(failures, fmt.Errorf("expire booking %d: %w", d.ID, err))
			continue
		}
		if done {
			expired++
			if !slices.Contains(freedUnits, d.UnitID) {
				freedUnits = append(freedUnits, d.UnitID)
			}
		}
	}
	if err := s.db.WithContext(ctx).Model(&WaitlistEntry{}).
		Where("status = ? AND first_day < ?", WaitlistWaiting, DayOf(now)).
		Updates(map[string]any{"status": WaitlistExpired, "updated_at": now}).Error; err != nil {
		failures = append(failures, fmt.Errorf("close stale waitlist entries: %w", database.Translate(err)))
	}
	slices.Sort(freedUnits)
	for _, id := range freedUnits {
		s.wakeWaitlist(ctx, id, now)
	}
	if err := errors.Join(failures...); err != nil {
		return expired, fmt.Errorf("expire holds: %w", err)
	}
	return expired, nil
}
