package api

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// catalogRoutes are the marketplace's routes: products, their photos, the
// cooperatives' certificates and the crafts. Which product or certificate a
// caller may touch is decided again in storefront; the policies here turn
// away what can be refused without reading anything.
func (s *Server) catalogRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/crafts", Public, s.listCrafts},
		{"GET", "/api/v1/products", Public, s.listProducts},
		{"GET", "/api/v1/products/:slug", Public, s.showProduct},
		{"PATCH", "/api/v1/products/:id", Authenticated, s.updateProduct},
		{"DELETE", "/api/v1/products/:id", Authenticated, s.deleteProduct},
		{"POST", "/api/v1/products/:id/publish", Authenticated, s.publishProduct},
		{"POST", "/api/v1/admin/products/:id/unpublish", AdminOnly, s.unpublishProduct},
		{"GET", "/api/v1/cooperatives/:id/products", CooperativeMember("id"), s.listCooperativeProducts},
		{"POST", "/api/v1/cooperatives/:id/products", CooperativeMember("id"), s.createProduct},
		{"POST", "/api/v1/cooperatives/:id/products/import", CooperativeManager("id"), s.importCatalog},
		{"GET", "/api/v1/cooperatives/:id/products/export", CooperativeMember("id"), s.exportCatalog},
		{"POST", "/api/v1/products/:id/photos", Authenticated, s.addPhoto},
		{"PUT", "/api/v1/products/:id/photos/order", Authenticated, s.reorderPhotos},
		{"DELETE", "/api/v1/products/:id/photos/:photo_id", Authenticated, s.deletePhoto},
		{"POST", "/api/v1/cooperatives/:id/certificates", CooperativeManager("id"), s.submitCertificate},
		{"GET", "/api/v1/cooperatives/:id/certificates", CooperativeMember("id"), s.listCertificates},
		{"GET", "/api/v1/certificates/:number", Public, s.checkCertificate},
		{"GET", "/api/v1/certificates/:id/document", Authenticated, s.showCertificateDocument},
		{"POST", "/api/v1/admin/certificates/:id/verify", AdminOnly, s.verifyCertificate},
		{"POST", "/api/v1/admin/certificates/:id/reject", AdminOnly, s.rejectCertificate},
	}
}

// Body limits of the catalog routes.
const (
	// maxProductBody bounds a product's JSON: three descriptions of 5,000
	// letters, in Arabic two bytes each, and room for the rest.
	maxProductBody = 256 << 10
	// maxCatalogCSV bounds an imported catalog file.
	maxCatalogCSV = 10 << 20
)

// catalog returns the storefront service, or answers 503 when the process
// was built without one.
func (s *Server) catalog() (*storefront.Service, error) {
	if s.deps.Catalog == nil {
		return nil, errs.E(errs.Unavailable, "the catalog is not available on this server")
	}
	return s.deps.Catalog, nil
}

// productParam reads a product id from the route, or answers 404.
func productParam(c *fiber.Ctx) (int64, error) { return idParam(c, "id", "no such product") }

// photoView is a photo in the public product shape: its variants as the
// four sizes of DESIGN.md, each a URL a browser can fetch.
type photoView struct {
	ID       int64                `json:"id"`
	Position int                  `json:"position"`
	Alt      storefront.Localized `json:"alt"`
	Width    int                  `json:"width"`
	Height   int                  `json:"height"`
	Color    string               `json:"color,omitempty"`
	BlurHash string               `json:"blurhash,omitempty"`
	URLs     photoURLs            `json:"urls"`
}

// photoURLs are the addresses of a photo's sizes.
type photoURLs struct {
	Thumb  string `json:"thumb"`
	Small  string `json:"small"`
	Medium string `json:"medium"`
	Large  string `json:"large"`
}

// productView is a product in the public shape of DESIGN.md: the
// storefront's product with its photos as URLs.
type productView struct {
	storefront.Product
	Photos []photoView `json:"photos"`
}

// productListView is a page of products with facets.
type productListView struct {
	Items   []productView     `json:"items"`
	Total   int64             `json:"total"`
	Page    int               `json:"page"`
	PerPage int               `json:"per_page"`
	Facets  storefront.Facets `json:"facets"`
}

