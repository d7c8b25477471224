package payment_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// createEffects makes a table standing for an order's or a booking's
// change, so a test can count how often an event took effect.
func createEffects(t *testing.T, db *database.DB) {
	t.Helper()
	q := "CREATE TABLE test_effects (id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL)"
	if db.Dialect == database.MySQL {
		q = "CREATE TABLE test_effects (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, event_id VARCHAR(255) NOT NULL) ENGINE=InnoDB"
	}
	if err := db.Exec(q).Error; err != nil {
		t.Fatal(err)
	}
}

func countRows(t *testing.T, db *database.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func effect(ev payment.Event) func(tx *gorm.DB) error {
	return func(tx *gorm.DB) error {
		return tx.Exec("INSERT INTO test_effects (event_id) VALUES (?)", ev.ID).Error
	}
}

// Rule 4: each Stripe event takes effect once, whatever the retries,
// duplicates or order — here 20 deliveries of one event at the same moment.
func TestApplyOnceConcurrentDuplicates(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store := payment.NewStore(db)
		createEffects(t, db)
		ev := payment.Event{ID: "evt_dup_1", Provider: payment.StripeName, Type: payment.EventCheckoutCompleted,
			Purpose: payment.PurposeOrder, Reference: "42", Paid: true}

		const deliveries = 20
		var applied, skipped atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		errc := make(chan error, deliveries)
		for i := 0; i < deliveries; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				var ok bool
				err := db.Transact(ctx, func(tx *gorm.DB) error {
					var err error
					ok, err = store.ApplyOnce(ctx, tx, ev, effect(ev))
					return err
				})
				if err != nil {
					errc <- err
					return
				}
				if ok {
					applied.Add(1)
				} else {
					skipped.Add(1)
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("delivery failed: %v", err)
		}
		if applied.Load() != 1 || skipped.Load() != deliveries-1 {
			t.Fatalf("applied %d, skipped %d; want 1 and %d", applied.Load(), skipped.Load(), deliveries-1)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM test_effects WHERE event_id = ?", ev.ID); n != 1 {
			t.Fatalf("the effect ran %d times, want once", n)
		}
		if n := countRows(t, db, "SELECT COUNT(*) FROM payment_events WHERE provider = ? AND event_id = ?", payment.StripeName, ev.ID); n != 1 {
			t.Fatalf("%d event records, want 1", n)
		}
		done, err := store.EventProcessed(ctx, payment.StripeName, ev.ID)
		if err != nil || !done {
			t.Fatalf("EventProcessed = %v, %v", done, err)
		}
	})
}

