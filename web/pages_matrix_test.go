package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
	"github.com/souk-tiznit/souk/web"
)

// Rule 5 over every page route (issue #11): TestPagesMatrix lists the
// routes the web package registers — every method, read from Fiber's route
// stack — and calls each as seven callers: the six of the dashboard matrix
// (dashboard_matrix_test.go, whose rows it runs too) and a regular member
// of cooperative A. A route without a row fails the test, so a new page or
// form cannot ship without saying who may use it.
//
// Public pages answer everyone alike; dashboards send a signed-out visitor
// to the sign-in page and give the wrong roles 403 or 404; another
// cooperative's things are refused; forms (POST) answer as documented,
// each sent with the caller's CSRF token (csrf_test.go sends them without).

// pgMemberA is the seventh caller of this file's rows: a member of A who
// does not manage it.
const (
	pgMemberA     = nPageCallers
	nRouteCallers = nPageCallers + 1
)

var routeCallerNames = [nRouteCallers]string{"anonymous", "buyer", "artisan", "manager of A", "manager of B", "admin", "member of A"}

// routeExpect is the status each of the seven callers must get; notAsked
// leaves a caller out.
type routeExpect [nRouteCallers]int

const notAsked = -1

// with7 is a six-caller expectation plus the member of A's status.
func with7(e pageExpect, member int) routeExpect {
	var out routeExpect
	copy(out[:], e[:])
	out[pgMemberA] = member
	return out
}

// everyonePage expects status from all seven callers.
func everyonePage(status int) routeExpect {
	var out routeExpect
	for i := range out {
		out[i] = status
	}
	return out
}

// pageRequest is the concrete request of a row for one caller.
type pageRequest struct {
	Method, Path string
	// Form is the body of a POST (urlencoded, or multipart when Files is
	// set); the runner adds the caller's csrf_token unless NoToken.
	Form      url.Values
	FileField string
	Files     [][]byte
	NoToken   bool
}

// routeCase is one row of the page matrix.
type routeCase struct {
	// Route is the method and path exactly as web registers it.
	Route string
	Name  string
	// Fresh runs each caller in a new browser signed in as the same
	// person (for forms that spend a session: sign-in, sign-out).
	Fresh   bool
	Request func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest
	Want    routeExpect
	// Changes says that a permitted request writes to the database, which
	// csrf_test.go checks after the refused ones wrote nothing.
	Changes bool
}

// routeCaller is one caller's browser and form token.
type routeCaller struct {
	Who  int
	V    *visitor
	CSRF string
}

// routeCaller returns the browser of caller who; with fresh, a new one
// signed in as the same person (a new anonymous browser for anonymous).
func (w *pageWorld) routeCaller(t *testing.T, who int, fresh bool) *routeCaller {
	t.Helper()
	if !fresh {
		c := &routeCaller{Who: who}
		switch who {
		case pgMemberA:
			c.V, c.CSRF = w.member, w.memberCSRF
		default:
			c.V, c.CSRF = w.visitors[who], w.csrf[who]
		}
		c.V.t = t
		if who == pgAnon {
			c.CSRF = guestToken(t, c.V)
		}
		return c
	}
	v := newVisitor(t, w.S.URL)
	if who == pgAnon {
		return &routeCaller{Who: who, V: v, CSRF: guestToken(t, v)}
	}
	email := w.memberEmail
	if who != pgMemberA {
		email = w.Emails[who]
	}
	_, sess, err := w.S.Accounts.Login(context.Background(), account.Credentials{Email: email, Password: w.Password})
	if err != nil {
		t.Fatalf("sign %s in again: %v", email, err)
	}
	base, _ := url.Parse(w.S.URL)
	v.client.Jar.SetCookies(base, []*http.Cookie{{Name: "souk_session", Value: sess.Token, Path: "/"}})
	return &routeCaller{Who: who, V: v, CSRF: sess.CSRFToken}
}

// guestToken is the form token of a signed-out browser (bound to its cart
// cookie, which the page gives it).
func guestToken(t *testing.T, v *visitor) string {
	t.Helper()
	resp, body := v.get("/fr/login")
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("the sign-in page gives a signed-out visitor no form token: %d", resp.StatusCode)
	}
	return m[1]
}

