package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/net/html"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/server"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/storefront"
	"github.com/souk-tiznit/souk/web"
)

// shop is a real server with the whole demo (places and catalog, photos
// through the real pipeline) and a counter of the SQL statements it runs.
type shop struct {
	URL string
	*server.Server
	queries atomic.Int64
}

// startShop builds the server, seeds the demo and registers the counter
// before it serves (GORM's callbacks must not change while queries run).
func startShop(tb testing.TB) *shop {
	tb.Helper()
	cfg := testserver.Config(tb, testserver.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)),
		server.Options{Version: "test", PasswordParams: account.TestPasswordParams})
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	if _, err := demo.Seed(ctx, srv.DB, demo.Options{Media: srv.Media, Password: account.TestPasswordParams}); err != nil {
		cancel()
		tb.Fatal(err)
	}
	s := &shop{Server: srv}
	count := func(*gorm.DB) { s.queries.Add(1) }
	cb := srv.DB.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("test:count_query", count),
		cb.Row().After("gorm:row").Register("test:count_row", count),
		cb.Raw().After("gorm:raw").Register("test:count_raw", count),
	} {
		if err != nil {
			cancel()
			tb.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		tb.Fatal(err)
	}
	s.URL = "http://" + ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return s
}

// fetch gets a page and reports how many statements answering it took.
func (s *shop) fetch(tb testing.TB, path string) (*http.Response, string, int64) {
	tb.Helper()
	before := s.queries.Load()
	resp, body := get(tb, s.URL+path, nil)
	return resp, body, s.queries.Load() - before
}

// slugs of the demo the tests visit.
func (s *shop) productSlug(tb testing.TB, q string) string {
	tb.Helper()
	l, err := s.Catalog.FindProducts(context.Background(), storefront.ProductFilter{Q: q})
	if err != nil || len(l.Items) == 0 {
		tb.Fatalf("no demo product for %q: %v", q, err)
	}
	return l.Items[0].Slug
}

func (s *shop) cooperativeSlug(tb testing.TB, nameLike string) string {
	tb.Helper()
	var slug string
	if err := s.DB.Raw("SELECT slug FROM cooperatives WHERE name LIKE ?", "%"+nameLike+"%").Scan(&slug).Error; err != nil || slug == "" {
		tb.Fatalf("no demo cooperative like %q: %v", nameLike, err)
	}
	return slug
}

// missingKey is how T shows a message missing from a catalog: [key].
var missingKey = regexp.MustCompile(`\[[a-z_]+(\.[a-z_0-9]+)+\.?\]`)

// pageCheck is what every page must satisfy, whatever its kind.
type pageCheck struct {
	lang, path string
	status     int
	indexed    bool // canonical and hreflang alternates expected
}

