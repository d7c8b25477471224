package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/storefront"
)

// browserLike is an HTTP client with a cookie jar, as a browser (or a
// script in one) calls the API.
type browserLike struct {
	t      *testing.T
	base   string
	client *http.Client
}

func newBrowserLike(t *testing.T, base string) *browserLike {
	jar, _ := cookiejar.New(nil)
	return &browserLike{t: t, base: base, client: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

func (b *browserLike) call(method, path string, body any, hdr map[string]string) (*http.Response, map[string]any) {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			j, _ := json.Marshal(body)
			raw = string(j)
		}
		r = strings.NewReader(raw)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if resp.StatusCode >= 400 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		b.t.Errorf("%s %s: %d answered %s, not problem+json", method, path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp, out
}

func (b *browserLike) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.base)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// cartLines reads a cart answer as product id → quantity.
func cartLines(t *testing.T, cart map[string]any) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	groups, _ := cart["groups"].([]any)
	for _, g := range groups {
		for _, l := range g.(map[string]any)["lines"].([]any) {
			line := l.(map[string]any)
			out[int64(line["product_id"].(float64))] = int(line["quantity"].(float64))
		}
	}
	return out
}

func cartProblemFields(body map[string]any) []string {
	var out []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		if m, ok := e.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["field"]))
		}
	}
	return out
}

// A guest's cart lives behind an HttpOnly, SameSite=Lax cookie whose token
// the database keeps only hashed; the routes add, change, remove and clear
// lines, and refuse bad input with problem+json naming the field.
func TestCartAPIGuest(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	sc := newOrderScene(t, s)
	b := newBrowserLike(t, s.URL)

	resp, body := b.call("GET", "/api/v1/cart", nil, nil)
	if resp.StatusCode != 200 || len(cartLines(t, body)) != 0 || b.cookie(api.CartCookie) != nil {
		t.Fatalf("empty cart: %d %v (a cart cookie for a mere look?)", resp.StatusCode, body)
	}
	resp, body = b.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]int{"quantity": 3}, nil)
	if resp.StatusCode != 200 || cartLines(t, body)[sc.pots.ID] != 3 || body["subtotal"].(float64) != 3*45_000 {
		t.Fatalf("put: %d %v", resp.StatusCode, body)
	}
	var set string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, api.CartCookie+"=") {
			set = h
		}
	}
	if l := strings.ToLower(set); !strings.Contains(l, "httponly") || !strings.Contains(l, "samesite=lax") ||
		!strings.Contains(l, "path=/") || !strings.Contains(l, "secure") {
		t.Fatalf("cart cookie %q: want HttpOnly, SameSite=Lax, Path=/ and (outside development) Secure", set)
	}
	token := b.cookie(api.CartCookie).Value
	var hashes []string
	s.DB.Raw("SELECT token_hash FROM carts").Scan(&hashes)
	if len(hashes) != 1 || hashes[0] != storefront.HashAccessToken(token) || strings.Contains(hashes[0], token) {
		t.Fatalf("stored %v: want only the hash of the cookie's token", hashes)
	}

	for _, tc := range []struct {
		name   string
		path   string
		body   any
		status int
		field  string
	}{
		{"zero", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]int{"quantity": 0}, 422, "quantity"},
		{"missing quantity", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]any{}, 422, "quantity"},
		{"more than the stock", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]int{"quantity": 21}, 422, "quantity"},
		{"not a number", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), `{"quantity": "two"}`, 422, "quantity"},
		{"unknown product", "/api/v1/cart/items/999999", map[string]int{"quantity": 1}, 404, ""},
		{"not an id", "/api/v1/cart/items/abc", map[string]int{"quantity": 1}, 404, ""},
	} {
		resp, body := b.call("PUT", tc.path, tc.body, nil)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d %v, want %d", tc.name, resp.StatusCode, body, tc.status)
		}
		if tc.field != "" && strings.Join(cartProblemFields(body), ",") != tc.field {
			t.Errorf("%s: fields %v, want %s", tc.name, cartProblemFields(body), tc.field)
		}
	}
	if _, body = b.call("GET", "/api/v1/cart", nil, nil); cartLines(t, body)[sc.pots.ID] != 3 {
		t.Fatalf("refused changes changed the cart: %v", body)
	}

	// The one-of-a-kind jar: one piece, not two.
	resp, _ = b.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.jar.ID), map[string]int{"quantity": 2}, nil)
	if resp.StatusCode != 422 {
		t.Fatalf("two of a one-of-a-kind piece: %d", resp.StatusCode)
	}
	b.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.jar.ID), map[string]int{"quantity": 1}, nil)
	resp, body = b.call("DELETE", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), nil, nil)
	if resp.StatusCode != 200 || len(cartLines(t, body)) != 1 {
		t.Fatalf("delete line: %d %v", resp.StatusCode, body)
	}
	if resp, _ = b.call("DELETE", "/api/v1/cart", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("clear: %d", resp.StatusCode)
	}
	if _, body = b.call("GET", "/api/v1/cart", nil, nil); len(cartLines(t, body)) != 0 {
		t.Fatalf("cleared cart: %v", body)
	}
}

