package storefront

import (
	"context"
	"testing"

	"github.com/souk-tiznit/souk/database/dbtest"
)

// BenchmarkZoneOf maps a country to its shipping zone (every order line
// and quote does).
func BenchmarkZoneOf(b *testing.B) {
	countries := []string{"MA", "fr", "DE", "US", "JP", "ma"}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = ZoneOf(countries[i%len(countries)])
		i++
	}
}

// BenchmarkGroupParcels groups an order of 8 lines from 3 cooperatives into
// parcels, weighing each (the pure part of pricing an order).
func BenchmarkGroupParcels(b *testing.B) {
	w := func(g int) *int { return &g }
	prods := map[int64]orderProduct{}
	var items []OrderItem
	for i := int64(1); i <= 8; i++ {
		prods[i] = orderProduct{ID: i, CooperativeID: i % 3, WeightG: w(int(300 * i)), Fragile: i%2 == 0}
		items = append(items, OrderItem{ProductID: i, Quantity: int(i%3) + 1})
	}
	b.ReportAllocs()
	for b.Loop() {
		if ps := groupParcels(items, prods); len(ps) != 3 {
			b.Fatalf("%d parcels", len(ps))
		}
	}
}

// BenchmarkFormatMAD writes an amount as the pages and receipts show it.
func BenchmarkFormatMAD(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = FormatMAD(1_234_550)
	}
}

// BenchmarkQuoteItems prices shipping an order of 1 and of 6 lines (two
// cooperatives) as checkout does: it reads the products and one rate per
// parcel.
func BenchmarkQuoteItems(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			ctx := context.Background()
			var items []OrderItem
			for i := range 6 {
				coop := e.coop
				if i%2 == 1 {
					coop = e.otherCoop
				}
				pr := e.published(b, coop, ProductInput{Title: map[string]string{"fr": "Tajine"}, WeightG: ptr(800 + 100*i)})
				items = append(items, OrderItem{ProductID: pr.ID, Quantity: 1 + i%2})
			}
			for _, bc := range []struct {
				name    string
				country string
				items   []OrderItem
			}{{"lines=1,MA", "MA", items[:1]}, {"lines=6,FR", "FR", items}} {
				b.Run(bc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						q, err := e.svc.QuoteItems(ctx, bc.country, bc.items)
						if err != nil {
							b.Fatal(err)
						}
						if q.Amount <= 0 {
							b.Fatal("free shipping")
						}
					}
				})
			}
		})
	}
}
