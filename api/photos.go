package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// Limits of the upload routes.
const (
	// maxPhotoBytes is DESIGN rule 7's limit on a photo (15 MB).
	maxPhotoBytes = media.DefaultMaxPhotoBytes
	// maxPhotoPixels is DESIGN rule 7's limit on a photo (40 megapixels).
	maxPhotoPixels = media.DefaultMaxPhotoPixels
	// multipartOverhead is what a multipart body may hold beside its file:
	// the boundaries, the part headers and the text fields.
	multipartOverhead = 1 << 20
	// maxFormValue bounds one text field of a multipart form.
	maxFormValue = 16 << 10
	// storeRetryAfter is the retry hint when the media store is down.
	storeRetryAfter = 30 * time.Second
	// cleanupTimeout bounds the clean-up after a failed upload, which runs
	// even when the client has gone.
	cleanupTimeout = 30 * time.Second
)

// multipartForm describes what a multipart route accepts.
type multipartForm struct {
	// maxBody bounds the whole body, checked before reading any of it.
	maxBody int64
	// fields are the text fields accepted; any other is refused.
	fields map[string]bool
	// file is the name of the one file field; onFile reads it as it
	// comes, before the parts after it.
	file   string
	onFile func(r io.Reader) error
	// many lets the file field come several times, each through onFile
	// (the pages' <input type=file multiple>).
	many bool
}

// readMultipart reads a multipart/form-data body part by part: the text
// fields into a map, the file through onFile. A body of another type is
// 415, a body over maxBody 413 before it is read, a malformed body 400, an
// unknown, repeated or too long field 422, a missing file 422.
func readMultipart(c *fiber.Ctx, form multipartForm) (map[string]string, error) {
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return nil, errs.E(errs.UnsupportedMedia, "send the form as multipart/form-data")
	}
	body := c.Body()
	if n := int64(c.Request().Header.ContentLength()); n > form.maxBody || int64(len(body)) > form.maxBody {
		return nil, errs.E(errs.TooLarge, "the upload is larger than the limit of %d MB", (form.maxBody-multipartOverhead)>>20)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	values := map[string]string{}
	sawFile := false
	var f errs.Fields
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errs.Wrap(errs.BadRequest, err, "the multipart body is malformed")
		}
		name := part.FormName()
		switch {
		case name == form.file:
			if sawFile && !form.many {
				f.Add(name, "send one file only")
				continue
			}
			sawFile = true
			if err := form.onFile(part); err != nil {
				return nil, err
			}
		case form.fields[name]:
			if _, dup := values[name]; dup {
				f.Add(name, "is sent twice")
				continue
			}
			v, err := io.ReadAll(io.LimitReader(part, maxFormValue+1))
			if err != nil {
				return nil, errs.Wrap(errs.BadRequest, err, "the multipart body is malformed")
			}
			if len(v) > maxFormValue {
				f.Add(name, "must be at most %d KB", maxFormValue>>10)
				continue
			}
			values[name] = string(v)
		default:
			f.Add(name, "is not a known field")
		}
	}
	if !sawFile {
		f.Add(form.file, "is required")
	}
	if err := f.Err(); err != nil {
		return nil, err
	}
	return values, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}

// storeUnavailable makes a store failure a 503 with a retry hint when the
// store is unreachable; other failures stay internal.
func storeUnavailable(err error, what string) error {
	if errs.Is(err, errs.Unavailable) {
		e := errs.Wrap(errs.Unavailable, err, "the media store is unavailable, so the %s was not saved; try again shortly", what)
		if inner := errs.As(err); inner != nil && inner.RetryAfter > 0 {
			return e.WithRetryAfter(inner.RetryAfter)
		}
		return e.WithRetryAfter(storeRetryAfter)
	}
	return fmt.Errorf("store %s: %w", what, err)
}

// photoAlt reads the alt field: a JSON object keyed by language, or plain
// text in the language of the lang field (French when absent).
func photoAlt(values map[string]string) (storefront.Localized, error) {
	alt := strings.TrimSpace(values["alt"])
	if alt == "" {
		return storefront.Localized{}, nil
	}
	if strings.HasPrefix(alt, "{") {
		var m map[string]string
		if err := json.Unmarshal([]byte(alt), &m); err != nil {
			return nil, errs.InvalidField("alt", "must be plain text or a JSON object of texts keyed by language")
		}
		return storefront.Localized(m), nil
	}
	lang := strings.TrimSpace(values["lang"])
	if lang == "" {
		lang = "fr"
	}
	return storefront.Localized{lang: alt}, nil
}

