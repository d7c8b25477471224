package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// Orders are what the cart, checkout and order pages need beyond the
// catalog. The API server provides them (internal/server wires them), so
// that a page places and cancels an order through exactly the code of
// POST /api/v1/orders and POST /api/v1/orders/{id}/cancel.
type Orders struct {
	// PlaceOrder places an order (api.Server.PlaceOrder).
	PlaceOrder func(ctx context.Context, in storefront.Checkout) (storefront.CheckoutResult, error)
	// CancelOrder cancels an order the caller may see, refunding a card
	// payment (api.Server.CancelOrder).
	CancelOrder func(ctx context.Context, o storefront.Order) (storefront.Order, int64, error)
	// Secret keys the guests' CSRF tokens and the access tokens of the
	// orders they place here.
	Secret []byte
}

// The cookies of the cart pages. CartCookie is api.CartCookie (the same
// cart for the pages and the API; a test checks they agree).
const (
	CartCookie = "souk_cart"
	// orderCookiePrefix + order id holds a guest's access token to the
	// order placed in this browser, so that the pages a card checkout
	// returns to open it without the token travelling to Stripe.
	orderCookiePrefix = "souk_order_"
)

// mountCheckoutPages registers the cart, checkout and order pages.
func (s *site) mountCheckoutPages(app *fiber.App) {
	app.Get("/:lang<len(2)>/cart", s.withLang(s.showCartPage))
	app.Post("/:lang<len(2)>/cart/items", s.withLang(s.submitAddToCart))
	app.Post("/:lang<len(2)>/cart/items/:product_id", s.withLang(s.submitCartQuantity))
	app.Post("/:lang<len(2)>/cart/items/:product_id/remove", s.withLang(s.submitCartRemove))
	app.Get("/:lang<len(2)>/checkout", s.withLang(s.showCheckoutPage))
	app.Post("/:lang<len(2)>/checkout", s.withLang(s.submitCheckoutForm))
	app.Get("/:lang<len(2)>/orders/:id", s.withLang(s.showOrderPage))
	app.Post("/:lang<len(2)>/orders/:id/cancel", s.withLang(s.submitOrderCancel))
}

// principalOf is the signed-in visitor, as the API middleware loaded it,
// or nil.
func principalOf(c *fiber.Ctx) *account.Principal {
	p, _ := c.Locals(account.PrincipalLocalsKey).(*account.Principal)
	return p
}

func (s *site) secure() bool { return !s.deps.Config.Development() }

func (s *site) setCartCookie(c *fiber.Ctx, token string) {
	c.Cookie(&fiber.Cookie{Name: CartCookie, Value: token, Path: "/", Expires: time.Now().Add(storefront.GuestCartTTL),
		HTTPOnly: true, Secure: s.secure(), SameSite: fiber.CookieSameSiteLaxMode})
	// Later reads in this request (csrfToken, then a form) see it too.
	c.Request().Header.SetCookie(CartCookie, token)
}

func (s *site) clearCartCookie(c *fiber.Ctx) {
	c.Cookie(&fiber.Cookie{Name: CartCookie, Value: "", Path: "/", Expires: time.Unix(0, 0),
		HTTPOnly: true, Secure: s.secure(), SameSite: fiber.CookieSameSiteLaxMode})
	c.Request().Header.DelCookie(CartCookie)
}

// cartOwner is the visitor's cart: a signed-in buyer's (a guest cart still
// in the browser is merged into it first), or the guest's of the cookie.
// With create, a guest without a cart cookie gets one.
func (s *site) cartOwner(c *fiber.Ctx, create bool) storefront.CartOwner {
	token := c.Cookies(CartCookie)
	if p := principalOf(c); p != nil {
		if token != "" {
			if _, err := s.deps.Catalog.MergeGuestCart(c.UserContext(), token, p.UserID); err != nil {
				s.log.WarnContext(c.UserContext(), "merge the guest cart", "user", p.UserID, "err", err)
			} else {
				s.clearCartCookie(c)
			}
		}
		return storefront.BuyerCart(p.UserID)
	}
	if !storefront.ValidCartToken(token) {
		if !create {
			return storefront.CartOwner{}
		}
		var err error
		if token, err = storefront.NewCartToken(); err != nil {
			return storefront.CartOwner{}
		}
		s.setCartCookie(c, token)
	}
	return storefront.GuestCart(token)
}