// photoView turns a stored photo into its public shape. The URLs of public
// keys are computed without a call to the store, so product pages answer
// while the store is down.
func (s *Server) photoView(ctx context.Context, ph storefront.Photo) (photoView, error) {
	keys := ph.SizedKeys() // every size is filled, with the largest there is when a size is missing
	var urls [4]string
	for i, size := range []string{"thumb", "small", "medium", "large"} {
		key, ok := keys[size]
		if !ok {
			continue
		}
		u, err := s.deps.Media.URL(ctx, key, 0)
		if err != nil {
			return photoView{}, fmt.Errorf("address of photo %d (%s): %w", ph.ID, size, err)
		}
		urls[i] = u
	}
	alt := ph.Alt
	if alt == nil {
		alt = storefront.Localized{}
	}
	return photoView{ID: ph.ID, Position: ph.Position, Alt: alt, Width: ph.Width, Height: ph.Height, Color: ph.Color,
		BlurHash: ph.BlurHash, URLs: photoURLs{Thumb: urls[0], Small: urls[1], Medium: urls[2], Large: urls[3]}}, nil
}

func (s *Server) photoViews(ctx context.Context, photos []storefront.Photo) ([]photoView, error) {
	out := make([]photoView, 0, len(photos))
	for _, ph := range photos {
		v, err := s.photoView(ctx, ph)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *Server) productView(ctx context.Context, p storefront.Product) (productView, error) {
	photos, err := s.photoViews(ctx, p.Photos)
	if err != nil {
		return productView{}, err
	}
	return productView{Product: p, Photos: photos}, nil
}

func (s *Server) productListView(ctx context.Context, l storefront.ProductList) (productListView, error) {
	out := productListView{Items: make([]productView, 0, len(l.Items)), Total: l.Total, Page: l.Page, PerPage: l.PerPage, Facets: l.Facets}
	for _, p := range l.Items {
		v, err := s.productView(ctx, p)
		if err != nil {
			return productListView{}, err
		}
		out.Items = append(out.Items, v)
	}
	return out, nil
}

// productFilter reads the list filters from the query string.
func productFilter(c *fiber.Ctx) (storefront.ProductFilter, error) {
	values, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return storefront.ProductFilter{}, errs.E(errs.BadRequest, "the query string is malformed")
	}
	return storefront.ParseProductFilter(values)
}

// listCrafts lists the crafts products are listed under.
func (s *Server) listCrafts(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	crafts, err := cat.ListCrafts(c.UserContext())
	if err != nil {
		return err
	}
	if crafts == nil {
		crafts = []storefront.Craft{}
	}
	return c.JSON(listAnswer[storefront.Craft]{Items: crafts, Total: int64(len(crafts)), Page: 1, PerPage: max(len(crafts), 1)})
}

