package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// Admin is what the administrators' pages need beyond the domains: the
// API's own orchestration of money (internal/server wires api.Server's
// methods), so that a page records a payment exactly as the JSON route
// does.
type Admin struct {
	// RecordOfficePayment records a booking paid at the venue office and
	// confirms it (api.Server.RecordOfficePayment).
	RecordOfficePayment func(ctx context.Context, admin *account.Principal, bookingID int64, method payment.Method, amount int64, receipt, note string) (payment.Payment, booking.Booking, error)
	// RecordPayout records a bank transfer to a cooperative
	// (api.Server.RecordPayout).
	RecordPayout func(ctx context.Context, admin *account.Principal, in storefront.PayoutInput) (storefront.Payout, bool, error)
}

const adminBase = "/:lang<len(2)>/dashboard/admin"

// mountAdminDashboard registers the administrators' pages under
// /{lang}/dashboard/admin/….
func (s *site) mountAdminDashboard(app *fiber.App) {
	get := func(p string, h adminHandler) { app.Get(adminBase+p, s.withLang(s.signedIn(s.adminOnly(h)))) }
	post := func(p string, h adminHandler) {
		app.Post(adminBase+p, s.withLang(s.signedIn(s.adminOnly(s.adminForm(h)))))
	}
	get("", s.showAdminHome)
	get("/cooperatives", s.showAdminCooperatives)
	post("/cooperatives/:id/verify", s.submitVerifyCooperative)
	get("/certificates", s.showAdminCertificates)
	post("/certificates/:id/verify", s.submitVerifyCertificate)
	post("/certificates/:id/reject", s.submitRejectCertificate)
	get("/applications", s.showAdminApplications)
	post("/applications/:id/approve", s.submitApproveApplication)
	post("/applications/:id/reject", s.submitRejectApplication)
	get("/payments", s.showAdminPayments)
	post("/payments/:id", s.submitOfficePayment)
	get("/venues", s.showAdminVenues)
	get("/venues/:id", s.showAdminVenue)
	post("/venues/:id", s.submitAdminVenue)
	post("/venues/:id/events", s.submitAdminEvent)
	get("/units/:id", s.showAdminUnit)
	post("/units/:id", s.submitAdminUnit)
	get("/catalog", s.showAdminCatalog)
	post("/products/:id/unpublish", s.submitUnpublishProduct)
	get("/shipping", s.showAdminShipping)
	post("/shipping", s.submitAdminShipping)
	get("/money", s.showAdminMoney)
	post("/cooperatives/:id/payouts", s.submitAdminPayout)
	get("/reports/occupancy", s.showOccupancyReport)
	get("/reports/revenue", s.showRevenueReport)
	get("/reports/sales", s.showSalesReport)
	get("/reports/sales.csv", s.salesByCommuneCSV)
	get("/reports/inclusion", s.showInclusionReport)
	get("/reports/inclusion.csv", s.inclusionCSV)
}

type adminHandler func(c *fiber.Ctx, lang string, p *account.Principal) error

// adminOnly refuses anyone but an administrator (403).
func (s *site) adminOnly(h adminHandler) func(c *fiber.Ctx, lang string, p *account.Principal) error {
	return func(c *fiber.Ctx, lang string, p *account.Principal) error {
		if !p.IsAdmin() {
			return errs.E(errs.Forbidden, "this page is for administrators")
		}
		return h(c, lang, p)
	}
}

// adminForm checks the CSRF token of a form (the API middleware checks a
// signed-in visitor's; checkCSRF covers the rest).
func (s *site) adminForm(h adminHandler) adminHandler {
	return func(c *fiber.Ctx, lang string, p *account.Principal) error {
		if err := s.checkCSRF(c); err != nil {
			return err
		}
		return h(c, lang, p)
	}
}

// adminFrame is what every administrator's page carries: its layout, the
// menu, the section's own links, the CSRF token and the outcome of the
// last form.
type adminFrame struct {
	Page    Page
	Links   []dashLink
	Tabs    []dashLink
	CSRF    string
	Notice  string // what the last form did (after its 303)
	Problem formProblem
}

// formProblem is a refused form: which form (Target, e.g. "payment-12"),
// its field messages and the values to show again.
type formProblem struct {
	Target  string
	Message string
	Fields  map[string]string
	Values  map[string]string
}

// Err is the message of a field of the form target.
func (f formProblem) Err(target, field string) string {
	if f.Target != target {
		return ""
	}
	return f.Fields[field]
}

// Val is the value the visitor typed, or def.
func (f formProblem) Val(target, field, def string) string {
	if f.Target == target {
		if v, ok := f.Values[field]; ok {
			return v
		}
	}
	return def
}

func (f formProblem) On(target string) bool { return f.Target == target }

var adminSections = []struct{ path, key string }{
	{"", "admin.home"}, {"/cooperatives", "admin.cooperatives"}, {"/certificates", "admin.certificates"},
	{"/applications", "admin.applications"}, {"/payments", "admin.payments"}, {"/venues", "admin.venues"},
	{"/catalog", "admin.catalog"}, {"/shipping", "admin.shipping"}, {"/money", "admin.money"},
	{"/reports/occupancy", "admin.report.occupancy"}, {"/reports/revenue", "admin.report.revenue"},
	{"/reports/sales", "admin.report.sales"}, {"/reports/inclusion", "admin.report.inclusion"},
}

