package booking

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Policy says how a venue's units are taken.
type Policy string

// The policies.
const (
	PolicyInstant     Policy = "instant"     // an artisan books at once: a hold, then payment
	PolicyApplication Policy = "application" // an artisan applies; an administrator approves or rejects
)

// KindFair is the kind of venue whose stalls exist only during its events
// (fairs): they are booked through an event, for the whole event.
const KindFair = "fair"

// AnyTrade in a unit's or event's trades admits every trade.
const AnyTrade = "any"

// Currency is the currency prices are set in (rule 3).
const Currency = "MAD"

// maxPrice bounds a rate or price (10 million MAD in centimes): far above
// any real stall, far below an int64 overflow in PriceDays.
const maxPrice = 1_000_000_000

// CancellationPolicy is a venue's refund rule for a confirmed (paid)
// booking cancelled by the artisan, counted in days before the first day:
// at least FullRefundDays before → everything back; at least NoRefundDays
// before → PartialPercent of the amount; later → nothing.
type CancellationPolicy struct {
	FullRefundDays int `json:"full_refund_days" gorm:"column:cancel_full_refund_days"`
	PartialPercent int `json:"partial_percent" gorm:"column:cancel_partial_refund_percent"`
	NoRefundDays   int `json:"no_refund_days" gorm:"column:cancel_no_refund_days"`
}

// Refund returns what goes back to an artisan who paid amount and cancels
// on day today a booking that starts on first. Integer arithmetic, rounded
// down to the centime.
func (p CancellationPolicy) Refund(amount int64, first, today Day) int64 {
	before := today.DaysUntil(first)
	switch {
	case before >= p.FullRefundDays:
		return amount
	case before >= p.NoRefundDays:
		return amount * int64(p.PartialPercent) / 100
	}
	return 0
}

func (p CancellationPolicy) validate(f *errs.Fields) {
	if p.FullRefundDays < 0 || p.FullRefundDays > 3660 {
		f.Add("cancellation.full_refund_days", "must be between 0 and 3660")
	}
	if p.NoRefundDays < 0 || p.NoRefundDays > p.FullRefundDays {
		f.Add("cancellation.no_refund_days", "must be between 0 and full_refund_days")
	}
	if p.PartialPercent < 0 || p.PartialPercent > 100 {
		f.Add("cancellation.partial_percent", "must be between 0 and 100")
	}
}

// DefaultCancellation is the policy of a venue created without one.
var DefaultCancellation = CancellationPolicy{FullRefundDays: 14, PartialPercent: 50, NoRefundDays: 3}

