package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
)

// stripeFront stands in front of stripe-mock and remembers what happened
// to each Checkout Session, which stripe-mock (stateless) cannot: every
// call goes to stripe-mock, and the answer to "retrieve session cs_…" is
// stripe-mock's own, with the state the test set. down makes every call
// fail as an unreachable Stripe would.
type stripeFront struct {
	*httptest.Server
	mu       sync.Mutex
	sessions map[string]frontSession
	down     bool
}

type frontSession struct{ status, paymentStatus, intent string }

func newStripeFront(t *testing.T, upstream string) *stripeFront {
	t.Helper()
	u, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	f := &stripeFront{sessions: map[string]frontSession{}}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		id, ok := strings.CutPrefix(resp.Request.URL.Path, "/v1/checkout/sessions/")
		if resp.Request.Method != http.MethodGet || !ok || strings.Contains(id, "/") || resp.StatusCode != 200 {
			return nil
		}
		f.mu.Lock()
		st, known := f.sessions[id]
		f.mu.Unlock()
		if !known {
			st = frontSession{status: "open", paymentStatus: "unpaid"}
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		resp.Body.Close()
		body["id"], body["status"], body["payment_status"] = id, st.status, st.paymentStatus
		// What Souk sent at creation is not kept by stripe-mock: the
		// answer carries no metadata, and Souk must take the payment
		// row's word for what the session is for.
		body["metadata"], body["client_reference_id"] = map[string]any{}, nil
		if st.intent != "" {
			body["payment_intent"] = st.intent
		} else {
			body["payment_intent"] = nil
		}
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		return nil
	}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		down := f.down
		f.mu.Unlock()
		if down {
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("cannot hijack")
				return
			}
			conn, _, _ := hj.Hijack()
			conn.Close() // a connection cut, as when Stripe is unreachable
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *stripeFront) set(id string, st frontSession) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sessions[id] = st
}

func (f *stripeFront) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

// Rule 4 when a webhook is lost: the reconciliation sweep asks Stripe about
// card payments still pending and applies the answer once, through the
// same path as the webhook; the webhook arriving late changes nothing, and
// several instances sweeping at once apply each change once.
func TestReconcileHealsLostWebhooks(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		var front *stripeFront
		s := testserver.Start(t, testserver.Options{Dialect: dialect, Stripe: true, Configure: func(c *config.Config) {
			front = newStripeFront(t, c.StripeAPIURL)
			c.StripeAPIURL = front.URL
		}})
		sc := newOrderScene(t, s)
		ctx := context.Background()
		place := func(productID int64, key string) (int64, payment.Payment) {
			t.Helper()
			st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(productID, 1, "FR", "card"),
				map[string]string{"Idempotency-Key": key})
			if st != 201 {
				t.Fatalf("card order: %d %v", st, b)
			}
			id, _ := orderOf(t, b)
			pays := orderPayment(t, s, id)
			if len(pays) != 1 || pays[0].ProviderRef == nil {
				t.Fatalf("payments of order %d: %+v", id, pays)
			}
			return id, pays[0]
		}
		paidID, paidPay := place(sc.jar.ID, "reconcile-paid")
		expID, expPay := place(sc.pots.ID, "reconcile-expired")
		if *paidPay.ProviderRef == *expPay.ProviderRef {
			t.Fatalf("two orders share checkout %s", *paidPay.ProviderRef)
		}
		status := func(id int64) string {
			t.Helper()
			var st string
			if err := s.DB.Raw("SELECT status FROM orders WHERE id = ?", id).Scan(&st).Error; err != nil {
				t.Fatal(err)
			}
			return st
		}
		future := time.Now().Add(time.Hour) // every payment so far counts as stale

		// Both checkouts still open at Stripe: nothing changes.
		res, err := s.API.ReconcilePayments(ctx, future, 100)
		if err != nil || res.Checked != 2 || res.Open != 2 || res.Applied != 0 {
			t.Fatalf("open checkouts: %+v %v", res, err)
		}
		if status(paidID) != "pending_payment" || status(expID) != "pending_payment" {
			t.Fatalf("statuses moved on open checkouts: %s %s", status(paidID), status(expID))
		}

		// Stripe unreachable: the sweep says so and changes nothing.
		front.set(*paidPay.ProviderRef, frontSession{status: "complete", paymentStatus: "paid", intent: "pi_reconciled"})
		front.set(*expPay.ProviderRef, frontSession{status: "expired", paymentStatus: "unpaid"})
		front.setDown(true)
		if res, err := s.API.ReconcilePayments(ctx, future, 100); err == nil || res.Applied != 0 {
			t.Fatalf("sweep with Stripe down: %+v %v", res, err)
		}
		if status(paidID) != "pending_payment" || stockOf(t, s, sc.pots.ID) != 19 {
			t.Fatalf("a sweep with Stripe down changed something: %s, stock %d", status(paidID), stockOf(t, s, sc.pots.ID))
		}
		front.setDown(false)

		// One paid, one expired, while three instances sweep at once.
		var wg sync.WaitGroup
		applied := make([]int, 3)
		for i := range applied {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := s.API.ReconcilePayments(ctx, future, 100)
				if err != nil {
					t.Errorf("sweep %d: %v", i, err)
				}
				applied[i] = r.Applied
			}()
		}
		wg.Wait()
		if n := applied[0] + applied[1] + applied[2]; n != 2 {
			t.Fatalf("concurrent sweeps applied %v changes, want 2 in all", applied)
		}
		if status(paidID) != "paid" || status(expID) != "expired" {
			t.Fatalf("after the sweep: paid order %s, expired order %s", status(paidID), status(expID))
		}
		if stockOf(t, s, sc.jar.ID) != 0 || stockOf(t, s, sc.pots.ID) != 20 {
			t.Fatalf("stock jar %d (want 0), pots %d (want 20)", stockOf(t, s, sc.jar.ID), stockOf(t, s, sc.pots.ID))
		}
		if p := orderPayment(t, s, paidID)[0]; p.Status != payment.PaymentPaid || p.PaymentRef == nil || *p.PaymentRef != "pi_reconciled" {
			t.Fatalf("reconciled payment: %+v", p)
		}

		// The lost webhooks arrive at last: nothing moves.
		deliver(t, s, paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeOrder,
			Reference: fmt.Sprint(paidID), SessionID: *paidPay.ProviderRef, PaymentIntentID: "pi_reconciled", Amount: paidPay.Amount})
		deliver(t, s, paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutExpired, Purpose: payment.PurposeOrder,
			Reference: fmt.Sprint(expID), SessionID: *expPay.ProviderRef, Amount: expPay.Amount})
		if status(paidID) != "paid" || status(expID) != "expired" || stockOf(t, s, sc.jar.ID) != 0 || stockOf(t, s, sc.pots.ID) != 20 {
			t.Fatalf("late webhooks moved something: %s %s, stock %d %d", status(paidID), status(expID), stockOf(t, s, sc.jar.ID), stockOf(t, s, sc.pots.ID))
		}

		// Settled payments are no longer asked about; the job sweeps the
		// same way on its own clock.
		ran := false
		for _, j := range s.Jobs() {
			if j.Name == "reconcile stale card payments" {
				ran = true
				if n, err := j.Run(ctx, time.Now().Add(2*time.Hour)); err != nil || n != 0 {
					t.Fatalf("reconcile job after settlement: %d %v", n, err)
				}
			}
		}
		if !ran {
			t.Fatal("no job reconciles stale card payments")
		}
	})
}