// send makes the request of a row as c, with c's token unless told not to.
func (c *routeCaller) send(rq pageRequest, token string) (*http.Response, string) {
	c.V.t.Helper()
	if rq.Method == "" {
		rq.Method = http.MethodGet
	}
	if rq.Method == http.MethodGet || rq.Method == http.MethodHead {
		req, _ := http.NewRequest(rq.Method, c.V.base+rq.Path, nil)
		return c.V.do(req)
	}
	form := url.Values{}
	for k, vs := range rq.Form {
		form[k] = slices.Clone(vs)
	}
	if token != "" {
		form.Set("csrf_token", token)
	}
	if rq.FileField != "" {
		fields := map[string]string{}
		for k := range form {
			fields[k] = form.Get(k)
		}
		return c.V.do(c.V.multipartRequest(rq.Path, fields, rq.FileField, rq.Files...))
	}
	req, _ := http.NewRequest(rq.Method, c.V.base+rq.Path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.V.do(req)
}

// webRoutes are the routes web.Mount registers ("METHOD path", HEAD left
// out: Fiber adds it to every GET), and a router that tells which of them
// a concrete request reaches.
func webRoutes(t *testing.T, store media.Store) ([]string, func(method, path string) string) {
	t.Helper()
	app := fiber.New()
	web.Mount(app, web.Deps{Media: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var routes []string
	matcher := fiber.New()
	for _, stack := range app.Stack() {
		for _, r := range stack {
			if r.Method == fiber.MethodHead {
				continue
			}
			key := r.Method + " " + r.Path
			routes = append(routes, key)
			matcher.Add(r.Method, r.Path, func(c *fiber.Ctx) error { return c.SendString(key) })
		}
	}
	match := func(method, path string) string {
		resp, err := matcher.Test(httptest.NewRequest(method, path, nil), -1)
		if err != nil {
			t.Fatalf("match %s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			return ""
		}
		return string(b)
	}
	return routes, match
}

// routeCases are the rows of every page route beyond the dashboards' GET
// pages (those are pageCases).
var routeCases []routeCase

func getPath(format string, args ...any) func(*testing.T, *pageWorld, *routeCaller) pageRequest {
	return func(*testing.T, *pageWorld, *routeCaller) pageRequest {
		return pageRequest{Path: fmt.Sprintf(format, args...)}
	}
}

func extraGet(format string, keys ...string) func(*testing.T, *pageWorld, *routeCaller) pageRequest {
	return func(t *testing.T, w *pageWorld, _ *routeCaller) pageRequest {
		args := make([]any, len(keys))
		for i, k := range keys {
			v, ok := w.Extra[k]
			if !ok {
				t.Fatalf("no fixture %q", k)
			}
			args[i] = v
		}
		return pageRequest{Path: fmt.Sprintf(format, args...)}
	}
}

// post is a form to a path built from fixtures of w.Extra.
func post(form url.Values, format string, keys ...string) func(*testing.T, *pageWorld, *routeCaller) pageRequest {
	return func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
		rq := extraGet(format, keys...)(t, w, c)
		rq.Method, rq.Form = http.MethodPost, form
		return rq
	}
}

// Expectations of the rows below, in the order anonymous, buyer, artisan,
// manager of A, manager of B, admin, member of A.
var (
	// A form of A's dashboard: A's managers and the administrators; a
	// member of A reads but does not change.
	coopForm = func(ok int) routeExpect { return routeExpect{303, 403, 403, ok, 403, ok, 403} }
	// A page of A's dashboard, which its members read.
	coopRead = func(ok int) routeExpect { return routeExpect{303, 403, 403, ok, 403, ok, ok} }
	// An administrator's page or form.
	adminRoute = func(ok int) routeExpect { return routeExpect{303, 403, 403, 403, 403, ok, 403} }
	// The artisan's pages: renters (artisans, cooperative members) and admins.
	renterRoute = func(ok int) routeExpect { return routeExpect{303, 403, ok, ok, ok, ok, ok} }
)

func init() {
	public := everyonePage(200)
	routeCases = append(routeCases,
		// Static files, media, robots, sitemap, the language choice.
		routeCase{Route: "GET /static/:name", Name: "fingerprinted", Want: public, Request: getPath("%s", web.Asset("app.css"))},
		routeCase{Route: "GET /static/:name", Name: "unknown", Want: everyonePage(404), Request: getPath("/static/nothing-here.css")},
		routeCase{Route: "GET /media/*", Name: "a public photo", Want: public, Request: extraGet("%s", "pm.media")},
		routeCase{Route: "GET /media/*", Name: "a private document", Want: everyonePage(403), Request: extraGet("/media/%s", "pm.privateKey")},
		routeCase{Route: "GET /robots.txt", Want: public, Request: getPath("/robots.txt")},
		routeCase{Route: "GET /sitemap.xml", Want: public, Request: getPath("/sitemap.xml")},
		routeCase{Route: "GET /", Want: everyonePage(302), Request: getPath("/")},
		routeCase{Route: "GET /:lang<len(2)>/", Want: public, Request: getPath("/ar/")},
		routeCase{Route: "GET /:lang<len(2)>/", Name: "unknown language", Want: everyonePage(404), Request: getPath("/xx/")},
		// The catalog.
		routeCase{Route: "GET /:lang<len(2)>/search", Want: public, Request: getPath("/fr/search?q=tajine&commune=Anzi")},
		routeCase{Route: "GET /:lang<len(2)>/crafts/:craft", Want: public, Request: getPath("/en/crafts/pottery")},
		routeCase{Route: "GET /:lang<len(2)>/crafts/:craft", Name: "unknown craft", Want: everyonePage(404), Request: getPath("/en/crafts/no-such-craft")},
		routeCase{Route: "GET /:lang<len(2)>/products/:slug", Want: public, Request: extraGet("/fr/products/%s", "pm.productSlug")},
		routeCase{Route: "GET /:lang<len(2)>/products/:slug", Name: "a draft of A", Want: everyonePage(404),
			Request: extraGet("/fr/products/%s", "pm.draftSlug")},
		routeCase{Route: "GET /:lang<len(2)>/cooperatives/:slug", Want: public, Request: extraGet("/ar/cooperatives/%s", "pm.coopSlug")},
		routeCase{Route: "GET /:lang<len(2)>/certificates", Want: public, Request: getPath("/fr/certificates")},
		routeCase{Route: "GET /:lang<len(2)>/certificates/:number", Want: public, Request: extraGet("/fr/certificates/%s", "pm.certNumber")},
		routeCase{Route: "GET /:lang<len(2)>/venues", Want: public, Request: getPath("/en/venues")},
		routeCase{Route: "GET /:lang<len(2)>/venues/:slug", Want: public, Request: getPath("/fr/venues/tafraout-artisan-market")},
		routeCase{Route: "GET /:lang<len(2)>/venues/:slug", Name: "unknown venue", Want: everyonePage(404), Request: getPath("/fr/venues/nowhere")},
		// Sign-in and sign-out.
		routeCase{Route: "GET /:lang<len(2)>/login", Want: routeExpect{200, 303, 303, 303, 303, 303, 303}, Request: getPath("/fr/login")},
		routeCase{Route: "POST /:lang<len(2)>/login", Fresh: true, Want: everyonePage(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				email := w.memberEmail
				if c.Who < nPageCallers {
					email = w.Emails[c.Who]
				}
				if c.Who == pgAnon {
					email = w.Emails[pgBuyer]
				}
				return pageRequest{Method: http.MethodPost, Path: "/fr/login", Form: url.Values{"email": {email}, "password": {w.Password}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/logout", Fresh: true, Want: everyonePage(303),
			Request: func(*testing.T, *pageWorld, *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: "/en/logout"}
			}},
		// The cart, checkout and orders: anyone, each in their own cart.
		routeCase{Route: "GET /:lang<len(2)>/cart", Want: public, Request: getPath("/fr/cart")},
		routeCase{Route: "POST /:lang<len(2)>/cart/items", Fresh: true, Want: everyonePage(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: "/fr/cart/items",
					Form: url.Values{"product_id": {fmt.Sprint(w.Extra["pm.buy"])}, "quantity": {"1"}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/cart/items/:product_id", Fresh: true, Want: everyonePage(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				id := w.Extra["pm.buy"].(int64)
				fillCart(t, c, id)
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/cart/items/%d", id), Form: url.Values{"quantity": {"2"}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/cart/items/:product_id/remove", Fresh: true, Want: everyonePage(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				id := w.Extra["pm.buy"].(int64)
				fillCart(t, c, id)
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/cart/items/%d/remove", id)}
			}},
		routeCase{Route: "GET /:lang<len(2)>/checkout", Name: "empty cart", Fresh: true, Want: public, Request: getPath("/fr/checkout")},
		routeCase{Route: "GET /:lang<len(2)>/checkout", Name: "with a piece", Fresh: true, Want: public,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				fillCart(t, c, w.Extra["pm.buy"].(int64))
				return pageRequest{Path: "/fr/checkout"}
			}},
		routeCase{Route: "POST /:lang<len(2)>/checkout", Fresh: true, Want: everyonePage(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				fillCart(t, c, w.Extra["pm.buy"].(int64))
				_, body := c.V.get("/fr/checkout")
				return pageRequest{Method: http.MethodPost, Path: "/fr/checkout", Form: url.Values{
					"idempotency_key": {field(t, keyField, body)}, "email": {"pages@example.com"}, "name": {"Claire Martin"},
					"line1": {"12 rue Hassan II"}, "city": {"Tiznit"}, "postal_code": {"85000"}, "country": {"MA"},
					"phone": {"0612345678"}, "payment_method": {"cod"}}}
			}},
		// A guest's order: its link opens it for anyone, nothing else does.
		routeCase{Route: "GET /:lang<len(2)>/orders/:id", Name: "guest order with its token", Want: public,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				id, token := w.Extra["pm.guestOrder"].(int64), w.Extra["pm.guestToken"].(string)
				return pageRequest{Path: fmt.Sprintf("/fr/orders/%d?token=%s", id, url.QueryEscape(token))}
			}},
		routeCase{Route: "GET /:lang<len(2)>/orders/:id", Name: "guest order without its token", Want: routeExpect{404, 404, 404, 404, 404, 200, 404},
			Request: extraGet("/fr/orders/%d", "pm.guestOrder")},
		routeCase{Route: "GET /:lang<len(2)>/orders/:id", Name: "guest order with a wrong token", Want: routeExpect{404, 404, 404, 404, 404, 200, 404},
			Request: extraGet("/fr/orders/%d?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "pm.guestOrder")},
		routeCase{Route: "GET /:lang<len(2)>/orders/:id", Name: "the buyer's order", Want: routeExpect{404, 200, 404, 404, 404, 200, 404},
			Request: extraGet("/fr/orders/%d", "pm.buyerOrder")},
		routeCase{Route: "POST /:lang<len(2)>/orders/:id/cancel", Name: "guest order, token in the form", Want: everyonePage(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				id, token := placeGuestOrder(t, w)
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/orders/%d/cancel", id), Form: url.Values{"token": {token}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/orders/:id/cancel", Name: "the buyer's order", Want: routeExpect{404, 303, 404, 404, 404, 303, 404}, Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/orders/%d/cancel", placeBuyerOrder(t, w))}
			}},
		// The return from a card checkout: a redirect, whoever asks.
		routeCase{Route: "GET /:lang<len(2)>/dashboard/bookings/:id", Want: everyonePage(303), Request: extraGet("/fr/dashboard/bookings/%d?paid=1", "artisan booking")},
	)

	// The cooperative dashboard: what the dashboard rows leave out, and
	// every form.
	routeCases = append(routeCases,
		routeCase{Route: "GET /:lang<len(2)>/dashboard/cooperatives/:id<int>", Name: "A, member included", Want: coopRead(200),
			Request: coopGet("")},
		routeCase{Route: "GET /:lang<len(2)>/dashboard/cooperatives/:id<int>", Name: "no such cooperative", Want: routeExpect{303, 403, 403, 403, 403, 404, 403},
			Request: getPath("/fr/dashboard/cooperatives/999999")},
		routeCase{Route: "GET /:lang<len(2)>/dashboard/cooperatives/:id<int>/products", Name: "A, member included", Want: coopRead(200), Request: coopGet("/products")},
		routeCase{Route: "GET /:lang<len(2)>/dashboard/cooperatives/:id<int>/orders", Name: "A, member included", Want: coopRead(200), Request: coopGet("/orders")},
		routeCase{Route: "GET /:lang<len(2)>/dashboard/cooperatives/:id<int>/catalog.csv", Want: coopRead(200), Request: coopGet("/catalog.csv")},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products", Want: coopForm(303), Changes: true,
			Request: coopPost("/products", productForm(""))},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products", Name: "into B", Want: routeExpect{303, 403, 403, 403, 303, 303, 403},
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/products", w.B), Form: productForm("")}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products/:pid<int>", Want: coopForm(303), Changes: true,
			Request: coopProductPost("", func(f url.Values) { f.Set("title_fr", "Jarre modifiée "+time.Now().Format("150405.000000")) })},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products/:pid<int>", Name: "A's product under B", Want: routeExpect{303, 403, 403, 403, 404, 404, 403},
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/%d", w.B, w.Extra["coop.productA"].(int64)),
					Form: productForm("")}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products/:pid<int>/publish", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				rq := coopProductPost("/publish", nil)(t, w, c)
				rq.Form = nil
				// A draft again, with its photos, for the form to publish.
				if err := w.S.DB.Exec(`UPDATE products SET status = 'draft' WHERE id = ?`, productWithPhotoOfA(t, w)).Error; err != nil {
					t.Fatal(err)
				}
				return rq
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products/:pid<int>/photos", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				rq := coopProductPost("/photos", nil)(t, w, c)
				rq.Form = nil
				// A picture of its own per caller: the same bytes twice are one photo.
				rq.FileField, rq.Files = "file", [][]byte{testPNG(t, color.RGBA{R: uint8(40 * c.Who), G: uint8(time.Now().Nanosecond()), B: 30, A: 255})}
				return rq
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products/:pid<int>/photos/:photo<int>/move", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				pid, photo := lastPhotoOfA(t, w)
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/%d/photos/%d/move", w.A, pid, photo),
					Form: url.Values{"dir": {"up"}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/products/:pid<int>/photos/:photo<int>/delete", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				pid, photo := photoOfA(t, w, c.Who)
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/%d/photos/%d/delete", w.A, pid, photo)}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/certificates", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/certificates", w.A),
					Form: url.Values{"scheme": {w.Extra["pm.scheme"].(string)}, "number": {fmt.Sprintf("PM-%d-%d", c.Who, time.Now().UnixNano())},
						"issuer": {"Ministère"}, "valid_from": {"2026-01-01"}, "valid_until": {time.Now().AddDate(1, 0, 0).Format("2006-01-02")}},
					FileField: "document", Files: [][]byte{minimalPDF}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/members", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/members", w.A),
					Form: url.Values{"email": {fmt.Sprintf("invitee-%d-%d@pages.test", c.Who, time.Now().UnixNano())}, "role": {"member"}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/orders/:fid<int>/ship", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/orders/%d/ship", w.A, placeCODOrder(t, w.S, w.Extra["pm.productOfA"].(int64))),
					Form: url.Values{"carrier": {"Amana"}, "tracking_number": {"RR123456789MA"}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/orders/:fid<int>/deliver", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/orders/%d/deliver", w.A, shippedParcelOfA(t, w))}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/cooperatives/:id<int>/catalog", Want: coopForm(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				csv := fmt.Sprintf("title_fr,craft,price_mad,weight_g,stock\nPot importé %d-%d,pottery,120.00,900,2\n", c.Who, time.Now().UnixNano())
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/catalog", w.A), FileField: "csv", Files: [][]byte{[]byte(csv)}}
			}},
	)

	// The artisan's section.
	routeCases = append(routeCases,
		routeCase{Route: "GET /:lang<len(2)>/dashboard/artisan", Name: "member of A", Want: renterRoute(200), Request: getPath("/fr/dashboard/artisan")},
		routeCase{Route: "GET /:lang<len(2)>/dashboard/artisan/invoices/:id", Name: "no such invoice", Want: renterRoute(404), Request: getPath("/fr/dashboard/artisan/invoices/999999")},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/artisan/venues/:slug/book", Want: routeExpect{303, 403, 303, 303, 303, 403, 303}, Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				day := booking.DayOf(time.Now()).AddDays(60 + c.Who).String()
				return pageRequest{Method: http.MethodPost, Path: "/fr/dashboard/artisan/venues/tafraout-artisan-market/book",
					Form: url.Values{"unit": {w.Extra["tafraout unit"].(string)}, "first_day": {day}, "last_day": {day}, "trade": {"pottery"},
						"payment_method": {"office"}, "idempotency_key": {fmt.Sprintf("pm-%d-%d", c.Who, time.Now().UnixNano())}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/artisan/venues/:slug/waitlist", Want: routeExpect{303, 403, 303, 303, 303, 403, 303}, Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				day := w.Extra["pm.takenDay"].(string)
				return pageRequest{Method: http.MethodPost, Path: "/fr/dashboard/artisan/venues/tafraout-artisan-market/waitlist",
					Form: url.Values{"unit": {w.Extra["pm.takenUnit"].(string)}, "first_day": {day}, "last_day": {day}, "trade": {"pottery"}}}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/artisan/bookings/:id/pay", Name: "card payments off", Want: routeExpect{303, 403, 503, 404, 404, 404, 404},
			Request: post(nil, "/fr/dashboard/artisan/bookings/%d/pay", "artisan booking")},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/artisan/bookings/:id/cancel", Want: routeExpect{303, 403, 303, 404, 404, 404, 404}, Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/artisan/bookings/%d/cancel", artisanHold(t, w, c.Who))}
			}},
		routeCase{Route: "POST /:lang<len(2)>/dashboard/artisan/invoices/:id/pay", Name: "no such invoice", Want: renterRoute(404),
			Request: func(*testing.T, *pageWorld, *routeCaller) pageRequest {
				return pageRequest{Method: http.MethodPost, Path: "/fr/dashboard/artisan/invoices/999999/pay"}
			}},
	)

	// The administrators' section: the forms.
	adminPost := func(route string, form func(t *testing.T, w *pageWorld) (string, url.Values)) routeCase {
		return routeCase{Route: "POST /:lang<len(2)>/dashboard/admin" + route, Want: adminRoute(303), Changes: true,
			Request: func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
				p, f := form(t, w)
				return pageRequest{Method: http.MethodPost, Path: "/fr/dashboard/admin" + p, Form: f}
			}}
	}
	routeCases = append(routeCases,
		routeCase{Route: "GET /:lang<len(2)>/dashboard/admin/reports/sales.csv", Want: adminRoute(200), Request: getPath("/fr/dashboard/admin/reports/sales.csv")},
		routeCase{Route: "GET /:lang<len(2)>/dashboard/admin/reports/inclusion.csv", Want: adminRoute(200), Request: getPath("/fr/dashboard/admin/reports/inclusion.csv")},
		adminPost("/cooperatives/:id/verify", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/cooperatives/%d/verify", pendingCooperative(t, w)), nil
		}),
		adminPost("/certificates/:id/verify", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/certificates/%d/verify", pendingCertificate(t, w)), nil
		}),
		adminPost("/certificates/:id/reject", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/certificates/%d/reject", pendingCertificate(t, w)), url.Values{"reason": {"Document illisible"}}
		}),
		adminPost("/applications/:id/approve", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/applications/%d/approve", application(t, w)), nil
		}),
		adminPost("/applications/:id/reject", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/applications/%d/reject", application(t, w)), url.Values{"reason": {"Dossier incomplet"}}
		}),
		adminPost("/payments/:id", func(t *testing.T, w *pageWorld) (string, url.Values) {
			b := officeHold(t, w)
			return fmt.Sprintf("/payments/%d", b.ID), url.Values{"method": {"office_cash"}, "amount": {storefront.FormatMAD(b.Amount)},
				"receipt_number": {fmt.Sprintf("R-%d", b.ID)}}
		}),
		adminPost("/venues/:id", func(t *testing.T, w *pageWorld) (string, url.Values) {
			// Tafraout: the demo's artisan zones have the kind "artisan_zone",
			// which the venue rules refuse, so no edit of theirs is saved.
			return fmt.Sprintf("/venues/%d", w.Extra["pm.tafraoutVenue"]), url.Values{"name": {"Marché artisanal de Tafraout " + time.Now().Format("150405.000000")},
				"policy": {"instant"}, "active": {"on"}}
		}),
		adminPost("/venues/:id/events", func(t *testing.T, w *pageWorld) (string, url.Values) {
			day := booking.DayOf(time.Now()).AddDays(90)
			return fmt.Sprintf("/venues/%d/events", w.Extra["pm.tafraoutVenue"]), url.Values{"name_fr": {"Foire " + time.Now().Format("150405.000000")},
				"first_day": {day.String()}, "last_day": {day.AddDays(2).String()}, "stall_price": {"200"}}
		}),
		adminPost("/units/:id", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/units/%d", w.Extra["admin.unit"]), url.Values{"kind": {"rect"}, "x": {"40"}, "y": {"50"}, "w": {fmt.Sprint(100 + time.Now().Nanosecond()%50)},
				"h": {"77"}, "area_m2": {"30"}, "day_rate": {"35.00"}, "active": {"on"}}
		}),
		adminPost("/products/:id/unpublish", func(t *testing.T, w *pageWorld) (string, url.Values) {
			return fmt.Sprintf("/products/%d/unpublish", publishedProductOfB(t, w)), url.Values{"reason": {"Photo trompeuse"}}
		}),
		adminPost("/shipping", func(t *testing.T, w *pageWorld) (string, url.Values) {
			form := url.Values{}
			for _, z := range []string{"MA", "EU", "WORLD"} {
				form.Set("fee_"+z, "10.00")
				form.Set("w_"+z+"_0", "1000")
				form.Set("a_"+z+"_0", fmt.Sprintf("%d.00", 40+time.Now().Nanosecond()%9))
				form.Set("w_"+z+"_1", "30000")
				form.Set("a_"+z+"_1", "300")
			}
			return "/shipping", form
		}),
		adminPost("/cooperatives/:id/payouts", func(t *testing.T, w *pageWorld) (string, url.Values) {
			(&adminWorld{pageWorld: w, ctx: context.Background()}).addSale(t, w.A, 1000)
			return fmt.Sprintf("/cooperatives/%d/payouts", w.A), url.Values{"amount": {"1.00"}, "reference": {fmt.Sprintf("VIR-%d", time.Now().UnixNano())},
				"paid_on": {storefront.DateOf(time.Now()).String()}, "idempotency_key": {fmt.Sprintf("pm-%d", time.Now().UnixNano())}}
		}),
	)
}