func (s *site) adminFrame(c *fiber.Ctx, lang string, p *account.Principal, titleKey, path string) adminFrame {
	pg := s.page(c, lang, T(lang, titleKey), "/dashboard/admin"+path)
	pg.NoIndex = true
	f := adminFrame{Page: pg, Links: s.dashboardLinks(c, lang, p), CSRF: s.csrfToken(c)}
	here := string(c.Request().URI().Path())
	for _, sec := range adminSections {
		href := "/" + lang + "/dashboard/admin" + sec.path
		active := here == href || (sec.path != "" && strings.HasPrefix(here, href+"/"))
		f.Tabs = append(f.Tabs, dashLink{Href: href, Label: T(lang, sec.key), Active: active})
	}
	if k := c.Query("done"); k != "" && hasMessage(lang, "admin.done."+k) {
		f.Notice = T(lang, "admin.done."+k)
	}
	return f
}

func hasMessage(lang, key string) bool { _, ok := catalog[lang][key]; return ok }

// refused turns a domain refusal of a form into what the page shows: the
// field messages in the visitor's language where the catalog has words for
// the field, the domain's own words otherwise, and the answer's status.
// Other errors are returned as they are.
func refused(lang, target string, err error, values map[string]string) (formProblem, int, error) {
	e := errs.As(err)
	if e == nil || (e.Code != errs.Invalid && e.Code != errs.Conflict && e.Code != errs.NotFound) {
		return formProblem{}, 0, err
	}
	fp := formProblem{Target: target, Fields: map[string]string{}, Values: values}
	for _, fe := range e.Fields {
		name := formField(fe.Field)
		if fp.Fields[name] == "" {
			fp.Fields[name] = fieldMessage(lang, e.Code, name, fe.Message)
		}
	}
	if f, ok := e.Extra["field"].(string); ok && fp.Fields[formField(f)] == "" {
		fp.Fields[formField(f)] = fieldMessage(lang, e.Code, formField(f), e.Message)
	}
	status := http.StatusUnprocessableEntity
	switch e.Code {
	case errs.Conflict:
		status = http.StatusConflict
	case errs.NotFound:
		status = http.StatusNotFound
	}
	if len(fp.Fields) == 0 {
		fp.Message = T(lang, "admin.err.refused") + " " + e.Message
	} else {
		fp.Message = T(lang, "admin.err.check")
	}
	return fp, status, nil
}

// formField is the form's name of a domain's field.
func formField(f string) string {
	switch f {
	case "shape.points":
		return "points"
	case "shape.kind":
		return "kind"
	case "application_deadline":
		return "deadline"
	}
	return f
}

// fieldMessage is the catalog's words for a refused field
// (admin.err.<field>.conflict for a conflict, admin.err.<field>
// otherwise), or the domain's own words when the catalog has none.
func fieldMessage(lang string, code errs.Code, field, domain string) string {
	if code == errs.Conflict && hasMessage(lang, "admin.err."+field+".conflict") {
		return T(lang, "admin.err."+field+".conflict")
	}
	if hasMessage(lang, "admin.err."+field) {
		return T(lang, "admin.err."+field)
	}
	return domain
}

// invalid is a refusal found by the page itself (an unparsable number).
func invalid(field, msg string) error { return errs.InvalidField(field, "%s", msg) }

// done answers a form that worked: 303 back to the page, with a notice.
func done(c *fiber.Ctx, lang, path, what string) error {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.Redirect("/"+lang+"/dashboard/admin"+path+sep+"done="+what, http.StatusSeeOther)
}

func formValues(c *fiber.Ctx, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = c.FormValue(n)
	}
	return out
}

func idOf(c *fiber.Ctx, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "no such %s", what)
	}
	return id, nil
}

// ---- home ----

type adminHomeView struct {
	Cooperatives, Certificates, Applications, Payments int
}

func (s *site) showAdminHome(c *fiber.Ctx, lang string, p *account.Principal) error {
	ctx := c.UserContext()
	var v adminHomeView
	coops, _, err := s.deps.Accounts.FindCooperatives(ctx, p, account.CooperativeFilter{Status: account.StatusPending, Page: account.Page{Page: 1, PerPage: 100}})
	if err != nil {
		return err
	}
	v.Cooperatives = len(coops)
	certs, err := s.deps.Catalog.FindCertificatesToReview(ctx, p, 100)
	if err != nil {
		return err
	}
	v.Certificates = len(certs)
	apps, err := s.pendingApplications(ctx)
	if err != nil {
		return err
	}
	v.Applications = len(apps)
	holds, err := s.deps.Bookings.ListOfficeHolds(ctx, time.Now(), 200)
	if err != nil {
		return err
	}
	v.Payments = len(holds)
	return render(c, http.StatusOK, adminHomePage(s.adminFrame(c, lang, p, "admin.title", ""), v))
}

