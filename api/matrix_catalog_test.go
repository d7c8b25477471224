package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// The catalog's rows of the roles × routes matrix (rule 5): a cooperative
// reads and changes only its own products, photos and certificates; the
// public catalog and the certificate check answer everyone; moderation is
// for administrators. Requests that spend what they touch (delete,
// publish, unpublish, a photo) get a fresh fixture of A's for each caller.

// catalogFixtures are A's products and certificates the catalog rows run
// against.
type catalogFixtures struct {
	draft     storefront.Product // A's draft with one photo
	published storefront.Product // A's published product
	cert      storefront.Certificate
	toReject  storefront.Certificate
}

func catalogWorld(w *matrixWorld) *catalogFixtures { return w.Extra["catalog"].(*catalogFixtures) }

// fakePhoto is a photo record whose objects are not stored: enough for
// the rules of products, which never read the objects.
func fakePhoto(seed string) storefront.PhotoRecord {
	sum := sha256.Sum256([]byte(seed))
	h := hex.EncodeToString(sum[:])
	return storefront.PhotoRecord{Width: 640, Height: 480, ContentHash: h,
		Variants: []storefront.PhotoVariant{{Width: 320, Height: 240, Key: "public/photos/" + h[:2] + "/" + h + "-320.jpg"},
			{Width: 640, Height: 480, Key: "public/photos/" + h[:2] + "/" + h + "-640.jpg"}}}
}

// admin is the matrix's administrator, who builds fixtures for any
// cooperative.
func (w *matrixWorld) admin() *account.Principal { return w.callers[asAdmin].P }

// newDraft adds a draft to coop's catalog, with a photo when withPhoto.
func (w *matrixWorld) newDraft(t *testing.T, coopID int64, withPhoto bool) storefront.Product {
	t.Helper()
	ctx := context.Background()
	price, weight := int64(25000), 900
	p, err := w.env.Catalog.CreateProduct(ctx, w.admin(), coopID, storefront.ProductInput{
		Title: map[string]string{"fr": w.unique("Tajine d'Anzi")}, Craft: "pottery", Price: &price, WeightG: &weight, Stock: 2})
	if err != nil {
		t.Fatalf("create draft: %v", err)
	}
	if withPhoto {
		if _, err := w.env.Catalog.AddPhoto(ctx, w.admin(), p.ID, fakePhoto(p.Slug)); err != nil {
			t.Fatalf("add photo: %v", err)
		}
		if p, err = w.env.Catalog.FindProduct(ctx, w.admin(), p.ID); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// newPublished adds a published product to coop's catalog.
func (w *matrixWorld) newPublished(t *testing.T, coopID int64) storefront.Product {
	t.Helper()
	p, err := w.env.Catalog.PublishProduct(context.Background(), w.admin(), w.newDraft(t, coopID, true).ID)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return p
}

// newCertificate records a pending certificate of coop.
func (w *matrixWorld) newCertificate(t *testing.T, coopID int64) storefront.Certificate {
	t.Helper()
	ctx := context.Background()
	key := fmt.Sprintf("private/certificates/%d/%s.pdf", coopID, w.unique("doc"))
	if err := w.env.Media.Put(ctx, key, bytes.NewReader(testPDF), int64(len(testPDF)), mediaPDF); err != nil {
		t.Fatal(err)
	}
	c, err := w.env.Catalog.SubmitCertificate(ctx, w.admin(), coopID, storefront.CertificateInput{
		Scheme: "madmoun", Number: w.unique("MD 2025"), Issuer: "Maison de l'Artisan",
		ValidUntil: storefront.DateOf(time.Now()).AddDays(365), DocumentKey: key})
	if err != nil {
		t.Fatalf("submit certificate: %v", err)
	}
	return c
}

// mediaPDF stores a certificate document.
var mediaPDF = media.PutOptions{ContentType: media.PDFContentType}

// testPDF is a minimal complete PDF.
var testPDF = []byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n")

// smallJPEG is a plain JPEG of w×h with colour c.
func smallJPEG(t *testing.T, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// formPart is one part of a multipart body.
type formPart struct {
	Name, FileName, ContentType string
	Data                        []byte
}

// multipartBody encodes parts and returns the body and its content type.
func multipartBody(t *testing.T, parts ...formPart) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.Name)
		if p.FileName != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.FileName)
		}
		h.Set("Content-Disposition", disp)
		if p.ContentType != "" {
			h.Set("Content-Type", p.ContentType)
		}
		pw, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pw.Write(p.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), mw.FormDataContentType()
}

