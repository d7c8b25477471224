package storefront

import (
	"context"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database/dbtest"
)

// The public catalog's totals and facets may be kept for the cache's TTL:
// within it a new publication shows in the rows at once but not yet in the
// counts; past it, both; a cooperative's own list is never cached; and a
// cache of zero counts every time.
func TestCountCache(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		e.svc = New(e.db, Options{Now: e.clock.Now, CountCacheTTL: 30 * time.Second})
		ctx := context.Background()
		price, weight := int64(35_000), 2000
		in := func(title string) ProductInput {
			return ProductInput{Title: map[string]string{"fr": title}, Craft: "pottery", Price: &price, WeightG: &weight, Stock: 3}
		}
		e.published(t, e.coop, in("Tajine d'Anzi"))
		list := func() ProductList {
			t.Helper()
			l, err := e.svc.FindProducts(ctx, ProductFilter{Page: 1, PerPage: 24})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if l := list(); l.Total != 1 || l.Facets.Craft["pottery"] != 1 || len(l.Items) != 1 {
			t.Fatalf("first listing: total %d, facets %v, %d items", l.Total, l.Facets.Craft, len(l.Items))
		}
		e.published(t, e.coop, in("Jarre de Tighmi")) // moves the clock a minute: past the TTL
		if l := list(); l.Total != 2 || l.Facets.Craft["pottery"] != 2 {
			t.Fatalf("past the TTL: total %d, facets %v", l.Total, l.Facets.Craft)
		}
		// Within the TTL: rows fresh, counts kept.
		pr := e.draft(t, e.coop, in("Plat de Aït Ahmed"))
		e.photo(t, pr.ID)
		if _, err := e.svc.PublishProduct(ctx, e.admin, pr.ID); err != nil {
			t.Fatal(err)
		}
		l := list()
		if len(l.Items) != 3 {
			t.Fatalf("the rows lag a publication: %d items", len(l.Items))
		}
		if l.Total != 2 || l.Facets.Craft["pottery"] != 2 {
			t.Fatalf("within the TTL the counts were recounted: total %d, facets %v", l.Total, l.Facets.Craft)
		}
		// Each filter has counts of its own.
		if f, err := e.svc.FindProducts(ctx, ProductFilter{Page: 1, PerPage: 24, Craft: "pottery"}); err != nil || f.Total != 3 {
			t.Fatalf("another filter: total %d, %v", f.Total, err)
		}
		// The cooperative's own list is always counted.
		own, err := e.svc.FindCooperativeProducts(ctx, e.manager, e.coop, ProductFilter{Page: 1, PerPage: 24})
		if err != nil || own.Total != 3 {
			t.Fatalf("the cooperative's list: total %d, %v", own.Total, err)
		}
		e.clock.Advance(31 * time.Second)
		if l := list(); l.Total != 3 || l.Facets.Craft["pottery"] != 3 {
			t.Fatalf("past the TTL again: total %d, facets %v", l.Total, l.Facets.Craft)
		}
		// No cache: counted every time.
		e.svc = New(e.db, Options{Now: e.clock.Now})
		list()
		e.published(t, e.coop, in("Cruche de Tighmi"))
		if l := list(); l.Total != 4 {
			t.Fatalf("without a cache: total %d", l.Total)
		}
	})
}

// The certified filter's counts are kept by the filter's value (not by
// the pointer that carries it), each value its own; the featured
// cooperatives of the home page are kept for the TTL as well.
func TestCountCacheCertifiedAndFeatured(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		e.svc = New(e.db, Options{Now: e.clock.Now, CountCacheTTL: 30 * time.Second})
		ctx := context.Background()
		cert := e.verifiedCertificate(t, e.coop, "madmoun", "", "MAD-CACHE", e.svc.today().AddDays(100))
		e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine certifié"}, CertificateIDs: []int64{cert.ID}})
		e.published(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Bague"}})
		count := func(certified bool) int64 {
			t.Helper()
			l, err := e.svc.FindProducts(ctx, ProductFilter{Certified: &certified})
			if err != nil {
				t.Fatal(err)
			}
			return l.Total
		}
		featured := func() []CooperativeCard {
			t.Helper()
			cards, err := e.svc.FeaturedCooperatives(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			return cards
		}
		if yes, no := count(true), count(false); yes != 1 || no != 1 {
			t.Fatalf("certified %d, not certified %d; want 1 and 1", yes, no)
		}
		if cards := featured(); len(cards) != 2 || cards[0].Slug != "cooperative-anzi" || cards[0].Products != 1 {
			t.Fatalf("featured %+v", cards)
		}
		// A publication within the TTL: the same counts, from the cache.
		e.exec(t, "UPDATE products SET status = 'published', published_at = ? WHERE id = ?", e.clock.Now(),
			e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre"}, CertificateIDs: []int64{cert.ID}}).ID)
		if yes := count(true); yes != 1 {
			t.Fatalf("within the TTL the certified filter was recounted: %d", yes)
		}
		if cards := featured(); cards[0].Products != 1 {
			t.Fatalf("within the TTL the featured cooperatives were recounted: %+v", cards)
		}
		e.clock.Advance(31 * time.Second)
		if yes, no := count(true), count(false); yes != 2 || no != 1 {
			t.Fatalf("past the TTL: certified %d, not certified %d; want 2 and 1", yes, no)
		}
		if cards := featured(); cards[0].Products != 2 {
			t.Fatalf("past the TTL: featured %+v", cards)
		}
	})
}