func TestApplyOnce(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store := payment.NewStore(db)
		createEffects(t, db)
		deliver := func(ev payment.Event, apply func(*gorm.DB) error) (bool, error) {
			var ok bool
			err := db.Transact(ctx, func(tx *gorm.DB) error {
				var err error
				ok, err = store.ApplyOnce(ctx, tx, ev, apply)
				return err
			})
			return ok, err
		}

		t.Run("FailedEffectIsRetried", func(t *testing.T) {
			ev := payment.Event{ID: "evt_fail_then_ok", Provider: payment.StripeName, Type: payment.EventCheckoutExpired}
			boom := errs.E(errs.Unavailable, "stock service down")
			_, err := deliver(ev, func(tx *gorm.DB) error {
				if err := effect(ev)(tx); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("got %v, want the effect's error", err)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM payment_events WHERE event_id = ?", ev.ID); n != 0 {
				t.Fatal("a failed effect left its event recorded: the retry would be skipped")
			}
			ok, err := deliver(ev, effect(ev))
			if err != nil || !ok {
				t.Fatalf("redelivery: %v, %v", ok, err)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM test_effects WHERE event_id = ?", ev.ID); n != 1 {
				t.Fatalf("effect rows %d, want 1 (the failed attempt rolled back)", n)
			}
		})

		t.Run("TransactionUsableAfterDuplicate", func(t *testing.T) {
			ev := payment.Event{ID: "evt_then_more", Provider: payment.StripeName, Type: payment.EventCheckoutExpired}
			if _, err := deliver(ev, effect(ev)); err != nil {
				t.Fatal(err)
			}
			err := db.Transact(ctx, func(tx *gorm.DB) error {
				ok, err := store.ApplyOnce(ctx, tx, ev, effect(ev))
				if err != nil || ok {
					return errors.Join(err, errors.New("applied twice"))
				}
				// The caller goes on in the same transaction.
				return tx.Exec("INSERT INTO test_effects (event_id) VALUES (?)", "after-duplicate").Error
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := countRows(t, db, "SELECT COUNT(*) FROM test_effects WHERE event_id = ?", "after-duplicate"); n != 1 {
				t.Fatal("the write after the duplicate was lost")
			}
		})

		t.Run("SameIDOtherProvider", func(t *testing.T) {
			a := payment.Event{ID: "evt_shared", Provider: payment.StripeName, Type: payment.EventCheckoutExpired}
			b := a
			b.Provider = "cmi"
			for _, ev := range []payment.Event{a, b} {
				if ok, err := deliver(ev, effect(ev)); err != nil || !ok {
					t.Fatalf("%s: %v, %v", ev.Provider, ok, err)
				}
			}
		})

		t.Run("IDsAreCaseSensitive", func(t *testing.T) {
			a := payment.Event{ID: "evt_CaseA", Provider: payment.StripeName, Type: payment.EventCheckoutExpired}
			b := a
			b.ID = "evt_casea"
			for _, ev := range []payment.Event{a, b} {
				if ok, err := deliver(ev, effect(ev)); err != nil || !ok {
					t.Fatalf("%s: %v, %v (two Stripe ids differing in case are two events)", ev.ID, ok, err)
				}
			}
		})

		t.Run("ErrNoID", func(t *testing.T) {
			_, err := deliver(payment.Event{Provider: payment.StripeName}, effect(payment.Event{}))
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("got %v, want invalid", err)
			}
		})

		t.Run("Prune", func(t *testing.T) {
			store.Now = func() time.Time { return time.Now().Add(-60 * 24 * time.Hour) }
			old := payment.Event{ID: "evt_old", Provider: payment.StripeName, Type: payment.EventCheckoutExpired}
			if _, err := deliver(old, func(*gorm.DB) error { return nil }); err != nil {
				t.Fatal(err)
			}
			store.Now = time.Now
			n, err := store.PruneEvents(ctx, time.Now().Add(-30*24*time.Hour))
			if err != nil || n != 1 {
				t.Fatalf("pruned %d, %v; want 1", n, err)
			}
			if done, _ := store.EventProcessed(ctx, payment.StripeName, "evt_then_more"); !done {
				t.Fatal("a recent event was pruned")
			}
		})
	})
}