// certificateForm is a complete certificate submission.
func certificateForm(t *testing.T, number string, doc []byte) ([]byte, string) {
	t.Helper()
	return multipartBody(t,
		formPart{Name: "scheme", Data: []byte("morocco-handmade")},
		formPart{Name: "level", Data: []byte("2")},
		formPart{Name: "number", Data: []byte(number)},
		formPart{Name: "issuer", Data: []byte("Ministère de l'Artisanat")},
		formPart{Name: "valid_until", Data: []byte(storefront.DateOf(time.Now()).AddDays(700).String())},
		formPart{Name: "document", FileName: "audit.pdf", ContentType: "application/pdf", Data: doc})
}

// exifJPEG inserts an APP1 Exif segment with the orientation and a GPS IFD
// (latitude and a processing method carrying gpsMarker) after the SOI of
// a JPEG: what a phone writes into a photo taken in Tiznit.
func exifJPEG(jpg []byte, orientation uint16) []byte {
	o := binary.BigEndian
	var b []byte
	u16 := func(v uint16) { b = o.AppendUint16(b, v) }
	u32 := func(v uint32) { b = o.AppendUint32(b, v) }
	b = append(b, 'M', 'M')
	u16(42)
	u32(8)
	const gpsIFD = 8 + 2 + 2*12 + 4
	u16(2)
	u16(0x0112) // Orientation, SHORT
	u16(3)
	u32(1)
	u16(orientation)
	u16(0)
	u16(0x8825) // GPSInfo pointer, LONG
	u16(4)
	u32(1)
	u32(gpsIFD)
	u32(0)
	const data = gpsIFD + 2 + 2*12 + 4
	method := "ASCII\x00\x00\x00" + gpsMarker
	u16(2)
	u16(0x0002) // GPSLatitude, RATIONAL ×3
	u16(5)
	u32(3)
	u32(data)
	u16(0x001B) // GPSProcessingMethod, UNDEFINED
	u16(7)
	u32(uint32(len(method)))
	u32(data + 24)
	u32(0)
	for _, r := range [][2]uint32{{29, 1}, {41, 1}, {5064, 100}} {
		u32(r[0])
		u32(r[1])
	}
	b = append(b, method...)
	payload := append([]byte("Exif\x00\x00"), b...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(2+len(payload)))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, append(seg, payload...)...)
	return append(out, jpg[2:]...)
}

// gpsMarker is planted in the GPS data of test photos; it must not reach
// any stored variant.
const gpsMarker = "GPS-TIZNIT-29.6974N-9.7316W"

