package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
)

// Rentals are what the artisan's pages need beyond the booking store: the
// API server provides them (internal/server wires them), so that a page
// books, pays and cancels through exactly the code of POST /api/v1/bookings,
// the card checkouts and POST /api/v1/bookings/{id}/cancel.
type Rentals struct {
	// PlaceBooking books a unit for the signed-in caller and, for a held
	// card booking, opens the card checkout whose URL it returns
	// (api.Server.PlaceBooking).
	PlaceBooking func(c *fiber.Ctx, in booking.PlaceHoldInput) (booking.Booking, string, error)
	// PayBookingByCard opens a card checkout for the caller's held booking
	// (api.Server.PayBookingByCard).
	PayBookingByCard func(c *fiber.Ctx, bookingID int64) (string, error)
	// PayInvoiceByCard opens a card checkout for the caller's lease invoice
	// (api.Server.PayInvoiceByCard).
	PayInvoiceByCard func(c *fiber.Ctx, invoiceID int64) (booking.Invoice, string, error)
	// CancelBooking cancels the caller's booking and refunds a card payment
	// (api.Server.CancelBooking).
	CancelBooking func(c *fiber.Ctx, bookingID int64) (booking.Booking, int64, error)
	// CardPayments reports whether card payments are on.
	CardPayments func() bool
}

// mountArtisanDashboard registers the artisans' pages under
// /{lang}/dashboard/artisan/….
func (s *site) mountArtisanDashboard(app *fiber.App) {
	base := "/:lang<len(2)>/dashboard/artisan"
	get := func(p string, h func(c *fiber.Ctx, lang string, p *account.Principal) error) {
		app.Get(base+p, s.withLang(s.signedIn(s.renterPage(h))))
	}
	post := func(p string, h func(c *fiber.Ctx, lang string, p *account.Principal) error) {
		app.Post(base+p, s.withLang(s.signedIn(s.renterPage(h))))
	}
	get("", s.showArtisanHome)
	get("/venues/:slug", s.showArtisanVenue)
	get("/venues/:slug/book", s.showBookingForm)
	post("/venues/:slug/book", s.submitBookingForm)
	post("/venues/:slug/waitlist", s.submitWaitlistForm)
	get("/bookings", s.showMyBookings)
	get("/bookings/:id", s.showArtisanBooking)
	get("/bookings/:id/receipt", s.showBookingReceipt)
	post("/bookings/:id/pay", s.submitPayBooking)
	get("/bookings/:id/cancel", s.showCancelBooking)
	post("/bookings/:id/cancel", s.submitCancelBooking)
	get("/invoices/:id", s.showInvoiceSlip)
	post("/invoices/:id/pay", s.submitPayInvoice)
	// The card checkouts the API opens come back to /{lang}/dashboard/bookings/{id}.
	app.Get("/:lang<len(2)>/dashboard/bookings/:id", s.redirectCheckoutReturn)
}

// canRent says whether a person may book units: the roles the API's
// Renters policy admits.
func canRent(p *account.Principal) bool {
	return p.HasAnyRole(account.RoleArtisan, account.RoleCooperative)
}

// renterPage admits the people the dashboard's menu sends here: renters,
// and administrators (who may look at plans but book nothing).
func (s *site) renterPage(h func(c *fiber.Ctx, lang string, p *account.Principal) error) func(c *fiber.Ctx, lang string, p *account.Principal) error {
	return func(c *fiber.Ctx, lang string, p *account.Principal) error {
		if !canRent(p) && !p.IsAdmin() && len(p.Memberships) == 0 {
			return errs.E(errs.Forbidden, "the artisan's pages are for artisans and cooperatives")
		}
		if s.deps.Bookings == nil {
			return errs.E(errs.Unavailable, "booking is not available on this server")
		}
		return h(c, lang, p)
	}
}

// redirectCheckoutReturn sends the return from a card checkout to the
// booking's page, in the language the visitor reads (the checkout is opened
// with a French address).
func (s *site) redirectCheckoutReturn(c *fiber.Ctx) error {
	lang := c.Cookies(LangCookie)
	if !ValidLang(lang) {
		lang = c.Params("lang")
	}
	if !ValidLang(lang) {
		return errs.E(errs.NotFound, "no such language")
	}
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "no such booking")
	}
	to := fmt.Sprintf("/%s/dashboard/artisan/bookings/%d", lang, id)
	if c.Query("paid") != "" {
		to += "?paid=1"
	}
	return c.Redirect(to, http.StatusSeeOther)
}

// artBase is the address of the artisan's section in lang.
func artBase(lang string) string { return "/" + lang + "/dashboard/artisan" }

// artPage starts the layout of one of the section's pages.
func (s *site) artPage(c *fiber.Ctx, lang, title, path string) Page {
	p := s.page(c, lang, title, "/dashboard/artisan"+path)
	p.NoIndex = true
	return p
}

// artFrame is the dashboard frame every page of the section draws.
type artFrame struct {
	Links []dashLink
	CSRF  string
	// CanRent is false for administrators, who see plans but book nothing.
	CanRent bool
	Notice  string
}

func (s *site) artFrame(c *fiber.Ctx, lang string, p *account.Principal) artFrame {
	return artFrame{Links: s.dashboardLinks(c, lang, p), CSRF: s.csrfToken(c), CanRent: canRent(p)}
}

