// Package web is Souk's server-rendered site: page handlers, templ
// components, the embedded static assets (fingerprinted, cached for a year)
// and the message catalogs of the three languages (ar, fr, en). Pages work
// without JavaScript.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// Deps are what the pages read from.
type Deps struct {
	DB     *database.DB
	Config config.Config
	Logger *slog.Logger
	// Media is the store; when it is the local folder, its files are served
	// at /media/.
	Media media.Store
	// Bookings and Catalog are the domains the pages show.
	Bookings *booking.Store
	Catalog  *storefront.Service
	// Orders places and cancels orders for the checkout pages (checkout.go).
	Orders Orders
	// Accounts reads users, cooperatives and members for the dashboards.
	Accounts *account.Service
	// Sessions signs visitors in and out (auth.go).
	Sessions Sessions
	// Cooperatives are the cooperative dashboard's actions that run the
	// API's code (dash_cooperative.go).
	Cooperatives CooperativeActions
	// Admin records office payments and payouts for the administrators'
	// pages with the API's own code (dash_admin.go).
	Admin Admin
	// Rentals book, pay and cancel units for the artisan's pages with the
	// API's own code (dash_artisan.go).
	Rentals Rentals
}

type site struct {
	deps Deps
	log  *slog.Logger
	// rates convert MAD prices into the approximations shown beside them
	// (EUR, USD), from the configuration.
	rates []payment.Rate
}

// LangCookie remembers the language a visitor chose.
const LangCookie = "souk_lang"

// Mount registers the pages and static files on app.
func Mount(app *fiber.App, deps Deps) {
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &site{deps: deps, log: deps.Logger}
	for _, fx := range []struct{ to, rate string }{{"EUR", deps.Config.FXEURPerMAD}, {"USD", deps.Config.FXUSDPerMAD}} {
		r, err := payment.ParseRate("MAD", fx.to, fx.rate)
		if err != nil {
			s.log.Warn("exchange rate not usable; prices are shown in MAD only", "currency", fx.to, "err", err)
			continue
		}
		s.rates = append(s.rates, r)
	}
	app.Get("/static/:name", serveStatic)
	if l, ok := deps.Media.(*media.Local); ok {
		app.Get("/media/*", serveLocalMedia(l))
	}
	app.Get("/robots.txt", s.robots)
	app.Get("/sitemap.xml", s.sitemap)
	app.Get("/", s.chooseLanguage)
	app.Get("/:lang<len(2)>/", s.withLang(s.showHomePage))
	app.Get("/:lang<len(2)>/venues", s.withLang(s.showVenuesPage))
	app.Get("/:lang<len(2)>/venues/:slug", s.withLang(s.showVenuePage))
	app.Get("/:lang<len(2)>/certificates", s.withLang(s.showCertificatePage))
	app.Get("/:lang<len(2)>/certificates/:number", s.withLang(s.showCertificatePage))
	s.mountCatalogPages(app)
	s.mountCheckoutPages(app)
	s.mountAuthPages(app)
	s.mountCooperativeDashboard(app)
	s.mountArtisanDashboard(app)
	s.mountAdminDashboard(app)
}

// withLang checks the language of the URL and remembers it in a cookie.
func (s *site) withLang(h func(c *fiber.Ctx, lang string) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		lang := c.Params("lang")
		if !ValidLang(lang) {
			return errs.E(errs.NotFound, "no such language")
		}
		if c.Cookies(LangCookie) != lang {
			c.Cookie(&fiber.Cookie{Name: LangCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600,
				SameSite: fiber.CookieSameSiteLaxMode, Secure: !s.deps.Config.Development(), HTTPOnly: true})
		}
		return h(c, lang)
	}
}

// chooseLanguage sends / to /{lang}/: the cookie first, then Accept-Language.
func (s *site) chooseLanguage(c *fiber.Ctx) error {
	lang := c.Cookies(LangCookie)
	if !ValidLang(lang) {
		lang = PickLang(c.Get(fiber.HeaderAcceptLanguage))
	}
	c.Set(fiber.HeaderVary, "Accept-Language, Cookie")
	return c.Redirect("/"+lang+"/", http.StatusFound)
}