func coopGet(rest string) func(*testing.T, *pageWorld, *routeCaller) pageRequest {
	return func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
		return pageRequest{Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d%s", w.A, rest)}
	}
}

func coopPost(rest string, form url.Values) func(*testing.T, *pageWorld, *routeCaller) pageRequest {
	return func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
		form.Del("csrf_token")
		return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d%s", w.A, rest), Form: form}
	}
}

// coopProductPost posts to a draft product of A made for this request.
func coopProductPost(rest string, edit func(url.Values)) func(*testing.T, *pageWorld, *routeCaller) pageRequest {
	return func(t *testing.T, w *pageWorld, c *routeCaller) pageRequest {
		form := productForm("")
		form.Del("csrf_token")
		if edit != nil {
			edit(form)
		}
		return pageRequest{Method: http.MethodPost, Path: fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/%d%s", w.A, productWithPhotoOfA(t, w), rest), Form: form}
	}
}

var (
	minimalPDF = []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
)

// fillCart puts a piece in the caller's cart through the cart form.
func fillCart(t *testing.T, c *routeCaller, product int64) {
	t.Helper()
	resp, body := c.send(pageRequest{Method: http.MethodPost, Path: "/fr/cart/items",
		Form: url.Values{"product_id": {fmt.Sprint(product)}, "quantity": {"1"}}}, c.CSRF)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("as %s: fill the cart: %d %.300s", routeCallerNames[c.Who], resp.StatusCode, body)
	}
}

