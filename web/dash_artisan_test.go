package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// The artisan's pages in the page matrix (rule 5): renters and admins see
// the section; a buyer does not; someone else's booking is a 404 for
// everyone but its artisan.
func init() {
	renters := pageExpect{303, 403, 200, 200, 200, 200}
	own := pageExpect{303, 403, 200, 404, 404, 404}
	pageSetups = append(pageSetups, func(t *testing.T, w *pageWorld) {
		ctx := context.Background()
		u, err := w.S.Accounts.FindUserByEmail(ctx, w.Emails[pgArtisan])
		if err != nil {
			t.Fatal(err)
		}
		unit := unitByCode(t, w.S, "tafraout-artisan-market", 15)
		day := booking.DayOf(time.Now()).AddDays(40).String()
		b, err := w.S.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit, ArtisanID: u.ID, FirstDay: day, LastDay: day,
			PaymentMethod: booking.PaymentOffice})
		if err != nil {
			t.Fatal(err)
		}
		w.Extra["artisan booking"] = b.ID
		w.Extra["tafraout unit"] = unitCode(t, w.S, unitByCode(t, w.S, "tafraout-artisan-market", 2))
	})
	bk := func(suffix string) func(w *pageWorld) string {
		return func(w *pageWorld) string {
			return fmt.Sprintf("/fr/dashboard/artisan/bookings/%d%s", w.Extra["artisan booking"].(int64), suffix)
		}
	}
	pageCases = append(pageCases,
		pageCase{Name: "artisan: venues", Path: func(*pageWorld) string { return "/fr/dashboard/artisan" }, Want: renters},
		pageCase{Name: "artisan: venue plan", Path: func(w *pageWorld) string {
			return "/ar/dashboard/artisan/venues/tafraout-artisan-market?unit=" + w.Extra["tafraout unit"].(string)
		}, Want: renters},
		pageCase{Name: "artisan: booking form", Path: func(w *pageWorld) string {
			return "/en/dashboard/artisan/venues/tafraout-artisan-market/book?unit=" + w.Extra["tafraout unit"].(string)
		}, Want: renters},
		pageCase{Name: "artisan: my bookings", Path: func(*pageWorld) string { return "/fr/dashboard/artisan/bookings" }, Want: renters},
		pageCase{Name: "artisan: a booking", Path: bk(""), Want: own},
		pageCase{Name: "artisan: a receipt", Path: bk("/receipt"), Want: own},
		pageCase{Name: "artisan: cancel confirmation", Path: bk("/cancel"), Want: own},
	)
}

// unitByCode returns the id of the unit of a venue whose code ends in -NN.
func unitByCode(t *testing.T, s *testserver.Server, slug string, n int) int64 {
	t.Helper()
	var id int64
	if err := s.DB.Raw(`SELECT u.id FROM units u JOIN venues v ON v.id = u.venue_id WHERE v.slug = ? AND u.code LIKE ?`,
		slug, fmt.Sprintf("%%-%02d", n)).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("unit %d of %s: %v", n, slug, err)
	}
	return id
}

func unitCode(t *testing.T, s *testserver.Server, id int64) string {
	t.Helper()
	var code string
	if err := s.DB.Raw(`SELECT code FROM units WHERE id = ?`, id).Scan(&code).Error; err != nil || code == "" {
		t.Fatalf("unit %d: %v", id, err)
	}
	return code
}

// signedInArtisan registers an artisan and returns its signed-in visitor
// and user id.
func signedInArtisan(t *testing.T, s *testserver.Server, email string) (*visitor, int64) {
	t.Helper()
	ctx := context.Background()
	u, _, err := s.Accounts.Register(ctx, account.Registration{Email: email, Password: "a long pass phrase 42", Name: "Brahim Artisan", Role: "artisan"})
	if err != nil {
		t.Fatal(err)
	}
	_, sess, err := s.Accounts.Login(ctx, account.Credentials{Email: email, Password: "a long pass phrase 42"})
	if err != nil {
		t.Fatal(err)
	}
	v := newVisitor(t, s.URL)
	base, _ := url.Parse(s.URL)
	v.client.Jar.SetCookies(base, []*http.Cookie{{Name: "souk_session", Value: sess.Token, Path: "/"}})
	return v, u.ID
}

