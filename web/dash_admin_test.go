package web_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// The administrators' pages in the page matrix: admin only, the unit and
// venue editors included.
func init() {
	pageSetups = append(pageSetups, func(t *testing.T, w *pageWorld) {
		var unitID, venueID int64
		if err := w.S.DB.Raw(`SELECT u.id, u.venue_id FROM units u JOIN venues v ON v.id = u.venue_id WHERE v.slug = 'aouartas-artisan-zone' ORDER BY u.code LIMIT 1`).
			Row().Scan(&unitID, &venueID); err != nil {
			t.Fatal(err)
		}
		w.Extra["admin.unit"], w.Extra["admin.venue"] = unitID, venueID
	})
	for _, p := range []string{"", "/cooperatives", "/certificates", "/applications", "/payments", "/venues", "/catalog", "/shipping", "/money",
		"/reports/occupancy", "/reports/revenue", "/reports/sales", "/reports/inclusion"} {
		path := "/fr/dashboard/admin" + p
		pageCases = append(pageCases, pageCase{Name: "admin " + p, Path: func(*pageWorld) string { return path }, Want: adminPage})
	}
	pageCases = append(pageCases,
		pageCase{Name: "admin venue editor", Want: adminPage,
			Path: func(w *pageWorld) string { return fmt.Sprintf("/ar/dashboard/admin/venues/%d", w.Extra["admin.venue"]) }},
		pageCase{Name: "admin unit editor", Want: adminPage,
			Path: func(w *pageWorld) string { return fmt.Sprintf("/en/dashboard/admin/units/%d", w.Extra["admin.unit"]) }})
}

// adminWorld is the demo with an administrator signed in and the CSRF
// token of their session.
type adminWorld struct {
	*pageWorld
	admin *visitor
	csrf  string
	ctx   context.Context
}

func newAdminWorld(t *testing.T) *adminWorld {
	t.Helper()
	w := newPageWorld(t)
	a := &adminWorld{pageWorld: w, admin: w.Visitor(pgAdmin), ctx: context.Background()}
	a.admin.t = t
	_, body := a.admin.get("/fr/dashboard/admin")
	a.csrf = field(t, csrfField, body)
	return a
}

// post sends a form with the session's CSRF token.
func (a *adminWorld) post(path string, form url.Values) (*http.Response, string) {
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf_token", a.csrf)
	return a.admin.post(path, form)
}

func adminWant303(t *testing.T, resp *http.Response, body, prefix string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), prefix) {
		t.Fatalf("answered %d (Location %q), want 303 to %s: %.500s", resp.StatusCode, resp.Header.Get("Location"), prefix, body)
	}
}

