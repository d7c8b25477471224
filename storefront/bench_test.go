package storefront

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database/dbtest"
)

// BenchmarkFindProducts searches a catalog of 1,000 published products: a
// page of 24 with the total and the three facets.
func BenchmarkFindProducts(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			ctx := context.Background()
			if _, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(catalogCSV(1000, 0))); err != nil {
				b.Fatal(err)
			}
			// Published straight in SQL (only search is measured, photos do
			// not matter); every third product is certified.
			e.exec(b, "UPDATE products SET status = 'published', published_at = ?", time.Now().UTC())
			cert := e.verifiedCertificate(b, e.coop, "morocco-handmade", "1", "MH-1-BENCH", e.svc.today().AddDays(100))
			e.exec(b, `INSERT INTO product_certificates (product_id, certificate_id, created_at)
				SELECT id, ?, ? FROM products WHERE id % 3 = 0`, cert.ID, time.Now().UTC())
			e.exec(b, refreshCertifiedSQL+"id IN (SELECT product_id FROM product_certificates)")
			for _, bc := range []struct {
				name string
				flt  ProductFilter
			}{
				{"newest", ProductFilter{}},
				{"q=tajine", ProductFilter{Q: "tajine"}},
				{"q=arabic", ProductFilter{Q: "طاجين رقم"}},
				{"q=short", ProductFilter{Q: "n 05"}},
				{"filters", ProductFilter{Craft: "pottery", Certified: ptr(true), InStock: true, MinPrice: ptr(int64(10_000)), Sort: SortPriceAsc}},
				{"q+filters page 5", ProductFilter{Q: "argile", Craft: "pottery", Page: 5}},
			} {
				b.Run(bc.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := e.svc.FindProducts(ctx, bc.flt); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