var (
	bookingLoc = regexp.MustCompile(`^/(ar|fr|en)/dashboard/artisan/bookings/(\d+)(/receipt)?$`)
)

// bookForm opens a unit's booking form and returns the form's fields.
func bookForm(t *testing.T, v *visitor, lang, slug, code, from, to string) url.Values {
	t.Helper()
	resp, body := v.get(fmt.Sprintf("/%s/dashboard/artisan/venues/%s/book?unit=%s&from=%s&to=%s", lang, slug, code, from, to))
	if resp.StatusCode != 200 {
		t.Fatalf("booking form: %d %.400s", resp.StatusCode, body)
	}
	return url.Values{"csrf_token": {field(t, csrfField, body)}, "idempotency_key": {field(t, keyField, body)},
		"unit": {code}, "first_day": {from}, "last_day": {to}, "payment_method": {"office"}}
}

func TestArtisanBooksInstantUnitAndPaysAtOffice(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	v, me := signedInArtisan(t, s, "brahim@artisans.test")
	unit := unitByCode(t, s, "tafraout-artisan-market", 3)
	code := unitCode(t, s, unit)
	today := booking.DayOf(time.Now())
	first, last := today.AddDays(10).String(), today.AddDays(12).String()

	// The plan shows the unit free for those days, as a link to book it.
	_, plan := v.get(fmt.Sprintf("/fr/dashboard/artisan/venues/tafraout-artisan-market?from=%s&to=%s", first, last))
	if !regexp.MustCompile(`data-unit-code="` + code + `" data-state="free"`).MatchString(plan) {
		t.Fatalf("the plan does not show %s free: %.800s", code, plan)
	}

	form := bookForm(t, v, "fr", "tafraout-artisan-market", code, first, last)
	resp, body := v.post("/fr/dashboard/artisan/venues/tafraout-artisan-market/book", form)
	m := bookingLoc.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil || m[3] != "/receipt" {
		t.Fatalf("book: %d to %q, want 303 to the receipt: %.500s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var b booking.Booking
	if err := s.DB.Raw("SELECT * FROM bookings WHERE id = ?", m[2]).Scan(&b).Error; err != nil {
		t.Fatal(err)
	}
	if b.ArtisanID != me || b.Status != booking.StatusHeld || b.PaymentMethod != booking.PaymentOffice || b.HoldExpiresAt == nil ||
		b.Amount != 3*5000 {
		t.Fatalf("booking %+v, want held for the office, 150 MAD", b)
	}
	// Submitting the same form again books nothing more (idempotency key).
	resp, _ = v.post("/fr/dashboard/artisan/venues/tafraout-artisan-market/book", form)
	if again := bookingLoc.FindStringSubmatch(resp.Header.Get("Location")); again == nil || again[2] != m[2] {
		t.Fatalf("the same form again went to %q, want booking %s", resp.Header.Get("Location"), m[2])
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM bookings WHERE artisan_id = ?", me); n != 1 {
		t.Fatalf("%d bookings after submitting twice, want 1", n)
	}

	resp, receipt := v.get(resp.Header.Get("Location"))
	if resp.StatusCode != 200 || !strings.Contains(receipt, `data-status="held"`) || !strings.Contains(receipt, "data-office-receipt") ||
		!strings.Contains(receipt, "data-hold-expires") || !strings.Contains(receipt, "150") || !strings.Contains(receipt, "CIN") {
		t.Fatalf("receipt: %d %.1500s", resp.StatusCode, receipt)
	}
	// The plan now shows it held, and my bookings list it.
	_, plan = v.get(fmt.Sprintf("/fr/dashboard/artisan/venues/tafraout-artisan-market?from=%s&to=%s", first, last))
	if !strings.Contains(plan, `data-unit-code="`+code+`" data-state="held"`) {
		t.Fatal("the plan does not show the unit held")
	}
	_, list := v.get("/fr/dashboard/artisan/bookings")
	if !strings.Contains(list, `data-booking-id="`+m[2]+`" data-status="held"`) {
		t.Fatalf("my bookings do not list booking %s: %.800s", m[2], list)
	}
	// Another artisan neither sees nor cancels it.
	other, _ := signedInArtisan(t, s, "other@artisans.test")
	for _, p := range []string{"", "/receipt", "/cancel"} {
		if resp, _ := other.get("/fr/dashboard/artisan/bookings/" + m[2] + p); resp.StatusCode != 404 {
			t.Errorf("another artisan GET booking%s: %d, want 404", p, resp.StatusCode)
		}
	}
	_, otherPage := other.get("/fr/dashboard/artisan/bookings")
	resp, _ = other.post("/fr/dashboard/artisan/bookings/"+m[2]+"/cancel", url.Values{"csrf_token": {field(t, csrfField, otherPage)}})
	if resp.StatusCode != 404 {
		t.Fatalf("another artisan's cancel: %d, want 404", resp.StatusCode)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM bookings WHERE id = ? AND status = 'held'", m[2]); n != 1 {
		t.Fatal("another artisan's cancel changed the booking")
	}
}

func TestArtisanBookingConflictShowsDaysAndJoinsWaitlist(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	ctx := context.Background()
	v, me := signedInArtisan(t, s, "second@artisans.test")
	_, first := signedInArtisan(t, s, "first@artisans.test")
	unit := unitByCode(t, s, "tafraout-artisan-market", 5)
	code := unitCode(t, s, unit)
	today := booking.DayOf(time.Now())
	taken := today.AddDays(21)
	if _, err := s.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit, ArtisanID: first, FirstDay: taken.String(),
		LastDay: taken.AddDays(1).String(), PaymentMethod: booking.PaymentOffice}); err != nil {
		t.Fatal(err)
	}
	from, to := taken.AddDays(-1).String(), taken.AddDays(3).String()
	form := bookForm(t, v, "fr", "tafraout-artisan-market", code, from, to)
	resp, body := v.post("/fr/dashboard/artisan/venues/tafraout-artisan-market/book", form)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("book taken days: %d, want 409: %.500s", resp.StatusCode, body)
	}
	for _, d := range []string{taken.String(), taken.AddDays(1).String()} {
		if !strings.Contains(body, `data-conflict-day="`+d+`"`) {
			t.Errorf("the conflict does not name %s", d)
		}
	}
	if strings.Contains(body, `data-conflict-day="`+from+`"`) {
		t.Error("the conflict names a free day")
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM bookings WHERE artisan_id = ?", me); n != 0 {
		t.Fatalf("a refused booking left %d rows", n)
	}
	// Join the waitlist from the conflict's form.
	if !strings.Contains(body, `data-action="join-waitlist"`) {
		t.Fatal("no waitlist form beside the conflict")
	}
	resp, body = v.post("/fr/dashboard/artisan/venues/tafraout-artisan-market/waitlist", url.Values{"csrf_token": {field(t, csrfField, body)},
		"unit": {code}, "first_day": {from}, "last_day": {to}, "payment_method": {"office"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/fr/dashboard/artisan/bookings?waiting=") {
		t.Fatalf("join waitlist: %d %q %.300s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM waitlist_entries WHERE artisan_id = ? AND unit_id = ? AND status = 'waiting'", me, unit); n != 1 {
		t.Fatalf("%d waiting entries, want 1", n)
	}
	_, list := v.get(resp.Header.Get("Location"))
	if !strings.Contains(list, `data-status="waiting"`) {
		t.Fatal("my bookings page does not show the waitlist entry")
	}
}

func TestArtisanBadDatesReRenderAndChangeNothing(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	v, me := signedInArtisan(t, s, "dates@artisans.test")
	code := unitCode(t, s, unitByCode(t, s, "tafraout-artisan-market", 7))
	today := booking.DayOf(time.Now())
	for _, tc := range []struct {
		name, lang, from, to, field, want string
	}{
		{"ErrPast", "fr", today.AddDays(-3).String(), today.AddDays(-2).String(), "from-error", "déjà passé"},
		{"ErrOrder", "en", today.AddDays(5).String(), today.AddDays(3).String(), "to-error", "cannot come before"},
		{"ErrFormat", "ar", "31/12/2030", today.AddDays(3).String(), "from-error", "تاريخاً صحيحاً"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v.t = t
			form := bookForm(t, v, tc.lang, "tafraout-artisan-market", code, today.String(), today.String())
			form.Set("first_day", tc.from)
			form.Set("last_day", tc.to)
			resp, body := v.post("/"+tc.lang+"/dashboard/artisan/venues/tafraout-artisan-market/book", form)
			if resp.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("%d, want 422: %.400s", resp.StatusCode, body)
			}
			if !regexp.MustCompile(`id="` + tc.field + `" role="alert">[^<]*` + regexp.QuoteMeta(tc.want)).MatchString(body) {
				t.Fatalf("no %q message under the field %s: %.2000s", tc.want, tc.field, body)
			}
			if !strings.Contains(body, `value="`+tc.from+`"`) {
				t.Error("the form lost what was typed")
			}
		})
	}
	v.t = t
	if n := countRows(t, s, "SELECT COUNT(*) FROM bookings WHERE artisan_id = ?", me); n != 0 {
		t.Fatalf("refused forms left %d bookings", n)
	}
	// The plan's range form answers bad dates the same way.
	resp, body := v.get("/fr/dashboard/artisan/venues/tafraout-artisan-market?from=2030-13-01&to=2030-01-01")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="from-error"`) {
		t.Fatalf("plan with a bad date: %d", resp.StatusCode)
	}
}

func TestArtisanApplicationGoesPending(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	v, me := signedInArtisan(t, s, "carpenter@artisans.test")
	code := unitCode(t, s, unitByCode(t, s, "aouartas-artisan-zone", 4))
	today := booking.DayOf(time.Now())
	from, to := today.AddDays(30).String(), today.AddDays(40).String()
	form := bookForm(t, v, "ar", "aouartas-artisan-zone", code, from, to)
	// Aouartas is for service trades: without one the form says so.
	resp, body := v.post("/ar/dashboard/artisan/venues/aouartas-artisan-zone/book", form)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="trade-error"`) {
		t.Fatalf("no trade: %d, want 422 with the trade's message: %.500s", resp.StatusCode, body)
	}
	form.Set("trade", "carpentry")
	resp, body = v.post("/ar/dashboard/artisan/venues/aouartas-artisan-zone/book", form)
	m := bookingLoc.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil || m[3] != "" {
		t.Fatalf("apply: %d %q %.500s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM bookings WHERE id = ? AND artisan_id = ? AND status = 'pending_approval'", m[2], me); n != 1 {
		t.Fatal("the application is not pending approval")
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM day_claims WHERE booking_id = ?", m[2]); n != 0 {
		t.Fatalf("a pending application claims %d days", n)
	}
	_, page := v.get(resp.Header.Get("Location"))
	if !strings.Contains(page, `data-booking-id="`+m[2]+`" data-status="pending_approval"`) || !strings.Contains(page, `dir="rtl"`) {
		t.Fatalf("booking page: %.800s", page)
	}
}