// cartCount is the number of pieces in the visitor's cart, for the header:
// one small query, and none for a guest without a cart cookie.
func (s *site) cartCount(c *fiber.Ctx) int {
	if s.deps.Catalog == nil {
		return 0
	}
	var o storefront.CartOwner
	if p := principalOf(c); p != nil {
		o = storefront.BuyerCart(p.UserID)
	} else if t := c.Cookies(CartCookie); storefront.ValidCartToken(t) {
		o = storefront.GuestCart(t)
	} else {
		return 0
	}
	n, err := s.deps.Catalog.CountCartPieces(c.UserContext(), o)
	if err != nil {
		s.log.WarnContext(c.UserContext(), "count the cart", "err", err)
		return 0
	}
	return n
}

// csrfToken is the token a page form that changes state must carry in its
// csrf_token field: the session's for a signed-in visitor (the API
// middleware checks it), and for a guest an HMAC of the cart cookie (which
// this gives the guest if they have none yet), checked by checkGuestCSRF.
// A cross-site page can make the browser send the cookie but can neither
// read it nor compute the token.
func (s *site) csrfToken(c *fiber.Ctx) string {
	if p := principalOf(c); p != nil {
		return p.Session.CSRFToken
	}
	token := c.Cookies(CartCookie)
	if !storefront.ValidCartToken(token) {
		var err error
		if token, err = storefront.NewCartToken(); err != nil {
			return ""
		}
		s.setCartCookie(c, token)
	}
	return s.guestCSRF(token)
}

