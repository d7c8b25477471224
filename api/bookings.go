package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/csvreply"
	"github.com/souk-tiznit/souk/payment"
)

// Renters are the roles that may book units: artisans, and cooperative
// managers booking for their cooperative.
var Renters = RoleIs(account.RoleArtisan, account.RoleCooperative)

func (s *Server) bookingRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/venues", Public, s.listVenues},
		{"GET", "/api/v1/venues/:slug", Public, s.showVenue},
		{"GET", "/api/v1/venues/:slug/availability", Public, s.showAvailability},
		{"GET", "/api/v1/venues/:slug/events", Public, s.listVenueEvents},
		{"POST", "/api/v1/venues/:slug/waitlist", Renters, s.joinWaitlist},
		{"POST", "/api/v1/bookings", Renters, s.createBooking},
		{"POST", "/api/v1/me/invoices/:id/checkout", Authenticated, s.payInvoiceByCard},
		{"GET", "/api/v1/bookings/:id", Authenticated, s.showBooking},
		{"GET", "/api/v1/me/bookings", Authenticated, s.listMyBookings},
		{"POST", "/api/v1/bookings/:id/cancel", Authenticated, s.cancelBooking},
		{"POST", "/api/v1/admin/venues", AdminOnly, s.createVenue},
		{"POST", "/api/v1/admin/units", AdminOnly, s.createUnit},
		{"PATCH", "/api/v1/admin/venues/:id", AdminOnly, s.updateVenue},
		{"PATCH", "/api/v1/admin/units/:id", AdminOnly, s.updateUnit},
		{"POST", "/api/v1/admin/venues/:id/photos", AdminOnly, s.addVenuePhoto},
		{"DELETE", "/api/v1/admin/venues/:id/photos/:photo_id", AdminOnly, s.deleteVenuePhoto},
		{"POST", "/api/v1/admin/events", AdminOnly, s.createEvent},
		{"POST", "/api/v1/admin/units/:id/blocks", AdminOnly, s.blockUnitDays},
		{"POST", "/api/v1/admin/bookings/:id/approve", AdminOnly, s.approveBooking},
		{"POST", "/api/v1/admin/bookings/:id/reject", AdminOnly, s.rejectBooking},
		{"POST", "/api/v1/admin/bookings/:id/payments", AdminOnly, s.recordBookingPayment},
		{"GET", "/api/v1/admin/reports/occupancy", AdminOnly, s.occupancyReport},
		{"GET", "/api/v1/admin/reports/revenue", AdminOnly, s.revenueReport},
		{"GET", "/api/v1/admin/reports/tenants", AdminOnly, s.tenantsReport},
		{"GET", "/api/v1/me/invoices", Authenticated, s.listMyInvoices},
		{"POST", "/api/v1/admin/invoices/:id/payments", AdminOnly, s.recordInvoicePayment},
	}
}

// bookings returns the booking store, or answers 503 when the process was
// built without one.
func (s *Server) bookings() (*booking.Store, error) {
	if s.deps.Bookings == nil {
		return nil, errs.E(errs.Unavailable, "booking is not available on this server")
	}
	return s.deps.Bookings, nil
}

func (s *Server) listVenues(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	vs, err := b.ListVenues(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[booking.Venue]{Items: vs, Total: int64(len(vs)), Page: 1, PerPage: max(len(vs), 1)})
}

func (s *Server) showVenue(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	v, err := b.FindVenueBySlug(c.UserContext(), c.Params("slug"))
	if err != nil {
		return err
	}
	view, err := s.venueView(c.UserContext(), b, v)
	if err != nil {
		return err
	}
	return c.JSON(view)
}

