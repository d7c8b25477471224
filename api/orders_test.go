package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
	"github.com/souk-tiznit/souk/storefront"
)

// orderScene is a verified cooperative with published products, made
// directly in a server's database, and a signed-in buyer.
type orderScene struct {
	coop       account.Cooperative
	jar        storefront.Product // one of a kind, stock 1, fragile pottery
	pots       storefront.Product // stock 20
	buyerToken string
	otherToken string
}

func newOrderScene(t *testing.T, s *testserver.Server) orderScene {
	t.Helper()
	ctx := context.Background()
	acc := s.Accounts
	if _, err := acc.CreateAdmin(ctx, "admin@orders.test", "Admin", testPassword); err != nil {
		t.Fatal(err)
	}
	login := func(email string) (string, *account.Principal) {
		_, sess, err := acc.Login(ctx, account.Credentials{Email: email, Password: testPassword})
		if err != nil {
			t.Fatal(err)
		}
		p, err := acc.Authenticate(ctx, sess.Token)
		if err != nil {
			t.Fatal(err)
		}
		return sess.Token, p
	}
	_, admin := login("admin@orders.test")
	var sc orderScene
	for _, email := range []string{"manager@anzi.test", "buyer@orders.test", "other@orders.test"} {
		role := "buyer"
		if strings.HasPrefix(email, "manager") {
			role = "cooperative"
		}
		if _, _, err := acc.Register(ctx, account.Registration{Email: email, Password: testPassword, Name: "Person", Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	_, manager := login("manager@anzi.test")
	sc.buyerToken, _ = login("buyer@orders.test")
	sc.otherToken, _ = login("other@orders.test")
	coop, err := acc.CreateCooperative(ctx, manager, account.CooperativeInput{Name: "Coopérative des potières d'Anzi", Commune: "Anzi", Crafts: []string{"pottery"}})
	if err != nil {
		t.Fatal(err)
	}
	if coop, err = acc.SetCooperativeStatus(ctx, admin, coop.ID, account.StatusVerified); err != nil {
		t.Fatal(err)
	}
	sc.coop = coop
	publish := func(title string, stock int, oneOfAKind bool) storefront.Product {
		price, weight := int64(45_000), 2400
		p, err := s.Catalog.CreateProduct(ctx, admin, coop.ID, storefront.ProductInput{Title: map[string]string{"fr": title},
			Craft: "pottery", Price: &price, WeightG: &weight, Stock: stock, OneOfAKind: oneOfAKind})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Catalog.AddPhoto(ctx, admin, p.ID, fakePhoto(title)); err != nil {
			t.Fatal(err)
		}
		if p, err = s.Catalog.PublishProduct(ctx, admin, p.ID); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sc.jar = publish("Jarre à huile d'Anzi", 1, true)
	sc.pots = publish("Tajine de Tighmi", 20, false)
	return sc
}

func orderBody(productID int64, qty int, country, method string) map[string]any {
	phone := "06 12 34 56 78"
	if country != "MA" {
		phone = "+33 6 12 34 56 78"
	}
	return map[string]any{
		"items": []map[string]any{{"product_id": productID, "quantity": qty}},
		"email": "guest@example.com",
		"shipping_address": map[string]any{"name": "Claire Martin", "line1": "3 rue des Lilas", "city": "Lyon",
			"postal_code": "69001", "country": country, "phone": phone},
		"payment_method": method,
	}
}

func stockOf(t *testing.T, s *testserver.Server, id int64) int {
	t.Helper()
	var n int
	if err := s.DB.Raw("SELECT stock FROM products WHERE id = ?", id).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func orderRows(t *testing.T, s *testserver.Server) [4]int64 {
	t.Helper()
	var out [4]int64
	for i, tbl := range []string{"orders", "order_lines", "fulfilments", "payments"} {
		if err := s.DB.Raw("SELECT COUNT(*) FROM " + tbl).Scan(&out[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func deliver(t *testing.T, s *testserver.Server, spec paymenttest.Spec) {
	t.Helper()
	resp, err := http.DefaultClient.Do(paymenttest.NewWebhookRequest(t, s.URL+"/api/v1/payments/stripe/webhook", s.Config.StripeWebhookSecret, spec))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("webhook %s answered %d", spec.Type, resp.StatusCode)
	}
}

func orderPayment(t *testing.T, s *testserver.Server, id int64) []payment.Payment {
	t.Helper()
	ps, err := payment.NewStore(s.DB).ListPayments(context.Background(), nil, payment.PurposeOrder, fmt.Sprint(id))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func orderOf(t *testing.T, b map[string]any) (int64, map[string]any) {
	t.Helper()
	o, ok := b["order"].(map[string]any)
	if !ok {
		t.Fatalf("no order in %v", b)
	}
	return int64(o["id"].(float64)), o
}

// Rule 2 over HTTP on MariaDB: 50 buyers check out the same one-of-a-kind
// piece at once; exactly one order is placed, the others get 409 naming the
// piece. When that order's checkout expires (webhook) the piece is
// buyable again; when the next one lapses (the expiry job), again.
func TestOneOfAKindSoldOnceOverHTTP(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Dialect: "mysql", Stripe: true})
	sc := newOrderScene(t, s)
	const buyers = 50
	statuses := make([]int, buyers)
	bodies := make([]map[string]any, buyers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], bodies[i] = httpCall(t, "POST", s.URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "FR", "card"),
				map[string]string{"Idempotency-Key": fmt.Sprintf("buyer-%d", i)})
		}()
	}
	began := time.Now()
	close(start)
	wg.Wait()
	t.Logf("%d concurrent checkouts of one piece answered in %v", buyers, time.Since(began))
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
	if won != 1 {
		t.Fatalf("%d buyers got the piece, want exactly 1", won)
	}
	if n := stockOf(t, s, sc.jar.ID); n != 0 {
		t.Fatalf("stock %d after the sale", n)
	}
	if rows := orderRows(t, s); rows[0] != 1 || rows[1] != 1 || rows[3] != 1 {
		t.Fatalf("rows (orders, lines, fulfilments, payments) %v, want one order", rows)
	}
	id, _ := orderOf(t, bodies[winner])
	pays := orderPayment(t, s, id)
	deliver(t, s, paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutExpired, Purpose: payment.PurposeOrder,
		Reference: fmt.Sprint(id), SessionID: *pays[0].ProviderRef, Amount: pays[0].Amount})
	if _, o := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d?token=%s", s.URL, id, bodies[winner]["access_token"]), "", nil, nil); o["status"] != "expired" {
		t.Fatalf("after the expired webhook: %v", o)
	}
	if n := stockOf(t, s, sc.jar.ID); n != 1 {
		t.Fatalf("stock %d after the checkout expired, want 1", n)
	}
	st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.jar.ID, 1, "FR", "card"), nil)
	if st != 201 {
		t.Fatalf("buy again after expiry: %d %v", st, b)
	}
	// The background job every instance runs, at a time past the expiry.
	ran := false
	for _, j := range s.Jobs() {
		if j.Name != "expire unpaid orders" {
			continue
		}
		ran = true
		n, err := j.Run(context.Background(), time.Now().Add(25*time.Hour))
		if err != nil || n != 1 || stockOf(t, s, sc.jar.ID) != 1 {
			t.Fatalf("expiry job: %d %v, stock %d", n, err, stockOf(t, s, sc.jar.ID))
		}
	}
	if !ran {
		t.Fatal("no job expires unpaid orders")
	}
}