func init() {
	matrixSetups = append(matrixSetups, func(t *testing.T, w *matrixWorld) {
		f := &catalogFixtures{draft: w.newDraft(t, w.A.ID, true), published: w.newPublished(t, w.A.ID)}
		f.cert = w.newCertificate(t, w.A.ID)
		f.toReject = w.newCertificate(t, w.A.ID)
		w.Extra["catalog"] = f
	})

	// Callers who can see A's drafts get the status; others, to whom the
	// draft does not exist, 404.
	draftOfA := func(status int) expect { return expect{401, 404, 404, status, status, 404, status} }
	managerDraftOfA := func(status int) expect { return expect{401, 404, 404, 403, status, 404, status} }
	jpg := func(t *testing.T, w *matrixWorld) []byte {
		w.n++
		return smallJPEG(t, 48, 32, color.RGBA{uint8(w.n), 90, 160, 255})
	}

	matrixCases = append(matrixCases,
		matrixCase{Route: "GET /api/v1/crafts", Want: everyone(200), Request: pathOnly("/api/v1/crafts")},
		matrixCase{Route: "GET /api/v1/products", Want: everyone(200), Request: pathOnly("/api/v1/products?craft=pottery")},
		matrixCase{Route: "GET /api/v1/products/:slug", Name: "published", Want: everyone(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/products/" + catalogWorld(w).published.Slug}
			}},
		matrixCase{Route: "GET /api/v1/products/:slug", Name: "draft of A", Want: expect{404, 404, 404, 200, 200, 404, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/products/" + catalogWorld(w).draft.Slug}
			}},
		matrixCase{Route: "PATCH /api/v1/products/:id", Name: "draft of A", Want: draftOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d", catalogWorld(w).draft.ID), Body: map[string]any{"stock": 3}}
			}},
		matrixCase{Route: "PATCH /api/v1/products/:id", Name: "published of A", Want: expect{401, 403, 403, 200, 200, 403, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d", catalogWorld(w).published.ID), Body: map[string]any{"stock": 4}}
			}},
		matrixCase{Route: "DELETE /api/v1/products/:id", Name: "draft of A", Want: managerDraftOfA(204),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d", w.newDraft(t, w.A.ID, false).ID)}
			}},
		matrixCase{Route: "POST /api/v1/products/:id/publish", Name: "ready draft of A", Want: managerDraftOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d/publish", w.newDraft(t, w.A.ID, true).ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/products/:id/unpublish", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/products/%d/unpublish", w.newPublished(t, w.A.ID).ID),
					Body: map[string]string{"reason": "The photo shows another piece."}}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/products", Name: "A", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/products?status=draft", w.A.ID)}
			}},
		matrixCase{Route: "POST /api/v1/cooperatives/:id/products", Name: "into A", Want: membersOfA(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/products", w.A.ID),
					Body: map[string]any{"title": map[string]string{"fr": "Jarre"}, "craft": "pottery"}}
			}},
		matrixCase{Route: "POST /api/v1/cooperatives/:id/products", Name: "into B", Want: expect{401, 403, 403, 403, 403, 201, 201},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/products", w.B.ID),
					Body: map[string]any{"title": map[string]string{"fr": "Fibule"}, "craft": "pottery"}}
			}},
		matrixCase{Route: "POST /api/v1/cooperatives/:id/products/import", Name: "A", Want: managersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/products/import", w.A.ID),
					Body: "title_fr,craft,price_mad\n" + w.unique("Plat") + ",pottery,80.00\n", Header: map[string]string{"Content-Type": "text/csv"}}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/products/export", Name: "A", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/products/export", w.A.ID)}
			}},
		matrixCase{Route: "POST /api/v1/products/:id/photos", Name: "draft of A", Want: draftOfA(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				body, ct := multipartBody(t, formPart{Name: "file", FileName: "pot.jpg", Data: jpg(t, w)}, formPart{Name: "alt", Data: []byte("Un tajine")})
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d/photos", w.newDraft(t, w.A.ID, false).ID),
					Body: body, Header: map[string]string{"Content-Type": ct}}
			}},
		matrixCase{Route: "PUT /api/v1/products/:id/photos/order", Name: "draft of A", Want: draftOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				f := catalogWorld(w)
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d/photos/order", f.draft.ID),
					Body: map[string]any{"photo_ids": []int64{f.draft.Photos[0].ID}}}
			}},
		matrixCase{Route: "DELETE /api/v1/products/:id/photos/:photo_id", Name: "draft of A", Want: draftOfA(204),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				p := w.newDraft(t, w.A.ID, true)
				return matrixRequest{Path: fmt.Sprintf("/api/v1/products/%d/photos/%d", p.ID, p.Photos[0].ID)}
			}},
		matrixCase{Route: "POST /api/v1/cooperatives/:id/certificates", Name: "A", Want: managersOfA(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				body, ct := certificateForm(t, w.unique("MH-2025"), testPDF)
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/certificates", w.A.ID),
					Body: body, Header: map[string]string{"Content-Type": ct}}
			}},
		matrixCase{Route: "GET /api/v1/cooperatives/:id/certificates", Name: "A", Want: membersOfA(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/certificates", w.A.ID)}
			}},
		matrixCase{Route: "GET /api/v1/certificates/:number", Want: everyone(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/certificates/" + url.PathEscape(catalogWorld(w).cert.Number)}
			}},
		matrixCase{Route: "GET /api/v1/certificates/:id/document", Name: "A's", Want: draftOfA(302),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/certificates/%d/document", catalogWorld(w).cert.ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/certificates/:id/verify", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/certificates/%d/verify", catalogWorld(w).cert.ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/certificates/:id/reject", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/certificates/%d/reject", catalogWorld(w).toReject.ID),
					Body: map[string]string{"reason": "The audit document is not legible."}}
			}},
	)
}