// ---- cooperatives ----

type adminCoopView struct {
	ID                                       int64
	Name, Commune, Crafts, Registry, ICE     string
	Women, Men, Disabled, Email, Phone, Slug string
}

func figure(n *int) string {
	if n == nil {
		return "—"
	}
	return strconv.Itoa(*n)
}

func (s *site) showAdminCooperatives(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminCooperatives(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminCooperatives(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	coops, _, err := s.deps.Accounts.FindCooperatives(c.UserContext(), p, account.CooperativeFilter{Status: account.StatusPending, Page: account.Page{Page: 1, PerPage: 100}})
	if err != nil {
		return err
	}
	var vs []adminCoopView
	for _, co := range coops {
		v := adminCoopView{ID: co.ID, Name: co.Name, Commune: co.Commune, Crafts: strings.Join(co.Crafts, ", "), Registry: co.RegistryNumber,
			ICE: co.ICE, Email: co.Contact.Email, Phone: co.Contact.Phone, Slug: co.Slug, Women: "—", Men: "—", Disabled: "—"}
		if mf := co.MemberFigures; mf != nil {
			v.Women, v.Men, v.Disabled = figure(mf.Women), figure(mf.Men), figure(mf.WithDisabilities)
		}
		vs = append(vs, v)
	}
	f := s.adminFrame(c, lang, p, "admin.cooperatives", "/cooperatives")
	f.Problem = fp
	return render(c, status, adminCooperativesPage(f, vs))
}

func (s *site) submitVerifyCooperative(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "cooperative")
	if err != nil {
		return err
	}
	if _, err := s.deps.Accounts.SetCooperativeStatus(c.UserContext(), p, id, account.StatusVerified); err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("coop-%d", id), err, nil)
		if err != nil {
			return err
		}
		return s.renderAdminCooperatives(c, lang, p, status, fp)
	}
	return done(c, lang, "/cooperatives", "verified")
}

// ---- certificates ----

type adminCertView struct {
	ID                                            int64
	Holder, Scheme, Level, Number, Issuer, Period string
	Document                                      string
}

func (s *site) showAdminCertificates(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminCertificates(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminCertificates(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	ctx := c.UserContext()
	certs, err := s.deps.Catalog.FindCertificatesToReview(ctx, p, 100)
	if err != nil {
		return err
	}
	ids := make([]int64, 0, len(certs))
	for _, ce := range certs {
		ids = append(ids, ce.CooperativeID)
	}
	names, err := s.deps.Catalog.CooperativeNames(ctx, ids)
	if err != nil {
		return err
	}
	var vs []adminCertView
	for _, ce := range certs {
		vs = append(vs, adminCertView{ID: ce.ID, Holder: names[ce.CooperativeID], Scheme: ce.Scheme, Level: ce.Level, Number: ce.Number,
			Issuer: ce.Issuer, Period: ce.ValidFrom.String() + " → " + ce.ValidUntil.String(),
			Document: fmt.Sprintf("/api/v1/certificates/%d/document", ce.ID)})
	}
	f := s.adminFrame(c, lang, p, "admin.certificates", "/certificates")
	f.Problem = fp
	return render(c, status, adminCertificatesPage(f, vs))
}

func (s *site) submitVerifyCertificate(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "certificate")
	if err != nil {
		return err
	}
	if _, err := s.deps.Catalog.VerifyCertificate(c.UserContext(), p, id); err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("cert-%d", id), err, nil)
		if err != nil {
			return err
		}
		return s.renderAdminCertificates(c, lang, p, status, fp)
	}
	return done(c, lang, "/certificates", "cert_verified")
}

func (s *site) submitRejectCertificate(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "certificate")
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	err = nil
	if reason == "" {
		err = invalid("reason", "is required")
	}
	if err == nil {
		_, err = s.deps.Catalog.RejectCertificate(c.UserContext(), p, id, reason)
	}
	if err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("cert-%d", id), err, formValues(c, "reason"))
		if err != nil {
			return err
		}
		return s.renderAdminCertificates(c, lang, p, status, fp)
	}
	return done(c, lang, "/certificates", "cert_rejected")
}

// ---- applications ----

type adminBookingView struct {
	ID                                    int64
	Venue, Unit, Days, Amount, AmountForm string
	Applicant, Email, Trade, Trades       string
	Commune, Cooperative, Applied, Expiry string
	Status, DecidedBy, DecidedAt, Reason  string
}