// listProducts is the public catalog with search and facets.
func (s *Server) listProducts(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	flt, err := productFilter(c)
	if err != nil {
		return err
	}
	l, err := cat.FindProducts(c.UserContext(), flt)
	if err != nil {
		return err
	}
	v, err := s.productListView(c.UserContext(), l)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// listCooperativeProducts is a cooperative's own catalog, drafts included.
func (s *Server) listCooperativeProducts(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	flt, err := productFilter(c)
	if err != nil {
		return err
	}
	l, err := cat.FindCooperativeProducts(c.UserContext(), principal(c), id, flt)
	if err != nil {
		return err
	}
	v, err := s.productListView(c.UserContext(), l)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// showProduct answers one product by slug: published products of verified
// cooperatives for everyone, any product for its cooperative's members and
// administrators.
func (s *Server) showProduct(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	p, err := cat.FindProductBySlug(c.UserContext(), principal(c), c.Params("slug"))
	if err != nil {
		return err
	}
	return s.answerProduct(c, fiber.StatusOK, p)
}

func (s *Server) answerProduct(c *fiber.Ctx, status int, p storefront.Product) error {
	v, err := s.productView(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(v)
}

// decodeProductJSON is decodeJSON for bodies of at most maxProductBody.
func decodeProductJSON(c *fiber.Ctx, dst any) error {
	if len(c.Body()) > maxProductBody {
		return errs.E(errs.TooLarge, "the request body is too large (at most %d KiB)", maxProductBody>>10)
	}
	return decodeJSON(c, dst)
}

// createProduct adds a draft to a cooperative's catalog.
func (s *Server) createProduct(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var in storefront.ProductInput
	if err := decodeProductJSON(c, &in); err != nil {
		return err
	}
	p, err := cat.CreateProduct(c.UserContext(), principal(c), id, in)
	if err != nil {
		return err
	}
	return s.answerProduct(c, fiber.StatusCreated, p)
}

// updateProduct changes some fields of a product.
func (s *Server) updateProduct(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	var in storefront.ProductPatch
	if err := decodeProductJSON(c, &in); err != nil {
		return err
	}
	p, err := cat.UpdateProduct(c.UserContext(), principal(c), id, in)
	if err != nil {
		return err
	}
	return s.answerProduct(c, fiber.StatusOK, p)
}

// deleteProduct deletes a draft that was never published (204), or
// archives a product orders may name (200 with the archived product).
func (s *Server) deleteProduct(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	p := principal(c)
	// A deleted draft takes its photos with it; the objects go at once
	// (those no other photo shares), the hourly sweep being only the net.
	photos, err := cat.ListPhotos(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	archived, err := cat.DeleteProduct(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	if !archived {
		var keys []string
		for _, ph := range photos {
			for _, v := range ph.Variants {
				keys = append(keys, v.Key)
			}
		}
		s.dropPhotoObjects(keys, nil)
		return c.SendStatus(fiber.StatusNoContent)
	}
	pr, err := cat.FindProduct(c.UserContext(), p, id)
	if err != nil {
		return err
	}
	return s.answerProduct(c, fiber.StatusOK, pr)
}

// publishProduct puts a product on sale.
func (s *Server) publishProduct(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	p, err := cat.PublishProduct(c.UserContext(), principal(c), id)
	if err != nil {
		return err
	}
	return s.answerProduct(c, fiber.StatusOK, p)
}

// reasonRequest is the body of a moderation decision.
type reasonRequest struct {
	Reason string `json:"reason"`
}

// unpublishProduct takes a published product down with a reason its
// cooperative sees.
func (s *Server) unpublishProduct(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := productParam(c)
	if err != nil {
		return err
	}
	var in reasonRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	p, err := cat.UnpublishProduct(c.UserContext(), principal(c), id, in.Reason)
	if err != nil {
		return err
	}
	return s.answerProduct(c, fiber.StatusOK, p)
}

// importCatalog creates and updates products from a catalog CSV, all or
// nothing.
func (s *Server) importCatalog(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	switch mediaType(c) {
	case "text/csv", "application/csv":
	default:
		return errs.E(errs.UnsupportedMedia, "send the catalog as text/csv")
	}
	body := c.Body()
	if len(body) > maxCatalogCSV {
		return errs.E(errs.TooLarge, "the catalog file is larger than %d MB; split it", maxCatalogCSV>>20)
	}
	res, err := cat.ImportCatalogCSV(c.UserContext(), principal(c), id, bytes.NewReader(body))
	if err != nil {
		return err
	}
	return c.JSON(res)
}

// exportCatalog writes a cooperative's catalog as a CSV that
// importCatalog reads back.
func (s *Server) exportCatalog(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var buf bytes.Buffer // whole, so that a failure midway is still a clean problem answer
	if err := cat.ExportCatalogCSV(c.UserContext(), principal(c), id, &buf); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="catalog-%d.csv"`, id))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// mediaType is the request's content type without parameters, lower case.
func mediaType(c *fiber.Ctx) string {
	return strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
}

// photoLimiter is the process-wide bound on photo processing.
func (s *Server) photoLimiter() *media.Limiter {
	if s.deps.PhotoLimiter != nil {
		return s.deps.PhotoLimiter
	}
	return media.DefaultLimiter()
}
