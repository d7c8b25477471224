package storefront

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database/dbtest"
)

// BenchmarkFindProducts searches a catalog of 1,000 published products: a
// page of 24 with the total and the three facets; then with the counts
// cached (as the server keeps them) read whole (the API) and as cards (the
// pages: ProductFilter.Cards).
func BenchmarkFindProducts(b *testing.B) {
	for _, dialect := range dbtest.Dialects {
		b.Run(dialect, func(b *testing.B) {
			e := newEnv(b, dialect)
			ctx := context.Background()
			if _, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(catalogCSV(1000, 0))); err != nil {
				b.Fatal(err)
			}
			// Published straight in SQL with four photos each (a page reads
			// them: all for the API, the first for the cards); every third
			// product is certified.
			e.exec(b, "UPDATE products SET status = 'published', published_at = ?", time.Now().UTC())
			for pos := range 4 {
				rec := photoRecord(pos)
				variants, err := PhotoVariants(rec.Variants).Value()
				if err != nil {
					b.Fatal(err)
				}
				e.exec(b, `INSERT INTO product_photos (product_id, position, alt, width, height, color, blurhash, variants, content_hash, created_at)
					SELECT id, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM products`, pos, `{"fr":"Photo de la pièce","ar":"صورة القطعة"}`,
					rec.Width, rec.Height, rec.Color, rec.BlurHash, variants, rec.ContentHash, time.Now().UTC())
			}
			cert := e.verifiedCertificate(b, e.coop, "morocco-handmade", "1", "MH-1-BENCH", e.svc.today().AddDays(100))
			e.exec(b, `INSERT INTO product_certificates (product_id, certificate_id, created_at)
				SELECT id, ?, ? FROM products WHERE id % 3 = 0`, cert.ID, time.Now().UTC())
			e.exec(b, refreshCertifiedSQL+"id IN (SELECT product_id FROM product_certificates)")
			// The server's service keeps the counts (Config's count cache):
			// "cached" measures the page read alone, as the server does it
			// once the counts are cached.
			cached := New(e.db, Options{Now: e.clock.Now, CountCacheTTL: time.Hour})
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
				for _, v := range []struct {
					suffix string
					svc    *Service
					cards  bool
				}{{"", e.svc, false}, {" cached", cached, false}, {" cached cards", cached, true}} {
					flt := bc.flt
					flt.Cards = v.cards
					b.Run(bc.name+v.suffix, func(b *testing.B) {
						b.ReportAllocs()
						for b.Loop() {
							if _, err := v.svc.FindProducts(ctx, flt); err != nil {
								b.Fatal(err)
							}
						}
					})
				}
			}
		})
	}
}
