package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// mountCatalogPages registers the buyer's catalog pages: search, the craft
// categories, product and cooperative. The home page is registered by
// Mount and rendered here.
func (s *site) mountCatalogPages(app *fiber.App) {
	app.Get("/:lang<len(2)>/search", s.withLang(s.showSearchPage))
	app.Get("/:lang<len(2)>/crafts/:craft", s.withLang(s.showCraftPage))
	app.Get("/:lang<len(2)>/products/:slug", s.withLang(s.showProductPage))
	app.Get("/:lang<len(2)>/cooperatives/:slug", s.withLang(s.showCooperativePage))
}

// Sizes of the pictures, for the browser to pick a variant from srcset
// before the layout is known (see app.css: cards are at least 15rem wide,
// the product gallery half the page from 48rem on).
const (
	cardSizes    = "(min-width: 40rem) 18rem, 100vw"
	gallerySizes = "(min-width: 48rem) 36rem, 100vw"
	thumbSizes   = "5rem"
	cardWidth    = 640  // the variant a card's src names
	galleryWidth = 1280 // the variant the gallery's src names
	thumbWidth   = 320
	// eagerCards is how many cards of a list load at once; the rest wait
	// until they come near the screen.
	eagerCards = 2
)

// photoImg is a picture with its variants.
type photoImg struct {
	Src, SrcSet, Sizes, Alt string
	Large                   string // the largest variant, linked for a closer look
	Width, Height           int
	Lazy                    bool
}

// productCard is a product in a list.
type productCard struct {
	Slug, Title, Price, Commune, Cooperative, Craft string
	Certified, Available                            bool
	Photo                                           *photoImg
}

// mediaPath is the address of a public media key, written as a path when
// the media are served by this site (no host in the page) and as the
// store's absolute URL otherwise (MinIO, a CDN).
func (s *site) mediaPath(ctx context.Context, key string) (string, error) {
	u, err := s.deps.Media.URL(ctx, key, 0)
	if err != nil {
		return "", fmt.Errorf("address of %s: %w", key, err)
	}
	if rest, ok := strings.CutPrefix(u, s.baseURL()); ok && strings.HasPrefix(rest, "/") {
		return rest, nil
	}
	return u, nil
}

func (s *site) baseURL() string { return strings.TrimSuffix(s.deps.Config.BaseURL, "/") }

// absolute makes a path absolute on the site's base URL, for link previews
// and structured data.
func (s *site) absolute(u string) string {
	if strings.HasPrefix(u, "/") {
		return s.baseURL() + u
	}
	return u
}

// picture describes a photo for an <img>: every variant in srcset, src the
// smallest variant at least want pixels wide (or the largest), and width
// and height of that variant so the page does not jump while it loads.
func (s *site) picture(ctx context.Context, ph storefront.Photo, lang, fallbackAlt string, want int, sizes string, lazy bool) (*photoImg, error) {
	if len(ph.Variants) == 0 {
		return nil, nil
	}
	vs := append(storefront.PhotoVariants(nil), ph.Variants...)
	sort.SliceStable(vs, func(i, j int) bool { return vs[i].Width < vs[j].Width })
	img := &photoImg{Sizes: sizes, Lazy: lazy, Alt: Localized(ph.Alt, lang)}
	if img.Alt == "" {
		img.Alt = fallbackAlt
	}
	chosen := vs[len(vs)-1]
	for _, v := range vs {
		if v.Width >= want {
			chosen = v
			break
		}
	}
	set := make([]string, 0, len(vs))
	for _, v := range vs {
		u, err := s.mediaPath(ctx, v.Key)
		if err != nil {
			return nil, err
		}
		set = append(set, u+" "+strconv.Itoa(v.Width)+"w")
		if v.Key == chosen.Key {
			img.Src, img.Width, img.Height = u, v.Width, v.Height
		}
		img.Large = u
	}
	img.SrcSet = strings.Join(set, ", ")
	return img, nil
}

