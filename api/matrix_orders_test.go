package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/souk-tiznit/souk/storefront"
)

// The orders' rows of the roles × routes matrix (rule 5): a buyer reads and
// cancels only their own orders (a guest through the secret link), a
// cooperative's members see and ship only its parcels, and anyone may
// order and ask for a shipping quote. An order someone may not see does
// not exist for them (404).

// orderFixtures are the orders the rows run against.
type orderFixtures struct {
	product    storefront.Product // A's, plenty of stock
	buyerOrder storefront.Order   // the buyer's cash-on-delivery order
	guestOrder storefront.Order   // a guest's, opened by guestToken
	guestToken string
}

func orderWorld(w *matrixWorld) *orderFixtures { return w.Extra["orders"].(*orderFixtures) }

func matrixAddress() storefront.Address {
	return storefront.Address{Name: "Amina", Line1: "12 rue des Bijoutiers", City: "Tiznit", PostalCode: "85000", Country: "MA", Phone: "0612345678"}
}

// newOrder places a cash-on-delivery order of A's product for buyerID (0:
// a guest with token).
func (w *matrixWorld) newOrder(t *testing.T, buyerID int64, token string) storefront.Order {
	t.Helper()
	in := storefront.OrderInput{Items: []storefront.OrderItem{{ProductID: orderWorld(w).product.ID, Quantity: 1}},
		Email: "someone@souk.test", ShippingAddress: matrixAddress(), PaymentMethod: storefront.PayOnCOD, AccessToken: token}
	if buyerID != 0 {
		in.BuyerID = &buyerID
	}
	o, err := w.env.Catalog.PlaceOrder(context.Background(), in)
	if err != nil {
		t.Fatalf("place order: %v", err)
	}
	return o.Order
}

func init() {
	matrixSetups = append(matrixSetups, func(t *testing.T, w *matrixWorld) {
		f := &orderFixtures{product: w.newPublished(t, w.A.ID), guestToken: "matrix-guest-token"}
		if err := w.env.DB.Exec("UPDATE products SET stock = 1000 WHERE id = ?", f.product.ID).Error; err != nil {
			t.Fatal(err)
		}
		w.Extra["orders"] = f
		f.buyerOrder = w.newOrder(t, w.callers[asBuyer].User.ID, "")
		f.guestOrder = w.newOrder(t, 0, f.guestToken)
	})

	ownerOnly := expect{404, 200, 404, 404, 404, 404, 200}
	matrixCases = append(matrixCases,
		matrixCase{Route: "GET /api/v1/shipping/quote", Want: everyone(200), Request: pathOnly("/api/v1/shipping/quote?country=FR&weight_g=2400&fragile=1")},
		matrixCase{Route: "POST /api/v1/orders", Want: everyone(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				a := matrixAddress()
				return matrixRequest{Path: "/api/v1/orders", Body: map[string]any{
					"items": []map[string]any{{"product_id": orderWorld(w).product.ID, "quantity": 1}}, "email": "someone@souk.test",
					"shipping_address": a, "payment_method": "cod"}}
			}},
		matrixCase{Route: "GET /api/v1/orders/:id", Name: "the buyer's", Want: ownerOnly,
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/orders/%d", orderWorld(w).buyerOrder.ID)}
			}},
		matrixCase{Route: "GET /api/v1/orders/:id", Name: "a guest's, with its token", Want: everyone(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				f := orderWorld(w)
				return matrixRequest{Path: fmt.Sprintf("/api/v1/orders/%d?token=%s", f.guestOrder.ID, f.guestToken)}
			}},
		matrixCase{Route: "GET /api/v1/orders/:id", Name: "a guest's, without its token", Want: expect{404, 404, 404, 404, 404, 404, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/orders/%d", orderWorld(w).guestOrder.ID)}
			}},
		matrixCase{Route: "POST /api/v1/orders/:id/cancel", Name: "the buyer's", Want: ownerOnly,
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/orders/%d/cancel", w.newOrder(t, w.callers[asBuyer].User.ID, "").ID)}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/orders", Name: "A", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/orders", w.A.ID)}
			}},
		matrixCase{Route: "POST /api/v1/fulfilments/:id/ship", Name: "a parcel of A", Want: expect{401, 403, 403, 200, 200, 403, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				o := w.newOrder(t, w.callers[asBuyer].User.ID, "")
				return matrixRequest{Path: fmt.Sprintf("/api/v1/fulfilments/%d/ship", o.Fulfilments[0].ID),
					Body: map[string]string{"carrier": "Amana", "tracking_number": "RR123456789MA"}}
			}},
	)
}