// addPhoto takes a photo upload (multipart: file, alt, lang) for a product
// and answers 201 with the photo. In order: the caller must be able to
// edit the product (404 or 403) and the product must have room (409); the
// bytes decide the type (415); more than 15 MB is 413, before the rest is
// read; more than 40 megapixels or a damaged file is 422; the decoding runs
// under the process-wide limiter (503 with Retry-After when saturated).
// The variants go to the store (503, nothing recorded, when it is down),
// then the row to the database; if that fails, the objects just written
// are removed again.
func (s *Server) addPhoto(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p := principal(c)
	if err := checkPhotoRoom(ctx, cat, p, id, 1); err != nil {
		return err
	}

	photo, alt, contentHash, err := s.receivePhoto(c)
	if err != nil {
		return err
	}
	saved, err := s.recordPhoto(ctx, cat, p, id, photo, alt, contentHash)
	if err != nil {
		return err
	}
	v, err := s.photoView(ctx, saved)
	if err != nil {
		return err
	}
	c.Location(fmt.Sprintf("/api/v1/products/%d/photos/%d", id, saved.ID))
	return c.Status(fiber.StatusCreated).JSON(v)
}

// receivePhoto reads a photo upload (multipart: file, alt, lang) and runs
// it through the media pipeline under the process-wide limiter: the bytes
// decide the type (415); more than 15 MB is 413, before the rest is read;
// more than 40 megapixels or a damaged file is 422; a saturated limiter is
// 503 with Retry-After. It returns the processed photo (not yet saved),
// its alt text and the SHA-256 (hex) of the upload.
func (s *Server) receivePhoto(c *fiber.Ctx) (*media.Photo, storefront.Localized, string, error) {
	ctx := c.UserContext()
	var photo *media.Photo
	hash := sha256.New()
	values, err := readMultipart(c, multipartForm{
		maxBody: maxPhotoBytes + multipartOverhead,
		fields:  map[string]bool{"alt": true, "lang": true},
		file:    "file",
		onFile: func(r io.Reader) error {
			ph, err := s.processPhotoUpload(ctx, io.TeeReader(r, hash))
			photo = ph
			return err
		},
	})
	if err != nil {
		return nil, nil, "", err
	}
	alt, err := photoAlt(values)
	if err != nil {
		return nil, nil, "", err
	}
	return photo, alt, hex.EncodeToString(hash.Sum(nil)), nil
}

// checkPhotoRoom refuses cheaply what AddPhoto would refuse after the
// costly part: a product the caller may not edit (404 or 403), or one
// without room for n more photos (409).
func checkPhotoRoom(ctx context.Context, cat *storefront.Service, p *account.Principal, productID int64, n int) error {
	pr, err := cat.FindProduct(ctx, p, productID)
	if err != nil {
		return err
	}
	if !p.CanReadCooperative(pr.Cooperative.ID) {
		return errs.E(errs.Forbidden, "only members of the cooperative may add photos to its products")
	}
	if len(pr.Photos)+n > storefront.MaxPhotosPerProduct {
		return errs.E(errs.Conflict, "a product holds at most %d photos; delete one first", storefront.MaxPhotosPerProduct)
	}
	return nil
}

// processPhotoUpload runs one uploaded file through the media pipeline
// under the process-wide limiter: the bytes decide the type (415); more
// than 15 MB is 413; more than 40 megapixels or a damaged file is 422,
// naming the field file; a saturated limiter is 503 with Retry-After.
func (s *Server) processPhotoUpload(ctx context.Context, r io.Reader) (*media.Photo, error) {
	cr := &countingReader{r: r}
	ph, err := media.ProcessPhoto(ctx, cr, media.PhotoLimits{MaxBytes: maxPhotoBytes, MaxPixels: maxPhotoPixels, Limiter: s.photoLimiter()})
	switch {
	case errs.Is(err, errs.TooLarge) && cr.n <= maxPhotoBytes:
		// Small in bytes, too large in pixels: the file is fine as an
		// upload but its content cannot be taken.
		e := errs.As(err)
		return nil, &errs.Error{Code: errs.Invalid, Message: "the photo has too many pixels",
			Fields: []errs.FieldError{{Field: "file", Message: e.Message}}, Err: err}
	case errs.Is(err, errs.Invalid):
		return nil, &errs.Error{Code: errs.Invalid, Message: "the photo cannot be used",
			Fields: []errs.FieldError{{Field: "file", Message: errs.As(err).Message}}, Err: err}
	case err != nil:
		return nil, err
	}
	return ph, nil
}

// recordPhoto saves a processed photo: the variants to the store (503,
// nothing recorded, when it is down), then the row to the database; if
// that fails, the objects just written are removed again.
func (s *Server) recordPhoto(ctx context.Context, cat *storefront.Service, p *account.Principal, productID int64,
	photo *media.Photo, alt storefront.Localized, contentHash string) (storefront.Photo, error) {
	if err := photo.Save(ctx, s.deps.Media); err != nil {
		s.dropPhotoObjects(photo.Keys(), variantData(photo))
		return storefront.Photo{}, storeUnavailable(err, "photo")
	}
	rec := storefront.PhotoRecord{Alt: alt, Width: photo.Width, Height: photo.Height, Color: photo.Color,
		BlurHash: photo.BlurHash, ContentHash: contentHash}
	for _, v := range photo.Variants {
		rec.Variants = append(rec.Variants, storefront.PhotoVariant{Width: v.Width, Height: v.Height, Key: v.Key})
	}
	saved, err := cat.AddPhoto(ctx, p, productID, rec)
	if err != nil {
		s.dropPhotoObjects(photo.Keys(), variantData(photo))
		return storefront.Photo{}, err
	}
	s.ensurePhotoObjects(ctx, photo)
	return saved, nil
}