// cards turns products into cards; craftNames names the crafts.
func (s *site) cards(ctx context.Context, lang string, products []storefront.Product, craftNames map[string]string) ([]productCard, error) {
	out := make([]productCard, 0, len(products))
	for i, p := range products {
		title := Localized(p.Title, lang)
		c := productCard{Slug: p.Slug, Title: title, Commune: p.Commune, Cooperative: p.Cooperative.Name,
			Craft: craftNames[p.Craft], Certified: p.Certified, Available: p.Available}
		if p.Price != nil {
			c.Price = payment.MAD(*p.Price).Format(lang)
		}
		if len(p.Photos) > 0 {
			img, err := s.picture(ctx, p.Photos[0], lang, title, cardWidth, cardSizes, i >= eagerCards)
			if err != nil {
				return nil, err
			}
			c.Photo = img
		}
		out = append(out, c)
	}
	return out, nil
}

// craftNames reads the crafts: their names in lang by slug, and the slugs
// in display order.
func (s *site) craftNames(ctx context.Context, lang string) (map[string]string, []string, error) {
	crafts, err := s.deps.Catalog.ListCrafts(ctx)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(crafts))
	order := make([]string, 0, len(crafts))
	for _, c := range crafts {
		names[c.Slug] = Localized(c.Name, lang)
		order = append(order, c.Slug)
	}
	return names, order, nil
}

// homeView is what the home page shows.
type homeView struct {
	Crafts       []facetLink
	Certified    []productCard
	Latest       []productCard
	Cooperatives []storefront.CooperativeCard
	Places       []placeCard
}

// showHomePage shows the crafts with their counts, the certified pieces,
// the newest pieces, the featured cooperatives and the places.
func (s *site) showHomePage(c *fiber.Ctx, lang string) error {
	ctx := c.UserContext()
	places, err := s.loadPlacesFromBookings(c, lang)
	if err != nil {
		return err
	}
	names, order, err := s.craftNames(ctx, lang)
	if err != nil {
		return err
	}
	latest, err := s.deps.Catalog.FindProducts(ctx, storefront.ProductFilter{PerPage: 4, Cards: true})
	if err != nil {
		return err
	}
	yes := true
	certified, err := s.deps.Catalog.FindProducts(ctx, storefront.ProductFilter{Certified: &yes, PerPage: 4, Cards: true})
	if err != nil {
		return err
	}
	coops, err := s.deps.Catalog.FeaturedCooperatives(ctx, 6)
	if err != nil {
		return err
	}
	v := homeView{Places: places, Cooperatives: coops}
	for _, slug := range order {
		if n := latest.Facets.Craft[slug]; n > 0 {
			v.Crafts = append(v.Crafts, facetLink{Label: names[slug], Count: n, URL: "/" + lang + "/crafts/" + slug})
		}
	}
	if v.Certified, err = s.cards(ctx, lang, certified.Items, names); err != nil {
		return err
	}
	if v.Latest, err = s.cards(ctx, lang, latest.Items, names); err != nil {
		return err
	}
	p := s.page(c, lang, T(lang, "nav.home"), "/")
	p.Title = T(lang, "site.tagline")
	p.Description = T(lang, "home.description")
	return render(c, http.StatusOK, homePage(p, v))
}

// searchKeys are the query parameters of the search page: the filters of
// GET /api/v1/products, except that prices are written in dirhams
// ("120" or "120.50"), as people write them, rather than in centimes.
var searchKeys = []string{"q", "craft", "commune", "cooperative", "certified", "min_price", "max_price", "sort", "page"}

// facetLink is a link that narrows (or widens) a list, with its count.
type facetLink struct {
	Label  string
	Count  int64
	URL    string
	Active bool
}

type option struct {
	Value, Label string
	Selected     bool
}

type pageLink struct {
	N       int
	URL     string
	Current bool
}

// searchView is what the search and category pages show.
type searchView struct {
	Values    url.Values // the filters as written, for the form
	CraftName string     // set on a category page
	Action    string     // where the filter form goes
	Total     int64
	Items     []productCard
	Crafts    []facetLink
	Communes  []facetLink
	Certified []facetLink
	Sorts     []option
	Pages     []pageLink
	Prev      string
	Next      string
	// Ignored reports that some filters were not understood and were left
	// out.
	Ignored bool
	// Clear is the list without any filter (the words searched kept).
	Clear string
	// Suggest are crafts to browse when nothing matched.
	Suggest []facetLink
}

