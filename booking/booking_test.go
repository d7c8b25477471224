package booking_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// PlaceHold checks the days against the venue's limits, in Tiznit's
// calendar, and computes the amount itself.
func testPlaceHoldDays(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{Stay: booking.StayLimits{MaxDays: 40, LeadDays: 1}}, 1)
	a := users(t, e.db, 1)[0]
	ctx := context.Background()
	// 23:30 UTC on 19 November is 00:30 on the 20th in Tiznit.
	now := time.Date(2031, 11, 19, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name        string
		first, last string
		wantDays    int
		wantAmount  int64
		wantFields  []string
	}{
		{"OK one day", "2031-11-22", "2031-11-22", 1, 10000, nil},
		{"OK across a year end", "2031-12-30", "2032-01-02", 4, 40000, nil},
		{"OK across a month end", "2032-01-30", "2032-02-02", 4, 40000, nil},
		{"OK whole month and days", "2032-02-25", "2032-04-02", 38, 200000 + 5*10000 + 2*10000, nil},
		{"ErrLastBeforeFirst", "2031-11-26", "2031-11-25", 0, 0, []string{"last_day"}},
		{"ErrPast", "2031-11-19", "2031-11-23", 0, 0, []string{"first_day"}},
		{"ErrLeadTime", "2031-11-20", "2031-11-21", 0, 0, []string{"first_day"}},
		{"ErrTooLong", "2032-05-01", "2032-06-10", 0, 0, []string{"last_day"}},
		{"ErrFormat", "2031-11-22", "2032/01/02", 0, 0, []string{"last_day"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: a, FirstDay: tt.first, LastDay: tt.last, Now: now})
			if tt.wantFields != nil {
				if !errs.Is(err, errs.Invalid) {
					t.Fatalf("got %v, want invalid", err)
				}
				if diff := cmp.Diff(tt.wantFields, fieldsOf(err)); diff != "" {
					t.Fatalf("fields (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := e.store.FindBooking(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.FirstDay.String() != tt.first || got.LastDay.String() != tt.last || got.Days != tt.wantDays || got.Amount != tt.wantAmount || got.Currency != "MAD" {
				t.Fatalf("stored %s..%s, %d days, %d %s; want %s..%s, %d days, %d MAD",
					got.FirstDay, got.LastDay, got.Days, got.Amount, got.Currency, tt.first, tt.last, tt.wantDays, tt.wantAmount)
			}
		})
	}
	if n := count(t, db, "SELECT COUNT(*) FROM bookings WHERE venue_id = ?", e.venue.ID); n != 4 {
		t.Fatalf("%d bookings, want the 4 valid ones (invalid requests write nothing)", n)
	}
	assertSingle(t, e, now)
}

// Fair stalls are booked for the whole fair at the stall price, by
// eligible trades, until the deadline.
func testPlaceHoldFairStall(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{Slug: "ameln-fair", Kind: booking.KindFair}, 2)
	a := users(t, e.db, 2)
	ctx := context.Background()
	ev, err := e.store.CreateEvent(ctx, booking.Event{VenueID: e.venue.ID, Name: booking.Text{"fr": "Festival de l'amande", "en": "Almond Festival"},
		FirstDay: day(t, "2031-03-20"), LastDay: day(t, "2031-03-23"), StallPrice: 75000, ApplicationDeadline: day(t, "2031-03-15"),
		EligibleTrades: booking.StringList{"pottery", "silver-jewellery"}})
	if err != nil {
		t.Fatal(err)
	}
	in := booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: a[0], EventID: ev.ID, Trade: "pottery", Now: t0}

	noEvent := in
	noEvent.EventID, noEvent.FirstDay, noEvent.LastDay = 0, "2031-03-20", "2031-03-23"
	if _, err := e.store.PlaceHold(ctx, noEvent); !errs.Is(err, errs.Invalid) {
		t.Fatalf("fair stall without an event: got %v, want invalid", err)
	}
	wrongTrade := in
	wrongTrade.Trade = "carpentry"
	if _, err := e.store.PlaceHold(ctx, wrongTrade); !errs.Is(err, errs.Invalid) || !cmp.Equal(fieldsOf(err), []string{"trade"}) {
		t.Fatalf("ineligible trade: got %v, want invalid trade", err)
	}
	partDays := in
	partDays.FirstDay, partDays.LastDay = "2031-03-21", "2031-03-22"
	if _, err := e.store.PlaceHold(ctx, partDays); !errs.Is(err, errs.Invalid) {
		t.Fatalf("part of the fair: got %v, want invalid", err)
	}
	late := in
	late.Now = time.Date(2031, 3, 16, 9, 0, 0, 0, booking.Zone)
	if _, err := e.store.PlaceHold(ctx, late); !errs.Is(err, errs.Conflict) {
		t.Fatalf("after the deadline: got %v, want conflict", err)
	}

	b, err := e.store.PlaceHold(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if b.Amount != 75000 || b.FirstDay != ev.FirstDay || b.LastDay != ev.LastDay || b.EventID == nil || *b.EventID != ev.ID {
		t.Fatalf("stall booking %+v: want the whole fair at 750 MAD", b)
	}
	other := in
	other.ArtisanID = a[1]
	if _, err := e.store.PlaceHold(ctx, other); !errs.Is(err, errs.Conflict) {
		t.Fatalf("same stall twice: got %v, want conflict", err)
	}
	other.UnitID = e.units[1].ID
	if _, err := e.store.PlaceHold(ctx, other); err != nil {
		t.Fatalf("another stall: %v", err)
	}
	assertSingle(t, e, t0)
}