func variantData(ph *media.Photo) map[string][]byte {
	out := make(map[string][]byte, len(ph.Variants))
	for _, v := range ph.Variants {
		out[v.Key] = v.Data
	}
	return out
}

// dropPhotoObjects removes photo objects that no row references. Keys are
// content-addressed, so another photo (the same picture on another
// product, or an upload in flight) may share them: a referenced key is
// kept, and a key that became referenced while it was being deleted is
// written back from data. Failures are logged; SweepOrphans removes what is
// left. It runs to its end even when the request's context has ended.
func (s *Server) dropPhotoObjects(keys []string, data map[string][]byte) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	for _, key := range keys {
		if err := s.dropPhotoObject(ctx, key, data[key]); err != nil {
			s.log.WarnContext(ctx, "photo object left for the orphan sweep", "key", key, "err", err)
		}
	}
}

func (s *Server) dropPhotoObject(ctx context.Context, key string, data []byte) error {
	ref, err := s.mediaKeyReferenced(ctx, key)
	if err != nil || ref {
		return err
	}
	if data == nil { // keep a copy, to put back if a new photo takes the key meanwhile
		r, _, err := s.deps.Media.Get(ctx, key)
		if errs.Is(err, errs.NotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s before deleting it: %w", key, err)
		}
		data, err = io.ReadAll(io.LimitReader(r, maxPhotoBytes))
		r.Close()
		if err != nil {
			return fmt.Errorf("read %s before deleting it: %w", key, err)
		}
	}
	if err := s.deps.Media.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if ref, err = s.mediaKeyReferenced(ctx, key); err != nil || !ref {
		return err
	}
	if err := s.deps.Media.Put(ctx, key, bytes.NewReader(data), int64(len(data)),
		media.PutOptions{ContentType: media.PhotoContentType, CacheControl: media.PhotoCacheControl}); err != nil {
		return fmt.Errorf("put back %s, taken by a new photo meanwhile: %w", key, err)
	}
	return nil
}

// mediaKeyReferenced reports whether a product photo, a certificate or a
// venue photo uses the media key: objects are content-addressed and may be
// shared between them.
func (s *Server) mediaKeyReferenced(ctx context.Context, key string) (bool, error) {
	if s.deps.Catalog != nil {
		if ref, err := s.deps.Catalog.IsMediaKeyReferenced(ctx, key); err != nil || ref {
			return ref, err
		}
	}
	if s.deps.Bookings != nil {
		return s.deps.Bookings.IsMediaKeyReferenced(ctx, key)
	}
	return false, nil
}

// ensurePhotoObjects checks, once the photo is recorded, that its objects
// are still there, and writes back any that a concurrent clean-up (of the
// same picture's failed upload, or the orphan sweep) removed between the
// write and the record.
func (s *Server) ensurePhotoObjects(ctx context.Context, ph *media.Photo) {
	for _, v := range ph.Variants {
		_, err := s.deps.Media.Stat(ctx, v.Key)
		if err == nil {
			continue
		}
		if errs.Is(err, errs.NotFound) {
			err = s.deps.Media.Put(ctx, v.Key, bytes.NewReader(v.Data), int64(len(v.Data)),
				media.PutOptions{ContentType: media.PhotoContentType, CacheControl: media.PhotoCacheControl})
		}
		if err != nil {
			s.log.WarnContext(ctx, "could not check a new photo's object", "key", v.Key, "err", err)
		}
	}
}

// deletePhoto removes a photo from its product, then its objects that no
// other photo uses.
func (s *Server) deletePhoto(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	photoID, err := idParam(c, "photo_id", "no such photo on this product")
	if err != nil {
		return err
	}
	if err := s.removePhoto(c.UserContext(), cat, principal(c), id, photoID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// removePhoto deletes a photo of a product, then its objects that no other
// photo uses.
func (s *Server) removePhoto(ctx context.Context, cat *storefront.Service, p *account.Principal, productID, photoID int64) error {
	gone, err := cat.DeletePhoto(ctx, p, productID, photoID)
	if err != nil {
		return err
	}
	keys := make([]string, 0, len(gone.Variants))
	for _, v := range gone.Variants {
		keys = append(keys, v.Key)
	}
	s.dropPhotoObjects(keys, nil)
	return nil
}

type photoOrderRequest struct {
	PhotoIDs []int64 `json:"photo_ids"`
}

// photosAnswer is a product's photos in order.
type photosAnswer struct {
	Photos []photoView `json:"photos"`
}

// reorderPhotos puts a product's photos in the order given; the first is
// the cover.
func (s *Server) reorderPhotos(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	var in photoOrderRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	if in.PhotoIDs == nil {
		return errs.InvalidField("photo_ids", "is required: list every photo of the product in the order to show")
	}
	photos, err := cat.ReorderPhotos(c.UserContext(), principal(c), id, in.PhotoIDs)
	if err != nil {
		return err
	}
	views, err := s.photoViews(c.UserContext(), photos)
	if err != nil {
		return err
	}
	return c.JSON(photosAnswer{Photos: views})
}
