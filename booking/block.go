package booking

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// maxBlockDays bounds one blocking request.
const maxBlockDays = 366

// Block takes a unit out of service for a day (maintenance, works): nobody
// may book it.
type Block struct {
	UnitID    int64     `json:"unit_id" gorm:"primaryKey;autoIncrement:false"`
	Day       Day       `json:"day" gorm:"primaryKey"`
	Reason    string    `json:"reason"`
	CreatedBy *int64    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName is the unit_blocks table.
func (Block) TableName() string { return "unit_blocks" }

func checkAdminRange(r DayRange) error {
	switch {
	case r.First.IsZero():
		return errs.InvalidField("first_day", "is required")
	case r.Last.IsZero():
		return errs.InvalidField("last_day", "is required")
	case r.Last.Before(r.First):
		return errs.InvalidField("last_day", "must not be before first_day")
	case r.Days() > maxBlockDays:
		return errs.InvalidField("last_day", "at most %d days at a time", maxBlockDays)
	}
	return nil
}

// BlockDays takes a unit out of service for the days of r, under the unit's
// lock so that no hold slips in between. Days already blocked stay as they
// are. It returns errs.NotFound for an unknown unit, errs.Invalid for a bad
// range or reason, and errs.Conflict when a live booking holds one of the
// days (with Extra["conflicting_days"]): cancel it first.
func (s *Store) BlockDays(ctx context.Context, unitID int64, r DayRange, reason string, adminID int64, now time.Time) error {
	if err := checkAdminRange(r); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if len(reason) > 300 {
		return errs.InvalidField("reason", "must be at most 300 bytes")
	}
	now = s.now(now)
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockUnit(tx, unitID); err != nil {
			return err
		}
		var claims []Claim
		if err := tx.Raw("SELECT unit_id, day, booking_id, state, expires_at FROM day_claims WHERE unit_id = ? AND day BETWEEN ? AND ? ORDER BY day",
			unitID, r.First, r.Last).Scan(&claims).Error; err != nil {
			return fmt.Errorf("read claims: %w", err)
		}
		var taken []Day
		for _, c := range claims {
			if c.Live(now) {
				taken = append(taken, c.Day)
			}
		}
		if len(taken) > 0 {
			return daysTaken(taken)
		}
		var have []struct{ Day Day }
		if err := tx.Raw("SELECT day FROM unit_blocks WHERE unit_id = ? AND day BETWEEN ? AND ?", unitID, r.First, r.Last).
			Scan(&have).Error; err != nil {
			return fmt.Errorf("read blocks: %w", err)
		}
		blocked := make(map[Day]bool, len(have))
		for _, h := range have {
			blocked[h.Day] = true
		}
		var rows []Block
		for _, d := range r.List() {
			if !blocked[d] {
				rows = append(rows, Block{UnitID: unitID, Day: d, Reason: reason, CreatedBy: adminIDPtr(adminID), CreatedAt: now})
			}
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("insert blocks: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("block unit %d on %s: %w", unitID, r, err)
	}
	return nil
}

func adminIDPtr(id int64) *int64 {
	if id <= 0 {
		return nil
	}
	return &id
}

// UnblockDays puts a unit back in service for the days of r and offers them
// to the waitlist. It returns how many days were unblocked.
func (s *Store) UnblockDays(ctx context.Context, unitID int64, r DayRange, now time.Time) (int, error) {
	if err := checkAdminRange(r); err != nil {
		return 0, err
	}
	now = s.now(now)
	var n int64
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockUnit(tx, unitID); err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM unit_blocks WHERE unit_id = ? AND day IN ?", unitID, r.List())
		n = res.RowsAffected
		if res.Error != nil {
			return fmt.Errorf("delete blocks: %w", res.Error)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("unblock unit %d on %s: %w", unitID, r, err)
	}
	if n > 0 {
		s.wakeWaitlist(ctx, unitID, now)
	}
	return int(n), nil
}

// ListBlocks returns the blocked days of a unit within r, in order.
func (s *Store) ListBlocks(ctx context.Context, unitID int64, r DayRange) ([]Block, error) {
	var bs []Block
	if err := s.db.WithContext(ctx).Where("unit_id = ? AND day BETWEEN ? AND ?", unitID, r.First, r.Last).
		Order("day").Find(&bs).Error; err != nil {
		return nil, fmt.Errorf("list blocks of unit %d: %w", unitID, database.Translate(err))
	}
	return bs, nil
}
