package booking_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// openPools opens n separate pools on one database, as n `souk serve`
// processes would, each with its own store.
func openPools(t *testing.T, url string, n int) ([]*database.DB, []*booking.Store) {
	t.Helper()
	openMu.Lock()
	defer openMu.Unlock()
	var dbs []*database.DB
	var stores []*booking.Store
	for range n {
		db, err := database.Open(context.Background(), url, database.Options{MaxOpenConns: 60, MaxIdleConns: 60, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
		stores = append(stores, booking.NewStore(db, nil, quiet))
	}
	return dbs, stores
}

// Rule 1: no double booking. 100 concurrent requests from several server
// processes (separate pools on one database) for overlapping days of one
// unit: exactly one wins, every other gets a 409 naming exactly the days it
// shares with the winner, and the database holds no day claimed twice. Once
// the winner's hold expires, the next request wins.
func TestPlaceHoldNoDoubleBooking(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		openMu.Lock()
		url := dbtest.URL(t, dialect)
		openMu.Unlock()
		processes := 2
		if dialect == database.SQLite {
			processes = 4
		}
		dbs, stores := openPools(t, url, processes)
		if _, err := dbs[0].Migrate(ctx, quiet); err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, dbs[0], booking.Venue{}, 1)
		unit := e.units[0]
		const racers = 100
		artisans := users(t, dbs[0], racers+1)

		// Every range contains 2031-03-20, so any two overlap.
		base := day(t, "2031-03-15")
		ranges := make([]booking.DayRange, racers)
		for i := range ranges {
			ranges[i] = booking.DayRange{First: base.AddDays(i % 5), Last: base.AddDays(5 + i%3)}
		}
		type result struct {
			b   booking.Booking
			err error
		}
		results := make([]result, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				b, err := stores[i%processes].PlaceHold(ctx, booking.PlaceHoldInput{
					UnitID: unit.ID, ArtisanID: artisans[i], Now: t0,
					FirstDay: ranges[i].First.String(), LastDay: ranges[i].Last.String(),
				})
				results[i] = result{b, err}
			}()
		}
		close(start)
		wg.Wait()

		// The database's own account first: no day claimed twice.
		db := dbs[0]
		wins := int64(0)
		for _, r := range results {
			if r.err == nil {
				wins++
			}
		}
		testenv.Report(t, fmt.Sprintf("bookings: one unit, %d goroutines over %d pools (%s)", racers, processes, dialect), racers,
			max(wins-1, 0)+int64(len(overlappingBookings(t, dbs[0], e.venue.ID, t0))))
		assertSingle(t, e, t0)
		winner := -1
		for i, r := range results {
			if r.err == nil {
				if winner >= 0 {
					t.Fatalf("request %d won too (booking %d), after request %d (booking %d)", i, r.b.ID, winner, results[winner].b.ID)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("nobody won; first error: %v", results[0].err)
		}
		w := results[winner].b
		if w.Status != booking.StatusHeld || w.HoldExpiresAt == nil || !w.HoldExpiresAt.Equal(t0.Add(booking.CardHold)) {
			t.Fatalf("winner: status %s, hold until %v; want held for %v", w.Status, w.HoldExpiresAt, booking.CardHold)
		}
		for i, r := range results {
			if i == winner {
				continue
			}
			if !errs.Is(r.err, errs.Conflict) {
				t.Fatalf("request %d: got %v, want a conflict", i, r.err)
			}
			shared, _ := ranges[i].Overlap(w.Range())
			if diff := cmp.Diff(dayStrings(shared), conflictingDays(t, r.err)); diff != "" {
				t.Fatalf("request %d: conflicting days (-want +got):\n%s", i, diff)
			}
		}
		if n := count(t, db, "SELECT COUNT(*) FROM bookings WHERE unit_id = ?", unit.ID); n != 1 {
			t.Fatalf("%d bookings written, want 1 (the losers must leave nothing)", n)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM day_claims WHERE unit_id = ? AND booking_id = ?", unit.ID, w.ID); n != int64(w.Days) {
			t.Fatalf("winner owns %d claims, want %d", n, w.Days)
		}
		if n := count(t, db, "SELECT COUNT(*) FROM day_claims WHERE unit_id = ?", unit.ID); n != int64(w.Days) {
			t.Fatalf("%d claims in all, want %d", n, w.Days)
		}

		// The winner never pays. The instant its hold expires, the days are
		// free again: the next request wins without waiting for the sweeper.
		later := w.HoldExpiresAt.Add(time.Second)
		next, err := stores[processes-1].PlaceHold(ctx, booking.PlaceHoldInput{
			UnitID: unit.ID, ArtisanID: artisans[racers], Now: later,
			FirstDay: "2031-03-19", LastDay: "2031-03-22",
		})
		if err != nil {
			t.Fatalf("after the hold expired: %v", err)
		}
		assertSingle(t, e, later)
		if _, err := stores[0].ConfirmBooking(ctx, w.ID, "pi_late"); !errors.Is(err, booking.ErrHoldLost) {
			t.Fatalf("late payment of the expired winner: got %v, want ErrHoldLost", err)
		}
		assertSingle(t, e, later)
		if n := count(t, db, "SELECT COUNT(*) FROM day_claims WHERE unit_id = ?", unit.ID); n != int64(next.Days) {
			t.Fatalf("%d claims left, want only the %d of the new hold", n, next.Days)
		}
	})
}

