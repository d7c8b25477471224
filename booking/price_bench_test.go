package booking_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database/dbtest"
)

// BenchmarkPriceDays prices stays from a day to a year: days at the day
// rate, whole calendar months at the month rate.
func BenchmarkPriceDays(b *testing.B) {
	first := day(b, "2031-01-15")
	for _, n := range []int{1, 7, 31, 95, 365} {
		r := booking.DayRange{First: first, Last: first.AddDays(n - 1)}
		b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var sum int64
			for b.Loop() {
				sum += booking.PriceDays(r, 10_000, 200_000)
			}
			if sum <= 0 {
				b.Fatal("no price")
			}
		})
	}
}

// BenchmarkAvailability assembles a venue's 25 units × 7 and × 31 days
// with about half the days claimed, as GET /venues/{slug}/availability
// does: two queries, then every unit's days (its JSON apart: see
// BenchmarkAvailabilityAnswer).
func BenchmarkAvailability(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			e, first := availabilityScene(b, dialect)
			ctx := context.Background()
			for _, n := range []int{7, 31} {
				b.Run(fmt.Sprintf("units=25,days=%d", n), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						a, err := e.store.Availability(ctx, e.venue.Slug, first, first.AddDays(n-1), t0)
						if err != nil {
							b.Fatal(err)
						}
						if len(a.Units) != 25 {
							b.Fatalf("%d units", len(a.Units))
						}
					}
				})
			}
		})
	}
}

// BenchmarkPlaceHoldDays places holds of 1, 7 and 31 days, one after the
// other on distinct days of 16 units: the cost of inserting a booking's
// day claims (one row per day, in one statement) grows with the days.
func BenchmarkPlaceHoldDays(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			for _, n := range []int{1, 7, 31} {
				b.Run(fmt.Sprintf("days=%d", n), func(b *testing.B) {
					const units = 16
					e := newEnv(b, openDB(b, dialect), booking.Venue{}, units)
					artisan := users(b, e.db, 1)[0]
					ctx := context.Background()
					first := booking.DayOf(t0).AddDays(1)
					b.ReportAllocs()
					i := 0
					for b.Loop() {
						from := first.AddDays((i / units) * n)
						if _, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[i%units].ID, ArtisanID: artisan,
							FirstDay: from.String(), LastDay: from.AddDays(n - 1).String(), Now: t0}); err != nil {
							b.Fatal(err)
						}
						i++
					}
				})
			}
		})
	}
}
