// Package paymenttest helps other packages' tests with payments: it signs
// webhook bodies exactly as Stripe does, builds realistic Stripe event JSON
// for every event type Souk acts on, and offers a recording Provider for
// tests that need a checkout without stripe-mock.
package paymenttest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// SignatureHeader is the header that carries a webhook's signature.
const SignatureHeader = "Stripe-Signature"

// Sign returns the Stripe-Signature header for payload signed with secret
// at time at: "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<payload>">".
func Sign(payload []byte, secret string, at time.Time) string {
	ts := fmt.Sprintf("%d", at.Unix())
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(payload)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Spec describes an event to build. Zero fields get realistic defaults:
// fresh ids, now, 250,00 MAD, a paid session.
type Spec struct {
	ID      string // evt_…
	Type    payment.EventType
	Created time.Time

	Purpose   payment.Purpose
	Reference string

	SessionID       string // cs_test_…, for checkout events
	PaymentIntentID string // pi_…
	ChargeID        string // ch_…, for charge.refunded

	Amount         int64  // the session's or charge's total, minor units
	AmountRefunded int64  // charge.refunded: running total; default Amount (a full refund)
	Currency       string // default "MAD"
	// Unpaid makes checkout.session.completed carry payment_status
	// "unpaid" (an asynchronous method still settling).
	Unpaid         bool
	FailureMessage string // payment_intent.payment_failed; default a declined card
	// NoMetadata leaves the metadata out, as on charges of a session.
	NoMetadata bool
}

// NewID returns a Stripe-looking id with the prefix (evt, cs_test, pi, ch…).
func NewID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("paymenttest: random: %v", err))
	}
	return prefix + "_" + hex.EncodeToString(b)
}

func (s Spec) withDefaults() Spec {
	if s.ID == "" {
		s.ID = NewID("evt")
	}
	if s.Type == "" {
		s.Type = payment.EventCheckoutCompleted
	}
	if s.Created.IsZero() {
		s.Created = time.Now()
	}
	if s.Purpose == "" {
		s.Purpose = payment.PurposeOrder
	}
	if s.Reference == "" {
		s.Reference = "1"
	}
	if s.SessionID == "" {
		s.SessionID = NewID("cs_test")
	}
	if s.PaymentIntentID == "" {
		s.PaymentIntentID = NewID("pi")
	}
	if s.ChargeID == "" {
		s.ChargeID = NewID("ch")
	}
	if s.Amount == 0 {
		s.Amount = 25_000
	}
	if s.AmountRefunded == 0 {
		s.AmountRefunded = s.Amount
	}
	if s.Currency == "" {
		s.Currency = "MAD"
	}
	if s.FailureMessage == "" {
		s.FailureMessage = "Your card was declined."
	}
	return s
}

// EventJSON builds the JSON body of a Stripe event from spec, shaped as
// Stripe sends it for API version 2023-10-16 (stripe-go v76's).
func EventJSON(spec Spec) []byte {
	s := spec.withDefaults()
	meta := map[string]string{"purpose": string(s.Purpose), "reference": s.Reference}
	if s.NoMetadata {
		meta = map[string]string{}
	}
	cur := strings.ToLower(s.Currency)
	created := s.Created.Unix()
	var object map[string]any
	switch s.Type {
	case payment.EventCheckoutCompleted, payment.EventCheckoutAsyncSucceeded,
		payment.EventCheckoutAsyncFailed, payment.EventCheckoutExpired:
		object = session(s, meta, cur, created)
	case payment.EventChargeRefunded:
		object = map[string]any{
			"id":              s.ChargeID,
			"object":          "charge",
			"amount":          s.Amount,
			"amount_captured": s.Amount,
			"amount_refunded": s.AmountRefunded,
			"billing_details": map[string]any{"email": "buyer@example.com", "name": "Buyer", "address": nil, "phone": nil},
			"captured":        true,
			"created":         created - 600,
			"currency":        cur,
			"livemode":        false,
			"metadata":        meta,
			"paid":            true,
			"payment_intent":  s.PaymentIntentID,
			"payment_method":  NewID("pm"),
			"payment_method_details": map[string]any{
				"type": "card", "card": map[string]any{"brand": "visa", "last4": "4242", "country": "FR"},
			},
			"receipt_url": "https://pay.stripe.com/receipts/" + s.ChargeID,
			"refunded":    s.AmountRefunded == s.Amount,
			"refunds": map[string]any{
				"object": "list", "data": []any{}, "has_more": false, "url": "/v1/charges/" + s.ChargeID + "/refunds",
			},
			"status": "succeeded",
		}
	case payment.EventPaymentFailed:
		object = map[string]any{
			"id": s.PaymentIntentID, "object": "payment_intent", "amount": s.Amount, "amount_received": 0,
			"capture_method": "automatic", "client_secret": s.PaymentIntentID + "_secret_x", "created": created - 60,
			"currency": cur, "livemode": false, "metadata": meta, "payment_method_types": []string{"card"},
			"status": "requires_payment_method",
			"last_payment_error": map[string]any{
				"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
				"message": s.FailureMessage, "doc_url": "https://stripe.com/docs/error-codes/card-declined",
			},
		}
	default:
		object = map[string]any{"id": NewID("obj"), "object": "unknown"}
	}
	ev := map[string]any{
		"id": s.ID, "object": "event", "api_version": stripe.APIVersion, "created": created,
		"data": map[string]any{"object": object}, "livemode": false, "pending_webhooks": 1,
		"request": map[string]any{"id": nil, "idempotency_key": nil}, "type": string(s.Type),
	}
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("paymenttest: marshal event: %v", err))
	}
	return b
}

