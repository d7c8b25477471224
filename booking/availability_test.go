package booking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
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
		if n := queries.Load(); n != 2 {
			t.Errorf("availability ran %d queries, want 2 whatever the period", n)
		}
		d := func(s string) booking.Day { return day(t, s) }
		want := booking.Availability{From: d("2031-04-01"), To: d("2031-04-05"), Units: []booking.UnitAvailability{
			{ID: u1.ID, Code: "U001", First: d("2031-04-01"), Days: []booking.DayState{"free", "held", "held", "free", "booked"}},
			{ID: u2.ID, Code: "U002", First: d("2031-04-01"), Days: []booking.DayState{"free", "free", "free", "blocked", "blocked"}},
		}}
		if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b booking.Day) bool { return a == b })); diff != "" {
			t.Fatalf("availability (-want +got):\n%s", diff)
		}
		if st := got.Units[0].On(d("2031-04-05")); st != booking.DayBooked {
			t.Errorf("U001 on 2031-04-05 is %q, want booked", st)
		}
		if st := got.Units[0].On(d("2031-04-06")); st != "" {
			t.Errorf("U001 on a day after the period is %q, want none", st)
		}
		if st := got.Units[0].On(d("2031-03-31")); st != "" {
			t.Errorf("U001 on a day before the period is %q, want none", st)
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

// legacyAvailability is how availability was assembled and written before
// the days became slices: the four queries, a map of days per unit, and
// encoding/json. It is the oracle the JSON of the API must still equal
// byte for byte (api/openapi.yaml documents that shape).
func legacyAvailability(t *testing.T, db *gorm.DB, slug string, from, to booking.Day, now time.Time) []byte {
	t.Helper()
	type unitJSON struct {
		ID   int64                            `json:"id"`
		Code string                           `json:"code"`
		Days map[booking.Day]booking.DayState `json:"days"`
	}
	type availJSON struct {
		From  booking.Day `json:"from"`
		To    booking.Day `json:"to"`
		Units []unitJSON  `json:"units"`
	}
	now = now.UTC().Truncate(time.Microsecond)
	var v booking.Venue
	if err := db.Where("slug = ? AND active = ?", slug, true).Take(&v).Error; err != nil {
		t.Fatal(err)
	}
	var units []booking.Unit
	if err := db.Where("venue_id = ? AND active = ?", v.ID, true).Order("code").Find(&units).Error; err != nil {
		t.Fatal(err)
	}
	var claims []booking.Claim
	if err := db.Raw(`SELECT c.unit_id, c.day, c.booking_id, c.state, c.expires_at
		FROM day_claims c JOIN units u ON u.id = c.unit_id
		WHERE u.venue_id = ? AND c.day BETWEEN ? AND ?`, v.ID, from, to).Scan(&claims).Error; err != nil {
		t.Fatal(err)
	}
	var blocks []booking.Block
	if err := db.Raw(`SELECT b.unit_id, b.day FROM unit_blocks b JOIN units u ON u.id = b.unit_id
		WHERE u.venue_id = ? AND b.day BETWEEN ? AND ?`, v.ID, from, to).Scan(&blocks).Error; err != nil {
		t.Fatal(err)
	}
	days := booking.DayRange{First: from, Last: to}.List()
	out := availJSON{From: from, To: to, Units: make([]unitJSON, len(units))}
	index := make(map[int64]int, len(units))
	for i, u := range units {
		index[u.ID] = i
		m := make(map[booking.Day]booking.DayState, len(days))
		for _, d := range days {
			m[d] = booking.DayFree
		}
		out.Units[i] = unitJSON{ID: u.ID, Code: u.Code, Days: m}
	}
	for _, c := range claims {
		i, ok := index[c.UnitID]
		if !ok || !c.Live(now) {
			continue
		}
		if c.State == booking.ClaimConfirmed {
			out.Units[i].Days[c.Day] = booking.DayBooked
		} else {
			out.Units[i].Days[c.Day] = booking.DayHeld
		}
	}
	for _, b := range blocks {
		if i, ok := index[b.UnitID]; ok {
			out.Units[i].Days[b.Day] = booking.DayBlocked
		}
	}
	j, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// The availability's JSON is byte for byte what the map-based version
// wrote, on varied data: live, expired and confirmed holds, a fair's stall
// booking, blocks (one over an expired hold), an inactive unit, units of
// another venue, codes that JSON escapes, periods of one day, across month
// and year ends, and a venue without units.
func TestAvailabilityJSONUnchanged(t *testing.T) {
	t.Parallel()
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		db := openDB(t, dialect)
		e := newEnv(t, db, booking.Venue{}, 6)
		other := newEnv(t, db, booking.Venue{Slug: "tafraout"}, 2)
		empty := newEnv(t, db, booking.Venue{Slug: "ameln"}, 0)
		artisans := users(t, db, 4)
		admin := users(t, db, 1)[0]
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(10, uint64(len(dialect))))
		first := day(t, "2031-03-20")
		place := func(s *booking.Store, u booking.Unit, from booking.Day, n int, now time.Time) (booking.Booking, bool) {
			b, err := s.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: u.ID, ArtisanID: artisans[rng.IntN(len(artisans))],
				FirstDay: from.String(), LastDay: from.AddDays(n - 1).String(), Now: now})
			if errs.Is(err, errs.Conflict) {
				return b, false
			}
			if err != nil {
				t.Fatal(err)
			}
			return b, true
		}
		e.store.Now = func() time.Time { return t0 }
		for range 60 {
			u := e.units[rng.IntN(len(e.units))]
			from := first.AddDays(rng.IntN(300))
			now := t0.Add(-time.Duration(rng.IntN(40)) * time.Minute) // some holds expired by t0
			b, ok := place(e.store, u, from, 1+rng.IntN(6), now)
			if ok && rng.IntN(3) == 0 && !now.Before(t0.Add(-10*time.Minute)) {
				if _, err := e.store.ConfirmBooking(ctx, b.ID, fmt.Sprintf("pi_%d", b.ID)); err != nil {
					t.Fatal(err)
				}
			}
		}
		for range 15 {
			u := e.units[rng.IntN(len(e.units))]
			from := first.AddDays(rng.IntN(300))
			err := e.store.BlockDays(ctx, u.ID, booking.DayRange{First: from, Last: from.AddDays(rng.IntN(3))}, "works", admin, t0)
			if err != nil && !errs.Is(err, errs.Conflict) {
				t.Fatal(err)
			}
		}
		// A block over a hold that has expired: the day is blocked.
		if _, ok := place(e.store, e.units[0], day(t, "2031-03-31"), 2, t0.Add(-time.Hour)); !ok {
			t.Fatal("no hold on 2031-03-31")
		}
		if err := e.store.BlockDays(ctx, e.units[0].ID, booking.DayRange{First: day(t, "2031-04-01"), Last: day(t, "2031-04-01")}, "", admin, t0); err != nil {
			t.Fatal(err)
		}
		// A fair's stall, booked for the whole fair.
		ev, err := e.store.CreateEvent(ctx, booking.Event{VenueID: e.venue.ID, Name: booking.Text{"fr": "Foire"},
			FirstDay: day(t, "2031-04-28"), LastDay: day(t, "2031-05-02"), StallPrice: 50000})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[5].ID, ArtisanID: artisans[0], EventID: ev.ID, Now: t0}); err != nil {
			t.Fatal(err)
		}
		// The other venue's claims and blocks never show.
		place(other.store, other.units[0], day(t, "2031-04-01"), 5, t0)
		if err := other.store.BlockDays(ctx, other.units[1].ID, booking.DayRange{First: day(t, "2031-04-02"), Last: day(t, "2031-04-03")}, "", admin, t0); err != nil {
			t.Fatal(err)
		}
		// An inactive unit, with its claims, is left out.
		place(e.store, e.units[4], day(t, "2031-04-10"), 3, t0)
		if _, err := e.store.UpdateUnit(ctx, e.units[4].ID, booking.UnitPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		// Codes JSON must escape or that sort differently from their ids.
		codes := map[int]string{1: `B&<"é>`, 2: "A-\u2028", 5: "C&D"}
		if dialect == "sqlite" {
			codes[3] = "Z\xff" // invalid UTF-8: MariaDB refuses it
		}
		for i, code := range codes {
			if err := db.Exec("UPDATE units SET code = ? WHERE id = ?", code, e.units[i].ID).Error; err != nil {
				t.Fatal(err)
			}
		}

		periods := []struct{ from, to string }{
			{"2031-03-20", "2031-03-20"},
			{"2031-03-25", "2031-04-05"}, // over a month end
			{"2031-04-26", "2031-05-26"}, // 31 days, the fair
			{"2031-12-20", "2032-01-15"}, // over a year end
			{"2031-03-01", "2032-02-29"}, // 366 days, a leap day
			{"2030-01-01", "2030-01-07"}, // nothing booked
			{"2031-02-25", "2031-03-02"}, // February
		}
		for _, p := range periods {
			for _, now := range []time.Time{t0, t0.Add(-30 * time.Minute), t0.Add(time.Hour)} {
				from, to := day(t, p.from), day(t, p.to)
				for _, slug := range []string{e.venue.Slug, other.venue.Slug, empty.venue.Slug} {
					want := legacyAvailability(t, db.DB, slug, from, to, now)
					a, err := e.store.Availability(ctx, slug, from, to, now)
					if err != nil {
						t.Fatal(err)
					}
					got, err := json.Marshal(a)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("%s %s..%s at %s: JSON differs\n got %s\nwant %s", slug, p.from, p.to, now, got, want)
					}
					if appended := a.AppendJSON([]byte("x")); !bytes.Equal(appended[1:], want) || appended[0] != 'x' {
						t.Fatalf("%s %s..%s: AppendJSON differs from the JSON", slug, p.from, p.to)
					}
					for _, u := range a.Units {
						uj, err := json.Marshal(u)
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Contains(want, uj) {
							t.Fatalf("unit %d alone writes %s, not part of %s", u.ID, uj, want)
						}
					}
				}
			}
		}
		// Make sure the data above exercised every state.
		a, err := e.store.Availability(ctx, e.venue.Slug, first, first.AddDays(365), t0)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[booking.DayState]int{}
		for _, u := range a.Units {
			for _, st := range u.Days {
				seen[st]++
			}
		}
		for _, st := range []booking.DayState{booking.DayFree, booking.DayHeld, booking.DayBooked, booking.DayBlocked} {
			if seen[st] == 0 {
				t.Errorf("no day is %s: the data does not cover every state", st)
			}
		}
	})
}

// Day keys past the year 9999 are written in the order encoding/json
// sorts map keys in (as strings), not in date order.
func TestAvailabilityJSONFarFuture(t *testing.T) {
	from := booking.NewDay(9999, 12, 30)
	a := booking.Availability{From: from, To: from.AddDays(3), Units: []booking.UnitAvailability{
		{ID: 1, Code: "U1", First: from, Days: []booking.DayState{"free", "held", "booked", "blocked"}}}}
	m := map[booking.Day]booking.DayState{}
	for i, st := range a.Units[0].Days {
		m[from.AddDays(i)] = st
	}
	want, err := json.Marshal(struct {
		From  booking.Day `json:"from"`
		To    booking.Day `json:"to"`
		Units []any       `json:"units"`
	}{a.From, a.To, []any{struct {
		ID   int64                            `json:"id"`
		Code string                           `json:"code"`
		Days map[booking.Day]booking.DayState `json:"days"`
	}{1, "U1", m}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