// checkPage parses body and reports every defect it finds.
func checkPage(t *testing.T, base string, pc pageCheck, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !strings.HasPrefix(body, "<!doctype html>") && !strings.HasPrefix(body, "<!DOCTYPE html>") {
		t.Errorf("no doctype")
	}
	var root *html.Node
	for n := doc.FirstChild; n != nil; n = n.NextSibling {
		if n.Type == html.ElementNode && n.Data == "html" {
			root = n
		}
	}
	if root == nil {
		t.Fatal("no <html>")
	}
	wantDir := "ltr"
	if pc.lang == "ar" {
		wantDir = "rtl"
	}
	if attr(root, "lang") != pc.lang || attr(root, "dir") != wantDir {
		t.Errorf("html lang=%q dir=%q, want %q %q", attr(root, "lang"), attr(root, "dir"), pc.lang, wantDir)
	}
	counts := map[string]int{}
	hreflang := map[string]string{}
	var canonical string
	ids := map[string]bool{}
	walk(doc, func(n *html.Node) {
		if n.Type == html.TextNode && missingKey.MatchString(n.Data) {
			t.Errorf("missing message %s", missingKey.FindString(n.Data))
		}
		if n.Type != html.ElementNode {
			return
		}
		if n.Data != "title" || n.Parent != nil && n.Parent.Data == "head" { // an SVG has titles of its own
			counts[n.Data]++
		}
		for _, a := range n.Attr {
			if missingKey.MatchString(a.Val) {
				t.Errorf("missing message in <%s %s>: %s", n.Data, a.Key, a.Val)
			}
			if a.Key == "id" {
				if ids[a.Val] {
					t.Errorf("duplicate id %q", a.Val)
				}
				ids[a.Val] = true
			}
		}
		switch n.Data {
		case "img":
			if attr(n, "alt") == "" || attr(n, "width") == "" || attr(n, "height") == "" {
				t.Errorf("img %s lacks alt, width or height", attr(n, "src"))
			}
		case "link":
			switch attr(n, "rel") {
			case "canonical":
				canonical = attr(n, "href")
			case "alternate":
				hreflang[attr(n, "hreflang")] = attr(n, "href")
			}
		}
		// Nothing the page loads or sends goes to another host; the
		// canonical and alternate links name the site's own base URL.
		for _, key := range []string{"src", "href", "action", "srcset", "data-src", "data-srcset"} {
			v, ok := hasAttr(n, key)
			if !ok {
				continue
			}
			for _, u := range strings.Split(v, ",") {
				u = strings.TrimSpace(u)
				if n.Data == "link" && strings.HasPrefix(u, base+"/") {
					continue
				}
				if strings.Contains(u, "://") || strings.HasPrefix(u, "//") {
					t.Errorf("<%s %s=%q> points to another host", n.Data, key, u)
				}
			}
		}
	})
	for _, el := range []string{"head", "body", "title", "main", "header", "footer"} {
		if counts[el] != 1 {
			t.Errorf("%d <%s>, want 1", counts[el], el)
		}
	}
	if counts["h1"] != 1 {
		t.Errorf("%d <h1>, want 1", counts["h1"])
	}
	if pc.indexed {
		if canonical == "" {
			t.Error("no canonical link")
		}
		for _, l := range append(append([]string{}, web.Languages...), "x-default") {
			if hreflang[l] == "" {
				t.Errorf("no hreflang alternate for %s", l)
			}
		}
		if want := base + "/" + pc.lang; !strings.HasPrefix(canonical, want) {
			t.Errorf("canonical %q is not under %s", canonical, want)
		}
	}
	return doc
}

func walk(n *html.Node, f func(*html.Node)) {
	f(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, f)
	}
}

func hasAttr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// find returns the elements for which match is true.
func find(doc *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(doc, func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
	})
	return out
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// Every page kind, in the three languages, from a real server with the
// demo: well-formed, lang and dir right, no missing message, pictures
// described and sized, nothing from another host, canonical and hreflang
// on indexable pages, JSON-LD on products, and few queries per page.
func TestCatalogPagesInEveryLanguage(t *testing.T) {
	s := startShop(t)
	base := s.Config.BaseURL
	tagine := s.productSlug(t, "tajine anzi")
	anzi := s.cooperativeSlug(t, "potières d'Anzi")
	for _, pc := range []struct {
		name       string
		path       string
		status     int
		indexed    bool
		maxQueries int64
	}{
		{"home", "/", 200, true, 18},
		{"search", "/search", 200, true, 8},
		{"search with filters", "/search?q=tajine&commune=Anzi&certified=true&min_price=100&max_price=2000&sort=price_asc", 200, false, 10},
		{"search empty", "/search?q=zzzzqqq", 200, false, 4},
		{"category", "/crafts/pottery", 200, true, 8},
		{"product", "/products/" + tagine, 200, true, 10},
		{"cooperative", "/cooperatives/" + anzi, 200, true, 10},
		{"certificate", "/certificates/MFM-2025-0412", 200, true, 4},
		{"venues", "/venues", 200, true, 4},
		{"venue", "/venues/aouartas-artisan-zone", 200, true, 8},
		{"unknown product", "/products/no-such-piece", 404, false, 3},
		{"unknown page", "/no/such/page", 404, false, 2},
	} {
		for _, lang := range web.Languages {
			t.Run(pc.name+"/"+lang, func(t *testing.T) {
				resp, body, queries := s.fetch(t, "/"+lang+pc.path)
				if resp.StatusCode != pc.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, pc.status)
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
				}
				t.Logf("%d queries", queries)
				if queries > pc.maxQueries {
					t.Errorf("%d queries, want at most %d", queries, pc.maxQueries)
				}
				doc := checkPage(t, base, pageCheck{lang: lang, path: pc.path, status: pc.status, indexed: pc.indexed}, body)
				if pc.status == 404 {
					checkHelpfulError(t, doc, lang)
				}
				if pc.name == "product" {
					checkProductLD(t, doc, base+"/"+lang+"/products/"+tagine)
				}
			})
		}
	}
}