// placeOrder places a COD order through the API, as a guest or (with a
// session token and its CSRF token) as a signed-in buyer.
func placeOrder(t *testing.T, w *pageWorld, product int64, session, csrf string) (int64, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"items": []map[string]any{{"product_id": product, "quantity": 1}},
		"email": "pages-buyer@example.com", "payment_method": "cod", "lang": "fr",
		"shipping_address": map[string]string{"name": "Fatima Zahra", "line1": "12 rue Hassan II", "city": "Tiznit",
			"postal_code": "85000", "country": "MA", "phone": "0612345678"}})
	req, _ := http.NewRequest(http.MethodPost, w.S.URL+"/api/v1/orders", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if session != "" {
		req.AddCookie(&http.Cookie{Name: "souk_session", Value: session})
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Order struct {
			ID int64 `json:"id"`
		} `json:"order"`
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 201 || out.Order.ID == 0 {
		t.Fatalf("place an order: %d", resp.StatusCode)
	}
	return out.Order.ID, out.AccessToken
}

func placeGuestOrder(t *testing.T, w *pageWorld) (int64, string) {
	t.Helper()
	return placeOrder(t, w, w.Extra["pm.buy"].(int64), "", "")
}

func placeBuyerOrder(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	id, _ := placeOrder(t, w, w.Extra["pm.buy"].(int64), w.visitors[pgBuyer].cookie("souk_session"), w.csrf[pgBuyer])
	return id
}

// productWithPhotoOfA makes a draft product of A with one photo, through
// the domain.
func productWithPhotoOfA(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	var id int64
	if err := w.S.DB.Raw(`SELECT p.id FROM products p WHERE p.cooperative_id = ? AND EXISTS (SELECT 1 FROM product_photos f WHERE f.product_id = p.id)
		ORDER BY p.id`, w.A).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no product of A with a photo: %v", err)
	}
	return id
}

