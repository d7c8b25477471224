package booking_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// t0 is "now" in most tests: 10:00 in Tiznit on 10 March 2031.
var t0 = time.Date(2031, 3, 10, 10, 0, 0, 0, booking.Zone)

func day(tb testing.TB, s string) booking.Day {
	tb.Helper()
	d, err := booking.ParseDay(s)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// env is a migrated database with a store, a venue and its units.
type env struct {
	db    *database.DB
	store *booking.Store
	venue booking.Venue
	units []booking.Unit
}

// openMu serialises opening databases: database.Open sets the MySQL
// driver's global logger, which the driver reads while parsing a DSN, so
// opening in parallel tests is a data race.
var openMu sync.Mutex

// openDB returns a fresh, migrated database of the dialect.
func openDB(tb testing.TB, dialect string) *database.DB {
	tb.Helper()
	openMu.Lock()
	defer openMu.Unlock()
	return dbtest.Open(tb, dialect)
}

var venueSeq atomic.Int64

// newEnv creates, in db, a venue like v with n units (100 MAD a day, 2,000
// MAD a month). The venue's slug is made unique so that tests can share one
// database.
func newEnv(tb testing.TB, db *database.DB, v booking.Venue, n int) *env {
	tb.Helper()
	ctx := context.Background()
	s := booking.NewStore(db, nil, quiet)
	if v.Slug == "" {
		v.Slug = "aouartas-zone"
	}
	v.Slug = fmt.Sprintf("%s-%d", v.Slug, venueSeq.Add(1))
	if v.Name == "" {
		v.Name = "Aouartas artisan and services zone"
	}
	v.Commune = "Tiznit"
	if v.Kind == "" {
		v.Kind = "zone"
	}
	v.Description = booking.Text{"fr": "25 unités pour artisans", "en": "25 units for artisans"}
	venue, err := s.CreateVenue(ctx, v)
	if err != nil {
		tb.Fatalf("create venue: %v", err)
	}
	e := &env{db: db, store: s, venue: venue}
	for i := range n {
		u, err := s.CreateUnit(ctx, booking.Unit{
			VenueID: venue.ID, Code: fmt.Sprintf("U%03d", i+1), AreaM2: 40, Trades: booking.StringList{"any"},
			DayRate: 10000, MonthRate: 200000,
			Shape: booking.Shape{Kind: booking.ShapeRect, X: (i % 20) * 50, Y: (i / 20) * 40, W: 50, H: 40},
		})
		if err != nil {
			tb.Fatalf("create unit: %v", err)
		}
		e.units = append(e.units, u)
	}
	return e
}

var userSeq struct {
	sync.Mutex
	n int
}

// users inserts n users (artisans) and returns their ids.
func users(tb testing.TB, db *database.DB, n int) []int64 {
	tb.Helper()
	userSeq.Lock()
	first := userSeq.n
	userSeq.n += n
	userSeq.Unlock()
	now := time.Now().UTC()
	var q strings.Builder
	q.WriteString("INSERT INTO users (email, email_norm, name, password_hash, created_at, updated_at) VALUES ")
	var args []any
	for i := range n {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?,?,?,?,?,?)")
		email := fmt.Sprintf("artisan%d@souk.test", first+i)
		args = append(args, email, email, fmt.Sprintf("Artisan %d", first+i), "x", now, now)
	}
	if err := db.Exec(q.String(), args...).Error; err != nil {
		tb.Fatalf("insert users: %v", err)
	}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("artisan%d@souk.test", first+i)
	}
	var ids []int64
	if err := db.Raw("SELECT id FROM users WHERE email IN ? ORDER BY id", emails).Scan(&ids).Error; err != nil || len(ids) != n {
		tb.Fatalf("read users back: %d of %d, %v", len(ids), n, err)
	}
	return ids
}

// conflictingDays returns the days of a 409, or fails the test when err is
// not a Conflict that names its days.
func conflictingDays(tb testing.TB, err error) []string {
	tb.Helper()
	e := errs.As(err)
	if e == nil || e.Code != errs.Conflict {
		tb.Fatalf("got %v, want a conflict", err)
	}
	days, ok := e.Extra["conflicting_days"].([]string)
	if !ok || len(days) == 0 {
		tb.Fatalf("conflict %v names no conflicting_days (extra %v)", err, e.Extra)
	}
	return days
}