func (s *site) pendingApplications(ctx context.Context) ([]booking.Booking, error) {
	vs, err := s.deps.Bookings.ListVenues(ctx)
	if err != nil {
		return nil, err
	}
	var out []booking.Booking
	for _, v := range vs {
		if v.Policy != booking.PolicyApplication {
			continue
		}
		bs, err := s.deps.Bookings.ListApplications(ctx, v.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// bookingViews describes bookings with their applicants, units and venues
// (a few queries per booking: the queues are short).
func (s *site) bookingViews(ctx context.Context, lang string, bs []booking.Booking) ([]adminBookingView, error) {
	venues, units := map[int64]booking.Venue{}, map[int64]booking.Unit{}
	users := map[int64]account.User{}
	var out []adminBookingView
	for _, b := range bs {
		if _, ok := venues[b.VenueID]; !ok {
			v, err := s.deps.Bookings.FindVenue(ctx, b.VenueID)
			if err != nil {
				return nil, err
			}
			venues[b.VenueID] = v
		}
		if _, ok := units[b.UnitID]; !ok {
			u, err := s.deps.Bookings.FindUnit(ctx, b.UnitID)
			if err != nil {
				return nil, err
			}
			units[b.UnitID] = u
		}
		for _, id := range []int64{b.ArtisanID, deref(b.DecidedBy)} {
			if _, ok := users[id]; !ok && id > 0 {
				u, err := s.deps.Accounts.FindUser(ctx, id)
				if err != nil && !errs.Is(err, errs.NotFound) {
					return nil, err
				}
				users[id] = u
			}
		}
		v := adminBookingView{ID: b.ID, Venue: venues[b.VenueID].Name, Unit: units[b.UnitID].Code,
			Days:   b.FirstDay.String() + " → " + b.LastDay.String() + " (" + N(lang, "admin.days", b.Days) + ")",
			Amount: money(lang, b.Amount), AmountForm: storefront.FormatMAD(b.Amount),
			Applicant: users[b.ArtisanID].Name, Email: users[b.ArtisanID].Email, Trade: b.Trade,
			Applied: b.CreatedAt.In(booking.Zone).Format("2006-01-02 15:04"), Status: string(b.Status), Reason: b.DecisionReason}
		if b.HoldExpiresAt != nil {
			v.Expiry = b.HoldExpiresAt.In(booking.Zone).Format("2006-01-02 15:04")
		}
		if b.DecidedBy != nil {
			v.DecidedBy = users[*b.DecidedBy].Name
		}
		if b.DecidedAt != nil {
			v.DecidedAt = b.DecidedAt.In(booking.Zone).Format("2006-01-02 15:04")
		}
		if prof, err := s.deps.Accounts.FindArtisanProfile(ctx, b.ArtisanID); err == nil {
			v.Trades, v.Commune = strings.Join(prof.Trades, ", "), prof.Commune
			if prof.CooperativeID != nil {
				if co, err := s.deps.Accounts.FindCooperative(ctx, *prof.CooperativeID); err == nil {
					v.Cooperative = co.Name
				}
			}
		} else if !errs.Is(err, errs.NotFound) {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (s *site) showAdminApplications(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminApplications(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminApplications(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	ctx := c.UserContext()
	bs, err := s.pendingApplications(ctx)
	if err != nil {
		return err
	}
	pending, err := s.bookingViews(ctx, lang, bs)
	if err != nil {
		return err
	}
	ds, err := s.deps.Bookings.ListDecisions(ctx, 20)
	if err != nil {
		return err
	}
	decided, err := s.bookingViews(ctx, lang, ds)
	if err != nil {
		return err
	}
	f := s.adminFrame(c, lang, p, "admin.applications", "/applications")
	f.Problem = fp
	return render(c, status, adminApplicationsPage(f, pending, decided))
}

func (s *site) submitApproveApplication(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "application")
	if err != nil {
		return err
	}
	if _, err := s.deps.Bookings.ApproveApplication(c.UserContext(), id, p.UserID, time.Now()); err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("app-%d", id), err, nil)
		if err != nil {
			return err
		}
		return s.renderAdminApplications(c, lang, p, status, fp)
	}
	return done(c, lang, "/applications", "approved")
}

func (s *site) submitRejectApplication(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "application")
	if err != nil {
		return err
	}
	if _, err := s.deps.Bookings.RejectApplication(c.UserContext(), id, p.UserID, c.FormValue("reason"), time.Now()); err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("app-%d", id), err, formValues(c, "reason"))
		if err != nil {
			return err
		}
		return s.renderAdminApplications(c, lang, p, status, fp)
	}
	return done(c, lang, "/applications", "rejected")
}

// ---- office payments ----

func (s *site) showAdminPayments(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminPayments(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminPayments(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	ctx := c.UserContext()
	bs, err := s.deps.Bookings.ListOfficeHolds(ctx, time.Now(), 200)
	if err != nil {
		return err
	}
	vs, err := s.bookingViews(ctx, lang, bs)
	if err != nil {
		return err
	}
	f := s.adminFrame(c, lang, p, "admin.payments", "/payments")
	f.Problem = fp
	return render(c, status, adminPaymentsPage(f, vs))
}

func (s *site) submitOfficePayment(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "booking")
	if err != nil {
		return err
	}
	if s.deps.Admin.RecordOfficePayment == nil {
		return errs.E(errs.Unavailable, "office payments are not available on this server")
	}
	amount, perr := storefront.ParseMAD(c.FormValue("amount"))
	if perr != nil {
		err = invalid("amount", perr.Error())
	} else {
		_, _, err = s.deps.Admin.RecordOfficePayment(c.UserContext(), p, id, payment.Method(c.FormValue("method")), amount,
			strings.TrimSpace(c.FormValue("receipt_number")), strings.TrimSpace(c.FormValue("note")))
	}
	if err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("pay-%d", id), err, formValues(c, "method", "amount", "receipt_number", "note"))
		if err != nil {
			return err
		}
		return s.renderAdminPayments(c, lang, p, status, fp)
	}
	return done(c, lang, "/payments", "paid")
}

// ---- venues, units, fairs ----

type adminVenueRow struct {
	ID                          int64
	Name, Commune, Policy, Slug string
	Units                       int
	Active                      bool
}

func (s *site) showAdminVenues(c *fiber.Ctx, lang string, p *account.Principal) error {
	vs, err := s.deps.Bookings.ListAllVenues(c.UserContext())
	if err != nil {
		return err
	}
	var rows []adminVenueRow
	for _, v := range vs {
		rows = append(rows, adminVenueRow{ID: v.ID, Name: v.Name, Commune: v.Commune, Policy: string(v.Policy), Slug: v.Slug, Units: v.UnitCount, Active: v.Active})
	}
	return render(c, http.StatusOK, adminVenuesPage(s.adminFrame(c, lang, p, "admin.venues", "/venues"), rows))
}

// adminVenueView is a venue with its plan, units and fairs.
type adminVenueView struct {
	ID                          int64
	Name, Slug, Policy, ViewBox string
	Active                      bool
	Units                       []adminUnitRow
	Plan                        []unitView
	Fairs                       []adminFairRow
}

type adminUnitRow struct {
	ID                             int64
	Code, Area, DayRate, MonthRate string
	Trades                         string
	Active                         bool
}

type adminFairRow struct {
	Name, Days, Price, Deadline string
}

func (s *site) loadAdminVenue(c *fiber.Ctx, lang string) (booking.Venue, adminVenueView, error) {
	ctx := c.UserContext()
	id, err := idOf(c, "venue")
	if err != nil {
		return booking.Venue{}, adminVenueView{}, err
	}
	v, err := s.deps.Bookings.FindVenue(ctx, id)
	if err != nil {
		return booking.Venue{}, adminVenueView{}, err
	}
	if v.Units, err = s.deps.Bookings.ListVenueUnits(ctx, v.ID); err != nil {
		return booking.Venue{}, adminVenueView{}, err
	}
	view := adminVenueView{ID: v.ID, Name: v.Name, Slug: v.Slug, Policy: string(v.Policy), Active: v.Active, ViewBox: planViewBox(v)}
	for _, u := range v.Units {
		row := adminUnitRow{ID: u.ID, Code: u.Code, Area: strconv.Itoa(u.AreaM2), DayRate: money(lang, u.DayRate), Trades: strings.Join(u.Trades, ", "), Active: u.Active}
		if u.MonthRate > 0 {
			row.MonthRate = money(lang, u.MonthRate)
		}
		view.Units = append(view.Units, row)
		view.Plan = append(view.Plan, shapeView(u.Code, "free", u.Shape))
	}
	evs, err := s.deps.Bookings.ListEvents(ctx, v.Slug, booking.DayOf(time.Now()))
	if err != nil && !errs.Is(err, errs.NotFound) { // an inactive venue lists no fairs
		return booking.Venue{}, adminVenueView{}, err
	}
	for _, e := range evs {
		view.Fairs = append(view.Fairs, adminFairRow{Name: Localized(e.Name, lang), Days: e.FirstDay.String() + " → " + e.LastDay.String(),
			Price: money(lang, e.StallPrice), Deadline: e.ApplicationDeadline.String()})
	}
	return v, view, nil
}

func planViewBox(v booking.Venue) string {
	return fmt.Sprintf("0 0 %d %d", max(v.PlanWidth, 1), max(v.PlanHeight, 1))
}

// shapeView is a unit drawn on a plan in a state (drawUnit of the venue
// page places it).
func shapeView(code, state string, sh booking.Shape) unitView {
	uv := drawUnit(booking.Unit{Code: code, Shape: sh})
	uv.State = state
	return uv
}

func (s *site) showAdminVenue(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminVenue(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminVenue(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	_, view, err := s.loadAdminVenue(c, lang)
	if err != nil {
		return err
	}
	f := s.adminFrame(c, lang, p, "admin.venues", fmt.Sprintf("/venues/%d", view.ID))
	f.Page.Title = view.Name
	f.Problem = fp
	return render(c, status, adminVenuePage(f, view))
}

func (s *site) submitAdminVenue(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "venue")
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("name"))
	active := c.FormValue("active") == "on"
	policy := booking.Policy(c.FormValue("policy"))
	if _, err := s.deps.Bookings.UpdateVenue(c.UserContext(), id, booking.VenuePatch{Name: &name, Active: &active, Policy: &policy}); err != nil {
		fp, status, err := refused(lang, "venue", err, formValues(c, "name", "policy"))
		if err != nil {
			return err
		}
		return s.renderAdminVenue(c, lang, p, status, fp)
	}
	return done(c, lang, fmt.Sprintf("/venues/%d", id), "saved")
}

func (s *site) submitAdminEvent(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "venue")
	if err != nil {
		return err
	}
	values := formValues(c, "name_fr", "name_ar", "name_en", "first_day", "last_day", "stall_price", "deadline", "trades")
	e := booking.Event{VenueID: id, Name: booking.Text{}}
	for _, l := range Languages {
		if t := strings.TrimSpace(values["name_"+l]); t != "" {
			e.Name[l] = t
		}
	}
	var f errs.Fields
	if e.FirstDay, err = booking.ParseDay(values["first_day"]); err != nil {
		f.Add("first_day", "must be a date")
	}
	if e.LastDay, err = booking.ParseDay(values["last_day"]); err != nil {
		f.Add("last_day", "must be a date")
	}
	if values["deadline"] != "" {
		if e.ApplicationDeadline, err = booking.ParseDay(values["deadline"]); err != nil {
			f.Add("deadline", "must be a date")
		}
	}
	if strings.TrimSpace(values["stall_price"]) == "0" {
		e.StallPrice = 0
	} else if e.StallPrice, err = storefront.ParseMAD(values["stall_price"]); err != nil {
		f.Add("stall_price", "%s", err.Error())
	}
	for _, t := range strings.FieldsFunc(values["trades"], func(r rune) bool { return r == ',' || r == ' ' }) {
		e.EligibleTrades = append(e.EligibleTrades, t)
	}
	err = f.Err()
	if err == nil {
		_, err = s.deps.Bookings.CreateEvent(c.UserContext(), e)
	}
	if err != nil {
		fp, status, err := refused(lang, "fair", err, values)
		if err != nil {
			return err
		}
		return s.renderAdminVenue(c, lang, p, status, fp)
	}
	return done(c, lang, fmt.Sprintf("/venues/%d", id), "fair_created")
}

