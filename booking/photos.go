package booking

import (
	"context"
	"database/sql/driver"
	"fmt"
	"regexp"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// MaxPhotosPerVenue bounds a venue's photos.
const MaxPhotosPerVenue = 20

// PhotoVariant is one stored resized JPEG of a photo.
type PhotoVariant struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Key    string `json:"key"`
}

// PhotoVariants is a photo's variants, stored as a JSON array.
type PhotoVariants []PhotoVariant

// Value writes the variants as a JSON array.
func (v PhotoVariants) Value() (driver.Value, error) {
	if v == nil {
		return "[]", nil
	}
	return jsonValue([]PhotoVariant(v))
}

// Scan reads the variants from JSON.
func (v *PhotoVariants) Scan(src any) error { return jsonScan(src, (*[]PhotoVariant)(v)) }

// VenuePhoto is a picture of a venue: what media.ProcessPhoto produced,
// with its alt text by language.
type VenuePhoto struct {
	ID          int64         `json:"id"`
	VenueID     int64         `json:"venue_id"`
	Position    int           `json:"position"`
	Alt         Text          `json:"alt"`
	Width       int           `json:"width"`
	Height      int           `json:"height"`
	Color       string        `json:"color,omitempty"`
	BlurHash    string        `json:"blurhash,omitempty" gorm:"column:blurhash"`
	Variants    PhotoVariants `json:"variants"`
	ContentHash string        `json:"-"`
	CreatedAt   time.Time     `json:"created_at"`
}

// TableName is the venue_photos table.
func (VenuePhoto) TableName() string { return "venue_photos" }

type venuePhotoKey struct {
	MediaKey string
	PhotoID  int64
}

func (venuePhotoKey) TableName() string { return "venue_photo_keys" }

var (
	hashRe  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	colorRe = regexp.MustCompile(`^(#[0-9a-fA-F]{6})?$`)
)

func (ph *VenuePhoto) validate() error {
	var f errs.Fields
	ph.Alt.validate(&f, "alt", false, 1000)
	if ph.Width <= 0 || ph.Height <= 0 {
		f.Add("file", "the photo has no size")
	}
	if !colorRe.MatchString(ph.Color) {
		f.Add("color", "must be #rrggbb")
	}
	if len(ph.BlurHash) > 100 {
		f.Add("blurhash", "must be at most 100 bytes")
	}
	if !hashRe.MatchString(ph.ContentHash) {
		f.Add("content_hash", "must be a hex SHA-256")
	}
	if len(ph.Variants) == 0 {
		f.Add("variants", "needs at least one variant")
	}
	for _, v := range ph.Variants {
		if v.Key == "" || len(v.Key) > 300 || v.Width <= 0 || v.Height <= 0 {
			f.Add("variants", "each variant needs a key and a size")
			break
		}
	}
	return f.Err()
}

// AddVenuePhoto records a processed photo (its objects already stored) as
// the venue's last. It returns errs.NotFound when there is no venue,
// errs.Conflict when the venue already shows this picture or is full, and
// errs.Invalid for a record that is not whole.
func (s *Store) AddVenuePhoto(ctx context.Context, ph VenuePhoto) (VenuePhoto, error) {
	ph.ID = 0
	ph.Color = strings.ToLower(ph.Color)
	if ph.Alt == nil {
		ph.Alt = Text{}
	}
	if err := ph.validate(); err != nil {
		return VenuePhoto{}, err
	}
	ph.CreatedAt = s.now(time.Time{})
	var out VenuePhoto
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockVenue(tx, ph.VenueID); err != nil {
			return err
		}
		var existing []VenuePhoto
		if err := tx.Where("venue_id = ?", ph.VenueID).Find(&existing).Error; err != nil {
			return fmt.Errorf("read photos: %w", err)
		}
		if len(existing) >= MaxPhotosPerVenue {
			return errs.E(errs.Conflict, "a venue holds at most %d photos; delete one first", MaxPhotosPerVenue)
		}
		row := ph
		for _, e := range existing {
			if e.ContentHash == ph.ContentHash {
				return errs.E(errs.Conflict, "this photo is already on the venue")
			}
			row.Position = max(row.Position, e.Position+1)
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		seen := map[string]bool{}
		var keys []venuePhotoKey
		for _, v := range row.Variants {
			if !seen[v.Key] {
				seen[v.Key] = true
				keys = append(keys, venuePhotoKey{MediaKey: v.Key, PhotoID: row.ID})
			}
		}
		if err := tx.Create(&keys).Error; err != nil {
			return fmt.Errorf("record photo keys: %w", err)
		}
		out = row
		return nil
	})
	if err != nil {
		return VenuePhoto{}, fmt.Errorf("add photo to venue %d: %w", ph.VenueID, err)
	}
	return out, nil
}

// DeleteVenuePhoto removes a photo from its venue and returns it; its media
// objects are the caller's to remove when nothing else uses them. It
// returns errs.NotFound when the venue has no such photo.
func (s *Store) DeleteVenuePhoto(ctx context.Context, venueID, photoID int64) (VenuePhoto, error) {
	var gone VenuePhoto
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.lockVenue(tx, venueID); err != nil {
			return err
		}
		var ph VenuePhoto
		if err := tx.Where("id = ? AND venue_id = ?", photoID, venueID).Take(&ph).Error; err != nil {
			return notFound(err, "photo on this venue")
		}
		// The keys go first: MySQL's cascade would do it, but SQLite's only
		// with foreign keys on, which a copied database may not have.
		if err := tx.Where("photo_id = ?", ph.ID).Delete(&venuePhotoKey{}).Error; err != nil {
			return fmt.Errorf("delete photo keys: %w", err)
		}
		if err := tx.Delete(&VenuePhoto{}, ph.ID).Error; err != nil {
			return fmt.Errorf("delete photo: %w", err)
		}
		gone = ph
		return nil
	})
	if err != nil {
		return VenuePhoto{}, fmt.Errorf("delete photo %d of venue %d: %w", photoID, venueID, err)
	}
	return gone, nil
}

// VenuePhotos returns a venue's photos in order.
func (s *Store) VenuePhotos(ctx context.Context, venueID int64) ([]VenuePhoto, error) {
	var out []VenuePhoto
	if err := s.db.WithContext(ctx).Where("venue_id = ?", venueID).Order("position, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("photos of venue %d: %w", venueID, database.Translate(err))
	}
	return out, nil
}

// IsMediaKeyReferenced reports whether a venue photo uses the media key.
// Combined with the catalog's, it is the isReferenced of
// media.SweepOrphans for photos.
func (s *Store) IsMediaKeyReferenced(ctx context.Context, key string) (bool, error) {
	if key == "" || len(key) > 300 {
		return false, nil
	}
	var n int64
	if err := s.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM venue_photo_keys WHERE media_key = ?", key).Scan(&n).Error; err != nil {
		return false, fmt.Errorf("look up media key %s: %w", key, database.Translate(err))
	}
	return n > 0, nil
}
