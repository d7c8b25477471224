package api_test

import (
	"context"
	"fmt"
	"math/big"
	"testing"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/storefront"
)

// The ledger's rows of the roles × routes matrix (rule 5): a cooperative's
// members (and administrators) record its deliveries and read its ledger
// and statements; only administrators record payouts and refunds and read
// the sales report.

// testRIB returns a valid 24-digit RIB for an account number of 16 digits:
// the key is 97 − (first 22 digits · 100 mod 97).
func testRIB(account string) string {
	d := "011" + "519" + account
	n, _ := new(big.Int).SetString(d+"00", 10)
	key := 97 - new(big.Int).Mod(n, big.NewInt(97)).Int64()
	return fmt.Sprintf("%s%02d", d, key)
}

// shippedParcel places a cash-on-delivery order of A's product for the
// buyer and ships its parcel.
func (w *matrixWorld) shippedParcel(t *testing.T) storefront.Fulfilment {
	t.Helper()
	o := w.newOrder(t, w.callers[asBuyer].User.ID, "")
	f, err := w.env.Catalog.ShipFulfilment(context.Background(), w.admin(), o.Fulfilments[0].ID, "Amana", "RR123456789MA")
	if err != nil {
		t.Fatalf("ship: %v", err)
	}
	return f.Fulfilment
}

// deliveredParcel is a shipped parcel, delivered: paid in cash.
func (w *matrixWorld) deliveredParcel(t *testing.T) storefront.Fulfilment {
	t.Helper()
	f := w.shippedParcel(t)
	if _, err := w.env.Catalog.DeliverFulfilment(context.Background(), w.admin(), f.ID, nil); err != nil {
		t.Fatalf("deliver: %v", err)
	}
	return f
}

// payable gives A a RIB and a balance to pay out from, once. It runs from
// a case, not a setup: the orders' fixtures it builds on are set up by
// matrix_orders_test.go, whose init runs after this file's.
func (w *matrixWorld) payable(t *testing.T) {
	t.Helper()
	if w.Extra["ledger"] != nil {
		return
	}
	rib := testRIB("0000012050005349")
	if _, err := w.env.Accounts.UpdateCooperative(context.Background(), w.callers[asManagerA].P, w.A.ID, account.CooperativePatch{RIB: &rib}); err != nil {
		t.Fatalf("set A's RIB: %v", err)
	}
	w.deliveredParcel(t)
	w.Extra["ledger"] = true
}

func init() {
	matrixCases = append(matrixCases,
		matrixCase{Route: "POST /api/v1/fulfilments/:id/deliver", Name: "a shipped parcel of A", Want: expect{401, 403, 403, 200, 200, 403, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/fulfilments/%d/deliver", w.shippedParcel(t).ID)}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/ledger", Name: "A", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/ledger", w.A.ID)}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/ledger", Name: "B", Want: expect{401, 403, 403, 403, 403, 200, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/ledger", w.B.ID)}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/statements/:month", Name: "A", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/statements/2026-03", w.A.ID)}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/statements/:month", Name: "A, as CSV", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/statements/2026-03?format=csv", w.A.ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/cooperatives/:id/payouts", Name: "to A", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				w.payable(t)
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/cooperatives/%d/payouts", w.A.ID),
					Body: map[string]any{"amount": 100, "currency": "MAD", "reference": w.unique("VIR"), "paid_on": "2026-01-15"}}
			}},
		matrixCase{Route: "POST /api/v1/admin/fulfilments/:id/refunds", Name: "a delivered parcel of A", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/fulfilments/%d/refunds", w.deliveredParcel(t).ID),
					Body: map[string]any{"amount": 100, "reason": "a chipped rim"}}
			}},
		matrixCase{Route: "GET /api/v1/admin/reports/sales", Want: adminOnly(200), Request: pathOnly("/api/v1/admin/reports/sales")},
	)
}

func init() {
	matrixCases = append(matrixCases,
		matrixCase{Route: "GET /api/v1/admin/reports/inclusion", Want: adminOnly(200), Request: pathOnly("/api/v1/admin/reports/inclusion")})
}