func checkHelpfulError(t *testing.T, doc *html.Node, lang string) {
	t.Helper()
	if len(find(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "name") == "robots" })) == 0 {
		t.Error("an error page must not be indexed")
	}
	forms := find(doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == "/"+lang+"/search" })
	if len(forms) < 2 { // the header's and the page's own
		t.Errorf("%d search forms, want the header's and the page's", len(forms))
	}
	if len(find(doc, func(n *html.Node) bool { return n.Data == "a" && attr(n, "href") == "/"+lang+"/" })) == 0 {
		t.Error("no link home")
	}
}

func checkProductLD(t *testing.T, doc *html.Node, wantURL string) {
	t.Helper()
	scripts := find(doc, func(n *html.Node) bool { return n.Data == "script" && attr(n, "type") == "application/ld+json" })
	if len(scripts) != 1 {
		t.Fatalf("%d JSON-LD scripts, want 1", len(scripts))
	}
	var ld struct {
		Context string   `json:"@context"`
		Type    string   `json:"@type"`
		Name    string   `json:"name"`
		URL     string   `json:"url"`
		Image   []string `json:"image"`
		Offers  struct {
			Type          string `json:"@type"`
			Price         string `json:"price"`
			PriceCurrency string `json:"priceCurrency"`
			Availability  string `json:"availability"`
		} `json:"offers"`
	}
	if err := json.Unmarshal([]byte(text(scripts[0])), &ld); err != nil {
		t.Fatalf("JSON-LD: %v\n%s", err, text(scripts[0]))
	}
	if ld.Context != "https://schema.org" || ld.Type != "Product" || ld.Name == "" || ld.URL != wantURL || len(ld.Image) == 0 {
		t.Errorf("JSON-LD product: %+v", ld)
	}
	// 350 MAD, written from the centimes (35000) as a decimal string.
	if ld.Offers.Type != "Offer" || ld.Offers.Price != "350.00" || ld.Offers.PriceCurrency != "MAD" || ld.Offers.Availability != "https://schema.org/InStock" {
		t.Errorf("JSON-LD offer: %+v", ld.Offers)
	}
}

