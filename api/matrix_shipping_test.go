package api_test

import "testing"

// The shipping table's rows of the roles × routes matrix: anyone reads it,
// only administrators replace it.

// defaultShippingTable is the table the migrations set, as the API takes it.
func defaultShippingTable() map[string]any {
	zone := func(z string, amounts ...int) map[string]any {
		var bs []map[string]any
		for i, w := range []int{1000, 2000, 5000, 10000, 30000} {
			bs = append(bs, map[string]any{"max_weight_g": w, "amount": amounts[i]})
		}
		return map[string]any{"zone": z, "fragile_packing_fee": 2000, "brackets": bs}
	}
	return map[string]any{"currency": "MAD", "zones": []any{
		zone("MA", 3500, 4500, 6500, 9500, 15000),
		zone("EU", 18000, 24000, 38000, 60000, 120000),
		zone("WORLD", 25000, 35000, 55000, 90000, 180000),
	}}
}

func init() {
	matrixCases = append(matrixCases,
		matrixCase{Route: "GET /api/v1/shipping/rates", Want: everyone(200), Request: pathOnly("/api/v1/shipping/rates")},
		matrixCase{Route: "PUT /api/v1/admin/shipping/rates", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/admin/shipping/rates", Body: defaultShippingTable()}
			}},
	)
}