func session(s Spec, meta map[string]string, cur string, created int64) map[string]any {
	status, paymentStatus := "complete", "paid"
	var pi any = s.PaymentIntentID
	switch s.Type {
	case payment.EventCheckoutCompleted:
		if s.Unpaid {
			paymentStatus = "unpaid"
		}
	case payment.EventCheckoutAsyncFailed:
		paymentStatus = "unpaid"
	case payment.EventCheckoutExpired:
		status, paymentStatus, pi = "expired", "unpaid", nil
	}
	return map[string]any{
		"id":                   s.SessionID,
		"object":               "checkout.session",
		"amount_subtotal":      s.Amount,
		"amount_total":         s.Amount,
		"cancel_url":           "https://souk.example/fr/checkout",
		"client_reference_id":  string(s.Purpose) + ":" + s.Reference,
		"created":              created - 300,
		"currency":             cur,
		"customer":             nil,
		"customer_details":     map[string]any{"email": "buyer@example.com", "name": "Buyer", "phone": nil, "tax_exempt": "none"},
		"customer_email":       "buyer@example.com",
		"expires_at":           created + 3600,
		"livemode":             false,
		"locale":               "fr",
		"metadata":             meta,
		"mode":                 "payment",
		"payment_intent":       pi,
		"payment_method_types": []string{"card"},
		"payment_status":       paymentStatus,
		"status":               status,
		"success_url":          "https://souk.example/fr/orders/1",
		"total_details":        map[string]any{"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
		"ui_mode":              "hosted",
		"url":                  nil,
	}
}

// Webhook builds the event of spec and signs it with secret now; it
// returns the body and the Stripe-Signature header.
func Webhook(spec Spec, secret string) (payload []byte, signature string) {
	payload = EventJSON(spec)
	return payload, Sign(payload, secret, time.Now())
}

// NewWebhookRequest builds a signed POST of spec's event to url, as Stripe
// delivers it.
func NewWebhookRequest(tb testing.TB, url, secret string, spec Spec) *http.Request {
	tb.Helper()
	payload, sig := Webhook(spec, secret)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(payload))
	if err != nil {
		tb.Fatalf("paymenttest: webhook request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Stripe/1.0 (+https://stripe.com/docs/webhooks)")
	req.Header.Set(SignatureHeader, sig)
	return req
}

// Provider is a payment.Provider that keeps everything in memory: the same
// idempotency key returns the same checkout, Retrieve returns what Pay or
// Expire set. Safe for concurrent use. Set Err to make every call fail.
type Provider struct {
	mu        sync.Mutex
	Err       error
	checkouts map[string]*fakeCheckout // by session id
	byKey     map[string]string        // idempotency key → session id
	refunds   map[string]payment.Refund
	requests  []payment.CheckoutRequest
	refundReq []payment.RefundRequest
}

type fakeCheckout struct {
	req    payment.CheckoutRequest
	status payment.Status
}

var _ payment.Provider = (*Provider)(nil)

// NewProvider returns an empty fake provider.
func NewProvider() *Provider {
	return &Provider{checkouts: map[string]*fakeCheckout{}, byKey: map[string]string{}, refunds: map[string]payment.Refund{}}
}

// Name returns "stripe", so that events built by this package match the
// checkouts it opens.
func (p *Provider) Name() string { return payment.StripeName }

// StartCheckout validates the request and opens a checkout in memory.
func (p *Provider) StartCheckout(_ context.Context, req payment.CheckoutRequest) (payment.Checkout, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return payment.Checkout{}, p.Err
	}
	if err := req.Validate(); err != nil {
		return payment.Checkout{}, err
	}
	p.requests = append(p.requests, req)
	if id, ok := p.byKey[req.IdempotencyKey]; ok {
		c := p.checkouts[id]
		return payment.Checkout{Provider: p.Name(), ProviderRef: id, URL: checkoutURL(id), ExpiresAt: c.status.ExpiresAt}, nil
	}
	id := NewID("cs_test")
	exp := payment.ClampExpiry(req.ExpiresAt, time.Now())
	p.byKey[req.IdempotencyKey] = id
	p.checkouts[id] = &fakeCheckout{req: req, status: payment.Status{
		Provider: p.Name(), ProviderRef: id, State: payment.StateOpen, ExpiresAt: exp,
		Amount:  payment.Money{Amount: req.Total(), Currency: strings.ToUpper(req.Currency)},
		Purpose: req.Purpose, Reference: req.Reference,
	}}
	return payment.Checkout{Provider: p.Name(), ProviderRef: id, URL: checkoutURL(id), ExpiresAt: exp}, nil
}

