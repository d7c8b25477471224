package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
)

// httpCall sends a JSON request with a bearer token and returns the status
// and the decoded body.
func httpCall(t *testing.T, method, url, token string, body any, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// bookingScene is a venue with one unit and some signed-in people, made
// directly in a database that servers share.
type bookingScene struct {
	unit    booking.Unit
	venue   booking.Venue
	tokens  []string // artisans
	admin   string
	userIDs []int64
}

func newBookingScene(t *testing.T, db *database.DB, policy booking.Policy, artisans int) bookingScene {
	t.Helper()
	ctx := context.Background()
	store := booking.NewStore(db, nil, nil)
	v, err := store.CreateVenue(ctx, booking.Venue{Slug: "tafraout-market", Name: "Marché artisanal de Tafraout", Commune: "Tafraout",
		Kind: "market", Policy: policy, Description: booking.Text{"fr": "15 unités"}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := store.CreateUnit(ctx, booking.Unit{VenueID: v.ID, Code: "B-01", AreaM2: 16, Trades: booking.StringList{"any"},
		DayRate: 5000, MonthRate: 90000, Shape: booking.Shape{Kind: booking.ShapeRect, X: 20, Y: 20, W: 180, H: 120}})
	if err != nil {
		t.Fatal(err)
	}
	acc := account.New(db, account.Options{Password: account.TestPasswordParams})
	sc := bookingScene{unit: u, venue: v}
	for i := range artisans {
		user, sess, err := acc.Register(ctx, account.Registration{Email: fmt.Sprintf("artisan%d@tafraout.test", i), Password: "a long enough passphrase",
			Name: fmt.Sprintf("Artisan %d", i), Role: "artisan"})
		if err != nil {
			t.Fatal(err)
		}
		sc.tokens = append(sc.tokens, sess.Token)
		sc.userIDs = append(sc.userIDs, user.ID)
	}
	if _, err := acc.CreateAdmin(ctx, "admin@tafraout.test", "Admin", "a long enough passphrase"); err != nil {
		t.Fatal(err)
	}
	_, sess, err := acc.Login(ctx, account.Credentials{Email: "admin@tafraout.test", Password: "a long enough passphrase"})
	if err != nil {
		t.Fatal(err)
	}
	sc.admin = sess.Token
	return sc
}

// overlapping finds any unit-day held or booked by two live bookings: the
// SQL that proves rule 1, whatever the code that wrote the rows.
func overlapping(t *testing.T, db *database.DB) int64 {
	t.Helper()
	var n int64
	err := db.Raw(`SELECT COUNT(*) FROM bookings a JOIN bookings b
		ON a.unit_id = b.unit_id AND a.id < b.id AND a.first_day <= b.last_day AND b.first_day <= a.last_day
		WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')`).Scan(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Rule 1 over HTTP: 100 concurrent requests from two `souk serve` processes
// on one MariaDB, for overlapping days of one unit: exactly one hold, every
// other answer a 409 naming the conflicting days.
func TestNoDoubleBookingAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two souk processes (short mode)")
	}
	dbURL := dbtest.URL(t, database.MySQL)
	cfg := testserver.Config(t, testserver.Options{DatabaseURL: dbURL})
	procs := []*testserver.Process{testserver.StartProcess(t, cfg), testserver.StartProcess(t, cfg)}
	db := dbtest.OpenURL(t, dbURL)
	sc := newBookingScene(t, db, booking.PolicyInstant, 10)

	start := booking.DayOf(time.Now()).AddDays(10)
	const requests = 100
	var wg sync.WaitGroup
	statuses := make([]int, requests)
	bodies := make([]map[string]any, requests)
	gate := make(chan struct{})
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			first := start.AddDays(i % 5)
			statuses[i], bodies[i] = httpCall(t, "POST", procs[i%2].URL+"/api/v1/bookings", sc.tokens[i%len(sc.tokens)],
				map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": first.AddDays(6).String(), "payment_method": "office"}, nil)
		}()
	}
	close(gate)
	wg.Wait()
	wins := 0
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			wins++
		case http.StatusConflict:
			if days, _ := bodies[i]["conflicting_days"].([]any); len(days) == 0 {
				t.Errorf("request %d: 409 without conflicting_days: %v", i, bodies[i])
			}
		default:
			t.Errorf("request %d: status %d: %v", i, st, bodies[i])
		}
	}
	overlaps := overlapping(t, db)
	testenv.Report(t, "bookings: one unit, 100 requests over 2 processes (MariaDB)", requests, testenv.Violations(int64(max(wins-1, 0)), overlaps))
	if wins != 1 {
		t.Fatalf("%d holds won, want exactly 1", wins)
	}
	if n := overlaps; n != 0 {
		t.Fatalf("RULE 1 BROKEN: %d overlapping live bookings", n)
	}
	t.Logf("rule 1 across 2 processes: %d requests, 1 hold, %d refused, 0 overlaps", requests, requests-1)
}