func newCardPayment(t *testing.T, store *payment.Store, ref string, amount int64) payment.Payment {
	t.Helper()
	p, err := store.CreatePayment(context.Background(), nil, payment.NewPayment{
		Purpose: payment.PurposeOrder, Reference: ref, Method: payment.MethodCard, Amount: payment.MAD(amount),
		Provider: payment.StripeName, ProviderRef: "cs_test_" + ref,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The payment row follows the provider's events, in whatever order they
// come, and says when it changed so that the order is confirmed once.
func TestUpdatePaymentFromEvent(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store := payment.NewStore(db)
		update := func(ev payment.Event) (payment.Payment, bool, error) {
			var p payment.Payment
			var changed bool
			err := db.Transact(ctx, func(tx *gorm.DB) error {
				var err error
				p, changed, err = store.UpdatePaymentFromEvent(ctx, tx, ev)
				return err
			})
			return p, changed, err
		}
		event := func(typ payment.EventType, ref string, mod func(*payment.Event)) payment.Event {
			ev := payment.Event{ID: "evt_" + ref + "_" + string(typ), Provider: payment.StripeName, Type: typ,
				ProviderRef: "cs_test_" + ref, PaymentRef: "pi_" + ref, AmountTotal: 30_000, Currency: "MAD"}
			if mod != nil {
				mod(&ev)
			}
			return ev
		}

		t.Run("PaidThenRefunded", func(t *testing.T) {
			p := newCardPayment(t, store, "a", 30_000)
			if p.Status != payment.PaymentPending || p.PaymentRef != nil {
				t.Fatalf("new payment %+v", p)
			}
			got, changed, err := update(event(payment.EventCheckoutCompleted, "a", func(e *payment.Event) { e.Paid = true }))
			if err != nil || !changed || got.Status != payment.PaymentPaid || got.PaidAt == nil || *got.PaymentRef != "pi_a" {
				t.Fatalf("completed: %+v, %v, %v", got, changed, err)
			}
			// A reconciliation reporting the same payment changes nothing.
			st := payment.Status{Provider: payment.StripeName, ProviderRef: "cs_test_a", State: payment.StatePaid,
				Amount: payment.MAD(30_000), PaymentRef: "pi_a"}
			rev, ok := st.Event()
			if !ok {
				t.Fatal("a paid status has an event")
			}
			if _, changed, err := update(rev); err != nil || changed {
				t.Fatalf("reconciled: changed %v, %v; want no change", changed, err)
			}
			// A late expiry changes nothing either.
			if got, changed, err := update(event(payment.EventCheckoutExpired, "a", nil)); err != nil || changed || got.Status != payment.PaymentPaid {
				t.Fatalf("late expiry: %+v, %v, %v", got, changed, err)
			}
			// Refund events carry running totals; an older one arriving late
			// never lowers the total.
			refund := func(total int64) (payment.Payment, bool, error) {
				return update(event(payment.EventChargeRefunded, "a", func(e *payment.Event) {
					e.ID, e.ProviderRef, e.AmountRefunded = "evt_refund_"+time.Now().String(), "", total
				}))
			}
			if got, changed, err := refund(10_000); err != nil || !changed || got.Status != payment.PaymentPartiallyRefunded || got.AmountRefunded != 10_000 {
				t.Fatalf("partial refund: %+v, %v, %v", got, changed, err)
			}
			if got, changed, err := refund(30_000); err != nil || !changed || got.Status != payment.PaymentRefunded || got.AmountRefunded != 30_000 {
				t.Fatalf("full refund: %+v, %v, %v", got, changed, err)
			}
			if got, changed, err := refund(10_000); err != nil || changed || got.AmountRefunded != 30_000 {
				t.Fatalf("late partial refund: %+v, %v, %v", got, changed, err)
			}
		})

		t.Run("AsyncPayment", func(t *testing.T) {
			newCardPayment(t, store, "b", 30_000)
			got, changed, err := update(event(payment.EventCheckoutCompleted, "b", nil))
			if err != nil || !changed || got.Status != payment.PaymentProcessing {
				t.Fatalf("completed unpaid: %+v, %v, %v", got, changed, err)
			}
			got, changed, err = update(event(payment.EventCheckoutAsyncSucceeded, "b", func(e *payment.Event) { e.Paid = true }))
			if err != nil || !changed || got.Status != payment.PaymentPaid {
				t.Fatalf("async succeeded: %+v, %v, %v", got, changed, err)
			}
			// The completed event delivered again after the success.
			if got, changed, err := update(event(payment.EventCheckoutCompleted, "b", nil)); err != nil || changed || got.Status != payment.PaymentPaid {
				t.Fatalf("stale completed: %+v, %v, %v", got, changed, err)
			}
			newCardPayment(t, store, "c", 30_000)
			if _, _, err := update(event(payment.EventCheckoutCompleted, "c", nil)); err != nil {
				t.Fatal(err)
			}
			if got, changed, err := update(event(payment.EventCheckoutAsyncFailed, "c", nil)); err != nil || !changed || got.Status != payment.PaymentFailed {
				t.Fatalf("async failed: %+v, %v, %v", got, changed, err)
			}
		})

		t.Run("ExpiredThenNothing", func(t *testing.T) {
			newCardPayment(t, store, "d", 30_000)
			if got, changed, err := update(event(payment.EventCheckoutExpired, "d", func(e *payment.Event) { e.PaymentRef = "" })); err != nil || !changed || got.Status != payment.PaymentExpired {
				t.Fatalf("expired: %+v, %v, %v", got, changed, err)
			}
			if got, changed, err := update(event(payment.EventPaymentFailed, "d", func(e *payment.Event) { e.ProviderRef = "" })); !errs.Is(err, errs.NotFound) || changed {
				t.Fatalf("payment failed for an unknown intent: %+v, %v, %v", got, changed, err)
			}
		})

		t.Run("PaymentFailedIsInformational", func(t *testing.T) {
			newCardPayment(t, store, "e", 30_000)
			if _, _, err := update(event(payment.EventCheckoutCompleted, "e", nil)); err != nil {
				t.Fatal(err)
			}
			got, changed, err := update(event(payment.EventPaymentFailed, "e", func(e *payment.Event) { e.ProviderRef = "" }))
			if err != nil || changed || got.Status != payment.PaymentProcessing {
				t.Fatalf("payment failed: %+v, %v, %v", got, changed, err)
			}
		})

		t.Run("ErrAmountMismatch", func(t *testing.T) {
			newCardPayment(t, store, "f", 30_000)
			_, _, err := update(event(payment.EventCheckoutCompleted, "f", func(e *payment.Event) { e.Paid, e.AmountTotal = true, 100 }))
			if !errs.Is(err, errs.Internal) {
				t.Fatalf("got %v, want internal: never confirm for less than is due", err)
			}
			p, _ := store.FindPaymentByProviderRef(ctx, nil, payment.StripeName, "cs_test_f")
			if p.Status != payment.PaymentPending {
				t.Fatalf("status %s, want pending", p.Status)
			}
		})

		t.Run("ErrRefundBeforePayment", func(t *testing.T) {
			newCardPayment(t, store, "g", 30_000)
			if _, _, err := update(event(payment.EventCheckoutCompleted, "g", nil)); err != nil { // learns pi_g
				t.Fatal(err)
			}
			_, _, err := update(event(payment.EventChargeRefunded, "g", func(e *payment.Event) { e.ProviderRef, e.AmountRefunded = "", 100 }))
			if !errs.Is(err, errs.Conflict) {
				t.Fatalf("got %v, want conflict (delivered again later)", err)
			}
		})

		t.Run("ErrUnknownCheckout", func(t *testing.T) {
			if _, _, err := update(event(payment.EventCheckoutCompleted, "nobody", nil)); !errs.Is(err, errs.NotFound) {
				t.Fatalf("got %v, want not_found", err)
			}
		})

		t.Run("ResolveEvent", func(t *testing.T) {
			ev, err := store.ResolveEvent(ctx, payment.Event{ID: "evt_r", Provider: payment.StripeName, Type: payment.EventChargeRefunded, PaymentRef: "pi_a"})
			if err != nil || ev.Purpose != payment.PurposeOrder || ev.Reference != "a" {
				t.Fatalf("resolved %+v, %v", ev, err)
			}
			if _, err := store.ResolveEvent(ctx, payment.Event{ID: "evt_r2", Provider: payment.StripeName, PaymentRef: "pi_nobody"}); !errs.Is(err, errs.NotFound) {
				t.Fatalf("got %v, want not_found", err)
			}
		})
	})
}

func TestPayments(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store := payment.NewStore(db)

		t.Run("ErrCheckoutTwice", func(t *testing.T) {
			newCardPayment(t, store, "x", 1000)
			_, err := store.CreatePayment(ctx, nil, payment.NewPayment{Purpose: payment.PurposeOrder, Reference: "y",
				Method: payment.MethodCard, Amount: payment.MAD(1000), Provider: payment.StripeName, ProviderRef: "cs_test_x"})
			if !errs.Is(err, errs.Conflict) {
				t.Fatalf("got %v, want conflict", err)
			}
		})
		t.Run("ErrFields", func(t *testing.T) {
			_, err := store.CreatePayment(ctx, nil, payment.NewPayment{Method: payment.MethodOfficeCash, Amount: payment.Money{Amount: 0, Currency: "dirham"}})
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid {
				t.Fatalf("got %v, want invalid", err)
			}
			for _, f := range []string{"purpose", "reference", "method", "amount", "currency"} {
				if !errs.Fields(e.Fields).Has(f) {
					t.Errorf("no error on %s", f)
				}
			}
			_, err = store.CreatePayment(ctx, nil, payment.NewPayment{Purpose: payment.PurposeOrder, Reference: "z", Method: payment.MethodCard, Amount: payment.MAD(1)})
			if e := errs.As(err); e == nil || !errs.Fields(e.Fields).Has("provider_ref") {
				t.Fatalf("card without checkout: %v", err)
			}
		})
		t.Run("CODCollected", func(t *testing.T) {
			p, err := store.CreatePayment(ctx, nil, payment.NewPayment{Purpose: payment.PurposeOrder, Reference: "cod1", Method: payment.MethodCOD, Amount: payment.MAD(25_000)})
			if err != nil || p.Status != payment.PaymentPending || p.Provider != nil {
				t.Fatalf("%+v, %v", p, err)
			}
			got, changed, err := store.SetPaymentStatus(ctx, nil, p.ID, payment.PaymentPaid)
			if err != nil || !changed || got.Status != payment.PaymentPaid || got.PaidAt == nil {
				t.Fatalf("collected: %+v, %v, %v", got, changed, err)
			}
			if _, changed, err := store.SetPaymentStatus(ctx, nil, p.ID, payment.PaymentPaid); err != nil || changed {
				t.Fatalf("collected again: %v, %v; want no change, no error", changed, err)
			}
			if _, _, err := store.SetPaymentStatus(ctx, nil, p.ID, payment.PaymentCancelled); !errs.Is(err, errs.Conflict) {
				t.Fatalf("cancel a paid payment: %v, want conflict", err)
			}
			if _, _, err := store.SetPaymentStatus(ctx, nil, p.ID, payment.PaymentRefunded); !errs.Is(err, errs.Invalid) {
				t.Fatalf("refund through SetPaymentStatus: %v, want invalid", err)
			}
			got, changed, err = store.RecordRefund(ctx, nil, p.ID, 25_000)
			if err != nil || !changed || got.Status != payment.PaymentRefunded {
				t.Fatalf("refunded: %+v, %v, %v", got, changed, err)
			}
			if _, _, err := store.RecordRefund(ctx, nil, p.ID, 25_001); !errs.Is(err, errs.Invalid) {
				t.Fatalf("refund above the amount: %v, want invalid", err)
			}
		})
		t.Run("ErrUnknownPayment", func(t *testing.T) {
			if _, _, err := store.SetPaymentStatus(ctx, nil, 999999, payment.PaymentPaid); !errs.Is(err, errs.NotFound) {
				t.Fatalf("got %v, want not_found", err)
			}
		})
		t.Run("ListAndStale", func(t *testing.T) {
			store.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
			old := newCardPayment(t, store, "stale", 5000)
			store.Now = time.Now
			newCardPayment(t, store, "fresh", 5000)
			stale, err := store.ListStalePayments(ctx, time.Now().Add(-time.Hour), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(stale) != 1 || stale[0].ID != old.ID {
				t.Fatalf("stale %+v, want only %d", stale, old.ID)
			}
			list, err := store.ListPayments(ctx, nil, payment.PurposeOrder, "stale")
			if err != nil || len(list) != 1 {
				t.Fatalf("list %+v, %v", list, err)
			}
		})
		t.Run("DatabaseRefusesBadRows", func(t *testing.T) {
			// The CHECK constraints hold even for code that skips validation.
			now := time.Now().UTC()
			err := db.Exec("INSERT INTO payments (purpose, reference, method, amount, currency, status, created_at, updated_at) VALUES ('order', 'q', 'cod', 0, 'MAD', 'pending', ?, ?)", now, now).Error
			if err == nil {
				t.Fatal("a zero amount was stored")
			}
			err = db.Exec("INSERT INTO payments (purpose, reference, method, amount, currency, status, created_at, updated_at) VALUES ('order', 'q', 'cheque', 10, 'MAD', 'pending', ?, ?)", now, now).Error
			if err == nil {
				t.Fatal("an unknown method was stored")
			}
		})
	})
}

func TestCanMove(t *testing.T) {
	for _, c := range []struct {
		from, to payment.PaymentStatus
		want     bool
	}{
		{payment.PaymentPending, payment.PaymentPaid, true},
		{payment.PaymentPending, payment.PaymentExpired, true},
		{payment.PaymentProcessing, payment.PaymentPaid, true},
		{payment.PaymentProcessing, payment.PaymentExpired, false},
		{payment.PaymentPaid, payment.PaymentExpired, false},
		{payment.PaymentPaid, payment.PaymentPending, false},
		{payment.PaymentPaid, payment.PaymentRefunded, true},
		{payment.PaymentRefunded, payment.PaymentPaid, false},
		{payment.PaymentExpired, payment.PaymentPaid, false},
		{payment.PaymentFailed, payment.PaymentPaid, false},
	} {
		if got := payment.CanMove(c.from, c.to); got != c.want {
			t.Errorf("CanMove(%s, %s) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}
