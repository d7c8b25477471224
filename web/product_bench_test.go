package web_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// BenchmarkProductPageInProcess serves GET /fr/products/{slug} through the whole
// stack in process (middleware, handler, reads, rendering) for the demo's
// product with the most photos, a certificate and, when one has, its
// artisan named, as a first-time visitor
// and as a returning guest with a cart, with the reference-data cache
// (SOUK_COUNT_CACHE_TTL) on as in production and off as in tests. It
// reports the CPU and the SQL statements of one page.
func BenchmarkProductPageInProcess(b *testing.B) {
	for _, ttl := range []time.Duration{30 * time.Second, 0} {
		b.Run(fmt.Sprintf("ttl=%s", ttl), func(b *testing.B) {
			cfg := testserver.Config(b, testserver.Options{})
			cfg.CountCacheTTL = ttl
			s := testserver.StartConfig(b, cfg, nil)
			ctx := context.Background()
			if _, err := demo.Seed(ctx, s.DB, demo.Options{Media: s.Media}); err != nil {
				b.Fatal(err)
			}
			var slug string
			if err := s.DB.WithContext(ctx).Raw(`SELECT p.slug FROM products p
				WHERE p.status = 'published'
				ORDER BY p.artisan_id IS NOT NULL DESC, EXISTS (SELECT 1 FROM product_certificates pc WHERE pc.product_id = p.id) DESC,
				(SELECT COUNT(*) FROM product_photos ph WHERE ph.product_id = p.id) DESC, p.id LIMIT 1`).Scan(&slug).Error; err != nil || slug == "" {
				b.Fatalf("no product to show: %q %v", slug, err)
			}
			var statements atomic.Int64
			count := func(*gorm.DB) { statements.Add(1) }
			for _, err := range []error{
				s.DB.Callback().Query().After("gorm:query").Register("bench:count_query", count),
				s.DB.Callback().Row().After("gorm:row").Register("bench:count_row", count),
				s.DB.Callback().Raw().After("gorm:raw").Register("bench:count_raw", count),
			} {
				if err != nil {
					b.Fatal(err)
				}
			}
			h := s.API.App().Handler()
			for _, visitor := range []string{"first-visit", "guest-with-cart"} {
				b.Run(visitor, func(b *testing.B) {
					var req fasthttp.Request
					req.SetRequestURI("/fr/products/" + slug)
					req.Header.SetCookie("souk_lang", "fr")
					if visitor == "guest-with-cart" {
						var rc fasthttp.RequestCtx
						rc.Init(&req, nil, nil)
						h(&rc)
						cart := rc.Response.Header.PeekCookie("souk_cart")
						if len(cart) == 0 {
							b.Fatal("the product page gave no cart cookie")
						}
						var ck fasthttp.Cookie
						if err := ck.ParseBytes(cart); err != nil {
							b.Fatal(err)
						}
						req.Header.SetCookieBytesKV(ck.Key(), ck.Value())
					}
					serve := func() *fasthttp.RequestCtx {
						rc := new(fasthttp.RequestCtx) // a fresh one each time, as the server hands out
						rc.Init(&req, nil, nil)
						h(rc)
						if rc.Response.StatusCode() != fasthttp.StatusOK {
							b.Fatalf("%s answers %d: %.300s", req.URI(), rc.Response.StatusCode(), rc.Response.Body())
						}
						return rc
					}
					b.SetBytes(int64(len(serve().Response.Body())))
					b.ReportAllocs()
					statements.Store(0)
					cpu := processCPU()
					for b.Loop() {
						serve()
					}
					b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
					b.ReportMetric(float64(statements.Load())/float64(b.N), "sql/op")
				})
			}
		})
	}
}
