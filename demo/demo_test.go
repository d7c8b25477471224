package demo_test

import (
	"context"
	"testing"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// The demo holds the real places with their true unit counts, the fairs of
// Ameln, and the pottery of Anzi, Aït Ahmed and Tighmi, published with
// photos, some certified — on both dialects.
func TestSeed(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store, err := media.NewLocal(t.TempDir(), "http://localhost:8080", []byte("a-test-signing-key-of-some-length"))
		if err != nil {
			t.Fatal(err)
		}
		res, err := demo.Seed(ctx, db, demo.Options{Media: store})
		if err != nil {
			t.Fatal(err)
		}
		units := map[string]int{}
		var rows []struct {
			Slug string
			N    int
		}
		db.Raw("SELECT v.slug, COUNT(u.id) AS n FROM venues v JOIN units u ON u.venue_id = v.id GROUP BY v.slug").Scan(&rows)
		for _, r := range rows {
			units[r.Slug] = r.N
		}
		if units["aouartas-artisan-zone"] != 25 || units["tafraout-artisan-market"] != 15 || len(units) != len(demo.Places) {
			t.Fatalf("unit counts %v", units)
		}
		if res.Fairs != 2 || res.Cooperatives != len(demo.Cooperatives) || res.Products < 7 {
			t.Fatalf("seeded %+v", res)
		}
		shop := storefront.New(db, storefront.Options{})
		list, err := shop.FindProducts(ctx, storefront.ProductFilter{Q: "tajine", PerPage: 24})
		if err != nil {
			t.Fatal(err)
		}
		if list.Total < 2 {
			t.Fatalf("searching tajine found %d", list.Total)
		}
		certified, err := shop.FindProducts(ctx, storefront.ProductFilter{Certified: ptr(true), PerPage: 24})
		if err != nil {
			t.Fatal(err)
		}
		if certified.Total != 3 {
			t.Fatalf("%d certified products, want 3", certified.Total)
		}
		n := 0
		if err := store.List(ctx, "public/photos/", func(media.Object) error { n++; return nil }); err != nil || n < res.Products {
			t.Fatalf("%d photo objects for %d products (%v)", n, res.Products, err)
		}
		if _, err := demo.Seed(ctx, db, demo.Options{}); err == nil {
			t.Fatal("seeded a database that already holds data")
		}
	})
}

func ptr[T any](v T) *T { return &v }