// photoOfA is the newest photo of A's products: after a delete, another.
func photoOfA(t *testing.T, w *pageWorld, who int) (int64, int64) {
	t.Helper()
	var row struct{ ProductID, ID int64 }
	if err := w.S.DB.Raw(`SELECT f.product_id, f.id FROM product_photos f JOIN products p ON p.id = f.product_id
		WHERE p.cooperative_id = ? ORDER BY f.id DESC LIMIT 1`, w.A).Scan(&row).Error; err != nil || row.ID == 0 {
		t.Fatalf("no photo of A left (as %s): %v", routeCallerNames[who], err)
	}
	return row.ProductID, row.ID
}

// lastPhotoOfA is the last photo of a product of A that has several, to
// move up.
func lastPhotoOfA(t *testing.T, w *pageWorld) (int64, int64) {
	t.Helper()
	var row struct{ ProductID, ID int64 }
	if err := w.S.DB.Raw(`SELECT f.product_id, f.id FROM product_photos f JOIN products p ON p.id = f.product_id
		WHERE p.cooperative_id = ? AND (SELECT COUNT(*) FROM product_photos g WHERE g.product_id = f.product_id) >= 2
		ORDER BY f.product_id, f.position DESC LIMIT 1`, w.A).Scan(&row).Error; err != nil || row.ID == 0 {
		t.Fatalf("no product of A with two photos: %v", err)
	}
	return row.ProductID, row.ID
}