func TestArtisanCancelShowsRefundThenCancels(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	ctx := context.Background()
	v, me := signedInArtisan(t, s, "cancel@artisans.test")
	unit := unitByCode(t, s, "tafraout-artisan-market", 9)
	// Paid and more than the full-refund period ahead: everything back.
	first := booking.DayOf(time.Now()).AddDays(30)
	b, err := s.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit, ArtisanID: me, FirstDay: first.String(),
		LastDay: first.AddDays(1).String(), PaymentMethod: booking.PaymentOffice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Bookings.ConfirmBooking(ctx, b.ID, "office:R-1"); err != nil {
		t.Fatal(err)
	}
	v2, err := s.Bookings.FindVenueBySlug(ctx, "tafraout-artisan-market")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = s.Bookings.FindBooking(ctx, b.ID)
	want := b.RefundOnCancel(v2.Cancellation, booking.DayOf(time.Now()))
	if want == 0 {
		t.Fatal("the test needs a booking that refunds something")
	}
	path := fmt.Sprintf("/fr/dashboard/artisan/bookings/%d/cancel", b.ID)
	resp, body := v.get(path)
	if resp.StatusCode != 200 {
		t.Fatalf("confirm page: %d", resp.StatusCode)
	}
	amount := regexp.MustCompile(`data-refund-amount>([^<]+)<`).FindStringSubmatch(body)
	if amount == nil || !strings.Contains(strings.ReplaceAll(amount[1], "\u202f", " "), "100") {
		t.Fatalf("the confirm page shows no refund of 100 MAD: %v", amount)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM bookings WHERE id = ? AND status = 'confirmed'", b.ID); n != 1 {
		t.Fatal("showing the confirm page changed the booking")
	}
	resp, _ = v.post(path, url.Values{"csrf_token": {field(t, csrfField, body)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	after, _ := s.Bookings.FindBooking(ctx, b.ID)
	if after.Status != booking.StatusCancelled || after.RefundAmount != want {
		t.Fatalf("after cancelling: %s refund %d, want cancelled refund %d (the amount shown)", after.Status, after.RefundAmount, want)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM day_claims WHERE booking_id = ?", b.ID); n != 0 {
		t.Fatal("the cancelled booking still claims days")
	}
	// A form without the CSRF token changes nothing.
	b2, err := s.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: unit, ArtisanID: me, FirstDay: first.AddDays(5).String(),
		LastDay: first.AddDays(5).String(), PaymentMethod: booking.PaymentOffice})
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = v.post(fmt.Sprintf("/fr/dashboard/artisan/bookings/%d/cancel", b2.ID), url.Values{})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel without CSRF: %d, want 403", resp.StatusCode)
	}
}