// ---- venues by commune ----------------------------------------------------

type artVenueCard struct {
	Slug, Name, Kind, Policy string
	Units                    int
}

type artCommune struct {
	Name, Anchor string
	X, Y, LabelY string
	Units        int
	Venues       []artVenueCard
}

type artHomeView struct {
	Communes []artCommune
	Upcoming int
}

// The province schematic is 600×400: the venues' coordinates projected
// (equirectangular), north up and west (the Atlantic) on the left in every
// language — it is a map, so it is not mirrored for Arabic.
const mapW, mapH, mapPad = 600.0, 400.0, 50.0

func (s *site) showArtisanHome(c *fiber.Ctx, lang string, p *account.Principal) error {
	ctx := c.UserContext()
	vs, err := s.deps.Bookings.ListVenues(ctx)
	if err != nil {
		return err
	}
	type acc struct {
		c          artCommune
		lat, lng   float64
		n          int
		positioned bool
	}
	byName := map[string]*acc{}
	var names []string
	minLat, maxLat, minLng, maxLng := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		a := byName[v.Commune]
		if a == nil {
			a = &acc{c: artCommune{Name: v.Commune, Anchor: "commune-" + strconv.Itoa(len(names)+1)}}
			byName[v.Commune] = a
			names = append(names, v.Commune)
		}
		a.c.Venues = append(a.c.Venues, artVenueCard{Slug: v.Slug, Name: v.Name, Kind: v.Kind, Policy: string(v.Policy), Units: v.UnitCount})
		a.c.Units += v.UnitCount
		if v.Latitude != nil && v.Longitude != nil {
			a.lat, a.lng, a.n, a.positioned = a.lat+*v.Latitude, a.lng+*v.Longitude, a.n+1, true
		}
	}
	for _, a := range byName {
		if a.positioned {
			a.lat, a.lng = a.lat/float64(a.n), a.lng/float64(a.n)
			minLat, maxLat, minLng, maxLng = min(minLat, a.lat), max(maxLat, a.lat), min(minLng, a.lng), max(maxLng, a.lng)
		}
	}
	sort.Strings(names)
	view := artHomeView{}
	for _, n := range names {
		a := byName[n]
		if a.positioned {
			// One scale for both axes (a degree of longitude is shorter
			// than one of latitude, by cos(latitude)).
			kx := math.Cos((minLat + maxLat) / 2 * math.Pi / 180)
			spanX, spanY := max((maxLng-minLng)*kx, 1e-6), max(maxLat-minLat, 1e-6)
			scale := min((mapW-2*mapPad)/spanX, (mapH-2*mapPad)/spanY)
			x := mapPad + (a.lng-minLng)*kx*scale
			y := mapH - mapPad - (a.lat-minLat)*scale
			a.c.X, a.c.Y, a.c.LabelY = strconv.Itoa(int(x)), strconv.Itoa(int(y)), strconv.Itoa(int(y)-14)
		}
		view.Communes = append(view.Communes, a.c)
	}
	bs, _, err := s.deps.Bookings.ListArtisanBookings(ctx, p.UserID, 1, 100)
	if err != nil {
		return err
	}
	today := booking.DayOf(time.Now())
	for _, b := range bs {
		if live(b, time.Now()) && !b.LastDay.Before(today) {
			view.Upcoming++
		}
	}
	pg := s.artPage(c, lang, T(lang, "art.title"), "")
	return render(c, http.StatusOK, artHomePage(pg, s.artFrame(c, lang, p), view))
}

// live reports whether a booking still holds (or waits for) its days.
func live(b booking.Booking, now time.Time) bool {
	switch b.Status {
	case booking.StatusConfirmed, booking.StatusPendingApproval:
		return true
	case booking.StatusHeld:
		return b.HoldExpiresAt == nil || b.HoldExpiresAt.After(now)
	}
	return false
}

// ---- a venue: plan and calendar ------------------------------------------

type artUnit struct {
	unitView
	Label             string // the state in words
	BookURL, CalURL   string
	FreeDays, AllDays int
	Selected          bool
}

type artCalDay struct {
	Day, Num, State, Label, BookURL string
	InMonth                         bool
}

type artCalendar struct {
	Unit, Title      string
	Weekdays         []string
	Weeks            [][]artCalDay
	PrevURL, NextURL string
}

type artVenueView struct {
	Slug, Name, Commune, Kind, Policy, Description string
	From, To                                       string
	Errors                                         map[string]string
	ViewBox                                        string
	Units                                          []artUnit
	Cal                                            *artCalendar
}

// parseRange reads the from/to of a form or query: defaults when both are
// empty, else each checked, with the page's words for what is wrong.
func parseRange(lang, from, to string, def booking.DayRange) (booking.DayRange, map[string]string) {
	from, to = strings.TrimSpace(from), strings.TrimSpace(to)
	if from == "" && to == "" {
		return def, nil
	}
	bad := map[string]string{}
	f, err := booking.ParseDay(from)
	if err != nil {
		bad["from"] = T(lang, "art.err.date")
	}
	l, err := booking.ParseDay(to)
	if err != nil {
		bad["to"] = T(lang, "art.err.date")
	}
	if len(bad) == 0 {
		switch r := (booking.DayRange{First: f, Last: l}); {
		case l.Before(f):
			bad["to"] = T(lang, "art.err.order")
		case r.Days() > 62:
			bad["to"] = N(lang, "art.err.span", 62)
		default:
			return r, nil
		}
	}
	return def, bad
}