func (a *adminWorld) user(t *testing.T, email string) *account.Principal {
	t.Helper()
	u, err := a.S.Accounts.FindUserByEmail(a.ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.S.Accounts.PrincipalOf(a.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// unitOf returns the id and code of the nth unit (by code) of a venue.
func unitOf(t *testing.T, s *testserver.Server, slug string, n int) (int64, string) {
	t.Helper()
	var id int64
	var code string
	if err := s.DB.Raw(`SELECT u.id, u.code FROM units u JOIN venues v ON v.id = u.venue_id WHERE v.slug = ? ORDER BY u.code LIMIT 1 OFFSET ?`, slug, n).
		Row().Scan(&id, &code); err != nil {
		t.Fatal(err)
	}
	return id, code
}

func (a *adminWorld) book(t *testing.T, slug string, n int, trade string, method booking.PaymentMethod, first booking.Day, days int) (booking.Booking, string) {
	t.Helper()
	unitID, code := unitOf(t, a.S, slug, n)
	artisan := a.user(t, a.Emails[pgArtisan])
	b, err := a.S.Bookings.PlaceHold(a.ctx, booking.PlaceHoldInput{UnitID: unitID, ArtisanID: artisan.UserID, Trade: trade, PaymentMethod: method,
		FirstDay: first.String(), LastDay: first.AddDays(days - 1).String()})
	if err != nil {
		t.Fatalf("book %s of %s: %v", code, slug, err)
	}
	return b, code
}

// addSale writes a sale into a cooperative's ledger, as a delivered parcel
// would.
func (a *adminWorld) addSale(t *testing.T, coopID, centimes int64) {
	t.Helper()
	now := time.Now().UTC()
	if err := a.S.DB.Exec(`INSERT INTO ledger_entries (cooperative_id, kind, amount, currency, memo, entry_key, occurred_at, created_at)
		VALUES (?, 'sale', ?, 'MAD', 'test sale', ?, ?, ?)`, coopID, centimes, fmt.Sprintf("test-sale-%d-%d", coopID, now.UnixNano()), now, now).Error; err != nil {
		t.Fatal(err)
	}
}

func TestAdminVerifiesCooperativeAndCertificates(t *testing.T) {
	a := newAdminWorld(t)
	manager := a.user(t, a.Emails[pgManagerA])
	co, err := a.S.Accounts.CreateCooperative(a.ctx, manager, account.CooperativeInput{Name: "Coopérative des forgerons d'Aouartas", Commune: "Aouartas", Crafts: []string{"pottery"}})
	if err != nil {
		t.Fatal(err)
	}
	manager = a.user(t, a.Emails[pgManagerA]) // now a manager of co too
	if _, body := a.admin.get("/fr/dashboard/admin/cooperatives"); !strings.Contains(body, fmt.Sprintf(`data-cooperative-id="%d"`, co.ID)) {
		t.Fatalf("the pending cooperative is not in the queue: %.800s", body)
	}

	t.Run("ErrCSRF", func(t *testing.T) {
		a.admin.t = t
		resp, _ := a.admin.post(fmt.Sprintf("/fr/dashboard/admin/cooperatives/%d/verify", co.ID), url.Values{"csrf_token": {"wrong"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a form with a wrong CSRF token answered %d, want 403", resp.StatusCode)
		}
		if got, _ := a.S.Accounts.FindCooperative(a.ctx, co.ID); got.Status != account.StatusPending {
			t.Fatalf("a refused form changed the cooperative to %s", got.Status)
		}
	})

	t.Run("OK", func(t *testing.T) {
		a.admin.t = t
		resp, body := a.post(fmt.Sprintf("/fr/dashboard/admin/cooperatives/%d/verify", co.ID), nil)
		adminWant303(t, resp, body, "/fr/dashboard/admin/cooperatives?done=verified")
		if got, _ := a.S.Accounts.FindCooperative(a.ctx, co.ID); got.Status != account.StatusVerified {
			t.Fatalf("the cooperative is %s after verification", got.Status)
		}
	})

	submit := func(number string) storefront.Certificate {
		key := fmt.Sprintf("private/certificates/%d/%s.pdf", co.ID, number)
		doc := []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
		if err := a.S.Media.Put(a.ctx, key, bytes.NewReader(doc), int64(len(doc)), media.PutOptions{ContentType: media.PDFContentType}); err != nil {
			t.Fatal(err)
		}
		year := time.Now().Year()
		ce, err := a.S.Catalog.SubmitCertificate(a.ctx, manager, co.ID, storefront.CertificateInput{Scheme: "morocco-handmade", Level: "1", Number: number,
			Issuer: "Ministère", ValidFrom: storefront.NewDate(year-1, 1, 1), ValidUntil: storefront.NewDate(year+1, 12, 31), DocumentKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return ce
	}
	good, bad := submit("MFM-TEST-0001"), submit("MFM-TEST-0002")
	_, body := a.admin.get("/fr/dashboard/admin/certificates")
	for _, ce := range []storefront.Certificate{good, bad} {
		if !strings.Contains(body, fmt.Sprintf(`href="/api/v1/certificates/%d/document"`, ce.ID)) {
			t.Fatalf("certificate %d is not in the queue with its document link: %.800s", ce.ID, body)
		}
	}

	t.Run("ErrReasonRequired", func(t *testing.T) {
		a.admin.t = t
		resp, body := a.post(fmt.Sprintf("/fr/dashboard/admin/certificates/%d/reject", bad.ID), url.Values{"reason": {"  "}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-field-error="reason"`) || !strings.Contains(body, "Indiquez un motif") {
			t.Fatalf("a rejection without a reason answered %d without the field's message: %.800s", resp.StatusCode, body)
		}
		if got, _ := a.S.Catalog.FindCertificate(a.ctx, manager, bad.ID); got.Status != storefront.CertificatePending {
			t.Fatalf("a refused rejection changed the certificate to %s", got.Status)
		}
	})
	t.Run("Verify", func(t *testing.T) {
		a.admin.t = t
		resp, body := a.post(fmt.Sprintf("/fr/dashboard/admin/certificates/%d/verify", good.ID), nil)
		adminWant303(t, resp, body, "/fr/dashboard/admin/certificates?done=cert_verified")
		if got, _ := a.S.Catalog.FindCertificate(a.ctx, manager, good.ID); got.Status != storefront.CertificateVerified || got.VerifiedBy == nil {
			t.Fatalf("certificate after verification: %+v", got)
		}
	})
	t.Run("Reject", func(t *testing.T) {
		a.admin.t = t
		resp, body := a.post(fmt.Sprintf("/fr/dashboard/admin/certificates/%d/reject", bad.ID), url.Values{"reason": {"Document illisible"}})
		adminWant303(t, resp, body, "/fr/dashboard/admin/certificates?done=cert_rejected")
		if got, _ := a.S.Catalog.FindCertificate(a.ctx, manager, bad.ID); got.Status != storefront.CertificateRejected || got.RejectionReason != "Document illisible" {
			t.Fatalf("certificate after rejection: %+v", got)
		}
	})
}

func TestAdminApprovesApplicationAndRecordsOfficePayment(t *testing.T) {
	a := newAdminWorld(t)
	first := booking.DayOf(time.Now()).AddDays(20)
	app, code := a.book(t, "aouartas-artisan-zone", 2, "carpentry", booking.PaymentOffice, first, 5)
	if app.Status != booking.StatusPendingApproval {
		t.Fatalf("an Aouartas booking is %s, want pending_approval", app.Status)
	}
	_, body := a.admin.get("/fr/dashboard/admin/applications")
	if !strings.Contains(body, fmt.Sprintf(`data-booking-id="%d"`, app.ID)) || !strings.Contains(body, "carpentry") || !strings.Contains(body, pageCallerNames[pgArtisan]) {
		t.Fatalf("the application is not listed with its applicant and trade: %.1000s", body)
	}
	resp, body := a.post(fmt.Sprintf("/fr/dashboard/admin/applications/%d/approve", app.ID), nil)
	adminWant303(t, resp, body, "/fr/dashboard/admin/applications?done=approved")
	got, err := a.S.Bookings.FindBooking(a.ctx, app.ID)
	admin := a.user(t, a.Emails[pgAdmin])
	if err != nil || got.Status != booking.StatusHeld || got.DecidedBy == nil || *got.DecidedBy != admin.UserID {
		t.Fatalf("after approval the booking is %+v (%v), want held and decided by %d", got, err, admin.UserID)
	}
	if _, body := a.admin.get("/fr/dashboard/admin/applications"); !strings.Contains(body, `data-status="held"`) || !strings.Contains(body, "Administrateur Souk") {
		t.Fatalf("the decision is not listed with who decided: %.1000s", body)
	}
	// Approving again is refused with the page, not a 500.
	if resp, _ := a.post(fmt.Sprintf("/fr/dashboard/admin/applications/%d/approve", app.ID), nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("approving an approved application answered %d, want 409", resp.StatusCode)
	}

	// The approved application was placed for the office: it waits in the
	// payments queue.
	_, body = a.admin.get("/fr/dashboard/admin/payments")
	if !strings.Contains(body, fmt.Sprintf(`data-booking-id="%d"`, app.ID)) || !strings.Contains(body, `data-unit-code="`+code+`"`) {
		t.Fatalf("the held booking is not in the payments queue: %.1000s", body)
	}
	payPath := fmt.Sprintf("/fr/dashboard/admin/payments/%d", app.ID)
	t.Run("ErrAmount", func(t *testing.T) {
		a.admin.t = t
		resp, body := a.post(payPath, url.Values{"method": {"office_cash"}, "amount": {"1.00"}, "receipt_number": {"R-1"}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-field-error="amount"`) || !strings.Contains(body, `value="R-1"`) {
			t.Fatalf("a wrong amount answered %d without the field's message and the values kept: %.800s", resp.StatusCode, body)
		}
	})
	t.Run("ErrReceipt", func(t *testing.T) {
		a.admin.t = t
		resp, body := a.post(payPath, url.Values{"method": {"office_cash"}, "amount": {storefront.FormatMAD(app.Amount)}, "receipt_number": {""}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-field-error="receipt_number"`) {
			t.Fatalf("a missing receipt answered %d without the field's message: %.800s", resp.StatusCode, body)
		}
	})
	if got, _ := a.S.Bookings.FindBooking(a.ctx, app.ID); got.Status != booking.StatusHeld {
		t.Fatalf("refused payments changed the booking to %s", got.Status)
	}
	resp, body = a.post(payPath, url.Values{"method": {"office_cash"}, "amount": {storefront.FormatMAD(app.Amount)}, "receipt_number": {"R-2025-001"}})
	adminWant303(t, resp, body, "/fr/dashboard/admin/payments?done=paid")
	if got, _ := a.S.Bookings.FindBooking(a.ctx, app.ID); got.Status != booking.StatusConfirmed {
		t.Fatalf("after the office payment the booking is %s", got.Status)
	}
	av, err := a.S.Bookings.Availability(a.ctx, "aouartas-artisan-zone", first, first.AddDays(4), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range av.Units {
		if u.Code == code {
			for i, st := range u.Days {
				if st != "booked" {
					t.Errorf("day %s of %s is %s after the payment, want booked", u.First.AddDays(i), code, st)
				}
			}
		}
	}
	_, body = a.Visitor(pgAnon).get("/fr/venues/aouartas-artisan-zone?day=" + first.String())
	if !regexp.MustCompile(`data-unit="` + code + `" data-state="booked"`).MatchString(body) {
		t.Errorf("the public plan does not show %s booked on %s", code, first)
	}
}

func TestAdminEditsUnitShapeAndFair(t *testing.T) {
	a := newAdminWorld(t)
	unitID, code := unitOf(t, a.S, "tafraout-artisan-market", 0)
	path := fmt.Sprintf("/fr/dashboard/admin/units/%d", unitID)
	_, body := a.admin.get(path)
	form := url.Values{"kind": {"rect"}, "x": {"40"}, "y": {"50"}, "w": {"123"}, "h": {"77"}, "area_m2": {"30"}, "day_rate": {"35.00"}, "active": {"on"}}

	form.Set("action", "preview")
	resp, body := a.post(path, form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `width="123"`) || !strings.Contains(body, `id="preview-note"`) {
		t.Fatalf("the preview answered %d without the new shape: %.800s", resp.StatusCode, body)
	}
	if u, _ := a.S.Bookings.FindUnit(a.ctx, unitID); u.Shape.W == 123 {
		t.Fatal("a preview saved the shape")
	}

	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("action", "save")
	bad.Set("x", "990") // outside the 1000-wide plan with w 123
	resp, body = a.post(path, bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-field-error="shape"`) || !strings.Contains(body, `value="990"`) {
		t.Fatalf("a shape outside the plan answered %d without the field's message: %.800s", resp.StatusCode, body)
	}
	if u, _ := a.S.Bookings.FindUnit(a.ctx, unitID); u.Shape.X == 990 {
		t.Fatal("a refused shape was saved")
	}

	form.Set("action", "save")
	resp, body = a.post(path, form)
	adminWant303(t, resp, body, path+"?done=saved")
	u, _ := a.S.Bookings.FindUnit(a.ctx, unitID)
	if sh := u.Shape; sh.Kind != "rect" || sh.X != 40 || sh.Y != 50 || sh.W != 123 || sh.H != 77 {
		t.Fatalf("saved shape %+v", u.Shape)
	}
	_, body = a.Visitor(pgAnon).get("/fr/venues/tafraout-artisan-market")
	if !regexp.MustCompile(`data-unit="` + code + `"[^>]*>\s*<title>[^<]*</title>\s*<rect x="40" y="50" width="123" height="77"`).MatchString(body) {
		t.Fatalf("the public plan does not draw %s with its new shape", code)
	}

	// A fair: bad dates come back with the message; good ones are listed.
	venuePath := fmt.Sprintf("/fr/dashboard/admin/venues/%d", u.VenueID)
	resp, body = a.post(venuePath+"/events", url.Values{"name_fr": {"Foire des amandiers"}, "first_day": {"demain"}, "last_day": {""}, "stall_price": {"200"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-field-error="first_day"`) {
		t.Fatalf("a fair without dates answered %d: %.800s", resp.StatusCode, body)
	}
	day := booking.DayOf(time.Now()).AddDays(40)
	resp, body = a.post(venuePath+"/events", url.Values{"name_fr": {"Foire des amandiers"}, "first_day": {day.String()}, "last_day": {day.AddDays(2).String()}, "stall_price": {"200"}})
	adminWant303(t, resp, body, venuePath+"?done=fair_created")
	if _, body = a.admin.get(venuePath); !strings.Contains(body, "Foire des amandiers") {
		t.Fatal("the new fair is not listed")
	}
}

func TestAdminShippingTableAndPayouts(t *testing.T) {
	a := newAdminWorld(t)
	form := url.Values{}
	for _, z := range []string{"MA", "EU", "WORLD"} {
		form.Set("fee_"+z, "10.00")
		form.Set("w_"+z+"_0", "1000")
		form.Set("a_"+z+"_0", "45.00")
		form.Set("w_"+z+"_1", "30000")
		form.Set("a_"+z+"_1", "300")
	}
	bad := url.Values{}
	for k, v := range form {
		bad[k] = v
	}
	bad.Set("a_EU_1", "trois cents")
	resp, body := a.post("/fr/dashboard/admin/shipping", bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `data-field-error="a_EU_1"`) {
		t.Fatalf("a bad amount answered %d without the cell's message: %.800s", resp.StatusCode, body)
	}
	before, _ := a.S.Catalog.ShippingTable(a.ctx)
	for _, z := range before.Zones {
		if len(z.Brackets) == 2 && z.Brackets[0].Amount == 4500 {
			t.Fatal("a refused table was saved")
		}
	}
	resp, body = a.post("/fr/dashboard/admin/shipping", form)
	adminWant303(t, resp, body, "/fr/dashboard/admin/shipping?done=saved")
	after, _ := a.S.Catalog.ShippingTable(a.ctx)
	for _, z := range after.Zones {
		if len(z.Brackets) != 2 || z.Brackets[0] != (storefront.ShippingBracket{MaxWeightG: 1000, Amount: 4500}) || z.FragilePackingFee != 1000 {
			t.Fatalf("zone %s after saving: %+v", z.Zone, z)
		}
	}

	// Commission shown; payouts refused without a RIB, above the balance.
	if _, body = a.admin.get("/fr/dashboard/admin/money"); !strings.Contains(body, "10.00 %") {
		t.Fatalf("the commission rate is not shown: %.600s", body)
	}
	payout := func(amount string) (*http.Response, string) {
		return a.post(fmt.Sprintf("/fr/dashboard/admin/cooperatives/%d/payouts", a.A), url.Values{"amount": {amount}, "reference": {"VIR-0001"},
			"paid_on": {storefront.DateOf(time.Now()).String()}, "idempotency_key": {"k-" + amount}})
	}
	resp, body = payout("100")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `data-field-error="rib"`) {
		t.Fatalf("a payout without a RIB answered %d: %.800s", resp.StatusCode, body)
	}
	if err := a.S.DB.Exec(`UPDATE cooperatives SET rib = '011519000001205000534921' WHERE id = ?`, a.A).Error; err != nil {
		t.Fatal(err)
	}
	a.addSale(t, a.A, 50000)
	resp, body = payout("600")
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, `data-field-error="amount"`) || !strings.Contains(body, "supérieur au solde") {
		t.Fatalf("a payout above the balance answered %d: %.800s", resp.StatusCode, body)
	}
	if n := countRows(t, a.S, `SELECT COUNT(*) FROM payouts WHERE cooperative_id = ?`, a.A); n != 0 {
		t.Fatalf("refused payouts wrote %d rows", n)
	}
	resp, body = payout("500")
	adminWant303(t, resp, body, "/fr/dashboard/admin/money?done=payout")
	if bal, _ := a.S.Catalog.Balance(a.ctx, a.A); bal != 0 {
		t.Fatalf("balance after paying it all out: %d", bal)
	}
}

func TestAdminReportsDrawChartsAndExportCSV(t *testing.T) {
	a := newAdminWorld(t)
	// A Tafraout booking paid at the office today: revenue to chart.
	hold, _ := a.book(t, "tafraout-artisan-market", 1, "pottery", booking.PaymentOffice, booking.DayOf(time.Now()), 1)
	resp, body := a.post(fmt.Sprintf("/fr/dashboard/admin/payments/%d", hold.ID), url.Values{"method": {"office_transfer"},
		"amount": {storefront.FormatMAD(hold.Amount)}, "receipt_number": {"VIR-77"}})
	adminWant303(t, resp, body, "/fr/dashboard/admin/payments?done=paid")
	a.addSale(t, a.A, 120000)
	a.addSale(t, a.B, 80000)
	for _, p := range []string{"/fr/dashboard/admin/reports/sales.csv", "/fr/dashboard/admin/reports/inclusion.csv"} {
		if resp, _ := a.Visitor(pgManagerA).get(p); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a manager fetching %s got %d, want 403", p, resp.StatusCode)
		}
	}
	for _, lang := range []string{"fr", "ar"} {
		for _, r := range []string{"occupancy", "revenue", "sales", "inclusion"} {
			resp, body := a.admin.get("/" + lang + "/dashboard/admin/reports/" + r + "?venue=tafraout-artisan-market")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<svg class="bars"`) || !strings.Contains(body, `class="bar"`) {
				t.Fatalf("%s report in %s answered %d without its chart: %.600s", r, lang, resp.StatusCode, body)
			}
			m := regexp.MustCompile(`data-csv="` + r + `" href="([^"]+)"`).FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("the %s report has no CSV link", r)
			}
			resp, csv := a.admin.get(strings.ReplaceAll(m[1], "&amp;", "&"))
			if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csv, ",") {
				t.Fatalf("the %s CSV answered %d %q: %.300s", r, resp.StatusCode, resp.Header.Get("Content-Type"), csv)
			}
		}
	}
	// Inclusion: the demo's cooperatives' figures (Anzi: 18 women).
	_, csv := a.admin.get("/fr/dashboard/admin/reports/inclusion.csv")
	if !strings.Contains(csv, "Anzi,1,1,18,4,2") {
		t.Fatalf("inclusion CSV: %s", csv)
	}
	// In Arabic the bars grow from the right: labels anchored at the end.
	_, body = a.admin.get("/ar/dashboard/admin/reports/inclusion")
	if !strings.Contains(body, `text-anchor="end" class="label"`) {
		t.Fatal("Arabic chart labels are not on the right")
	}
	// A bad period is said, not a 500.
	if resp, body := a.admin.get("/fr/dashboard/admin/reports/sales?from=hier"); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Période invalide") {
		t.Fatalf("a bad period answered %d", resp.StatusCode)
	}
}
