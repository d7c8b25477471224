package api_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// An administrator edits the shipping table: quotes and new orders use the
// new brackets and packing fee at once, orders placed before keep their
// amounts, a bad table is refused naming the field and changes nothing,
// and quotes taken while tables are replaced see one whole table or the
// other, never a mix.
func TestAdminEditsShippingTable(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := testserver.Start(t, testserver.Options{Dialect: dialect})
		sc := newOrderScene(t, s)
		admin := signIn(t, s, "admin@orders.test")

		st, before := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 1, "FR", "cod"), nil)
		if st != 422 && st != 400 { // cash on delivery is for Moroccan addresses: use MA
			t.Logf("FR cod answered %d", st)
		}
		st, before = httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 1, "MA", "cod"), nil)
		if st != 201 {
			t.Fatalf("order before the change: %d %v", st, before)
		}
		_, o := orderOf(t, before)
		if o["shipping"].(float64) != 6500+2000 { // 2400 g to Morocco, one fragile line
			t.Fatalf("shipping before the change: %v", o["shipping"])
		}

		table := defaultShippingTable()
		ma := table["zones"].([]any)[0].(map[string]any)
		ma["fragile_packing_fee"] = 3000
		ma["brackets"] = []map[string]any{{"max_weight_g": 3000, "amount": 5000}, {"max_weight_g": 30000, "amount": 12000}}
		st, got := httpCall(t, "PUT", s.URL+"/api/v1/admin/shipping/rates", admin, table, nil)
		if st != 200 {
			t.Fatalf("replace the table: %d %v", st, got)
		}
		st, q := httpCall(t, "GET", s.URL+"/api/v1/shipping/quote?country=MA&weight_g=2400&fragile=1", "", nil, nil)
		if st != 200 || q["amount"].(float64) != 5000+3000 {
			t.Fatalf("quote after the change: %d %v", st, q)
		}
		st, after := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 1, "MA", "cod"), nil)
		if _, o2 := orderOf(t, after); st != 201 || o2["shipping"].(float64) != 8000 {
			t.Fatalf("order after the change: %d %v", st, after)
		}
		id, _ := orderOf(t, before)
		var kept int64
		if err := s.DB.Raw("SELECT shipping FROM orders WHERE id = ?", id).Scan(&kept).Error; err != nil || kept != 8500 {
			t.Fatalf("the earlier order's shipping became %d (%v), want 8500", kept, err)
		}
		// A parcel heavier than the heaviest bracket cannot be priced.
		if st, b := httpCall(t, "GET", s.URL+"/api/v1/shipping/quote?country=MA&weight_g=31000", "", nil, nil); st != 422 || !strings.Contains(fmt.Sprint(b), "weight_g") {
			t.Fatalf("too heavy: %d %v", st, b)
		}

		// Bad tables: each refused with the field at fault, nothing changed.
		st, current := httpCall(t, "GET", s.URL+"/api/v1/shipping/rates", "", nil, nil)
		if st != 200 {
			t.Fatalf("read the table: %d", st)
		}
		for _, bad := range []struct {
			name, field string
			edit        func(map[string]any)
		}{
			{"a zone missing", "zones", func(m map[string]any) { m["zones"] = m["zones"].([]any)[:2] }},
			{"a zone twice", "zones[2].zone", func(m map[string]any) {
				m["zones"].([]any)[2].(map[string]any)["zone"] = "EU"
			}},
			{"weights not rising", "zones[1].brackets[1].max_weight_g", func(m map[string]any) {
				m["zones"].([]any)[1].(map[string]any)["brackets"].([]map[string]any)[1]["max_weight_g"] = 1000
			}},
			{"a free bracket", "zones[0].brackets[0].amount", func(m map[string]any) {
				m["zones"].([]any)[0].(map[string]any)["brackets"].([]map[string]any)[0]["amount"] = 0
			}},
			{"a negative fee", "zones[2].fragile_packing_fee", func(m map[string]any) {
				m["zones"].([]any)[2].(map[string]any)["fragile_packing_fee"] = -1
			}},
			{"no brackets", "zones[0].brackets", func(m map[string]any) {
				m["zones"].([]any)[0].(map[string]any)["brackets"] = []map[string]any{}
			}},
			{"euros", "currency", func(m map[string]any) { m["currency"] = "EUR" }},
		} {
			m := defaultShippingTable()
			bad.edit(m)
			st, b := httpCall(t, "PUT", s.URL+"/api/v1/admin/shipping/rates", admin, m, nil)
			if st != 422 || !hasField(b, bad.field) {
				t.Errorf("%s: %d %v, want 422 naming %s", bad.name, st, b, bad.field)
			}
		}
		if st, now := httpCall(t, "GET", s.URL+"/api/v1/shipping/rates", "", nil, nil); st != 200 || fmt.Sprint(now["zones"]) != fmt.Sprint(current["zones"]) {
			t.Fatalf("a refused table changed the rates:\n%v\n%v", current["zones"], now["zones"])
		}

		// Two tables alternate while quotes are taken: every quote is one
		// table's price, never a mix (the default MA 2400 g bracket with
		// its fee is 8500, the edited one 8000).
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < 6; k++ {
					tb := defaultShippingTable()
					if (i+k)%2 == 0 {
						tb = table
					}
					if st, b := httpCall(t, "PUT", s.URL+"/api/v1/admin/shipping/rates", admin, tb, nil); st != 200 {
						t.Errorf("replace under load: %d %v", st, b)
					}
				}
			}()
		}
		quotes := make(chan float64, 1000)
		var qwg sync.WaitGroup
		for range 3 {
			qwg.Add(1)
			go func() {
				defer qwg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					st, q := httpCall(t, "GET", s.URL+"/api/v1/shipping/quote?country=MA&weight_g=2400&fragile=1", "", nil, nil)
					if st != 200 {
						t.Errorf("quote under load: %d %v", st, q)
						return
					}
					select {
					case quotes <- q["amount"].(float64):
					default:
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		qwg.Wait()
		close(quotes)
		n := 0
		for a := range quotes {
			n++
			if a != 8500 && a != 8000 {
				t.Fatalf("a quote of %v mixes two tables", a)
			}
		}
		t.Logf("%d quotes taken while tables were replaced", n)
	})
}

// signIn signs email in through the API (the scenes' password) and returns
// its session token.
func signIn(t *testing.T, s *testserver.Server, email string) string {
	t.Helper()
	st, b := httpCall(t, "POST", s.URL+"/api/v1/auth/login", "", map[string]any{"email": email, "password": testPassword}, nil)
	tok, _ := b["token"].(string)
	if st != 200 || tok == "" {
		t.Fatalf("sign in %s: %d %v", email, st, b)
	}
	return tok
}

// hasField reports whether a problem body names field among its errors.
func hasField(problem map[string]any, field string) bool {
	list, _ := problem["errors"].([]any)
	for _, e := range list {
		if m, ok := e.(map[string]any); ok && m["field"] == field {
			return true
		}
	}
	return false
}