// An artisan books a stall to pay at the office, the administrator records
// the payment, and the days turn booked; the same Idempotency-Key returns
// the same booking; taken days answer 409 with the days.
func TestBookAndPayAtTheOffice(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	sc := newBookingScene(t, s.DB, booking.PolicyInstant, 2)
	first := booking.DayOf(time.Now()).AddDays(5)
	body := map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": first.AddDays(2).String(), "payment_method": "office"}
	key := map[string]string{"Idempotency-Key": "stall-tafraout-1"}

	st, b := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0], body, key)
	if st != 201 || b["status"] != "held" || b["amount"] != float64(3*5000) || b["hold_expires_at"] == nil {
		t.Fatalf("book: %d %v", st, b)
	}
	id := int64(b["id"].(float64))
	st, again := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0], body, key)
	if st != 201 || int64(again["id"].(float64)) != id {
		t.Fatalf("same Idempotency-Key: %d %v, want booking %d again", st, again, id)
	}
	st, other := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[1], body, nil)
	if st != 409 || len(other["conflicting_days"].([]any)) != 3 {
		t.Fatalf("taken days: %d %v", st, other)
	}
	avail := func() string {
		_, a := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/venues/%s/availability?from=%s&to=%s", s.URL, sc.venue.Slug, first, first), "", nil, nil)
		return a["units"].([]any)[0].(map[string]any)["days"].(map[string]any)[first.String()].(string)
	}
	if got := avail(); got != "held" {
		t.Fatalf("availability after the hold: %s", got)
	}
	// A wrong amount is refused and changes nothing.
	st, _ = httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/bookings/%d/payments", s.URL, id), sc.admin,
		map[string]any{"method": "office_cash", "amount": 100, "receipt_number": "R-1"}, nil)
	if st != 422 || avail() != "held" {
		t.Fatalf("wrong amount: %d", st)
	}
	st, paid := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/bookings/%d/payments", s.URL, id), sc.admin,
		map[string]any{"method": "office_cash", "amount": 15000, "receipt_number": "R-1"}, nil)
	if st != 201 || paid["booking"].(map[string]any)["status"] != "confirmed" {
		t.Fatalf("record payment: %d %v", st, paid)
	}
	if got := avail(); got != "booked" {
		t.Fatalf("availability after payment: %s", got)
	}
	// The occupancy report counts the three booked days, in JSON and CSV.
	month := first.String()[:7]
	st, rep := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/admin/reports/occupancy?venue=%s&month=%s", s.URL, sc.venue.Slug, month), sc.admin, nil, nil)
	booked := 0
	for d := first; d.String()[:7] == month && !first.AddDays(2).Before(d); d = d.AddDays(1) {
		booked++
	}
	if st != 200 || rep["booked_unit_days"] != float64(booked) {
		t.Fatalf("occupancy: %d %v, want %d booked unit-days", st, rep, booked)
	}
	st, ct, csvBody := httpRaw(t, fmt.Sprintf("%s/api/v1/admin/reports/occupancy?venue=%s&month=%s&format=csv", s.URL, sc.venue.Slug, month), sc.admin)
	if st != 200 || !strings.HasPrefix(ct, "text/csv") || !strings.HasPrefix(csvBody, "unit,booked_days,available_days,occupancy\n") ||
		!strings.Contains(csvBody, fmt.Sprintf("%s,%d,", sc.unit.Code, booked)) {
		t.Fatalf("occupancy CSV: %d %s\n%s", st, ct, csvBody)
	}
	// Edge cases of the dates answer 422 naming the field.
	for _, tc := range []struct{ first, last, field string }{
		{first.AddDays(3).String(), first.String(), "last_day"},
		{booking.DayOf(time.Now()).AddDays(-1).String(), first.String(), "first_day"},
		{"2026-02-30", first.String(), "first_day"},
	} {
		st, p := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[1],
			map[string]any{"unit_id": sc.unit.ID, "first_day": tc.first, "last_day": tc.last, "payment_method": "office"}, nil)
		if st != 422 || !strings.Contains(fmt.Sprint(p["errors"]), tc.field) {
			t.Errorf("%s..%s: %d %v, want 422 on %s", tc.first, tc.last, st, p, tc.field)
		}
	}
}

