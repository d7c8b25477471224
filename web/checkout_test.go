package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/web"
)

// visitor is a browser without JavaScript: a cookie jar, forms, and
// redirects looked at rather than followed.
type visitor struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newVisitor(t *testing.T, base string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (v *visitor) do(req *http.Request) (*http.Response, string) {
	v.t.Helper()
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (v *visitor) get(path string) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest("GET", v.base+path, nil)
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values) (*http.Response, string) {
	v.t.Helper()
	req, _ := http.NewRequest("POST", v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

func (v *visitor) putJSON(path string, body any) *http.Response {
	v.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("PUT", v.base+path, strings.NewReader(string(b)))
	req.Header.Set("Content-Type", "application/json")
	resp, _ := v.do(req)
	return resp
}

func (v *visitor) cookie(name string) string {
	u, _ := url.Parse(v.base)
	for _, c := range v.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var (
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	keyField  = regexp.MustCompile(`name="idempotency_key" value="([^"]+)"`)
)

func field(t *testing.T, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in the page: %.600s", re, body)
	}
	return m[1]
}

// demoProducts returns two products of the demo that are in stock, not one
// of a kind and not made to order: the Anzi tagine and another.
func demoProducts(t *testing.T, s *testserver.Server) (int64, int64) {
	t.Helper()
	var ids []int64
	if err := s.DB.Raw(`SELECT id FROM products WHERE status = 'published' AND stock >= 3 AND one_of_a_kind = ?
		AND made_to_order_days IS NULL ORDER BY id LIMIT 2`, false).Scan(&ids).Error; err != nil || len(ids) < 2 {
		t.Fatalf("demo products: %v %v", ids, err)
	}
	return ids[0], ids[1]
}

func startDemo(t *testing.T, opts testserver.Options) *testserver.Server {
	t.Helper()
	s := testserver.Start(t, opts)
	if _, err := demo.Seed(context.Background(), s.DB, demo.Options{Media: s.Media, Password: account.TestPasswordParams}); err != nil {
		t.Fatal(err)
	}
	return s
}

func countRows(t *testing.T, s *testserver.Server, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// The whole cash-on-delivery checkout over HTTP with forms and cookies
// only: the cart's forms (add, change, refused without the CSRF token),
// the shipping estimate, a refused checkout that comes back with messages
// beside the fields in French and the values kept, a double submit that
// places one order, the order page through the checkout's cookie or the
// e-mailed link only, and cancelling before shipment.
func TestCheckoutCashOnDeliveryOverHTTP(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	tajine, other := demoProducts(t, s)
	stockBefore := countRows(t, s, "SELECT stock FROM products WHERE id = ?", tajine)
	v := newVisitor(t, s.URL)

	// A guest's first look at the cart sets no cookie and costs no cart.
	resp, body := v.get("/fr/cart")
	if resp.StatusCode != 200 || !strings.Contains(body, `data-cart="empty"`) {
		t.Fatalf("empty cart page: %d", resp.StatusCode)
	}
	// The product page's add-to-cart form carries the token csrfToken
	// gives; the cart's own forms carry the same.
	if r := v.putJSON(fmt.Sprintf("/api/v1/cart/items/%d", other), map[string]int{"quantity": 1}); r.StatusCode != 200 {
		t.Fatalf("seed the cart: %d", r.StatusCode)
	}
	_, body = v.get("/fr/cart")
	token := field(t, csrfField, body)
	add := url.Values{"product_id": {fmt.Sprint(tajine)}, "quantity": {"2"}}
	if resp, _ = v.post("/fr/cart/items", add); resp.StatusCode != 403 {
		t.Fatalf("add without the CSRF token: %d, want 403", resp.StatusCode)
	}
	add.Set("csrf_token", "forged-"+token)
	if resp, _ = v.post("/fr/cart/items", add); resp.StatusCode != 403 {
		t.Fatalf("add with a wrong CSRF token: %d, want 403", resp.StatusCode)
	}
	add.Set("csrf_token", token)
	if resp, _ = v.post("/fr/cart/items", add); resp.StatusCode != 303 || resp.Header.Get("Location") != "/fr/cart" {
		t.Fatalf("add: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"csrf_token": {token}, "quantity": {"3"}}
	if resp, _ = v.post(fmt.Sprintf("/fr/cart/items/%d", tajine), form); resp.StatusCode != 303 {
		t.Fatalf("change the quantity: %d", resp.StatusCode)
	}
	form.Set("quantity", "9999")
	resp, body = v.post(fmt.Sprintf("/fr/cart/items/%d", tajine), form)
	if resp.StatusCode != 422 || !strings.Contains(body, `data-notice="cart"`) {
		t.Fatalf("too many: %d", resp.StatusCode)
	}
	if resp, _ = v.post(fmt.Sprintf("/fr/cart/items/%d/remove", other), url.Values{"csrf_token": {token}}); resp.StatusCode != 303 {
		t.Fatalf("remove: %d", resp.StatusCode)
	}
	resp, body = v.get("/fr/cart?country=FR")
	if resp.StatusCode != 200 || !strings.Contains(body, fmt.Sprintf(`data-line="%d" data-status="ok"`, tajine)) ||
		strings.Contains(body, fmt.Sprintf(`data-line="%d"`, other)) || !strings.Contains(body, "3 pièces dans le panier") ||
		!strings.Contains(body, `data-total="shipping"`) || !strings.Contains(body, `<option value="FR" selected>`) {
		t.Fatalf("cart page: %d\n%s", resp.StatusCode, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("cart page Cache-Control %q", cc)
	}

	// A refused checkout: messages beside the fields, in French, values kept.
	_, body = v.get("/fr/checkout")
	key := field(t, keyField, body)
	checkout := url.Values{"csrf_token": {token}, "idempotency_key": {key}, "email": {"pas-une-adresse"}, "name": {"Claire Martin"},
		"line1": {"3 rue des Lilas"}, "city": {""}, "postal_code": {"69001"}, "country": {"FR"}, "phone": {"+33 6 12 34 56 78"},
		"payment_method": {"cod"}}
	resp, body = v.post("/fr/checkout", checkout)
	if resp.StatusCode != 422 {
		t.Fatalf("refused checkout: %d", resp.StatusCode)
	}
	for _, want := range []string{`data-field-error="err-email"`, `data-field-error="err-city"`,
		`value="Claire Martin"`, `value="pas-une-adresse"`, `value="3 rue des Lilas"`, "Saisissez la ville.",
		`aria-invalid="true"`, `<option value="FR" selected>`, `value="` + key + `"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lacks %s", want)
		}
	}
	// Cash on delivery to France: refused beside the country.
	checkout.Set("email", "claire@example.com")
	checkout.Set("city", "Lyon")
	resp, body = v.post("/fr/checkout", checkout)
	if resp.StatusCode != 422 || !strings.Contains(body, `data-field-error="err-country"`) ||
		!strings.Contains(body, "Le paiement à la livraison n&#39;est possible qu&#39;au Maroc") || !strings.Contains(body, `value="Lyon"`) {
		t.Fatalf("cash on delivery abroad: %d\n%s", resp.StatusCode, body)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM orders"); n != 0 {
		t.Fatalf("a refused checkout wrote %d orders", n)
	}

	// Placed, twice (a double submit): one order, the same page.
	checkout.Set("email", "claire@example.com")
	checkout.Set("city", "Tiznit")
	checkout.Set("postal_code", "85000")
	checkout.Set("country", "MA")
	checkout.Set("phone", "06 12 34 56 78")
	resp, _ = v.post("/fr/checkout", checkout)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 303 || !regexp.MustCompile(`^/fr/orders/\d+$`).MatchString(loc) {
		t.Fatalf("checkout: %d %q", resp.StatusCode, loc)
	}
	resp, _ = v.post("/fr/checkout", checkout)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != loc {
		t.Fatalf("double submit: %d %q, want the same order %q", resp.StatusCode, resp.Header.Get("Location"), loc)
	}
	if n := countRows(t, s, "SELECT COUNT(*) FROM orders"); n != 1 {
		t.Fatalf("%d orders after a double submit, want 1", n)
	}
	if got := countRows(t, s, "SELECT stock FROM products WHERE id = ?", tajine); got != stockBefore-3 {
		t.Fatalf("stock %d, want %d", got, stockBefore-3)
	}
	resp, body = v.get(loc)
	if resp.StatusCode != 200 || !strings.Contains(body, `data-order-status="confirmed"`) || !strings.Contains(body, "SOUK-") ||
		!strings.Contains(body, `data-action="cancel-order"`) {
		t.Fatalf("order page: %d\n%.2000s", resp.StatusCode, body)
	}
	if _, body = v.get("/fr/cart"); !strings.Contains(body, `data-cart="empty"`) {
		t.Fatal("the ordered lines are still in the cart")
	}
	// Anyone else: no such order. The e-mailed link opens it.
	if resp, _ = newVisitor(t, s.URL).get(loc); resp.StatusCode != 404 {
		t.Fatalf("a stranger sees the order: %d", resp.StatusCode)
	}
	link := regexp.MustCompile(`/fr/orders/\d+\?token=[A-Za-z0-9_%-]+`).FindString(unfoldMail(mailTo(t, s, "claire@example.com")))
	if link == "" || !strings.HasPrefix(link, loc+"?token=") {
		t.Fatalf("the confirmation e-mail lacks the order link (%q)", link)
	}
	if resp, _ = newVisitor(t, s.URL).get(link); resp.StatusCode != 200 {
		t.Fatalf("the e-mailed link: %d", resp.StatusCode)
	}

	// Cancel before shipment: the stock comes back.
	_, body = v.get(loc)
	cancel := url.Values{"token": {field(t, regexp.MustCompile(`name="token" value="([^"]+)"`), body)}}
	if resp, _ = v.post(loc+"/cancel", cancel); resp.StatusCode != 303 {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if _, body = v.get(loc); !strings.Contains(body, `data-order-status="cancelled"`) || strings.Contains(body, `data-action="cancel-order"`) {
		t.Fatal("the order page does not show the cancellation")
	}
	if got := countRows(t, s, "SELECT stock FROM products WHERE id = ?", tajine); got != stockBefore {
		t.Fatalf("stock %d after the cancellation, want %d", got, stockBefore)
	}
}

// A signed-in visitor's page forms carry the session's CSRF token (the API
// middleware refuses them without), their cart is the account's, and a
// guest cart still in the browser joins it.
func TestCartPagesSignedIn(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	tajine, other := demoProducts(t, s)
	v := newVisitor(t, s.URL)
	v.putJSON(fmt.Sprintf("/api/v1/cart/items/%d", other), map[string]int{"quantity": 1})
	req, _ := http.NewRequest("POST", s.URL+"/api/v1/auth/register", strings.NewReader(
		`{"email":"amina@example.com","password":"a long enough password","name":"Amina","role":"buyer"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, body := v.do(req)
	if resp.StatusCode != 201 {
		t.Fatalf("register: %d %s", resp.StatusCode, body)
	}
	var sess struct {
		CSRFToken string `json:"csrf_token"`
	}
	_ = json.Unmarshal([]byte(body), &sess)
	add := url.Values{"product_id": {fmt.Sprint(tajine)}, "quantity": {"1"}}
	if resp, _ = v.post("/en/cart/items", add); resp.StatusCode != 403 {
		t.Fatalf("signed-in add without the session's token: %d", resp.StatusCode)
	}
	_, body = v.get("/en/cart")
	if token := field(t, csrfField, body); token != sess.CSRFToken {
		t.Fatalf("the cart's forms carry %q, not the session's CSRF token", token)
	}
	add.Set("csrf_token", sess.CSRFToken)
	if resp, _ = v.post("/en/cart/items", add); resp.StatusCode != 303 {
		t.Fatalf("signed-in add: %d", resp.StatusCode)
	}
	_, body = v.get("/en/cart")
	for _, id := range []int64{tajine, other} {
		if !strings.Contains(body, fmt.Sprintf(`data-line="%d"`, id)) {
			t.Errorf("the account's cart lacks product %d (merged from the guest cart, or added since)", id)
		}
	}
	if !strings.Contains(body, "2 pieces in the cart") {
		t.Error("English plural of the pieces")
	}
}

// The Arabic cart is right to left, its plurals in the six forms.
func TestCartPageArabic(t *testing.T) {
	s := startDemo(t, testserver.Options{})
	tajine, _ := demoProducts(t, s)
	v := newVisitor(t, s.URL)
	v.putJSON(fmt.Sprintf("/api/v1/cart/items/%d", tajine), map[string]int{"quantity": 2})
	resp, body := v.get("/ar/cart")
	if resp.StatusCode != 200 || !strings.Contains(body, `<html lang="ar" dir="rtl">`) || !strings.Contains(body, "قطعتان في السلة") {
		t.Fatalf("arabic cart: %d %.600s", resp.StatusCode, body)
	}
	v.putJSON(fmt.Sprintf("/api/v1/cart/items/%d", tajine), map[string]int{"quantity": 3})
	if _, body = v.get("/ar/cart"); !strings.Contains(body, "3 قطع في السلة") {
		t.Fatal("arabic 'few' form")
	}
}

// Every plural message of the checkout pages has Arabic's six forms.
func TestCheckoutArabicPluralsHaveSixForms(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("locales", "checkout.ar.json"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs map[string]any
	if err := json.Unmarshal(raw, &msgs); err != nil {
		t.Fatal(err)
	}
	plurals := 0
	for k, m := range msgs {
		forms, ok := m.(map[string]any)
		if !ok {
			continue
		}
		plurals++
		for _, f := range []string{"zero", "one", "two", "few", "many", "other"} {
			if _, ok := forms[f]; !ok {
				t.Errorf("%s lacks the %s form", k, f)
			}
		}
	}
	if plurals == 0 {
		t.Fatal("no plural messages found")
	}
}

// The pages and the API share one cart cookie.
func TestCartCookieShared(t *testing.T) {
	if web.CartCookie != api.CartCookie {
		t.Fatalf("web %q, api %q", web.CartCookie, api.CartCookie)
	}
}

// mailTo returns the newest message to an address in the server's outbox.
func mailTo(t *testing.T, s *testserver.Server, to string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.Config.OutboxDir, "*.eml"))
	var newest string
	var when time.Time
	for _, f := range files {
		raw, _ := os.ReadFile(f)
		st, err := os.Stat(f)
		if err == nil && strings.Contains(string(raw), "To: "+to) && !st.ModTime().Before(when) {
			newest, when = string(raw), st.ModTime()
		}
	}
	if newest == "" {
		t.Fatalf("no mail to %s", to)
	}
	return newest
}

func unfoldMail(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "=\n", "")
	return strings.ReplaceAll(s, "=3D", "=")
}