// searchURL is the address of a list: /{lang}/crafts/{craft} when a craft
// is chosen (one clean address per category), /{lang}/search otherwise,
// with the other filters as the query.
func searchURL(lang string, v url.Values) string {
	q := url.Values{}
	for k, vs := range v {
		if len(vs) > 0 && vs[0] != "" && k != "craft" {
			q.Set(k, vs[0])
		}
	}
	path := "/" + lang + "/search"
	if craft := v.Get("craft"); craft != "" {
		path = "/" + lang + "/crafts/" + url.PathEscape(craft)
	}
	if enc := q.Encode(); enc != "" {
		path += "?" + enc
	}
	return path
}

// with returns a copy of v with key set to value (removed when empty),
// back on the first page.
func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		if k != "page" && len(vs) > 0 {
			out.Set(k, vs[0])
		}
	}
	if value == "" {
		out.Del(key)
	} else {
		out.Set(key, value)
	}
	return out
}

// readSearch reads the list's filters from the query string (with craft
// preset on a category page) and turns them into a storefront filter. A
// filter that is not understood is left out and reported by ignored,
// rather than failing the page: the visitor still gets a list.
func readSearch(c *fiber.Ctx, craft string) (values url.Values, flt storefront.ProductFilter, ignored bool, err error) {
	raw, perr := url.ParseQuery(string(c.Request().URI().QueryString()))
	ignored = perr != nil
	values = url.Values{}
	for _, k := range searchKeys {
		if v := strings.TrimSpace(raw.Get(k)); v != "" {
			values.Set(k, v)
		}
	}
	if craft != "" {
		values.Set("craft", craft)
	}
	for range 2 {
		api := url.Values{}
		for k := range values {
			api.Set(k, values.Get(k))
		}
		for _, k := range []string{"min_price", "max_price"} {
			v := values.Get(k)
			if v == "" {
				continue
			}
			if strings.Trim(v, "0.") == "" { // "0": no bound
				values.Del(k)
				api.Del(k)
				continue
			}
			centimes, perr := storefront.ParseMAD(v)
			if perr != nil {
				values.Del(k)
				api.Del(k)
				ignored = true
				continue
			}
			api.Set(k, strconv.FormatInt(centimes, 10))
		}
		flt, err = storefront.ParseProductFilter(api)
		if err == nil {
			return values, flt, ignored, nil
		}
		e := errs.As(err)
		if e == nil || e.Code != errs.Invalid || len(e.Fields) == 0 {
			return nil, storefront.ProductFilter{}, false, err
		}
		for _, f := range e.Fields {
			if f.Field == "craft" && craft != "" {
				return nil, storefront.ProductFilter{}, false, errs.E(errs.NotFound, "no such craft")
			}
			values.Del(f.Field)
		}
		ignored = true
	}
	return nil, storefront.ProductFilter{}, false, err
}

// showSearchPage is the catalog with search, filters, facets, sort and
// pages. A chosen craft moves to the category's own address.
func (s *site) showSearchPage(c *fiber.Ctx, lang string) error {
	if craft := strings.TrimSpace(c.Query("craft")); craft != "" {
		values, _, _, err := readSearch(c, "")
		if err == nil && values.Get("craft") != "" {
			return c.Redirect(searchURL(lang, values), http.StatusMovedPermanently)
		}
	}
	return s.showList(c, lang, "")
}

// showCraftPage is the list of one craft: the search page with the craft
// chosen, at its own address.
func (s *site) showCraftPage(c *fiber.Ctx, lang string) error {
	return s.showList(c, lang, c.Params("craft"))
}

