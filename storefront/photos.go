package storefront

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// MaxPhotosPerProduct bounds the photos of one product.
const MaxPhotosPerProduct = 10

// Limits on photo records.
const (
	maxAltLength    = 300
	maxVariants     = 8
	maxMediaKeyLen  = 300
	maxPhotoSide    = 65_535
	maxBlurHashLen  = 100
	publicKeyPrefix = "public/" // media.PublicPrefix: photo variants are public objects
)

// PhotoVariant is one resized picture of a photo, as stored by the media
// pipeline (media.PhotoVariant without its bytes).
type PhotoVariant struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Key    string `json:"key"`
}

// PhotoVariants is a photo's variants, stored as a JSON array.
type PhotoVariants []PhotoVariant

// Value implements driver.Valuer.
func (v PhotoVariants) Value() (driver.Value, error) {
	if v == nil {
		v = PhotoVariants{}
	}
	b, err := json.Marshal([]PhotoVariant(v))
	return string(b), err
}

// Scan implements sql.Scanner. Lists read a photo per card, so the form
// Value writes is read by hand (decodeVariants); anything else goes to
// encoding/json, with its exact meaning and errors.
func (v *PhotoVariants) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case []byte:
		b = x
	case string:
		if out, ok := decodeVariants(x); ok {
			*v = out
			return nil
		}
		return scanJSON(src, (*[]PhotoVariant)(v))
	default:
		return scanJSON(src, (*[]PhotoVariant)(v))
	}
	if out, ok := decodeVariants(b); ok {
		*v = out
		return nil
	}
	return scanJSON(src, (*[]PhotoVariant)(v))
}

// decodeVariants reads a JSON array of variant objects as encoding/json
// would into a new slice, for the plain form the database holds: objects
// of the fields width, height and key (exact case, any order, each at most
// once), whole numbers of at most nine digits, keys of printable ASCII
// without escapes, white space anywhere. It reports false for anything
// else (null, escapes, other fields, malformed JSON…), which the caller
// hands to encoding/json.
func decodeVariants[T string | []byte](b T) (PhotoVariants, bool) {
	i := 0
	skip := func() {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
	}
	// str reads a string of printable ASCII without escapes.
	str := func() (T, bool) {
		if i >= len(b) || b[i] != '"' {
			return b[:0], false
		}
		i++
		start := i
		for i < len(b) && b[i] != '"' {
			if c := b[i]; c < 0x20 || c >= 0x7f || c == '\\' {
				return b[:0], false
			}
			i++
		}
		if i >= len(b) {
			return b[:0], false
		}
		i++
		return b[start : i-1], true
	}
	num := func() (int, bool) {
		neg := false
		if i < len(b) && b[i] == '-' {
			neg = true
			i++
		}
		start, n := i, 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			n = n*10 + int(b[i]-'0')
			i++
		}
		digits := i - start
		// JSON has no leading zeros; a fraction or an exponent goes to
		// encoding/json (which refuses it for an int).
		if digits == 0 || digits > 9 || digits > 1 && b[start] == '0' ||
			i < len(b) && (b[i] == '.' || b[i] == 'e' || b[i] == 'E') {
			return 0, false
		}
		if neg {
			n = -n
		}
		return n, true
	}
	skip()
	if i >= len(b) || b[i] != '[' {
		return nil, false
	}
	i++
	out := make(PhotoVariants, 0, 4)
	skip()
	if i < len(b) && b[i] == ']' {
		i++
	} else {
		for {
			skip()
			if i >= len(b) || b[i] != '{' {
				return nil, false
			}
			i++
			var pv PhotoVariant
			var seen [3]bool
			skip()
			if i < len(b) && b[i] == '}' {
				i++
			} else {
				for {
					skip()
					name, ok := str()
					if !ok {
						return nil, false
					}
					skip()
					if i >= len(b) || b[i] != ':' {
						return nil, false
					}
					i++
					skip()
					field := -1
					switch string(name) {
					case "width":
						field = 0
					case "height":
						field = 1
					case "key":
						field = 2
					}
					if field < 0 || seen[field] {
						return nil, false
					}
					seen[field] = true
					if field == 2 {
						key, ok := str()
						if !ok {
							return nil, false
						}
						pv.Key = string(key)
					} else {
						n, ok := num()
						if !ok {
							return nil, false
						}
						if field == 0 {
							pv.Width = n
						} else {
							pv.Height = n
						}
					}
					skip()
					if i >= len(b) {
						return nil, false
					}
					if b[i] == '}' {
						i++
						break
					}
					if b[i] != ',' {
						return nil, false
					}
					i++
				}
			}
			out = append(out, pv)
			skip()
			if i >= len(b) {
				return nil, false
			}
			if b[i] == ']' {
				i++
				break
			}
			if b[i] != ',' {
				return nil, false
			}
			i++
		}
	}
	skip()
	if i != len(b) {
		return nil, false
	}
	return out, true
}

