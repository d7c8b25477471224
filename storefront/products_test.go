package storefront

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

func TestCreateProduct(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()

		t.Run("OK", func(t *testing.T) {
			pr, err := e.svc.CreateProduct(ctx, e.member, e.coop, ProductInput{
				Title:       map[string]string{"fr": "  Tajine émaillé  ", "ar": "طاجين مزجج"},
				Description: map[string]string{"fr": "Tourné à la main.\r\nCuit au bois."},
				Craft:       "pottery", Materials: []string{"argile", " engobe ", "Argile", ""},
				Dimensions: Dimensions{Height: ptr(22.5), Width: ptr(30.04)},
				WeightG:    ptr(1800), Price: ptr(int64(35_000)), Currency: "MAD", Stock: 3, MadeToOrderDays: ptr(10),
			})
			if err != nil {
				t.Fatal(err)
			}
			if pr.Slug != "tajine-emaille" || pr.Status != Draft || pr.Commune != "Anzi" || pr.Currency != "MAD" {
				t.Fatalf("got slug %q status %q commune %q currency %q", pr.Slug, pr.Status, pr.Commune, pr.Currency)
			}
			if diff := cmp.Diff(Localized{"fr": "Tajine émaillé", "ar": "طاجين مزجج"}, pr.Title); diff != "" {
				t.Errorf("title (-want +got):\n%s", diff)
			}
			if pr.Description["fr"] != "Tourné à la main.\nCuit au bois." {
				t.Errorf("description %q", pr.Description["fr"])
			}
			if diff := cmp.Diff(Strings{"argile", "engobe"}, pr.Materials); diff != "" {
				t.Errorf("materials (-want +got):\n%s", diff)
			}
			if *pr.Dimensions.Height != 22.5 || *pr.Dimensions.Width != 30 || pr.Dimensions.Depth != nil {
				t.Errorf("dimensions %+v", pr.Dimensions)
			}
			if pr.Available {
				t.Error("a draft is available to buy")
			}
			// The same title again gets the next free slug.
			again := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine émaillé"}})
			if again.Slug != "tajine-emaille-2" {
				t.Errorf("second slug %q, want tajine-emaille-2", again.Slug)
			}
		})

		t.Run("ArabicTitleIsTransliterated", func(t *testing.T) {
			pr := e.draft(t, e.coop, ProductInput{Title: map[string]string{"ar": "زربية أمازيغية"}})
			if pr.Slug != "zrbia-amazighia" {
				t.Errorf("slug %q", pr.Slug)
			}
			pr = e.draft(t, e.coop, ProductInput{Title: map[string]string{"en": "陶器"}})
			if pr.Slug != "product" {
				t.Errorf("slug of an untransliterable title %q, want product", pr.Slug)
			}
		})

		t.Run("ErrFieldByField", func(t *testing.T) {
			_, err := e.svc.CreateProduct(ctx, e.manager, e.coop, ProductInput{
				Title: map[string]string{"de": "Topf"}, Craft: "Pottery!", Price: ptr(int64(0)), Currency: "EUR",
				WeightG: ptr(-1), Stock: 2, OneOfAKind: true, MadeToOrderDays: ptr(5), Materials: []string{"a;b"},
			})
			want := []string{"currency", "title.de", "craft", "materials[0]", "weight_g", "price", "stock", "made_to_order_days"}
			if diff := cmp.Diff(want, fieldsOf(err)); diff != "" {
				t.Fatalf("fields (-want +got):\n%s\nerr: %v", diff, err)
			}
			_, err = e.svc.CreateProduct(ctx, e.manager, e.coop, ProductInput{Title: map[string]string{"fr": " "}, Craft: "pottery"})
			if diff := cmp.Diff([]string{"title"}, fieldsOf(err)); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
			_, err = e.svc.CreateProduct(ctx, e.manager, e.coop, ProductInput{Title: map[string]string{"fr": "Pot"}, Craft: "glassware"})
			if diff := cmp.Diff([]string{"craft"}, fieldsOf(err)); diff != "" {
				t.Fatalf("unknown craft: fields (-want +got):\n%s", diff)
			}
			_, err = e.svc.CreateProduct(ctx, e.manager, e.coop, ProductInput{Title: map[string]string{"fr": "Pot"}, Craft: "pottery",
				ArtisanID: &e.outsider.UserID})
			if diff := cmp.Diff([]string{"artisan_id"}, fieldsOf(err)); diff != "" {
				t.Fatalf("artisan not a member: fields (-want +got):\n%s", diff)
			}
			pr, err := e.svc.CreateProduct(ctx, e.manager, e.coop, ProductInput{Title: map[string]string{"fr": "Pot de Ahmed"}, Craft: "pottery",
				ArtisanID: &e.member.UserID})
			if err != nil || pr.ArtisanID == nil || *pr.ArtisanID != e.member.UserID {
				t.Fatalf("artisan who is a member: %+v, %v", pr.ArtisanID, err)
			}
		})

		t.Run("ErrNotAMember", func(t *testing.T) {
			_, err := e.svc.CreateProduct(ctx, e.otherManager, e.coop, ProductInput{Title: map[string]string{"fr": "Pot"}, Craft: "pottery"})
			wantCode(t, err, errs.Forbidden)
			_, err = e.svc.CreateProduct(ctx, nil, e.coop, ProductInput{Title: map[string]string{"fr": "Pot"}, Craft: "pottery"})
			wantCode(t, err, errs.Unauthorized)
		})
	})
}

