// Package storefront owns the marketplace catalog: the crafts and the
// certificate schemes administrators maintain, the products cooperatives
// publish with their photos, the certificates that back the certified
// badge, product search with facets, the CSV import and export of a
// cooperative's catalog, and the stock ports orders take and give back
// stock through.
//
// The rules live here and nowhere else: who may see and change a product
// (asked of account.Principal), what a product needs to be published, which
// certificates a product may show, and when "certified" is true (DESIGN rule
// 6: verified by an administrator and within its validity, today in
// Africa/Casablanca). The package talks to the database through GORM and
// knows nothing of HTTP.
package storefront

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Africa/Casablanca must load on machines without a zoneinfo database

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Zone is the time zone in which certificate validity dates are read.
var Zone = mustLoadZone("Africa/Casablanca")

func mustLoadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("storefront: load time zone %s: %v", name, err))
	}
	return loc
}

// Currency is the only currency prices are set in (DESIGN rule 3).
const Currency = "MAD"

// Options configure a Service; the zero value takes the production defaults.
type Options struct {
	// Now returns the current time; nil means time.Now. Tests move it to
	// make certificates expire.
	Now func() time.Time
	// CommissionBPS is the platform's commission on each order line, in
	// basis points (ledger.go); nil means DefaultCommissionBPS.
	CommissionBPS *int
	// CountCacheTTL keeps the totals and facet counts of public catalog
	// queries that long (facetcache.go); zero counts every time.
	CountCacheTTL time.Duration
}

// Service is the storefront feature: it holds the rules and runs the
// queries. It is safe for concurrent use and keeps no state that must agree
// between processes.
type Service struct {
	db            *database.DB
	now           func() time.Time
	commissionBPS int
	counts        *countCache // nil: no cache
	refs          *refCache   // crafts, schemes, shipping rates (refcache.go)
}

// New returns the storefront service over db.
func New(db *database.DB, opts Options) *Service {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	bps := DefaultCommissionBPS
	if opts.CommissionBPS != nil {
		bps = *opts.CommissionBPS
	}
	return &Service{db: db, now: now, commissionBPS: bps, counts: newCountCache(opts.CountCacheTTL),
		refs: newRefCache(opts.CountCacheTTL)}
}

// clock is the current instant as stored: UTC, microseconds.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// today is the current calendar day in Africa/Casablanca, the day against
// which certificate validity is judged.
func (s *Service) today() Date { return DateOf(s.now()) }

// Languages are the languages text is written in, in the order search and
// storage list them.
var Languages = []string{"ar", "fr", "en"}

// fallbacks is the order in which a text is looked for when it is missing
// in the language asked for: French is the common written language of the
// cooperatives, then English for tourists, then Arabic.
var fallbacks = map[string][]string{
	"ar": {"ar", "fr", "en"},
	"fr": {"fr", "en", "ar"},
	"en": {"en", "fr", "ar"},
}

// Localized is text keyed by language ("ar", "fr", "en"), stored as JSON.
type Localized map[string]string

// In returns the text in lang, or else in the first language of the
// fallback order that has one: ar → fr → en for Arabic, fr → en → ar for
// French, en → fr → ar for English (and for an unknown lang).
func (l Localized) In(lang string) string {
	order, ok := fallbacks[lang]
	if !ok {
		order = fallbacks["en"]
	}
	for _, k := range order {
		if v := l[k]; v != "" {
			return v
		}
	}
	return ""
}