// Rule 4: a card booking is confirmed only by Stripe's signed webhook, once,
// however often the event is delivered; a forged signature changes nothing.
func TestCardBookingConfirmedByWebhookOnce(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newBookingScene(t, s.DB, booking.PolicyInstant, 1)
	first := booking.DayOf(time.Now()).AddDays(4)
	st, b := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0],
		map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": first.String(), "payment_method": "card"},
		map[string]string{"Idempotency-Key": "card-1"})
	if st != 201 || b["checkout_url"] == nil || b["status"] != "held" {
		t.Fatalf("card booking: %d %v", st, b)
	}
	id := int64(b["id"].(float64))
	pays, err := payment.NewStore(s.DB).ListPayments(context.Background(), nil, payment.PurposeBooking, fmt.Sprint(id))
	if err != nil || len(pays) != 1 || pays[0].ProviderRef == nil {
		t.Fatalf("pending payment: %v %v", pays, err)
	}
	spec := paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeBooking,
		Reference: fmt.Sprint(id), SessionID: *pays[0].ProviderRef, PaymentIntentID: paymenttest.NewID("pi"), Amount: 5000}
	// A forged signature is refused and confirms nothing.
	forged := paymenttest.NewWebhookRequest(t, s.URL+"/api/v1/payments/stripe/webhook", "whsec_not_the_secret", spec)
	if resp, err := http.DefaultClient.Do(forged); err != nil || resp.StatusCode != 401 {
		t.Fatalf("forged webhook: %v %v", resp, err)
	}
	if _, bk := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil); bk["status"] != "held" {
		t.Fatalf("a forged webhook changed the booking: %v", bk)
	}
	for range 3 {
		resp, err := http.DefaultClient.Do(paymenttest.NewWebhookRequest(t, s.URL+"/api/v1/payments/stripe/webhook", s.Config.StripeWebhookSecret, spec))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("webhook: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	_, bk := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil)
	if bk["status"] != "confirmed" {
		t.Fatalf("after the webhook: %v", bk)
	}
	var events int64
	s.DB.Raw("SELECT COUNT(*) FROM payment_events").Scan(&events)
	if events != 1 {
		t.Fatalf("%d events recorded for three deliveries of one", events)
	}
}

// httpRaw sends a GET with a bearer token and returns the status, the
// content type and the raw body.
func httpRaw(t *testing.T, url, token string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

// A lease of two whole months: the booking is the first month, paid at the
// office; the second month is an invoice the artisan sees and the
// administrator records as paid, once; the reports count both.
func TestLeaseInvoicesOverHTTP(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	sc := newBookingScene(t, s.DB, booking.PolicyInstant, 2)
	today := booking.DayOf(time.Now())
	first := today.LastOfMonth().AddDays(1)
	second := first.LastOfMonth().AddDays(1)
	last := second.LastOfMonth()
	st, b := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0],
		map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": last.String(), "payment_method": "office", "trade": "weaving"}, nil)
	if st != 201 || b["status"] != "held" || b["amount"] != float64(90000) || b["lease_months"] != float64(2) {
		t.Fatalf("lease: %d %v, want held, one month's rate, 2 months", st, b)
	}
	id := int64(b["id"].(float64))
	st, paid := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/bookings/%d/payments", s.URL, id), sc.admin,
		map[string]any{"method": "office_cash", "amount": 90000, "receipt_number": "L-1"}, nil)
	if st != 201 || paid["booking"].(map[string]any)["status"] != "confirmed" {
		t.Fatalf("pay the first month: %d %v", st, paid)
	}
	_, bk := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil)
	invs, _ := bk["invoices"].([]any)
	if len(invs) != 2 {
		t.Fatalf("the lease's invoices: %v", bk)
	}
	inv1, inv2 := invs[0].(map[string]any), invs[1].(map[string]any)
	if inv1["status"] != "paid" || inv2["status"] != "open" || inv2["month"] != second.String()[:7] ||
		inv2["due_day"] != dueDay(second).String() || inv2["amount"] != float64(90000) {
		t.Fatalf("invoices: %v %v", inv1, inv2)
	}
	invID := int64(inv2["id"].(float64))

	st, mine := httpCall(t, "GET", s.URL+"/api/v1/me/invoices", sc.tokens[0], nil, nil)
	if st != 200 || mine["total"] != float64(2) || mine["items"].([]any)[0].(map[string]any)["month"] != second.String()[:7] {
		t.Fatalf("my invoices: %d %v", st, mine)
	}
	if st, other := httpCall(t, "GET", s.URL+"/api/v1/me/invoices", sc.tokens[1], nil, nil); st != 200 || other["total"] != float64(0) {
		t.Fatalf("another artisan's invoices: %d %v", st, other)
	}

	payURL := fmt.Sprintf("%s/api/v1/admin/invoices/%d/payments", s.URL, invID)
	if st, _ := httpCall(t, "POST", payURL, sc.tokens[0], map[string]any{"method": "office_cash", "amount": 90000, "receipt_number": "L-2"}, nil); st != 403 {
		t.Fatalf("an artisan records a payment: %d, want 403", st)
	}
	if st, p := httpCall(t, "POST", payURL, sc.admin, map[string]any{"method": "office_cash", "amount": 100, "receipt_number": "L-2"}, nil); st != 422 {
		t.Fatalf("wrong amount: %d %v", st, p)
	}
	st, ans := httpCall(t, "POST", payURL, sc.admin, map[string]any{"method": "office_cash", "amount": 90000, "receipt_number": "L-2"}, nil)
	if st != 201 || ans["invoice"].(map[string]any)["status"] != "paid" || ans["payment"].(map[string]any)["reference"] != fmt.Sprintf("invoice-%d", invID) {
		t.Fatalf("pay the second month: %d %v", st, ans)
	}
	if st, again := httpCall(t, "POST", payURL, sc.admin, map[string]any{"method": "office_cash", "amount": 90000, "receipt_number": "L-3"}, nil); st != 409 {
		t.Fatalf("pay it again: %d %v, want 409", st, again)
	}
	var pays int64
	s.DB.Raw("SELECT COUNT(*) FROM payments WHERE reference = ?", fmt.Sprintf("invoice-%d", invID)).Scan(&pays)
	if pays != 1 {
		t.Fatalf("%d payments recorded for the invoice, want 1", pays)
	}

	// Revenue: the booking and the invoice, both paid today.
	st, rev := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/admin/reports/revenue?venue=%s&from=%s&to=%s", s.URL, sc.venue.Slug, today, today), sc.admin, nil, nil)
	if st != 200 || rev["bookings"] != float64(1) || rev["invoices"] != float64(1) || rev["gross"] != float64(180000) || rev["net"] != float64(180000) {
		t.Fatalf("revenue: %d %v", st, rev)
	}
	st, ct, body := httpRaw(t, fmt.Sprintf("%s/api/v1/admin/reports/revenue?venue=%s&from=%s&to=%s&format=csv", s.URL, sc.venue.Slug, today, today), sc.admin)
	if st != 200 || !strings.HasPrefix(ct, "text/csv") || !strings.Contains(body, "B-01,1,1,180000,0,180000,MAD") || !strings.Contains(body, "total,1,1,180000,0,180000,MAD") {
		t.Fatalf("revenue CSV: %d %s\n%s", st, ct, body)
	}
	if st, p := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/admin/reports/revenue?venue=%s&from=%s&to=%s", s.URL, sc.venue.Slug, today, today.AddDays(-1)), sc.admin, nil, nil); st != 422 {
		t.Fatalf("reversed period: %d %v", st, p)
	}

	// Tenants on a day of the lease, by trade.
	st, ten := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/admin/reports/tenants?venue=%s&day=%s", s.URL, sc.venue.Slug, second), sc.admin, nil, nil)
	trades, _ := ten["trades"].([]any)
	if st != 200 || ten["total"] != float64(1) || len(trades) != 1 || trades[0].(map[string]any)["trade"] != "weaving" || trades[0].(map[string]any)["count"] != float64(1) {
		t.Fatalf("tenants: %d %v", st, ten)
	}
	if st, now := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/admin/reports/tenants?venue=%s", s.URL, sc.venue.Slug), sc.admin, nil, nil); st != 200 || now["total"] != float64(0) {
		t.Fatalf("tenants today, before the lease: %d %v", st, now)
	}
	st, ct, body = httpRaw(t, fmt.Sprintf("%s/api/v1/admin/reports/tenants?venue=%s&day=%s&format=csv", s.URL, sc.venue.Slug, second), sc.admin)
	if st != 200 || !strings.HasPrefix(ct, "text/csv") || !strings.Contains(body, fmt.Sprintf("weaving,1,B-01,%d,%d,%s,%s,true", id, sc.userIDs[0], first, last)) {
		t.Fatalf("tenants CSV: %d %s\n%s", st, ct, body)
	}
}