// adminUnitView is the shape editor of one unit: the form's values and the
// plan with the unit drawn where the form puts it.
type adminUnitView struct {
	ID, VenueID                        int64
	Code, Venue, ViewBox, PlanW, PlanH string
	Kind, X, Y, W, H, Points           string
	Area, DayRate, MonthRate, Trades   string
	Active, Preview                    bool
	Plan                               []unitView
}

func (s *site) showAdminUnit(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminUnit(c, lang, p, http.StatusOK, formProblem{}, nil)
}

// renderAdminUnit draws the editor; with shape set (a preview or a refused
// save), the unit is drawn with it instead of its stored shape.
func (s *site) renderAdminUnit(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem, shape *booking.Shape) error {
	ctx := c.UserContext()
	id, err := idOf(c, "unit")
	if err != nil {
		return err
	}
	u, err := s.deps.Bookings.FindUnit(ctx, id)
	if err != nil {
		return err
	}
	v, err := s.deps.Bookings.FindVenue(ctx, u.VenueID)
	if err != nil {
		return err
	}
	others, err := s.deps.Bookings.ListVenueUnits(ctx, v.ID)
	if err != nil {
		return err
	}
	sh := u.Shape
	if shape != nil {
		sh = *shape
	}
	view := adminUnitView{ID: u.ID, VenueID: v.ID, Code: u.Code, Venue: v.Name, ViewBox: planViewBox(v),
		PlanW: strconv.Itoa(v.PlanWidth), PlanH: strconv.Itoa(v.PlanHeight), Kind: sh.Kind,
		X: strconv.Itoa(sh.X), Y: strconv.Itoa(sh.Y), W: strconv.Itoa(sh.W), H: strconv.Itoa(sh.H),
		Area: strconv.Itoa(u.AreaM2), DayRate: storefront.FormatMAD(u.DayRate), Trades: strings.Join(u.Trades, ", "),
		Active: u.Active, Preview: shape != nil}
	if view.Kind == "" {
		view.Kind = booking.ShapeRect
	}
	if u.MonthRate > 0 {
		view.MonthRate = storefront.FormatMAD(u.MonthRate)
	}
	var pts []string
	for _, pt := range sh.Points {
		pts = append(pts, fmt.Sprintf("%d,%d", pt[0], pt[1]))
	}
	view.Points = strings.Join(pts, " ")
	for _, o := range others {
		if o.ID == u.ID {
			continue
		}
		view.Plan = append(view.Plan, shapeView(o.Code, "other", o.Shape))
	}
	view.Plan = append(view.Plan, shapeView(u.Code, "editing", sh))
	f := s.adminFrame(c, lang, p, "admin.venues", fmt.Sprintf("/units/%d", u.ID))
	f.Page.Title = T(lang, "admin.unit.title") + " " + u.Code
	f.Problem = fp
	return render(c, status, adminUnitPage(f, view))
}

