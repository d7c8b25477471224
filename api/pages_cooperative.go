package api

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/storefront"
)

// The cooperative dashboard's pages (web/dash_cooperative.go) act through
// these methods, so that a form does exactly what the JSON route does:
// the same photo pipeline and limiter, the same private certificate
// documents, the same e-mails when a parcel ships or arrives.

// maxPagePhotos bounds the photos of one page upload (a phone's gallery
// may pick several); the body limit of the server still applies.
const maxPagePhotos = storefront.MaxPhotosPerProduct

// AddProductPhotos adds the photos of a page's multipart form (one or more
// file fields named file, and csrf_token) to a product, each through the
// pipeline of POST /api/v1/products/{id}/photos, in the order sent. It
// returns how many were added; on an error, those before it stay (each is
// a whole photo). A form without a chosen file is 422 naming file.
func (s *Server) AddProductPhotos(c *fiber.Ctx, productID int64) (int, error) {
	cat, err := s.catalog()
	if err != nil {
		return 0, err
	}
	ctx := c.UserContext()
	p := principal(c)
	if err := checkPhotoRoom(ctx, cat, p, productID, 1); err != nil {
		return 0, err
	}
	added := 0
	_, err = readMultipart(c, multipartForm{
		maxBody: maxPagePhotos*maxPhotoBytes + multipartOverhead,
		fields:  map[string]bool{CSRFFormField: true},
		file:    "file",
		many:    true,
		onFile: func(r io.Reader) error {
			br := bufio.NewReader(r)
			if _, err := br.Peek(1); errors.Is(err, io.EOF) {
				return nil // an empty file field: nothing chosen
			}
			if err := checkPhotoRoom(ctx, cat, p, productID, 1); err != nil {
				return err
			}
			hash := sha256.New()
			photo, err := s.processPhotoUpload(ctx, io.TeeReader(br, hash))
			if err != nil {
				return err
			}
			if _, err := s.recordPhoto(ctx, cat, p, productID, photo, storefront.Localized{}, hex.EncodeToString(hash.Sum(nil))); err != nil {
				return err
			}
			added++
			return nil
		},
	})
	if err != nil {
		return added, err
	}
	if added == 0 {
		return 0, errs.InvalidField("file", "choose at least one photo")
	}
	return added, nil
}

// DeleteProductPhoto removes a photo of a product and its objects that no
// other photo uses, as DELETE /api/v1/products/{id}/photos/{photo_id}.
func (s *Server) DeleteProductPhoto(ctx context.Context, p *account.Principal, productID, photoID int64) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	return s.removePhoto(ctx, cat, p, productID, photoID)
}

// SubmitCertificateForm records a certificate from a page's multipart form
// (the fields of POST /api/v1/cooperatives/{id}/certificates, and
// csrf_token), its PDF stored privately.
func (s *Server) SubmitCertificateForm(c *fiber.Ctx, cooperativeID int64) (storefront.Certificate, error) {
	cat, err := s.catalog()
	if err != nil {
		return storefront.Certificate{}, err
	}
	return s.receiveCertificate(c, cat, cooperativeID, []string{CSRFFormField})
}

// DeliverFulfilment records that a parcel reached its buyer, as
// POST /api/v1/fulfilments/{id}/deliver: cash on delivery becomes paid
// with the last parcel, and the buyer is e-mailed.
func (s *Server) DeliverFulfilment(ctx context.Context, p *account.Principal, id int64) (storefront.Delivery, error) {
	cat, err := s.catalog()
	if err != nil {
		return storefront.Delivery{}, err
	}
	return s.deliver(ctx, cat, p, id)
}