// A card booking confirmed by Stripe's signed webhook, then cancelled by
// its artisan: the refund is exactly what the venue's policy gives, Stripe
// (stripe-mock) is asked for it, the days are free again, and an artisan
// waiting for one of them is offered it at once.
func TestCardCancellationRefundsAndWakesTheWaitlist(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newBookingScene(t, s.DB, booking.PolicyInstant, 2)
	today := booking.DayOf(time.Now())
	first := today.AddDays(7) // between the policy's no-refund (3) and full-refund (14) days: a partial refund
	last := first.AddDays(2)
	st, b := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0],
		map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": last.String(), "payment_method": "card"}, nil)
	if st != 201 || b["checkout_url"] == nil {
		t.Fatalf("card booking: %d %v", st, b)
	}
	id := int64(b["id"].(float64))
	amount := int64(b["amount"].(float64))
	pays, err := payment.NewStore(s.DB).ListPayments(context.Background(), nil, payment.PurposeBooking, fmt.Sprint(id))
	if err != nil || len(pays) != 1 || pays[0].ProviderRef == nil {
		t.Fatalf("pending payment: %v %v", pays, err)
	}
	spec := paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeBooking,
		Reference: fmt.Sprint(id), SessionID: *pays[0].ProviderRef, PaymentIntentID: paymenttest.NewID("pi"), Amount: amount}
	resp, err := http.DefaultClient.Do(paymenttest.NewWebhookRequest(t, s.URL+"/api/v1/payments/stripe/webhook", s.Config.StripeWebhookSecret, spec))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", resp, err)
	}
	resp.Body.Close()
	if _, bk := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil); bk["status"] != "confirmed" || bk["payment_ref"] != spec.PaymentIntentID {
		t.Fatalf("after the webhook: %v", bk)
	}

	// Another artisan waits for the middle day.
	middle := first.AddDays(1)
	st, entry := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/venues/%s/waitlist", s.URL, sc.venue.Slug), sc.tokens[1],
		map[string]any{"unit_id": sc.unit.ID, "first_day": middle.String(), "last_day": middle.String(), "payment_method": "office"}, nil)
	if st != 201 || entry["status"] != "waiting" {
		t.Fatalf("join the waitlist: %d %v", st, entry)
	}

	venue, err := booking.NewStore(s.DB, nil, nil).FindVenue(context.Background(), sc.venue.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := venue.Cancellation.Refund(amount, first, booking.DayOf(time.Now()))
	if want <= 0 || want >= amount {
		t.Fatalf("the scene's policy gives %d of %d: want a partial refund to test", want, amount)
	}
	st, c := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/bookings/%d/cancel", s.URL, id), sc.tokens[0], nil, nil)
	if st != 200 || c["refund"] != float64(want) {
		t.Fatalf("cancel: %d %v, want refund %d", st, c, want)
	}
	cancelled := c["booking"].(map[string]any)
	if cancelled["status"] != "cancelled" || cancelled["refund_amount"] != float64(want) {
		t.Fatalf("the cancelled booking: %v, want refund_amount %d", cancelled, want)
	}

	// Stripe (stripe-mock) accepted the refund: it is recorded on the payment.
	pays, err = payment.NewStore(s.DB).ListPayments(context.Background(), nil, payment.PurposeBooking, fmt.Sprint(id))
	if err != nil || len(pays) != 1 || pays[0].AmountRefunded != want || pays[0].Status != payment.PaymentPartiallyRefunded {
		t.Fatalf("the payment after the refund: %+v %v, want %d refunded", pays, err, want)
	}

	// The days are free again, but for the one offered to the waitlist.
	_, a := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/venues/%s/availability?from=%s&to=%s", s.URL, sc.venue.Slug, first, last), "", nil, nil)
	days := a["units"].([]any)[0].(map[string]any)["days"].(map[string]any)
	if days[first.String()] != "free" || days[last.String()] != "free" || days[middle.String()] != "held" {
		t.Fatalf("availability after the cancellation: %v", days)
	}
	_, mine := httpCall(t, "GET", s.URL+"/api/v1/me/bookings", sc.tokens[1], nil, nil)
	items, _ := mine["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("the waiting artisan's bookings: %v", mine)
	}
	offer := items[0].(map[string]any)
	if offer["status"] != "held" || offer["first_day"] != middle.String() || offer["last_day"] != middle.String() ||
		offer["waitlist_entry_id"] != entry["id"] || offer["hold_expires_at"] == nil {
		t.Fatalf("the offer: %v", offer)
	}
}