// CheckoutRequests returns the checkout requests received, in order.
func (p *Provider) CheckoutRequests() []payment.CheckoutRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]payment.CheckoutRequest(nil), p.requests...)
}

// RefundRequests returns the refunds made (a repeated idempotency key
// counts once), in order.
func (p *Provider) RefundRequests() []payment.RefundRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]payment.RefundRequest(nil), p.refundReq...)
}

func checkoutURL(id string) string { return "https://checkout.stripe.com/c/pay/" + id }

// Retrieve returns the checkout's status, or errs.NotFound.
func (p *Provider) Retrieve(_ context.Context, ref string) (payment.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return payment.Status{}, p.Err
	}
	c, ok := p.checkouts[ref]
	if !ok {
		return payment.Status{}, errs.E(errs.NotFound, "no such checkout session")
	}
	return c.status, nil
}

// CancelCheckout expires an open checkout; a paid one is errs.Conflict.
func (p *Provider) CancelCheckout(_ context.Context, ref string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return p.Err
	}
	c, ok := p.checkouts[ref]
	switch {
	case !ok:
		return errs.E(errs.NotFound, "no such checkout session")
	case c.status.State == payment.StatePaid || c.status.State == payment.StateProcessing:
		return errs.E(errs.Conflict, "the checkout was already completed; refund the payment instead")
	}
	c.status.State = payment.StateExpired
	return nil
}

// Refund records the refund; the same idempotency key refunds once.
func (p *Provider) Refund(_ context.Context, req payment.RefundRequest) (payment.Refund, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Err != nil {
		return payment.Refund{}, p.Err
	}
	if err := req.Validate(); err != nil {
		return payment.Refund{}, err
	}
	if r, ok := p.refunds[req.IdempotencyKey]; ok {
		return r, nil
	}
	p.refundReq = append(p.refundReq, req)
	var paid payment.Money
	for _, c := range p.checkouts {
		if c.status.PaymentRef == req.PaymentRef {
			paid = c.status.Amount
		}
	}
	amount := req.Amount
	if amount == 0 {
		amount = paid.Amount
	}
	r := payment.Refund{ID: NewID("re"), PaymentRef: req.PaymentRef, Amount: payment.Money{Amount: amount, Currency: paid.Currency},
		Status: payment.RefundSucceeded}
	p.refunds[req.IdempotencyKey] = r
	return r, nil
}

// Pay marks a checkout paid, as a buyer finishing it would, and returns
// the checkout.session.completed event spec Stripe would then send (sign it
// with Webhook).
func (p *Provider) Pay(tb testing.TB, ref string) Spec {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.checkouts[ref]
	if !ok {
		tb.Fatalf("paymenttest: no checkout %s", ref)
	}
	if c.status.PaymentRef == "" {
		c.status.PaymentRef = NewID("pi")
	}
	c.status.State = payment.StatePaid
	return Spec{Type: payment.EventCheckoutCompleted, Purpose: c.req.Purpose, Reference: c.req.Reference,
		SessionID: ref, PaymentIntentID: c.status.PaymentRef, Amount: c.req.Total(), Currency: c.req.Currency}
}

// Expire marks a checkout expired and returns the checkout.session.expired
// event spec Stripe would then send.
func (p *Provider) Expire(tb testing.TB, ref string) Spec {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.checkouts[ref]
	if !ok {
		tb.Fatalf("paymenttest: no checkout %s", ref)
	}
	c.status.State = payment.StateExpired
	return Spec{Type: payment.EventCheckoutExpired, Purpose: c.req.Purpose, Reference: c.req.Reference,
		SessionID: ref, Amount: c.req.Total(), Currency: c.req.Currency}
}