func (s *site) showList(c *fiber.Ctx, lang, craft string) error {
	ctx := c.UserContext()
	names, order, err := s.craftNames(ctx, lang)
	if err != nil {
		return err
	}
	if _, ok := names[craft]; craft != "" && !ok {
		return s.notFound(c, lang, strings.ReplaceAll(craft, "-", " "), T(lang, "search.no_craft"))
	}
	values, flt, ignored, err := readSearch(c, craft)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return s.notFound(c, lang, "", T(lang, "search.no_craft"))
		}
		return err
	}
	flt.Cards = true // the page shows cards only
	list, err := s.deps.Catalog.FindProducts(ctx, flt)
	if err != nil {
		return err
	}
	v := searchView{Values: values, Total: list.Total, Ignored: ignored, Action: searchURL(lang, url.Values{"craft": {craft}})}
	if v.Items, err = s.cards(ctx, lang, list.Items, names); err != nil {
		return err
	}
	current := values.Get("craft")
	for _, slug := range order {
		n, ok := list.Facets.Craft[slug]
		if !ok || n == 0 && slug != current {
			continue
		}
		link := facetLink{Label: names[slug], Count: n, Active: slug == current, URL: searchURL(lang, with(values, "craft", slug))}
		if link.Active {
			link.URL = searchURL(lang, with(values, "craft", ""))
		}
		v.Crafts = append(v.Crafts, link)
	}
	communes := make([]string, 0, len(list.Facets.Commune))
	for name := range list.Facets.Commune {
		communes = append(communes, name)
	}
	sort.Slice(communes, func(i, j int) bool {
		a, b := list.Facets.Commune[communes[i]], list.Facets.Commune[communes[j]]
		return a > b || a == b && communes[i] < communes[j]
	})
	for _, name := range communes {
		link := facetLink{Label: name, Count: list.Facets.Commune[name], Active: name == values.Get("commune"),
			URL: searchURL(lang, with(values, "commune", name))}
		if link.Active {
			link.URL = searchURL(lang, with(values, "commune", ""))
		}
		v.Communes = append(v.Communes, link)
	}
	for _, b := range []string{"true", "false"} {
		if n := list.Facets.Certified[b]; n > 0 || values.Get("certified") == b {
			active := flt.Certified != nil && strconv.FormatBool(*flt.Certified) == b
			link := facetLink{Label: T(lang, "search.certified."+b), Count: n, Active: active, URL: searchURL(lang, with(values, "certified", b))}
			if active {
				link.URL = searchURL(lang, with(values, "certified", ""))
			}
			v.Certified = append(v.Certified, link)
		}
	}
	sorts := []string{storefront.SortNewest, storefront.SortPriceAsc, storefront.SortPriceDesc}
	if flt.Q != "" {
		sorts = append([]string{storefront.SortRelevance}, sorts...)
	}
	for _, so := range sorts {
		v.Sorts = append(v.Sorts, option{Value: so, Label: T(lang, "search.sort."+so), Selected: so == flt.Sort})
	}
	v.Pages, v.Prev, v.Next = pagination(lang, values, flt.Page, flt.PerPage, list.Total)
	clear := url.Values{}
	if q := values.Get("q"); q != "" {
		clear.Set("q", q)
	}
	v.Clear = searchURL(lang, clear)
	if list.Total == 0 {
		for _, slug := range order {
			v.Suggest = append(v.Suggest, facetLink{Label: names[slug], URL: "/" + lang + "/crafts/" + slug})
		}
	}

	title := T(lang, "search.title")
	canonical := "/search"
	if craft != "" {
		v.CraftName = names[craft]
		title = v.CraftName
		canonical = "/crafts/" + url.PathEscape(craft)
	}
	if q := values.Get("q"); q != "" {
		title = fmt.Sprintf(T(lang, "search.title_q"), q)
	}
	if flt.Page > 1 {
		title += " · " + fmt.Sprintf(T(lang, "search.page_n"), flt.Page)
	}
	p := s.page(c, lang, title, canonical)
	p.Query = values.Get("q")
	if craft != "" {
		p.Description = fmt.Sprintf(T(lang, "search.craft_description"), v.CraftName)
	} else {
		p.Description = T(lang, "search.description")
	}
	// A category's pages are its addresses; any other filter makes a
	// variant that is not indexed.
	for k := range values {
		if k != "craft" && k != "page" {
			p.NoIndex = true
		}
	}
	if flt.Page > 1 {
		p.Canonical += "?page=" + strconv.Itoa(flt.Page)
	}
	return render(c, http.StatusOK, searchPage(p, v))
}