// dueDay is the day a lease's invoice for d's month falls due.
func dueDay(d booking.Day) booking.Day {
	y, m, _ := d.Date()
	return booking.NewDay(y, m, booking.LeaseDueDay)
}

// A later month of a lease is paid by card: the invoice turns paid only
// from the signed webhook, once however often it is delivered.
func TestLeaseInvoicePaidByCard(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newBookingScene(t, s.DB, booking.PolicyInstant, 2)
	first := booking.DayOf(time.Now()).LastOfMonth().AddDays(1)
	last := first.LastOfMonth().AddDays(1).LastOfMonth()
	st, b := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0],
		map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": last.String(), "payment_method": "office"}, nil)
	if st != 201 {
		t.Fatalf("lease: %d %v", st, b)
	}
	id := int64(b["id"].(float64))
	if st, _ := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/bookings/%d/payments", s.URL, id), sc.admin,
		map[string]any{"method": "office_cash", "amount": b["amount"], "receipt_number": "L-1"}, nil); st != 201 {
		t.Fatalf("pay the first month: %d", st)
	}
	_, bk := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil)
	inv := bk["invoices"].([]any)[1].(map[string]any)
	invID := int64(inv["id"].(float64))
	url := fmt.Sprintf("%s/api/v1/me/invoices/%d/checkout", s.URL, invID)
	if st, _ := httpCall(t, "POST", url, sc.tokens[1], nil, nil); st != 404 {
		t.Fatalf("another artisan pays the invoice: %d, want 404", st)
	}
	st, co := httpCall(t, "POST", url, sc.tokens[0], nil, nil)
	if st != 201 || co["checkout_url"] == nil {
		t.Fatalf("checkout: %d %v", st, co)
	}
	pays, err := payment.NewStore(s.DB).ListPayments(context.Background(), nil, payment.PurposeBooking, fmt.Sprintf("invoice-%d", invID))
	if err != nil || len(pays) != 1 || pays[0].ProviderRef == nil {
		t.Fatalf("pending payment: %v %v", pays, err)
	}
	if _, again := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil); again["invoices"].([]any)[1].(map[string]any)["status"] != "open" {
		t.Fatal("the invoice changed before any webhook")
	}
	spec := paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeBooking,
		Reference: fmt.Sprintf("invoice-%d", invID), SessionID: *pays[0].ProviderRef, PaymentIntentID: paymenttest.NewID("pi"),
		Amount: int64(inv["amount"].(float64))}
	for range 2 {
		resp, err := http.DefaultClient.Do(paymenttest.NewWebhookRequest(t, s.URL+"/api/v1/payments/stripe/webhook", s.Config.StripeWebhookSecret, spec))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("webhook: %v %v", resp, err)
		}
		resp.Body.Close()
	}
	_, bk = httpCall(t, "GET", fmt.Sprintf("%s/api/v1/bookings/%d", s.URL, id), sc.tokens[0], nil, nil)
	if got := bk["invoices"].([]any)[1].(map[string]any); got["status"] != "paid" || got["payment_ref"] != spec.PaymentIntentID {
		t.Fatalf("after the webhook: %v", got)
	}
	if st, _ := httpCall(t, "POST", url, sc.tokens[0], nil, nil); st != 409 {
		t.Fatalf("paying a paid invoice: %d, want 409", st)
	}
}
