package storefront

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// moroccanAddress is a valid shipping address in Tiznit.
func moroccanAddress() Address {
	return Address{Name: "Amina Ait", Line1: "12 rue des Bijoutiers", City: "Tiznit", PostalCode: "85000", Country: "MA", Phone: "06 12 34 56 78"}
}

func (e *env) order(t *testing.T, method OrderPaymentMethod, addr Address, items ...OrderItem) (PlacedOrder, error) {
	t.Helper()
	e.seq++
	return e.svc.PlaceOrder(context.Background(), OrderInput{Items: items, Email: "buyer@example.com", ShippingAddress: addr,
		PaymentMethod: method, AccessToken: fmt.Sprintf("token-%d", e.seq)})
}

func (e *env) countOrderRows(t *testing.T) [3]int64 {
	t.Helper()
	var out [3]int64
	for i, tbl := range []string{"orders", "order_lines", "fulfilments"} {
		if err := e.db.Raw("SELECT COUNT(*) FROM " + tbl).Scan(&out[i]).Error; err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestShippingQuote(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		for _, tc := range []struct {
			country string
			weight  int
			fragile int
			want    ShippingQuote
		}{
			{"MA", 900, 0, ShippingQuote{ZoneMorocco, 3500, "MAD"}},
			{"MA", 1000, 1, ShippingQuote{ZoneMorocco, 3500 + FragilePackingFee, "MAD"}},
			{"FR", 2400, 1, ShippingQuote{ZoneEurope, 38000 + FragilePackingFee, "MAD"}},
			{"US", 12000, 0, ShippingQuote{ZoneWorld, 180000, "MAD"}},
		} {
			got, err := e.svc.QuoteShipping(ctx, tc.country, tc.weight, tc.fragile)
			if err != nil {
				t.Fatalf("%s %d g: %v", tc.country, tc.weight, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s %d g (-want +got):\n%s", tc.country, tc.weight, diff)
			}
		}
		_, err := e.svc.QuoteShipping(ctx, "MA", 40_000, 0)
		wantCode(t, err, errs.Invalid)
		_, err = e.svc.QuoteShipping(ctx, "france", 100, 0)
		if diff := cmp.Diff([]string{"country"}, fieldsOf(err)); diff != "" {
			t.Errorf("bad country fields:\n%s", diff)
		}
	})
}

// Rule 3: every amount is computed on the server, in integers: lines from
// the product prices, one parcel per cooperative, the fragile fee per
// fragile line.
func TestPlaceOrderComputesAmounts(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		pot := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, Stock: 5, Price: ptr(int64(25_000)), WeightG: ptr(1200)})
		ring := e.published(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Bague"}, Craft: "silver-jewellery", Stock: 5,
			Price: ptr(int64(80_000)), WeightG: ptr(50)})
		o, err := e.order(t, PayOnCOD, moroccanAddress(), OrderItem{pot.ID, 2}, OrderItem{ring.ID, 1})
		if err != nil {
			t.Fatal(err)
		}
		wantShip := int64(6500+FragilePackingFee) + 3500 // 2400 g of pottery, 50 g of silver
		if o.Status != OrderConfirmed || o.Subtotal != 130_000 || o.Shipping != wantShip || o.Total != 130_000+wantShip {
			t.Fatalf("order: status %s subtotal %d shipping %d total %d", o.Status, o.Subtotal, o.Shipping, o.Total)
		}
		if len(o.Lines) != 2 || len(o.Fulfilments) != 2 || o.Fulfilments[0].Status != FulfilmentToShip {
			t.Fatalf("lines %+v fulfilments %+v", o.Lines, o.Fulfilments)
		}
		if want := OrderNumber(o.ID, testStart); o.Number != want {
			t.Fatalf("number %q, want %q", o.Number, want)
		}
		if e.stockOf(t, pot.ID) != 3 || e.stockOf(t, ring.ID) != 4 {
			t.Fatalf("stock not taken: %d %d", e.stockOf(t, pot.ID), e.stockOf(t, ring.ID))
		}
	})
}

// Rule 8 and rule 2: a sold-out line fails the whole order, names the
// product, and leaves no row and no stock taken behind.
func TestPlaceOrderSoldOutWritesNothing(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		pot := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, Stock: 5})
		jar := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre unique"}, OneOfAKind: true, Stock: 1})
		if _, err := e.order(t, PayOnCOD, moroccanAddress(), OrderItem{jar.ID, 1}); err != nil {
			t.Fatal(err)
		}
		before := e.countOrderRows(t)
		_, err := e.order(t, PayOnCOD, moroccanAddress(), OrderItem{pot.ID, 2}, OrderItem{jar.ID, 1})
		wantCode(t, err, errs.Conflict)
		if e := errs.As(err); e.Extra["product_id"] != jar.ID {
			t.Fatalf("conflict names %v, want product %d: %v", e.Extra, jar.ID, err)
		}
		if after := e.countOrderRows(t); after != before {
			t.Fatalf("rows %v after a refused order, want %v", after, before)
		}
		if n := e.stockOf(t, pot.ID); n != 5 {
			t.Fatalf("stock of the other line %d, want 5 (nothing half-written)", n)
		}
	})
}

