// Package booking owns the spaces artisans rent — venues, their units and
// floor plans, fairs — and the bookings of those units: availability, day
// claims, holds, confirmation after payment, cancellation with the venue's
// refund policy, applications reviewed by an administrator, the waitlist,
// leases paid by monthly invoices (lease.go), closing the checkouts of
// lapsed card holds (checkout.go) and the occupancy, revenue and tenants
// reports.
//
// Rule 1 (no double booking) lives in claims.go: every held or confirmed
// booking owns one day_claims row per unit and day, under a primary key
// (unit_id, day), written while the unit's row is locked.
//
// The package is the domain layer: it talks to the database through GORM
// and knows nothing of HTTP.
package booking

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Notifier tells an artisan about something the store did on their behalf
// while they were away. The store calls it after the change is committed;
// an error is logged and does not undo the change.
type Notifier interface {
	// WaitlistOffered says that days an artisan waited for were freed and
	// are now held for them until the offer's hold expires.
	WaitlistOffered(ctx context.Context, o WaitlistOffer) error
}

// Store reads and writes venues, units, events, bookings, claims, blocks and
// the waitlist. It keeps no state of its own between calls: any number of
// Stores in any number of processes may share one database.
type Store struct {
	db     *database.DB
	notify Notifier
	log    *slog.Logger

	// Now is the clock used where a method takes no explicit time
	// (ConfirmBooking). Tests replace it.
	Now func() time.Time
}

// NewStore returns a Store on db. notifier may be nil (offers are then
// recorded but nobody is told); log may be nil.
func NewStore(db *database.DB, notifier Notifier, log *slog.Logger) *Store {
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Store{db: db, notify: notifier, log: log, Now: time.Now}
}

// instant normalises a time to what both databases store exactly: UTC,
// microseconds.
func instant(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func (s *Store) now(t time.Time) time.Time {
	if t.IsZero() {
		t = s.Now()
	}
	return instant(t)
}

func (s *Store) mysql() bool { return s.db.Dialect == database.MySQL }

// forUpdate is the row-lock suffix of a SELECT: FOR UPDATE on MySQL. SQLite
// has no row locks and needs none: lockUnit holds its single write lock.
func (s *Store) forUpdate() string {
	if s.mysql() {
		return " FOR UPDATE"
	}
	return ""
}

// Text is a text in several languages, keyed "ar", "fr", "en".
type Text map[string]string

// Languages lists the languages a Text may hold.
var Languages = []string{"ar", "fr", "en"}

// Value writes the text as a JSON object.
func (t Text) Value() (driver.Value, error) {
	if t == nil {
		return "{}", nil
	}
	return jsonValue(map[string]string(t))
}

// Scan reads a JSON object.
func (t *Text) Scan(src any) error { return jsonScan(src, (*map[string]string)(t)) }

// GormDataType tells GORM the column holds JSON.
func (Text) GormDataType() string { return "json" }

func (t Text) validate(f *errs.Fields, field string, required bool, maxLen int) {
	if required && len(t) == 0 {
		f.Add(field, "needs a text in at least one of ar, fr, en")
	}
	for k, v := range t {
		if !slices.Contains(Languages, k) {
			f.Add(field, "language %q is not one of ar, fr, en", k)
			continue
		}
		if len(v) > maxLen {
			f.Add(field+"."+k, "must be at most %d bytes", maxLen)
		}
	}
}

// StringList is a list of short strings stored as a JSON array (trades,
// amenities).
type StringList []string

// Value writes the list as a JSON array.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	return jsonValue([]string(l))
}

// Scan reads a JSON array.
func (l *StringList) Scan(src any) error { return jsonScan(src, (*[]string)(l)) }

// GormDataType tells GORM the column holds JSON.
func (StringList) GormDataType() string { return "json" }

// OpeningHours maps a weekday ("mon" … "sun") to its hours as shown to
// visitors ("09:00-13:00, 15:00-19:00"); a missing day is closed.
type OpeningHours map[string]string

// Weekdays are the keys OpeningHours may hold.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Value writes the hours as a JSON object.
func (h OpeningHours) Value() (driver.Value, error) {
	if h == nil {
		return "{}", nil
	}
	return jsonValue(map[string]string(h))
}

// Scan reads a JSON object.
func (h *OpeningHours) Scan(src any) error { return jsonScan(src, (*map[string]string)(h)) }

// GormDataType tells GORM the column holds JSON.
func (OpeningHours) GormDataType() string { return "json" }

func jsonValue(v any) (driver.Value, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

func jsonScan(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("scan JSON from %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("scan JSON: %w", err)
	}
	return nil
}
