package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

func (s *Server) orderRoutes() []Route {
	return []Route{
		{"GET", "/api/v1/shipping/quote", Public, s.quoteShipping},
		// Guests may order; a signed-in buyer's order is attached to them.
		{"POST", "/api/v1/orders", Public, s.createOrder},
		// The buyer, an administrator, or a guest with ?token=; others 404.
		{"GET", "/api/v1/orders/:id", Public, s.showOrder},
		{"POST", "/api/v1/orders/:id/cancel", Public, s.cancelOrder},
		{"GET", "/api/v1/cooperatives/:id/orders", CooperativeMember("id"), s.listCooperativeOrders},
		// Members of the parcel's cooperative (checked in storefront).
		{"POST", "/api/v1/fulfilments/:id/ship", Authenticated, s.shipFulfilment},
	}
}

// quoteShipping prices shipping to a country, either for one parcel
// (weight_g, fragile: the number of fragile lines) or for items as an
// order would ship them (items=12:1,15:2, product id and quantity).
func (s *Server) quoteShipping(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	country := strings.ToUpper(strings.TrimSpace(c.Query("country")))
	if raw := c.Query("items"); raw != "" {
		var items []storefront.OrderItem
		for i, part := range strings.Split(raw, ",") {
			id, qty, found := strings.Cut(strings.TrimSpace(part), ":")
			if !found {
				qty = "1"
			}
			pid, err1 := strconv.ParseInt(id, 10, 64)
			q, err2 := strconv.Atoi(qty)
			if err1 != nil || err2 != nil {
				return errs.InvalidField(fmt.Sprintf("items[%d]", i), "must be a product id and a quantity, as in 12:2")
			}
			items = append(items, storefront.OrderItem{ProductID: pid, Quantity: q})
		}
		q, err := cat.QuoteItems(c.UserContext(), country, items)
		if err != nil {
			return err
		}
		return c.JSON(q)
	}
	var f errs.Fields
	weight, err := strconv.Atoi(c.Query("weight_g"))
	if err != nil {
		f.Add("weight_g", "is required: the parcel's weight in grams (or give items)")
	}
	fragile := 0
	if v := c.Query("fragile"); v != "" {
		if fragile, err = strconv.Atoi(v); err != nil {
			f.Add("fragile", "must be the number of fragile lines")
		}
	}
	if err := f.Err(); err != nil {
		return err
	}
	q, err := cat.QuoteShipping(c.UserContext(), country, weight, fragile)
	if err != nil {
		return err
	}
	return c.JSON(q)
}

type orderRequest struct {
	// Items are the products to order; none means the caller's cart.
	Items           []storefront.OrderItem `json:"items"`
	Email           string                 `json:"email"`
	ShippingAddress storefront.Address     `json:"shipping_address"`
	PaymentMethod   string                 `json:"payment_method"`
	// Lang is the language of the confirmation e-mail (ar, fr, en).
	Lang string `json:"lang"`
}

// orderAnswer is DESIGN.md's answer to creating an order.
type orderAnswer struct {
	Order       storefront.Order `json:"order"`
	CheckoutURL string           `json:"checkout_url,omitempty"`
	AccessToken string           `json:"access_token,omitempty"`
}

// newAccessToken returns a random secret link token for a guest's order.
func newAccessToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// createOrder places an order through PlaceOrder, which the checkout page
// shares: without items, from the caller's cart.
func (s *Server) createOrder(c *fiber.Ctx) error {
	var in orderRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if p != nil && c.Cookies(CartCookie) != "" && len(in.Items) == 0 {
		s.mergeCartAtSignIn(c, p.UserID)
	}
	res, err := s.PlaceOrder(c.UserContext(), storefront.Checkout{Items: in.Items, Email: in.Email,
		ShippingAddress: in.ShippingAddress, PaymentMethod: storefront.OrderPaymentMethod(in.PaymentMethod),
		IdempotencyKey: key, Buyer: p, CartToken: c.Cookies(CartCookie), Lang: in.Lang})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(orderAnswer{Order: res.Order, CheckoutURL: res.CheckoutURL, AccessToken: res.AccessToken})
}

