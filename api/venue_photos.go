package api

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/storefront"
)

// venueView is a venue as GET /venues/{slug} shows it: with its photos.
type venueView struct {
	booking.Venue
	Photos []photoView `json:"photos"`
}

// venuePhotoView shapes a venue photo as a product photo is shown.
func (s *Server) venuePhotoView(ctx context.Context, ph booking.VenuePhoto) (photoView, error) {
	sp := storefront.Photo{ID: ph.ID, Position: ph.Position, Alt: storefront.Localized(ph.Alt), Width: ph.Width, Height: ph.Height,
		Color: ph.Color, BlurHash: ph.BlurHash}
	for _, v := range ph.Variants {
		sp.Variants = append(sp.Variants, storefront.PhotoVariant{Width: v.Width, Height: v.Height, Key: v.Key})
	}
	return s.photoView(ctx, sp)
}

func (s *Server) venueView(ctx context.Context, b *booking.Store, v booking.Venue) (venueView, error) {
	photos, err := b.VenuePhotos(ctx, v.ID)
	if err != nil {
		return venueView{}, err
	}
	out := venueView{Venue: v, Photos: make([]photoView, 0, len(photos))}
	for _, ph := range photos {
		pv, err := s.venuePhotoView(ctx, ph)
		if err != nil {
			return venueView{}, err
		}
		out.Photos = append(out.Photos, pv)
	}
	return out, nil
}

// addVenuePhoto takes a photo upload (multipart: file, alt, lang) for a
// venue and answers 201 with the photo. It runs the product photos'
// pipeline under the same limiter and limits: the venue must exist (404)
// and have room (409); the variants go to the store (503, nothing
// recorded, when it is down), then the row to the database; if that
// fails, the objects just written are removed again (unless another photo
// uses them).
func (s *Server) addVenuePhoto(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such venue")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	// Refuse cheaply what AddVenuePhoto would refuse after the costly part.
	if _, err := b.FindVenue(ctx, id); err != nil {
		return err
	}
	if photos, err := b.VenuePhotos(ctx, id); err != nil {
		return err
	} else if len(photos) >= booking.MaxPhotosPerVenue {
		return errs.E(errs.Conflict, "a venue holds at most %d photos; delete one first", booking.MaxPhotosPerVenue)
	}
	photo, alt, contentHash, err := s.receivePhoto(c)
	if err != nil {
		return err
	}
	if err := photo.Save(ctx, s.deps.Media); err != nil {
		s.dropPhotoObjects(photo.Keys(), variantData(photo))
		return storeUnavailable(err, "photo")
	}
	rec := booking.VenuePhoto{VenueID: id, Alt: booking.Text(alt), Width: photo.Width, Height: photo.Height, Color: photo.Color,
		BlurHash: photo.BlurHash, ContentHash: contentHash}
	for _, v := range photo.Variants {
		rec.Variants = append(rec.Variants, booking.PhotoVariant{Width: v.Width, Height: v.Height, Key: v.Key})
	}
	saved, err := b.AddVenuePhoto(ctx, rec)
	if err != nil {
		s.dropPhotoObjects(photo.Keys(), variantData(photo))
		return err
	}
	s.ensurePhotoObjects(ctx, photo)
	v, err := s.venuePhotoView(ctx, saved)
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/api/v1/admin/venues/%d/photos/%d", id, saved.ID))
	return c.Status(fiber.StatusCreated).JSON(v)
}

// deleteVenuePhoto removes a photo from its venue, then its objects that
// no other photo uses.
func (s *Server) deleteVenuePhoto(c *fiber.Ctx) error {
	b, err := s.bookings()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such venue")
	if err != nil {
		return err
	}
	photoID, err := idParam(c, "photo_id", "no such photo on this venue")
	if err != nil {
		return err
	}
	gone, err := b.DeleteVenuePhoto(c.UserContext(), id, photoID)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(gone.Variants))
	for _, v := range gone.Variants {
		keys = append(keys, v.Key)
	}
	s.dropPhotoObjects(keys, nil)
	return c.SendStatus(fiber.StatusNoContent)
}