// stateOver sums up a unit's days: free when every day is free, partly
// when some are, else the strongest of booked, held, blocked.
func stateOver(days []booking.DayState) (string, int) {
	free, held, booked, blocked := 0, 0, 0, 0
	for _, st := range days {
		switch st {
		case booking.DayFree:
			free++
		case booking.DayHeld:
			held++
		case booking.DayBooked:
			booked++
		case booking.DayBlocked:
			blocked++
		}
	}
	switch {
	case free == len(days):
		return "free", free
	case free > 0:
		return "partly", free
	case booked > 0:
		return "booked", 0
	case held > 0:
		return "held", 0
	case blocked > 0:
		return "blocked", 0
	}
	return "free", free
}

func (s *site) showArtisanVenue(c *fiber.Ctx, lang string, p *account.Principal) error {
	ctx := c.UserContext()
	v, err := s.deps.Bookings.FindVenueBySlug(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	now := time.Now()
	today := booking.DayOf(now)
	r, bad := parseRange(lang, c.Query("from"), c.Query("to"), booking.DayRange{First: today, Last: today.AddDays(6)})
	avail, err := s.deps.Bookings.Availability(ctx, v.Slug, r.First, r.Last, now)
	if err != nil {
		return err
	}
	byID := map[int64]booking.UnitAvailability{}
	for _, u := range avail.Units {
		byID[u.ID] = u
	}
	base := artBase(lang) + "/venues/" + url.PathEscape(v.Slug)
	rangeQ := "from=" + r.First.String() + "&to=" + r.Last.String()
	view := artVenueView{Slug: v.Slug, Name: v.Name, Commune: v.Commune, Kind: v.Kind, Policy: string(v.Policy),
		Description: Localized(v.Description, lang), From: r.First.String(), To: r.Last.String(), Errors: bad,
		ViewBox: fmt.Sprintf("0 0 %d %d", max(v.PlanWidth, 1), max(v.PlanHeight, 1))}
	selected := c.Query("unit")
	var selUnit *booking.Unit
	for i, u := range v.Units {
		au := artUnit{unitView: drawUnit(u), AllDays: r.Days()}
		au.State, au.FreeDays = stateOver(byID[u.ID].Days)
		au.Label = T(lang, "art.state."+au.State)
		au.Area, au.DayRate = strconv.Itoa(u.AreaM2), money(lang, u.DayRate)
		if u.MonthRate > 0 {
			au.MonthRate = money(lang, u.MonthRate)
		}
		au.Trades = tradeNames(lang, u.Trades)
		au.BookURL = base + "/book?unit=" + url.QueryEscape(u.Code) + "&" + rangeQ
		au.CalURL = base + "?unit=" + url.QueryEscape(u.Code) + "&" + rangeQ + "#calendar"
		if u.Code == selected {
			au.Selected, selUnit = true, &v.Units[i]
		}
		view.Units = append(view.Units, au)
	}
	if selUnit != nil {
		month := booking.MonthOf(r.First)
		if m, err := booking.ParseMonth(c.Query("month")); err == nil {
			month = m
		}
		cal, err := s.unitCalendar(c, lang, v.Slug, *selUnit, month, rangeQ, now)
		if err != nil {
			return err
		}
		view.Cal = cal
	}
	status := http.StatusOK
	if len(bad) > 0 {
		status = http.StatusUnprocessableEntity
	}
	pg := s.artPage(c, lang, v.Name, "/venues/"+v.Slug)
	return render(c, status, artVenuePage(pg, s.artFrame(c, lang, p), view))
}

// unitCalendar draws a month of one unit's days, weeks starting on Monday.
func (s *site) unitCalendar(c *fiber.Ctx, lang, slug string, u booking.Unit, m booking.Month, rangeQ string, now time.Time) (*artCalendar, error) {
	mr := m.Range()
	a, err := s.deps.Bookings.Availability(c.UserContext(), slug, mr.First, mr.Last, now)
	if err != nil {
		return nil, err
	}
	var days booking.UnitAvailability
	for _, ua := range a.Units {
		if ua.ID == u.ID {
			days = ua
		}
	}
	today := booking.DayOf(now)
	base := artBase(lang) + "/venues/" + url.PathEscape(slug)
	cal := &artCalendar{Unit: u.Code, Title: T(lang, fmt.Sprintf("art.month.%d", int(m.Month))) + " " + strconv.Itoa(m.Year)}
	for i := 1; i <= 7; i++ {
		cal.Weekdays = append(cal.Weekdays, T(lang, fmt.Sprintf("art.wd.%d", i)))
	}
	monthURL := func(mm booking.Month) string {
		return base + "?unit=" + url.QueryEscape(u.Code) + "&" + rangeQ + "&month=" + mm.String() + "#calendar"
	}
	cal.PrevURL = monthURL(booking.MonthOf(mr.First.AddDays(-1)))
	cal.NextURL = monthURL(booking.MonthOf(mr.Last.AddDays(1)))
	// Monday on or before the 1st.
	wd := int(mr.First.Start().Weekday()+6) % 7
	var week []artCalDay
	for d := mr.First.AddDays(-wd); ; d = d.AddDays(1) {
		cd := artCalDay{Day: d.String()}
		if mr.Contains(d) {
			_, _, dn := d.Date()
			cd.InMonth, cd.Num = true, strconv.Itoa(dn)
			cd.State = string(days.On(d))
			if cd.State == "" {
				cd.State = string(booking.DayFree)
			}
			if d.Before(today) {
				cd.State = "past"
			}
			cd.Label = T(lang, "art.state."+cd.State)
			if cd.State == string(booking.DayFree) {
				cd.BookURL = base + "/book?unit=" + url.QueryEscape(u.Code) + "&from=" + d.String() + "&to=" + d.String()
			}
		}
		week = append(week, cd)
		if len(week) == 7 {
			cal.Weeks = append(cal.Weeks, week)
			week = nil
			if d.Compare(mr.Last) >= 0 {
				break
			}
		}
	}
	return cal, nil
}

// tradeNames is a unit's trades in words.
func tradeNames(lang string, trades []string) string {
	out := make([]string, len(trades))
	for i, t := range trades {
		out[i] = tradeName(lang, t)
	}
	if lang == "ar" {
		return strings.Join(out, "، ")
	}
	return strings.Join(out, ", ")
}

// tradeName is a trade slug in words, or the slug when the catalog has no
// words for it.
func tradeName(lang, slug string) string {
	if _, ok := catalog[lang]["art.trade."+slug]; ok {
		return T(lang, "art.trade."+slug)
	}
	return slug
}

// ---- booking a unit -------------------------------------------------------

// artBookForm is what the artisan typed, kept across a refused submit.
type artBookForm struct {
	Unit, From, To, Trade, Method, Key string
}

type artBookView struct {
	Slug, VenueName, Policy, Rules, Deposit string
	Unit                                    artUnit
	Units                                   []string
	Trades                                  []artOption // empty: the unit admits every trade
	Form                                    artBookForm
	Card                                    bool
	Errors                                  map[string]string
	Error                                   string   // a refusal that is no field's
	Conflict                                []string // the days taken
	CanWait                                 bool     // the waitlist is open for these days
}

type artOption struct {
	Value, Label string
	Selected     bool
}

// newKey is a fresh idempotency key for a booking form: submitting the
// same form twice books once.
func newKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	return hex.EncodeToString(b)
}