// pagination returns links to the first and last pages, the pages around
// the current one, and the previous and next pages. Lists go as deep as
// the storefront allows (10,000 products).
func pagination(lang string, values url.Values, page, perPage int, total int64) (links []pageLink, prev, next string) {
	const deepest = 10_000
	last := int((total + int64(perPage) - 1) / int64(perPage))
	if limit := (deepest-1)/perPage + 1; last > limit {
		last = limit
	}
	if last <= 1 {
		return nil, "", ""
	}
	at := func(n int) string {
		if n == 1 {
			return searchURL(lang, with(values, "page", ""))
		}
		return searchURL(lang, with(values, "page", strconv.Itoa(n)))
	}
	for n := 1; n <= last; n++ {
		if n == 1 || n == last || n >= page-2 && n <= page+2 {
			links = append(links, pageLink{N: n, URL: at(n), Current: n == page})
		}
	}
	if page > 1 {
		prev = at(min(page-1, last))
	}
	if page < last {
		next = at(page + 1)
	}
	return links, prev, next
}

// notFound answers 404 with the error page, its search box holding words
// that may find what the visitor was after.
func (s *site) notFound(c *fiber.Ctx, lang, query, message string) error {
	p := s.page(c, lang, T(lang, "error.title"), "")
	p.NoIndex = true
	p.Query = query
	return render(c, http.StatusNotFound, errorPage(p, http.StatusNotFound, message))
}

// productPageView is what the product page shows.
type productPageView struct {
	ID           int64
	Slug         string
	Title        string
	Description  string
	CraftSlug    string
	CraftName    string
	Commune      string
	Cooperative  storefront.CooperativeRef
	Artisan      string
	Materials    string
	Dimensions   string
	Weight       string
	Price        string
	Approx       []string
	Stock        string
	CanBuy       bool
	MaxQuantity  int
	Certified    bool
	Certificates []certBadge
	Photos       []photoImg
	Thumbs       []photoImg
	Shipping     []shippingLine
	CSRFToken    string
	LD           templ.Component
}

// certBadge is a certificate that makes the product certified.
type certBadge struct {
	Number, Scheme, Level, Until string
}

// certLabel names a certificate: scheme, level, number.
func certLabel(lang string, c certBadge) string {
	parts := []string{c.Scheme}
	if c.Level != "" {
		parts = append(parts, T(lang, "cert.level")+" "+c.Level)
	}
	return strings.Join(append(parts, c.Number), " · ")
}

type shippingLine struct {
	Zone, Price string
}

// shippingDestinations are the zones the product page prices, each by a
// country of the zone.
var shippingDestinations = []struct{ country, key string }{
	{"MA", "product.ship.ma"}, {"FR", "product.ship.eu"}, {"US", "product.ship.world"},
}

// maxMadeToOrderQuantity bounds the quantity field of a made-to-order piece.
const maxMadeToOrderQuantity = 20