// showAvailability answers per unit and day: free, held, booked or blocked.
// Without from/to it covers the next 31 days.
func (s *Server) showAvailability(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	now := time.Now()
	today := booking.DayOf(now)
	from, to := today, today.AddDays(30)
	var f errs.Fields
	if v := c.Query("from"); v != "" {
		if d, err := booking.ParseDay(v); err != nil {
			f.Add("from", "must be a date YYYY-MM-DD")
		} else {
			from = d
			if c.Query("to") == "" {
				to = d.AddDays(30)
			}
		}
	}
	if v := c.Query("to"); v != "" {
		if d, err := booking.ParseDay(v); err != nil {
			f.Add("to", "must be a date YYYY-MM-DD")
		} else {
			to = d
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	a, err := b.Availability(c.UserContext(), c.Params("slug"), from, to, now)
	if err != nil {
		return err
	}
	// Written by hand, in the bytes encoding/json wrote for the map of days
	// (booking.Availability.AppendJSON): 25 units × 31 days through
	// reflection cost more than the queries.
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	c.Response().SetBodyRaw(a.AppendJSON(make([]byte, 0, 1024)))
	return nil
}

func (s *Server) listVenueEvents(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	es, err := b.ListEvents(c.UserContext(), c.Params("slug"), booking.DayOf(time.Now()))
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[booking.Event]{Items: es, Total: int64(len(es)), Page: 1, PerPage: max(len(es), 1)})
}

type bookingRequest struct {
	UnitID        int64  `json:"unit_id"`
	EventID       int64  `json:"event_id"`
	FirstDay      string `json:"first_day"`
	LastDay       string `json:"last_day"`
	Trade         string `json:"trade"`
	PaymentMethod string `json:"payment_method"`
}

// bookingAnswer is a booking as created: DESIGN.md's shape plus the whole
// booking.
type bookingAnswer struct {
	booking.Booking
	CheckoutURL string `json:"checkout_url,omitempty"`
}

// idempotencyKey reads the Idempotency-Key header (at most 200 printable
// characters).
func idempotencyKey(c *fiber.Ctx) (string, error) {
	k := strings.TrimSpace(c.Get("Idempotency-Key"))
	if len(k) > 200 {
		return "", errs.InvalidField("Idempotency-Key", "must be at most 200 characters")
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return "", errs.InvalidField("Idempotency-Key", "must be printable ASCII")
		}
	}
	return k, nil
}

// createBooking places a hold (instant venues) or an application. The same
// Idempotency-Key from the same caller returns the same booking.
func (s *Server) createBooking(c *fiber.Ctx) error {
	if _, err := s.bookings(); err != nil {
		return err
	}
	var in bookingRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var f errs.Fields
	if in.UnitID <= 0 {
		f.Add("unit_id", "is required")
	}
	method := booking.PaymentMethod(in.PaymentMethod)
	switch method {
	case "", booking.PaymentCard:
		method = booking.PaymentCard
		if s.deps.Payments == nil {
			f.Add("payment_method", "card payments are not available here; choose office to pay at the venue office")
		}
	case booking.PaymentOffice:
	default:
		f.Add("payment_method", "must be card or office")
	}
	if err := f.Err(); err != nil {
		return err
	}
	bk, url, err := s.PlaceBooking(c, booking.PlaceHoldInput{
		UnitID: in.UnitID, FirstDay: in.FirstDay, LastDay: in.LastDay,
		EventID: in.EventID, Trade: in.Trade, PaymentMethod: method, IdempotencyKey: key,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(bookingAnswer{Booking: bk, CheckoutURL: url})
}

// bookingView is a booking as shown to its artisan and to administrators:
// a lease comes with its monthly invoices.
type bookingView struct {
	booking.Booking
	Invoices []booking.Invoice `json:"invoices,omitempty"`
}

// showBooking shows a booking to its artisan and to administrators; to
// anyone else it does not exist.
func (s *Server) showBooking(c *fiber.Ctx) error {
	bk, err := s.ownBooking(c)
	if err != nil {
		return err
	}
	view := bookingView{Booking: bk}
	if bk.LeaseMonths > 0 {
		if view.Invoices, err = s.deps.Bookings.ListBookingInvoices(c.UserContext(), bk.ID); err != nil {
			return err
		}
	}
	return c.JSON(view)
}

func (s *Server) ownBooking(c *fiber.Ctx) (booking.Booking, error) {
	b, err := s.bookings()
	if err != nil {
		return booking.Booking{}, err
	}
	id, err := idParam(c, "id", "no such booking")
	if err != nil {
		return booking.Booking{}, err
	}
	bk, err := b.FindBooking(c.UserContext(), id)
	if err != nil {
		return booking.Booking{}, err
	}
	if p := principal(c); bk.ArtisanID != p.UserID && !p.IsAdmin() {
		return booking.Booking{}, errs.E(errs.NotFound, "no such booking")
	}
	return bk, nil
}

func (s *Server) listMyBookings(c *fiber.Ctx) error {
	return listOwn(c, s, (*booking.Store).ListArtisanBookings)
}

// listOwn answers one page of the caller's own items (bookings, invoices)
// from the store method list.
func listOwn[T any](c *fiber.Ctx, s *Server, list func(*booking.Store, context.Context, int64, int, int) ([]T, int64, error)) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	var f errs.Fields
	pg := pageQuery(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	items, total, err := list(b, c.UserContext(), principal(c).UserID, pg.Page, pg.PerPage)
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[T]{Items: items, Total: total, Page: pg.Page, PerPage: pg.PerPage})
}

// cancelBooking cancels the caller's booking and refunds what the venue's
// cancellation policy says.
func (s *Server) cancelBooking(c *fiber.Ctx) error {
	bk, err := s.ownBooking(c)
	if err != nil {
		return err
	}
	after, refund, err := s.cancelOwnBooking(c, bk)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"booking": after, "refund": refund, "currency": after.Currency})
}