func (s *site) cardPayments() bool {
	return s.deps.Rentals.CardPayments != nil && s.deps.Rentals.CardPayments() && s.deps.Config.StripeEnabled()
}

func (s *site) showBookingForm(c *fiber.Ctx, lang string, p *account.Principal) error {
	f := artBookForm{Unit: c.Query("unit"), From: c.Query("from"), To: c.Query("to"), Key: newKey()}
	if f.From == "" {
		f.From = booking.DayOf(time.Now()).String()
	}
	if f.To == "" {
		f.To = f.From
	}
	return s.renderBookingForm(c, lang, p, http.StatusOK, f, nil)
}

// renderBookingForm draws the booking form of a venue, with the refusal of
// a submit when err is one.
func (s *site) renderBookingForm(c *fiber.Ctx, lang string, p *account.Principal, status int, f artBookForm, err error) error {
	ctx := c.UserContext()
	v, ferr := s.deps.Bookings.FindVenueBySlug(ctx, c.Params("slug"))
	if ferr != nil {
		return ferr
	}
	view := artBookView{Slug: v.Slug, VenueName: v.Name, Policy: string(v.Policy), Rules: Localized(v.Rules, lang),
		Form: f, Card: s.cardPayments(), Errors: map[string]string{}}
	if v.Deposit > 0 {
		view.Deposit = money(lang, v.Deposit)
	}
	var unit *booking.Unit
	for i, u := range v.Units {
		view.Units = append(view.Units, u.Code)
		if u.Code == f.Unit {
			unit = &v.Units[i]
		}
	}
	if unit == nil && f.Unit == "" && len(v.Units) > 0 {
		unit, view.Form.Unit = &v.Units[0], v.Units[0].Code
	}
	if unit == nil {
		return errs.E(errs.NotFound, "no such unit")
	}
	view.Unit = artUnit{unitView: unitView{Code: unit.Code, Area: strconv.Itoa(unit.AreaM2), DayRate: money(lang, unit.DayRate),
		Trades: tradeNames(lang, unit.Trades)}}
	if unit.MonthRate > 0 {
		view.Unit.MonthRate = money(lang, unit.MonthRate)
	}
	if !containsStr(unit.Trades, booking.AnyTrade) && len(unit.Trades) > 0 {
		chosen := f.Trade
		if chosen == "" && s.deps.Accounts != nil {
			if prof, err := s.deps.Accounts.FindArtisanProfile(ctx, p.UserID); err == nil && len(prof.Trades) > 0 {
				chosen = prof.Trades[0]
			}
		}
		for _, t := range unit.Trades {
			view.Trades = append(view.Trades, artOption{Value: t, Label: tradeName(lang, t), Selected: t == chosen})
		}
	}
	if view.Form.Method == "" {
		view.Form.Method = string(booking.PaymentOffice)
		if view.Card {
			view.Form.Method = string(booking.PaymentCard)
		}
	}
	if e := errs.As(err); e != nil {
		for _, fe := range e.Fields {
			name, msg := bookingFieldMessage(lang, fe)
			if _, dup := view.Errors[name]; !dup {
				view.Errors[name] = msg
			}
		}
		if days, ok := e.Extra["conflicting_days"].([]string); ok {
			view.Conflict = days
			view.CanWait = v.Policy == booking.PolicyInstant && v.Kind != booking.KindFair
		} else if len(e.Fields) == 0 {
			view.Error = refusalMessage(lang, e)
		}
	}
	if view.Form.Key == "" || len(view.Conflict) > 0 {
		// A new attempt (other days) is a new booking.
		view.Form.Key = newKey()
	}
	pg := s.artPage(c, lang, T(lang, "art.book.title")+" "+unit.Code, "/venues/"+v.Slug+"/book")
	return render(c, status, artBookPage(pg, s.artFrame(c, lang, p), view))
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// bookingFieldMessage puts a field error of the booking domain in the
// page's words: the form's field it belongs to and what to do.
func bookingFieldMessage(lang string, fe errs.FieldError) (string, string) {
	field := fe.Field
	switch field {
	case "first_day":
		field = "from"
	case "last_day":
		field = "to"
	case "unit_id":
		field = "unit"
	}
	m := fe.Message
	key := ""
	switch {
	case field == "trade":
		key = "art.err.trade"
	case field == "payment_method":
		key = "art.err.method"
	case strings.Contains(m, "must be a date"):
		key = "art.err.date"
	case strings.Contains(m, "must not be before"):
		key = "art.err.order"
	case strings.Contains(m, "in the past"):
		key = "art.err.past"
	case strings.Contains(m, "must be at least"):
		key = "art.err.lead"
	case strings.Contains(m, "at most") && strings.Contains(m, "ahead"):
		key = "art.err.advance"
	case strings.Contains(m, "lasts at most"):
		key = "art.err.too_long"
	case strings.Contains(m, "lasts at least"):
		key = "art.err.too_short"
	case strings.Contains(m, "whole fair"):
		key = "art.err.fair"
	}
	if key == "" {
		return field, m
	}
	return field, T(lang, key)
}

// refusalMessage is a refusal that is not about one field, in words.
func refusalMessage(lang string, e *errs.Error) string {
	switch e.Code {
	case errs.Conflict:
		if strings.Contains(e.Message, "not open for booking") {
			return T(lang, "art.err.closed")
		}
		if strings.Contains(e.Message, "idempotency key") {
			return T(lang, "art.err.resubmit")
		}
		if strings.Contains(e.Message, "applications") {
			return T(lang, "art.err.apply_instead")
		}
		if strings.Contains(e.Message, "already wait") {
			return T(lang, "art.err.wait_limit")
		}
		return T(lang, "art.err.conflict")
	case errs.Unavailable:
		return T(lang, "art.err.card_off")
	}
	return e.Message
}

// bookingForm reads the booking form.
func bookingForm(c *fiber.Ctx) artBookForm {
	return artBookForm{Unit: strings.TrimSpace(c.FormValue("unit")), From: strings.TrimSpace(c.FormValue("first_day")),
		To: strings.TrimSpace(c.FormValue("last_day")), Trade: strings.TrimSpace(c.FormValue("trade")),
		Method: c.FormValue("payment_method"), Key: strings.TrimSpace(c.FormValue("idempotency_key"))}
}

// formUnit finds the unit a form names at the venue of the URL.
func (s *site) formUnit(c *fiber.Ctx, code string) (booking.Venue, booking.Unit, error) {
	v, err := s.deps.Bookings.FindVenueBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return v, booking.Unit{}, err
	}
	for _, u := range v.Units {
		if u.Code == code {
			return v, u, nil
		}
	}
	return v, booking.Unit{}, errs.InvalidField("unit_id", "is not a unit of this venue")
}