// startOrderCheckout opens (or, for a repeated request, reopens: the
// provider's idempotency key is derived from the order) the card checkout
// of an unpaid order and records its pending payment once.
func (s *Server) startOrderCheckout(ctx context.Context, o storefront.Order, lang string) (string, error) {
	items := make([]payment.LineItem, len(o.Lines))
	for i, l := range o.Lines {
		items[i] = payment.LineItem{Name: l.Title, UnitAmount: l.UnitPrice, Quantity: int64(l.Quantity)}
	}
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	ref := strconv.FormatInt(o.ID, 10)
	label := map[string]string{"ar": "الشحن", "en": "Shipping"}[lang]
	if label == "" {
		label = "Livraison"
	}
	// The pages it returns to open a guest's order through the cookie the
	// checkout page set: the secret token never travels to Stripe.
	req := payment.CheckoutRequest{
		Purpose: payment.PurposeOrder, Reference: ref, Currency: o.Currency, Items: items,
		Shipping: o.Shipping, ShippingLabel: label, CustomerEmail: o.Email,
		SuccessURL:     fmt.Sprintf("%s/%s/orders/%d?paid=1", base, lang, o.ID),
		CancelURL:      fmt.Sprintf("%s/%s/orders/%d", base, lang, o.ID),
		IdempotencyKey: fmt.Sprintf("order-%d-checkout", o.ID),
	}
	if o.ExpiresAt != nil {
		req.ExpiresAt = *o.ExpiresAt
	}
	co, err := s.deps.Payments.StartCheckout(ctx, req)
	if err != nil {
		return "", fmt.Errorf("start checkout for order %d: %w", o.ID, err)
	}
	existing, err := s.deps.PaymentStore.ListPayments(ctx, nil, payment.PurposeOrder, ref)
	if err != nil {
		return "", err
	}
	if len(existing) == 0 {
		if err := s.recordCheckout(ctx, payment.NewPayment{
			Purpose: payment.PurposeOrder, Reference: ref, Method: payment.MethodCard,
			Amount: payment.Money{Amount: o.Total, Currency: o.Currency}, Provider: co.Provider, ProviderRef: co.ProviderRef,
		}); err != nil && !errs.Is(err, errs.Conflict) {
			return "", fmt.Errorf("record checkout of order %d: %w", o.ID, err)
		}
	}
	// Keep the stock while the checkout can still be paid.
	if err := s.deps.Catalog.SetOrderExpiry(ctx, o.ID, co.ExpiresAt); err != nil {
		return "", err
	}
	return co.URL, nil
}

// visibleOrder loads the order of the route and checks that the caller may
// see it; to anyone else it does not exist.
func (s *Server) visibleOrder(c *fiber.Ctx) (storefront.Order, error) {
	cat, err := s.catalog()
	if err != nil {
		return storefront.Order{}, err
	}
	id, err := idParam(c, "id", "no such order")
	if err != nil {
		return storefront.Order{}, err
	}
	o, err := cat.FindOrder(c.UserContext(), id)
	if err != nil {
		return storefront.Order{}, err
	}
	if !storefront.CanSeeOrder(principal(c), o, c.Query("token")) {
		return storefront.Order{}, errs.E(errs.NotFound, "no such order")
	}
	return o, nil
}

