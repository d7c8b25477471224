package booking_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
)

func TestLeaseMonths(t *testing.T) {
	for _, tc := range []struct {
		first, last string
		want        int
	}{
		{"2031-04-01", "2031-06-30", 3},
		{"2031-11-01", "2032-02-29", 4}, // across a year, to a leap day
		{"2031-04-01", "2031-05-31", 2},
		{"2031-04-01", "2031-04-30", 0}, // one month is a booking, not a lease
		{"2031-04-02", "2031-06-30", 0}, // ragged start
		{"2031-04-01", "2031-06-29", 0}, // ragged end
		{"2031-04-15", "2031-04-20", 0},
	} {
		r := booking.DayRange{First: day(t, tc.first), Last: day(t, tc.last)}
		if got := booking.LeaseMonths(r); got != tc.want {
			t.Errorf("LeaseMonths(%s) = %d, want %d", r, got, tc.want)
		}
	}
}

// TestLeases runs the lease tests on each dialect, each in a database of
// its own (CloseLapsedCheckouts looks at every payment).
func TestLeases(t *testing.T) {
	t.Parallel()
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		t.Parallel()
		db := openDB(t, dialect)
		t.Run("Invoices", func(t *testing.T) { testLeaseInvoices(t, db) })
		t.Run("NotALease", func(t *testing.T) { testNotALease(t, db) })
		t.Run("CloseLapsedCheckouts", func(t *testing.T) { testCloseLapsedCheckouts(t, db) })
	})
}