// The product page: price in MAD with approximations in EUR and USD from
// the configured rates, stock, the certificate badge linking to the
// public check, the cooperative, shipping to Morocco and Europe, the
// add-to-cart form, a gallery with every variant; small once compressed.
func TestProductPage(t *testing.T) {
	s := startShop(t)
	tagine := s.productSlug(t, "tajine anzi")
	_, body, _ := s.fetch(t, "/fr/products/"+tagine)
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	page := text(doc) // no-break spaces read as spaces
	if !strings.Contains(body, "350,00\u00a0MAD") {
		t.Error("the price is not kept on one line")
	}
	// 350 MAD at 0.092 EUR and 0.108 USD: 32.20 EUR, 37.80 USD (integers only).
	for _, want := range []string{"350,00 MAD", "≈ 32,20 EUR", "≈ 37,80 USD", "En stock : 12 pièces",
		"Coopérative des potières d'Anzi", "Maroc", "Europe", "Certifié", "MFM-2025-0412", "Poterie"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if n := len(find(doc, func(n *html.Node) bool {
		return n.Data == "a" && attr(n, "href") == "/fr/certificates/MFM-2025-0412"
	})); n != 1 {
		t.Errorf("%d links to the certificate check, want 1", n)
	}
	forms := find(doc, func(n *html.Node) bool { return n.Data == "form" && attr(n, "action") == "/fr/cart/items" })
	if len(forms) != 1 || attr(forms[0], "method") != "post" {
		t.Fatalf("add-to-cart form: %d", len(forms))
	}
	fields := map[string]*html.Node{}
	for _, in := range find(forms[0], func(n *html.Node) bool { return n.Data == "input" }) {
		fields[attr(in, "name")] = in
	}
	pr, err := s.Catalog.FindProductBySlug(context.Background(), nil, tagine)
	if err != nil {
		t.Fatal(err)
	}
	if in := fields["product_id"]; in == nil || attr(in, "value") != fmt.Sprint(pr.ID) {
		t.Error("no product_id field with the product's id")
	}
	if in := fields["quantity"]; in == nil || attr(in, "max") != "12" || attr(in, "min") != "1" {
		t.Error("no quantity field bounded by the stock")
	}
	if in, ok := fields["csrf_token"]; !ok || attr(in, "type") != "hidden" {
		t.Error("no hidden csrf_token field")
	}
	imgs := find(doc, func(n *html.Node) bool { return n.Data == "img" && strings.Contains(attr(n, "src"), "/media/") })
	if len(imgs) == 0 {
		t.Fatal("no photo")
	}
	main := imgs[0]
	if strings.Count(attr(main, "srcset"), "w,")+1 != len(pr.Photos[0].Variants) || attr(main, "sizes") == "" {
		t.Errorf("the photo's srcset does not list its %d variants: %q", len(pr.Photos[0].Variants), attr(main, "srcset"))
	}
	if attr(main, "loading") == "lazy" {
		t.Error("the first photo is above the fold: it must not wait")
	}
	og := find(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "property") == "og:image" })
	if len(og) != 1 || !strings.HasPrefix(attr(og[0], "content"), s.Config.BaseURL+"/media/") {
		t.Error("no absolute og:image")
	}
	// The photo is served.
	if resp, _ := get(t, s.URL+attr(main, "src"), nil); resp.StatusCode != 200 {
		t.Errorf("photo %s: %d", attr(main, "src"), resp.StatusCode)
	}

	// Under 30 KB compressed.
	req, _ := http.NewRequest("GET", s.URL+"/fr/products/"+tagine, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	gz, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || len(gz) >= 30<<10 {
		t.Errorf("product page: %d bytes, encoding %q; want gzip under 30 KB", len(gz), resp.Header.Get("Content-Encoding"))
	}

	t.Run("MadeToOrder", func(t *testing.T) {
		_, body, _ := s.fetch(t, "/fr/products/"+s.productSlug(t, "mbakhra"))
		if !strings.Contains(body, "Fait sur commande, prêt en 10 jours") || !strings.Contains(body, `action="/fr/cart/items"`) {
			t.Error("a made-to-order piece shows its lead time and can be ordered")
		}
		_, body, _ = s.fetch(t, "/ar/products/"+s.productSlug(t, "mbakhra"))
		if !strings.Contains(body, "تصنع عند الطلب، جاهزة في 10 أيام") {
			t.Error("Arabic lead time (few form) missing")
		}
	})
	t.Run("SoldOut", func(t *testing.T) {
		slug := s.productSlug(t, "khabia")
		s.DB.Exec("UPDATE products SET stock = 0 WHERE slug = ?", slug)
		_, body, _ := s.fetch(t, "/en/products/"+slug)
		if !strings.Contains(body, "Sold out") || strings.Contains(body, `action="/en/cart/items"`) || !strings.Contains(body, "schema.org/OutOfStock") {
			t.Error("a sold-out piece says so and offers no cart form")
		}
	})
	t.Run("LanguageFallback", func(t *testing.T) {
		// The Tighmi tagine has no English title: English falls back to French.
		_, body, _ := s.fetch(t, "/en/products/"+s.productSlug(t, "tighmi"))
		if !strings.Contains(body, "<h1>Petit tajine de Tighmi</h1>") {
			t.Error("the English page does not fall back to the French title")
		}
	})
	t.Run("ErrUnpublished", func(t *testing.T) {
		slug := s.productSlug(t, "tapis")
		s.DB.Exec("UPDATE products SET status = 'draft' WHERE slug = ?", slug)
		resp, body, _ := s.fetch(t, "/fr/products/"+slug)
		if resp.StatusCode != 404 || !strings.Contains(body, `value="tapis amazigh en laine"`) {
			t.Errorf("an unpublished piece: %d, and its words should fill the search box", resp.StatusCode)
		}
	})
}