func (s *site) guestCSRF(cartToken string) string {
	m := hmac.New(sha256.New, s.deps.Orders.Secret)
	m.Write([]byte("souk/guest-csrf/v1\x00" + cartToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses a guest's form without the token of their cart cookie
// (403). A signed-in visitor's token was checked by the API middleware.
func (s *site) checkCSRF(c *fiber.Ctx) error {
	if principalOf(c) != nil {
		return nil
	}
	token := c.Cookies(CartCookie)
	given := c.FormValue("csrf_token")
	if !storefront.ValidCartToken(token) || given == "" || !hmac.Equal([]byte(s.guestCSRF(token)), []byte(given)) {
		return errs.E(errs.Forbidden, "missing or wrong CSRF token: reload the page and try again")
	}
	return nil
}

// noStore keeps personal pages (carts, forms with tokens, orders) out of
// shared caches.
func noStore(c *fiber.Ctx) { c.Set(fiber.HeaderCacheControl, "no-store") }

func money(lang string, centimes int64) string { return payment.MAD(centimes).Format(lang) }

// countries are the destinations the forms offer, Morocco first.
var countries = []string{"MA", "FR", "ES", "BE", "NL", "DE", "IT", "PT", "GB", "IE", "CH", "US", "CA"}

func knownCountry(code string) bool {
	for _, c := range countries {
		if c == code {
			return true
		}
	}
	return false
}

// countryName is a country's name in lang, or its code for one the forms
// do not offer (an order placed through the API).
func countryName(lang, code string) string {
	if knownCountry(code) {
		return T(lang, "checkout.country."+code)
	}
	return code
}

type countryOption struct {
	Code, Name string
	Selected   bool
}

func countryOptions(lang, selected string) []countryOption {
	out := make([]countryOption, len(countries))
	for i, code := range countries {
		out[i] = countryOption{Code: code, Name: T(lang, "checkout.country."+code), Selected: code == selected}
	}
	return out
}

// cartLineView is a cart line as the page shows it.
type cartLineView struct {
	ProductID string
	Title     string
	URL       string
	Quantity  string
	Max       string
	Unit      string
	Total     string
	Status    string
	Note      string
}

type cartGroupView struct {
	Name, URL string
	Subtotal  string
	Lines     []cartLineView
}

// cartView is the cart as the cart and checkout pages show it.
type cartView struct {
	Groups    []cartGroupView
	Pieces    string
	Subtotal  string
	Orderable bool
	Flagged   int
	Empty     bool
	// Shipping, Total: the estimate to Country ("" when it cannot be given).
	Country   string
	Countries []countryOption
	Shipping  string
	Total     string
}

func (s *site) cartView(ctx context.Context, lang string, cart storefront.Cart, country string) cartView {
	v := cartView{Pieces: N(lang, "cart.pieces", cart.Pieces), Subtotal: money(lang, cart.Subtotal), Orderable: cart.Orderable,
		Flagged: cart.Flagged, Empty: cart.Lines == 0, Country: country, Countries: countryOptions(lang, country)}
	for _, g := range cart.Groups {
		gv := cartGroupView{Name: g.Cooperative.Name, URL: "/" + lang + "/cooperatives/" + g.Cooperative.Slug, Subtotal: money(lang, g.Subtotal)}
		for _, l := range g.Lines {
			lv := cartLineView{ProductID: strconv.FormatInt(l.ProductID, 10), Title: l.Title.In(lang), URL: "/" + lang + "/products/" + l.Slug,
				Quantity: strconv.Itoa(l.Quantity), Unit: money(lang, l.UnitPrice), Total: money(lang, l.LineTotal), Status: string(l.Status),
				Max: strconv.Itoa(storefront.MaxCartQuantity)}
			switch l.Status {
			case storefront.CartLineLimited:
				lv.Note = N(lang, "cart.only_left", l.Available)
				lv.Max = strconv.Itoa(l.Available)
			case storefront.CartLineSoldOut:
				lv.Note = T(lang, "cart.sold_out")
			case storefront.CartLineUnavailable:
				lv.Note = T(lang, "cart.unavailable")
				lv.Unit, lv.Total = "—", "—"
			default:
				if l.MadeToOrderDays != nil && l.Quantity > l.Available {
					lv.Note = N(lang, "cart.made_to_order", *l.MadeToOrderDays)
				} else if l.MadeToOrderDays == nil {
					lv.Max = strconv.Itoa(max(1, min(l.Available, storefront.MaxCartQuantity)))
				}
			}
			gv.Lines = append(gv.Lines, lv)
		}
		v.Groups = append(v.Groups, gv)
	}
	if items := cart.OrderItems(); len(items) > 0 && country != "" {
		q, err := s.deps.Catalog.QuoteItems(ctx, country, items)
		if err == nil {
			v.Shipping, v.Total = money(lang, q.Amount), money(lang, cart.Subtotal+q.Amount)
		} else if !errs.Is(err, errs.Invalid) {
			s.log.WarnContext(ctx, "quote the cart's shipping", "err", err)
		}
	}
	return v
}

// cartPage is everything the cart page shows.
type cartPage struct {
	Cart   cartView
	CSRF   string
	Notice string
}

func (s *site) showCartPage(c *fiber.Ctx, lang string) error {
	return s.renderCart(c, lang, http.StatusOK, "")
}

func (s *site) renderCart(c *fiber.Ctx, lang string, status int, notice string) error {
	ctx := c.UserContext()
	cart, err := s.deps.Catalog.FindCart(ctx, s.cartOwner(c, false))
	if err != nil {
		return err
	}
	country := strings.ToUpper(c.Query("country"))
	if !knownCountry(country) {
		country = "MA"
	}
	noStore(c)
	p := s.page(c, lang, T(lang, "cart.title"), "/cart")
	p.NoIndex = true // personal: carts, forms with tokens, orders
	return render(c, status, cartPageView(p, cartPage{Cart: s.cartView(ctx, lang, cart, country), CSRF: s.csrfToken(c), Notice: notice}))
}

// cartNotice is the page's words for a refused change of the cart.
func cartNotice(lang string, err error) (int, string, bool) {
	e := errs.As(err)
	if e == nil {
		return 0, "", false
	}
	switch e.Code {
	case errs.NotFound:
		return http.StatusNotFound, T(lang, "cart.err.not_on_sale"), true
	case errs.Conflict:
		if e.Extra["available"] != nil {
			return http.StatusConflict, T(lang, "cart.sold_out"), true
		}
		return http.StatusConflict, T(lang, "cart.err.not_on_sale"), true
	case errs.Invalid:
		if avail, ok := e.Extra["available"].(int); ok {
			return http.StatusUnprocessableEntity, N(lang, "cart.only_left", avail), true
		}
		for _, f := range e.Fields {
			if f.Field == "product_id" {
				return http.StatusUnprocessableEntity, N(lang, "cart.err.full", storefront.MaxCartLines), true
			}
		}
		return http.StatusUnprocessableEntity, N(lang, "cart.err.quantity", storefront.MaxCartQuantity), true
	}
	return 0, "", false
}

// changeCart runs a change of the cart from a form and answers 303 to the
// cart page, or the cart page with the refusal beside it.
func (s *site) changeCart(c *fiber.Ctx, lang string, change func(o storefront.CartOwner) error) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	if err := change(s.cartOwner(c, true)); err != nil {
		if status, notice, ok := cartNotice(lang, err); ok {
			return s.renderCart(c, lang, status, notice)
		}
		return err
	}
	return c.Redirect("/"+lang+"/cart", http.StatusSeeOther)
}

// formInt reads a whole number from a form field; a missing field is def,
// a malformed one -1 (refused by the cart's limits).
func formInt(c *fiber.Ctx, name string, def int) int {
	v := strings.TrimSpace(c.FormValue(name))
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// submitAddToCart adds a product to the cart from a product page's form
// (product_id, quantity, csrf_token).
func (s *site) submitAddToCart(c *fiber.Ctx, lang string) error {
	id, err := strconv.ParseInt(c.FormValue("product_id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "no such product")
	}
	qty := formInt(c, "quantity", 1)
	return s.changeCart(c, lang, func(o storefront.CartOwner) error {
		_, err := s.deps.Catalog.AddToCart(c.UserContext(), o, id, qty)
		return err
	})
}

// submitCartQuantity sets a line's quantity; 0 removes it.
func (s *site) submitCartQuantity(c *fiber.Ctx, lang string) error {
	id, err := strconv.ParseInt(c.Params("product_id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "no such product")
	}
	qty := formInt(c, "quantity", -1)
	return s.changeCart(c, lang, func(o storefront.CartOwner) error {
		if qty == 0 {
			_, err := s.deps.Catalog.RemoveFromCart(c.UserContext(), o, id)
			return err
		}
		_, err := s.deps.Catalog.SetCartQuantity(c.UserContext(), o, id, qty)
		return err
	})
}

func (s *site) submitCartRemove(c *fiber.Ctx, lang string) error {
	id, err := strconv.ParseInt(c.Params("product_id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "no such product")
	}
	return s.changeCart(c, lang, func(o storefront.CartOwner) error {
		_, err := s.deps.Catalog.RemoveFromCart(c.UserContext(), o, id)
		return err
	})
}

// checkoutForm is what the buyer typed, kept across a refused submit.
type checkoutForm struct {
	Email, Name, Line1, Line2, City, PostalCode, Country, Phone, Method, Key string
}

// checkoutPage is everything the checkout page shows.
type checkoutPage struct {
	Form   checkoutForm
	Errors map[string]string
	// General is a refusal that belongs to no field (a sold-out piece).
	General     string
	Cart        cartView
	CardEnabled bool
	CODCeiling  string
	CSRF        string
}

func newIdempotencyKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *site) showCheckoutPage(c *fiber.Ctx, lang string) error {
	f := checkoutForm{Country: "MA", Method: string(storefront.PayOnCOD), Key: newIdempotencyKey()}
	if p := principalOf(c); p != nil {
		f.Email, f.Name = p.Email, p.Name
	}
	if country := strings.ToUpper(c.Query("country")); knownCountry(country) {
		f.Country = country
	}
	if f.Country != "MA" && s.deps.Config.StripeEnabled() {
		f.Method = string(storefront.PayByCard)
	}
	return s.renderCheckout(c, lang, http.StatusOK, f, nil, "")
}

func (s *site) renderCheckout(c *fiber.Ctx, lang string, status int, f checkoutForm, fieldErrs map[string]string, general string) error {
	ctx := c.UserContext()
	cart, err := s.deps.Catalog.FindCart(ctx, s.cartOwner(c, false))
	if err != nil {
		return err
	}
	country := f.Country
	if !knownCountry(country) {
		country = "MA"
	}
	noStore(c)
	p := s.page(c, lang, T(lang, "checkout.title"), "/checkout")
	p.NoIndex = true // personal: carts, forms with tokens, orders
	return render(c, status, checkoutPageView(p, checkoutPage{Form: f, Errors: fieldErrs, General: general,
		Cart: s.cartView(ctx, lang, cart, country), CardEnabled: s.deps.Config.StripeEnabled() && s.deps.Orders.PlaceOrder != nil,
		CODCeiling: money(lang, payment.DefaultCODCeiling), CSRF: s.csrfToken(c)}))
}

// guestAccessToken derives a guest's order link token from the form's
// idempotency key: a repeated submit of one form places one order and
// keeps one working link. The key is random and the secret server-side,
// so the token is as unguessable as a random one.
func (s *site) guestAccessToken(key, email string) string {
	m := hmac.New(sha256.New, s.deps.Orders.Secret)
	m.Write([]byte("souk/order-link/v1\x00" + key + "\x00" + strings.ToLower(strings.TrimSpace(email))))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// submitCheckoutForm places the order of the cart: 303 to the card
// checkout, or to the order page for cash on delivery. A refused order
// comes back as the form with the messages beside the fields and the
// values kept. The "quote" button only re-prices shipping.
func (s *site) submitCheckoutForm(c *fiber.Ctx, lang string) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	f := checkoutForm{}
	for _, fv := range []struct {
		name string
		dst  *string
	}{{"email", &f.Email}, {"name", &f.Name}, {"line1", &f.Line1}, {"line2", &f.Line2}, {"city", &f.City},
		{"postal_code", &f.PostalCode}, {"country", &f.Country}, {"phone", &f.Phone}, {"payment_method", &f.Method},
		{"idempotency_key", &f.Key}} {
		*fv.dst = strings.TrimSpace(c.FormValue(fv.name))
	}
	f.Country = strings.ToUpper(f.Country)
	if f.Key == "" || len(f.Key) > 100 {
		f.Key = newIdempotencyKey()
	}
	if c.FormValue("action") == "quote" {
		return s.renderCheckout(c, lang, http.StatusOK, f, nil, "")
	}
	if s.deps.Orders.PlaceOrder == nil {
		return errs.E(errs.Unavailable, "orders are not available on this server")
	}
	in := storefront.Checkout{Email: f.Email, PaymentMethod: storefront.OrderPaymentMethod(f.Method), IdempotencyKey: f.Key,
		ShippingAddress: storefront.Address{Name: f.Name, Line1: f.Line1, Line2: f.Line2, City: f.City, PostalCode: f.PostalCode,
			Country: f.Country, Phone: f.Phone},
		Buyer: principalOf(c), Lang: lang}
	if in.Buyer == nil {
		in.CartToken = c.Cookies(CartCookie)
		in.AccessToken = s.guestAccessToken(f.Key, f.Email)
	}
	res, err := s.deps.Orders.PlaceOrder(c.UserContext(), in)
	if err != nil {
		fieldErrs, general, ok := checkoutErrors(lang, f, err)
		if !ok {
			return err
		}
		status := http.StatusUnprocessableEntity
		if errs.Is(err, errs.Conflict) {
			status = http.StatusConflict
		}
		return s.renderCheckout(c, lang, status, f, fieldErrs, general)
	}
	if in.Buyer == nil && res.AccessToken != "" {
		c.Cookie(&fiber.Cookie{Name: orderCookiePrefix + strconv.FormatInt(res.Order.ID, 10), Value: res.AccessToken, Path: "/",
			Expires: time.Now().Add(90 * 24 * time.Hour), HTTPOnly: true, Secure: s.secure(), SameSite: fiber.CookieSameSiteLaxMode})
	}
	if res.CheckoutURL != "" {
		return c.Redirect(res.CheckoutURL, http.StatusSeeOther)
	}
	return c.Redirect(fmt.Sprintf("/%s/orders/%d", lang, res.Order.ID), http.StatusSeeOther)
}

// checkoutFields maps the order's fields to the form's.
var checkoutFields = map[string]string{
	"email": "email", "shipping_address.name": "name", "shipping_address.line1": "line1", "shipping_address.line2": "line2",
	"shipping_address.city": "city", "shipping_address.postal_code": "postal_code", "shipping_address.country": "country",
	"shipping_address.phone": "phone", "payment_method": "payment_method",
}

// checkoutErrors turns a refused order into messages in the page's
// language: beside each field, or general. ok is false for an error that
// is not the buyer's to mend (it becomes the error page).
func checkoutErrors(lang string, f checkoutForm, err error) (fields map[string]string, general string, ok bool) {
	e := errs.As(err)
	if e == nil {
		return nil, "", false
	}
	cod := f.Method == string(storefront.PayOnCOD)
	switch e.Code {
	case errs.Conflict:
		return nil, T(lang, "checkout.err.sold_out"), true
	case errs.Unavailable:
		return nil, T(lang, "checkout.err.unavailable"), true
	case errs.Invalid:
	default:
		return nil, "", false
	}
	fields = map[string]string{}
	for _, fe := range e.Fields {
		name, known := checkoutFields[fe.Field]
		switch {
		case strings.HasPrefix(fe.Field, "items"):
			general = T(lang, "checkout.err.cart")
			continue
		case !known:
			general = T(lang, "checkout.err.generic")
			continue
		}
		key := "checkout.err." + name
		switch {
		case name == "country" && cod && f.Country != "" && f.Country != "MA" && storefront.ValidCountry(f.Country):
			key = "checkout.err.cod_country"
		case name == "phone" && cod && f.Phone != "":
			key = "checkout.err.cod_phone"
		case name == "payment_method" && cod && f.Method != "":
			key = "checkout.err.cod_ceiling"
		case name == "payment_method" && f.Method == string(storefront.PayByCard):
			key = "checkout.err.card_off"
		}
		if _, dup := fields[name]; !dup {
			fields[name] = T(lang, key)
		}
	}
	if general == "" && len(fields) > 0 {
		general = T(lang, "checkout.err.fields")
	}
	return fields, general, true
}

// orderLineView, fulfilmentView, orderPage: the order page.
type orderLineView struct {
	Title, Quantity, Unit, Total string
}

type fulfilmentView struct {
	Cooperative string
	Status      string
	StatusText  string
	Carrier     string
	Tracking    string
	Shipped     string
	Lines       []orderLineView
}

type orderPage struct {
	ID, Number, Status, StatusText, Placed string
	Method                                 string
	Address                                []string
	Email                                  string
	Fulfilments                            []fulfilmentView
	Subtotal, Shipping, Total              string
	JustPaid                               bool
	CanCancel                              bool
	CSRF, Token                            string
	Notice                                 string
}

// visibleOrder loads the order of the route for the visitor: its buyer, an
// administrator, or the holder of its secret link (?token=, a form's
// token field, or the cookie the checkout set). To anyone else it does not
// exist.
func (s *site) visibleOrder(c *fiber.Ctx) (storefront.Order, string, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return storefront.Order{}, "", errs.E(errs.NotFound, "no such order")
	}
	o, err := s.deps.Catalog.FindOrder(c.UserContext(), id)
	if err != nil {
		return storefront.Order{}, "", err
	}
	token := c.Query("token")
	if token == "" && c.Method() == fiber.MethodPost {
		token = c.FormValue("token")
	}
	if token == "" {
		token = c.Cookies(orderCookiePrefix + strconv.FormatInt(id, 10))
	}
	if !storefront.CanSeeOrder(principalOf(c), o, token) {
		return storefront.Order{}, "", errs.E(errs.NotFound, "no such order")
	}
	if !o.TokenOpens(token) {
		token = ""
	}
	return o, token, nil
}

func (s *site) showOrderPage(c *fiber.Ctx, lang string) error {
	o, token, err := s.visibleOrder(c)
	if err != nil {
		return err
	}
	return s.renderOrder(c, lang, http.StatusOK, o, token, "")
}

func (s *site) renderOrder(c *fiber.Ctx, lang string, status int, o storefront.Order, token, notice string) error {
	ctx := c.UserContext()
	ids := make([]int64, 0, len(o.Fulfilments))
	for _, f := range o.Fulfilments {
		ids = append(ids, f.CooperativeID)
	}
	names, err := s.deps.Catalog.CooperativeNames(ctx, ids)
	if err != nil {
		return err
	}
	v := orderPage{ID: strconv.FormatInt(o.ID, 10), Number: o.Number, Status: string(o.Status), StatusText: T(lang, "order_page.status."+string(o.Status)),
		Placed: o.CreatedAt.In(storefront.Zone).Format("2006-01-02 15:04"), Method: T(lang, "checkout.method."+string(o.PaymentMethod)),
		Email: o.Email, Subtotal: money(lang, o.Subtotal), Shipping: money(lang, o.Shipping), Total: money(lang, o.Total),
		JustPaid: c.Query("paid") == "1" && o.Status == storefront.OrderPendingPayment, Token: token, Notice: notice}
	a := o.ShippingAddress
	v.Address = []string{a.Name, a.Line1}
	if a.Line2 != "" {
		v.Address = append(v.Address, a.Line2)
	}
	v.Address = append(v.Address, a.PostalCode+" "+a.City, countryName(lang, a.Country), a.Phone)
	shipped := false
	for _, f := range o.Fulfilments {
		fv := fulfilmentView{Cooperative: names[f.CooperativeID], Status: string(f.Status), StatusText: T(lang, "order_page.parcel."+string(f.Status)),
			Carrier: f.Carrier, Tracking: f.TrackingNumber}
		if f.ShippedAt != nil {
			fv.Shipped = f.ShippedAt.In(storefront.Zone).Format("2006-01-02")
			shipped = true
		}
		for _, l := range o.Lines {
			if l.FulfilmentID == f.ID {
				fv.Lines = append(fv.Lines, orderLineView{Title: l.Title, Quantity: strconv.Itoa(l.Quantity), Unit: money(lang, l.UnitPrice), Total: money(lang, l.LineTotal)})
			}
		}
		v.Fulfilments = append(v.Fulfilments, fv)
	}
	switch o.Status {
	case storefront.OrderPendingPayment, storefront.OrderConfirmed, storefront.OrderPaid:
		v.CanCancel = !shipped && s.deps.Orders.CancelOrder != nil
	}
	if v.CanCancel && token == "" {
		v.CSRF = s.csrfToken(c)
	}
	noStore(c)
	p := s.page(c, lang, T(lang, "order_page.title")+" "+o.Number, "/orders/"+v.ID)
	p.NoIndex = true // personal: carts, forms with tokens, orders
	return render(c, status, orderPageView(p, v))
}

// submitOrderCancel cancels an order before shipment. A guest proves the
// order is theirs with its secret token in the form, which a cross-site
// page cannot know; a signed-in buyer's session token was checked by the
// API middleware.
func (s *site) submitOrderCancel(c *fiber.Ctx, lang string) error {
	o, token, err := s.visibleOrder(c)
	if err != nil {
		return err
	}
	if token == "" || c.FormValue("token") != token {
		if err := s.checkCSRF(c); err != nil {
			return err
		}
	}
	if s.deps.Orders.CancelOrder == nil {
		return errs.E(errs.Unavailable, "orders are not available on this server")
	}
	if _, _, err := s.deps.Orders.CancelOrder(c.UserContext(), o); err != nil {
		if errs.Is(err, errs.Conflict) || errs.Is(err, errs.Unavailable) {
			status := http.StatusConflict
			if errs.Is(err, errs.Unavailable) {
				status = http.StatusServiceUnavailable
			}
			if o, err = s.deps.Catalog.FindOrder(c.UserContext(), o.ID); err != nil {
				return err
			}
			return s.renderOrder(c, lang, status, o, token, T(lang, "order_page.cancel_refused"))
		}
		return err
	}
	to := fmt.Sprintf("/%s/orders/%d", lang, o.ID)
	if token != "" && c.Cookies(orderCookiePrefix+strconv.FormatInt(o.ID, 10)) != token {
		to += "?token=" + url.QueryEscape(token)
	}
	return c.Redirect(to, http.StatusSeeOther)
}

// inputDir is the direction of a form field: e-mail addresses and phone
// numbers are written left to right on every page (an Arabic page would
// otherwise show 06 12 34 56 78 as 78 56 34 12 06), other text follows
// what is typed.
func inputDir(typ string) string {
	if typ == "email" || typ == "tel" {
		return "ltr"
	}
	return "auto"
}