// An artisan on a phone, in French and in Arabic: signs in, opens the
// Tafraout market, picks a free unit on the plan, books two days and pays
// at the office. The admin's browser test continues from the receipt
// (data-booking-id, data-status, data-unit-code).
func TestBrowserArtisanBooksOnThePlanAndPaysAtOffice(t *testing.T) {
	testenv.Chromium(t)
	s := startDemo(t, testserver.Options{})
	ctx := context.Background()
	for i, lang := range []string{"fr", "ar"} {
		t.Run(lang, func(t *testing.T) {
			email := "artisan-" + lang + "@browser.test"
			if _, _, err := s.Accounts.Register(ctx, account.Registration{Email: email, Password: "a long pass phrase 42", Name: "Fatima", Role: "artisan"}); err != nil {
				t.Fatal(err)
			}
			b := startBrowser(t, s.URL)
			b.run("phone", chromedp.EmulateViewport(390, 844))
			b.run("sign in", chromedp.Navigate(s.URL+"/"+lang+"/login?next=/"+lang+"/dashboard/artisan"),
				chromedp.WaitVisible(`#email`, chromedp.ByQuery),
				chromedp.SetValue(`#email`, email, chromedp.ByQuery),
				chromedp.SetValue(`#password`, "a long pass phrase 42", chromedp.ByQuery),
				chromedp.Submit(`#password`, chromedp.ByQuery),
				chromedp.WaitVisible(`[data-venue="tafraout-artisan-market"]`, chromedp.ByQuery))
			b.screenshot(lang + "-artisan-venues")
			b.run("open the market", chromedp.Click(`[data-venue="tafraout-artisan-market"] a`, chromedp.ByQuery),
				chromedp.WaitVisible(`svg.art-plan a[data-state="free"]`, chromedp.ByQuery))
			b.screenshot(lang + "-artisan-plan")
			var code string
			b.run("a free unit", chromedp.AttributeValue(`svg.art-plan a[data-state="free"]`, "data-unit-code", &code, nil, chromedp.ByQuery))
			b.run("pick it on the plan", chromedp.Click(`svg.art-plan a[data-unit-code="`+code+`"]`, chromedp.ByQuery),
				chromedp.WaitVisible(`[data-action="book-submit"]`, chromedp.ByQuery))
			day := booking.DayOf(time.Now()).AddDays(2 + 2*i)
			b.run("choose the days and the office",
				chromedp.SetValue(`#from`, day.String(), chromedp.ByQuery),
				chromedp.SetValue(`#to`, day.AddDays(1).String(), chromedp.ByQuery),
				chromedp.Click(`#pay-office`, chromedp.ByQuery))
			b.screenshot(lang + "-artisan-book")
			b.run("book", chromedp.Click(`[data-action="book-submit"]`, chromedp.ByQuery),
				chromedp.WaitVisible(`[data-office-receipt]`, chromedp.ByQuery))
			var id, status, dir string
			b.run("receipt", chromedp.AttributeValue(`article[data-booking-id]`, "data-booking-id", &id, nil, chromedp.ByQuery),
				chromedp.AttributeValue(`article[data-booking-id]`, "data-status", &status, nil, chromedp.ByQuery),
				chromedp.Evaluate(`document.documentElement.dir`, &dir))
			if status != "held" || id == "" {
				t.Fatalf("receipt of booking %q is %q, want held", id, status)
			}
			if want := map[string]string{"fr": "ltr", "ar": "rtl"}[lang]; dir != want {
				t.Errorf("dir=%q, want %q", dir, want)
			}
			if n := countRows(t, s, `SELECT COUNT(*) FROM bookings b JOIN units u ON u.id = b.unit_id WHERE b.id = ? AND u.code = ?
				AND b.status = 'held' AND b.payment_method = 'office' AND b.first_day = ?`, id, code, day.String()); n != 1 {
				t.Fatalf("booking %s is not the held office booking of %s from %s", id, code, day)
			}
			b.screenshot(lang + "-artisan-receipt")
			base := s.URL + "/" + lang + "/dashboard/artisan"
			for _, pg := range []struct{ name, path, wait string }{
				{"booking", "/bookings/" + id, `[data-action="pay-office"]`},
				{"bookings", "/bookings", `[data-booking-id="` + id + `"]`},
				{"cancel", "/bookings/" + id + "/cancel", `[data-refund-preview]`},
				{"calendar", "/venues/tafraout-artisan-market?unit=" + code + "#calendar", `[data-calendar-unit="` + code + `"]`},
			} {
				b.run(pg.name, chromedp.Navigate(base+pg.path), chromedp.WaitVisible(pg.wait, chromedp.ByQuery))
				b.screenshot(lang + "-artisan-" + pg.name)
			}
			var plain string
			b.run("the unit on the plan", chromedp.Navigate(fmt.Sprintf("%s/venues/tafraout-artisan-market?from=%s&to=%s", base, day, day.AddDays(1))),
				chromedp.AttributeValue(`svg.art-plan a[data-unit-code="`+code+`"]`, "data-state", &plain, nil, chromedp.ByQuery))
			if plain != "held" {
				t.Errorf("unit %s is %q on the plan, want held", code, plain)
			}
			if bl := b.blockedRequests(); len(bl) > 0 {
				t.Fatalf("the pages asked other hosts: %v", bl)
			}
		})
	}
}
