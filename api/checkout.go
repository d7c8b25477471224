package api

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/mail"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// PlaceOrder places an order exactly as POST /api/v1/orders does; the
// checkout page calls it too (through web.Deps), so validation, amounts,
// stock reservation, the card checkout, idempotency, the cart and the
// confirmation e-mail live here once.
//
// Stock is reserved atomically and amounts are computed by storefront,
// never taken from the client. Cash on delivery is confirmed at once (its
// payment row recorded in the order's transaction); a card order answers
// the checkout URL and becomes paid only from the signed webhook (rule 4).
// The same idempotency key returns the same order and opens one checkout.
// Without items the order takes the ok lines of the buyer's cart, which
// then leave it: in the order's transaction for cash on delivery, once the
// checkout is open for a card. A new order (or a guest's order whose link
// changed) is confirmed by e-mail; a guest's carries the secret link.
//
// It returns the errors of storefront.PlaceOrder, errs.Invalid (items) for
// an empty cart, and errs.Unavailable when card payments cannot be reached
// (nothing is kept then).
func (s *Server) PlaceOrder(ctx context.Context, in storefront.Checkout) (storefront.CheckoutResult, error) {
	cat, err := s.catalog()
	if err != nil {
		return storefront.CheckoutResult{}, err
	}
	if in.PaymentMethod == storefront.PayByCard && (s.deps.Payments == nil || s.deps.PaymentStore == nil) {
		return storefront.CheckoutResult{}, errs.InvalidField("payment_method",
			"card payments are not available here; choose cod (cash on delivery, inside Morocco)")
	}
	if s.deps.PaymentStore == nil {
		return storefront.CheckoutResult{}, errs.E(errs.Unavailable, "payments are not available on this server")
	}
	lang := in.Lang
	if lang != "ar" && lang != "en" {
		lang = "fr"
	}
	oi := storefront.OrderInput{Items: in.Items, Email: in.Email, ShippingAddress: in.ShippingAddress,
		PaymentMethod: in.PaymentMethod, IdempotencyKey: in.IdempotencyKey, Lang: lang}
	token := ""
	if in.Buyer != nil {
		id := in.Buyer.UserID
		oi.BuyerID = &id
	} else {
		if token = in.AccessToken; token == "" {
			if token, err = newAccessToken(); err != nil {
				return storefront.CheckoutResult{}, err
			}
		}
		oi.AccessToken = token
	}

	var placed storefront.PlacedOrder
	fromCart := len(in.Items) == 0
	owner := in.CartOwner()
	if fromCart && in.IdempotencyKey != "" {
		// A repeated submit finds the cart already emptied by the first:
		// answer the order that key placed.
		found, ok, err := cat.FindOrderByKey(ctx, oi)
		if err != nil {
			return storefront.CheckoutResult{}, err
		}
		if ok {
			placed, fromCart = found, false
		}
	}
	if !placed.Replayed {
		if fromCart {
			cart, err := cat.FindCart(ctx, owner)
			if err != nil {
				return storefront.CheckoutResult{}, err
			}
			if oi.Items = cart.OrderItems(); len(oi.Items) == 0 {
				if cart.Lines > 0 {
					return storefront.CheckoutResult{}, errs.InvalidField("items",
						"nothing in your cart can be ordered as it stands: mend or remove the flagged lines")
				}
				return storefront.CheckoutResult{}, errs.InvalidField("items", "your cart is empty: add products first, or give items")
			}
		}
		var hooks []func(tx *gorm.DB, o storefront.Order) error
		if oi.PaymentMethod == storefront.PayOnCOD {
			hooks = append(hooks, func(tx *gorm.DB, o storefront.Order) error {
				_, err := s.deps.PaymentStore.CreatePayment(ctx, tx, payment.NewPayment{Purpose: payment.PurposeOrder,
					Reference: strconv.FormatInt(o.ID, 10), Method: payment.MethodCOD, Amount: payment.MAD(o.Total)})
				return err
			})
			if fromCart {
				items := oi.Items
				hooks = append(hooks, func(tx *gorm.DB, o storefront.Order) error {
					return storefront.RemoveOrderedFromCartTx(tx, owner, items, cat.Clock())
				})
			}
		}
		if len(hooks) > 0 {
			oi.OnPlaced = func(tx *gorm.DB, o storefront.Order) error {
				for _, h := range hooks {
					if err := h(tx, o); err != nil {
						return err
					}
				}
				return nil
			}
		}
		if placed, err = cat.PlaceOrder(ctx, oi); err != nil {
			return storefront.CheckoutResult{}, err
		}
	}

	o := placed.Order
	linkChanged := false
	if placed.Replayed && in.Buyer == nil && !o.TokenOpens(token) {
		// Only the hash of the first token is kept: give the guest a
		// working link to the same order (the page derives the same token
		// again, so its link never changes).
		if err := cat.ResetAccessToken(ctx, o.ID, token); err != nil {
			return storefront.CheckoutResult{}, err
		}
		linkChanged = true
	}
	res := storefront.CheckoutResult{Order: o, AccessToken: token, Replayed: placed.Replayed}
	if o.PaymentMethod == storefront.PayByCard && o.Status == storefront.OrderPendingPayment {
		url, err := s.startOrderCheckout(ctx, o, lang)
		if err != nil {
			if !placed.Replayed {
				// Nothing half-written: the buyer never saw this order.
				if aerr := cat.AbandonOrder(context.WithoutCancel(ctx), o.ID); aerr != nil {
					s.log.ErrorContext(ctx, "abandon order after a failed checkout", "order", o.ID, "err", aerr)
				}
			}
			if errs.Is(err, errs.Unavailable) || errs.CodeOf(err) == errs.Internal {
				return storefront.CheckoutResult{}, errs.Wrap(errs.Unavailable, err,
					"card payments cannot be reached right now; nothing was charged or kept: try again in a moment").
					WithRetryAfter(payment.StripeRetryAfter)
			}
			return storefront.CheckoutResult{}, err
		}
		res.CheckoutURL = url
		if res.Order, err = cat.FindOrder(ctx, o.ID); err != nil {
			return storefront.CheckoutResult{}, err
		}
		if fromCart && !placed.Replayed {
			if err := cat.RemoveOrderedFromCart(ctx, owner, oi.Items); err != nil {
				s.log.WarnContext(ctx, "take ordered lines out of the cart", "order", o.ID, "err", err)
			}
		}
	}
	if !placed.Replayed || linkChanged {
		s.mailOrderPlaced(ctx, res, lang)
	}
	return res, nil
}

