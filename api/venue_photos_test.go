package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"testing"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// A venue photo runs through the product photos' pipeline, shows in the
// venue JSON, and its objects are shared safely: deleting a product photo
// of the same picture keeps the venue's objects, deleting the venue photo
// removes them.
func TestVenuePhotoUpload(t *testing.T) {
	s := startCatalogSite(t, testserver.Options{})
	ctx := context.Background()
	v, err := s.srv.Bookings.CreateVenue(ctx, booking.Venue{Slug: "tiznit-market", Name: "Marché de Tiznit", Commune: "Tiznit",
		Kind: "market", Description: booking.Text{"fr": "Marché"}})
	if err != nil {
		t.Fatal(err)
	}
	pic := smallJPEG(t, 64, 40, color.RGBA{200, 120, 40, 255})
	upload := func(token string) answer {
		body, ct := multipartBody(t, formPart{Name: "file", FileName: "market.jpg", Data: pic}, formPart{Name: "alt", Data: []byte(`{"fr":"L'entrée du marché"}`)})
		return do(t, "POST", fmt.Sprintf("%s/api/v1/admin/venues/%d/photos", s.srv.URL, v.ID), string(body), withHeader(bearer(token), "Content-Type", ct))
	}
	if a := upload(s.manager); a.status != 403 {
		t.Fatalf("upload by a cooperative manager: %d %s", a.status, a.body)
	}
	a := upload(s.admin)
	if a.status != 201 {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	var ph struct {
		ID            int64
		Width, Height int
		Alt           map[string]string
		URLs          map[string]string `json:"urls"`
	}
	decodeAnswer(t, a, &ph)
	if ph.Width != 64 || ph.Height != 40 || ph.Alt["fr"] != "L'entrée du marché" {
		t.Fatalf("photo: %+v", ph)
	}
	if a := upload(s.admin); a.status != 409 {
		t.Fatalf("same picture twice: %d %s", a.status, a.body)
	}

	var venue struct {
		Slug   string
		Photos []struct {
			ID            int64
			Alt           map[string]string
			Width, Height int
			URLs          map[string]string `json:"urls"`
		}
	}
	show := func() {
		t.Helper()
		a := do(t, "GET", s.srv.URL+"/api/v1/venues/tiznit-market", "", nil)
		if a.status != 200 {
			t.Fatalf("venue: %d %s", a.status, a.body)
		}
		venue.Photos = nil
		if err := json.Unmarshal(a.body, &venue); err != nil {
			t.Fatal(err)
		}
	}
	show()
	if len(venue.Photos) != 1 || venue.Photos[0].ID != ph.ID || venue.Photos[0].Width != 64 || venue.Photos[0].Alt["fr"] == "" {
		t.Fatalf("venue photos: %+v", venue.Photos)
	}
	for _, size := range []string{"thumb", "small", "medium", "large"} {
		u := venue.Photos[0].URLs[size]
		if u == "" {
			t.Fatalf("no URL for %s", size)
		}
		if f := s.fetch(t, u); f.status != 200 {
			t.Fatalf("fetch %s: %d", size, f.status)
		}
	}
	objs := len(objects(t, s.srv.Media, "public/photos/"))
	if objs == 0 {
		t.Fatal("no objects stored")
	}

	// The same picture on a product, then removed from it: the venue's
	// objects stay.
	pa := s.upload(t, s.product.ID, "market.jpg", pic)
	if pa.status != 201 {
		t.Fatalf("product upload: %d %s", pa.status, pa.body)
	}
	var pph struct{ ID int64 }
	decodeAnswer(t, pa, &pph)
	if d := do(t, "DELETE", fmt.Sprintf("%s/api/v1/products/%d/photos/%d", s.srv.URL, s.product.ID, pph.ID), "", bearer(s.manager)); d.status != 204 {
		t.Fatalf("delete product photo: %d %s", d.status, d.body)
	}
	if n := len(objects(t, s.srv.Media, "public/photos/")); n != objs {
		t.Fatalf("deleting the product's copy left %d objects, want the venue's %d", n, objs)
	}
	if f := s.fetch(t, venue.Photos[0].URLs["large"]); f.status != 200 {
		t.Fatalf("venue photo after the product's copy went: %d", f.status)
	}

	// Deleting the venue photo removes it and its objects.
	path := fmt.Sprintf("%s/api/v1/admin/venues/%d/photos/%d", s.srv.URL, v.ID, ph.ID)
	if d := do(t, "DELETE", path, "", bearer(s.admin)); d.status != 204 {
		t.Fatalf("delete venue photo: %d %s", d.status, d.body)
	}
	if d := do(t, "DELETE", path, "", bearer(s.admin)); d.status != 404 {
		t.Fatalf("delete it again: %d %s", d.status, d.body)
	}
	show()
	if len(venue.Photos) != 0 {
		t.Fatalf("venue photos after delete: %+v", venue.Photos)
	}
	if n := len(objects(t, s.srv.Media, "public/photos/")); n != 0 {
		t.Fatalf("%d objects left after deleting the only photo", n)
	}
}
