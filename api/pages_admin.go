package api

import (
	"context"
	"strconv"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// RecordOfficePayment records a booking's payment made at the venue office
// (method office_cash or office_transfer; amount in centimes, the booking's
// own) and confirms the booking in one transaction: both happen or neither. It
// is the code of POST /api/v1/admin/bookings/{id}/payments, shared with the
// administrators' pages. It returns errs.NotFound for an unknown booking,
// errs.Invalid for a bad input (an amount other than the booking's) and
// errs.Conflict for a receipt already recorded or a booking that cannot be
// confirmed.
func (s *Server) RecordOfficePayment(ctx context.Context, admin *account.Principal, bookingID int64, method payment.Method, amount int64, receipt, note string) (payment.Payment, booking.Booking, error) {
	b, err := s.bookings()
	if err != nil {
		return payment.Payment{}, booking.Booking{}, err
	}
	if s.deps.PaymentStore == nil {
		return payment.Payment{}, booking.Booking{}, errs.E(errs.Unavailable, "payments are not available on this server")
	}
	if admin == nil || !admin.IsAdmin() {
		return payment.Payment{}, booking.Booking{}, errs.E(errs.Forbidden, "only administrators record office payments")
	}
	bk, err := b.FindBooking(ctx, bookingID)
	if err != nil {
		return payment.Payment{}, booking.Booking{}, err
	}
	if amount != bk.Amount {
		return payment.Payment{}, booking.Booking{}, errs.InvalidField("amount", "must be the booking's amount, %d centimes", bk.Amount)
	}
	var pay payment.Payment
	var confirmed booking.Booking
	err = s.deps.DB.Transact(ctx, func(tx *gorm.DB) error {
		var err error
		pay, err = s.deps.PaymentStore.RecordOfficePayment(ctx, tx, payment.OfficePayment{
			Purpose: payment.PurposeBooking, Reference: strconv.FormatInt(bk.ID, 10), Method: method,
			Amount: payment.MAD(amount), ReceiptNumber: receipt, RecordedBy: admin.UserID, Note: note,
		})
		if err != nil {
			return err
		}
		confirmed, err = b.ConfirmBookingTx(ctx, tx, bk.ID, "office:"+receipt)
		return err
	})
	if err != nil {
		return payment.Payment{}, booking.Booking{}, err
	}
	return pay, confirmed, nil
}

// RecordPayout records a bank transfer paid to a cooperative (MAD when no
// currency is given), refused above its balance or without a RIB on file:
// the code of POST /api/v1/admin/cooperatives/{id}/payouts, shared with
// the administrators' pages. See storefront.Service.RecordPayout for the
// errors.
func (s *Server) RecordPayout(ctx context.Context, admin *account.Principal, in storefront.PayoutInput) (storefront.Payout, bool, error) {
	cat, err := s.catalog()
	if err != nil {
		return storefront.Payout{}, false, err
	}
	if admin == nil || !admin.IsAdmin() {
		return storefront.Payout{}, false, errs.E(errs.Forbidden, "only administrators record payouts")
	}
	if in.Currency == "" {
		in.Currency = storefront.Currency
	}
	in.By = admin.UserID
	return cat.RecordPayout(ctx, in)
}
