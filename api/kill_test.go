package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
)

// A `souk serve` process killed with SIGKILL in the middle of checkouts
// (issue "reliability"): a transaction it had open leaves nothing (stock
// is exact at once), every order it acknowledged is kept, a card checkout
// paid while its webhook was lost becomes paid through the reconciliation
// the surviving process runs, and the rest expire and give their stock
// back. Nothing is reserved forever, no payment goes unrecorded.
func TestKilledServerDuringCheckouts(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a souk process (short mode)")
	}
	dbURL := dbtest.URL(t, database.MySQL)
	cfg := testserver.Config(t, testserver.Options{DatabaseURL: dbURL, Stripe: true})
	front := newStripeFront(t, cfg.StripeAPIURL)
	cfg.StripeAPIURL = front.URL
	victim := testserver.StartProcess(t, cfg)
	survivor := testserver.StartProcess(t, cfg)
	s := testserver.StartConfig(t, cfg, nil) // builds the scene and runs the jobs on its own clock
	sc := newOrderScene(t, s)
	const initial = 100_000
	if err := s.DB.Exec("UPDATE products SET stock = ? WHERE id = ?", initial, sc.pots.ID).Error; err != nil {
		t.Fatal(err)
	}

	var attempts atomic.Int64
	var mu sync.Mutex
	acknowledged := map[int64]string{} // order id → payment method
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				method, country := "card", "FR"
				if (w+i)%3 == 0 {
					method, country = "cod", "MA"
				}
				attempts.Add(1)
				st, b := httpCallWith(client, "POST", victim.URL+"/api/v1/orders", orderBody(sc.pots.ID, 1, country, method),
					map[string]string{"Idempotency-Key": fmt.Sprintf("kill-%d-%d", w, i)})
				if st == 0 {
					return // the victim is gone
				}
				if st == 201 {
					o, _ := b["order"].(map[string]any)
					id, _ := o["id"].(float64)
					mu.Lock()
					acknowledged[int64(id)] = method
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	victim.Kill()
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(acknowledged) == 0 {
		t.Fatal("no order was placed before the kill: the test proves nothing")
	}

	held := func() (stock, live int64) {
		t.Helper()
		if err := s.DB.Raw("SELECT stock FROM products WHERE id = ?", sc.pots.ID).Scan(&stock).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Raw(`SELECT COALESCE(SUM(l.from_stock), 0) FROM order_lines l JOIN orders o ON o.id = l.order_id
			WHERE l.product_id = ? AND o.status NOT IN ('cancelled', 'expired')`, sc.pots.ID).Scan(&live).Error; err != nil {
			t.Fatal(err)
		}
		return stock, live
	}
	var violations int64
	stock, live := held()
	if stock+live != initial {
		violations++
		t.Errorf("right after the kill: stock %d + held by live orders %d != %d", stock, live, initial)
	}
	lost := 0
	for id := range acknowledged {
		var n int64
		if err := s.DB.Raw("SELECT COUNT(*) FROM orders WHERE id = ?", id).Scan(&n).Error; err != nil || n != 1 {
			lost++
		}
	}
	if lost > 0 {
		violations += int64(lost)
		t.Errorf("%d acknowledged orders are gone", lost)
	}

	// Buyers paid half of the open card checkouts; their webhooks were
	// lost with the victim. The survivor's reconciliation (run here at
	// the job's own terms) heals them; the expiry job returns the rest.
	var pending []payment.Payment
	if err := s.DB.Where("method = ? AND status = ?", payment.MethodCard, payment.PaymentPending).Order("id").Find(&pending).Error; err != nil {
		t.Fatal(err)
	}
	paid := map[string]bool{}
	for i, p := range pending {
		if i%2 == 0 && p.ProviderRef != nil {
			front.set(*p.ProviderRef, frontSession{status: "complete", paymentStatus: "paid", intent: fmt.Sprintf("pi_kill_%d", p.ID)})
			paid[p.Reference] = true
		}
	}
	ctx := context.Background()
	if _, err := s.API.ReconcilePayments(ctx, time.Now().Add(time.Hour), 1000); err != nil {
		t.Fatalf("reconcile: %v", err)
	}
	if _, err := s.Catalog.ExpireOrders(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("expire: %v", err)
	}
	unrecorded := 0
	for ref := range paid {
		var st string
		if err := s.DB.Raw("SELECT status FROM orders WHERE id = ?", ref).Scan(&st).Error; err != nil || st != "paid" {
			unrecorded++
			t.Errorf("order %s was paid at Stripe but is %q", ref, st)
		}
	}
	violations += int64(unrecorded)
	var stuck int64
	if err := s.DB.Raw("SELECT COUNT(*) FROM orders WHERE status = 'pending_payment'").Scan(&stuck).Error; err != nil {
		t.Fatal(err)
	}
	if stuck > 0 {
		violations += stuck
		t.Errorf("%d orders still hold stock pending payment after their expiry", stuck)
	}
	stock, live = held()
	if stock+live != initial {
		violations++
		t.Errorf("after reconciliation and expiry: stock %d + held %d != %d", stock, live, initial)
	}
	// The survivor kept serving throughout.
	if st, b := httpCall(t, "POST", survivor.URL+"/api/v1/orders", "", orderBody(sc.pots.ID, 1, "MA", "cod"), nil); st != 201 {
		violations++
		t.Errorf("the surviving process: %d %v", st, b)
	}
	testenv.Report(t, "kill -9: a server killed during checkouts (stock leaks, lost orders, unrecorded payments)", attempts.Load(), violations)
	t.Logf("%d requests, %d orders acknowledged before the kill, %d card checkouts paid and reconciled", attempts.Load(), len(acknowledged), len(paid))
}

// httpCallWith sends a JSON request with client and reads a JSON answer; a
// transport error (a killed server) is status 0, not a test failure.
func httpCallWith(client *http.Client, method, url string, body any, hdr map[string]string) (int, map[string]any) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, url, bytes.NewReader(b))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