// Value implements driver.Valuer.
func (l Localized) Value() (driver.Value, error) {
	if l == nil {
		l = Localized{}
	}
	b, err := json.Marshal(map[string]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *Localized) Scan(src any) error { return scanJSON(src, (*map[string]string)(l)) }

// Strings is a list of short texts (materials, techniques, levels) stored
// as a JSON array.
type Strings []string

// Value implements driver.Valuer.
func (s Strings) Value() (driver.Value, error) {
	if s == nil {
		s = Strings{}
	}
	b, err := json.Marshal([]string(s))
	return string(b), err
}

// Scan implements sql.Scanner.
func (s *Strings) Scan(src any) error { return scanJSON(src, (*[]string)(s)) }

func scanJSON(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("scan JSON column: unexpected %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("scan JSON column: %w", err)
	}
	return nil
}

// dateLayout is how a Date is written everywhere: JSON, SQL, CSV.
const dateLayout = "2006-01-02"

// Date is a calendar day with no time and no zone (certificate validity),
// stored as DATE on MySQL and as 'YYYY-MM-DD' text on SQLite so that the
// two compare it the same way. The zero Date means "no date".
type Date struct {
	t time.Time // midnight UTC of the day
}

// NewDate returns the day y-m-d, normalising overflow as time.Date does.
func NewDate(y int, m time.Month, d int) Date {
	return Date{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// DateOf returns the calendar day in Africa/Casablanca at instant t.
func DateOf(t time.Time) Date {
	y, m, d := t.In(Zone).Date()
	return NewDate(y, m, d)
}

// ParseDate reads a day written YYYY-MM-DD, strictly.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil || len(s) != len(dateLayout) || t.Year() < 1000 {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return Date{t: t}, nil
}

// String returns the day as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(dateLayout)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d.t.IsZero() }

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.t.Before(e.t) }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.t.After(e.t) }

// AddDays returns the day n days after d (before, for negative n).
func (d Date) AddDays(n int) Date { return Date{t: d.t.AddDate(0, 0, n)} }

// MarshalJSON writes "YYYY-MM-DD", or null for the zero Date.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("date: want a string YYYY-MM-DD")
	}
	v, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value implements driver.Valuer: 'YYYY-MM-DD', or NULL for the zero Date.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan implements sql.Scanner for DATE columns (time.Time from MySQL and
// from SQLite's driver) and for text.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Date{}
		return nil
	case time.Time:
		y, m, day := v.Date()
		*d = NewDate(y, m, day)
		return nil
	case []byte:
		return d.scanText(string(v))
	case string:
		return d.scanText(v)
	}
	return fmt.Errorf("scan date: unexpected %T", src)
}

func (d *Date) scanText(s string) error {
	if len(s) > len(dateLayout) {
		s = s[:len(dateLayout)]
	}
	v, err := ParseDate(s)
	if err != nil {
		return fmt.Errorf("scan date: %w", err)
	}
	*d = v
	return nil
}

// CooperativeRef names the cooperative behind a product or a certificate.
type CooperativeRef struct {
	ID   int64  `json:"id"`
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Cooperative statuses this package reads (account owns them).
const cooperativeVerified = string(account.StatusVerified)

// mustSignIn refuses an anonymous caller.
func mustSignIn(p *account.Principal) error {
	if p == nil {
		return errs.E(errs.Unauthorized, "sign in first")
	}
	return nil
}

// canEditCatalog reports whether the caller may write a cooperative's
// drafts and photos: any of its members, and administrators.
func canEditCatalog(p *account.Principal, cooperativeID int64) bool {
	return p.IsMemberOf(cooperativeID) || p.IsAdmin()
}

// refuse is the error for a caller who may not do something to a
// cooperative's catalog: unauthorized when signed out, forbidden otherwise.
func refuse(p *account.Principal, format string, args ...any) error {
	if err := mustSignIn(p); err != nil {
		return err
	}
	return errs.E(errs.Forbidden, format, args...)
}

// oneLine trims s and reports whether it holds no control characters (so
// no line breaks).
func oneLine(s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return s, false
		}
	}
	return s, true
}

// multiLine trims s, turns CR LF and CR into LF, and reports whether it
// holds no control characters other than line feeds and tabs.
func multiLine(s string) (string, bool) {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
	for _, r := range s {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return s, false
		}
	}
	return s, true
}