// The same Idempotency-Key from the same artisan returns the same booking
// and claims nothing more, even when the retries race each other.
func testPlaceHoldIdempotencyKey(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 2)
	a := users(t, e.db, 2)
	ctx := context.Background()
	in := booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: a[0], FirstDay: "2031-04-01", LastDay: "2031-04-05", IdempotencyKey: "key-1", Now: t0}
	first, err := e.store.PlaceHold(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	const retries = 10
	got := make([]booking.Booking, retries)
	errsOut := make([]error, retries)
	var wg sync.WaitGroup
	for i := range retries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			retry := in
			retry.Now = t0.Add(time.Duration(i) * time.Second)
			got[i], errsOut[i] = e.store.PlaceHold(ctx, retry)
		}()
	}
	wg.Wait()
	for i := range retries {
		if errsOut[i] != nil {
			t.Fatalf("retry %d: %v", i, errsOut[i])
		}
		if got[i].ID != first.ID || got[i].Status != booking.StatusHeld {
			t.Fatalf("retry %d returned booking %d (%s), want %d", i, got[i].ID, got[i].Status, first.ID)
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM bookings WHERE venue_id = ?", e.venue.ID); n != 1 {
		t.Fatalf("%d bookings, want 1", n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM day_claims WHERE unit_id IN ?", []int64{e.units[0].ID, e.units[1].ID}); n != 5 {
		t.Fatalf("%d claims, want one set of 5", n)
	}

	reused := in
	reused.FirstDay, reused.LastDay = "2031-05-01", "2031-05-02"
	if _, err := e.store.PlaceHold(ctx, reused); !errs.Is(err, errs.Conflict) {
		t.Fatalf("key reused for other days: got %v, want conflict", err)
	}
	// Same key, first used on another unit by a request that raced in.
	elsewhere := in
	elsewhere.UnitID = e.units[1].ID
	if _, err := e.store.PlaceHold(ctx, elsewhere); !errs.Is(err, errs.Conflict) {
		t.Fatalf("key reused on another unit: got %v, want conflict", err)
	}
	// Keys are per artisan.
	mine := in
	mine.ArtisanID, mine.UnitID = a[1], e.units[1].ID
	b, err := e.store.PlaceHold(ctx, mine)
	if err != nil || b.ID == first.ID {
		t.Fatalf("another artisan's key: booking %d, err %v", b.ID, err)
	}
	assertSingle(t, e, t0)
}

// Confirmation after payment touches every day of the hold, or fails with
// ErrHoldLost so the payment is refunded.
func testConfirmBooking(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 1)
	a := users(t, e.db, 3)
	ctx := context.Background()
	unit := e.units[0].ID
	hold := func(artisan int64, first, last string, now time.Time) booking.Booking {
		t.Helper()
		b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit, ArtisanID: artisan, FirstDay: first, LastDay: last, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	claimStates := func(bookingID int64) map[string]int64 {
		var rows []struct {
			State string
			N     int64
		}
		e.db.Raw("SELECT state, COUNT(*) AS n FROM day_claims WHERE booking_id = ? GROUP BY state", bookingID).Scan(&rows)
		out := map[string]int64{}
		for _, r := range rows {
			out[r.State] = r.N
		}
		return out
	}

	t.Run("OK", func(t *testing.T) {
		b := hold(a[0], "2031-04-01", "2031-04-07", t0)
		e.store.Now = func() time.Time { return t0.Add(5 * time.Minute) }
		got, err := e.store.ConfirmBooking(ctx, b.ID, "pi_123")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != booking.StatusConfirmed || got.HoldExpiresAt != nil || got.PaymentRef != "pi_123" {
			t.Fatalf("confirmed booking: %+v", got)
		}
		if diff := cmp.Diff(map[string]int64{"confirmed": 7}, claimStates(b.ID)); diff != "" {
			t.Fatalf("claims (-want +got):\n%s", diff)
		}
		// The webhook again: same answer, nothing changes.
		again, err := e.store.ConfirmBooking(ctx, b.ID, "pi_123")
		if err != nil || again.ID != b.ID || again.Status != booking.StatusConfirmed {
			t.Fatalf("second delivery: %+v, %v", again, err)
		}
		if _, err := e.store.ConfirmBooking(ctx, b.ID, "pi_other"); !errs.Is(err, errs.Conflict) || errors.Is(err, booking.ErrHoldLost) {
			t.Fatalf("a second payment: got %v, want a plain conflict", err)
		}
		// Confirmed days never expire.
		assertSingle(t, e, t0.Add(365*24*time.Hour))
	})

	t.Run("ErrHoldLost", func(t *testing.T) {
		b := hold(a[0], "2031-05-01", "2031-05-05", t0)
		later := b.HoldExpiresAt.Add(time.Minute)
		taker := hold(a[1], "2031-05-05", "2031-05-06", later) // takes one of the five days
		e.store.Now = func() time.Time { return later.Add(time.Minute) }
		_, err := e.store.ConfirmBooking(ctx, b.ID, "pi_456")
		if !errors.Is(err, booking.ErrHoldLost) || !errs.Is(err, errs.Conflict) {
			t.Fatalf("got %v, want ErrHoldLost (conflict)", err)
		}
		got, _ := e.store.FindBooking(ctx, b.ID)
		if got.Status != booking.StatusExpired {
			t.Fatalf("lost booking is %s, want expired", got.Status)
		}
		if n := len(claimStates(b.ID)); n != 0 {
			t.Fatalf("lost booking still owns claims: %v", claimStates(b.ID))
		}
		if diff := cmp.Diff(map[string]int64{"held": 2}, claimStates(taker.ID)); diff != "" {
			t.Fatalf("the taker's claims (-want +got):\n%s", diff)
		}
		if _, err := e.store.ConfirmBooking(ctx, b.ID, "pi_456"); !errors.Is(err, booking.ErrHoldLost) {
			t.Fatalf("again: got %v, want ErrHoldLost", err)
		}
		assertSingle(t, e, later)
	})

	t.Run("OK late but untouched", func(t *testing.T) {
		b := hold(a[2], "2031-06-01", "2031-06-03", t0)
		e.store.Now = func() time.Time { return b.HoldExpiresAt.Add(time.Minute) }
		if _, err := e.store.ConfirmBooking(ctx, b.ID, "pi_789"); err != nil {
			t.Fatalf("payment just after expiry, days untouched: %v", err)
		}
	})

	t.Run("OK in the caller's transaction", func(t *testing.T) {
		b := hold(a[2], "2031-07-01", "2031-07-02", t0)
		e.store.Now = func() time.Time { return t0 }
		failed := errors.New("recording the payment failed")
		err := e.db.Transact(ctx, func(tx *gorm.DB) error {
			// The payment's own writes come first, as with ApplyOnce.
			if err := tx.Exec("UPDATE users SET name = name WHERE id = ?", a[2]).Error; err != nil {
				return err
			}
			if _, err := e.store.ConfirmBookingTx(ctx, tx, b.ID, "pi_tx"); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("got %v, want the caller's error", err)
		}
		if got, _ := e.store.FindBooking(ctx, b.ID); got.Status != booking.StatusHeld {
			t.Fatalf("after the caller rolled back the booking is %s, want held", got.Status)
		}
		if diff := cmp.Diff(map[string]int64{"held": 2}, claimStates(b.ID)); diff != "" {
			t.Fatalf("claims after the rollback (-want +got):\n%s", diff)
		}
		if err := e.db.Transact(ctx, func(tx *gorm.DB) error {
			_, err := e.store.ConfirmBookingTx(ctx, tx, b.ID, "pi_tx")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(map[string]int64{"confirmed": 2}, claimStates(b.ID)); diff != "" {
			t.Fatalf("claims after the commit (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := e.store.ConfirmBooking(ctx, 999999, "pi_x"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("got %v, want not found", err)
		}
	})
}

// An approved application claims its days like a hold; if they were taken
// meanwhile, approval is a 409 and the application stays pending.
func testApproveApplication(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{Slug: "tafraout-market", Policy: booking.PolicyApplication}, 1)
	a := users(t, e.db, 3)
	admin := users(t, e.db, 1)[0]
	ctx := context.Background()
	apply := func(artisan int64, first, last string) booking.Booking {
		t.Helper()
		b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: artisan, FirstDay: first, LastDay: last, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if b.Status != booking.StatusPendingApproval || b.HoldExpiresAt != nil {
			t.Fatalf("application: %s, hold %v; want pending without a hold", b.Status, b.HoldExpiresAt)
		}
		return b
	}
	first := apply(a[0], "2031-04-01", "2031-06-30")
	second := apply(a[1], "2031-06-01", "2031-07-31")
	third := apply(a[2], "2031-09-01", "2031-09-30")
	if n := count(t, db, "SELECT COUNT(*) FROM day_claims WHERE unit_id = ?", e.units[0].ID); n != 0 {
		t.Fatalf("applications claimed %d days, want none", n)
	}

	approved, err := e.store.ApproveApplication(ctx, second.ID, admin, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if approved.Status != booking.StatusHeld || approved.DecidedBy == nil || *approved.DecidedBy != admin ||
		approved.HoldExpiresAt == nil || !approved.HoldExpiresAt.Equal(t0.Add(time.Hour+booking.ApprovedHold)) {
		t.Fatalf("approved: %+v", approved)
	}
	_, err = e.store.ApproveApplication(ctx, first.ID, admin, t0.Add(2*time.Hour))
	want := dayStrings(booking.DayRange{First: day(t, "2031-06-01"), Last: day(t, "2031-06-30")})
	if diff := cmp.Diff(want, conflictingDays(t, err)); diff != "" {
		t.Fatalf("conflicting days (-want +got):\n%s", diff)
	}
	if got, _ := e.store.FindBooking(ctx, first.ID); got.Status != booking.StatusPendingApproval || got.DecidedBy != nil {
		t.Fatalf("after a failed approval the application is %s (decided by %v), want still pending", got.Status, got.DecidedBy)
	}
	if _, err := e.store.ApproveApplication(ctx, second.ID, admin, t0); !errs.Is(err, errs.Conflict) {
		t.Fatalf("approving twice: got %v, want conflict", err)
	}

	if _, err := e.store.RejectApplication(ctx, first.ID, admin, " ", t0); !errs.Is(err, errs.Invalid) {
		t.Fatalf("rejection without a reason: got %v, want invalid", err)
	}
	rejected, err := e.store.RejectApplication(ctx, first.ID, admin, "the unit is let for June", t0.Add(3*time.Hour))
	if err != nil || rejected.Status != booking.StatusRejected || rejected.DecisionReason != "the unit is let for June" {
		t.Fatalf("reject: %+v, %v", rejected, err)
	}
	apps, err := e.store.ListApplications(ctx, e.venue.ID)
	if err != nil || len(apps) != 1 || apps[0].ID != third.ID {
		t.Fatalf("pending applications: %v, %v; want only %d", apps, err, third.ID)
	}
	assertSingle(t, e, t0.Add(3*time.Hour))
}

// notifier records the offers it is told about.
type notifier struct {
	mu     sync.Mutex
	offers []booking.WaitlistOffer
}

func (n *notifier) WaitlistOffered(_ context.Context, o booking.WaitlistOffer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.offers = append(n.offers, o)
	return nil
}

// Cancelling refunds exactly what the venue's policy says, frees the days
// and offers them to the first artisan waiting for them.
func testCancelBooking(t *testing.T, db *database.DB) {
	policy := booking.CancellationPolicy{FullRefundDays: 14, PartialPercent: 30, NoRefundDays: 3}
	e := newEnv(t, db, booking.Venue{Cancellation: policy}, 8)
	n := &notifier{}
	store := booking.NewStore(db, n, quiet)
	a := users(t, db, 4)
	ctx := context.Background()
	confirmed := func(unit booking.Unit, artisan int64, first, last string, now time.Time) booking.Booking {
		t.Helper()
		b, err := store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit.ID, ArtisanID: artisan, FirstDay: first, LastDay: last, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		store.Now = func() time.Time { return now }
		if b, err = store.ConfirmBooking(ctx, b.ID, "pi_"+first); err != nil {
			t.Fatal(err)
		}
		return b
	}

	// 10 days at 100 MAD: 1,000 MAD paid; the first day is 20 April.
	tests := []struct {
		name       string
		daysBefore int
		want       int64
	}{
		{"OK a month before: all", 30, 100000},
		{"OK 14 days before: all", 14, 100000},
		{"OK 13 days before: 30%", 13, 30000},
		{"OK 3 days before: 30%", 3, 30000},
		{"OK 2 days before: nothing", 2, 0},
		{"OK begun: nothing", -1, 0},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := confirmed(e.units[i], a[0], "2031-04-20", "2031-04-29", t0)
			now := time.Date(2031, 4, 20, 11, 0, 0, 0, booking.Zone).AddDate(0, 0, -tt.daysBefore)
			refund, err := store.CancelBooking(ctx, b.ID, a[0], now)
			if err != nil {
				t.Fatal(err)
			}
			if refund != tt.want {
				t.Fatalf("refund %d, want %d", refund, tt.want)
			}
			got, _ := store.FindBooking(ctx, b.ID)
			if got.Status != booking.StatusCancelled || got.RefundAmount != tt.want {
				t.Fatalf("cancelled booking: %s, refund %d", got.Status, got.RefundAmount)
			}
			if n := count(t, db, "SELECT COUNT(*) FROM day_claims WHERE booking_id = ?", b.ID); n != 0 {
				t.Fatalf("%d claims left", n)
			}
		})
	}

	t.Run("OK held: nothing to refund", func(t *testing.T) {
		b, err := store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[6].ID, ArtisanID: a[0], FirstDay: "2031-05-01", LastDay: "2031-05-02", Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if refund, err := store.CancelBooking(ctx, b.ID, a[0], t0); err != nil || refund != 0 {
			t.Fatalf("refund %d, err %v; want 0", refund, err)
		}
		if _, err := store.CancelBooking(ctx, b.ID, a[0], t0); !errs.Is(err, errs.Conflict) {
			t.Fatalf("cancelling twice: got %v, want conflict", err)
		}
	})

	t.Run("ErrNotYours", func(t *testing.T) {
		b := confirmed(e.units[6], a[0], "2031-06-01", "2031-06-02", t0)
		if _, err := store.CancelBooking(ctx, b.ID, a[1], t0); !errs.Is(err, errs.NotFound) {
			t.Fatalf("cancelling another artisan's booking: got %v, want not found", err)
		}
	})

	t.Run("OK offers the days to the first waiting", func(t *testing.T) {
		unit := e.units[7]
		b := confirmed(unit, a[0], "2031-07-01", "2031-07-10", t0)
		join := func(artisan int64, first, last string) booking.WaitlistEntry {
			t.Helper()
			w, err := store.JoinWaitlist(ctx, booking.WaitlistInput{VenueSlug: e.venue.Slug, UnitID: unit.ID, ArtisanID: artisan,
				FirstDay: first, LastDay: last, Now: t0})
			if err != nil {
				t.Fatal(err)
			}
			if w.Status != booking.WaitlistWaiting {
				t.Fatalf("entry for taken days is %s, want waiting", w.Status)
			}
			return w
		}
		firstIn := join(a[1], "2031-07-03", "2031-07-05")
		secondIn := join(a[2], "2031-07-04", "2031-07-08") // overlaps the first's days
		n.mu.Lock()
		n.offers = nil
		n.mu.Unlock()

		now := t0.Add(time.Hour)
		if _, err := store.CancelBooking(ctx, b.ID, a[0], now); err != nil {
			t.Fatal(err)
		}
		n.mu.Lock()
		offers := append([]booking.WaitlistOffer(nil), n.offers...)
		n.mu.Unlock()
		if len(offers) != 1 || offers[0].Entry.ID != firstIn.ID {
			t.Fatalf("offers %+v, want one, to entry %d", offers, firstIn.ID)
		}
		o := offers[0].Booking
		if o.ArtisanID != a[1] || o.Status != booking.StatusHeld || o.Range().String() != "2031-07-03..2031-07-05" ||
			o.Amount != 30000 || !o.HoldExpiresAt.Equal(now.Add(booking.WaitlistOfferHold)) {
			t.Fatalf("offered booking %+v", o)
		}
		entries, _ := store.ListWaitlist(ctx, a[1])
		if len(entries) != 1 || entries[0].Status != booking.WaitlistOffered || entries[0].OfferedBookingID == nil || *entries[0].OfferedBookingID != o.ID {
			t.Fatalf("first entry after the offer: %+v", entries)
		}
		entries, _ = store.ListWaitlist(ctx, a[2])
		if len(entries) != 1 || entries[0].ID != secondIn.ID || entries[0].Status != booking.WaitlistWaiting {
			t.Fatalf("second entry: %+v, want still waiting", entries)
		}
		assertSingle(t, e, now)
	})
}

// The sweeper expires each overdue hold once, however many instances run
// it at the same moment, and wakes the waitlist.
func TestExpireHolds(t *testing.T) {
	t.Parallel()
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, openDB(t, dialect), booking.Venue{}, 2)
		a := users(t, e.db, 3)
		ctx := context.Background()
		overdue, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: a[0], FirstDay: "2031-04-01", LastDay: "2031-04-03", Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		office, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[1].ID, ArtisanID: a[1], FirstDay: "2031-04-01", LastDay: "2031-04-03",
			PaymentMethod: booking.PaymentOffice, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if !office.HoldExpiresAt.Equal(t0.Add(booking.OfficeHold)) {
			t.Fatalf("office payment hold until %v, want 48 hours", office.HoldExpiresAt)
		}
		waiting, err := e.store.JoinWaitlist(ctx, booking.WaitlistInput{VenueSlug: e.venue.Slug, UnitID: e.units[0].ID, ArtisanID: a[2],
			FirstDay: "2031-04-02", LastDay: "2031-04-03", PaymentMethod: booking.PaymentOffice, Now: t0})
		if err != nil || waiting.Status != booking.WaitlistWaiting {
			t.Fatalf("join: %+v, %v", waiting, err)
		}

		now := t0.Add(time.Hour)
		const instances = 4
		expired := make([]int, instances)
		errsOut := make([]error, instances)
		var wg sync.WaitGroup
		for i := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				expired[i], errsOut[i] = booking.NewStore(e.db, nil, quiet).ExpireHolds(ctx, now)
			}()
		}
		wg.Wait()
		total := 0
		for i := range instances {
			if errsOut[i] != nil {
				t.Fatalf("instance %d: %v", i, errsOut[i])
			}
			total += expired[i]
		}
		if total != 1 {
			t.Fatalf("expired %d bookings in all (%v), want the one overdue hold once", total, expired)
		}
		if got, _ := e.store.FindBooking(ctx, overdue.ID); got.Status != booking.StatusExpired {
			t.Fatalf("overdue hold is %s", got.Status)
		}
		if got, _ := e.store.FindBooking(ctx, office.ID); got.Status != booking.StatusHeld {
			t.Fatalf("office hold is %s, want still held", got.Status)
		}
		entries, _ := e.store.ListWaitlist(ctx, a[2])
		if len(entries) != 1 || entries[0].Status != booking.WaitlistOffered {
			t.Fatalf("waitlist after the sweep: %+v, want offered", entries)
		}
		offered, _ := e.store.FindBooking(ctx, *entries[0].OfferedBookingID)
		if offered.Status != booking.StatusHeld || offered.PaymentMethod != booking.PaymentOffice || !offered.HoldExpiresAt.Equal(now.Add(booking.OfficeHold)) {
			t.Fatalf("offered booking %+v", offered)
		}
		if n := count(t, e.db, "SELECT COUNT(*) FROM day_claims WHERE booking_id = ?", overdue.ID); n != 0 {
			t.Fatalf("expired hold still owns %d claims", n)
		}
		assertSingle(t, e, now)
	})
}
