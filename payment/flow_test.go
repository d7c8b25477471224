package payment_test

import (
	"context"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
)

// The whole card flow as orders and bookings run it, with the fake
// provider of paymenttest: checkout, pending payment, signed webhook,
// effect applied once however often the webhook comes.
func TestCardPaymentFlow(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store := payment.NewStore(db)
		provider := paymenttest.NewProvider()
		createEffects(t, db)

		req := checkoutRequest()
		co, err := provider.StartCheckout(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		// A retried request (same key) gets the same checkout.
		again, err := provider.StartCheckout(ctx, req)
		if err != nil || again.ProviderRef != co.ProviderRef {
			t.Fatalf("retry opened %s, want %s (%v)", again.ProviderRef, co.ProviderRef, err)
		}
		if _, err := store.CreatePayment(ctx, nil, payment.NewPayment{Purpose: req.Purpose, Reference: req.Reference,
			Method: payment.MethodCard, Amount: payment.MAD(req.Total()), Provider: co.Provider, ProviderRef: co.ProviderRef}); err != nil {
			t.Fatal(err)
		}

		spec := provider.Pay(t, co.ProviderRef)
		payload, sig := paymenttest.Webhook(spec, whsec)
		confirmations := 0
		for delivery := 0; delivery < 3; delivery++ {
			ev, err := payment.ParseWebhook(payload, sig, whsec, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			err = db.Transact(ctx, func(tx *gorm.DB) error {
				_, err := store.ApplyOnce(ctx, tx, ev, func(tx *gorm.DB) error {
					p, changed, err := store.UpdatePaymentFromEvent(ctx, tx, ev)
					if err != nil {
						return err
					}
					if changed && p.Status == payment.PaymentPaid {
						confirmations++ // here orders mark the order paid
						return effect(ev)(tx)
					}
					return nil
				})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if confirmations != 1 {
			t.Fatalf("confirmed %d times, want once", confirmations)
		}
		// Reconciliation finds the same payment: no second confirmation.
		st, err := provider.Retrieve(ctx, co.ProviderRef)
		if err != nil {
			t.Fatal(err)
		}
		rev, ok := st.Event()
		if !ok {
			t.Fatal("a paid checkout has an event")
		}
		err = db.Transact(ctx, func(tx *gorm.DB) error {
			_, err := store.ApplyOnce(ctx, tx, rev, func(tx *gorm.DB) error {
				_, changed, err := store.UpdatePaymentFromEvent(ctx, tx, rev)
				if changed {
					confirmations++
				}
				return err
			})
			return err
		})
		if err != nil || confirmations != 1 {
			t.Fatalf("after reconciliation: %d confirmations, %v", confirmations, err)
		}
		if err := provider.CancelCheckout(ctx, co.ProviderRef); err == nil {
			t.Fatal("cancelled a paid checkout")
		}
		r, err := provider.Refund(ctx, payment.RefundRequest{PaymentRef: st.PaymentRef, IdempotencyKey: "order-1042-refund"})
		if err != nil || r.Amount != payment.MAD(req.Total()) {
			t.Fatalf("refund %+v, %v", r, err)
		}
		if _, err := provider.Refund(ctx, payment.RefundRequest{PaymentRef: st.PaymentRef, IdempotencyKey: "order-1042-refund"}); err != nil || len(provider.RefundRequests()) != 1 {
			t.Fatalf("a repeated refund key refunded %d times (%v)", len(provider.RefundRequests()), err)
		}
	})
}