// Signing up or in merges the guest's cart into the account's (the cookie
// goes), and an order without items takes the cart: its ordered lines
// leave it; an order with items leaves the cart alone. The buyer gets the
// confirmation e-mail; a guest's carries the secret link.
func TestCartMergeAtLoginAndOrderFromCart(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	sc := newOrderScene(t, s)

	// A signed-in buyer already has a tajine in the account's cart.
	if status, body := httpCall(t, "PUT", fmt.Sprintf("%s/api/v1/cart/items/%d", s.URL, sc.pots.ID), sc.buyerToken,
		map[string]int{"quantity": 2}, nil); status != 200 {
		t.Fatalf("buyer's cart: %d %v", status, body)
	}
	b := newBrowserLike(t, s.URL)
	b.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]int{"quantity": 19}, nil)
	b.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.jar.ID), map[string]int{"quantity": 1}, nil)
	resp, body := b.call("POST", "/api/v1/auth/login", map[string]string{"email": "buyer@orders.test", "password": testPassword}, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, body)
	}
	if c := b.cookie(api.CartCookie); c != nil && c.Value != "" {
		t.Fatalf("the guest cart cookie survived the login: %v", c)
	}
	csrf := body["csrf_token"].(string)
	_, cart := b.call("GET", "/api/v1/cart", nil, nil)
	if got := cartLines(t, cart); got[sc.pots.ID] != 20 || got[sc.jar.ID] != 1 || len(got) != 2 {
		t.Fatalf("merged cart %v: want 2+19 tajines capped at the stock of 20, and the jar", got)
	}
	var guestCarts int64
	s.DB.Raw("SELECT COUNT(*) FROM carts WHERE user_id IS NULL").Scan(&guestCarts)
	if guestCarts != 0 {
		t.Fatal("the guest cart was not deleted")
	}

	// Items given directly leave the cart alone.
	order := orderBody(sc.pots.ID, 1, "MA", "cod")
	order["email"] = "buyer@orders.test"
	resp, body = b.call("POST", "/api/v1/orders", order, map[string]string{api.CSRFHeader: csrf})
	if resp.StatusCode != 201 {
		t.Fatalf("order with items: %d %v", resp.StatusCode, body)
	}
	if _, cart = b.call("GET", "/api/v1/cart", nil, nil); cartLines(t, cart)[sc.pots.ID] != 20 {
		t.Fatalf("an order with items changed the cart: %v", cartLines(t, cart))
	}
	// Without items the order is the cart's, which it empties.
	delete(order, "items")
	resp, body = b.call("POST", "/api/v1/orders", order, map[string]string{api.CSRFHeader: csrf, "Idempotency-Key": "cart-1"})
	// 19 tajines are left and the cart asks 20: that line is flagged
	// limited, and the jar alone is ordered.
	if resp.StatusCode != 201 {
		t.Fatalf("order from the cart: %d %v", resp.StatusCode, body)
	}
	id, o := orderOf(t, body)
	if lines := o["lines"].([]any); len(lines) != 1 || int64(lines[0].(map[string]any)["product_id"].(float64)) != sc.jar.ID {
		t.Fatalf("order from the cart took %v, want the jar only (the tajine line asks more than is left)", lines)
	}
	if _, cart = b.call("GET", "/api/v1/cart", nil, nil); fmt.Sprint(cartLines(t, cart)) != fmt.Sprint(map[int64]int{sc.pots.ID: 20}) {
		t.Fatalf("after ordering from the cart: %v, want the flagged tajines only", cartLines(t, cart))
	}
	// The same key answers the same order, though the cart no longer has it.
	resp, body = b.call("POST", "/api/v1/orders", order, map[string]string{api.CSRFHeader: csrf, "Idempotency-Key": "cart-1"})
	if again, _ := orderOf(t, body); resp.StatusCode != 201 || again != id {
		t.Fatalf("replay: %d order %d, want %d", resp.StatusCode, again, id)
	}
	// Nothing orderable: a clear 422 naming items.
	b.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]int{"quantity": 19}, map[string]string{api.CSRFHeader: csrf})
	s.DB.Exec("UPDATE products SET status = 'archived' WHERE id = ?", sc.pots.ID)
	resp, body = b.call("POST", "/api/v1/orders", order, map[string]string{api.CSRFHeader: csrf})
	if resp.StatusCode != 422 || strings.Join(cartProblemFields(body), ",") != "items" {
		t.Fatalf("order from a cart with nothing orderable: %d %v", resp.StatusCode, body)
	}
	s.DB.Exec("UPDATE products SET status = 'published' WHERE id = ?", sc.pots.ID)

	// A guest orders from the cart and gets the secret link by e-mail.
	g := newBrowserLike(t, s.URL)
	g.call("PUT", fmt.Sprintf("/api/v1/cart/items/%d", sc.pots.ID), map[string]int{"quantity": 2}, nil)
	guestOrder := orderBody(0, 0, "MA", "cod")
	delete(guestOrder, "items")
	guestOrder["email"] = "guest-cart@example.com"
	guestOrder["lang"] = "en"
	resp, body = g.call("POST", "/api/v1/orders", guestOrder, nil)
	if resp.StatusCode != 201 {
		t.Fatalf("guest order from the cart: %d %v", resp.StatusCode, body)
	}
	gid, _ := orderOf(t, body)
	token := body["access_token"].(string)
	if _, cart = g.call("GET", "/api/v1/cart", nil, nil); len(cartLines(t, cart)) != 0 {
		t.Fatalf("the guest's cart after the order: %v", cart)
	}
	msg := outboxMessage(t, s.Config.OutboxDir, "guest-cart@example.com")
	link := fmt.Sprintf("/en/orders/%d?token=%s", gid, url.QueryEscape(token))
	if !strings.Contains(msg, "is placed") || !strings.Contains(unfoldQP(msg), link) {
		t.Fatalf("the guest's confirmation lacks the secret link %s:\n%s", link, msg)
	}
	if strings.Contains(outboxMessage(t, s.Config.OutboxDir, "buyer@orders.test"), "token=") {
		t.Fatal("a signed-in buyer's confirmation carries a token")
	}
}

// outboxMessage returns the newest message of the outbox to address.
func outboxMessage(t *testing.T, dir, to string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	var newest string
	var when time.Time
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(f)
		if bytes.Contains(raw, []byte("To: "+to)) && !st.ModTime().Before(when) {
			newest, when = string(raw), st.ModTime()
		}
	}
	if newest == "" {
		t.Fatalf("no message to %s in %s (%d files)", to, dir, len(files))
	}
	return newest
}

// unfoldQP undoes quoted-printable soft line breaks and the escapes a URL
// can hold.
func unfoldQP(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "=\n", "")
	return strings.ReplaceAll(s, "=3D", "=")
}
