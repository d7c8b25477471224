package booking_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database/dbtest"
)

// benchHolds runs b.N one-day holds from 16 goroutines; pick chooses the
// unit, the day and the instant of hold i. It reports holds per second.
func benchHolds(b *testing.B, e *env, pick func(i int64) (unitID int64, d booking.Day, now time.Time)) {
	artisan := users(b, e.db, 1)[0]
	ctx := context.Background()
	var next atomic.Int64
	var failed atomic.Int64
	b.SetParallelism(8)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			unitID, d, now := pick(next.Add(1) - 1)
			if _, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unitID, ArtisanID: artisan,
				FirstDay: d.String(), LastDay: d.String(), Now: now}); err != nil {
				failed.Add(1)
				b.Error(err)
			}
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "holds/s")
	if failed.Load() > 0 {
		b.Fatalf("%d of %d holds failed", failed.Load(), b.N)
	}
	_, _, last := pick(int64(b.N))
	assertSingle(b, e, last)
}

// Holds on many units at once: they share nothing but the tables.
func BenchmarkPlaceHoldDistinctUnits(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			const units = 64
			e := newEnv(b, openDB(b, dialect), booking.Venue{}, units)
			first := day(b, "2031-04-01")
			benchHolds(b, e, func(i int64) (int64, booking.Day, time.Time) {
				return e.units[i%units].ID, first.AddDays(int(i / units)), t0
			})
		})
	}
}

// Holds on one unit (each for another day, so all succeed): they queue
// on the unit's lock. Hold i is placed on day i, for the next day.
func BenchmarkPlaceHoldContested(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, openDB(b, dialect), booking.Venue{}, 1)
			first := booking.DayOf(t0).AddDays(1)
			benchHolds(b, e, func(i int64) (int64, booking.Day, time.Time) {
				return e.units[0].ID, first.AddDays(int(i)), t0.AddDate(0, 0, int(i))
			})
		})
	}
}

// Holds from concurrent goroutines spread over 1, 4 and 16 distinct units
// (each hold for another day of its unit, so all succeed): holds on one
// unit queue on its lock, holds on distinct units need not, so on MariaDB
// throughput should grow with the number of units. SQLite has one writer
// for the whole file, so there it stays flat. Hold i is on unit i mod n,
// on the (i/n)th day after t0, placed at t0 + i/n days.
func BenchmarkPlaceHoldByUnits(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			for _, n := range []int{1, 4, 16} {
				b.Run(fmt.Sprintf("units=%d", n), func(b *testing.B) {
					e := newEnv(b, openDB(b, dialect), booking.Venue{}, n)
					first := booking.DayOf(t0).AddDays(1)
					benchHolds(b, e, func(i int64) (int64, booking.Day, time.Time) {
						k := int(i) / n
						return e.units[int(i)%n].ID, first.AddDays(k), t0.AddDate(0, 0, k)
					})
				})
			}
		})
	}
}

// availabilityScene is a venue of 25 units, each with 3 days held and 3
// free over two months, and a blocked day in each fortnight's free run;
// first is the first day of those two months.
func availabilityScene(b *testing.B, dialect string) (*env, booking.Day) {
	b.Helper()
	e := newEnv(b, openDB(b, dialect), booking.Venue{}, 25)
	artisan := users(b, e.db, 1)[0]
	admin := users(b, e.db, 1)[0]
	ctx := context.Background()
	first := booking.DayOf(t0).AddDays(1)
	for i, u := range e.units {
		for d := i % 3; d < 62; d += 6 {
			from := first.AddDays(d)
			if _, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: u.ID, ArtisanID: artisan,
				FirstDay: from.String(), LastDay: from.AddDays(2).String(), Now: t0}); err != nil {
				b.Fatal(err)
			}
			if d%12 == i%3 {
				if err := e.store.BlockDays(ctx, u.ID, booking.DayRange{First: from.AddDays(3), Last: from.AddDays(3)}, "", admin, t0); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return e, first
}

// BenchmarkAvailabilityAnswer is the whole work of GET
// /venues/{slug}/availability past HTTP: the queries, the days of 25 units
// × 7 and × 31 days (about half claimed, some blocked) and their JSON
// written as the API writes it (AppendJSON).
func BenchmarkAvailabilityAnswer(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			e, first := availabilityScene(b, dialect)
			ctx := context.Background()
			for _, n := range []int{7, 31} {
				b.Run(fmt.Sprintf("units=25,days=%d", n), func(b *testing.B) {
					b.ReportAllocs()
					var buf []byte
					cpu := processCPU()
					for b.Loop() {
						a, err := e.store.Availability(ctx, e.venue.Slug, first, first.AddDays(n-1), t0)
						if err != nil {
							b.Fatal(err)
						}
						buf = a.AppendJSON(buf[:0])
					}
					b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
					b.ReportMetric(float64(len(buf)), "bytes/answer")
				})
			}
		})
	}
}
