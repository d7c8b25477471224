package booking

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// CheckoutCanceller closes a checkout at the payment provider so that it
// can no longer be paid. payment.Provider satisfies it; so does any future
// provider (CMI) that can close a payment page.
type CheckoutCanceller interface {
	CancelCheckout(ctx context.Context, providerRef string) error
}

// Bounds of one CloseLapsedCheckouts call.
const (
	// lapseWindow is how far back it looks for pending checkouts: a
	// provider checkout lives at most 24 hours, after which the provider
	// closes it itself.
	lapseWindow = 48 * time.Hour
	lapseBatch  = 200
)

// CloseLapsedCheckouts closes, at the provider, the checkouts still open
// for card bookings that can no longer be paid for: expired (the sweeper
// found the hold ran out) or cancelled. A card hold lasts CardHold, 15
// minutes, but a Stripe checkout lives at least 30; left open, it could
// still be paid for days that may already be someone else's (the payment
// would then have to be refunded, see ErrHoldLost).
//
// Each pending card payment of such a booking has its checkout cancelled
// (CancelCheckout with the payment's provider_ref) and is then marked
// cancelled by a conditional update. A checkout the provider no longer
// knows is marked cancelled too; one the provider says was completed is
// left to its webhook (the booking will refuse it and the payment be
// refunded). A failure leaves the payment pending, so the next call tries
// again. It is safe to run in every instance at once: cancelling a
// checkout is idempotent and the status moves once. It returns how many
// payments it cancelled.
func (s *Store) CloseLapsedCheckouts(ctx context.Context, provider CheckoutCanceller, payments *payment.Store, now time.Time) (int, error) {
	now = s.now(now)
	db := s.db.WithContext(ctx)
	var pending []payment.Payment
	if err := db.Where("purpose = ? AND method = ? AND status = ? AND provider_ref IS NOT NULL AND created_at >= ?",
		payment.PurposeBooking, payment.MethodCard, payment.PaymentPending, now.Add(-lapseWindow)).
		Order("created_at, id").Limit(lapseBatch).Find(&pending).Error; err != nil {
		return 0, fmt.Errorf("close lapsed checkouts: list pending payments: %w", database.Translate(err))
	}
	if len(pending) == 0 {
		return 0, nil
	}
	ids := make([]int64, 0, len(pending))
	for _, p := range pending {
		if id, err := strconv.ParseInt(p.Reference, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	var lapsed []int64
	if err := db.Model(&Booking{}).Where("id IN ? AND status IN ?", ids, []Status{StatusExpired, StatusCancelled}).
		Pluck("id", &lapsed).Error; err != nil {
		return 0, fmt.Errorf("close lapsed checkouts: read bookings: %w", database.Translate(err))
	}
	isLapsed := make(map[string]bool, len(lapsed))
	for _, id := range lapsed {
		isLapsed[strconv.FormatInt(id, 10)] = true
	}
	closed := 0
	var failures []error
	for _, p := range pending {
		if !isLapsed[p.Reference] || p.ProviderRef == nil {
			continue
		}
		if err := provider.CancelCheckout(ctx, *p.ProviderRef); err != nil {
			switch {
			case errs.Is(err, errs.NotFound):
				// The provider has no such checkout: nothing can pay it.
			case errs.Is(err, errs.Conflict):
				continue // completed: its webhook settles and refunds it
			default:
				failures = append(failures, fmt.Errorf("cancel checkout of booking %s: %w", p.Reference, err))
				continue
			}
		}
		_, changed, err := payments.SetPaymentStatus(ctx, nil, p.ID, payment.PaymentCancelled)
		switch {
		case err == nil && changed:
			closed++
		case err != nil && !errs.Is(err, errs.Conflict): // Conflict: a webhook moved it first
			failures = append(failures, fmt.Errorf("mark payment %d cancelled: %w", p.ID, err))
		}
	}
	if err := errors.Join(failures...); err != nil {
		return closed, fmt.Errorf("close lapsed checkouts: %w", err)
	}
	return closed, nil
}
