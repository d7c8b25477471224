package api_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
)

// Rule 2 across processes, as the orders issue accepts it: 50 buyers check
// out the same one-of-a-kind piece at once through two `souk serve`
// processes on one MariaDB (card, stripe-mock). Exactly one order holds
// it; the others get 409 naming the piece; once that order's checkout
// expires the piece is buyable again, through either process.
func TestOneOfAKindSoldOnceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two souk processes (short mode)")
	}
	dbURL := dbtest.URL(t, database.MySQL)
	cfg := testserver.Config(t, testserver.Options{DatabaseURL: dbURL, Stripe: true})
	procs := []*testserver.Process{testserver.StartProcess(t, cfg), testserver.StartProcess(t, cfg)}
	// A third server on the same database, in this process, builds the
	// scene and takes the webhook.
	s := testserver.StartConfig(t, cfg, nil)
	sc := newOrderScene(t, s)

	const buyers = 50
	statuses := make([]int, buyers)
	bodies := make([]map[string]any, buyers)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			statuses[i], bodies[i] = httpCall(t, "POST", procs[i%2].URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "FR", "card"),
				map[string]string{"Idempotency-Key": fmt.Sprintf("process-buyer-%d", i)})
		}()
	}
	close(gate)
	wg.Wait()
	won, winner := 0, -1
	for i, st := range statuses {
		switch st {
		case 201:
			won, winner = won+1, i
		case 409:
			if d, _ := bodies[i]["detail"].(string); !strings.Contains(d, "Jarre à huile d'Anzi") {
				t.Errorf("409 does not name the piece: %v", bodies[i])
			}
		default:
			t.Errorf("buyer %d: %d %v", i, st, bodies[i])
		}
	}
	testenv.Report(t, "stock: one piece, 50 buyers over 2 processes (MariaDB)", buyers, int64(max(won-1, 0)))
	if won != 1 {
		t.Fatalf("%d buyers got the piece over two processes, want exactly 1", won)
	}
	if n := stockOf(t, s, sc.jar.ID); n != 0 {
		t.Fatalf("stock %d after the sale", n)
	}
	if rows := orderRows(t, s); rows != [4]int64{1, 1, 1, 1} {
		t.Fatalf("rows (orders, lines, fulfilments, payments) %v, want one of each", rows)
	}
	if b := bodies[winner]; b["checkout_url"] == nil || b["checkout_url"] == "" {
		t.Fatalf("the winner has no checkout: %v", b)
	}
	id, _ := orderOf(t, bodies[winner])
	pays := orderPayment(t, s, id)
	deliver(t, s, paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutExpired, Purpose: payment.PurposeOrder,
		Reference: fmt.Sprint(id), SessionID: *pays[0].ProviderRef, Amount: pays[0].Amount})
	if n := stockOf(t, s, sc.jar.ID); n != 1 {
		t.Fatalf("stock %d after the checkout expired, want 1", n)
	}
	for i, p := range procs {
		st, b := httpCall(t, "POST", p.URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "FR", "card"),
			map[string]string{"Idempotency-Key": fmt.Sprintf("after-expiry-%d", i)})
		want := 201
		if i == 1 {
			want = 409 // the first process sold it again
		}
		if st != want {
			t.Fatalf("buy again through process %d: %d %v, want %d", i, st, b, want)
		}
	}
}