// Rule 6 on the page: the badge shows only for a certificate an
// administrator verified and that has not expired.
func TestProductPageBadgeOnlyForVerifiedUnexpiredCertificate(t *testing.T) {
	s := startShop(t)
	tagine := s.productSlug(t, "tajine anzi")
	anzi := s.cooperativeSlug(t, "potières d'Anzi")
	// badges counts the certified badges the tagine shows on a page: on its
	// own page, or on its cards in a list; and the links to its certificate.
	badges := func(path string) (badges, links int) {
		t.Helper()
		_, body, _ := s.fetch(t, path)
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		scopes := find(doc, func(n *html.Node) bool { return n.Data == "li" && attr(n, "data-product") == tagine })
		if strings.Contains(path, "/products/") || strings.Contains(path, "/cooperatives/") {
			scopes = []*html.Node{doc}
		}
		for _, sc := range scopes {
			badges += len(find(sc, func(n *html.Node) bool { _, ok := hasAttr(n, "data-badge"); return ok }))
		}
		links = len(find(doc, func(n *html.Node) bool {
			return n.Data == "a" && strings.HasSuffix(attr(n, "href"), "/certificates/MFM-2025-0412")
		}))
		return badges, links
	}
	paths := []string{"/fr/products/" + tagine, "/fr/cooperatives/" + anzi, "/fr/search?q=tajine", "/ar/"}
	for _, path := range paths {
		if b, _ := badges(path); b == 0 {
			t.Fatalf("%s: the verified, valid certificate shows no badge", path)
		}
	}
	yesterday := storefront.DateOf(time.Now()).AddDays(-1).String()
	for _, tc := range []struct{ name, sql string }{
		{"Pending", "UPDATE certificates SET status = 'pending' WHERE number = 'MFM-2025-0412'"},
		{"Rejected", "UPDATE certificates SET status = 'rejected' WHERE number = 'MFM-2025-0412'"},
		{"Expired", "UPDATE certificates SET status = 'verified', valid_until = '" + yesterday + "' WHERE number = 'MFM-2025-0412'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.DB.Exec(tc.sql).Error; err != nil {
				t.Fatal(err)
			}
			for _, path := range paths {
				if b, l := badges(path); b != 0 || l != 0 {
					t.Errorf("%s: %d badges and %d links for a %s certificate", path, b, l, strings.ToLower(tc.name))
				}
			}
		})
	}
}

