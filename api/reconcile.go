package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// ReconcileAfter is how long a card payment may stay pending before the
// reconciliation sweep asks the provider about it: a little more than the
// 30 minutes an order's reservation (and its Checkout Session) lasts, so
// that a healthy webhook nearly always arrives first.
const ReconcileAfter = 35 * time.Minute

// ReconcileResult counts what one sweep saw.
type ReconcileResult struct {
	Checked int // payments asked about
	Applied int // changes applied (a webhook that never came)
	Open    int // still open at the provider
}

// ReconcilePayments asks the card provider where every card payment still
// pending since before cutoff stands (oldest first, at most limit) and
// applies the answer through the same once-only path as a signed webhook
// (rule 4: a server-side retrieval is payment truth too). A lost webhook
// heals: a paid checkout pays its order or booking, an expired one gives
// its stock or days back. Every instance may run it at once: what one
// applies, the others find applied.
//
// A provider outage stops the sweep with errs.Unavailable; the next run
// goes on from the oldest payment again.
func (s *Server) ReconcilePayments(ctx context.Context, cutoff time.Time, limit int) (ReconcileResult, error) {
	var res ReconcileResult
	if s.deps.Payments == nil || s.deps.PaymentStore == nil {
		return res, nil
	}
	stale, err := s.deps.PaymentStore.ListStalePayments(ctx, cutoff, limit)
	if err != nil {
		return res, err
	}
	var errsSeen []error
	for _, p := range stale {
		if p.ProviderRef == nil || *p.ProviderRef == "" || p.Provider == nil || *p.Provider != s.deps.Payments.Name() {
			continue
		}
		res.Checked++
		st, err := s.deps.Payments.Retrieve(ctx, *p.ProviderRef)
		switch {
		case errs.Is(err, errs.Unavailable):
			return res, errors.Join(append(errsSeen, err)...)
		case err != nil:
			errsSeen = append(errsSeen, fmt.Errorf("reconcile payment %d: %w", p.ID, err))
			continue
		}
		// The payment row knows what it is for; an answer that says
		// otherwise is not applied.
		if st.Purpose == "" && st.Reference == "" {
			st.Purpose, st.Reference = p.Purpose, p.Reference
		}
		if st.Purpose != p.Purpose || st.Reference != p.Reference {
			errsSeen = append(errsSeen, fmt.Errorf("reconcile payment %d: the provider says checkout %s is for %s %s, not %s %s",
				p.ID, *p.ProviderRef, st.Purpose, st.Reference, p.Purpose, p.Reference))
			continue
		}
		if st.Provider == "" {
			st.Provider = *p.Provider
		}
		if st.Amount.Currency == "" {
			st.Amount = p.Money()
		}
		ev, ok := st.Event()
		if !ok {
			res.Open++
			continue
		}
		applied, err := s.applyPaymentEvent(ctx, ev)
		if err != nil {
			if errs.Is(err, errs.Unavailable) {
				return res, errors.Join(append(errsSeen, err)...)
			}
			errsSeen = append(errsSeen, fmt.Errorf("reconcile payment %d: %w", p.ID, err))
			continue
		}
		if applied {
			res.Applied++
			s.log.InfoContext(ctx, "reconciled a card payment the webhook did not settle",
				"payment", p.ID, "purpose", p.Purpose, "reference", p.Reference, "state", st.State)
		}
	}
	return res, errors.Join(errsSeen...)
}