// recordBookingRefund records on the booking's card payment the refund the
// provider accepted. A failure is logged, not answered: the refund was
// made, and the provider's charge.refunded event records it as well.
func (s *Server) recordBookingRefund(c *fiber.Ctx, bk booking.Booking, refund int64) {
	if s.deps.PaymentStore == nil {
		return
	}
	ctx := c.UserContext()
	pays, err := s.deps.PaymentStore.ListPayments(ctx, nil, payment.PurposeBooking, strconv.FormatInt(bk.ID, 10))
	if err == nil {
		for _, p := range pays {
			if p.PaymentRef != nil && *p.PaymentRef == bk.PaymentRef {
				_, _, err = s.deps.PaymentStore.RecordRefund(ctx, nil, p.ID, refund)
				break
			}
		}
	}
	if err != nil {
		s.log.ErrorContext(ctx, "record the refund of a cancelled booking", "booking_id", bk.ID, "refund", refund, "err", err)
	}
}

type waitlistRequest struct {
	UnitID        int64  `json:"unit_id"`
	EventID       int64  `json:"event_id"`
	FirstDay      string `json:"first_day"`
	LastDay       string `json:"last_day"`
	Trade         string `json:"trade"`
	PaymentMethod string `json:"payment_method"`
}

func (s *Server) joinWaitlist(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	var in waitlistRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	method := booking.PaymentMethod(in.PaymentMethod)
	if method != "" && method != booking.PaymentCard && method != booking.PaymentOffice {
		return errs.InvalidField("payment_method", "must be card or office")
	}
	entry, err := b.JoinWaitlist(c.UserContext(), booking.WaitlistInput{
		VenueSlug: c.Params("slug"), UnitID: in.UnitID, EventID: in.EventID, ArtisanID: principal(c).UserID,
		FirstDay: in.FirstDay, LastDay: in.LastDay, Trade: in.Trade, PaymentMethod: method, Now: time.Now(),
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(entry)
}

func (s *Server) createVenue(c *fiber.Ctx) error {
	return createFromJSON(c, s, (*booking.Store).CreateVenue)
}

func (s *Server) createUnit(c *fiber.Ctx) error {
	return createFromJSON(c, s, (*booking.Store).CreateUnit)
}

func (s *Server) createEvent(c *fiber.Ctx) error {
	return createFromJSON(c, s, (*booking.Store).CreateEvent)
}

// createFromJSON decodes a T, stores it with create (which ignores any id
// the client sent: the database gives ids) and answers 201 with it.
func createFromJSON[T any](c *fiber.Ctx, s *Server, create func(*booking.Store, context.Context, T) (T, error)) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	var in T
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := create(b, c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (s *Server) updateVenue(c *fiber.Ctx) error {
	return updateFromJSON(c, s, "no such venue", (*booking.Store).UpdateVenue)
}

func (s *Server) updateUnit(c *fiber.Ctx) error {
	return updateFromJSON(c, s, "no such unit", (*booking.Store).UpdateUnit)
}

// updateFromJSON decodes a patch P, applies it with update to the thing
// the :id parameter names and answers 200 with the result.
func updateFromJSON[P, T any](c *fiber.Ctx, s *Server, missing string, update func(*booking.Store, context.Context, int64, P) (T, error)) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", missing)
	if err != nil {
		return err
	}
	var in P
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := update(b, c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

type blockRequest struct {
	FirstDay string `json:"first_day"`
	LastDay  string `json:"last_day"`
	Reason   string `json:"reason"`
}

func (s *Server) blockUnitDays(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such unit")
	if err != nil {
		return err
	}
	var in blockRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	now := time.Now()
	r, err := booking.ParseDayRange(in.FirstDay, in.LastDay, booking.DayOf(now), booking.StayLimits{})
	if err != nil {
		return err
	}
	if err := b.BlockDays(c.UserContext(), id, r, in.Reason, principal(c).UserID, now); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) approveBooking(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such booking")
	if err != nil {
		return err
	}
	bk, err := b.ApproveApplication(c.UserContext(), id, principal(c).UserID, time.Now())
	if err != nil {
		return err
	}
	return c.JSON(bk)
}

type rejectRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) rejectBooking(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such booking")
	if err != nil {
		return err
	}
	var in rejectRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return errs.InvalidField("reason", "is required: the artisan is told why")
	}
	bk, err := b.RejectApplication(c.UserContext(), id, principal(c).UserID, in.Reason, time.Now())
	if err != nil {
		return err
	}
	return c.JSON(bk)
}

type officePaymentRequest struct {
	Method        string `json:"method"`
	Amount        int64  `json:"amount"`
	ReceiptNumber string `json:"receipt_number"`
	Note          string `json:"note"`
}

// recordBookingPayment records a payment made at the venue office and
// confirms the booking, in one transaction: either both happen or neither.
func (s *Server) recordBookingPayment(c *fiber.Ctx) error {
	if _, err := s.bookings(); err != nil {
		return err
	}
	if s.deps.PaymentStore == nil {
		return errs.E(errs.Unavailable, "payments are not available on this server")
	}
	id, err := idParam(c, "id", "no such booking")
	if err != nil {
		return err
	}
	var in officePaymentRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	pay, confirmed, err := s.RecordOfficePayment(c.UserContext(), principal(c), id, payment.Method(in.Method), in.Amount, in.ReceiptNumber, in.Note)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"payment": pay, "booking": confirmed})
}

