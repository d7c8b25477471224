package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/storefront"
)

// CartCookie holds a guest's cart token (only its hash is stored). A
// signed-in buyer's cart belongs to the account instead; the guest cart is
// merged into it at sign-in and the cookie cleared.
const CartCookie = "souk_cart"

// cartRoutes are the buyer's server-side cart: anyone may keep one, a
// guest through the cart cookie, a signed-in buyer on the account.
func (s *Server) cartRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/cart", Public, s.showCart},
		{"PUT", "/api/v1/cart/items/:product_id", Public, s.setCartItem},
		{"DELETE", "/api/v1/cart/items/:product_id", Public, s.removeCartItem},
		{"DELETE", "/api/v1/cart", Public, s.clearCart},
	}
}

// SetCartCookie hands a guest's cart token to a browser: HttpOnly,
// SameSite=Lax, Secure outside development, for as long as a guest cart
// lives untouched.
func SetCartCookie(c *fiber.Ctx, cfg config.Config, token string) {
	c.Cookie(&fiber.Cookie{Name: CartCookie, Value: token, Path: "/", Expires: time.Now().Add(storefront.GuestCartTTL),
		HTTPOnly: true, Secure: !cfg.Development(), SameSite: fiber.CookieSameSiteLaxMode})
}

// ClearCartCookie removes the cart cookie from a browser.
func ClearCartCookie(c *fiber.Ctx, cfg config.Config) {
	c.Cookie(&fiber.Cookie{Name: CartCookie, Value: "", Path: "/", Expires: time.Unix(0, 0),
		HTTPOnly: true, Secure: !cfg.Development(), SameSite: fiber.CookieSameSiteLaxMode})
}

// cartOwner is the caller's cart: the signed-in buyer's, or the guest's of
// the cookie. With create, a guest without a cart cookie gets one. A
// signed-in caller who still carries a guest cookie (signed in on a page
// that did not merge) has that cart merged now.
func (s *Server) cartOwner(c *fiber.Ctx, create bool) (storefront.CartOwner, error) {
	if _, err := s.catalog(); err != nil {
		return storefront.CartOwner{}, err
	}
	token := c.Cookies(CartCookie)
	if p := principal(c); p != nil {
		if token != "" {
			s.mergeCartAtSignIn(c, p.UserID)
		}
		return storefront.BuyerCart(p.UserID), nil
	}
	if !storefront.ValidCartToken(token) {
		if !create {
			return storefront.CartOwner{}, nil
		}
		var err error
		if token, err = storefront.NewCartToken(); err != nil {
			return storefront.CartOwner{}, err
		}
		SetCartCookie(c, s.cfg, token)
	}
	return storefront.GuestCart(token), nil
}

// mergeCartAtSignIn moves the guest cart of the request's cookie into the
// account of userID and clears the cookie. A failure is logged, never
// fatal: signing in matters more than the cart.
func (s *Server) mergeCartAtSignIn(c *fiber.Ctx, userID int64) {
	token := c.Cookies(CartCookie)
	if token == "" || s.deps.Catalog == nil {
		return
	}
	ctx := c.UserContext()
	if _, err := s.deps.Catalog.MergeGuestCart(ctx, token, userID); err != nil {
		s.log.WarnContext(ctx, "merge the guest cart at sign-in", "user", userID, "err", err)
		return
	}
	ClearCartCookie(c, s.cfg)
}

func (s *Server) showCart(c *fiber.Ctx) error {
	o, err := s.cartOwner(c, false)
	if err != nil {
		return err
	}
	cart, err := s.deps.Catalog.FindCart(c.UserContext(), o)
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

type cartItemRequest struct {
	Quantity *int `json:"quantity"`
}

// setCartItem puts a quantity of a product in the caller's cart.
func (s *Server) setCartItem(c *fiber.Ctx) error {
	id, err := idParam(c, "product_id", "no such product")
	if err != nil {
		return err
	}
	var in cartItemRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	if in.Quantity == nil {
		return errs.InvalidField("quantity", "is required: how many pieces, from 1 to %d", storefront.MaxCartQuantity)
	}
	o, err := s.cartOwner(c, true)
	if err != nil {
		return err
	}
	cart, err := s.deps.Catalog.SetCartQuantity(c.UserContext(), o, id, *in.Quantity)
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (s *Server) removeCartItem(c *fiber.Ctx) error {
	id, err := idParam(c, "product_id", "no such product")
	if err != nil {
		return err
	}
	o, err := s.cartOwner(c, false)
	if err != nil {
		return err
	}
	cart, err := s.deps.Catalog.RemoveFromCart(c.UserContext(), o, id)
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (s *Server) clearCart(c *fiber.Ctx) error {
	o, err := s.cartOwner(c, false)
	if err != nil {
		return err
	}
	if err := s.deps.Catalog.ClearCart(c.UserContext(), o); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
