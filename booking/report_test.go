package booking_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
)

func testOccupancyAndRevenue(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 2)
	a := users(t, e.db, 1)[0]
	admin := users(t, e.db, 1)[0]
	ctx := context.Background()
	u1, u2 := e.units[0], e.units[1]
	now := time.Date(2031, 2, 1, 10, 0, 0, 0, booking.Zone)
	paidOn := time.Date(2031, 2, 3, 12, 0, 0, 0, booking.Zone)
	confirm := func(unit booking.Unit, first, last string) booking.Booking {
		t.Helper()
		b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit.ID, ArtisanID: a, FirstDay: first, LastDay: last, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		e.store.Now = func() time.Time { return paidOn }
		if b, err = e.store.ConfirmBooking(ctx, b.ID, "pi_"+first); err != nil {
			t.Fatal(err)
		}
		return b
	}
	confirm(u1, "2031-02-25", "2031-03-04")              // 4 days in March; 8 days, 800 MAD
	confirm(u1, "2031-03-10", "2031-03-19")              // 10 days; 1,000 MAD
	cancelled := confirm(u2, "2031-03-20", "2031-03-21") // cancelled below: not occupied
	if _, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: u2.ID, ArtisanID: a, FirstDay: "2031-03-01", LastDay: "2031-03-05", Now: now}); err != nil {
		t.Fatal(err) // held, not paid: not occupied
	}
	if err := e.store.BlockDays(ctx, u2.ID, booking.DayRange{First: day(t, "2031-03-28"), Last: day(t, "2031-04-02")}, "painting", admin, now); err != nil {
		t.Fatal(err)
	}
	refund, err := e.store.CancelBooking(ctx, cancelled.ID, a, time.Date(2031, 3, 1, 9, 0, 0, 0, booking.Zone))
	if err != nil || refund != 20000 {
		t.Fatalf("cancel: refund %d, %v", refund, err)
	}

	occ, err := e.store.Occupancy(ctx, e.venue.ID, booking.Month{Year: 2031, Month: time.March})
	if err != nil {
		t.Fatal(err)
	}
	want := booking.OccupancyReport{VenueID: e.venue.ID, Month: booking.Month{Year: 2031, Month: time.March},
		AvailableUnitDays: 31 + 27, BookedUnitDays: 14, Rate: 14.0 / 58,
		Units: []booking.UnitOccupancy{
			{UnitID: u1.ID, Code: "U001", AvailableDays: 31, BookedDays: 14, Rate: 14.0 / 31},
			{UnitID: u2.ID, Code: "U002", AvailableDays: 27, BookedDays: 0, Rate: 0},
		}}
	if diff := cmp.Diff(want, occ); diff != "" {
		t.Fatalf("occupancy (-want +got):\n%s", diff)
	}

	rev, err := e.store.Revenue(ctx, e.venue.ID, day(t, "2031-02-01"), day(t, "2031-03-31"))
	if err != nil {
		t.Fatal(err)
	}
	wantRev := booking.RevenueReport{VenueID: e.venue.ID, From: day(t, "2031-02-01"), To: day(t, "2031-03-31"), Currency: "MAD",
		Bookings: 3, Gross: 80000 + 100000 + 20000, Refunds: 20000, Net: 180000,
		Units: []booking.UnitRevenue{
			{UnitID: u1.ID, Code: "U001", Bookings: 2, Gross: 180000, Net: 180000},
			{UnitID: u2.ID, Code: "U002", Bookings: 1, Gross: 20000, Refunds: 20000, Net: 0},
		}}
	if diff := cmp.Diff(wantRev, rev, cmp.Comparer(func(a, b booking.Day) bool { return a == b })); diff != "" {
		t.Fatalf("revenue (-want +got):\n%s", diff)
	}
	// Payments made on 3 February are outside a March-only period.
	rev, err = e.store.Revenue(ctx, e.venue.ID, day(t, "2031-03-01"), day(t, "2031-03-31"))
	if err != nil || rev.Gross != 0 || rev.Refunds != 20000 {
		t.Fatalf("March revenue: %+v, %v", rev, err)
	}
}