// refusedStatus is the answer's status for a refused form.
func refusedStatus(err error) (int, bool) {
	switch errs.CodeOf(err) {
	case errs.Invalid:
		return http.StatusUnprocessableEntity, true
	case errs.Conflict:
		return http.StatusConflict, true
	case errs.Unavailable:
		return http.StatusServiceUnavailable, true
	}
	return 0, false
}

// submitBookingForm books the unit: a hold to pay (at the office: the
// receipt page; by card: the provider's checkout) or an application.
func (s *site) submitBookingForm(c *fiber.Ctx, lang string, p *account.Principal) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	if !canRent(p) || s.deps.Rentals.PlaceBooking == nil {
		return errs.E(errs.Forbidden, "only artisans and cooperatives book units")
	}
	f := bookingForm(c)
	_, u, err := s.formUnit(c, f.Unit)
	if err == nil {
		var bk booking.Booking
		var checkout string
		bk, checkout, err = s.deps.Rentals.PlaceBooking(c, booking.PlaceHoldInput{UnitID: u.ID, FirstDay: f.From, LastDay: f.To,
			Trade: f.Trade, PaymentMethod: booking.PaymentMethod(f.Method), IdempotencyKey: f.Key})
		if err == nil {
			switch {
			case checkout != "":
				return c.Redirect(checkout, http.StatusSeeOther)
			case bk.Status == booking.StatusHeld && bk.PaymentMethod == booking.PaymentOffice:
				return c.Redirect(fmt.Sprintf("%s/bookings/%d/receipt", artBase(lang), bk.ID), http.StatusSeeOther)
			}
			return c.Redirect(fmt.Sprintf("%s/bookings/%d", artBase(lang), bk.ID), http.StatusSeeOther)
		}
	}
	if status, ok := refusedStatus(err); ok {
		return s.renderBookingForm(c, lang, p, status, f, err)
	}
	return err
}

