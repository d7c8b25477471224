package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// The artisan's dashboard pages (web/dash_artisan.go) book, pay and cancel
// through these methods, which are the code of the JSON routes: a page and
// a client of the API get the same answers and the same side effects.

// CardPayments reports whether this server takes card payments.
func (s *Server) CardPayments() bool { return s.deps.Payments != nil && s.deps.PaymentStore != nil }

// PlaceBooking books a unit for the signed-in caller as POST /api/v1/bookings
// does: the payment method checked (card only when card payments are on),
// the trade taken from the artisan's profile when none is given, the hold
// or application placed, and for a held card booking a card checkout
// opened, whose URL it returns. in.ArtisanID and in.Now are set here.
//
// It returns errs.Forbidden for a caller who may not rent units, and the
// errors of booking.Store.PlaceHold.
func (s *Server) PlaceBooking(c *fiber.Ctx, in booking.PlaceHoldInput) (booking.Booking, string, error) {
	b, err := s.bookings()
	if err != nil {
		return booking.Booking{}, "", err
	}
	p := principal(c)
	if p == nil {
		return booking.Booking{}, "", errSignIn()
	}
	if !p.HasAnyRole(account.RoleArtisan, account.RoleCooperative) {
		return booking.Booking{}, "", errs.E(errs.Forbidden, "only artisans and cooperatives book units")
	}
	switch in.PaymentMethod {
	case "", booking.PaymentCard:
		in.PaymentMethod = booking.PaymentCard
		if !s.CardPayments() {
			return booking.Booking{}, "", errs.InvalidField("payment_method", "card payments are not available here; choose office to pay at the venue office")
		}
	case booking.PaymentOffice:
	default:
		return booking.Booking{}, "", errs.InvalidField("payment_method", "must be card or office")
	}
	if in.Trade == "" && s.deps.Accounts != nil {
		if prof, err := s.deps.Accounts.FindArtisanProfile(c.UserContext(), p.UserID); err == nil && len(prof.Trades) > 0 {
			in.Trade = prof.Trades[0]
		}
	}
	in.ArtisanID, in.Now = p.UserID, time.Now()
	bk, err := b.PlaceHold(c.UserContext(), in)
	if err != nil {
		return booking.Booking{}, "", err
	}
	if bk.Status != booking.StatusHeld || bk.PaymentMethod != booking.PaymentCard || !s.CardPayments() {
		return bk, "", nil
	}
	url, err := s.startBookingCheckout(c, bk, p.Email, in.IdempotencyKey)
	if err != nil {
		return bk, "", err
	}
	return bk, url, nil
}

// PayBookingByCard opens a card checkout for one of the caller's held
// bookings — a hold placed for the card, or an approved application — and
// returns its URL. The booking turns confirmed only from the provider's
// signed webhook (rule 4). It returns errs.NotFound for someone else's
// booking, errs.Conflict for one that is not waiting for payment and
// errs.Unavailable when card payments are off.
func (s *Server) PayBookingByCard(c *fiber.Ctx, bookingID int64) (string, error) {
	b, err := s.bookings()
	if err != nil {
		return "", err
	}
	p := principal(c)
	if p == nil {
		return "", errSignIn()
	}
	bk, err := b.FindBooking(c.UserContext(), bookingID)
	if err != nil {
		return "", err
	}
	if bk.ArtisanID != p.UserID {
		return "", errs.E(errs.NotFound, "no such booking")
	}
	if bk.Status != booking.StatusHeld || (bk.HoldExpiresAt != nil && !bk.HoldExpiresAt.After(time.Now())) {
		return "", errs.E(errs.Conflict, "this booking is not waiting for payment")
	}
	if !s.CardPayments() {
		return "", errs.E(errs.Unavailable, "card payments are not available here; pay at the venue office")
	}
	return s.startBookingCheckout(c, bk, p.Email, "")
}