// occupancyReport answers booked unit-days over available unit-days for a
// venue and month, as JSON or, with ?format=csv, as CSV.
func (s *Server) occupancyReport(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	var f errs.Fields
	month := booking.MonthOf(booking.DayOf(time.Now()))
	if v := c.Query("month"); v != "" {
		m, err := booking.ParseMonth(v)
		if err != nil {
			f.Add("month", "must be YYYY-MM")
		}
		month = m
	}
	slug := c.Query("venue")
	if slug == "" {
		f.Add("venue", "is required (a venue slug)")
	}
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		f.Add("format", "must be json or csv")
	}
	if err := f.Err(); err != nil {
		return err
	}
	v, err := b.FindVenueBySlug(c.UserContext(), slug)
	if err != nil {
		return err
	}
	rep, err := b.Occupancy(c.UserContext(), v.ID, month)
	if err != nil {
		return err
	}
	if format == "json" {
		return c.JSON(rep)
	}
	rows := [][]string{{"unit", "booked_days", "available_days", "occupancy"}}
	for _, u := range rep.Units {
		rows = append(rows, []string{u.Code, strconv.Itoa(u.BookedDays), strconv.Itoa(u.AvailableDays), strconv.FormatFloat(u.Rate, 'f', 4, 64)})
	}
	return sendCSV(c, fmt.Sprintf("occupancy-%s-%s.csv", slug, month), rows)
}