func testLeaseInvoices(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 3)
	a := users(t, db, 3)
	ctx := context.Background()
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, booking.Zone)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	e.store.Now = func() time.Time { return t0 }
	b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: e.units[0].ID, ArtisanID: a[0], FirstDay: "2031-04-01", LastDay: "2031-06-30",
		Trade: "carpentry", PaymentMethod: booking.PaymentOffice, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if b.Status != booking.StatusHeld || b.Amount != 200000 || b.LeaseMonths != 3 {
		t.Fatalf("lease hold: %s, amount %d, %d months; want held, one month (200000), 3 months", b.Status, b.Amount, b.LeaseMonths)
	}
	if invs, _ := e.store.ListBookingInvoices(ctx, b.ID); len(invs) != 0 {
		t.Fatalf("a held lease has %d invoices, want none before payment", len(invs))
	}
	if b, err = e.store.ConfirmBooking(ctx, b.ID, "office:R-100"); err != nil {
		t.Fatal(err)
	}
	invs, err := e.store.ListBookingInvoices(ctx, b.ID)
	if err != nil || len(invs) != 3 {
		t.Fatalf("invoices after confirmation: %v %v", invs, err)
	}
	want := []struct {
		month, due string
		status     booking.InvoiceStatus
	}{
		{"2031-04", "2031-04-01", booking.InvoicePaid},
		{"2031-05", "2031-05-05", booking.InvoiceOpen},
		{"2031-06", "2031-06-05", booking.InvoiceOpen},
	}
	for i, w := range want {
		inv := invs[i]
		if inv.Seq != i+1 || inv.Month != w.month || inv.DueDay.String() != w.due || inv.Status != w.status || inv.Amount != 200000 ||
			inv.ArtisanID != a[0] || inv.UnitID != e.units[0].ID || inv.VenueID != e.venue.ID {
			t.Errorf("invoice %d: %+v, want %s due %s %s", i+1, inv, w.month, w.due, w.status)
		}
	}
	if invs[0].PaymentRef != "office:R-100" || invs[0].PaidAt == nil {
		t.Errorf("the first month is paid by the booking: %+v", invs[0])
	}

	// Overdue the day after the due day, once, whatever the instances.
	if n, err := e.store.FlagOverdueInvoices(ctx, at("2031-05-05 23:00")); err != nil || n != 0 {
		t.Fatalf("flag on the due day: %d %v, want 0", n, err)
	}
	if n, err := e.store.FlagOverdueInvoices(ctx, at("2031-05-06 08:00")); err != nil || n != 1 {
		t.Fatalf("flag the day after: %d %v, want 1", n, err)
	}
	if n, err := e.store.FlagOverdueInvoices(ctx, at("2031-05-06 09:00")); err != nil || n != 0 {
		t.Fatalf("flag again: %d %v, want 0", n, err)
	}
	may, err := e.store.FindInvoice(ctx, invs[1].ID)
	if err != nil || may.Status != booking.InvoiceOverdue {
		t.Fatalf("May after its due day: %+v %v", may, err)
	}

	// Paying: an overdue invoice can be paid, once; a paid one cannot.
	pay := func(id int64, ref string, now time.Time) (booking.Invoice, error) {
		var inv booking.Invoice
		err := db.Transact(ctx, func(tx *gorm.DB) error {
			var err error
			inv, err = e.store.PayInvoiceTx(ctx, tx, id, ref, now)
			return err
		})
		return inv, err
	}
	paidMay, err := pay(may.ID, "office:R-101", at("2031-05-07 10:00"))
	if err != nil || paidMay.Status != booking.InvoicePaid || paidMay.PaymentRef != "office:R-101" || paidMay.PaidAt == nil {
		t.Fatalf("pay May: %+v %v", paidMay, err)
	}
	if _, err := pay(may.ID, "office:R-102", at("2031-05-07 10:01")); !errs.Is(err, errs.Conflict) {
		t.Fatalf("pay May twice: %v, want a conflict", err)
	}
	if _, err := pay(invs[0].ID, "office:R-103", at("2031-05-07 10:02")); !errs.Is(err, errs.Conflict) {
		t.Fatalf("pay the first month again: %v, want a conflict", err)
	}
	if _, err := pay(1<<40, "office:R-104", at("2031-05-07 10:03")); !errs.Is(err, errs.NotFound) {
		t.Fatalf("pay no invoice: %v, want not found", err)
	}

	// The artisan's invoices, latest month first; nobody else's.
	mine, total, err := e.store.ListArtisanInvoices(ctx, a[0], 1, 2)
	if err != nil || total != 3 || len(mine) != 2 || mine[0].Month != "2031-06" || mine[1].Month != "2031-05" {
		t.Fatalf("artisan invoices: %v %d %v", mine, total, err)
	}
	if other, total, err := e.store.ListArtisanInvoices(ctx, a[1], 1, 20); err != nil || total != 0 || len(other) != 0 {
		t.Fatalf("another artisan's invoices: %v %d %v", other, total, err)
	}

	// Revenue counts the first month with the booking and each later
	// invoice when it is paid.
	rev, err := e.store.Revenue(ctx, e.venue.ID, day(t, "2031-03-01"), day(t, "2031-05-31"))
	if err != nil || rev.Bookings != 1 || rev.Invoices != 1 || rev.Gross != 400000 || rev.Net != 400000 {
		t.Fatalf("revenue to May: %+v %v", rev, err)
	}
	if rev, err = e.store.Revenue(ctx, e.venue.ID, day(t, "2031-05-01"), day(t, "2031-05-31")); err != nil || rev.Bookings != 0 || rev.Invoices != 1 || rev.Gross != 200000 {
		t.Fatalf("revenue of May: %+v %v", rev, err)
	}

	// Tenants on a day, by trade.
	for i, tc := range []struct {
		artisan int64
		unit    booking.Unit
		trade   string
	}{{a[1], e.units[1], "carpentry"}, {a[2], e.units[2], "pottery"}} {
		bk, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: tc.unit.ID, ArtisanID: tc.artisan, FirstDay: "2031-05-08", LastDay: "2031-05-12",
			Trade: tc.trade, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ConfirmBooking(ctx, bk.ID, "pi_tenant_"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	ten, err := e.store.Tenants(ctx, e.venue.ID, day(t, "2031-05-10"))
	if err != nil || ten.Total != 3 || len(ten.Trades) != 2 {
		t.Fatalf("tenants: %+v %v", ten, err)
	}
	if c := ten.Trades[0]; c.Trade != "carpentry" || c.Count != 2 || len(c.Tenants) != 2 || !c.Tenants[0].Lease || c.Tenants[0].UnitCode != "U001" {
		t.Errorf("carpentry: %+v", c)
	}
	if p := ten.Trades[1]; p.Trade != "pottery" || p.Count != 1 || p.Tenants[0].Lease {
		t.Errorf("pottery: %+v", p)
	}
	if ten, err = e.store.Tenants(ctx, e.venue.ID, day(t, "2031-05-20")); err != nil || ten.Total != 1 {
		t.Fatalf("tenants after the stalls left: %+v %v", ten, err)
	}

	// Cancelling the lease in May: June is cancelled, what was paid stays.
	if _, err := e.store.CancelBooking(ctx, b.ID, a[0], at("2031-05-20 10:00")); err != nil {
		t.Fatal(err)
	}
	invs, _ = e.store.ListBookingInvoices(ctx, b.ID)
	got := []booking.InvoiceStatus{invs[0].Status, invs[1].Status, invs[2].Status}
	if got[0] != booking.InvoicePaid || got[1] != booking.InvoicePaid || got[2] != booking.InvoiceCancelled {
		t.Fatalf("invoices after cancelling in May: %v", got)
	}
	if _, err := pay(invs[2].ID, "office:R-105", at("2031-05-21 10:00")); !errs.Is(err, errs.Conflict) {
		t.Fatalf("pay a cancelled invoice: %v, want a conflict", err)
	}
}

func testNotALease(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 2)
	a := users(t, db, 1)[0]
	ctx := context.Background()
	e.store.Now = func() time.Time { return t0 }
	for _, tc := range []struct {
		unit        booking.Unit
		first, last string
		amount      int64
	}{
		{e.units[0], "2031-04-01", "2031-04-30", 200000},                  // one whole month
		{e.units[1], "2031-04-15", "2031-06-30", 16*10000 + 2*200000 + 0}, // ragged start: priced at once
	} {
		b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: tc.unit.ID, ArtisanID: a, FirstDay: tc.first, LastDay: tc.last, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if b.LeaseMonths != 0 || b.Amount != tc.amount {
			t.Errorf("%s..%s: %d lease months, amount %d; want 0, %d", tc.first, tc.last, b.LeaseMonths, b.Amount, tc.amount)
		}
		if _, err := e.store.ConfirmBooking(ctx, b.ID, "pi_"+tc.first); err != nil {
			t.Fatal(err)
		}
		if invs, _ := e.store.ListBookingInvoices(ctx, b.ID); len(invs) != 0 {
			t.Errorf("%s..%s: %d invoices, want none", tc.first, tc.last, len(invs))
		}
	}
}