// PayInvoiceByCard opens a card checkout for one of the caller's open or
// overdue lease invoices, as POST /api/v1/me/invoices/{id}/checkout does,
// and returns the invoice and the checkout's URL. The invoice turns paid
// only from the provider's signed webhook (reference "invoice-<id>").
func (s *Server) PayInvoiceByCard(c *fiber.Ctx, invoiceID int64) (booking.Invoice, string, error) {
	b, err := s.bookings()
	if err != nil {
		return booking.Invoice{}, "", err
	}
	p := principal(c)
	if p == nil {
		return booking.Invoice{}, "", errSignIn()
	}
	inv, err := b.FindInvoice(c.UserContext(), invoiceID)
	if err != nil {
		return booking.Invoice{}, "", err
	}
	if inv.ArtisanID != p.UserID {
		return booking.Invoice{}, "", errs.E(errs.NotFound, "no such invoice")
	}
	if inv.Status != booking.InvoiceOpen && inv.Status != booking.InvoiceOverdue {
		return booking.Invoice{}, "", errs.E(errs.Conflict, "this invoice is %s and cannot be paid", inv.Status)
	}
	if !s.CardPayments() {
		return booking.Invoice{}, "", errs.E(errs.Unavailable, "card payments are not available here; pay the invoice at the venue office")
	}
	ref := fmt.Sprintf("invoice-%d", inv.ID)
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	co, err := s.openCardCheckout(c.UserContext(), payment.CheckoutRequest{
		Purpose: payment.PurposeBooking, Reference: ref, Currency: inv.Currency,
		Items:          []payment.LineItem{{Name: fmt.Sprintf("Lease of unit %d, %s", inv.UnitID, inv.Month), UnitAmount: inv.Amount, Quantity: 1}},
		CustomerEmail:  p.Email,
		SuccessURL:     fmt.Sprintf("%s/fr/dashboard/bookings/%d?paid=1", base, inv.BookingID),
		CancelURL:      fmt.Sprintf("%s/fr/dashboard/bookings/%d", base, inv.BookingID),
		IdempotencyKey: ref + "-checkout",
	})
	if err != nil {
		return booking.Invoice{}, "", err
	}
	return inv, co.URL, nil
}

// CancelBooking cancels the caller's booking as POST
// /api/v1/bookings/{id}/cancel does: the venue's policy gives the refund,
// a card payment is refunded at the provider and the refund recorded. It
// returns the booking as cancelled and the refund in centimes;
// errs.NotFound for someone else's booking, errs.Conflict for one that
// cannot be cancelled.
func (s *Server) CancelBooking(c *fiber.Ctx, bookingID int64) (booking.Booking, int64, error) {
	b, err := s.bookings()
	if err != nil {
		return booking.Booking{}, 0, err
	}
	p := principal(c)
	if p == nil {
		return booking.Booking{}, 0, errSignIn()
	}
	bk, err := b.FindBooking(c.UserContext(), bookingID)
	if err != nil {
		return booking.Booking{}, 0, err
	}
	if bk.ArtisanID != p.UserID && !p.IsAdmin() {
		return booking.Booking{}, 0, errs.E(errs.NotFound, "no such booking")
	}
	return s.cancelOwnBooking(c, bk)
}

// cancelOwnBooking cancels bk, which the caller may see, and refunds a card
// payment by what the venue's policy gives back.
func (s *Server) cancelOwnBooking(c *fiber.Ctx, bk booking.Booking) (booking.Booking, int64, error) {
	refund, err := s.deps.Bookings.CancelBooking(c.UserContext(), bk.ID, bk.ArtisanID, time.Now())
	if err != nil {
		return booking.Booking{}, 0, err
	}
	if refund > 0 && bk.PaymentMethod == booking.PaymentCard && bk.PaymentRef != "" && s.deps.Payments != nil {
		if _, err := s.deps.Payments.Refund(c.UserContext(), payment.RefundRequest{
			PaymentRef: bk.PaymentRef, Amount: refund, Reason: payment.RefundRequestedByCustomer,
			IdempotencyKey: fmt.Sprintf("booking-%d-cancel", bk.ID),
		}); err != nil {
			return booking.Booking{}, 0, fmt.Errorf("refund cancelled booking %d: %w", bk.ID, err)
		}
		s.recordBookingRefund(c, bk, refund)
	}
	after, err := s.deps.Bookings.FindBooking(c.UserContext(), bk.ID)
	if err != nil {
		return booking.Booking{}, 0, err
	}
	return after, refund, nil
}
