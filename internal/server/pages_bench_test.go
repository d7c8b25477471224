package server_test

import (
	"context"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// BenchmarkPages renders the public pages of the demo through the whole
// stack in process (Fiber handler, page handler, domain reads, templ
// rendering), without a network. Pages not built yet (404) are skipped;
// the page engineer's own benchmarks in web/ measure rendering alone.
func BenchmarkPages(b *testing.B) {
	s := testserver.Start(b, testserver.Options{})
	ctx := context.Background()
	if _, err := demo.Seed(ctx, s.DB, demo.Options{Media: s.Media}); err != nil {
		b.Fatal(err)
	}
	var product string
	if err := s.DB.WithContext(ctx).Raw("SELECT slug FROM products WHERE status = 'published' ORDER BY id LIMIT 1").Scan(&product).Error; err != nil {
		b.Fatal(err)
	}
	h := s.API.App().Handler()
	for _, pg := range []struct{ name, uri string }{
		{"home/fr", "/fr/"},
		{"home/ar", "/ar/"},
		{"venues", "/fr/venues"},
		{"venue", "/fr/venues/tafraout-artisan-market"},
		{"product", "/fr/products/" + product},
		{"search", "/fr/search?q=tajine"},
	} {
		b.Run(pg.name, func(b *testing.B) {
			var req fasthttp.Request
			req.SetRequestURI(pg.uri)
			var rc fasthttp.RequestCtx
			rc.Init(&req, nil, nil)
			h(&rc)
			switch st := rc.Response.StatusCode(); {
			case st == fasthttp.StatusNotFound:
				b.Skipf("%s answers 404: not built yet", pg.uri)
			case st != fasthttp.StatusOK:
				b.Fatalf("%s answers %d: %.300s", pg.uri, st, rc.Response.Body())
			}
			b.ReportAllocs()
			b.SetBytes(int64(len(rc.Response.Body())))
			for b.Loop() {
				var rc fasthttp.RequestCtx // a fresh one each time, as the server hands out
				rc.Init(&req, nil, nil)
				h(&rc)
				if rc.Response.StatusCode() != fasthttp.StatusOK {
					b.Fatalf("%s answers %d: %.300s", pg.uri, rc.Response.StatusCode(), rc.Response.Body())
				}
			}
		})
	}
}