func (s *Server) showOrder(c *fiber.Ctx) error {
	o, err := s.visibleOrder(c)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

// cardPayment returns the order's card payment, if any.
func (s *Server) cardPayment(ctx context.Context, orderID int64) (payment.Payment, bool, error) {
	if s.deps.PaymentStore == nil {
		return payment.Payment{}, false, nil
	}
	ps, err := s.deps.PaymentStore.ListPayments(ctx, nil, payment.PurposeOrder, strconv.FormatInt(orderID, 10))
	if err != nil {
		return payment.Payment{}, false, err
	}
	for _, p := range ps {
		if p.Method == payment.MethodCard || p.Method == payment.MethodCOD {
			return p, true, nil
		}
	}
	return payment.Payment{}, false, nil
}

// cancelOrder cancels an order before shipment: stock comes back; an open
// checkout is closed first so it cannot be paid afterwards, and a card
// payment is refunded in full. Cancelling again retries a refund that
// failed.
func (s *Server) cancelOrder(c *fiber.Ctx) error {
	o, err := s.visibleOrder(c)
	if err != nil {
		return err
	}
	cancelled, refunded, err := s.CancelOrder(c.UserContext(), o)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"order": cancelled, "refund": refunded, "currency": cancelled.Currency})
}

// CancelOrder is cancelOrder's work, which the order page shares: the
// caller has checked that o is the caller's to cancel. It returns the
// order as cancelled and the amount refunded.
func (s *Server) CancelOrder(ctx context.Context, o storefront.Order) (storefront.Order, int64, error) {
	pay, hasPay, err := s.cardPayment(ctx, o.ID)
	if err != nil {
		return storefront.Order{}, 0, err
	}
	card := hasPay && pay.Method == payment.MethodCard
	if card && o.Status == storefront.OrderPendingPayment && pay.ProviderRef != nil && s.deps.Payments != nil {
		if err := s.deps.Payments.CancelCheckout(ctx, *pay.ProviderRef); err != nil {
			if errs.Is(err, errs.Conflict) {
				return storefront.Order{}, 0, errs.E(errs.Conflict, "the payment of this order has just gone through; reload the order and cancel again")
			}
			return storefront.Order{}, 0, err
		}
	}
	cancelled, wasPaid, err := s.deps.Catalog.CancelOrder(ctx, o.ID)
	if err != nil {
		// A cancelled, paid order whose refund failed: try it again.
		if !(errs.Is(err, errs.Conflict) && o.Status == storefront.OrderCancelled && card &&
			(pay.Status == payment.PaymentPaid || pay.Status == payment.PaymentPartiallyRefunded)) {
			return storefront.Order{}, 0, err
		}
		cancelled, wasPaid = o, true
	}
	var refunded int64
	switch {
	case card && wasPaid && pay.PaymentRef != nil && s.deps.Payments != nil:
		// What is left paid on each parcel goes back, and into the
		// cooperatives' ledgers (ledger.go).
		if refunded, err = s.refundCancelledOrder(ctx, o, pay); err != nil {
			s.log.ErrorContext(ctx, "refund of a cancelled order failed", "order", o.ID, "err", err)
			return storefront.Order{}, 0, errs.Wrap(errs.Unavailable, err, "the order is cancelled, but the refund could not be made yet; cancel again in a moment to retry it").
				WithRetryAfter(payment.StripeRetryAfter)
		}
	case hasPay && (pay.Status == payment.PaymentPending || pay.Status == payment.PaymentProcessing):
		if _, _, err := s.deps.PaymentStore.SetPaymentStatus(ctx, nil, pay.ID, payment.PaymentCancelled); err != nil {
			s.log.WarnContext(ctx, "mark the payment of a cancelled order cancelled", "order", o.ID, "err", err)
		}
	}
	s.mailOrder(ctx, orderNotice{Event: orderCancelledEvent, OrderID: cancelled.ID, Amount: refunded})
	return cancelled, refunded, nil
}

