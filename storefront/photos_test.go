package storefront

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

func TestPhotos(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pr := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Plat à couscous"}})

		var ids []int64
		for i := 0; i < MaxPhotosPerProduct; i++ {
			ph, err := e.svc.AddPhoto(ctx, e.member, pr.ID, photoRecord(100+i))
			if err != nil {
				t.Fatalf("photo %d: %v", i, err)
			}
			if ph.Position != i {
				t.Fatalf("photo %d at position %d", i, ph.Position)
			}
			ids = append(ids, ph.ID)
		}

		t.Run("ErrEleventhPhoto", func(t *testing.T) {
			_, err := e.svc.AddPhoto(ctx, e.member, pr.ID, photoRecord(200))
			wantCode(t, err, errs.Conflict)
		})

		t.Run("ErrSamePictureTwice", func(t *testing.T) {
			other := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Autre plat"}})
			if _, err := e.svc.AddPhoto(ctx, e.member, other.ID, photoRecord(300)); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.AddPhoto(ctx, e.member, other.ID, photoRecord(300))
			wantCode(t, err, errs.Conflict)
			// Another product may show the same picture.
			third := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Troisième plat"}})
			if _, err := e.svc.AddPhoto(ctx, e.member, third.ID, photoRecord(300)); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ErrBadRecord", func(t *testing.T) {
			rec := photoRecord(400)
			rec.Variants[1].Key = "private/photos/x.jpg"
			rec.Variants[2].Key = "public/../etc/passwd"
			rec.ContentHash = "XYZ"
			rec.Color = "red"
			rec.Alt = Localized{"es": "foto"}
			_, err := e.svc.AddPhoto(ctx, e.member, pr.ID, rec)
			want := []string{"alt.es", "color", "variants[1].key", "variants[2].key", "content_hash"}
			if diff := cmp.Diff(want, fieldsOf(err)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})

		t.Run("ErrOutsider", func(t *testing.T) {
			_, err := e.svc.AddPhoto(ctx, e.otherManager, pr.ID, photoRecord(500))
			wantCode(t, err, errs.NotFound) // a draft of another cooperative does not exist for them
		})

		t.Run("Reorder", func(t *testing.T) {
			order := append([]int64{ids[9], ids[3]}, ids[0:3]...)
			order = append(order, ids[4:9]...)
			got, err := e.svc.ReorderPhotos(ctx, e.member, pr.ID, order)
			if err != nil {
				t.Fatal(err)
			}
			var gotIDs []int64
			for i, ph := range got {
				gotIDs = append(gotIDs, ph.ID)
				if ph.Position != i {
					t.Errorf("photo %d at position %d", ph.ID, ph.Position)
				}
			}
			if diff := cmp.Diff(order, gotIDs); diff != "" {
				t.Fatalf("order (-want +got):\n%s", diff)
			}
			_, err = e.svc.ReorderPhotos(ctx, e.member, pr.ID, []int64{ids[0], ids[0], 999_999})
			if diff := cmp.Diff([]string{"photo_ids[1]", "photo_ids[2]"}, fieldsOf(err)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			_, err = e.svc.ReorderPhotos(ctx, e.member, pr.ID, ids[:5])
			if diff := cmp.Diff([]string{"photo_ids"}, fieldsOf(err)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})

		t.Run("DeleteClosesRanks", func(t *testing.T) {
			gone, err := e.svc.DeletePhoto(ctx, e.member, pr.ID, ids[3])
			if err != nil || gone.ID != ids[3] {
				t.Fatalf("deleted %d, %v", gone.ID, err)
			}
			photos, err := e.svc.ListPhotos(ctx, e.member, pr.ID)
			if err != nil || len(photos) != MaxPhotosPerProduct-1 {
				t.Fatalf("%d photos, %v", len(photos), err)
			}
			for i, ph := range photos {
				if ph.Position != i || ph.ID == ids[3] {
					t.Fatalf("photo %d at position %d after delete", ph.ID, ph.Position)
				}
			}
			_, err = e.svc.DeletePhoto(ctx, e.member, pr.ID, ids[3])
			wantCode(t, err, errs.NotFound)
		})

		t.Run("PublishedKeepsOnePhoto", func(t *testing.T) {
			pub := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre"}})
			_, err := e.svc.DeletePhoto(ctx, e.member, pub.ID, pub.Photos[0].ID)
			wantCode(t, err, errs.Conflict)
		})

		t.Run("MediaKeyReferenced", func(t *testing.T) {
			rec := photoRecord(100)
			for _, tc := range []struct {
				key  string
				want bool
			}{{rec.Variants[0].Key, true}, {"public/photos/00/unknown-320.jpg", false}, {"../x", false}} {
				got, err := e.svc.IsMediaKeyReferenced(ctx, tc.key)
				if err != nil || got != tc.want {
					t.Errorf("IsMediaKeyReferenced(%q) = %v, %v; want %v", tc.key, got, err, tc.want)
				}
			}
			// Deleting the product (a never-published draft) lets its keys go.
			if _, err := e.svc.DeleteProduct(ctx, e.manager, pr.ID); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.svc.IsMediaKeyReferenced(ctx, rec.Variants[0].Key); got {
				t.Error("a deleted product's photo is still referenced")
			}
		})
	})
}

func TestPhotoSizedKeys(t *testing.T) {
	ph := Photo{Variants: PhotoVariants{{Width: 640, Key: "b"}, {Width: 320, Key: "a"}, {Width: 1280, Key: "c"}}}
	want := map[string]string{"thumb": "a", "small": "b", "medium": "c", "large": "c"}
	if diff := cmp.Diff(want, ph.SizedKeys()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
	small := Photo{Variants: PhotoVariants{{Width: 200, Key: "s"}}}
	if diff := cmp.Diff(map[string]string{"thumb": "s", "small": "s", "medium": "s", "large": "s"}, small.SizedKeys()); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}