// A card hold lasts 15 minutes, a checkout at least 30: when the hold
// lapses, its checkout is closed and its pending payment cancelled, once.
func testCloseLapsedCheckouts(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{}, 2)
	a := users(t, db, 2)
	ctx := context.Background()
	prov := paymenttest.NewProvider()
	pays := payment.NewStore(db)
	pays.Now = func() time.Time { return t0 }
	open := func(unit booking.Unit, artisan int64, now time.Time) (booking.Booking, payment.Payment) {
		t.Helper()
		b, err := e.store.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit.ID, ArtisanID: artisan, FirstDay: "2031-04-02", LastDay: "2031-04-03",
			PaymentMethod: booking.PaymentCard, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		ref := payment.PurposeBooking
		co, err := prov.StartCheckout(ctx, payment.CheckoutRequest{Purpose: ref, Reference: itoa(b.ID), Currency: "MAD",
			Items:      []payment.LineItem{{Name: "stall", UnitAmount: b.Amount, Quantity: 1}},
			SuccessURL: "https://souk.test/ok", CancelURL: "https://souk.test/no", ExpiresAt: now.Add(30 * time.Minute), IdempotencyKey: "co-" + itoa(b.ID)})
		if err != nil {
			t.Fatal(err)
		}
		p, err := pays.CreatePayment(ctx, nil, payment.NewPayment{Purpose: ref, Reference: itoa(b.ID), Method: payment.MethodCard,
			Amount: payment.MAD(b.Amount), Provider: co.Provider, ProviderRef: co.ProviderRef})
		if err != nil {
			t.Fatal(err)
		}
		return b, p
	}
	lapsing, lapsingPay := open(e.units[0], a[0], t0)
	_, keptPay := open(e.units[1], a[1], t0.Add(10*time.Minute)) // still held at the sweep

	sweep := t0.Add(booking.CardHold + time.Minute)
	if n, err := e.store.ExpireHolds(ctx, sweep); err != nil || n != 1 {
		t.Fatalf("expire holds: %d %v", n, err)
	}
	if n, err := e.store.CloseLapsedCheckouts(ctx, prov, pays, sweep); err != nil || n != 1 {
		t.Fatalf("close lapsed checkouts: %d %v, want 1", n, err)
	}
	st, err := prov.Retrieve(ctx, *lapsingPay.ProviderRef)
	if err != nil || st.State != payment.StateExpired {
		t.Fatalf("the lapsed hold's checkout: %v %v, want expired (closed)", st.State, err)
	}
	if p, _ := pays.FindPayment(ctx, nil, lapsingPay.ID); p.Status != payment.PaymentCancelled {
		t.Fatalf("the lapsed hold's payment is %s, want cancelled", p.Status)
	}
	if st, _ := prov.Retrieve(ctx, *keptPay.ProviderRef); st.State != payment.StateOpen {
		t.Fatalf("the live hold's checkout is %s, want open", st.State)
	}
	if n, err := e.store.CloseLapsedCheckouts(ctx, prov, pays, sweep.Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("close again: %d %v, want 0", n, err)
	}
	if b, _ := e.store.FindBooking(ctx, lapsing.ID); b.Status != booking.StatusExpired {
		t.Fatalf("lapsed booking is %s", b.Status)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