// showProductPage shows a published product: gallery, price in MAD with
// approximations, availability, certificates (rule 6), cooperative and
// artisan, shipping estimates and the add-to-cart form, with JSON-LD.
func (s *site) showProductPage(c *fiber.Ctx, lang string) error {
	ctx := c.UserContext()
	slug := c.Params("slug")
	pr, err := s.deps.Catalog.FindProductBySlug(ctx, nil, slug)
	if errs.Is(err, errs.NotFound) {
		return s.notFound(c, lang, strings.ReplaceAll(slug, "-", " "), T(lang, "product.not_found"))
	}
	if err != nil {
		return err
	}
	// Crafts, scheme names and shipping rates come from the per-process
	// copy of the reference data (at most SOUK_COUNT_CACHE_TTL old); the
	// product, its photos and certificates are read fresh on every request.
	ref, err := s.deps.Catalog.Reference(ctx)
	if err != nil {
		return err
	}
	craft, err := ref.Craft(pr.Craft)
	if err != nil {
		return err
	}
	title := Localized(pr.Title, lang)
	v := productPageView{ID: pr.ID, Slug: pr.Slug, Title: title, Description: Localized(pr.Description, lang),
		CraftSlug: craft.Slug, CraftName: Localized(craft.Name, lang), Commune: pr.Commune, Cooperative: pr.Cooperative,
		Materials: strings.Join(pr.Materials, ", "), CSRFToken: s.csrfToken(c)}
	if pr.ArtisanID != nil {
		name, err := s.deps.Catalog.FindArtisanName(ctx, pr.Cooperative.ID, *pr.ArtisanID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		v.Artisan = name
	}
	v.Dimensions = dimensions(pr.Dimensions)
	weight := storefront.DefaultWeightG
	if pr.WeightG != nil {
		weight = *pr.WeightG
		v.Weight = strconv.Itoa(weight) + " g"
	}
	if pr.Price != nil {
		price := payment.MAD(*pr.Price)
		v.Price = price.Format(lang)
		for _, r := range s.rates {
			if a, err := payment.Approx(price, r); err == nil {
				v.Approx = append(v.Approx, "≈ "+a.Format(lang))
			}
		}
	}
	switch {
	case !pr.Available:
		v.Stock = T(lang, "product.sold_out")
	case pr.Stock > 0 && pr.OneOfAKind:
		v.Stock, v.CanBuy, v.MaxQuantity = T(lang, "product.one_of_a_kind"), true, 1
	case pr.Stock > 0:
		v.Stock, v.CanBuy, v.MaxQuantity = N(lang, "product.in_stock", pr.Stock), true, pr.Stock
	default: // made to order
		v.Stock, v.CanBuy, v.MaxQuantity = N(lang, "product.made_to_order", *pr.MadeToOrderDays), true, maxMadeToOrderQuantity
	}
	// Rule 6: the badge and the certificates shown are only those verified
	// by an administrator and valid today. The public product holds no
	// other, and the status is checked again here so that a change there
	// cannot put a badge on a page.
	for _, ce := range pr.Certificates {
		if ce.Status != storefront.CertificateVerified {
			continue
		}
		name := ce.Scheme
		if sc, ok := ref.Scheme(ce.Scheme); ok {
			if n := Localized(sc.Name, lang); n != "" {
				name = n
			}
		}
		v.Certificates = append(v.Certificates, certBadge{Number: ce.Number, Scheme: name, Level: ce.Level, Until: ce.ValidUntil.String()})
	}
	v.Certified = pr.Certified && len(v.Certificates) > 0
	for i, ph := range pr.Photos {
		img, err := s.picture(ctx, ph, lang, title, galleryWidth, gallerySizes, i > 0)
		if err != nil {
			return err
		}
		if img == nil {
			continue
		}
		v.Photos = append(v.Photos, *img)
		if len(pr.Photos) > 1 {
			th, err := s.picture(ctx, ph, lang, title, thumbWidth, thumbSizes, true)
			if err != nil {
				return err
			}
			v.Thumbs = append(v.Thumbs, *th)
		}
	}
	fragile := 0
	if craft.Fragile {
		fragile = 1
	}
	for _, d := range shippingDestinations {
		q, err := ref.QuoteShipping(d.country, weight, fragile)
		if errs.Is(err, errs.Invalid) {
			continue // too heavy for one parcel: the checkout says how to split it
		}
		if err != nil {
			return err
		}
		v.Shipping = append(v.Shipping, shippingLine{Zone: T(lang, d.key), Price: payment.MAD(q.Amount).Format(lang)})
	}
	canonical := "/products/" + pr.Slug
	v.LD = templ.JSONScript("product-ld", s.productLD(pr, v, lang, canonical)).WithType("application/ld+json")

	p := s.page(c, lang, title, canonical)
	p.Description = summary(v.Description, title+" · "+pr.Cooperative.Name)
	p.OGType = "product"
	if len(v.Photos) > 0 {
		p.Image = s.absolute(v.Photos[0].Src)
	}
	return render(c, http.StatusOK, productPage(p, v))
}

func (s *site) schemeNames(ctx context.Context, lang string) (map[string]string, error) {
	schemes, err := s.deps.Catalog.ListCertificateSchemes(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(schemes))
	for _, sc := range schemes {
		out[sc.Slug] = Localized(sc.Name, lang)
	}
	return out, nil
}

// dimensions writes "H 25 × W 30 × D 30 cm" from what is known.
func dimensions(d storefront.Dimensions) string {
	var parts []string
	for _, x := range []*float64{d.Height, d.Width, d.Depth} {
		if x != nil {
			parts = append(parts, strconv.FormatFloat(*x, 'f', -1, 64))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, " × ") + " cm"
}

// summary is the first sentence-sized part of a text, for descriptions.
func summary(text, fallback string) string {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return fallback
	}
	if r := []rune(text); len(r) > 160 {
		return string(r[:157]) + "…"
	}
	return text
}

// Structured data of a product (schema.org Product with an Offer).
type (
	ldProduct struct {
		Context     string   `json:"@context"`
		Type        string   `json:"@type"`
		Name        string   `json:"name"`
		Description string   `json:"description,omitempty"`
		SKU         string   `json:"sku"`
		URL         string   `json:"url"`
		Image       []string `json:"image,omitempty"`
		Category    string   `json:"category,omitempty"`
		Brand       ldThing  `json:"brand"`
		Offers      ldOffer  `json:"offers"`
	}
	ldThing struct {
		Type string `json:"@type"`
		Name string `json:"name"`
	}
	ldOffer struct {
		Type          string  `json:"@type"`
		Price         string  `json:"price"`
		PriceCurrency string  `json:"priceCurrency"`
		Availability  string  `json:"availability"`
		URL           string  `json:"url"`
		Seller        ldThing `json:"seller"`
	}
)

func (s *site) productLD(pr storefront.Product, v productPageView, lang, canonical string) ldProduct {
	u := s.baseURL() + "/" + lang + canonical
	ld := ldProduct{Context: "https://schema.org", Type: "Product", Name: v.Title, Description: v.Description,
		SKU: pr.Slug, URL: u, Category: v.CraftName, Brand: ldThing{Type: "Organization", Name: pr.Cooperative.Name},
		Offers: ldOffer{Type: "Offer", PriceCurrency: storefront.Currency, URL: u,
			Availability: "https://schema.org/OutOfStock", Seller: ldThing{Type: "Organization", Name: pr.Cooperative.Name}}}
	if pr.Price != nil {
		ld.Offers.Price = storefront.FormatMAD(*pr.Price) // a decimal string from the centimes: no float
	}
	switch {
	case !pr.Available:
	case pr.Stock > 0:
		ld.Offers.Availability = "https://schema.org/InStock"
	default:
		ld.Offers.Availability = "https://schema.org/MadeToOrder"
	}
	for _, ph := range v.Photos {
		ld.Image = append(ld.Image, s.absolute(ph.Large))
	}
	return ld
}

// cooperativeView is what the cooperative page shows.
type cooperativeView struct {
	Profile  storefront.CooperativeProfile
	Story    string
	Crafts   []facetLink
	Certs    []certBadge
	Products []productCard
	Total    int64
	All      string // the search page listing all its products, when they do not fit
}

// showCooperativePage shows a verified cooperative: its story, commune,
// members, certificates that count today, and its products.
func (s *site) showCooperativePage(c *fiber.Ctx, lang string) error {
	ctx := c.UserContext()
	slug := c.Params("slug")
	prof, err := s.deps.Catalog.FindCooperativeProfile(ctx, slug)
	if errs.Is(err, errs.NotFound) {
		return s.notFound(c, lang, strings.ReplaceAll(slug, "-", " "), T(lang, "coop.not_found"))
	}
	if err != nil {
		return err
	}
	names, _, err := s.craftNames(ctx, lang)
	if err != nil {
		return err
	}
	list, err := s.deps.Catalog.FindProducts(ctx, storefront.ProductFilter{Cooperative: prof.Slug, Cards: true})
	if err != nil {
		return err
	}
	v := cooperativeView{Profile: prof, Story: Localized(prof.Story, lang), Total: list.Total}
	if v.Products, err = s.cards(ctx, lang, list.Items, names); err != nil {
		return err
	}
	if list.Total > int64(len(list.Items)) {
		v.All = searchURL(lang, url.Values{"cooperative": {prof.Slug}})
	}
	for _, cr := range prof.Crafts {
		if name, ok := names[cr]; ok {
			v.Crafts = append(v.Crafts, facetLink{Label: name, URL: "/" + lang + "/crafts/" + cr})
		}
	}
	for _, ce := range prof.Certificates {
		v.Certs = append(v.Certs, certBadge{Number: ce.Number, Scheme: Localized(ce.SchemeName, lang), Level: ce.Level, Until: ce.ValidUntil.String()})
	}
	p := s.page(c, lang, prof.Name, "/cooperatives/"+prof.Slug)
	p.Description = summary(v.Story, prof.Name+" · "+prof.Commune)
	if len(v.Products) > 0 && v.Products[0].Photo != nil {
		p.Image = s.absolute(v.Products[0].Photo.Src)
	}
	return render(c, http.StatusOK, cooperativePage(p, v))
}