func fieldsOf(err error) []string {
	e := errs.As(err)
	if e == nil {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return out
}

func dayStrings(r booking.DayRange) []string {
	var out []string
	for _, d := range r.List() {
		out = append(out, d.String())
	}
	return out
}

// overlappingBookings is the independent check of rule 1: it looks at the
// bookings, not at the claims, and lists every pair of live bookings (held
// and unexpired at now, or confirmed) of one unit of the venue whose days
// overlap — that is, every day claimed twice. It must always return
// nothing. (Tests share databases, each with a clock of its own: each
// checks its own venue.)
func overlappingBookings(tb testing.TB, db *database.DB, venueID int64, now time.Time) []string {
	tb.Helper()
	now = now.UTC().Truncate(time.Microsecond)
	var pairs []struct {
		UnitID, A, B int64
	}
	err := db.Raw(`SELECT a.unit_id, a.id AS a, b.id AS b
		FROM bookings a JOIN bookings b
		  ON a.unit_id = b.unit_id AND a.id < b.id AND a.first_day <= b.last_day AND b.first_day <= a.last_day
		WHERE a.venue_id = ?
		  AND (a.status = 'confirmed' OR (a.status = 'held' AND a.hold_expires_at >= ?))
		  AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at >= ?))`, venueID, now, now).Scan(&pairs).Error
	if err != nil {
		tb.Fatalf("overlap query: %v", err)
	}
	var out []string
	for _, p := range pairs {
		out = append(out, fmt.Sprintf("unit %d: bookings %d and %d overlap", p.UnitID, p.A, p.B))
	}
	return out
}

// claimMismatches lists the venue's live bookings that do not own exactly
// one claim per day, and claims owned by anything but a held or confirmed
// booking.
func claimMismatches(tb testing.TB, db *database.DB, venueID int64, now time.Time) []string {
	tb.Helper()
	now = now.UTC().Truncate(time.Microsecond)
	var bad []struct {
		ID    int64
		Days  int
		Owned int
	}
	if err := db.Raw(`SELECT b.id, b.days, (SELECT COUNT(*) FROM day_claims c WHERE c.booking_id = b.id AND c.day BETWEEN b.first_day AND b.last_day) AS owned
		FROM bookings b
		WHERE b.venue_id = ? AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at >= ?))`, venueID, now).Scan(&bad).Error; err != nil {
		tb.Fatalf("claims query: %v", err)
	}
	var out []string
	for _, b := range bad {
		if b.Days != b.Owned {
			out = append(out, fmt.Sprintf("booking %d: %d days, %d claims", b.ID, b.Days, b.Owned))
		}
	}
	var orphans int64
	if err := db.Raw(`SELECT COUNT(*) FROM day_claims c JOIN bookings b ON b.id = c.booking_id
		WHERE b.venue_id = ? AND b.status NOT IN ('held', 'confirmed')`, venueID).Scan(&orphans).Error; err != nil {
		tb.Fatalf("orphan query: %v", err)
	}
	if orphans > 0 {
		out = append(out, fmt.Sprintf("%d claims owned by bookings neither held nor confirmed", orphans))
	}
	return out
}

// assertSingle fails the test when rule 1 is broken at the env's venue.
func assertSingle(tb testing.TB, e *env, now time.Time) {
	tb.Helper()
	if o := overlappingBookings(tb, e.db, e.venue.ID, now); len(o) > 0 {
		tb.Fatalf("RULE 1 BROKEN: days claimed twice:\n%s", strings.Join(o, "\n"))
	}
	if m := claimMismatches(tb, e.db, e.venue.ID, now); len(m) > 0 {
		tb.Fatalf("claims do not match bookings:\n%s", strings.Join(m, "\n"))
	}
}

func count(tb testing.TB, db *database.DB, q string, args ...any) int64 {
	tb.Helper()
	var n int64
	if err := db.Raw(q, args...).Scan(&n).Error; err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}