// parseShape reads the shape fields of the unit form: a rectangle (x, y,
// w, h) or a polygon ("x,y x,y x,y …"). The venue's plan bounds are the
// domain's rule (booking.UpdateUnit).
func parseShape(c *fiber.Ctx) (booking.Shape, error) {
	var f errs.Fields
	sh := booking.Shape{Kind: c.FormValue("kind")}
	switch sh.Kind {
	case booking.ShapeRect:
		for _, fld := range []struct {
			name string
			to   *int
		}{{"x", &sh.X}, {"y", &sh.Y}, {"w", &sh.W}, {"h", &sh.H}} {
			n, err := strconv.Atoi(strings.TrimSpace(c.FormValue(fld.name)))
			if err != nil {
				f.Add(fld.name, "must be a whole number")
			}
			*fld.to = n
		}
	case booking.ShapePolygon:
		for _, pair := range strings.Fields(strings.ReplaceAll(c.FormValue("points"), ";", " ")) {
			xs, ys, ok := strings.Cut(pair, ",")
			x, errX := strconv.Atoi(xs)
			y, errY := strconv.Atoi(ys)
			if !ok || errX != nil || errY != nil {
				f.Add("points", "must be pairs x,y separated by spaces")
				break
			}
			sh.Points = append(sh.Points, [2]int{x, y})
		}
		if len(sh.Points) < 3 && len(f) == 0 {
			f.Add("points", "needs at least three corners")
		}
	default:
		f.Add("kind", "must be rect or polygon")
	}
	return sh, f.Err()
}