// PhotoRecord is what the HTTP layer records after the media pipeline has
// made an upload safe and saved its variants:
//
//	ph, err := media.ProcessPhoto(ctx, file, media.DefaultPhotoLimits())
//	… ph.Save(ctx, store) …
//	rec := storefront.PhotoRecord{Alt: alt, Width: ph.Width, Height: ph.Height,
//		Color: ph.Color, BlurHash: ph.BlurHash, ContentHash: sha256 of the upload}
//	for _, v := range ph.Variants { rec.Variants = append(rec.Variants, storefront.PhotoVariant{v.Width, v.Height, v.Key}) }
//	photo, err := svc.AddPhoto(ctx, principal, productID, rec)
type PhotoRecord struct {
	// Alt describes the picture for screen readers, by language.
	Alt Localized
	// Width and Height are the original's displayed size, after
	// orientation.
	Width, Height int
	// Color is the dominant colour "#rrggbb" and BlurHash the placeholder
	// painted while the picture loads; both optional.
	Color    string
	BlurHash string
	// Variants are the public resized JPEGs, smallest first.
	Variants []PhotoVariant
	// ContentHash is the SHA-256 (hex) of the original upload: a product
	// holds a picture once.
	ContentHash string
}

// Photo is a product photo.
type Photo struct {
	ID        int64         `json:"id"`
	ProductID int64         `json:"product_id"`
	Position  int           `json:"position"`
	Alt       Localized     `json:"alt"`
	Width     int           `json:"width"`
	Height    int           `json:"height"`
	Color     string        `json:"color,omitempty"`
	BlurHash  string        `json:"blurhash,omitempty" gorm:"column:blurhash"`
	Variants  PhotoVariants `json:"variants"`
	// ContentHash is the SHA-256 of the original upload.
	ContentHash string    `json:"-"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName names the table of photos.
func (Photo) TableName() string { return "product_photos" }

// Photo sizes by name, as the public product shape lists them, with the
// smallest width each should have (the media pipeline's widths).
var photoSizes = []struct {
	Name  string
	Width int
}{{"thumb", 320}, {"small", 640}, {"medium", 1280}, {"large", 2048}}

// SizedKeys names a media key for each size of the public shape (thumb,
// small, medium, large): the smallest variant at least as wide as the
// size, or the largest there is, since small originals are never enlarged.
func (ph Photo) SizedKeys() map[string]string {
	out := make(map[string]string, len(photoSizes))
	if len(ph.Variants) == 0 {
		return out
	}
	vs := append(PhotoVariants(nil), ph.Variants...)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Width < vs[j].Width })
	for _, sz := range photoSizes {
		key := vs[len(vs)-1].Key
		for _, v := range vs {
			if v.Width >= sz.Width {
				key = v.Key
				break
			}
		}
		out[sz.Name] = key
	}
	return out
}

type photoKeyRow struct {
	MediaKey string `gorm:"primaryKey"`
	PhotoID  int64  `gorm:"primaryKey"`
}

func (photoKeyRow) TableName() string { return "product_photo_keys" }

// check validates a record.
func (rec *PhotoRecord) check() error {
	var f errs.Fields
	rec.Alt = checkLocalized(&f, "alt", rec.Alt, maxAltLength, false)
	if rec.Width < 1 || rec.Width > maxPhotoSide || rec.Height < 1 || rec.Height > maxPhotoSide {
		f.Add("size", "width and height must be from 1 to %d pixels", maxPhotoSide)
	}
	if rec.Color != "" && !isHexColor(rec.Color) {
		f.Add("color", "must be a colour written #rrggbb")
	}
	if len(rec.BlurHash) > maxBlurHashLen || !isPrintableASCII(rec.BlurHash) {
		f.Add("blurhash", "must be a BlurHash of at most %d characters", maxBlurHashLen)
	}
	if len(rec.Variants) == 0 || len(rec.Variants) > maxVariants {
		f.Add("variants", "must list from 1 to %d resized pictures", maxVariants)
	}
	for i, v := range rec.Variants {
		if v.Width < 1 || v.Width > maxPhotoSide || v.Height < 1 || v.Height > maxPhotoSide {
			f.Add(fmt.Sprintf("variants[%d]", i), "width and height must be from 1 to %d pixels", maxPhotoSide)
		}
		if !isPublicMediaKey(v.Key) {
			f.Add(fmt.Sprintf("variants[%d].key", i), "must be a public media key")
		}
	}
	if len(rec.ContentHash) != 64 || !isLowerHex(rec.ContentHash) {
		f.Add("content_hash", "must be the SHA-256 of the upload in lower-case hex")
	}
	return f.Err()
}

func isHexColor(s string) bool {
	return len(s) == 7 && s[0] == '#' && isLowerHex(strings.ToLower(s[1:]))
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isMediaKey checks the form media.ValidateKey accepts: slash-separated
// segments of [A-Za-z0-9._-], none empty or starting with a dot.
func isMediaKey(key string) bool {
	if key == "" || len(key) > maxMediaKeyLen {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg[0] == '.' {
			return false
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

func isPublicMediaKey(key string) bool {
	return strings.HasPrefix(key, publicKeyPrefix) && isMediaKey(key)
}

func countPhotos(tx *gorm.DB, productID int64) (int, error) {
	var n int64
	if err := tx.Model(&Photo{}).Where("product_id = ?", productID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count photos of product %d: %w", productID, err)
	}
	return int(n), nil
}

// editablePhotos locks a product for a photo change and checks the caller
// may edit it.
func (s *Service) editablePhotos(tx *gorm.DB, p *account.Principal, productID int64) (productRow, error) {
	row, _, err := s.lockForChange(tx, p, productID, membersMay)
	return row, err
}

// AddPhoto records a photo the media pipeline has processed and saved, as
// the product's last. Members of the cooperative and administrators may. A
// product holds at most MaxPhotosPerProduct photos and each picture once
// (errs.Conflict); a malformed record is errs.Invalid.
func (s *Service) AddPhoto(ctx context.Context, p *account.Principal, productID int64, rec PhotoRecord) (Photo, error) {
	if err := mustSignIn(p); err != nil {
		return Photo{}, err
	}
	if err := rec.check(); err != nil {
		return Photo{}, err
	}
	now := s.clock()
	var ph Photo
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.editablePhotos(tx, p, productID); err != nil {
			return err
		}
		var existing []Photo
		if err := tx.Where("product_id = ?", productID).Find(&existing).Error; err != nil {
			return fmt.Errorf("read photos: %w", err)
		}
		if len(existing) >= MaxPhotosPerProduct {
			return errs.E(errs.Conflict, "a product holds at most %d photos; delete one first", MaxPhotosPerProduct)
		}
		pos := 0
		for _, e := range existing {
			if e.ContentHash == rec.ContentHash {
				return errs.E(errs.Conflict, "this photo is already on the product")
			}
			pos = max(pos, e.Position+1)
		}
		ph = Photo{ProductID: productID, Position: pos, Alt: rec.Alt, Width: rec.Width, Height: rec.Height,
			Color: strings.ToLower(rec.Color), BlurHash: rec.BlurHash, Variants: rec.Variants, ContentHash: rec.ContentHash, CreatedAt: now}
		if err := tx.Create(&ph).Error; err != nil {
			return fmt.Errorf("insert photo: %w", err)
		}
		seen := map[string]bool{}
		var keys []photoKeyRow
		for _, v := range rec.Variants {
			if !seen[v.Key] {
				seen[v.Key] = true
				keys = append(keys, photoKeyRow{MediaKey: v.Key, PhotoID: ph.ID})
			}
		}
		if err := tx.Create(&keys).Error; err != nil {
			return fmt.Errorf("record photo keys: %w", err)
		}
		return touchProduct(tx, productID, now)
	})
	if err != nil {
		return Photo{}, fmt.Errorf("add photo to product %d: %w", productID, err)
	}
	return ph, nil
}

func touchProduct(tx *gorm.DB, id int64, now time.Time) error {
	if err := tx.Model(&productRow{}).Where("id = ?", id).Update("updated_at", now).Error; err != nil {
		return fmt.Errorf("touch product %d: %w", id, err)
	}
	return nil
}

// DeletePhoto removes a photo from a product and returns it; the others
// close ranks. Its media objects are left to media.SweepOrphans (another
// product may show the same picture). A published product keeps at least
// one photo (errs.Conflict). Members of the cooperative and administrators
// may.
func (s *Service) DeletePhoto(ctx context.Context, p *account.Principal, productID, photoID int64) (Photo, error) {
	if err := mustSignIn(p); err != nil {
		return Photo{}, err
	}
	now := s.clock()
	var gone Photo
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		row, err := s.editablePhotos(tx, p, productID)
		if err != nil {
			return err
		}
		var photos []Photo
		if err := tx.Where("product_id = ?", productID).Order("position, id").Find(&photos).Error; err != nil {
			return fmt.Errorf("read photos: %w", err)
		}
		var rest []int64
		found := false
		for _, ph := range photos {
			if ph.ID == photoID {
				gone, found = ph, true
				continue
			}
			rest = append(rest, ph.ID)
		}
		if !found {
			return errs.E(errs.NotFound, "no such photo on this product")
		}
		if row.Status == Published && len(rest) == 0 {
			return errs.E(errs.Conflict, "a published product keeps at least one photo; add another first or unpublish it")
		}
		if err := tx.Where("id = ?", photoID).Delete(&Photo{}).Error; err != nil {
			return fmt.Errorf("delete photo: %w", err)
		}
		if err := setPositions(tx, photos, rest); err != nil {
			return err
		}
		return touchProduct(tx, productID, now)
	})
	if err != nil {
		return Photo{}, fmt.Errorf("delete photo %d of product %d: %w", photoID, productID, err)
	}
	return gone, nil
}

// setPositions numbers the photos 0, 1, 2 … in the order of ids, writing
// only the positions that change.
func setPositions(tx *gorm.DB, current []Photo, ids []int64) error {
	pos := make(map[int64]int, len(current))
	for _, ph := range current {
		pos[ph.ID] = ph.Position
	}
	for i, id := range ids {
		if pos[id] == i {
			continue
		}
		if err := tx.Model(&Photo{}).Where("id = ?", id).Update("position", i).Error; err != nil {
			return fmt.Errorf("move photo %d: %w", id, err)
		}
	}
	return nil
}

// ReorderPhotos puts a product's photos in the order of photoIDs, which
// must name each of its photos once (errs.Invalid otherwise), and returns
// them in that order. The first photo is the product's cover. Members of
// the cooperative and administrators may.
func (s *Service) ReorderPhotos(ctx context.Context, p *account.Principal, productID int64, photoIDs []int64) ([]Photo, error) {
	if err := mustSignIn(p); err != nil {
		return nil, err
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if _, err := s.editablePhotos(tx, p, productID); err != nil {
			return err
		}
		var photos []Photo
		if err := tx.Where("product_id = ?", productID).Order("position, id").Find(&photos).Error; err != nil {
			return fmt.Errorf("read photos: %w", err)
		}
		have := make(map[int64]bool, len(photos))
		for _, ph := range photos {
			have[ph.ID] = true
		}
		seen := map[int64]bool{}
		var f errs.Fields
		for i, id := range photoIDs {
			switch {
			case !have[id]:
				f.Add(fmt.Sprintf("photo_ids[%d]", i), "is not a photo of this product")
			case seen[id]:
				f.Add(fmt.Sprintf("photo_ids[%d]", i), "is listed twice")
			}
			seen[id] = true
		}
		if len(f) == 0 && len(photoIDs) != len(photos) {
			f.Add("photo_ids", "must list every photo of the product (%d), each once", len(photos))
		}
		if err := f.Err(); err != nil {
			return err
		}
		if err := setPositions(tx, photos, photoIDs); err != nil {
			return err
		}
		return touchProduct(tx, productID, now)
	})
	if err != nil {
		return nil, fmt.Errorf("reorder photos of product %d: %w", productID, err)
	}
	return s.ListPhotos(ctx, p, productID)
}

// ListPhotos returns a product's photos in order, to whoever may see the
// product (errs.NotFound otherwise).
func (s *Service) ListPhotos(ctx context.Context, p *account.Principal, productID int64) ([]Photo, error) {
	pr, err := s.FindProduct(ctx, p, productID)
	if err != nil {
		return nil, err
	}
	return pr.Photos, nil
}

// IsMediaKeyReferenced reports whether a photo variant or a certificate
// document uses the media key. It is the isReferenced of
// media.SweepOrphans for the photos/ and certificates' prefixes.
func (s *Service) IsMediaKeyReferenced(ctx context.Context, key string) (bool, error) {
	if !isMediaKey(key) {
		return false, nil
	}
	var n int64
	err := s.db.WithContext(ctx).Raw(`SELECT
		(SELECT COUNT(*) FROM product_photo_keys WHERE media_key = ?) +
		(SELECT COUNT(*) FROM certificates WHERE document_key = ?)`, key, key).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up media key %s: %w", key, database.Translate(err))
	}
	return n > 0, nil
}
