package storefront

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/database/dbtest"
)

// cardOf is what a card read (ProductFilter.Cards) must give of a product
// read whole: everything a card shows, the first photo only, and none of
// the rest (times included).
func cardOf(pr Product) Product {
	pr.Description, pr.Materials, pr.Techniques = Localized{}, Strings{}, Strings{}
	pr.Dimensions, pr.WeightG, pr.Certificates = Dimensions{}, nil, []ProductCertificate{}
	pr.UnpublishedReason, pr.PublishedAt, pr.CreatedAt, pr.UpdatedAt = "", nil, time.Time{}, time.Time{}
	if len(pr.Photos) > 1 {
		pr.Photos = pr.Photos[:1]
	}
	for i := range pr.Photos {
		pr.Photos[i].ContentHash, pr.Photos[i].CreatedAt = "", time.Time{}
	}
	return pr
}

// A card read gives, for every list, the same page, total and facets as
// the whole read, and of each product what the whole read gives of it: the
// badge (certified, expired, none), availability, price, titles, and the
// first photo in the photos' order, not the first added.
func TestCardsShowWhatTheFullReadShows(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := searchCatalog(t, dialect)
		ctx := context.Background()

		// A product whose first photo is neither its first added nor the
		// lowest id, and a draft without photos.
		pr := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre aux trois photos"}, Stock: 1})
		first := pr.Photos[0]
		second, third := e.photo(t, pr.ID), e.photo(t, pr.ID)
		if _, err := e.svc.ReorderPhotos(ctx, e.admin, pr.ID, []int64{third.ID, first.ID, second.ID}); err != nil {
			t.Fatal(err)
		}
		e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Brouillon sans photo"}})

		type lister func(ProductFilter) (ProductList, error)
		public := func(flt ProductFilter) (ProductList, error) { return e.svc.FindProducts(ctx, flt) }
		own := func(flt ProductFilter) (ProductList, error) {
			return e.svc.FindCooperativeProducts(ctx, e.manager, e.coop, flt)
		}
		cases := []struct {
			name string
			list lister
			flt  ProductFilter
		}{
			{"own, drafts included", own, ProductFilter{PerPage: 100}},
			{"own, second page", own, ProductFilter{PerPage: 3, Page: 2, Sort: SortPriceAsc}},
			{"public, past the end", public, ProductFilter{PerPage: 5, Page: 9}},
		}
		for _, sc := range searchCases {
			cases = append(cases, struct {
				name string
				list lister
				flt  ProductFilter
			}{sc.name, public, sc.flt})
		}
		sawReordered, certified := false, 0
		compare := func(phase string) {
			for _, c := range cases {
				whole, err := c.list(c.flt)
				if err != nil {
					t.Fatalf("%s, %s: %v", phase, c.name, err)
				}
				flt := c.flt
				flt.Cards = true
				cards, err := c.list(flt)
				if err != nil {
					t.Fatalf("%s, %s, cards: %v", phase, c.name, err)
				}
				want := whole
				want.Items = make([]Product, len(whole.Items))
				for i, p := range whole.Items {
					want.Items[i] = cardOf(p)
				}
				if diff := cmp.Diff(want, cards); diff != "" {
					t.Errorf("%s, %s: cards differ from the whole read (-whole +cards):\n%s", phase, c.name, diff)
				}
				for _, p := range cards.Items {
					if p.Certified {
						certified++
					}
					if p.ID == pr.ID {
						sawReordered = true
						if len(p.Photos) != 1 || p.Photos[0].ID != third.ID {
							t.Errorf("%s: card of %s shows photos %+v, want the one moved first (%d)", c.name, p.Slug, p.Photos, third.ID)
						}
					}
				}
			}
		}
		compare("as kept")
		if !sawReordered || certified == 0 {
			t.Fatalf("the lists showed the product with reordered photos: %v; %d certified cards", sawReordered, certified)
		}
		// A certificate changed behind the rules (its product's columns
		// not refreshed) takes the badge off the card as off the page.
		e.exec(t, "UPDATE certificates SET status = 'pending' WHERE number = 'MH-2-0100'")
		compare("certificate changed behind the rules")
	})
}