// startBookingCheckout opens a card checkout for a held booking. The booking
// becomes paid only from the provider's signed webhook (rule 4), never from
// the browser coming back to the success URL.
func (s *Server) startBookingCheckout(c *fiber.Ctx, bk booking.Booking, email, key string) (string, error) {
	name := fmt.Sprintf("Booking %d: unit %d, %s to %s", bk.ID, bk.UnitID, bk.FirstDay, bk.LastDay)
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	idem := fmt.Sprintf("booking-%d-checkout", bk.ID)
	if key != "" {
		idem += "-" + key
	}
	co, err := s.openCardCheckout(c.UserContext(), payment.CheckoutRequest{
		Purpose: payment.PurposeBooking, Reference: strconv.FormatInt(bk.ID, 10), Currency: bk.Currency,
		Items:          []payment.LineItem{{Name: name, UnitAmount: bk.Amount, Quantity: 1}},
		CustomerEmail:  email,
		SuccessURL:     fmt.Sprintf("%s/fr/dashboard/bookings/%d?paid=1", base, bk.ID),
		CancelURL:      fmt.Sprintf("%s/fr/dashboard/bookings/%d", base, bk.ID),
		ExpiresAt:      derefTime(bk.HoldExpiresAt),
		IdempotencyKey: idem,
	})
	if err != nil {
		return "", err
	}
	return co.URL, nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// reportFormat reads ?format=json|csv (json by default).
func reportFormat(c *fiber.Ctx, f *errs.Fields) string {
	format := c.Query("format", "json")
	if format != "json" && format != "csv" {
		f.Add("format", "must be json or csv")
	}
	return format
}

// reportVenue reads the required ?venue= slug.
func reportVenue(c *fiber.Ctx, f *errs.Fields) string {
	slug := c.Query("venue")
	if slug == "" {
		f.Add("venue", "is required (a venue slug)")
	}
	return slug
}

// queryDay reads an optional date query parameter, or def when absent.
func queryDay(c *fiber.Ctx, f *errs.Fields, name string, def booking.Day) booking.Day {
	v := c.Query(name)
	if v == "" {
		return def
	}
	d, err := booking.ParseDay(v)
	if err != nil {
		f.Add(name, "must be a date YYYY-MM-DD")
	}
	return d
}

// sendCSV answers rows as a CSV attachment named filename.
func sendCSV(c *fiber.Ctx, filename string, rows [][]string) error {
	return csvreply.Send(c, filename, rows)
}

// revenueReport answers a venue's booking revenue — bookings confirmed and
// later lease invoices paid, less refunds — between from and to
// (inclusive; by default the current month to today), as JSON or, with
// ?format=csv, as CSV.
func (s *Server) revenueReport(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	var f errs.Fields
	today := booking.DayOf(time.Now())
	slug := reportVenue(c, &f)
	from := queryDay(c, &f, "from", today.FirstOfMonth())
	to := queryDay(c, &f, "to", today)
	format := reportFormat(c, &f)
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		f.Add("to", "must not be before from")
	}
	if err := f.Err(); err != nil {
		return err
	}
	v, err := b.FindVenueBySlug(c.UserContext(), slug)
	if err != nil {
		return err
	}
	rep, err := b.Revenue(c.UserContext(), v.ID, from, to)
	if err != nil {
		return err
	}
	if format == "json" {
		return c.JSON(rep)
	}
	rows := [][]string{{"unit", "bookings", "invoices", "gross", "refunds", "net", "currency"}}
	for _, u := range rep.Units {
		rows = append(rows, []string{u.Code, strconv.Itoa(u.Bookings), strconv.Itoa(u.Invoices), strconv.FormatInt(u.Gross, 10),
			strconv.FormatInt(u.Refunds, 10), strconv.FormatInt(u.Net, 10), rep.Currency})
	}
	rows = append(rows, []string{"total", strconv.Itoa(rep.Bookings), strconv.Itoa(rep.Invoices), strconv.FormatInt(rep.Gross, 10),
		strconv.FormatInt(rep.Refunds, 10), strconv.FormatInt(rep.Net, 10), rep.Currency})
	return sendCSV(c, fmt.Sprintf("revenue-%s-%s-%s.csv", slug, from, to), rows)
}