// Publish rules, field by field: a photo, a title, a price, a weight and a
// verified cooperative.
func TestPublishRules(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pr, err := e.svc.CreateProduct(ctx, e.member, e.coop, ProductInput{Title: map[string]string{"fr": "Plat"}, Craft: "pottery"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.PublishProduct(ctx, e.manager, pr.ID)
		wantCode(t, err, errs.Conflict)
		if diff := cmp.Diff([]string{"price", "weight_g", "photos"}, fieldsOf(err)); diff != "" {
			t.Fatalf("missing (-want +got):\n%s", diff)
		}
		if _, err := e.svc.UpdateProduct(ctx, e.member, pr.ID, ProductPatch{Price: ptr(int64(9_900))}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.PublishProduct(ctx, e.manager, pr.ID)
		if diff := cmp.Diff([]string{"weight_g", "photos"}, fieldsOf(err)); diff != "" {
			t.Fatalf("missing (-want +got):\n%s", diff)
		}
		if _, err := e.svc.UpdateProduct(ctx, e.member, pr.ID, ProductPatch{WeightG: ptr(900)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.PublishProduct(ctx, e.manager, pr.ID)
		if diff := cmp.Diff([]string{"photos"}, fieldsOf(err)); diff != "" {
			t.Fatalf("missing (-want +got):\n%s", diff)
		}
		e.photo(t, pr.ID)
		// A regular member may edit but not publish.
		_, err = e.svc.PublishProduct(ctx, e.member, pr.ID)
		wantCode(t, err, errs.Forbidden)
		got, err := e.svc.PublishProduct(ctx, e.manager, pr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != Published || got.PublishedAt == nil {
			t.Fatalf("status %s published at %v", got.Status, got.PublishedAt)
		}
		// A published product keeps what publishing needs.
		_, err = e.svc.UpdateProduct(ctx, e.member, pr.ID, ProductPatch{Title: map[string]string{}})
		if diff := cmp.Diff([]string{"title"}, fieldsOf(err)); diff != "" {
			t.Fatalf("clearing the title (-want +got):\n%s", diff)
		}

		t.Run("ErrCooperativeNotVerified", func(t *testing.T) {
			pending, err := e.svc.CreateProduct(ctx, e.pendingManager, e.pendingCoop, ProductInput{Title: map[string]string{"fr": "Jarre"},
				Craft: "pottery", Price: ptr(int64(50_000)), WeightG: ptr(4000)})
			if err != nil {
				t.Fatal(err)
			}
			e.photo(t, pending.ID)
			_, err = e.svc.PublishProduct(ctx, e.pendingManager, pending.ID)
			wantCode(t, err, errs.Conflict)
			if diff := cmp.Diff([]string{"cooperative"}, fieldsOf(err)); diff != "" {
				t.Fatalf("missing (-want +got):\n%s", diff)
			}
		})
	})
}

// The public sees published products of verified cooperatives only;
// members see their drafts; the moderation reason reaches the cooperative.
func TestProductVisibility(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		draft := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Brouillon"}})
		pub := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Publié"}, Stock: 1})
		archived := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Archivé"}})
		if _, err := e.svc.ArchiveProduct(ctx, e.manager, archived.ID); err != nil {
			t.Fatal(err)
		}
		suspended := e.published(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Bague"}, Craft: "silver-jewellery"})
		e.exec(t, "UPDATE cooperatives SET status = 'suspended' WHERE id = ?", e.otherCoop)

		for _, id := range []int64{draft.ID, archived.ID, suspended.ID} {
			for _, viewer := range []*account.Principal{nil, e.outsider, e.otherManager} {
				if viewer == e.otherManager && id == suspended.ID {
					continue // its own cooperative
				}
				_, err := e.svc.FindProduct(ctx, viewer, id)
				wantCode(t, err, errs.NotFound)
			}
		}
		got, err := e.svc.FindProduct(ctx, nil, pub.ID)
		if err != nil || !got.Available || got.Cooperative.Slug != "cooperative-anzi" {
			t.Fatalf("published product: %+v, %v", got, err)
		}
		if _, err := e.svc.FindProductBySlug(ctx, nil, pub.Slug); err != nil {
			t.Fatalf("by slug: %v", err)
		}
		for _, viewer := range []*account.Principal{e.member, e.manager, e.admin} {
			if _, err := e.svc.FindProduct(ctx, viewer, draft.ID); err != nil {
				t.Fatalf("a member or admin cannot see the draft: %v", err)
			}
		}
		// An outsider who can see a product still cannot change it.
		_, err = e.svc.UpdateProduct(ctx, e.outsider, pub.ID, ProductPatch{Stock: ptr(5)})
		wantCode(t, err, errs.Forbidden)
		_, err = e.svc.UpdateProduct(ctx, e.outsider, draft.ID, ProductPatch{Stock: ptr(5)})
		wantCode(t, err, errs.NotFound)

		t.Run("Unpublish", func(t *testing.T) {
			_, err := e.svc.UnpublishProduct(ctx, e.manager, pub.ID, "photos are blurry")
			wantCode(t, err, errs.Forbidden)
			_, err = e.svc.UnpublishProduct(ctx, e.admin, pub.ID, "  ")
			wantCode(t, err, errs.Invalid)
			if _, err := e.svc.UnpublishProduct(ctx, e.admin, pub.ID, "The photo shows a different piece."); err != nil {
				t.Fatal(err)
			}
			_, err = e.svc.FindProduct(ctx, nil, pub.ID)
			wantCode(t, err, errs.NotFound)
			mine, err := e.svc.FindProduct(ctx, e.member, pub.ID)
			if err != nil || mine.Status != Draft || mine.UnpublishedReason != "The photo shows a different piece." {
				t.Fatalf("the cooperative sees %q %q, %v", mine.Status, mine.UnpublishedReason, err)
			}
			again, err := e.svc.PublishProduct(ctx, e.manager, pub.ID)
			if err != nil || again.UnpublishedReason != "" || !again.PublishedAt.Equal(*pub.PublishedAt) {
				t.Fatalf("republished: %+v, %v", again, err)
			}
		})

		t.Run("Delete", func(t *testing.T) {
			archivedNow, err := e.svc.DeleteProduct(ctx, e.manager, draft.ID)
			if err != nil || archivedNow {
				t.Fatalf("deleting a draft: archived %v, %v", archivedNow, err)
			}
			_, err = e.svc.FindProduct(ctx, e.admin, draft.ID)
			wantCode(t, err, errs.NotFound)
			archivedNow, err = e.svc.DeleteProduct(ctx, e.manager, pub.ID)
			if err != nil || !archivedNow {
				t.Fatalf("deleting a published product: archived %v, %v", archivedNow, err)
			}
			kept, err := e.svc.FindProduct(ctx, e.manager, pub.ID)
			if err != nil || kept.Status != Archived {
				t.Fatalf("kept %s, %v", kept.Status, err)
			}
		})
	})
}

func TestOneOfAKindAndMadeToOrder(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pr := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre unique"}, OneOfAKind: true, Stock: 1})
		_, err := e.svc.UpdateProduct(ctx, e.manager, pr.ID, ProductPatch{Stock: ptr(2)})
		if diff := cmp.Diff([]string{"stock"}, fieldsOf(err)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		_, err = e.svc.UpdateProduct(ctx, e.manager, pr.ID, ProductPatch{MadeToOrderDays: ptr(7)})
		if diff := cmp.Diff([]string{"made_to_order_days"}, fieldsOf(err)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		// Made to order: buyable with no stock; 0 clears it.
		mto := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tapis sur commande"}, MadeToOrderDays: ptr(30)})
		if !mto.Available || mto.Stock != 0 {
			t.Fatalf("made to order: available %v stock %d", mto.Available, mto.Stock)
		}
		got, err := e.svc.UpdateProduct(ctx, e.manager, mto.ID, ProductPatch{MadeToOrderDays: ptr(0)})
		if err != nil || got.MadeToOrderDays != nil || got.Available {
			t.Fatalf("cleared: %v available %v, %v", got.MadeToOrderDays, got.Available, err)
		}
		// The database holds the line too.
		err = e.db.Exec("UPDATE products SET stock = 2 WHERE id = ?", pr.ID).Error
		if err == nil {
			t.Fatal("the database accepted a stock of 2 for a one-of-a-kind piece")
		}
		if err := e.db.Exec("UPDATE products SET stock = -1 WHERE id = ?", mto.ID).Error; err == nil {
			t.Fatal("the database accepted a negative stock")
		}
	})
}

func TestSaveCraft(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		crafts, err := e.svc.ListCrafts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var slugs []string
		for _, c := range crafts {
			slugs = append(slugs, c.Slug)
		}
		want := []string{"pottery", "silver-jewellery", "carpets-weaving", "basketry", "woodwork", "leather", "embroidery", "argan-cosmetics"}
		if diff := cmp.Diff(want, slugs); diff != "" {
			t.Fatalf("seeded crafts (-want +got):\n%s", diff)
		}
		if !crafts[0].Fragile || crafts[0].Name["ar"] != "الفخار" {
			t.Errorf("pottery: %+v", crafts[0])
		}
		_, err = e.svc.SaveCraft(ctx, e.manager, CraftInput{Slug: "glassware", Name: map[string]string{"fr": "Verrerie"}})
		wantCode(t, err, errs.Forbidden)
		c, err := e.svc.SaveCraft(ctx, e.admin, CraftInput{Slug: "glassware", Name: map[string]string{"fr": "Verrerie", "ar": "الزجاج"}, Fragile: true, Position: 90})
		if err != nil || !c.Fragile {
			t.Fatalf("%+v, %v", c, err)
		}
		c, err = e.svc.SaveCraft(ctx, e.admin, CraftInput{Slug: "glassware", Name: map[string]string{"en": "Glassware"}, Position: 90})
		if err != nil || c.Fragile || c.Name["en"] != "Glassware" {
			t.Fatalf("rename: %+v, %v", c, err)
		}
		e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Verre soufflé"}, Craft: "glassware"})
		schemes, err := e.svc.ListCertificateSchemes(ctx)
		if err != nil || len(schemes) != 4 || !schemes[0].HasLevels || len(schemes[0].Levels) != 3 || schemes[0].Kind != NationalLabel {
			t.Fatalf("schemes %+v, %v", schemes, err)
		}
	})
}