// The search page: the API's filters, facets as links with counts, sort,
// prices in dirhams, a category address, pages, and a helpful empty state.
func TestSearchPage(t *testing.T) {
	s := startShop(t)
	_, body, _ := s.fetch(t, "/fr/search")
	doc, _ := html.Parse(strings.NewReader(body))
	facet := func(doc *html.Node, id string) map[string]string {
		out := map[string]string{}
		for _, sec := range find(doc, func(n *html.Node) bool { return n.Data == "section" && attr(n, "aria-labelledby") == id }) {
			for _, a := range find(sec, func(n *html.Node) bool { return n.Data == "a" }) {
				out[text(a)] = attr(a, "href")
			}
		}
		return out
	}
	crafts := facet(doc, "facet-craft")
	if crafts["Poterie 5"] != "/fr/crafts/pottery" || crafts["Bijoux en argent 1"] != "/fr/crafts/silver-jewellery" {
		t.Errorf("craft facet: %v", crafts)
	}
	if communes := facet(doc, "facet-commune"); communes["Anzi 2"] != "/fr/search?commune=Anzi" {
		t.Errorf("commune facet: %v", communes)
	}
	if cert := facet(doc, "facet-certified"); cert["Certifiées 3"] != "/fr/search?certified=true" {
		t.Errorf("certified facet: %v", cert)
	}
	if !strings.Contains(body, "7 pièces trouvées") {
		t.Error("the total is missing")
	}

	t.Run("CraftMovesToItsCategory", func(t *testing.T) {
		resp, _ := get(t, s.URL+"/fr/search?craft=pottery&certified=true", nil)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/fr/crafts/pottery?certified=true" {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		_, body, _ := s.fetch(t, "/fr/crafts/pottery")
		doc, _ := html.Parse(strings.NewReader(body))
		links := find(doc, func(n *html.Node) bool { return n.Data == "link" && attr(n, "rel") == "canonical" })
		if len(links) != 1 || attr(links[0], "href") != s.Config.BaseURL+"/fr/crafts/pottery" || !strings.Contains(body, "5 pièces trouvées") {
			t.Error("the category page is the list of pottery at its own address")
		}
		// Choosing the active craft again widens the list.
		if crafts := facet(doc, "facet-craft"); crafts["Poterie 5 (retirer ce filtre)"] != "/fr/search" {
			t.Errorf("active craft: %v", crafts)
		}
		if resp, _, _ := s.fetch(t, "/fr/crafts/no-such-craft"); resp.StatusCode != 404 {
			t.Errorf("unknown craft: %d", resp.StatusCode)
		}
	})
	t.Run("PricesInDirhamsAndSort", func(t *testing.T) {
		// From 400 MAD, cheapest first: the dish (420), the jar (900), the fibula (1,450), the rug (3,200).
		_, body, _ := s.fetch(t, "/en/search?min_price=400&sort=price_asc")
		doc, _ := html.Parse(strings.NewReader(body))
		var prices []string
		for _, p := range find(doc, func(n *html.Node) bool { return n.Data == "p" && attr(n, "class") == "price" }) {
			prices = append(prices, text(p))
		}
		want := []string{"MAD 420.00", "MAD 900.00", "MAD 1,450.00", "MAD 3,200.00"}
		if strings.Join(prices, "|") != strings.Join(want, "|") {
			t.Errorf("prices %v, want %v", prices, want)
		}
		if !strings.Contains(body, `<meta name="robots" content="noindex, follow">`) {
			t.Error("a filtered list is not indexed")
		}
	})
	t.Run("BadFiltersAreLeftOut", func(t *testing.T) {
		resp, body, _ := s.fetch(t, "/fr/search?min_price=abc&sort=sideways&certified=maybe")
		if resp.StatusCode != 200 || !strings.Contains(body, "ont été ignorés") || !strings.Contains(body, "7 pièces trouvées") {
			t.Errorf("%d: bad filters should be left out with a notice", resp.StatusCode)
		}
	})
	t.Run("EmptyState", func(t *testing.T) {
		_, body, _ := s.fetch(t, "/ar/search?q=zzzzqqq&certified=true")
		for _, want := range []string{"لا توجد قطعة تطابق هذا البحث", `href="/ar/search?q=zzzzqqq"`, `href="/ar/crafts/pottery"`} {
			if !strings.Contains(body, want) {
				t.Errorf("empty state lacks %q", want)
			}
		}
	})
	t.Run("Pages", func(t *testing.T) {
		// 30 more pieces of pottery make two pages of 24.
		for i := range 30 {
			err := s.DB.Exec(`INSERT INTO products (cooperative_id, slug, title, description, craft, commune, materials, techniques,
				weight_g, price, currency, stock, status, search_title, search_text, published_at, created_at, updated_at)
				SELECT cooperative_id, slug || '-' || ?, title, description, craft, commune, materials, techniques,
				weight_g, price + ?, currency, stock, status, search_title, search_text, published_at, created_at, updated_at
				FROM products WHERE slug = ?`, i, i, s.productSlug(t, "gasaa")).Error
			if err != nil {
				t.Fatal(err)
			}
		}
		_, body, full := s.fetch(t, "/fr/crafts/pottery?commune=Anzi")
		// No query per piece: a page of 24 costs what a page of one does.
		if _, _, one := s.fetch(t, "/fr/crafts/pottery?commune=Tighmi"); full != one {
			t.Errorf("a page of 24 pieces takes %d queries, a page of one %d", full, one)
		}
		if !strings.Contains(body, `href="/fr/crafts/pottery?commune=Anzi&amp;page=2" rel="next"`) || strings.Count(body, `class="card product"`) != 24 {
			t.Error("page 1 of 32 links to page 2 and shows 24 pieces")
		}
		_, body, _ = s.fetch(t, "/fr/crafts/pottery?commune=Anzi&page=2")
		if !strings.Contains(body, `href="/fr/crafts/pottery?commune=Anzi" rel="prev"`) || strings.Count(body, `class="card product"`) != 8 {
			t.Error("page 2 links back to page 1 and shows the other 8")
		}
		_, body, _ = s.fetch(t, "/fr/crafts/pottery?page=2")
		if !strings.Contains(body, `<link rel="canonical" href="`+s.Config.BaseURL+`/fr/crafts/pottery?page=2">`) {
			t.Error("a category's second page is its own canonical address")
		}
	})
}

