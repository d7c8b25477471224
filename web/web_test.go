package web_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/web"
)

func get(t testing.TB, url string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestCatalogsComplete(t *testing.T) {
	c, err := web.LoadCatalog()
	if err != nil {
		t.Fatal(err)
	}
	for lang, keys := range c.Missing() {
		if len(keys) > 0 {
			t.Errorf("%s lacks %d message(s): %v", lang, len(keys), keys)
		}
	}
}

func TestPluralCategories(t *testing.T) {
	cases := map[string]map[int]string{
		"ar": {0: "zero", 1: "one", 2: "two", 3: "few", 10: "few", 11: "many", 25: "many", 99: "many", 100: "other", 102: "other", 103: "few", 111: "many"},
		"fr": {0: "one", 1: "one", 2: "other", 15: "other"},
		"en": {0: "other", 1: "one", 2: "other"},
	}
	for lang, want := range cases {
		for n, cat := range want {
			if got := web.PluralCategory(lang, n); got != cat {
				t.Errorf("%s %d: %s, want %s", lang, n, got, cat)
			}
		}
	}
	if got := web.N("ar", "home.units", 25); got != "25 وحدة" {
		t.Errorf("ar 25 units: %q", got)
	}
	if got := web.N("fr", "home.units", 15); got != "15 unités" {
		t.Errorf("fr 15 units: %q", got)
	}
}

func TestPickLang(t *testing.T) {
	cases := map[string]string{
		"":                                 "fr",
		"ar-MA,ar;q=0.9,fr;q=0.8":          "ar",
		"en-GB,en;q=0.9":                   "en",
		"de-DE,de;q=0.9,en;q=0.5,fr;q=0.7": "fr",
		"zz, ;q=abc":                       "fr",
	}
	for in, want := range cases {
		if got := web.PickLang(in); got != want {
			t.Errorf("PickLang(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLocalizedFallback(t *testing.T) {
	texts := map[string]string{"fr": "Tajine", "en": ""}
	for _, lang := range web.Languages {
		if got := web.Localized(texts, lang); got != "Tajine" {
			t.Errorf("%s: %q", lang, got)
		}
	}
	if got := web.Localized(map[string]string{"ar": "طاجين", "en": "Tagine"}, "fr"); got != "Tagine" {
		t.Errorf("fr falls back to en first: %q", got)
	}
}

// The home page shows the real places of the demo, with their true unit
// counts, in each language, as valid HTML with lang and dir set.
func TestHomePageShowsThePlaces(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if _, err := demo.Seed(context.Background(), s.DB, demo.Options{Password: account.TestPasswordParams}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, dir, units string }{
		{"ar", "rtl", "25 وحدة"}, {"fr", "ltr", "25 unités"}, {"en", "ltr", "25 units"},
	} {
		resp, body := get(t, s.URL+"/"+tc.lang+"/", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", tc.lang, resp.StatusCode)
		}
		doc, err := html.Parse(strings.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", tc.lang, err)
		}
		root := doc.FirstChild.NextSibling // <!DOCTYPE html> then <html>
		if attr(root, "lang") != tc.lang || attr(root, "dir") != tc.dir {
			t.Errorf("%s: html lang=%q dir=%q", tc.lang, attr(root, "lang"), attr(root, "dir"))
		}
		aouartas := regexp.MustCompile(`(?s)data-venue="aouartas-artisan-zone".*?</li>`).FindString(body)
		if !strings.Contains(aouartas, tc.units) {
			t.Errorf("%s: Aouartas card lacks %q: %s", tc.lang, tc.units, aouartas)
		}
		if strings.Contains(body, "[") && regexp.MustCompile(`\[[a-z_]+\.[a-z_.0-9]+\]`).MatchString(body) {
			t.Errorf("%s: a message key is missing: %s", tc.lang, regexp.MustCompile(`\[[a-z_]+\.[a-z_.0-9]+\]`).FindString(body))
		}
		for _, src := range regexp.MustCompile(`(?:href|src)="(https?://[^"]+)"`).FindAllStringSubmatch(body, -1) {
			if !strings.HasPrefix(src[1], "http://localhost:8080") { // canonical/hreflang use the base URL
				t.Errorf("%s: reference to another host: %s", tc.lang, src[1])
			}
		}
	}
	_, body := get(t, s.URL+"/fr/", nil)
	if !strings.Contains(body, "15 unités") || !strings.Contains(body, "Marché artisanal de Tafraout") {
		t.Error("the Tafraout market with its 15 units is missing")
	}
}

func TestLanguageChoice(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	resp, _ := get(t, s.URL+"/", map[string]string{"Accept-Language": "ar-MA,ar;q=0.9"})
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ar/" {
		t.Fatalf("Accept-Language: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// The cookie wins over Accept-Language.
	resp, _ = get(t, s.URL+"/", map[string]string{"Accept-Language": "ar", "Cookie": web.LangCookie + "=en"})
	if resp.Header.Get("Location") != "/en/" {
		t.Fatalf("cookie: %s", resp.Header.Get("Location"))
	}
	// Visiting a language remembers it.
	resp, _ = get(t, s.URL+"/en/", nil)
	if c := resp.Header.Get("Set-Cookie"); !strings.Contains(c, web.LangCookie+"=en") || !strings.Contains(strings.ToLower(c), "samesite=lax") {
		t.Fatalf("Set-Cookie %q", c)
	}
	if resp, _ := get(t, s.URL+"/xx/", nil); resp.StatusCode != 404 {
		t.Fatalf("unknown language: %d", resp.StatusCode)
	}
}

func TestStaticAssetsFingerprinted(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	u := web.Asset("app.css")
	if !regexp.MustCompile(`^/static/app\.[0-9a-f]{10}\.css$`).MatchString(u) {
		t.Fatalf("asset URL %q", u)
	}
	resp, body := get(t, s.URL+u, nil)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || len(body) == 0 {
		t.Fatalf("%d %q %q", resp.StatusCode, resp.Header.Get("Cache-Control"), resp.Header.Get("Content-Type"))
	}
	if resp, _ := get(t, s.URL+"/static/../go.mod", nil); resp.StatusCode == 200 {
		t.Fatal("path traversal in static files")
	}
	resp, body = get(t, s.URL+"/robots.txt", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "Sitemap: ") {
		t.Fatalf("robots: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, s.URL+"/sitemap.xml", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `hreflang="ar"`) {
		t.Fatalf("sitemap: %d", resp.StatusCode)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// The local media folder is served: public keys to anyone, private ones
// only through a valid signed URL, and never outside the folder.
func TestLocalMediaServed(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	ctx := context.Background()
	put := func(key, body, ct string) {
		if err := s.Media.Put(ctx, key, strings.NewReader(body), int64(len(body)), media.PutOptions{ContentType: ct, CacheControl: "public, max-age=31536000, immutable"}); err != nil {
			t.Fatal(err)
		}
	}
	put("public/photos/ab/abc-320.jpg", "jpeg-bytes", "image/jpeg")
	put("private/certificates/1/doc.pdf", "%PDF-1.4 secret", "application/pdf")

	resp, body := get(t, s.URL+"/media/public/photos/ab/abc-320.jpg", nil)
	if resp.StatusCode != 200 || body != "jpeg-bytes" || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("public: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, _ := get(t, s.URL+"/media/private/certificates/1/doc.pdf", nil); resp.StatusCode != 403 {
		t.Fatalf("private without signature: %d", resp.StatusCode)
	}
	signed, err := s.Media.URL(ctx, "private/certificates/1/doc.pdf", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	path := signed[strings.Index(signed, "/media/"):]
	resp, body = get(t, s.URL+path, nil)
	if resp.StatusCode != 200 || body != "%PDF-1.4 secret" {
		t.Fatalf("private with signature: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, s.URL+strings.Replace(path, "sig=", "sig=00", 1), nil); resp.StatusCode != 403 {
		t.Fatalf("tampered signature: %d", resp.StatusCode)
	}
	for _, p := range []string{"/media/public/../../secret.key", "/media/public/%2e%2e/%2e%2e/secret.key", "/media/public/photos/missing.jpg"} {
		if resp, _ := get(t, s.URL+p, nil); resp.StatusCode != 404 && resp.StatusCode != 403 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
}