// submitWaitlistForm puts the artisan on the waitlist for the days asked;
// days already free are offered at once (a held booking to pay).
func (s *site) submitWaitlistForm(c *fiber.Ctx, lang string, p *account.Principal) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	if !canRent(p) {
		return errs.E(errs.Forbidden, "only artisans and cooperatives book units")
	}
	f := bookingForm(c)
	method := booking.PaymentMethod(f.Method)
	if method == booking.PaymentCard && !s.cardPayments() {
		method = booking.PaymentOffice
	}
	v, u, err := s.formUnit(c, f.Unit)
	if err == nil {
		var e booking.WaitlistEntry
		e, err = s.deps.Bookings.JoinWaitlist(c.UserContext(), booking.WaitlistInput{VenueSlug: v.Slug, UnitID: u.ID, ArtisanID: p.UserID,
			FirstDay: f.From, LastDay: f.To, Trade: f.Trade, PaymentMethod: method, Now: time.Now()})
		if err == nil {
			if e.OfferedBookingID != nil {
				return c.Redirect(fmt.Sprintf("%s/bookings/%d", artBase(lang), *e.OfferedBookingID), http.StatusSeeOther)
			}
			return c.Redirect(fmt.Sprintf("%s/bookings?waiting=%d#waitlist", artBase(lang), e.ID), http.StatusSeeOther)
		}
	}
	if status, ok := refusedStatus(err); ok {
		return s.renderBookingForm(c, lang, p, status, f, err)
	}
	return err
}

// ---- my bookings ----------------------------------------------------------

type artBookingView struct {
	ID, Status, StatusLabel, Venue, VenueSlug, Unit, Commune, Address string
	First, Last                                                       string
	Days                                                              string
	Amount, Refund, Deposit                                           string
	Method, MethodLabel, Expires, ExpiresISO, Created                 string
	Reason                                                            string
	Lease                                                             bool
	Live, CanPayCard, CanPayOffice, CanCancel, Card                   bool
	Invoices                                                          []artInvoiceView
	OpeningHours                                                      []string
	URL                                                               string
}

type artInvoiceView struct {
	ID, BookingID, Month, Amount, Due, Status, StatusLabel, Unit, Venue string
	Payable                                                             bool
}

type artWaitView struct {
	ID, Venue, Unit, First, Last, Status, StatusLabel, OfferURL string
}

type artBookingsView struct {
	Bookings []artBookingView
	Invoices []artInvoiceView
	Waiting  []artWaitView
	Card     bool
	Joined   string
}

// names resolves venue and unit ids to what the pages show, one query
// per distinct venue and unit.
type names struct {
	s      *site
	c      *fiber.Ctx
	venues map[int64]booking.Venue
	units  map[int64]booking.Unit
}

func (s *site) names(c *fiber.Ctx) *names {
	return &names{s: s, c: c, venues: map[int64]booking.Venue{}, units: map[int64]booking.Unit{}}
}

func (n *names) venue(id int64) (booking.Venue, error) {
	if v, ok := n.venues[id]; ok {
		return v, nil
	}
	v, err := n.s.deps.Bookings.FindVenue(n.c.UserContext(), id)
	if err != nil {
		return v, err
	}
	n.venues[id] = v
	return v, nil
}

func (n *names) unit(id int64) (booking.Unit, error) {
	if u, ok := n.units[id]; ok {
		return u, nil
	}
	u, err := n.s.deps.Bookings.FindUnit(n.c.UserContext(), id)
	if err != nil {
		return u, err
	}
	n.units[id] = u
	return u, nil
}

// localTime writes an instant in the venues' time zone, as people there read it.
func localTime(t time.Time) string {
	return t.In(booking.Zone).Format("2006-01-02 15:04")
}

func (s *site) bookingView(lang string, n *names, b booking.Booking, now time.Time) (artBookingView, error) {
	v, err := n.venue(b.VenueID)
	if err != nil {
		return artBookingView{}, err
	}
	u, err := n.unit(b.UnitID)
	if err != nil {
		return artBookingView{}, err
	}
	status := string(b.Status)
	if b.Status == booking.StatusHeld && !live(b, now) {
		status = string(booking.StatusExpired) // lazily expired: the sweeper has not been by yet
	}
	bv := artBookingView{ID: strconv.FormatInt(b.ID, 10), Status: status, StatusLabel: T(lang, "art.status."+status),
		Venue: v.Name, VenueSlug: v.Slug, Unit: u.Code, Commune: v.Commune, Address: v.Address,
		First: b.FirstDay.String(), Last: b.LastDay.String(), Days: N(lang, "art.days", b.Days),
		Amount: money(lang, b.Amount), Method: string(b.PaymentMethod), MethodLabel: T(lang, "art.method."+string(b.PaymentMethod)),
		Created: localTime(b.CreatedAt), Reason: b.DecisionReason, Lease: b.LeaseMonths > 0,
		URL: fmt.Sprintf("%s/bookings/%d", artBase(lang), b.ID)}
	if b.RefundAmount > 0 {
		bv.Refund = money(lang, b.RefundAmount)
	}
	if v.Deposit > 0 {
		bv.Deposit = money(lang, v.Deposit)
	}
	if b.HoldExpiresAt != nil && status == string(booking.StatusHeld) {
		bv.Expires, bv.ExpiresISO = localTime(*b.HoldExpiresAt), b.HoldExpiresAt.UTC().Format(time.RFC3339)
	}
	for _, d := range booking.Weekdays {
		if h := strings.TrimSpace(v.OpeningHours[d]); h != "" {
			bv.OpeningHours = append(bv.OpeningHours, T(lang, "art.day."+d)+" "+h)
		}
	}
	bv.Live = live(b, now)
	bv.Card = s.cardPayments()
	bv.CanPayCard = status == string(booking.StatusHeld) && bv.Card
	bv.CanPayOffice = status == string(booking.StatusHeld)
	bv.CanCancel = bv.Live && !booking.DayOf(now).After(b.LastDay)
	return bv, nil
}

