package api_test

import (
	"fmt"
	"testing"
)

// The cart's rows of the roles × routes matrix (rule 5): everyone has a
// cart of their own (a guest through the cart cookie, a signed-in caller
// on the account), so every caller may use every cart route, and only
// ever reaches their own cart (TestCartAPIGuest and
// TestCartMergeAtLoginAndOrderFromCart check whose cart it is).
func init() {
	cartItem := func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
		return matrixRequest{Path: fmt.Sprintf("/api/v1/cart/items/%d", orderWorld(w).product.ID), Body: map[string]int{"quantity": 1}}
	}
	matrixCases = append(matrixCases,
		matrixCase{Route: "GET /api/v1/cart", Want: everyone(200), Request: pathOnly("/api/v1/cart")},
		matrixCase{Route: "PUT /api/v1/cart/items/:product_id", Want: everyone(200), Request: cartItem},
		matrixCase{Route: "DELETE /api/v1/cart/items/:product_id", Want: everyone(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cart/items/%d", orderWorld(w).product.ID)}
			}},
		matrixCase{Route: "PUT /api/v1/cart/items/:product_id", Name: "a product not on sale", Want: everyone(404),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/cart/items/987654321", Body: map[string]int{"quantity": 1}}
			}},
		matrixCase{Route: "DELETE /api/v1/cart", Want: everyone(204), Request: pathOnly("/api/v1/cart")},
	)
}
