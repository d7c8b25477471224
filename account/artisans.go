package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// artisanRow is a row of artisan_profiles.
type artisanRow struct {
	UserID        int64 `gorm:"primaryKey"`
	Trades        Slugs
	Commune       string
	CooperativeID *int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (artisanRow) TableName() string { return "artisan_profiles" }

// ArtisanProfile is what an artisan tells about their work: their trades
// (slugs of the activities of decree 2.21.991, which units are open to),
// their commune and their home cooperative, if any.
type ArtisanProfile struct {
	UserID        int64  `json:"user_id"`
	Trades        Slugs  `json:"trades"`
	Commune       string `json:"commune"`
	CooperativeID *int64 `json:"cooperative_id"`
}

// ArtisanPatch changes an artisan profile; nil fields stay as they are.
// CooperativeID must name a cooperative the artisan belongs to; 0 clears it.
type ArtisanPatch struct {
	Trades        *[]string
	Commune       *string
	CooperativeID *int64
}

func (a *ArtisanPatch) check(f *errs.Fields) {
	if a.Trades != nil {
		checkCrafts(f, "artisan.trades", *a.Trades, false)
	}
	if a.Commune != nil && *a.Commune != "" {
		checkName(f, "artisan.commune", *a.Commune, 100)
	}
}

// FindArtisanProfile returns the artisan profile of a user, or errs.NotFound
// when they have none.
func (s *Service) FindArtisanProfile(ctx context.Context, userID int64) (ArtisanProfile, error) {
	var row artisanRow
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Take(&row).Error; err != nil {
		return ArtisanProfile{}, fmt.Errorf("artisan profile of user %d: %w", userID, database.Translate(err))
	}
	if row.Trades == nil {
		row.Trades = Slugs{}
	}
	return ArtisanProfile{UserID: row.UserID, Trades: row.Trades, Commune: row.Commune, CooperativeID: row.CooperativeID}, nil
}

// saveArtisanProfile applies a checked patch inside tx, creating the
// profile when missing.
func (s *Service) saveArtisanProfile(tx *gorm.DB, userID int64, a ArtisanPatch, now time.Time) error {
	var rows []artisanRow
	if err := tx.Where("user_id = ?", userID).Limit(1).Find(&rows).Error; err != nil {
		return err
	}
	row := artisanRow{UserID: userID, Trades: Slugs{}, CreatedAt: now}
	if len(rows) == 1 {
		row = rows[0]
	}
	if a.Trades != nil {
		var f errs.Fields
		row.Trades = checkCrafts(&f, "artisan.trades", *a.Trades, false)
	}
	if a.Commune != nil {
		row.Commune = strings.TrimSpace(*a.Commune)
	}
	if a.CooperativeID != nil {
		if *a.CooperativeID == 0 {
			row.CooperativeID = nil
		} else {
			var n int64
			if err := tx.Model(&memberRow{}).Where("cooperative_id = ? AND user_id = ?", *a.CooperativeID, userID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return errs.InvalidField("artisan.cooperative_id", "must be a cooperative you belong to")
			}
			id := *a.CooperativeID
			row.CooperativeID = &id
		}
	}
	row.UpdatedAt = now
	if len(rows) == 0 {
		return tx.Create(&row).Error
	}
	return tx.Model(&artisanRow{}).Where("user_id = ?", userID).Updates(map[string]any{
		"trades": row.Trades, "commune": row.Commune, "cooperative_id": row.CooperativeID, "updated_at": now}).Error
}
