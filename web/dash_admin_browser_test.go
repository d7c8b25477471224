package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/storefront"
)

// The administrator's side of issue #9 in a real Chromium on a phone: an
// artisan books a Tafraout unit on the plan and will pay at the office;
// the demo administrator records that payment in the office-payments
// queue and the public plan shows the unit booked; an artisan applies for
// an Aouartas unit and the administrator approves the application, which
// leaves it held (booking.ApproveApplication: days claimed until paid).
// Then every administrator's page is photographed at 390×844 in French
// and Arabic, each checked for its direction and for requests to other
// hosts.

// step is the longest a step of the test may take (a page to load and
// show what is waited for).
const step = 20 * time.Second

// requestsSeen is how many requests the guard let through.
func (b *browser) requestsSeen() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen
}

// signIn signs in through the form of /{lang}/login and waits for wait on
// the page it leads to (next).
func (b *browser) signIn(base, lang, email, password, next, wait string) {
	b.t.Helper()
	b.runWithin(step, "sign in as "+email, chromedp.Navigate(base+"/"+lang+"/login?next="+next),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SetValue(`#email`, email, chromedp.ByQuery),
		chromedp.SetValue(`#password`, password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(wait, chromedp.ByQuery))
}

// bookOnPlan is the artisan's way to a booking: the venue's card in the
// artisan dashboard, the plan for the days wanted, a free unit picked on
// the plan, its form (a trade where the venue asks for one) paid at the
// office. It returns the unit's code and the booking's id and status as
// the page after the form shows them.
func (b *browser) bookOnPlan(base, lang, slug string, first, last booking.Day) (code, id, status string) {
	b.t.Helper()
	b.runWithin(step, "artisan venues", chromedp.Navigate(base+"/"+lang+"/dashboard/artisan"),
		chromedp.WaitVisible(`[data-venue="`+slug+`"]`, chromedp.ByQuery))
	b.runWithin(step, "open "+slug, chromedp.Click(`[data-venue="`+slug+`"] a`, chromedp.ByQuery),
		chromedp.WaitVisible(`svg.art-plan`, chromedp.ByQuery))
	b.runWithin(step, "the plan for the days", chromedp.SetValue(`form.art-range #from`, first.String(), chromedp.ByQuery),
		chromedp.SetValue(`form.art-range #to`, last.String(), chromedp.ByQuery),
		chromedp.Click(`form.art-range button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`svg.art-plan[data-from="`+first.String()+`"][data-to="`+last.String()+`"] a[data-state="free"]`, chromedp.ByQuery))
	b.runWithin(step, "a free unit", chromedp.AttributeValue(`svg.art-plan a[data-state="free"]`, "data-unit-code", &code, nil, chromedp.ByQuery))
	b.runWithin(step, "pick it on the plan", chromedp.Click(`svg.art-plan a[data-unit-code="`+code+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-action="book-submit"]`, chromedp.ByQuery))
	var from, to, unit, trade string
	b.runWithin(step, "the form", chromedp.Value(`#from`, &from, chromedp.ByQuery), chromedp.Value(`#to`, &to, chromedp.ByQuery),
		chromedp.Value(`#unit`, &unit, chromedp.ByQuery))
	if from != first.String() || to != last.String() || unit != code {
		b.t.Errorf("the form of %s opened from the plan says %s %s → %s, want %s → %s", code, unit, from, to, first, last)
	}
	b.runWithin(step, "the trade, if asked", chromedp.Evaluate(`(() => { const s = document.querySelector("#trade"); if (!s) return "";
		const o = [...s.options].find(o => o.value); s.value = o ? o.value : ""; return s.value })()`, &trade))
	if slug == "aouartas-artisan-zone" && trade == "" {
		b.t.Errorf("the Aouartas form asks no trade")
	}
	b.runWithin(step, "pay at the office", chromedp.Click(`#pay-office`, chromedp.ByQuery))
	b.runWithin(step, "book", chromedp.Click(`[data-action="book-submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`article[data-booking-id]`, chromedp.ByQuery),
		chromedp.AttributeValue(`article[data-booking-id]`, "data-booking-id", &id, nil, chromedp.ByQuery),
		chromedp.AttributeValue(`article[data-booking-id]`, "data-status", &status, nil, chromedp.ByQuery))
	if id == "" {
		b.t.Fatalf("booking %s of %s: no booking page", code, slug)
	}
	return code, id, status
}

// runWithin is run with a deadline of its own, so that a page that never
// shows what is waited for fails in seconds, not at the browser's end.
func (b *browser) runWithin(d time.Duration, what string, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, d)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var loc string
		_ = chromedp.Run(b.ctx, chromedp.Location(&loc))
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
}

// attr reads an attribute of the element sel, "" (and ok false) when the
// page has no such element.
func (b *browser) attr(sel, name string) (string, bool) {
	b.t.Helper()
	var out struct {
		Found bool   `json:"found"`
		Value string `json:"value"`
	}
	b.runWithin(step, "read "+name+" of "+sel, chromedp.Evaluate(fmt.Sprintf(`(() => { const e = document.querySelector(%q);
		return {found: !!e, value: e ? (e.getAttribute(%q) || "") : ""} })()`, sel, name), &out))
	return out.Value, out.Found
}

// publicUnitState is the unit's state on the public plan of a venue on a
// day: its data-state, and whether its class says the same.
func (b *browser) publicUnitState(base, slug, code string, day booking.Day) string {
	b.t.Helper()
	sel := `svg g.unit[data-unit="` + code + `"]`
	b.runWithin(step, "public plan", chromedp.Navigate(fmt.Sprintf("%s/fr/venues/%s?day=%s", base, slug, day)), chromedp.WaitReady(sel, chromedp.ByQuery))
	state, _ := b.attr(sel, "data-state")
	class, _ := b.attr(sel, "class")
	if !strings.Contains(" "+class+" ", " "+state+" ") {
		b.t.Errorf("unit %s on the public plan of %s: data-state %q but class %q", code, day, state, class)
	}
	return state
}

// phoneShot saves the current page at 390×844 (the whole page) and checks
// its <html lang dir> and that no request went to another host.
func (b *browser) phoneShot(name, lang string) {
	b.t.Helper()
	var png []byte
	var htmlLang, dir string
	var width int
	b.runWithin(step, "screenshot "+name, chromedp.EmulateViewport(390, 844),
		chromedp.Evaluate(`document.documentElement.lang`, &htmlLang),
		chromedp.Evaluate(`document.documentElement.dir`, &dir),
		chromedp.Evaluate(`document.documentElement.scrollWidth`, &width),
		chromedp.FullScreenshot(&png, 100))
	want := map[string]string{"fr": "ltr", "ar": "rtl", "en": "ltr"}[lang]
	if htmlLang != lang || dir != want {
		b.t.Errorf("%s: <html lang=%q dir=%q>, want lang=%q dir=%q", name, htmlLang, dir, lang, want)
	}
	if width > 390 {
		b.t.Errorf("LAYOUT: %s is %dpx wide on a 390px phone (it scrolls sideways)", name, width)
	}
	p := filepath.Join(b.shots, name+"-phone-390x844.png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if bl := b.blockedRequests(); len(bl) > 0 {
		b.t.Fatalf("%s: the pages asked other hosts than %s: %v", name, b.host, bl)
	}
}

func TestBrowserAdminApprovesAndRecordsOfficePayment(t *testing.T) {
	testenv.Chromium(t)
	began := time.Now()
	ctx := context.Background()
	s := testserver.Start(t, testserver.Options{})
	seeded, err := demo.Seed(ctx, s.DB, demo.Options{Media: s.Media, Password: account.TestPasswordParams})
	if err != nil {
		t.Fatal(err)
	}
	adminUser, err := s.Accounts.FindUserByEmail(ctx, seeded.AdminEmail)
	if err != nil {
		t.Fatal(err)
	}
	const email, password = "youssef@admin-browser.test", "a long pass phrase 42"
	artisan, _, err := s.Accounts.Register(ctx, account.Registration{Email: email, Password: password, Name: "Youssef Akhiat", Role: "artisan"})
	if err != nil {
		t.Fatal(err)
	}
	today := booking.DayOf(time.Now())

	// 1. The artisan books two days of a Tafraout unit on the plan, to pay
	// at the office.
	art := startBrowser(t, s.URL)
	art.runWithin(step, "phone", chromedp.EmulateViewport(390, 844))
	art.signIn(s.URL, "fr", email, password, "/fr/dashboard/artisan", `[data-venue="tafraout-artisan-market"]`)
	first, last := today.AddDays(3), today.AddDays(4)
	code, id, status := art.bookOnPlan(s.URL, "fr", "tafraout-artisan-market", first, last)
	if status != string(booking.StatusHeld) {
		t.Fatalf("the Tafraout booking %s is %q, want held", id, status)
	}
	if _, ok := art.attr(`[data-office-receipt]`, "data-office-receipt"); !ok {
		t.Fatal("paying at the office did not end on the office receipt")
	}
	var held booking.Booking
	if err := s.DB.Raw(`SELECT * FROM bookings WHERE id = ?`, id).Scan(&held).Error; err != nil {
		t.Fatal(err)
	}
	if held.ArtisanID != artisan.ID || held.Status != booking.StatusHeld || held.PaymentMethod != booking.PaymentOffice ||
		held.FirstDay.String() != first.String() || held.LastDay.String() != last.String() || held.Amount <= 0 || unitCode(t, s, held.UnitID) != code {
		t.Fatalf("booking %s is %+v, want %s held for the office from %s to %s", id, held, code, first, last)
	}

	// 2. The administrator records the payment in the office-payments queue.
	adm := startBrowser(t, s.URL)
	adm.runWithin(step, "phone", chromedp.EmulateViewport(390, 844))
	adm.signIn(s.URL, "fr", seeded.AdminEmail, seeded.AdminPassword, "/fr/dashboard/admin", `[data-queue="payments"]`)
	if st := adm.publicUnitState(s.URL, "tafraout-artisan-market", code, first); st != "held" {
		t.Fatalf("before the payment the public plan shows %s %q on %s, want held", code, st, first)
	}
	card := `li[data-booking-id="` + id + `"][data-unit-code="` + code + `"]`
	adm.runWithin(step, "payments queue", chromedp.Navigate(s.URL+"/fr/dashboard/admin"),
		chromedp.WaitVisible(`[data-queue="payments"] a`, chromedp.ByQuery),
		chromedp.Click(`[data-queue="payments"] a`, chromedp.ByQuery),
		chromedp.WaitVisible(card, chromedp.ByQuery))
	const receipt = "QT-TAF-0042"
	amount := storefront.FormatMAD(held.Amount)
	adm.runWithin(step, "record the payment",
		chromedp.SetValue(`#pay-`+id+`-method`, "office_cash", chromedp.ByQuery),
		chromedp.SetValue(`#pay-`+id+`-amount`, amount, chromedp.ByQuery),
		chromedp.SetValue(`#pay-`+id+`-receipt_number`, receipt, chromedp.ByQuery),
		chromedp.Click(card+` [data-action="record-payment"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#admin-done`, chromedp.ByQuery))
	var loc string
	adm.runWithin(step, "after the payment", chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/fr/dashboard/admin/payments?done=paid") {
		t.Errorf("recording the payment ended on %s", loc)
	}
	if _, still := adm.attr(`li[data-booking-id="`+id+`"]`, "data-booking-id"); still {
		t.Error("the paid booking is still in the office-payments queue")
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM bookings WHERE id = ? AND status = 'confirmed'`, id); n != 1 {
		t.Fatalf("booking %s is not confirmed after the office payment", id)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM payments WHERE purpose = 'booking' AND reference = ? AND method = 'office_cash'
		AND amount = ? AND receipt_number = ? AND recorded_by = ?`, id, held.Amount, receipt, adminUser.ID); n != 1 {
		t.Fatalf("%d payments of %s with receipt %s recorded by the administrator, want 1", n, amount, receipt)
	}
	for _, d := range []booking.Day{first, last} {
		if st := adm.publicUnitState(s.URL, "tafraout-artisan-market", code, d); st != "booked" {
			t.Errorf("after the payment the public plan shows %s %q on %s, want booked", code, st, d)
		}
	}
	if st := adm.publicUnitState(s.URL, "tafraout-artisan-market", code, last.AddDays(1)); st != "free" {
		t.Errorf("the day after the booking the public plan shows %s %q, want free", code, st)
	}

	// 3. The artisan applies for an Aouartas unit; the administrator
	// approves it in the applications queue: held, waiting for payment.
	appFirst, appLast := today.AddDays(30), today.AddDays(32)
	appCode, appID, appStatus := art.bookOnPlan(s.URL, "fr", "aouartas-artisan-zone", appFirst, appLast)
	if appStatus != string(booking.StatusPendingApproval) {
		t.Fatalf("the Aouartas application %s is %q, want pending_approval", appID, appStatus)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM bookings WHERE id = ? AND artisan_id = ? AND status = 'pending_approval'`, appID, artisan.ID); n != 1 {
		t.Fatalf("application %s is not pending approval in the database", appID)
	}
	appCard := `li[data-booking-id="` + appID + `"][data-unit-code="` + appCode + `"]`
	adm.runWithin(step, "applications queue", chromedp.Navigate(s.URL+"/fr/dashboard/admin"),
		chromedp.WaitVisible(`[data-queue="applications"] a`, chromedp.ByQuery),
		chromedp.Click(`[data-queue="applications"] a`, chromedp.ByQuery),
		chromedp.WaitVisible(appCard, chromedp.ByQuery))
	adm.runWithin(step, "approve", chromedp.Click(appCard+` [data-action="approve"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#admin-done`, chromedp.ByQuery))
	if _, still := adm.attr(appCard, "data-booking-id"); still {
		t.Error("the approved application is still waiting in the queue")
	}
	if decided, ok := adm.attr(`table.decisions tr[data-booking-id="`+appID+`"]`, "data-status"); !ok || decided != string(booking.StatusHeld) {
		t.Errorf("the decisions list application %s as %q (listed: %v), want held", appID, decided, ok)
	}
	var approved booking.Booking
	if err := s.DB.Raw(`SELECT * FROM bookings WHERE id = ?`, appID).Scan(&approved).Error; err != nil {
		t.Fatal(err)
	}
	if approved.Status != booking.StatusHeld || approved.DecidedBy == nil || *approved.DecidedBy != adminUser.ID || approved.HoldExpiresAt == nil {
		t.Fatalf("after approval application %s is %+v, want held, decided by %d, with a hold expiry", appID, approved, adminUser.ID)
	}
	if n := countRows(t, s, `SELECT COUNT(*) FROM day_claims WHERE booking_id = ?`, appID); n != 3 {
		t.Fatalf("the approved application claims %d days, want 3", n)
	}
	adm.runWithin(step, "the approved application waits for its payment", chromedp.Navigate(s.URL+"/fr/dashboard/admin/payments"),
		chromedp.WaitVisible(`li[data-booking-id="`+appID+`"]`, chromedp.ByQuery))
	art.runWithin(step, "the artisan's booking page", chromedp.Navigate(s.URL+"/fr/dashboard/artisan/bookings/"+appID),
		chromedp.WaitVisible(`article[data-booking-id="`+appID+`"]`, chromedp.ByQuery))
	if st, _ := art.attr(`article[data-booking-id="`+appID+`"]`, "data-status"); st != string(booking.StatusHeld) {
		t.Errorf("the artisan's page shows application %s %q, want held", appID, st)
	}
	if bl := art.blockedRequests(); len(bl) > 0 {
		t.Fatalf("the artisan's pages asked other hosts: %v", bl)
	}

	// 4. Every administrator's page on a phone, in French and Arabic.
	var venueID, unitID int64
	if err := s.DB.Raw(`SELECT u.venue_id, u.id FROM units u JOIN venues v ON v.id = u.venue_id WHERE v.slug = 'tafraout-artisan-market' AND u.code = ?`, code).
		Row().Scan(&venueID, &unitID); err != nil {
		t.Fatal(err)
	}
	fair := today.AddDays(45)
	if _, err := s.Bookings.CreateEvent(ctx, booking.Event{VenueID: venueID, FirstDay: fair, LastDay: fair.AddDays(2), StallPrice: 20000,
		Name: booking.Text{"fr": "Foire des amandiers", "ar": "موسم اللوز", "en": "Almond blossom fair"}}); err != nil {
		t.Fatal(err)
	}
	// tab is the section the menu marks as the current one ("-": none; the
	// unit editor sits outside /venues/ and no tab says where it is).
	pages := []struct{ name, path, tab, wait string }{
		{"home", "", "", `[data-queue="payments"]`},
		{"cooperatives", "/cooperatives", "", `main h1`},
		{"certificates", "/certificates", "", `main h1`},
		{"applications", "/applications", "", `table.decisions tr[data-booking-id="` + appID + `"]`},
		{"payments", "/payments", "", `li[data-booking-id="` + appID + `"] [data-action="record-payment"]`},
		{"venues", "/venues", "", `tr[data-venue="tafraout-artisan-market"]`},
		{"venue-plan-fairs", fmt.Sprintf("/venues/%d", venueID), "/venues", `svg.admin-plan g[data-unit="` + code + `"]`},
		{"unit-editor", fmt.Sprintf("/units/%d", unitID), "-", `#unit-form[data-unit="` + code + `"]`},
		{"catalog", "/catalog", "", `[data-product-id]`},
		{"shipping", "/shipping", "", `fieldset[data-zone]`},
		{"payouts", "/money", "", `#commission`},
		{"report-occupancy", "/reports/occupancy", "", `svg.bars`},
		{"report-revenue", "/reports/revenue", "", `svg.bars`},
		{"report-sales", "/reports/sales", "", `svg.bars`},
		{"report-inclusion", "/reports/inclusion", "", `svg.bars`},
	}
	for _, lang := range []string{"fr", "ar"} {
		for _, pg := range pages {
			before := adm.requestsSeen()
			adm.runWithin(step, lang+" "+pg.name, chromedp.Navigate(s.URL+"/"+lang+"/dashboard/admin"+pg.path),
				chromedp.WaitVisible(pg.wait, chromedp.ByQuery), chromedp.WaitVisible(`nav.admin-tabs`, chromedp.ByQuery))
			if adm.requestsSeen() == before {
				t.Fatalf("%s %s: the request guard saw no request: it is not watching", lang, pg.name)
			}
			tab := pg.tab
			if tab == "" {
				tab = pg.path
			}
			current, ok := adm.attr(`nav.admin-tabs a[aria-current="page"]`, "href")
			if want := "/" + lang + "/dashboard/admin" + tab; tab != "-" && (!ok || current != want) {
				t.Errorf("%s %s: the menu marks %q as the current section, want %q", lang, pg.name, current, want)
			}
			adm.phoneShot(lang+"-admin-"+pg.name, lang)
		}
	}
	// The fair made above is listed on its venue's page (the last one
	// photographed in Arabic was the inclusion report: go back).
	adm.runWithin(step, "fairs", chromedp.Navigate(fmt.Sprintf("%s/fr/dashboard/admin/venues/%d", s.URL, venueID)), chromedp.WaitVisible(`main h1`, chromedp.ByQuery))
	var body string
	adm.runWithin(step, "fairs text", chromedp.Text(`main`, &body, chromedp.ByQuery))
	if !strings.Contains(body, "Foire des amandiers") {
		t.Error("the venue page does not list its fair")
	}
	t.Logf("%d administrator pages photographed in %s; the whole test took %s", 2*len(pages), adm.shots, time.Since(began).Round(time.Millisecond))
}