func TestCODOrder(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := testserver.Start(t, testserver.Options{Dialect: dialect})
		sc := newOrderScene(t, s)

		st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", "", orderBody(sc.pots.ID, 2, "MA", "cod"), nil)
		if st != 201 {
			t.Fatalf("cod order: %d %v", st, b)
		}
		id, o := orderOf(t, b)
		token, _ := b["access_token"].(string)
		// 2 × 450 MAD; 4800 g of pottery to Morocco: 65 MAD + 20 MAD packing.
		if o["status"] != "confirmed" || o["subtotal"] != 90000.0 || o["shipping"] != 8500.0 || o["total"] != 98500.0 ||
			!strings.HasPrefix(o["number"].(string), "SOUK-") || token == "" || b["checkout_url"] != nil {
			t.Fatalf("cod answer: %v", b)
		}
		if n := stockOf(t, s, sc.pots.ID); n != 18 {
			t.Fatalf("stock %d, want 18", n)
		}
		if st, _ := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d?token=%s", s.URL, id, token), "", nil, nil); st != 200 {
			t.Fatalf("guest with token: %d", st)
		}
		for _, who := range []struct{ token, query string }{{"", ""}, {"", "?token=wrong"}, {sc.otherToken, ""}} {
			if st, _ := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d%s", s.URL, id, who.query), who.token, nil, nil); st != 404 {
				t.Fatalf("stranger sees the order: %d", st)
			}
		}
		// A signed-in buyer's order is theirs without a token.
		st, b = httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 1, "MA", "cod"), nil)
		if st != 201 || b["access_token"] != nil {
			t.Fatalf("buyer order: %d %v", st, b)
		}
		mine, _ := orderOf(t, b)
		if st, _ := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d", s.URL, mine), sc.buyerToken, nil, nil); st != 200 {
			t.Fatalf("buyer reads own order: %d", st)
		}
		// Cancel gives the stock back.
		if st, b := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/cancel", s.URL, mine), sc.buyerToken, nil, nil); st != 200 {
			t.Fatalf("cancel: %d %v", st, b)
		}
		if n := stockOf(t, s, sc.pots.ID); n != 18 {
			t.Fatalf("stock %d after cancel, want 18", n)
		}
		// Quote answers what the order charged.
		if st, q := httpCall(t, "GET", s.URL+"/api/v1/shipping/quote?country=FR&weight_g=2400&fragile=1", "", nil, nil); st != 200 ||
			q["zone"] != "EU" || q["amount"] != 40000.0 || q["currency"] != "MAD" {
			t.Fatalf("quote: %d %v", st, q)
		}
		if st, q := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/shipping/quote?country=MA&items=%d:2", s.URL, sc.pots.ID), "", nil, nil); st != 200 ||
			q["amount"] != 8500.0 {
			t.Fatalf("quote of items: %d %v", st, q)
		}

		// Rule 8: bad input gets a problem naming the field and changes nothing.
		before, stock := orderRows(t, s), stockOf(t, s, sc.pots.ID)
		noItems := orderBody(sc.pots.ID, 1, "MA", "cod")
		noItems["items"] = []any{}
		badEmail := orderBody(sc.pots.ID, 1, "MA", "cod")
		badEmail["email"] = "not an address"
		for _, tc := range []struct {
			name  string
			body  map[string]any
			want  int
			field string
		}{
			{"ErrCODAbroad", orderBody(sc.pots.ID, 1, "FR", "cod"), 422, "shipping_address.country"},
			{"ErrNoItems", noItems, 422, "items"},
			{"ErrQuantityZero", orderBody(sc.pots.ID, 0, "MA", "cod"), 422, "items[0].quantity"},
			{"ErrUnknownProduct", orderBody(sc.pots.ID+999, 1, "MA", "cod"), 422, "items[0].product_id"},
			{"ErrBadEmail", badEmail, 422, "email"},
			{"ErrCardOff", orderBody(sc.pots.ID, 1, "MA", "card"), 422, "payment_method"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := postOrderRaw(t, s.URL+"/api/v1/orders", tc.body)
				if r.status != tc.want || !strings.HasPrefix(r.contentType, "application/problem+json") || !strings.Contains(r.body, `"`+tc.field+`"`) {
					t.Fatalf("%d %s %s, want %d naming %s", r.status, r.contentType, r.body, tc.want, tc.field)
				}
			})
		}
		if after := orderRows(t, s); after != before || stockOf(t, s, sc.pots.ID) != stock {
			t.Fatalf("bad input changed rows %v → %v or stock", before, after)
		}
	})
}