func (s *site) submitAdminUnit(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "unit")
	if err != nil {
		return err
	}
	values := formValues(c, "area_m2", "day_rate", "month_rate")
	sh, err := parseShape(c)
	if err == nil && c.FormValue("action") == "preview" {
		return s.renderAdminUnit(c, lang, p, http.StatusOK, formProblem{}, &sh)
	}
	if err == nil {
		var patch booking.UnitPatch
		patch.Shape = &sh
		var f errs.Fields
		if area, aerr := strconv.Atoi(strings.TrimSpace(values["area_m2"])); aerr != nil {
			f.Add("area_m2", "must be a whole number")
		} else {
			patch.AreaM2 = &area
		}
		if day, derr := storefront.ParseMAD(values["day_rate"]); derr != nil {
			f.Add("day_rate", "%s", derr.Error())
		} else {
			patch.DayRate = &day
		}
		month := int64(0)
		if strings.TrimSpace(values["month_rate"]) != "" {
			var merr error
			if month, merr = storefront.ParseMAD(values["month_rate"]); merr != nil {
				f.Add("month_rate", "%s", merr.Error())
			}
		}
		patch.MonthRate = &month
		active := c.FormValue("active") == "on"
		patch.Active = &active
		err = f.Err()
		if err == nil {
			_, err = s.deps.Bookings.UpdateUnit(c.UserContext(), id, patch)
		}
	}
	if err != nil {
		fp, status, err := refused(lang, "unit", err, formValues(c, "kind", "x", "y", "w", "h", "points", "area_m2", "day_rate", "month_rate"))
		if err != nil {
			return err
		}
		return s.renderAdminUnit(c, lang, p, status, fp, nil)
	}
	return done(c, lang, fmt.Sprintf("/units/%d", id), "saved")
}

// ---- catalog moderation ----

type adminProductRow struct {
	ID                        int64
	Title, Cooperative, Price string
	Slug                      string
}

func (s *site) showAdminCatalog(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminCatalog(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminCatalog(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > 200 {
		q = q[:200]
	}
	list, err := s.deps.Catalog.FindProducts(c.UserContext(), storefront.ProductFilter{Q: q, PerPage: 50, Page: 1})
	if err != nil {
		return err
	}
	var rows []adminProductRow
	for _, pr := range list.Items {
		row := adminProductRow{ID: pr.ID, Title: Localized(pr.Title, lang), Cooperative: pr.Cooperative.Name, Slug: pr.Slug}
		if pr.Price != nil {
			row.Price = money(lang, *pr.Price)
		}
		rows = append(rows, row)
	}
	f := s.adminFrame(c, lang, p, "admin.catalog", "/catalog")
	f.Problem = fp
	return render(c, status, adminCatalogPage(f, q, rows))
}

func (s *site) submitUnpublishProduct(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "product")
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if reason == "" {
		err = invalid("reason", "is required")
	} else {
		_, err = s.deps.Catalog.UnpublishProduct(c.UserContext(), p, id, reason)
	}
	if err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("prod-%d", id), err, formValues(c, "reason"))
		if err != nil {
			return err
		}
		return s.renderAdminCatalog(c, lang, p, status, fp)
	}
	return done(c, lang, "/catalog", "unpublished")
}

// ---- shipping table ----

// shippingRows are the empty bracket lines the form adds to each zone, so
// that a bracket can be added without JavaScript.
const shippingSpareRows = 2

type adminZoneView struct {
	Zone, Fee string
	Brackets  [][2]string // max weight (g), amount (MAD)
}