// page starts the layout of a page whose one address is /{lang}{p}: the
// language links keep the whole request (query included), the canonical
// link and the hreflang alternates name p.
func (s *site) page(c *fiber.Ctx, lang, title, p string) Page {
	return Page{Lang: lang, Title: title, Path: requestPathAfterLang(c, lang, p), Canonical: p,
		BaseURL: strings.TrimSuffix(s.deps.Config.BaseURL, "/"), CartCount: s.cartCount(c)}
}

// requestPathAfterLang is the request's path and query after /{lang}, or
// fallback when the request is not under /{lang}/.
func requestPathAfterLang(c *fiber.Ctx, lang, fallback string) string {
	if rest, ok := strings.CutPrefix(string(c.Request().RequestURI()), "/"+lang); ok && strings.HasPrefix(rest, "/") {
		return rest
	}
	return fallback
}

// canonicalURL is the absolute address of the page in lang.
func canonicalURL(p Page, lang string) string {
	path := p.Canonical
	if path == "" {
		path, _, _ = strings.Cut(p.Path, "?")
	}
	return p.BaseURL + "/" + lang + path
}

func ogType(p Page) string {
	if p.OGType != "" {
		return p.OGType
	}
	return "website"
}

// ogLocale is the OpenGraph locale of a language, as read in Morocco.
func ogLocale(lang string) string {
	switch lang {
	case "ar":
		return "ar_MA"
	case "fr":
		return "fr_MA"
	}
	return "en_GB"
}

// render writes a component as the answer.
func render(c *fiber.Ctx, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.UserContext(), &buf); err != nil {
		return fmt.Errorf("render page: %w", err)
	}
	c.Status(status)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

type placeCard struct {
	Slug, Name, Commune, Kind, Policy, Description string
	Units                                          int
}

// Localized picks the text of lang, falling back through ar → fr → en
// order (skipping lang itself) when it is missing.
func Localized(texts map[string]string, lang string) string {
	if t := strings.TrimSpace(texts[lang]); t != "" {
		return t
	}
	for _, l := range fallbackOrder(lang) {
		if t := strings.TrimSpace(texts[l]); t != "" {
			return t
		}
	}
	return ""
}

// fallbackOrder: Arabic readers read French more often than English;
// French and English readers fall back to each other before Arabic.
func fallbackOrder(lang string) []string {
	switch lang {
	case "ar":
		return []string{"fr", "en"}
	case "fr":
		return []string{"en", "ar"}
	}
	return []string{"fr", "ar"}
}

func languageName(lang string) string {
	switch lang {
	case "ar":
		return "العربية"
	case "fr":
		return "Français"
	}
	return "English"
}

func statusText(status int) string { return strconv.Itoa(status) }

func urlPathEscape(s string) string { return url.PathEscape(s) }

// ErrorPage renders a helpful error page in the visitor's language. The api
// error handler calls it for page requests.
func ErrorPage(c *fiber.Ctx, status int, e *errs.Error) error {
	lang := strings.SplitN(strings.TrimPrefix(c.Path(), "/"), "/", 2)[0]
	if !ValidLang(lang) {
		lang = c.Cookies(LangCookie)
		if !ValidLang(lang) {
			lang = PickLang(c.Get(fiber.HeaderAcceptLanguage))
		}
	}
	msg := T(lang, "error.generic")
	switch {
	case status == http.StatusNotFound:
		msg = T(lang, "error.404")
	case status >= 500:
		msg = T(lang, "error.500")
	}
	// Error pages are never indexed, so they carry no canonical link; the
	// cart count is not known here (no site), so none is shown.
	p := Page{Lang: lang, Title: T(lang, "error.title"), Path: requestPathAfterLang(c, lang, "/"), NoIndex: true, CartCount: -1}
	return render(c, status, errorPage(p, status, msg))
}

func (s *site) robots(c *fiber.Ctx) error {
	base := strings.TrimSuffix(s.deps.Config.BaseURL, "/")
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.SendString("User-agent: *\nDisallow: /api/\nDisallow: /*/dashboard/\nDisallow: /*/checkout\nDisallow: /*/cart\n\nSitemap: " + base + "/sitemap.xml\n")
}

// sitemapLimit bounds the products and cooperatives the sitemap lists: with
// three languages each, it stays under the 50,000 addresses of one sitemap.
const sitemapLimit = 10_000