// OrderLink is the address of an order's page, with the secret token for
// a guest's.
func OrderLink(baseURL, lang string, orderID int64, token string) string {
	link := fmt.Sprintf("%s/%s/orders/%d", strings.TrimSuffix(baseURL, "/"), lang, orderID)
	if token != "" {
		link += "?token=" + url.QueryEscape(token)
	}
	return link
}

// mailOrderPlaced sends the "order placed" e-mail. Mail is best effort
// here: the order stands whatever the mail server says, and the failure
// is logged.
func (s *Server) mailOrderPlaced(ctx context.Context, res storefront.CheckoutResult, lang string) {
	if s.deps.Mail == nil {
		return
	}
	msg := orderPlacedMessage(lang, res.Order, OrderLink(s.cfg.BaseURL, lang, res.Order.ID, res.AccessToken))
	if err := s.deps.Mail.Send(context.WithoutCancel(ctx), msg); err != nil {
		s.log.ErrorContext(ctx, "send the order confirmation", "order", res.Order.ID, "err", err)
	}
}

// orderPlacedMessage is the order confirmation, in the buyer's language.
func orderPlacedMessage(lang string, o storefront.Order, link string) mail.Message {
	var subject, hello, intro, lines, totals, next, keep string
	money := func(v int64) string { return payment.Money{Amount: v, Currency: o.Currency}.Format(lang) }
	var b strings.Builder
	for _, l := range o.Lines {
		fmt.Fprintf(&b, "  - %s × %d : %s\n", l.Title, l.Quantity, money(l.LineTotal))
	}
	lines = b.String()
	switch lang {
	case "ar":
		subject = "سوق: تم تسجيل طلبك " + o.Number
		hello = "مرحبا،"
		intro = "شكرا لك. تم تسجيل طلبك " + o.Number + " لدى التعاونيات."
		totals = fmt.Sprintf("المجموع الفرعي: %s\nالشحن: %s\nالمجموع: %s", money(o.Subtotal), money(o.Shipping), money(o.Total))
		next = "الدفع عند الاستلام: ادفع لساعي البريد عند التسليم."
		if o.PaymentMethod == storefront.PayByCard {
			next = "الدفع بالبطاقة: يؤكَّد الطلب حين يصلنا الدفع."
		}
		keep = "تابع طلبك وأرقام التتبع على هذا الرابط (احتفظ به، فهو يفتح طلبك):"
	case "en":
		subject = "Souk: your order " + o.Number + " is placed"
		hello = "Hello,"
		intro = "Thank you. Your order " + o.Number + " is placed with the cooperatives."
		totals = fmt.Sprintf("Subtotal: %s\nShipping: %s\nTotal: %s", money(o.Subtotal), money(o.Shipping), money(o.Total))
		next = "Cash on delivery: pay the courier when the parcel arrives."
		if o.PaymentMethod == storefront.PayByCard {
			next = "Card payment: the order is confirmed as soon as the payment reaches us."
		}
		keep = "Follow your order and its tracking numbers here (keep this link: it opens your order):"
	default:
		subject = "Souk : votre commande " + o.Number + " est enregistrée"
		hello = "Bonjour,"
		intro = "Merci. Votre commande " + o.Number + " est enregistrée auprès des coopératives."
		totals = fmt.Sprintf("Sous-total : %s\nLivraison : %s\nTotal : %s", money(o.Subtotal), money(o.Shipping), money(o.Total))
		next = "Paiement à la livraison : réglez le livreur à la réception du colis."
		if o.PaymentMethod == storefront.PayByCard {
			next = "Paiement par carte : la commande est confirmée dès que le paiement nous parvient."
		}
		keep = "Suivez votre commande et ses numéros de suivi ici (gardez ce lien : il ouvre votre commande) :"
	}
	text := hello + "\n\n" + intro + "\n\n" + lines + "\n" + totals + "\n\n" + next + "\n\n" + keep + "\n" + link + "\n\nSouk\n"
	return mail.Message{To: o.Email, Subject: subject, Text: text}
}