func (s *site) invoiceView(lang string, n *names, inv booking.Invoice) (artInvoiceView, error) {
	v, err := n.venue(inv.VenueID)
	if err != nil {
		return artInvoiceView{}, err
	}
	u, err := n.unit(inv.UnitID)
	if err != nil {
		return artInvoiceView{}, err
	}
	return artInvoiceView{ID: strconv.FormatInt(inv.ID, 10), BookingID: strconv.FormatInt(inv.BookingID, 10), Month: inv.Month,
		Amount: money(lang, inv.Amount), Due: inv.DueDay.String(), Status: string(inv.Status),
		StatusLabel: T(lang, "art.invoice."+string(inv.Status)), Unit: u.Code, Venue: v.Name,
		Payable: inv.Status == booking.InvoiceOpen || inv.Status == booking.InvoiceOverdue}, nil
}

func (s *site) showMyBookings(c *fiber.Ctx, lang string, p *account.Principal) error {
	ctx := c.UserContext()
	now := time.Now()
	n := s.names(c)
	bs, _, err := s.deps.Bookings.ListArtisanBookings(ctx, p.UserID, 1, 100)
	if err != nil {
		return err
	}
	view := artBookingsView{Card: s.cardPayments(), Joined: c.Query("waiting")}
	for _, b := range bs {
		bv, err := s.bookingView(lang, n, b, now)
		if err != nil {
			return err
		}
		view.Bookings = append(view.Bookings, bv)
	}
	invs, _, err := s.deps.Bookings.ListArtisanInvoices(ctx, p.UserID, 1, 100)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		iv, err := s.invoiceView(lang, n, inv)
		if err != nil {
			return err
		}
		view.Invoices = append(view.Invoices, iv)
	}
	ws, err := s.deps.Bookings.ListWaitlist(ctx, p.UserID)
	if err != nil {
		return err
	}
	for _, w := range ws {
		v, err := n.venue(w.VenueID)
		if err != nil {
			return err
		}
		wv := artWaitView{ID: strconv.FormatInt(w.ID, 10), Venue: v.Name, First: w.FirstDay.String(), Last: w.LastDay.String(),
			Status: string(w.Status), StatusLabel: T(lang, "art.wait."+string(w.Status)), Unit: T(lang, "art.any_unit")}
		if w.UnitID != nil {
			if u, err := n.unit(*w.UnitID); err == nil {
				wv.Unit = u.Code
			}
		}
		if w.OfferedBookingID != nil {
			wv.OfferURL = fmt.Sprintf("%s/bookings/%d", artBase(lang), *w.OfferedBookingID)
		}
		view.Waiting = append(view.Waiting, wv)
	}
	pg := s.artPage(c, lang, T(lang, "art.bookings.title"), "/bookings")
	return render(c, http.StatusOK, artBookingsPage(pg, s.artFrame(c, lang, p), view))
}

// ownBooking is the booking of the URL when it is the caller's; anyone
// else's does not exist (404), whoever asks.
func (s *site) ownBooking(c *fiber.Ctx, p *account.Principal) (booking.Booking, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return booking.Booking{}, errs.E(errs.NotFound, "no such booking")
	}
	b, err := s.deps.Bookings.FindBooking(c.UserContext(), id)
	if err != nil {
		return booking.Booking{}, err
	}
	if b.ArtisanID != p.UserID {
		return booking.Booking{}, errs.E(errs.NotFound, "no such booking")
	}
	return b, nil
}

// showOwnBooking draws one of the caller's bookings with the component
// page makes of it.
func (s *site) showOwnBooking(c *fiber.Ctx, lang string, p *account.Principal, title, path string,
	page func(Page, artFrame, artBookingView) templ.Component) error {
	b, err := s.ownBooking(c, p)
	if err != nil {
		return err
	}
	n := s.names(c)
	bv, err := s.bookingView(lang, n, b, time.Now())
	if err != nil {
		return err
	}
	if b.LeaseMonths > 0 {
		invs, err := s.deps.Bookings.ListBookingInvoices(c.UserContext(), b.ID)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			iv, err := s.invoiceView(lang, n, inv)
			if err != nil {
				return err
			}
			bv.Invoices = append(bv.Invoices, iv)
		}
	}
	fr := s.artFrame(c, lang, p)
	switch {
	case c.Query("paid") != "" && b.Status != booking.StatusConfirmed:
		fr.Notice = T(lang, "art.notice.paid_pending")
	case c.Query("cancelled") != "":
		fr.Notice = T(lang, "art.notice.cancelled")
	}
	pg := s.artPage(c, lang, fmt.Sprintf(title, b.ID), fmt.Sprintf(path, b.ID))
	return render(c, http.StatusOK, page(pg, fr, bv))
}

