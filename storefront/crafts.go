package storefront

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Craft is a trade products are listed under (pottery, silver jewellery …).
// Administrators add crafts; the migration seeds the crafts of the region.
type Craft struct {
	Slug string    `json:"slug"`
	Name Localized `json:"name"`
	// Fragile crafts (pottery, glass bottles of argan oil) are packed and
	// shipped with care.
	Fragile   bool      `json:"fragile"`
	Position  int       `json:"position"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TableName names the table of crafts.
func (Craft) TableName() string { return "crafts" }

// CraftInput is a craft to create or rename.
type CraftInput struct {
	Slug     string
	Name     map[string]string
	Fragile  bool
	Position int
}

// slugPattern is the form of a slug: lower-case letters and digits in
// words joined by single dashes.
var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// isSlug reports whether s is a well-formed slug of at most max bytes.
func isSlug(s string, max int) bool { return len(s) <= max && slugPattern.MatchString(s) }

// ListCrafts returns every craft in display order.
func (s *Service) ListCrafts(ctx context.Context) ([]Craft, error) {
	var out []Craft
	if err := s.db.WithContext(ctx).Order("position, slug").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list crafts: %w", database.Translate(err))
	}
	return out, nil
}

// FindCraft returns the craft with the slug, or errs.NotFound.
func (s *Service) FindCraft(ctx context.Context, slug string) (Craft, error) {
	var c Craft
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).First(&c).Error; err != nil {
		return Craft{}, fmt.Errorf("find craft %q: %w", slug, database.Translate(err))
	}
	return c, nil
}

// SaveCraft creates the craft with in.Slug, or updates its names, fragile
// flag and position when it exists. Only administrators may (errs.Forbidden
// otherwise); errs.Invalid names the bad fields.
func (s *Service) SaveCraft(ctx context.Context, p *account.Principal, in CraftInput) (Craft, error) {
	if !p.IsAdmin() {
		return Craft{}, refuse(p, "only administrators may change the crafts")
	}
	var f errs.Fields
	if !isSlug(in.Slug, 50) {
		f.Add("slug", "must be lower-case letters and digits joined by dashes, at most 50 characters")
	}
	name := checkLocalized(&f, "name", in.Name, 100, true)
	if in.Position < 0 || in.Position > 1_000_000 {
		f.Add("position", "must be from 0 to 1000000")
	}
	if err := f.Err(); err != nil {
		return Craft{}, err
	}
	now := s.clock()
	c := Craft{Slug: in.Slug, Name: name, Fragile: in.Fragile, Position: in.Position, CreatedAt: now, UpdatedAt: now}
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&Craft{}).Where("slug = ?", c.Slug).
			Updates(map[string]any{"name": c.Name, "fragile": c.Fragile, "position": c.Position, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return tx.Create(&c).Error
		}
		return nil
	})
	if err != nil {
		return Craft{}, fmt.Errorf("save craft %q: %w", in.Slug, err)
	}
	return s.FindCraft(ctx, in.Slug)
}

// craftSet returns the slugs of every craft, to validate products against.
func craftSet(tx *gorm.DB) (map[string]bool, error) {
	var slugs []string
	if err := tx.Model(&Craft{}).Pluck("slug", &slugs).Error; err != nil {
		return nil, fmt.Errorf("read crafts: %w", err)
	}
	set := make(map[string]bool, len(slugs))
	for _, s := range slugs {
		set[s] = true
	}
	return set, nil
}

// SchemeKind is what kind of mark a certificate scheme is.
type SchemeKind string

// The scheme kinds.
const (
	NationalLabel          SchemeKind = "national_label"          // Morocco Handmade / Maroc Fait Main
	CollectiveMark         SchemeKind = "collective_mark"         // Tazerzite, Idoukan N Oudrar
	GeographicalIndication SchemeKind = "geographical_indication" // a protected origin
	LabelCategory          SchemeKind = "label_category"          // Madmoun
)

// CertificateScheme is a certification mark a certificate can be issued
// under, such as the national label "Morocco Handmade" with its three
// levels or the Tazerzite collective mark of Tiznit silver.
type CertificateScheme struct {
	Slug      string     `json:"slug"`
	Name      Localized  `json:"name"`
	Kind      SchemeKind `json:"kind"`
	HasLevels bool       `json:"has_levels"`
	// Levels are the level codes a certificate of the scheme may carry, in
	// order; empty when HasLevels is false.
	Levels Strings `json:"levels"`
	// Issuer is the usual issuing body, offered as a default.
	Issuer    string    `json:"issuer,omitempty"`
	Position  int       `json:"position"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TableName names the table of schemes.
func (CertificateScheme) TableName() string { return "certificate_schemes" }

// hasLevel reports whether level is one of the scheme's levels.
func (c CertificateScheme) hasLevel(level string) bool {
	for _, l := range c.Levels {
		if l == level {
			return true
		}
	}
	return false
}

// ListCertificateSchemes returns every certificate scheme in display order.
func (s *Service) ListCertificateSchemes(ctx context.Context) ([]CertificateScheme, error) {
	var out []CertificateScheme
	if err := s.db.WithContext(ctx).Order("position, slug").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list certificate schemes: %w", database.Translate(err))
	}
	return out, nil
}

// FindCertificateScheme returns the scheme with the slug, or errs.NotFound.
func (s *Service) FindCertificateScheme(ctx context.Context, slug string) (CertificateScheme, error) {
	var c CertificateScheme
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).First(&c).Error; err != nil {
		return CertificateScheme{}, fmt.Errorf("find certificate scheme %q: %w", slug, database.Translate(err))
	}
	return c, nil
}