type rawReply struct {
	status      int
	contentType string
	body        string
}

// postOrderRaw posts body anonymously and returns the raw answer.
func postOrderRaw(t *testing.T, url string, body map[string]any) rawReply {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return rawReply{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"), body: string(raw)}
}

// Rule 4 for orders: a card order answers a checkout URL; the same
// Idempotency-Key gives the same order and one payment; the signed
// completed webhook delivered three times makes it paid once; an expiry
// arriving after the payment changes nothing.
func TestCardOrderPaidByWebhookOnce(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newOrderScene(t, s)
	hdr := map[string]string{"Idempotency-Key": "order-card-1"}
	st, a := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.jar.ID, 1, "FR", "card"), hdr)
	if st != 201 || a["checkout_url"] == nil {
		t.Fatalf("card order: %d %v", st, a)
	}
	id, o := orderOf(t, a)
	if o["status"] != "pending_payment" {
		t.Fatalf("status %v", o["status"])
	}
	st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.jar.ID, 1, "FR", "card"), hdr)
	if st != 201 {
		t.Fatalf("replay: %d %v", st, b)
	}
	if again, _ := orderOf(t, b); again != id {
		t.Fatalf("replay gave order %d, want %d", again, id)
	}
	pays := orderPayment(t, s, id)
	if len(pays) != 1 || pays[0].Status != payment.PaymentPending || pays[0].ProviderRef == nil {
		t.Fatalf("payments %+v, want one pending", pays)
	}
	total := int64(o["total"].(float64))
	spec := paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeOrder,
		Reference: fmt.Sprint(id), SessionID: *pays[0].ProviderRef, PaymentIntentID: paymenttest.NewID("pi"), Amount: total}
	// A declined card before the completion names a payment intent Souk
	// does not know yet: acknowledged (Stripe would retry a 404 for days),
	// nothing changes.
	declined := paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventPaymentFailed,
		PaymentIntentID: paymenttest.NewID("pi"), Amount: total, FailureMessage: "Your card was declined."}
	deliver(t, s, declined)
	if p := orderPayment(t, s, id); len(p) != 1 || p[0].Status != payment.PaymentPending {
		t.Fatalf("after a declined attempt: %+v, want the payment still pending", p)
	}
	for range 3 {
		deliver(t, s, spec)
	}
	_, got := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d", s.URL, id), sc.buyerToken, nil, nil)
	if got["status"] != "paid" {
		t.Fatalf("after the webhook: %v", got)
	}
	var events int64
	s.DB.Raw("SELECT COUNT(*) FROM payment_events").Scan(&events)
	if events != 1 {
		t.Fatalf("%d events recorded for three deliveries of one", events)
	}
	deliver(t, s, paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutExpired, Purpose: payment.PurposeOrder,
		Reference: fmt.Sprint(id), SessionID: *pays[0].ProviderRef, Amount: total})
	_, got = httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d", s.URL, id), sc.buyerToken, nil, nil)
	if got["status"] != "paid" || stockOf(t, s, sc.jar.ID) != 0 {
		t.Fatalf("a late expiry changed a paid order: %v, stock %d", got, stockOf(t, s, sc.jar.ID))
	}
	// Cancelling before shipment refunds the card in full and returns the piece.
	st, c := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/cancel", s.URL, id), sc.buyerToken, nil, nil)
	if st != 200 || c["refund"] == 0.0 || stockOf(t, s, sc.jar.ID) != 1 {
		t.Fatalf("cancel a paid order: %d %v, stock %d", st, c, stockOf(t, s, sc.jar.ID))
	}
}