// Venue is a place whose units artisans rent: an artisan zone, a market, an
// exhibition space, a fair ground.
type Venue struct {
	ID           int64              `json:"id"`
	Slug         string             `json:"slug"`
	Name         string             `json:"name"`
	Commune      string             `json:"commune"`
	Kind         string             `json:"kind"`
	Policy       Policy             `json:"policy"`
	Description  Text               `json:"description"`
	Address      string             `json:"address"`
	Latitude     *float64           `json:"latitude,omitempty"`
	Longitude    *float64           `json:"longitude,omitempty"`
	PlanWidth    int                `json:"plan_width"`
	PlanHeight   int                `json:"plan_height"`
	Active       bool               `json:"active"`
	Stay         StayLimits         `json:"stay" gorm:"embedded"`
	Cancellation CancellationPolicy `json:"cancellation" gorm:"embedded"`
	Deposit      int64              `json:"deposit"` // a security deposit paid at the office, in centimes; not part of a booking's amount
	OpeningHours OpeningHours       `json:"opening_hours"`
	Rules        Text               `json:"rules"` // house rules shown before booking
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`

	Units     []Unit `json:"units,omitempty" gorm:"-"`
	UnitCount int    `json:"unit_count" gorm:"-"`
}

// TableName is the venues table.
func (Venue) TableName() string { return "venues" }

// Unit is one rentable space of a venue: a stall, a workshop, a booth.
type Unit struct {
	ID        int64      `json:"id"`
	VenueID   int64      `json:"venue_id"`
	Code      string     `json:"code"`
	AreaM2    int        `json:"area_m2" gorm:"column:area_m2"`
	Trades    StringList `json:"trades"` // trade slugs allowed in the unit; ["any"] admits all
	Amenities StringList `json:"amenities"`
	DayRate   int64      `json:"day_rate"`   // centimes a day
	MonthRate int64      `json:"month_rate"` // centimes a whole calendar month; 0: no monthly rate
	Currency  string     `json:"currency"`
	Shape     Shape      `json:"shape"`
	Active    bool       `json:"active"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// TableName is the units table.
func (Unit) TableName() string { return "units" }

// Shape is where a unit sits on its venue's floor plan, in plan units
// (0…plan_width, 0…plan_height): a rectangle or a polygon.
type Shape struct {
	Kind   string   `json:"kind"` // "rect" or "polygon"
	X      int      `json:"x"`
	Y      int      `json:"y"`
	W      int      `json:"w"`
	H      int      `json:"h"`
	Points [][2]int `json:"points"`
}

// The shape kinds.
const (
	ShapeRect    = "rect"
	ShapePolygon = "polygon"
)

// MarshalJSON writes a rect as {kind, x, y, w, h} and a polygon as
// {kind, points}.
func (s Shape) MarshalJSON() ([]byte, error) {
	if s.Kind == ShapePolygon {
		return json.Marshal(struct {
			Kind   string   `json:"kind"`
			Points [][2]int `json:"points"`
		}{s.Kind, s.Points})
	}
	return json.Marshal(struct {
		Kind string `json:"kind"`
		X    int    `json:"x"`
		Y    int    `json:"y"`
		W    int    `json:"w"`
		H    int    `json:"h"`
	}{s.Kind, s.X, s.Y, s.W, s.H})
}

// Value writes the shape as JSON.
func (s Shape) Value() (driver.Value, error) {
	b, err := s.MarshalJSON()
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan reads the shape from JSON.
func (s *Shape) Scan(src any) error { return jsonScan(src, s) }

// GormDataType tells GORM the column holds JSON.
func (Shape) GormDataType() string { return "json" }

// Validate checks the shape lies inside a plan of the given size: a rect
// with a positive size, or a polygon of 3 to 64 points enclosing an area.
func (s Shape) Validate(planW, planH int) error {
	var f errs.Fields
	s.validate(&f, "shape", planW, planH)
	return f.Err()
}

func (s Shape) validate(f *errs.Fields, field string, planW, planH int) {
	switch s.Kind {
	case ShapeRect:
		if len(s.Points) > 0 {
			f.Add(field+".points", "a rect has no points")
		}
		if s.W <= 0 || s.H <= 0 {
			f.Add(field, "a rect needs a positive w and h")
		}
		if s.X < 0 || s.Y < 0 || s.X+s.W > planW || s.Y+s.H > planH {
			f.Add(field, "must lie inside the plan (%d × %d)", planW, planH)
		}
	case ShapePolygon:
		if s.X != 0 || s.Y != 0 || s.W != 0 || s.H != 0 {
			f.Add(field, "a polygon has points, not x, y, w, h")
		}
		if len(s.Points) < 3 || len(s.Points) > 64 {
			f.Add(field+".points", "a polygon needs 3 to 64 points")
			return
		}
		var area2 int64 // twice the signed area (shoelace)
		for i, p := range s.Points {
			if p[0] < 0 || p[1] < 0 || p[0] > planW || p[1] > planH {
				f.Add(field+".points", "point %d must lie inside the plan (%d × %d)", i, planW, planH)
			}
			q := s.Points[(i+1)%len(s.Points)]
			area2 += int64(p[0])*int64(q[1]) - int64(q[0])*int64(p[1])
		}
		if area2 == 0 {
			f.Add(field+".points", "the points must enclose an area")
		}
	default:
		f.Add(field+".kind", "must be rect or polygon")
	}
}

var (
	slugRe  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	kindRe  = regexp.MustCompile(`^[a-z0-9]+([_-][a-z0-9]+)*$`) // artisan_zone, exhibition_space…
	codeRe  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	tradeRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,59}$`)
)

func validTrades(f *errs.Fields, field string, trades StringList, required bool) {
	if len(trades) == 0 {
		if required {
			f.Add(field, `needs at least one trade, or "any"`)
		}
		return
	}
	if len(trades) > 50 {
		f.Add(field, "holds at most 50 trades")
	}
	for _, t := range trades {
		if !tradeRe.MatchString(t) {
			f.Add(field, "%q is not a trade slug", t)
		}
	}
	if slices.Contains(trades, AnyTrade) && len(trades) > 1 {
		f.Add(field, `"any" stands alone`)
	}
}

// allowsTrade reports whether trades admits trade.
func allowsTrade(trades StringList, trade string) bool {
	return len(trades) == 0 || slices.Contains(trades, AnyTrade) || (trade != "" && slices.Contains(trades, trade))
}

func checkTrade(trades StringList, trade, what string) error {
	if allowsTrade(trades, trade) {
		return nil
	}
	if trade == "" {
		return errs.InvalidField("trade", "is required: this %s is for %s only", what, strings.Join(trades, ", "))
	}
	return errs.InvalidField("trade", "this %s is for %s only", what, strings.Join(trades, ", "))
}

func (v *Venue) validate() error {
	var f errs.Fields
	v.Slug = strings.TrimSpace(v.Slug)
	v.Name = strings.TrimSpace(v.Name)
	v.Commune = strings.TrimSpace(v.Commune)
	if len(v.Slug) == 0 || len(v.Slug) > 100 || !slugRe.MatchString(v.Slug) {
		f.Add("slug", "must be 1 to 100 lowercase letters, digits and single dashes")
	}
	if v.Name == "" || len(v.Name) > 200 {
		f.Add("name", "is required (at most 200 bytes)")
	}
	if v.Commune == "" || len(v.Commune) > 100 {
		f.Add("commune", "is required (at most 100 bytes)")
	}
	if !kindRe.MatchString(v.Kind) || len(v.Kind) > 30 {
		f.Add("kind", "is required: lower-case words joined by _ or -, such as artisan_zone, market, exhibition_space, fair_ground (at most 30 bytes)")
	}
	if v.Policy != PolicyInstant && v.Policy != PolicyApplication {
		f.Add("policy", "must be instant or application")
	}
	v.Description.validate(&f, "description", false, 10000)
	v.Rules.validate(&f, "rules", false, 10000)
	if len(v.Address) > 300 {
		f.Add("address", "must be at most 300 bytes")
	}
	if v.Latitude != nil && (*v.Latitude < -90 || *v.Latitude > 90) {
		f.Add("latitude", "must be between -90 and 90")
	}
	if v.Longitude != nil && (*v.Longitude < -180 || *v.Longitude > 180) {
		f.Add("longitude", "must be between -180 and 180")
	}
	if v.PlanWidth < 1 || v.PlanWidth > 100000 || v.PlanHeight < 1 || v.PlanHeight > 100000 {
		f.Add("plan", "plan_width and plan_height must be between 1 and 100000")
	}
	v.Stay.validate(&f, "stay.")
	v.Cancellation.validate(&f)
	if v.Deposit < 0 || v.Deposit > maxPrice {
		f.Add("deposit", "must be between 0 and %d centimes", maxPrice)
	}
	for k, h := range v.OpeningHours {
		if !slices.Contains(Weekdays, k) {
			f.Add("opening_hours", "%q is not one of mon, tue, wed, thu, fri, sat, sun", k)
		} else if len(h) > 100 {
			f.Add("opening_hours."+k, "must be at most 100 bytes")
		}
	}
	return f.Err()
}

// CreateVenue adds a venue (without units; add them with CreateUnit). Zero
// plan sizes default to 1000 × 600 and a zero policy to instant; a venue is
// created active. It returns errs.Invalid for bad fields and errs.Conflict
// when the slug is taken.
func (s *Store) CreateVenue(ctx context.Context, v Venue) (Venue, error) {
	v.ID, v.Units, v.UnitCount = 0, nil, 0
	if v.PlanWidth == 0 && v.PlanHeight == 0 {
		v.PlanWidth, v.PlanHeight = 1000, 600
	}
	if v.Policy == "" {
		v.Policy = PolicyInstant
	}
	if v.Cancellation == (CancellationPolicy{}) {
		v.Cancellation = DefaultCancellation
	}
	if v.Description == nil {
		v.Description = Text{}
	}
	v.Active = true
	if err := v.validate(); err != nil {
		return Venue{}, err
	}
	now := s.now(time.Time{})
	v.CreatedAt, v.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(&v).Error; err != nil {
		return Venue{}, fmt.Errorf("create venue %q: %w", v.Slug, database.Translate(err))
	}
	return v, nil
}

// CreateUnit adds a unit to its venue (u.VenueID). A zero currency means MAD;
// the unit is created active. It returns errs.NotFound when the venue does
// not exist, errs.Invalid for bad fields (the shape must fit the venue's
// plan) and errs.Conflict when the venue already has a unit with that code.
func (s *Store) CreateUnit(ctx context.Context, u Unit) (Unit, error) {
	v, err := s.FindVenue(ctx, u.VenueID)
	if err != nil {
		return Unit{}, fmt.Errorf("create unit: %w", err)
	}
	u.ID = 0
	u.Code = strings.TrimSpace(u.Code)
	if u.Currency == "" {
		u.Currency = Currency
	}
	if u.Amenities == nil {
		u.Amenities = StringList{}
	}
	if len(u.Trades) == 0 {
		u.Trades = StringList{AnyTrade}
	}
	u.Active = true
	if err := validateUnit(&u, v); err != nil {
		return Unit{}, err
	}
	now := s.now(time.Time{})
	u.CreatedAt, u.UpdatedAt = now, now
	if err := s.db.WithContext(ctx).Create(&u).Error; err != nil {
		return Unit{}, fmt.Errorf("create unit %q in venue %d: %w", u.Code, u.VenueID, database.Translate(err))
	}
	return u, nil
}

// FindVenue returns a venue by id, active or not, without its units. It
// returns errs.NotFound when there is none.
func (s *Store) FindVenue(ctx context.Context, id int64) (Venue, error) {
	var v Venue
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&v).Error; err != nil {
		return Venue{}, fmt.Errorf("find venue %d: %w", id, notFound(err, "venue"))
	}
	return v, nil
}

// FindVenueBySlug returns an active venue with its active units in code
// order. It returns errs.NotFound when there is none.
func (s *Store) FindVenueBySlug(ctx context.Context, slug string) (Venue, error) {
	var v Venue
	if err := s.db.WithContext(ctx).Where("slug = ? AND active = ?", slug, true).Take(&v).Error; err != nil {
		return Venue{}, fmt.Errorf("find venue %q: %w", slug, notFound(err, "venue"))
	}
	if err := s.db.WithContext(ctx).Where("venue_id = ? AND active = ?", v.ID, true).Order("code").Find(&v.Units).Error; err != nil {
		return Venue{}, fmt.Errorf("units of venue %q: %w", slug, database.Translate(err))
	}
	v.UnitCount = len(v.Units)
	return v, nil
}

// ListVenues returns the active venues by name, each with its count of
// active units but not the units themselves.
func (s *Store) ListVenues(ctx context.Context) ([]Venue, error) {
	var vs []Venue
	if err := s.db.WithContext(ctx).Where("active = ?", true).Order("name, id").Find(&vs).Error; err != nil {
		return nil, fmt.Errorf("list venues: %w", database.Translate(err))
	}
	var counts []struct {
		VenueID int64
		N       int
	}
	if err := s.db.WithContext(ctx).Raw("SELECT venue_id, COUNT(*) AS n FROM units WHERE active = ? GROUP BY venue_id", true).
		Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("count units: %w", database.Translate(err))
	}
	byVenue := make(map[int64]int, len(counts))
	for _, c := range counts {
		byVenue[c.VenueID] = c.N
	}
	for i := range vs {
		vs[i].UnitCount = byVenue[vs[i].ID]
	}
	return vs, nil
}

// FindUnit returns a unit by id, active or not. It returns errs.NotFound
// when there is none.
func (s *Store) FindUnit(ctx context.Context, id int64) (Unit, error) {
	var u Unit
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return Unit{}, fmt.Errorf("find unit %d: %w", id, notFound(err, "unit"))
	}
	return u, nil
}

// notFound translates a store error, naming what was not found.
func notFound(err error, what string) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.Wrap(errs.NotFound, err, "no such %s", what)
	}
	return database.Translate(err)
}

// VenuePatch is a partial update of a venue: a nil field stays as it is.
type VenuePatch struct {
	Name         *string             `json:"name"`
	Description  *Text               `json:"description"`
	Policy       *Policy             `json:"policy"`
	Stay         *StayLimits         `json:"stay"`
	Cancellation *CancellationPolicy `json:"cancellation"`
	Deposit      *int64              `json:"deposit"`
	OpeningHours *OpeningHours       `json:"opening_hours"`
	Rules        *Text               `json:"rules"`
	Active       *bool               `json:"active"`
}

// UpdateVenue applies a partial update to a venue, active or not, and
// returns it (without its units). The result is validated as on create:
// errs.Invalid names the bad fields; errs.NotFound when there is no venue.
func (s *Store) UpdateVenue(ctx context.Context, id int64, p VenuePatch) (Venue, error) {
	var out Venue
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		v, err := s.lockVenue(tx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			v.Name = *p.Name
		}
		if p.Description != nil {
			v.Description = *p.Description
			if v.Description == nil {
				v.Description = Text{}
			}
		}
		if p.Policy != nil {
			v.Policy = *p.Policy
		}
		if p.Stay != nil {
			v.Stay = *p.Stay
		}
		if p.Cancellation != nil {
			v.Cancellation = *p.Cancellation
		}
		if p.Deposit != nil {
			v.Deposit = *p.Deposit
		}
		if p.OpeningHours != nil {
			v.OpeningHours = *p.OpeningHours
		}
		if p.Rules != nil {
			v.Rules = *p.Rules
		}
		if p.Active != nil {
			v.Active = *p.Active
		}
		if err := v.validate(); err != nil {
			return err
		}
		v.UpdatedAt = s.now(time.Time{})
		if err := tx.Model(&v).Select("*").Omit("id", "slug", "created_at").Updates(&v).Error; err != nil {
			return database.Translate(err)
		}
		out = v
		return nil
	})
	if err != nil {
		return Venue{}, fmt.Errorf("update venue %d: %w", id, err)
	}
	return out, nil
}

// UnitPatch is a partial update of a unit: a nil field stays as it is.
type UnitPatch struct {
	AreaM2    *int        `json:"area_m2"`
	Trades    *StringList `json:"trades"`
	Amenities *StringList `json:"amenities"`
	DayRate   *int64      `json:"day_rate"`
	MonthRate *int64      `json:"month_rate"`
	Shape     *Shape      `json:"shape"`
	Active    *bool       `json:"active"`
}

// validateUnit checks a unit's fields against its venue's plan.
func validateUnit(u *Unit, v Venue) error {
	var f errs.Fields
	if u.Code == "" || len(u.Code) > 20 || !codeRe.MatchString(u.Code) {
		f.Add("code", "must be 1 to 20 letters, digits, dots, dashes or underscores")
	}
	if u.AreaM2 <= 0 || u.AreaM2 > 1_000_000 {
		f.Add("area_m2", "must be a positive whole number of square metres")
	}
	validTrades(&f, "trades", u.Trades, true)
	if len(u.Amenities) > 50 {
		f.Add("amenities", "holds at most 50 items")
	}
	for _, a := range u.Amenities {
		if a == "" || len(a) > 50 {
			f.Add("amenities", "each amenity is 1 to 50 bytes")
			break
		}
	}
	if u.DayRate < 0 || u.DayRate > maxPrice {
		f.Add("day_rate", "must be between 0 and %d centimes", maxPrice)
	}
	if u.MonthRate < 0 || u.MonthRate > maxPrice {
		f.Add("month_rate", "must be between 0 and %d centimes", maxPrice)
	}
	if u.Currency != Currency {
		f.Add("currency", "prices are set in MAD")
	}
	u.Shape.validate(&f, "shape", v.PlanWidth, v.PlanHeight)
	return f.Err()
}

// UpdateUnit applies a partial update to a unit, active or not, and
// returns it. The result is validated as on create (the shape must fit the
// venue's plan): errs.Invalid names the bad fields; errs.NotFound when
// there is no unit. A deactivated unit leaves its venue's page and
// availability; its bookings stay as they are.
func (s *Store) UpdateUnit(ctx context.Context, id int64, p UnitPatch) (Unit, error) {
	var out Unit
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		u, err := s.lockUnit(tx, id)
		if err != nil {
			return err
		}
		var v Venue
		if err := tx.Where("id = ?", u.VenueID).Take(&v).Error; err != nil {
			return notFound(err, "venue")
		}
		if p.AreaM2 != nil {
			u.AreaM2 = *p.AreaM2
		}
		if p.Trades != nil {
			u.Trades = *p.Trades
		}
		if p.Amenities != nil {
			u.Amenities = *p.Amenities
			if u.Amenities == nil {
				u.Amenities = StringList{}
			}
		}
		if p.DayRate != nil {
			u.DayRate = *p.DayRate
		}
		if p.MonthRate != nil {
			u.MonthRate = *p.MonthRate
		}
		if p.Shape != nil {
			u.Shape = *p.Shape
		}
		if p.Active != nil {
			u.Active = *p.Active
		}
		if err := validateUnit(&u, v); err != nil {
			return err
		}
		u.UpdatedAt = s.now(time.Time{})
		if err := tx.Model(&u).Select("*").Omit("id", "venue_id", "code", "currency", "created_at").Updates(&u).Error; err != nil {
			return database.Translate(err)
		}
		out = u
		return nil
	})
	if err != nil {
		return Unit{}, fmt.Errorf("update unit %d: %w", id, err)
	}
	return out, nil
}

// lockVenue reads a venue and locks it until the transaction ends (on
// SQLite, by taking the write lock first, as lockUnit does).
func (s *Store) lockVenue(tx *gorm.DB, id int64) (Venue, error) {
	if !s.mysql() {
		if err := tx.Exec("UPDATE venues SET active = active WHERE id = ?", id).Error; err != nil {
			return Venue{}, fmt.Errorf("lock venue %d: %w", id, err)
		}
	}
	var v Venue
	res := tx.Raw("SELECT * FROM venues WHERE id = ?"+s.forUpdate(), id).Scan(&v)
	if res.Error != nil {
		return Venue{}, fmt.Errorf("lock venue %d: %w", id, database.Translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return Venue{}, errs.E(errs.NotFound, "no such venue")
	}
	return v, nil
}