// tenantsReport answers a venue's current tenants — confirmed bookings
// covering the day (?day=, today by default) — grouped by trade with
// counts, as JSON or, with ?format=csv, as CSV (one line per tenant).
func (s *Server) tenantsReport(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	var f errs.Fields
	slug := reportVenue(c, &f)
	d := queryDay(c, &f, "day", booking.DayOf(time.Now()))
	format := reportFormat(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	v, err := b.FindVenueBySlug(c.UserContext(), slug)
	if err != nil {
		return err
	}
	rep, err := b.Tenants(c.UserContext(), v.ID, d)
	if err != nil {
		return err
	}
	if format == "json" {
		return c.JSON(rep)
	}
	rows := [][]string{{"trade", "trade_count", "unit", "booking_id", "artisan_id", "first_day", "last_day", "lease"}}
	for _, t := range rep.Trades {
		for _, tn := range t.Tenants {
			rows = append(rows, []string{t.Trade, strconv.Itoa(t.Count), tn.UnitCode, strconv.FormatInt(tn.BookingID, 10),
				strconv.FormatInt(tn.ArtisanID, 10), tn.FirstDay.String(), tn.LastDay.String(), strconv.FormatBool(tn.Lease)})
		}
	}
	return sendCSV(c, fmt.Sprintf("tenants-%s-%s.csv", slug, d), rows)
}

// listMyInvoices lists the caller's lease invoices, the latest month first.
func (s *Server) listMyInvoices(c *fiber.Ctx) error {
	return listOwn(c, s, (*booking.Store).ListArtisanInvoices)
}

// recordInvoicePayment records a lease invoice paid at the venue office:
// the office payment (purpose booking, reference "invoice-<id>") and the
// invoice marked paid commit in one transaction, or neither does.
func (s *Server) recordInvoicePayment(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	if s.deps.PaymentStore == nil {
		return errs.E(errs.Unavailable, "payments are not available on this server")
	}
	id, err := idParam(c, "id", "no such invoice")
	if err != nil {
		return err
	}
	var in officePaymentRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	inv, err := b.FindInvoice(c.UserContext(), id)
	if err != nil {
		return err
	}
	if inv.Status != booking.InvoiceOpen && inv.Status != booking.InvoiceOverdue {
		return errs.E(errs.Conflict, "this invoice is %s and cannot be paid", inv.Status)
	}
	if in.Amount != inv.Amount {
		return errs.InvalidField("amount", "must be the invoice's amount, %d centimes", inv.Amount)
	}
	var pay payment.Payment
	var paid booking.Invoice
	err = s.deps.DB.Transact(c.UserContext(), func(tx *gorm.DB) error {
		var err error
		pay, err = s.deps.PaymentStore.RecordOfficePayment(c.UserContext(), tx, payment.OfficePayment{
			Purpose: payment.PurposeBooking, Reference: fmt.Sprintf("invoice-%d", inv.ID), Method: payment.Method(in.Method),
			Amount: payment.MAD(in.Amount), ReceiptNumber: in.ReceiptNumber, RecordedBy: principal(c).UserID, Note: in.Note,
		})
		if err != nil {
			return err
		}
		paid, err = b.PayInvoiceTx(c.UserContext(), tx, inv.ID, "office:"+strings.TrimSpace(in.ReceiptNumber), time.Now())
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"payment": pay, "invoice": paid})
}

// payInvoiceByCard opens a card checkout for one of the caller's open or
// overdue lease invoices. The invoice turns paid only from Stripe's signed
// webhook (reference "invoice-<id>").
func (s *Server) payInvoiceByCard(c *fiber.Ctx) error {
	id, err := idParam(c, "id", "no such invoice")
	if err != nil {
		return err
	}
	inv, url, err := s.PayInvoiceByCard(c, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"invoice": inv, "checkout_url": url})
}