// shippedParcelOfA is a parcel of A, placed and shipped.
func shippedParcelOfA(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	ctx := context.Background()
	parcel := placeCODOrder(t, w.S, w.Extra["pm.productOfA"].(int64))
	mgr := principalByEmail(t, w, w.Emails[pgManagerA])
	if _, err := w.S.Catalog.ShipFulfilment(ctx, mgr, parcel, "Amana", "RR000000001MA"); err != nil {
		t.Fatalf("ship parcel %d: %v", parcel, err)
	}
	return parcel
}

func principalByEmail(t *testing.T, w *pageWorld, email string) *account.Principal {
	t.Helper()
	ctx := context.Background()
	u, err := w.S.Accounts.FindUserByEmail(ctx, email)
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.S.Accounts.PrincipalOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pendingCooperative(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	co, err := w.S.Accounts.CreateCooperative(context.Background(), principalByEmail(t, w, w.Emails[pgManagerB]),
		account.CooperativeInput{Name: fmt.Sprintf("Coopérative %d", time.Now().UnixNano()), Commune: "Tiznit", Crafts: []string{"pottery"}})
	if err != nil {
		t.Fatal(err)
	}
	return co.ID
}

func pendingCertificate(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	ctx := context.Background()
	number := fmt.Sprintf("PM-%d", time.Now().UnixNano())
	key := fmt.Sprintf("private/certificates/%d/%s.pdf", w.A, number)
	if err := w.S.Media.Put(ctx, key, bytes.NewReader(minimalPDF), int64(len(minimalPDF)), media.PutOptions{ContentType: media.PDFContentType}); err != nil {
		t.Fatal(err)
	}
	year := time.Now().Year()
	ce, err := w.S.Catalog.SubmitCertificate(ctx, principalByEmail(t, w, w.Emails[pgManagerA]), w.A, storefront.CertificateInput{Scheme: w.Extra["pm.scheme"].(string),
		Number: number, Issuer: "Ministère", ValidFrom: storefront.NewDate(year-1, 1, 1), ValidUntil: storefront.NewDate(year+1, 12, 31), DocumentKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return ce.ID
}

// application is a pending application for an Aouartas unit, on days no
// other row uses.
func application(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	w.Extra["pm.n"] = w.Extra["pm.n"].(int) + 1
	n := w.Extra["pm.n"].(int)
	unit, _ := unitOf(t, w.S, "aouartas-artisan-zone", n%20)
	first := booking.DayOf(time.Now()).AddDays(100 + 10*n)
	b, err := w.S.Bookings.PlaceHold(context.Background(), booking.PlaceHoldInput{UnitID: unit, ArtisanID: principalByEmail(t, w, w.Emails[pgArtisan]).UserID,
		Trade: "carpentry", PaymentMethod: booking.PaymentOffice, FirstDay: first.String(), LastDay: first.AddDays(2).String()})
	if err != nil || b.Status != booking.StatusPendingApproval {
		t.Fatalf("an application: %+v %v", b, err)
	}
	return b.ID
}

// officeHold is a held Tafraout booking paid at the office.
func officeHold(t *testing.T, w *pageWorld) booking.Booking {
	t.Helper()
	w.Extra["pm.n"] = w.Extra["pm.n"].(int) + 1
	day := booking.DayOf(time.Now()).AddDays(200 + w.Extra["pm.n"].(int))
	b, err := w.S.Bookings.PlaceHold(context.Background(), booking.PlaceHoldInput{UnitID: unitByCode(t, w.S, "tafraout-artisan-market", 3),
		ArtisanID: principalByEmail(t, w, w.Emails[pgArtisan]).UserID, Trade: "pottery", PaymentMethod: booking.PaymentOffice, FirstDay: day.String(), LastDay: day.String()})
	if err != nil {
		t.Fatalf("an office hold: %v", err)
	}
	return b
}

// artisanHold is a held booking of the artisan for a cancel form: a new
// one per caller.
func artisanHold(t *testing.T, w *pageWorld, who int) int64 {
	t.Helper()
	w.Extra["pm.n"] = w.Extra["pm.n"].(int) + 1
	day := booking.DayOf(time.Now()).AddDays(300 + w.Extra["pm.n"].(int))
	b, err := w.S.Bookings.PlaceHold(context.Background(), booking.PlaceHoldInput{UnitID: unitByCode(t, w.S, "tafraout-artisan-market", 4),
		ArtisanID: principalByEmail(t, w, w.Emails[pgArtisan]).UserID, Trade: "pottery", PaymentMethod: booking.PaymentOffice, FirstDay: day.String(), LastDay: day.String()})
	if err != nil {
		t.Fatalf("a hold to cancel (as %s): %v", routeCallerNames[who], err)
	}
	return b.ID
}

func publishedProductOfB(t *testing.T, w *pageWorld) int64 {
	t.Helper()
	var id int64
	if err := w.S.DB.Raw(`SELECT id FROM products WHERE cooperative_id = ? AND status = 'published' ORDER BY id LIMIT 1`, w.B).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no published product of B left: %v", err)
	}
	return id
}

// formProblems finds what a refused form says, to explain a failure.
var formProblems = regexp.MustCompile(`(?:role="alert"|data-field-error="[^"]*")[^>]*>[^<]{0,160}`)

var mediaURL = regexp.MustCompile(`/media/[A-Za-z0-9_./-]+\.(?:jpg|jpeg|webp|png)`)

// setupRoutes adds the fixtures of this file's rows to w.Extra.
func setupRoutes(t *testing.T, w *pageWorld) {
	t.Helper()
	ctx := context.Background()
	w.Extra["pm.n"] = 0
	buy, _ := demoProducts(t, w.S)
	w.Extra["pm.buy"] = buy
	var slug string
	w.S.DB.Raw(`SELECT slug FROM products WHERE id = ?`, buy).Scan(&slug)
	w.Extra["pm.productSlug"] = slug
	var ofA int64
	if err := w.S.DB.Raw(`SELECT id FROM products WHERE cooperative_id = ? AND status = 'published' AND stock >= 20 AND one_of_a_kind = ? ORDER BY id LIMIT 1`,
		w.A, false).Scan(&ofA).Error; err != nil || ofA == 0 {
		// Enough stock for every parcel the rows ship.
		if err := w.S.DB.Raw(`SELECT id FROM products WHERE cooperative_id = ? AND status = 'published' AND one_of_a_kind = ? ORDER BY id LIMIT 1`, w.A, false).
			Scan(&ofA).Error; err != nil || ofA == 0 {
			t.Fatalf("no published product of A: %v", err)
		}
		if err := w.S.DB.Exec(`UPDATE products SET stock = 100 WHERE id = ?`, ofA).Error; err != nil {
			t.Fatal(err)
		}
	}
	w.Extra["pm.productOfA"] = ofA
	mgrA := principalByEmail(t, w, w.Emails[pgManagerA])
	price, weight := int64(10000), 500
	draft, err := w.S.Catalog.CreateProduct(ctx, mgrA, w.A, storefront.ProductInput{Title: map[string]string{"fr": "Brouillon des pages"}, Craft: "pottery",
		Price: &price, Currency: "MAD", WeightG: &weight, Stock: 1})
	if err != nil {
		t.Fatalf("a draft of A: %v", err)
	}
	w.Extra["pm.draftSlug"] = draft.Slug
	co, err := w.S.Accounts.FindCooperative(ctx, w.A)
	if err != nil {
		t.Fatal(err)
	}
	w.Extra["pm.coopSlug"] = co.Slug
	var number, scheme string
	w.S.DB.Raw(`SELECT number FROM certificates ORDER BY id LIMIT 1`).Scan(&number)
	w.S.DB.Raw(`SELECT slug FROM certificate_schemes WHERE has_levels = ? ORDER BY position LIMIT 1`, false).Scan(&scheme)
	if number == "" || scheme == "" {
		t.Fatal("the demo has no certificate or no scheme without levels")
	}
	w.Extra["pm.certNumber"], w.Extra["pm.scheme"] = number, scheme
	_, home := w.visitors[pgAnon].get("/fr/products/" + slug)
	m := mediaURL.FindString(home)
	if m == "" {
		t.Fatal("the product page shows no photo from /media/")
	}
	w.Extra["pm.media"] = m
	w.Extra["pm.privateKey"] = "private/certificates/pm/doc.pdf"
	if err := w.S.Media.Put(ctx, "private/certificates/pm/doc.pdf", bytes.NewReader(minimalPDF), int64(len(minimalPDF)),
		media.PutOptions{ContentType: media.PDFContentType}); err != nil {
		t.Fatal(err)
	}
	id, token := placeGuestOrder(t, w)
	w.Extra["pm.guestOrder"], w.Extra["pm.guestToken"] = id, token
	w.Extra["pm.buyerOrder"] = placeBuyerOrder(t, w)
	var venue int64
	w.S.DB.Raw(`SELECT id FROM venues WHERE slug = 'tafraout-artisan-market'`).Scan(&venue)
	w.Extra["pm.tafraoutVenue"] = venue
	// A Tafraout unit-day someone else holds, for the waitlist.
	takenUnit := unitByCode(t, w.S, "tafraout-artisan-market", 5)
	day := booking.DayOf(time.Now()).AddDays(45).String()
	other, _, err := w.S.Accounts.Register(ctx, account.Registration{Email: "holder@pages.test", Password: w.Password, Name: "Holder", Role: "artisan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.S.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: takenUnit, ArtisanID: other.ID, FirstDay: day, LastDay: day,
		PaymentMethod: booking.PaymentOffice, Trade: "pottery"}); err != nil {
		t.Fatal(err)
	}
	w.Extra["pm.takenUnit"], w.Extra["pm.takenDay"] = unitCode(t, w.S, takenUnit), day
	if err := w.S.DB.Exec(`UPDATE cooperatives SET rib = '011519000001205000534921' WHERE id = ?`, w.A).Error; err != nil {
		t.Fatal(err)
	}
}

// allRouteCases are this file's rows and the dashboard matrix's, the
// latter with the route each reaches.
func allRouteCases() []routeCase {
	out := slices.Clone(routeCases)
	for _, pc := range pageCases {
		pc := pc
		out = append(out, routeCase{Name: pc.Name, Want: with7(pc.Want, notAsked),
			Request: func(t *testing.T, w *pageWorld, _ *routeCaller) pageRequest { return pageRequest{Path: pc.Path(w)} }})
	}
	return out
}

func TestPagesMatrix(t *testing.T) {
	w := newPageWorld(t)
	for _, setup := range pageSetups {
		setup(t, w)
	}
	setupRoutes(t, w)
	registered, match := webRoutes(t, w.S.Media)
	cases := allRouteCases()

	covered := map[string]bool{}
	for i, rc := range cases {
		if rc.Route != "" {
			if !slices.Contains(registered, rc.Route) {
				t.Errorf("row %q names %s, which web does not register", rc.Name, rc.Route)
			}
			covered[rc.Route] = true
			continue
		}
		// A dashboard row: its route is the one its path reaches.
		path, _, _ := strings.Cut(rc.Request(t, w, nil).Path, "?")
		if r := match(http.MethodGet, path); r != "" {
			cases[i].Route = r
			covered[r] = true
		}
	}
	var missing []string
	for _, r := range registered {
		if !covered[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	for _, r := range missing {
		t.Errorf("page route %s has no row in the page matrix (web/pages_matrix_test.go)", r)
	}

	requests := 0
	for _, rc := range cases {
		name := rc.Route
		if rc.Name != "" {
			name += " (" + rc.Name + ")"
		}
		t.Run(name, func(t *testing.T) {
			method, pattern, _ := strings.Cut(rc.Route, " ")
			for who := range nRouteCallers {
				want := rc.Want[who]
				if want == notAsked {
					continue
				}
				c := w.routeCaller(t, who, rc.Fresh)
				rq := rc.Request(t, w, c)
				if rq.Method == "" {
					rq.Method = http.MethodGet
				}
				path, _, _ := strings.Cut(rq.Path, "?")
				if rq.Method != method || match(rq.Method, path) != rc.Route {
					t.Fatalf("the row builds %s %s, which is not route %s %s", rq.Method, rq.Path, method, pattern)
				}
				token := c.CSRF
				if rq.NoToken {
					token = ""
				}
				resp, body := c.send(rq, token)
				requests++
				checkPageAnswer(t, routeCallerNames[who], rq, resp, body, want)
				if rq.Method == http.MethodGet {
					// HEAD is registered with every GET and must say the same.
					c2 := c
					if rc.Fresh {
						c2 = w.routeCaller(t, who, true)
					}
					head, _ := c2.send(pageRequest{Method: http.MethodHead, Path: rq.Path}, "")
					requests++
					if head.StatusCode != resp.StatusCode && !(rc.Fresh && head.StatusCode == want) {
						t.Errorf("as %s: HEAD %s answered %d, GET %d", routeCallerNames[who], rq.Path, head.StatusCode, resp.StatusCode)
					}
				}
			}
		})
	}
	// Addresses no route serves: a helpful 404 page, in the visitor's language.
	for who := range nPageCallers {
		v := w.visitors[who]
		v.t = t
		resp, body := v.get("/ar/no-such-page")
		requests++
		if resp.StatusCode != 404 || !strings.Contains(body, `<html lang="ar"`) {
			t.Errorf("as %s: an unknown address answered %d: %.200s", pageCallerNames[who], resp.StatusCode, body)
		}
	}
	t.Logf("%d page routes, %d rows, %d requests", len(registered), len(cases), requests)
}

// checkPageAnswer compares an answer with the status a row wants and what
// goes with it.
func checkPageAnswer(t *testing.T, who string, rq pageRequest, resp *http.Response, body string, want int) {
	t.Helper()
	if resp.StatusCode != want {
		t.Errorf("as %s: %s %s answered %d, want %d: %s %.300s", who, rq.Method, rq.Path, resp.StatusCode, want,
			formProblems.FindAllString(body, 5), body)
		return
	}
	lang := strings.SplitN(strings.TrimPrefix(rq.Path, "/"), "/", 2)[0]
	switch {
	case want == http.StatusSeeOther && strings.Contains(rq.Path, "/dashboard/") && who == "anonymous" && !strings.Contains(rq.Path, "/dashboard/bookings/"):
		if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/"+lang+"/login?next=") {
			t.Errorf("a signed-out visitor of %s %s is sent to %q, not the sign-in page", rq.Method, rq.Path, loc)
		}
	case want == http.StatusForbidden || want == http.StatusNotFound:
		if ct := resp.Header.Get("Content-Type"); web.ValidLang(lang) && !strings.HasPrefix(ct, "text/html") {
			t.Errorf("as %s: the refusal of %s %s is %q, not an HTML page", who, rq.Method, rq.Path, ct)
		}
	}
}