// Rule 8: Stripe unreachable answers 503, keeps no order and gives the
// stock back.
func TestCardOrderStripeUnreachable(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true, Configure: func(c *config.Config) {
		c.StripeAPIURL = "http://127.0.0.1:1"
	}})
	sc := newOrderScene(t, s)
	before := orderRows(t, s)
	st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "FR", "card"), map[string]string{"Idempotency-Key": "down-1"})
	if st != 503 {
		t.Fatalf("stripe down: %d %v", st, b)
	}
	if after := orderRows(t, s); after != before || stockOf(t, s, sc.jar.ID) != 1 {
		t.Fatalf("rows %v → %v, stock %d: half-written", before, after, stockOf(t, s, sc.jar.ID))
	}
}

// A guest repeating a card order with its Idempotency-Key gets the same
// order, one payment and a fresh link; cancelling the unpaid order closes
// its checkout, returns the piece and cancels the payment.
func TestGuestCardOrderReplayAndCancel(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newOrderScene(t, s)
	hdr := map[string]string{"Idempotency-Key": "guest-card-1"}
	st, a := httpCall(t, "POST", s.URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "FR", "card"), hdr)
	if st != 201 || a["access_token"] == nil || a["checkout_url"] == nil {
		t.Fatalf("guest card order: %d %v", st, a)
	}
	id, _ := orderOf(t, a)
	st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "FR", "card"), hdr)
	if again, _ := orderOf(t, b); st != 201 || again != id {
		t.Fatalf("replay: %d %v", st, b)
	}
	token := b["access_token"].(string)
	if rows := orderRows(t, s); rows[0] != 1 || rows[3] != 1 {
		t.Fatalf("rows %v after a replay, want one order and one payment", rows)
	}
	if st, _ := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d?token=%s", s.URL, id, token), "", nil, nil); st != 200 {
		t.Fatalf("fresh token: %d", st)
	}
	st, c := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/cancel?token=%s", s.URL, id, token), "", nil, nil)
	if st != 200 || stockOf(t, s, sc.jar.ID) != 1 {
		t.Fatalf("cancel: %d %v, stock %d", st, c, stockOf(t, s, sc.jar.ID))
	}
	if o := c["order"].(map[string]any); o["status"] != "cancelled" {
		t.Fatalf("status %v", o["status"])
	}
	if pays := orderPayment(t, s, id); pays[0].Status != payment.PaymentCancelled {
		t.Fatalf("payment %s after cancel, want cancelled", pays[0].Status)
	}
	if st, _ := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/cancel?token=%s", s.URL, id, token), "", nil, nil); st != 409 {
		t.Fatalf("cancel twice: %d, want 409", st)
	}
}