func (s *site) showAdminShipping(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminShipping(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminShipping(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	t, err := s.deps.Catalog.ShippingTable(c.UserContext())
	if err != nil {
		return err
	}
	var zones []adminZoneView
	for _, z := range t.Zones {
		zv := adminZoneView{Zone: string(z.Zone), Fee: storefront.FormatMAD(z.FragilePackingFee)}
		for _, b := range z.Brackets {
			zv.Brackets = append(zv.Brackets, [2]string{strconv.Itoa(b.MaxWeightG), storefront.FormatMAD(b.Amount)})
		}
		for range shippingSpareRows {
			zv.Brackets = append(zv.Brackets, [2]string{"", ""})
		}
		zones = append(zones, zv)
	}
	updated := ""
	if t.UpdatedAt != nil {
		updated = t.UpdatedAt.In(booking.Zone).Format("2006-01-02 15:04")
	}
	f := s.adminFrame(c, lang, p, "admin.shipping", "/shipping")
	f.Problem = fp
	return render(c, status, adminShippingPage(f, zones, updated))
}

// parseAmount reads dirhams, zero included (free shipping, no fee).
func parseAmount(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "0.00" || s == "0.0" {
		return 0, nil
	}
	return storefront.ParseMAD(s)
}

func (s *site) submitAdminShipping(c *fiber.Ctx, lang string, p *account.Principal) error {
	t := storefront.ShippingTable{Currency: storefront.Currency}
	var f errs.Fields
	values := map[string]string{}
	for _, z := range storefront.Zones {
		zr := storefront.ShippingZoneRates{Zone: z}
		feeName := "fee_" + string(z)
		values[feeName] = c.FormValue(feeName)
		fee, err := parseAmount(values[feeName])
		if err != nil {
			f.Add(feeName, "%s", err.Error())
		}
		zr.FragilePackingFee = fee
		for i := 0; i < 20+shippingSpareRows; i++ {
			wName, aName := fmt.Sprintf("w_%s_%d", z, i), fmt.Sprintf("a_%s_%d", z, i)
			w, a := strings.TrimSpace(c.FormValue(wName)), strings.TrimSpace(c.FormValue(aName))
			values[wName], values[aName] = w, a
			if w == "" && a == "" {
				continue
			}
			g, err := strconv.Atoi(w)
			if err != nil || g <= 0 {
				f.Add(wName, "must be a weight in grams")
			}
			amt, err := parseAmount(a)
			if err != nil {
				f.Add(aName, "%s", err.Error())
			}
			zr.Brackets = append(zr.Brackets, storefront.ShippingBracket{MaxWeightG: g, Amount: amt})
		}
		t.Zones = append(t.Zones, zr)
	}
	err := f.Err()
	if err == nil {
		_, err = s.deps.Catalog.ReplaceShippingTable(c.UserContext(), p, t)
	}
	if err != nil {
		fp, status, err := refused(lang, "shipping", err, values)
		if err != nil {
			return err
		}
		return s.renderAdminShipping(c, lang, p, status, fp)
	}
	return done(c, lang, "/shipping", "saved")
}

// ---- commission and payouts ----

type adminPayoutRow struct {
	ID                         int64
	Name, Balance, BalanceForm string
	RIB                        string
}

func (s *site) showAdminMoney(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.renderAdminMoney(c, lang, p, http.StatusOK, formProblem{})
}

func (s *site) renderAdminMoney(c *fiber.Ctx, lang string, p *account.Principal, status int, fp formProblem) error {
	ctx := c.UserContext()
	coops, _, err := s.deps.Accounts.FindCooperatives(ctx, p, account.CooperativeFilter{Page: account.Page{Page: 1, PerPage: 100}})
	if err != nil {
		return err
	}
	var rows []adminPayoutRow
	for _, co := range coops {
		bal, err := s.deps.Catalog.Balance(ctx, co.ID)
		if err != nil {
			return err
		}
		rows = append(rows, adminPayoutRow{ID: co.ID, Name: co.Name, Balance: money(lang, bal), BalanceForm: storefront.FormatMAD(max(bal, 0)), RIB: co.RIB})
	}
	bps := s.deps.Config.CommissionBPS
	rate := fmt.Sprintf("%d.%02d %%", bps/100, bps%100)
	f := s.adminFrame(c, lang, p, "admin.money", "/money")
	f.Problem = fp
	return render(c, status, adminMoneyPage(f, rate, storefront.DateOf(time.Now()).String(), rows))
}

func (s *site) submitAdminPayout(c *fiber.Ctx, lang string, p *account.Principal) error {
	id, err := idOf(c, "cooperative")
	if err != nil {
		return err
	}
	if s.deps.Admin.RecordPayout == nil {
		return errs.E(errs.Unavailable, "payouts are not available on this server")
	}
	values := formValues(c, "amount", "reference", "paid_on", "idempotency_key")
	var f errs.Fields
	amount, perr := storefront.ParseMAD(values["amount"])
	if perr != nil {
		f.Add("amount", "%s", perr.Error())
	}
	paidOn, derr := storefront.ParseDate(values["paid_on"])
	if derr != nil {
		f.Add("paid_on", "must be a date")
	}
	err = f.Err()
	if err == nil {
		_, _, err = s.deps.Admin.RecordPayout(c.UserContext(), p, storefront.PayoutInput{CooperativeID: id, Amount: amount,
			Reference: values["reference"], PaidOn: paidOn, IdempotencyKey: values["idempotency_key"]})
	}
	if err != nil {
		fp, status, err := refused(lang, fmt.Sprintf("payout-%d", id), err, values)
		if err != nil {
			return err
		}
		return s.renderAdminMoney(c, lang, p, status, fp)
	}
	return done(c, lang, "/money", "payout")
}