func (s *site) showArtisanBooking(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.showOwnBooking(c, lang, p, T(lang, "art.booking.title")+" %d", "/bookings/%d", artBookingPage)
}

func (s *site) showBookingReceipt(c *fiber.Ctx, lang string, p *account.Principal) error {
	return s.showOwnBooking(c, lang, p, T(lang, "art.receipt.title")+" %d", "/bookings/%d/receipt", artReceiptPage)
}

// submitPayBooking sends the artisan to the card checkout of a held booking.
func (s *site) submitPayBooking(c *fiber.Ctx, lang string, p *account.Principal) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	b, err := s.ownBooking(c, p)
	if err != nil {
		return err
	}
	if s.deps.Rentals.PayBookingByCard == nil {
		return errs.E(errs.Unavailable, "card payments are not available here; pay at the venue office")
	}
	to, err := s.deps.Rentals.PayBookingByCard(c, b.ID)
	if err != nil {
		return err
	}
	return c.Redirect(to, http.StatusSeeOther)
}

// artCancelView is the confirmation page: what would come back.
type artCancelView struct {
	Booking                  artBookingView
	Refund                   string
	Paid                     bool
	FullDays, NoDays, Partly string
}

func (s *site) showCancelBooking(c *fiber.Ctx, lang string, p *account.Principal) error {
	b, err := s.ownBooking(c, p)
	if err != nil {
		return err
	}
	now := time.Now()
	n := s.names(c)
	bv, err := s.bookingView(lang, n, b, now)
	if err != nil {
		return err
	}
	if !bv.CanCancel {
		return errs.E(errs.Conflict, "this booking can no longer be cancelled")
	}
	v := n.venues[b.VenueID]
	view := artCancelView{Booking: bv, Refund: money(lang, b.RefundOnCancel(v.Cancellation, booking.DayOf(now))),
		Paid: b.Status == booking.StatusConfirmed, FullDays: N(lang, "art.days", v.Cancellation.FullRefundDays),
		NoDays: N(lang, "art.days", v.Cancellation.NoRefundDays), Partly: strconv.Itoa(v.Cancellation.PartialPercent)}
	pg := s.artPage(c, lang, T(lang, "art.cancel.title"), fmt.Sprintf("/bookings/%d/cancel", b.ID))
	return render(c, http.StatusOK, artCancelPage(pg, s.artFrame(c, lang, p), view))
}

func (s *site) submitCancelBooking(c *fiber.Ctx, lang string, p *account.Principal) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	b, err := s.ownBooking(c, p)
	if err != nil {
		return err
	}
	if s.deps.Rentals.CancelBooking == nil {
		return errs.E(errs.Unavailable, "cancelling is not available on this server")
	}
	if _, _, err := s.deps.Rentals.CancelBooking(c, b.ID); err != nil {
		return err
	}
	return c.Redirect(fmt.Sprintf("%s/bookings/%d?cancelled=1", artBase(lang), b.ID), http.StatusSeeOther)
}

// ---- lease invoices -------------------------------------------------------

func (s *site) ownInvoice(c *fiber.Ctx, p *account.Principal) (booking.Invoice, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return booking.Invoice{}, errs.E(errs.NotFound, "no such invoice")
	}
	inv, err := s.deps.Bookings.FindInvoice(c.UserContext(), id)
	if err != nil {
		return booking.Invoice{}, err
	}
	if inv.ArtisanID != p.UserID {
		return booking.Invoice{}, errs.E(errs.NotFound, "no such invoice")
	}
	return inv, nil
}

// showInvoiceSlip is a lease invoice to print and bring to the office, or
// to pay by card.
func (s *site) showInvoiceSlip(c *fiber.Ctx, lang string, p *account.Principal) error {
	inv, err := s.ownInvoice(c, p)
	if err != nil {
		return err
	}
	iv, err := s.invoiceView(lang, s.names(c), inv)
	if err != nil {
		return err
	}
	pg := s.artPage(c, lang, T(lang, "art.invoice.title")+" "+inv.Month, fmt.Sprintf("/invoices/%d", inv.ID))
	return render(c, http.StatusOK, artInvoicePage(pg, s.artFrame(c, lang, p), iv, s.cardPayments()))
}

func (s *site) submitPayInvoice(c *fiber.Ctx, lang string, p *account.Principal) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	inv, err := s.ownInvoice(c, p)
	if err != nil {
		return err
	}
	if s.deps.Rentals.PayInvoiceByCard == nil {
		return errs.E(errs.Unavailable, "card payments are not available here; pay the invoice at the venue office")
	}
	_, to, err := s.deps.Rentals.PayInvoiceByCard(c, inv.ID)
	if err != nil {
		return err
	}
	return c.Redirect(to, http.StatusSeeOther)
}