// The rule-1 assertion must be able to fail: two overlapping live bookings
// written behind the store's back (as a version without the unit lock and
// the primary key would write them) are found.
func testOverlapCheckFindsDoubleBooking(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 1)
	a := users(t, e.db, 2)
	exp := t0.Add(time.Hour).UTC()
	for i, r := range []booking.DayRange{{First: day(t, "2031-04-01"), Last: day(t, "2031-04-05")}, {First: day(t, "2031-04-05"), Last: day(t, "2031-04-06")}} {
		b := booking.Booking{VenueID: e.venue.ID, UnitID: e.units[0].ID, ArtisanID: a[i], FirstDay: r.First, LastDay: r.Last, Days: r.Days(),
			Status: booking.StatusHeld, HoldExpiresAt: &exp, Amount: 1, Currency: "MAD", PaymentMethod: booking.PaymentCard,
			CreatedAt: t0, UpdatedAt: t0}
		if err := e.db.Create(&b).Error; err != nil {
			t.Fatal(err)
		}
	}
	if got := overlappingBookings(t, e.db, e.venue.ID, t0); len(got) != 1 {
		t.Fatalf("overlap check found %v, want the one pair", got)
	}
	// Once the holds have expired they no longer count.
	if got := overlappingBookings(t, e.db, e.venue.ID, t0.Add(2*time.Hour)); len(got) != 0 {
		t.Fatalf("expired holds counted as overlap: %v", got)
	}
}

// The primary key is the net under the lock: a claim row that is already
// there makes the insert fail as a 409 naming the day, even when the read
// under the lock missed it.
func testClaimPrimaryKeyIsTheNet(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 1)
	a := users(t, e.db, 2)
	ctx := context.Background()
	first, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: a[0], FirstDay: "2031-04-01", LastDay: "2031-04-03", Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	dup := fmt.Sprintf("INSERT INTO day_claims (unit_id, day, booking_id, state, expires_at) VALUES (%d, '2031-04-02', %d, 'held', ?)", e.units[0].ID, first.ID)
	if err := e.db.Exec(dup, t0.UTC().Add(time.Hour)).Error; err == nil || !database.IsDuplicate(err) {
		t.Fatalf("second claim on one unit-day: got %v, want a duplicate key", err)
	}
}

// Holds on distinct units never wait for each other's lock or claims.
func testPlaceHoldDistinctUnitsDoNotBlock(t *testing.T, db *database.DB) {
	const n = 24
	e := newEnv(t, db, booking.Venue{}, n)
	a := users(t, e.db, n)
	ctx := context.Background()
	errsOut := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errsOut[i] = e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[i].ID, ArtisanID: a[i], FirstDay: "2031-04-01", LastDay: "2031-04-30", Now: t0})
		}()
	}
	close(start)
	wg.Wait()
	for i, err := range errsOut {
		if err != nil {
			t.Errorf("unit %d: %v", i, err)
		}
	}
	assertSingle(t, e, t0)
	if got := count(t, db, "SELECT COUNT(*) FROM day_claims c JOIN units u ON u.id = c.unit_id WHERE u.venue_id = ?", e.venue.ID); got != n*30 {
		t.Fatalf("%d claims, want %d", got, n*30)
	}
}