// The cooperative page: story, commune, members, certificates that count,
// products; an unknown or unverified cooperative is a helpful 404.
func TestCooperativePage(t *testing.T) {
	s := startShop(t)
	anzi := s.cooperativeSlug(t, "potières d'Anzi")
	_, body, _ := s.fetch(t, "/fr/cooperatives/"+anzi)
	doc, _ := html.Parse(strings.NewReader(body))
	page := text(doc)
	for _, want := range []string{"Coopérative des potières d'Anzi", "Anzi · 22 membres", "façonnent à la main", "MFM-2025-0412",
		"2 pièces en vente", "Tajine d'Anzi en terre cuite", "Poterie émaillée : plat à couscous"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, body, _ = s.fetch(t, "/ar/cooperatives/"+anzi)
	if !strings.Contains(body, "22 عضوا") {
		t.Error("Arabic members count (many form) missing")
	}
	s.DB.Exec("UPDATE cooperatives SET status = 'suspended' WHERE slug = ?", anzi)
	if resp, _, _ := s.fetch(t, "/fr/cooperatives/"+anzi); resp.StatusCode != 404 {
		t.Errorf("a suspended cooperative: %d", resp.StatusCode)
	}
}

// The sitemap lists products and cooperatives too, each with its
// alternates in the three languages.
func TestSitemapListsProductsAndCooperatives(t *testing.T) {
	s := startShop(t)
	_, body, _ := s.fetch(t, "/sitemap.xml")
	var set struct {
		URLs []struct {
			Loc   string `xml:"loc"`
			Links []struct {
				Hreflang string `xml:"hreflang,attr"`
				Href     string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal([]byte(body), &set); err != nil {
		t.Fatal(err)
	}
	base := s.Config.BaseURL
	want := map[string]bool{
		base + "/ar/products/" + s.productSlug(t, "tajine anzi"):       false,
		base + "/en/cooperatives/" + s.cooperativeSlug(t, "Tazerzite"): false,
		base + "/fr/crafts/pottery":                                    false,
		base + "/fr/venues/tafraout-artisan-market":                    false,
	}
	for _, u := range set.URLs {
		if _, ok := want[u.Loc]; !ok {
			continue
		}
		langs := map[string]bool{}
		for _, l := range u.Links {
			langs[l.Hreflang] = true
		}
		want[u.Loc] = langs["ar"] && langs["fr"] && langs["en"] && langs["x-default"]
	}
	for loc, ok := range want {
		if !ok {
			t.Errorf("%s is missing or lacks its alternates", loc)
		}
	}
}

// The layout's script is fingerprinted like the style sheet; an old
// fingerprint goes to the current file, an unknown name is 404.
func TestStaticScript(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := web.Asset("app.js")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.js$`).MatchString(u) {
		t.Fatalf("asset URL %q", u)
	}
	resp, body := get(t, s.URL+u, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, "data-autosubmit") {
		t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	resp, _ = get(t, s.URL+"/static/app.0123456789.js", nil)
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != u {
		t.Errorf("old fingerprint: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, s.URL+"/static/nothing.0123456789.js", nil); resp.StatusCode != 404 {
		t.Errorf("unknown file: %d", resp.StatusCode)
	}
	_, body = get(t, s.URL+"/fr/venues", nil)
	if !strings.Contains(body, `<script src="`+u+`" defer></script>`) {
		t.Error("the layout does not load the script deferred")
	}
}

// A server error is answered with a page in the visitor's language that
// helps them on.
func TestErrorPageForServerErrors(t *testing.T) {
	app := fiber.New()
	app.Get("/:lang/boom", func(c *fiber.Ctx) error {
		return web.ErrorPage(c, 500, errs.E(errs.Internal, "boom"))
	})
	resp, err := app.Test(httptest.NewRequest("GET", "/ar/boom", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 500 || !bytes.Contains(body, []byte("وقع خلل من جهتنا")) || !bytes.Contains(body, []byte(`dir="rtl"`)) ||
		!bytes.Contains(body, []byte(`action="/ar/search"`)) {
		t.Errorf("%d\n%s", resp.StatusCode, body)
	}
}

// BenchmarkProductPage answers the product page of the demo through the
// real server (queries, rendering, compression off).
func BenchmarkProductPage(b *testing.B) {
	s := startShop(b)
	benchPage(b, s.URL+"/fr/products/"+s.productSlug(b, "tajine anzi"))
}

// BenchmarkSearchPage answers a search with filters and facets.
func BenchmarkSearchPage(b *testing.B) {
	s := startShop(b)
	benchPage(b, s.URL+"/fr/search?q=tajine&certified=true&sort=price_asc")
}

// BenchmarkHomePage answers the home page.
func BenchmarkHomePage(b *testing.B) {
	s := startShop(b)
	benchPage(b, s.URL+"/fr/")
}

func benchPage(b *testing.B, u string) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
}