func TestPlaceOrderValidation(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		pot := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, Stock: 5})
		fr := moroccanAddress()
		fr.Country, fr.Phone = "FR", "+33 6 12 34 56 78"
		for _, tc := range []struct {
			name   string
			method OrderPaymentMethod
			addr   Address
			items  []OrderItem
			want   []string
		}{
			{"ErrItemsRequired", PayOnCOD, moroccanAddress(), nil, []string{"items"}},
			{"ErrQuantityZero", PayOnCOD, moroccanAddress(), []OrderItem{{pot.ID, 1}, {pot.ID + 1000, 0}}, []string{"items[1].quantity"}},
			{"ErrUnknownProduct", PayOnCOD, moroccanAddress(), []OrderItem{{pot.ID + 1000, 1}}, []string{"items[0].product_id"}},
			{"ErrCODAbroad", PayOnCOD, fr, []OrderItem{{pot.ID, 1}}, []string{"shipping_address.country", "shipping_address.phone"}},
			{"ErrMethod", "cheque", moroccanAddress(), []OrderItem{{pot.ID, 1}}, []string{"payment_method"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := e.countOrderRows(t)
				_, err := e.order(t, tc.method, tc.addr, tc.items...)
				wantCode(t, err, errs.Invalid)
				if diff := cmp.Diff(tc.want, fieldsOf(err)); diff != "" {
					t.Errorf("fields (-want +got):\n%s", diff)
				}
				if after := e.countOrderRows(t); after != before {
					t.Fatalf("rows changed: %v → %v", before, after)
				}
			})
		}
		if n := e.stockOf(t, pot.ID); n != 5 {
			t.Fatalf("stock %d after refused orders, want 5", n)
		}
	})
}

// Rule 2: stock taken by an unpaid card order comes back when it expires,
// once, however many sweepers run at the same moment; a late payment is
// reported lost.
func TestExpireOrdersReturnsStockOnce(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, Stock: 3})
		o, err := e.order(t, PayByCard, moroccanAddress(), OrderItem{pot.ID, 2})
		if err != nil {
			t.Fatal(err)
		}
		if o.Status != OrderPendingPayment || o.ExpiresAt == nil {
			t.Fatalf("card order %+v", o.Order)
		}
		if n, err := e.svc.ExpireOrders(ctx, e.clock.Now()); err != nil || n != 0 {
			t.Fatalf("expired %d (%v) before its time", n, err)
		}
		later := e.clock.Now().Add(CardOrderTTL + time.Second)
		var wg sync.WaitGroup
		counts := make([]int, 8)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := e.svc.ExpireOrders(ctx, later)
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		total := 0
		for _, n := range counts {
			total += n
		}
		if total != 1 {
			t.Fatalf("%d expiries of one order", total)
		}
		if n := e.stockOf(t, pot.ID); n != 3 {
			t.Fatalf("stock %d after expiry, want 3", n)
		}
		var lost bool
		if err := e.db.Transact(ctx, func(tx *gorm.DB) error {
			lost, err = e.svc.MarkOrderPaidTx(ctx, tx, o.ID)
			return err
		}); err != nil || !lost {
			t.Fatalf("late payment: lost=%v err=%v, want lost", lost, err)
		}
		got, err := e.svc.FindOrder(ctx, o.ID)
		if err != nil || got.Status != OrderExpired || got.Fulfilments[0].Status != FulfilmentCancelled {
			t.Fatalf("after expiry: %+v %v", got, err)
		}
	})
}

func TestCancelAndShip(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, Stock: 3})
		o, err := e.order(t, PayOnCOD, moroccanAddress(), OrderItem{pot.ID, 1})
		if err != nil {
			t.Fatal(err)
		}
		fid := o.Fulfilments[0].ID
		_, err = e.svc.ShipFulfilment(ctx, e.otherManager, fid, "Amana", "RR123")
		wantCode(t, err, errs.Forbidden)
		_, err = e.svc.ShipFulfilment(ctx, e.member, fid, "", "")
		if diff := cmp.Diff([]string{"carrier", "tracking_number"}, fieldsOf(err)); diff != "" {
			t.Fatalf("fields:\n%s", diff)
		}
		f, err := e.svc.ShipFulfilment(ctx, e.member, fid, "Amana", "RR123456789MA")
		if err != nil || f.Status != FulfilmentShipped || f.TrackingNumber != "RR123456789MA" {
			t.Fatalf("ship: %+v %v", f, err)
		}
		_, _, err = e.svc.CancelOrder(ctx, o.ID)
		wantCode(t, err, errs.Conflict)

		o2, err := e.order(t, PayOnCOD, moroccanAddress(), OrderItem{pot.ID, 2})
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := e.svc.CancelOrder(ctx, o2.ID)
		if err != nil || c.Status != OrderCancelled {
			t.Fatalf("cancel: %+v %v", c, err)
		}
		if n := e.stockOf(t, pot.ID); n != 2 {
			t.Fatalf("stock %d after cancel, want 2", n)
		}
		_, _, err = e.svc.CancelOrder(ctx, o2.ID)
		wantCode(t, err, errs.Conflict)
		items, total, err := e.svc.ListCooperativeFulfilments(ctx, e.coop, 1, 10)
		if err != nil || total != 2 || len(items) != 2 || items[0].OrderNumber != o2.Number {
			t.Fatalf("cooperative list: %d %+v %v", total, items, err)
		}
	})
}

func TestIdempotentOrder(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, Stock: 3})
		in := OrderInput{Items: []OrderItem{{pot.ID, 1}}, Email: "guest@example.com", ShippingAddress: moroccanAddress(),
			PaymentMethod: PayOnCOD, AccessToken: "secret-1", IdempotencyKey: "k-1"}
		a, err := e.svc.PlaceOrder(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.svc.PlaceOrder(ctx, in)
		if err != nil || b.ID != a.ID || !b.Replayed {
			t.Fatalf("replay: %+v %v, want order %d replayed", b.Order, err, a.ID)
		}
		if n := e.stockOf(t, pot.ID); n != 2 {
			t.Fatalf("stock %d, want 2: a replay reserved again", n)
		}
		if !a.TokenOpens("secret-1") || a.TokenOpens("secret-2") {
			t.Fatal("access token check")
		}
	})
}
