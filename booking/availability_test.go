package booking_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// countQueries counts the statements run on db from now on.
func countQueries(t *testing.T, db *gorm.DB) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	inc := func(*gorm.DB) { n.Add(1) }
	for _, err := range []error{
		db.Callback().Query().After("gorm:query").Register("test:count_query", inc),
		db.Callback().Row().After("gorm:row").Register("test:count_row", inc),
		db.Callback().Raw().After("gorm:raw").Register("test:count_raw", inc),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return &n
}

func TestAvailability(t *testing.T) {
	t.Parallel()
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, openDB(t, dialect), booking.Venue{}, 2)
		a := users(t, e.db, 3)
		admin := users(t, e.db, 1)[0]
		ctx := context.Background()
		u1, u2 := e.units[0], e.units[1]
		place := func(unit booking.Unit, artisan int64, first, last string, now time.Time) booking.Booking {
			t.Helper()
			b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit.ID, ArtisanID: artisan, FirstDay: first, LastDay: last, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		place(u1, a[0], "2031-04-02", "2031-04-03", t0)                      // held
		paid := place(u1, a[1], "2031-04-05", "2031-04-05", t0)              // confirmed below
		place(u2, a[2], "2031-04-01", "2031-04-02", t0.Add(-20*time.Minute)) // expired already: free
		if err := e.store.BlockDays(ctx, u2.ID, booking.DayRange{First: day(t, "2031-04-04"), Last: day(t, "2031-04-05")}, "roof repairs", admin, t0); err != nil {
			t.Fatal(err)
		}
		e.store.Now = func() time.Time { return t0 }
		if _, err := e.store.ConfirmBooking(ctx, paid.ID, "pi_1"); err != nil {
			t.Fatal(err)
		}

		queries := countQueries(t, e.db.DB)
		got, err := e.store.Availability(ctx, e.venue.Slug, day(t, "2031-04-01"), day(t, "2031-04-05"), t0)
		if err != nil {
			t.Fatal(err)
		}
		if n := queries.Load(); n > 4 {
			t.Errorf("availability ran %d queries, want at most 4 whatever the period", n)
		}
		d := func(s string) booking.Day { return day(t, s) }
		want := booking.Availability{From: d("2031-04-01"), To: d("2031-04-05"), Units: []booking.UnitAvailability{
			{ID: u1.ID, Code: "U001", Days: map[booking.Day]booking.DayState{
				d("2031-04-01"): "free", d("2031-04-02"): "held", d("2031-04-03"): "held", d("2031-04-04"): "free", d("2031-04-05"): "booked"}},
			{ID: u2.ID, Code: "U002", Days: map[booking.Day]booking.DayState{
				d("2031-04-01"): "free", d("2031-04-02"): "free", d("2031-04-03"): "free", d("2031-04-04"): "blocked", d("2031-04-05"): "blocked"}},
		}}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b booking.Day) bool { return a == b })); diff != "" {
			t.Fatalf("availability (-want +got):\n%s", diff)
		}

		// Blocked days refuse holds; live holds refuse blocks.
		_, err = e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: u2.ID, ArtisanID: a[0], FirstDay: "2031-04-03", LastDay: "2031-04-04", Now: t0})
		if diff := cmp.Diff([]string{"2031-04-04"}, conflictingDays(t, err)); diff != "" {
			t.Fatalf("hold on a blocked day (-want +got):\n%s", diff)
		}
		err = e.store.BlockDays(ctx, u1.ID, booking.DayRange{First: d("2031-04-03"), Last: d("2031-04-04")}, "", admin, t0)
		if diff := cmp.Diff([]string{"2031-04-03"}, conflictingDays(t, err)); diff != "" {
			t.Fatalf("block on a held day (-want +got):\n%s", diff)
		}
		if n, err := e.store.UnblockDays(ctx, u2.ID, booking.DayRange{First: d("2031-04-01"), Last: d("2031-04-30")}, t0); err != nil || n != 2 {
			t.Fatalf("unblock: %d days, %v; want 2", n, err)
		}
		if _, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: u2.ID, ArtisanID: a[0], FirstDay: "2031-04-03", LastDay: "2031-04-04", Now: t0}); err != nil {
			t.Fatalf("hold after unblocking: %v", err)
		}
	})
}

func TestAvailabilityPeriod(t *testing.T) {
	t.Parallel()
	e := newEnv(t, openDB(t, "sqlite"), booking.Venue{}, 1)
	ctx := context.Background()
	from := day(t, "2031-01-01")
	tests := []struct {
		name     string
		from, to booking.Day
		wantCode errs.Code
	}{
		{"OK one day", from, from, ""},
		{"OK 366 days", from, from.AddDays(365), ""},
		{"ErrTooLong", from, from.AddDays(366), errs.Invalid},
		{"ErrReversed", from, from.AddDays(-1), errs.Invalid},
		{"ErrMissing", booking.Day{}, from, errs.Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.store.Availability(ctx, e.venue.Slug, tt.from, tt.to, t0)
			if errs.CodeOf(err) != tt.wantCode {
				t.Fatalf("got %v, want %q", err, tt.wantCode)
			}
			if want := (booking.DayRange{First: tt.from, Last: tt.to}).Days(); err == nil && len(got.Units[0].Days) != want {
				t.Fatalf("%d days returned", len(got.Units[0].Days))
			}
		})
	}
	if _, err := e.store.Availability(ctx, "nowhere", from, from, t0); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown venue: got %v, want not found", err)
	}
}