// sitemap lists every public page in the three languages, each with its
// alternates (xhtml:link hreflang, x-default included).
func (s *site) sitemap(c *fiber.Ctx) error {
	ctx := c.UserContext()
	base := strings.TrimSuffix(s.deps.Config.BaseURL, "/")
	type entry struct{ path, lastmod string }
	entries := []entry{{path: "/"}, {path: "/search"}, {path: "/venues"}, {path: "/certificates"}}
	vs, err := s.deps.Bookings.ListVenues(ctx)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Active {
			entries = append(entries, entry{path: "/venues/" + v.Slug})
		}
	}
	crafts, err := s.deps.Catalog.ListCrafts(ctx)
	if err != nil {
		return err
	}
	for _, cr := range crafts {
		entries = append(entries, entry{path: "/crafts/" + cr.Slug})
	}
	products, coops, err := s.deps.Catalog.ListPublicPages(ctx, sitemapLimit)
	if err != nil {
		return err
	}
	for _, p := range products {
		entries = append(entries, entry{path: "/products/" + p.Slug, lastmod: lastmod(p.UpdatedAt)})
	}
	for _, co := range coops {
		entries = append(entries, entry{path: "/cooperatives/" + co.Slug, lastmod: lastmod(co.UpdatedAt)})
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:xhtml="http://www.w3.org/1999/xhtml">` + "\n")
	for _, e := range entries {
		for _, l := range Languages {
			fmt.Fprintf(&b, "<url><loc>%s/%s%s</loc>", base, l, e.path)
			if e.lastmod != "" {
				fmt.Fprintf(&b, "<lastmod>%s</lastmod>", e.lastmod)
			}
			for _, alt := range Languages {
				fmt.Fprintf(&b, `<xhtml:link rel="alternate" hreflang="%s" href="%s/%s%s"/>`, alt, base, alt, e.path)
			}
			fmt.Fprintf(&b, `<xhtml:link rel="alternate" hreflang="x-default" href="%s/"/>`, base)
			b.WriteString("</url>\n")
		}
	}
	b.WriteString("</urlset>\n")
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	return c.SendString(b.String())
}

func lastmod(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

//go:embed static
var staticFiles embed.FS

type asset struct {
	body        []byte
	contentType string
	hashed      string // name.<hash>.ext
}

// assets are the static files by plain name, with their fingerprints.
var assets, assetsByHashed = loadAssets()

func loadAssets() (map[string]*asset, map[string]*asset) {
	plain, hashed := map[string]*asset{}, map[string]*asset{}
	_ = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		a := &asset{body: body, contentType: mime.TypeByExtension(ext),
			hashed: strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		plain[name], hashed[a.hashed] = a, a
		return nil
	})
	return plain, hashed
}

// Asset returns the fingerprinted URL of a static file, cacheable forever.
func Asset(name string) string {
	if a, ok := assets[name]; ok {
		return "/static/" + a.hashed
	}
	return "/static/" + name
}

// serveStatic serves a fingerprinted name for a year (immutable) and a
// plain name for five minutes.
func serveStatic(c *fiber.Ctx) error {
	name := c.Params("name")
	if a, ok := assetsByHashed[name]; ok {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
		c.Set(fiber.HeaderContentType, a.contentType)
		return c.Send(a.body)
	}
	if a, ok := assets[name]; ok {
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set(fiber.HeaderContentType, a.contentType)
		c.Set(fiber.HeaderLastModified, startTime)
		return c.Send(a.body)
	}
	// An old fingerprint (a page cached before a release) is sent to the
	// current file; the redirect itself is not cached.
	if m := oldFingerprint.FindStringSubmatch(name); m != nil {
		if a, ok := assets[m[1]+m[2]]; ok {
			c.Set(fiber.HeaderCacheControl, "no-cache")
			return c.Redirect("/static/"+a.hashed, http.StatusFound)
		}
	}
	return errs.E(errs.NotFound, "no such file")
}

// oldFingerprint matches name.<10 hex digits>.ext, giving name and .ext.
var oldFingerprint = regexp.MustCompile(`^([a-z0-9_-]+)\.[0-9a-f]{10}(\.[a-z0-9]+)$`)

var startTime = time.Now().UTC().Format(http.TimeFormat)