func (s *Server) listCooperativeOrders(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var f errs.Fields
	pg := pageQuery(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	items, total, err := cat.ListCooperativeFulfilments(c.UserContext(), id, pg.Page, pg.PerPage)
	if err != nil {
		return err
	}
	return c.JSON(listAnswer[storefront.CooperativeFulfilment]{Items: items, Total: total, Page: pg.Page, PerPage: pg.PerPage})
}

type shipRequest struct {
	Carrier        string `json:"carrier"`
	TrackingNumber string `json:"tracking_number"`
}

func (s *Server) shipFulfilment(c *fiber.Ctx) error {
	if _, err := s.catalog(); err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such fulfilment")
	if err != nil {
		return err
	}
	var in shipRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	f, err := s.ShipFulfilment(c.UserContext(), principal(c), id, in.Carrier, in.TrackingNumber)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// ShipFulfilment records that a parcel was handed to a carrier and
// e-mails the buyer (storefront.Service.ShipFulfilment says who may and
// which errors it returns). POST /api/v1/fulfilments/{id}/ship and the
// cooperative dashboard both ship through it.
func (s *Server) ShipFulfilment(ctx context.Context, p *account.Principal, id int64, carrier, tracking string) (storefront.CooperativeFulfilment, error) {
	cat, err := s.catalog()
	if err != nil {
		return storefront.CooperativeFulfilment{}, err
	}
	f, err := cat.ShipFulfilment(ctx, p, id, carrier, tracking)
	if err != nil {
		return storefront.CooperativeFulfilment{}, err
	}
	shipped := f.Fulfilment
	s.mailOrder(ctx, orderNotice{Event: orderShippedEvent, OrderID: f.OrderID, Fulfilment: &shipped})
	return f, nil
}

// applyOrderEvent is the order side of a Stripe event whose payment row
// just changed, inside the webhook's transaction: paid → the order is paid
// (and its sales enter the ledgers); expired → the order expires and its
// stock comes back; refunded → what Souk did not know of the refunded
// total enters the ledgers. It returns the id of an order paid after it
// had ended (its stock is gone): the caller refunds it after the commit.
// The e-mails to send once the transaction commits are added to notices.
func (s *Server) applyOrderEvent(ctx context.Context, tx *gorm.DB, ev payment.Event, p payment.Payment, notices *[]orderNotice) (lost int64, err error) {
	id, err := strconv.ParseInt(ev.Reference, 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.BadRequest, "the event names no order")
	}
	if s.deps.Catalog == nil {
		return 0, errs.E(errs.Unavailable, "orders are not available on this server")
	}
	switch p.Status {
	case payment.PaymentPaid:
		gone, err := s.deps.Catalog.MarkOrderPaidTx(ctx, tx, id)
		if err != nil {
			return 0, err
		}
		if gone {
			return id, nil
		}
		*notices = append(*notices, orderNotice{Event: orderPaidEvent, OrderID: id})
	case payment.PaymentPartiallyRefunded, payment.PaymentRefunded:
		if ev.Type != payment.EventChargeRefunded {
			return 0, nil
		}
		rs, err := s.deps.Catalog.RecordProviderRefundsTx(ctx, tx, id, p.AmountRefunded)
		if err != nil {
			return 0, err
		}
		var total int64
		for _, r := range rs {
			total += r.Amount
		}
		if total > 0 {
			*notices = append(*notices, orderNotice{Event: orderRefundedEvent, OrderID: id, Amount: total})
		}
	case payment.PaymentExpired, payment.PaymentFailed:
		if _, err := s.deps.Catalog.ExpireOrderTx(ctx, tx, id); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// refundLostOrder gives back a payment that arrived after its order had
// expired or been cancelled.
func (s *Server) refundLostOrder(ctx context.Context, id int64, paymentRef string) {
	if s.deps.Payments == nil || paymentRef == "" {
		return
	}
	if _, err := s.deps.Payments.Refund(ctx, payment.RefundRequest{PaymentRef: paymentRef, Reason: payment.RefundRequestedByCustomer,
		Note: "paid after the order had expired", IdempotencyKey: fmt.Sprintf("order-%d-paid-late", id)}); err != nil {
		s.log.ErrorContext(ctx, "refund of an order paid after it ended failed", "order", id, "payment", paymentRef, "err", err)
	}
}
