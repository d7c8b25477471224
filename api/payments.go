package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

func (s *Server) paymentRoutes() []Route {
	return []Route{
		// Stripe calls it; the signature is the authentication.
		{"POST", "/api/v1/payments/stripe/webhook", Public, s.stripeWebhook},
	}
}

// stripeWebhook applies a signed Stripe event once (rule 4): the event id is
// recorded in the same transaction as its effect, so retries, duplicates and
// reordering change nothing. It answers 2xx only after the commit; any
// error makes Stripe deliver the event again later.
func (s *Server) stripeWebhook(c *fiber.Ctx) error {
	if s.deps.PaymentStore == nil || s.cfg.StripeWebhookSecret == "" {
		return errs.E(errs.NotFound, "card payments are not enabled on this server")
	}
	ctx := c.UserContext()
	ev, err := payment.ParseWebhook(c.Body(), c.Get("Stripe-Signature"), s.cfg.StripeWebhookSecret, time.Now())
	if err != nil {
		return err
	}
	if !ev.Type.Known() {
		return c.JSON(fiber.Map{"received": true, "ignored": ev.Type})
	}
	applied, err := s.applyPaymentEvent(ctx, ev)
	if err != nil {
		if ev.Type == payment.EventPaymentFailed && errs.Is(err, errs.NotFound) {
			// A declined attempt changes nothing (the checkout stays open
			// until it completes or expires), and its payment intent is
			// learned only from the completion: a 404 here would have
			// Stripe retry it for days and then disable the endpoint.
			return c.JSON(fiber.Map{"received": true, "applied": false})
		}
		return err
	}
	return c.JSON(fiber.Map{"received": true, "applied": applied})
}

// openCardCheckout starts a card checkout and records the pending payment
// the webhook will settle (rule 4: never the browser's return). A retried
// request finds the payment already recorded.
func (s *Server) openCardCheckout(ctx context.Context, req payment.CheckoutRequest) (payment.Checkout, error) {
	co, err := s.deps.Payments.StartCheckout(ctx, req)
	if err != nil {
		return co, fmt.Errorf("start checkout for %s %s: %w", req.Purpose, req.Reference, err)
	}
	if err := s.recordCheckout(ctx, payment.NewPayment{
		Purpose: req.Purpose, Reference: req.Reference, Method: payment.MethodCard,
		Amount: payment.Money{Amount: req.Total(), Currency: req.Currency}, Provider: co.Provider, ProviderRef: co.ProviderRef,
	}); err != nil && !errs.Is(err, errs.Conflict) {
		return co, fmt.Errorf("record checkout of %s %s: %w", req.Purpose, req.Reference, err)
	}
	return co, nil
}

// recordCheckout records the pending payment of a checkout in a
// transaction of its own, so that a conflict between Galera nodes at
// commit (a 1213 deadlock) is retried like every other write instead of
// failing the checkout. It returns errs.Conflict when the checkout is
// already recorded.
func (s *Server) recordCheckout(ctx context.Context, in payment.NewPayment) error {
	return s.deps.DB.Transact(ctx, func(tx *gorm.DB) error {
		_, err := s.deps.PaymentStore.CreatePayment(ctx, tx, in)
		return err
	})
}

// applyPaymentEvent applies a provider event once (rule 4), whether it came
// from a signed webhook or from a server-side retrieval during
// reconciliation: the event id is recorded in the same transaction as its
// effect, and every effect is also idempotent on the payment row, so a
// webhook and a retrieval of the same change apply once between them.
// Money that arrived for something no longer payable is given back after
// the commit.
func (s *Server) applyPaymentEvent(ctx context.Context, ev payment.Event) (bool, error) {
	ev, err := s.deps.PaymentStore.ResolveEvent(ctx, ev)
	if err != nil {
		return false, err
	}
	var lostBooking, lostOrder, lostInvoice int64
	var applied bool
	var notices []orderNotice
	err = s.deps.DB.Transact(ctx, func(tx *gorm.DB) error {
		lostBooking, lostOrder, lostInvoice = 0, 0, 0
		notices = nil
		var err error
		applied, err = s.deps.PaymentStore.ApplyOnce(ctx, tx, ev, func(tx *gorm.DB) error {
			p, changed, err := s.deps.PaymentStore.UpdatePaymentFromEvent(ctx, tx, ev)
			if err != nil || !changed {
				return err
			}
			switch ev.Purpose {
			case payment.PurposeOrder:
				// Paid, or expired unpaid (stock back): see applyOrderEvent.
				lostOrder, err = s.applyOrderEvent(ctx, tx, ev, p, &notices)
				return err
			case payment.PurposeBooking:
				if p.Status != payment.PaymentPaid {
					return nil
				}
				if s.deps.Bookings == nil {
					return errs.E(errs.Unavailable, "booking is not available on this server")
				}
				if inv, ok := strings.CutPrefix(ev.Reference, "invoice-"); ok {
					id, err := strconv.ParseInt(inv, 10, 64)
					if err != nil {
						return errs.E(errs.BadRequest, "the event names no invoice")
					}
					_, err = s.deps.Bookings.PayInvoiceTx(ctx, tx, id, ev.PaymentRef, time.Now())
					if errs.Is(err, errs.Conflict) {
						// Paid meanwhile at the office, or cancelled: keep the
						// record and give this money back.
						lostInvoice = id
						return nil
					}
					return err
				}
				id, err := strconv.ParseInt(ev.Reference, 10, 64)
				if err != nil {
					return errs.E(errs.BadRequest, "the event names no booking")
				}
				_, err = s.deps.Bookings.ConfirmBookingTx(ctx, tx, id, ev.PaymentRef)
				if errors.Is(err, booking.ErrHoldLost) {
					// Paid after the hold lapsed and someone took a day:
					// commit what happened and give the money back.
					lostBooking = id
					return nil
				}
				return err
			}
			return nil
		})
		return err
	})
	if err != nil {
		return false, err
	}
	if lostBooking != 0 && s.deps.Payments != nil {
		if _, err := s.deps.Payments.Refund(ctx, payment.RefundRequest{
			PaymentRef: ev.PaymentRef, Reason: payment.RefundRequestedByCustomer,
			Note: "the booking's hold had lapsed and its days were taken", IdempotencyKey: fmt.Sprintf("booking-%d-hold-lost", lostBooking),
		}); err != nil {
			// The event is recorded; the refund is retried by whoever
			// reconciles lost holds. Say so loudly.
			s.log.ErrorContext(ctx, "refund of a lost booking hold failed", "booking", lostBooking, "payment", ev.PaymentRef, "err", err)
		}
	}
	if lostOrder != 0 {
		s.refundLostOrder(ctx, lostOrder, ev.PaymentRef)
	}
	s.mailOrder(ctx, notices...)
	if lostInvoice != 0 && s.deps.Payments != nil {
		if _, err := s.deps.Payments.Refund(ctx, payment.RefundRequest{
			PaymentRef: ev.PaymentRef, Reason: payment.RefundDuplicate,
			Note: "the invoice was already paid or cancelled", IdempotencyKey: fmt.Sprintf("invoice-%d-unpayable", lostInvoice),
		}); err != nil {
			s.log.ErrorContext(ctx, "refund of a payment for a settled invoice failed", "invoice", lostInvoice, "payment", ev.PaymentRef, "err", err)
		}
	}
	return applied, nil
}
