// Package payment owns how Souk gets paid: one Provider interface for card
// checkouts (Stripe today, a CMI adapter later), signature-checked webhooks
// mapped to a small Event, the processed-event log that makes each provider
// event take effect once (rule 4), the payments table for every method
// (card, cash on delivery, cash or transfer at a venue office), exact money
// in minor units with its formatting (rule 3), and the RIB check for
// cooperatives' payouts.
//
// Orders and bookings depend on the Provider interface and on Store, never on
// Stripe: a new provider slots in without touching them. The package knows
// nothing of HTTP frameworks; the api package wires the webhook route.
//
// A card payment goes like this:
//
//  1. the order or booking is created and its stock or days are held;
//  2. Provider.StartCheckout (outside any database transaction, with an
//     idempotency key derived from the order or booking) returns the URL the
//     buyer is sent to; Store.CreatePayment records the pending payment;
//  3. the provider's webhook arrives: ParseWebhook checks its signature, and
//     in one transaction Store.ApplyOnce records the event and runs the
//     effect — Store.UpdatePaymentFromEvent, then the order or booking
//     change when the payment row changed;
//  4. a sweeper may ask Provider.Retrieve for payments still pending and
//     apply Status.Event the same way; a browser redirect never marks
//     anything paid.
package payment

import (
	"context"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// Provider takes card payments. Implementations keep no state between calls
// that a second process would need: any number of souk processes may share
// one provider account.
type Provider interface {
	// Name identifies the provider in the payments table and in the event
	// log ("stripe").
	Name() string
	// StartCheckout opens a hosted checkout and returns where to send the
	// buyer. The same IdempotencyKey returns the same checkout.
	StartCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error)
	// Retrieve asks the provider where a checkout stands: the server-side
	// truth used for reconciliation.
	Retrieve(ctx context.Context, providerRef string) (Status, error)
	// CancelCheckout closes an open checkout so that it can no longer be
	// paid (stock given back, hold lapsed). Closing a closed checkout is not
	// an error; one already paid is errs.Conflict.
	CancelCheckout(ctx context.Context, providerRef string) error
	// Refund gives money back on a payment, in part or in full.
	Refund(ctx context.Context, req RefundRequest) (Refund, error)
}

// Purpose says what a payment is for.
type Purpose string

// The purposes.
const (
	PurposeOrder   Purpose = "order"   // a marketplace order
	PurposeBooking Purpose = "booking" // a booking of a unit or a fair stall
)

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool { return p == PurposeOrder || p == PurposeBooking }

// Method is how a payment is made.
type Method string

// The methods.
const (
	MethodCard           Method = "card"            // online, through a Provider
	MethodCOD            Method = "cod"             // cash on delivery, inside Morocco
	MethodOfficeCash     Method = "office_cash"     // cash at a venue office, with a receipt
	MethodOfficeTransfer Method = "office_transfer" // bank transfer, checked at a venue office
)

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	switch m {
	case MethodCard, MethodCOD, MethodOfficeCash, MethodOfficeTransfer:
		return true
	}
	return false
}

// Limits of a checkout.
const (
	// MinCheckoutTTL and MaxCheckoutTTL bound how long a checkout stays
	// payable. Stripe accepts expires_at between 30 minutes and 24 hours
	// after the session is created; one minute of margin on each side
	// absorbs clock skew and the time the request takes.
	MinCheckoutTTL = 31 * time.Minute
	MaxCheckoutTTL = 24*time.Hour - time.Minute
	// DefaultCheckoutTTL is used when a request sets no ExpiresAt.
	DefaultCheckoutTTL = time.Hour
	// MaxCheckoutTotal is the largest total a checkout may carry, in minor
	// units (Stripe's limit of eight digits: 999 999,99 MAD).
	MaxCheckoutTotal = 99_999_999
	maxLineItems     = 100
	maxRefLen        = 100
	maxKeyLen        = 255
)

// LineItem is one line of a checkout.
type LineItem struct {
	Name       string // shown to the buyer on the provider's page
	UnitAmount int64  // minor units of the request's currency
	Quantity   int64
}

// CheckoutRequest asks a provider for a hosted checkout.
type CheckoutRequest struct {
	Purpose   Purpose
	Reference string // our id of the order or booking, as text
	Currency  string // ISO 4217, e.g. "MAD"
	Items     []LineItem
	// Shipping is added to the items' total; 0 for none.
	Shipping      int64
	ShippingLabel string // e.g. "Livraison Amana"; "Shipping" when empty
	CustomerEmail string // optional; prefills the provider's form
	Locale        string // "fr", "en", "ar"…; the provider falls back to the buyer's browser
	SuccessURL    string
	CancelURL     string
	// ExpiresAt is when the checkout stops being payable. It is clamped to
	// [now+MinCheckoutTTL, now+MaxCheckoutTTL]; zero means now+DefaultCheckoutTTL.
	// The Checkout returned says the time actually used: a hold on stock or
	// days should last at least until then, or the checkout should be
	// cancelled when the hold ends.
	ExpiresAt time.Time
	// IdempotencyKey makes retries safe: the same key returns the same
	// checkout instead of opening a second one. Required; derive it from the
	// order or booking (e.g. "order-42-checkout-1").
	IdempotencyKey string
}

// Total returns the items' total plus shipping, in minor units.
func (r CheckoutRequest) Total() int64 {
	t := r.Shipping
	for _, it := range r.Items {
		t += it.UnitAmount * it.Quantity
	}
	return t
}

// Validate checks the request and returns errs.Invalid naming each bad field.
func (r CheckoutRequest) Validate() error {
	var f errs.Fields
	if !r.Purpose.Valid() {
		f.Add("purpose", "must be order or booking")
	}
	if strings.TrimSpace(r.Reference) == "" || len(r.Reference) > maxRefLen {
		f.Add("reference", "is required (at most %d bytes)", maxRefLen)
	}
	if !validCurrency(r.Currency) {
		f.Add("currency", "must be a three-letter ISO 4217 code such as MAD")
	}
	if len(r.Items) == 0 || len(r.Items) > maxLineItems {
		f.Add("items", "must hold between 1 and %d lines", maxLineItems)
	}
	total := r.Shipping
	overflow := false
	for i, it := range r.Items {
		if strings.TrimSpace(it.Name) == "" || len(it.Name) > 250 {
			f.Add(fmt.Sprintf("items[%d].name", i), "is required (at most 250 bytes)")
		}
		if it.UnitAmount <= 0 || it.UnitAmount > MaxCheckoutTotal {
			f.Add(fmt.Sprintf("items[%d].unit_amount", i), "must be between 1 and %d minor units", MaxCheckoutTotal)
		}
		if it.Quantity <= 0 || it.Quantity > 10_000 {
			f.Add(fmt.Sprintf("items[%d].quantity", i), "must be between 1 and 10000")
		}
		if it.UnitAmount > 0 && it.Quantity > 0 {
			total += it.UnitAmount * it.Quantity // both bounded above: no overflow
			overflow = overflow || total > MaxCheckoutTotal
		}
	}
	if r.Shipping < 0 || r.Shipping > MaxCheckoutTotal {
		f.Add("shipping", "must be between 0 and %d minor units", MaxCheckoutTotal)
	}
	if overflow && !f.Has("shipping") {
		f.Add("total", "must be at most %s", Money{Amount: MaxCheckoutTotal, Currency: strings.ToUpper(r.Currency)}.Format("en"))
	}
	if r.CustomerEmail != "" {
		if a, err := mail.ParseAddress(r.CustomerEmail); err != nil || a.Address != r.CustomerEmail {
			f.Add("customer_email", "must be a plain e-mail address")
		}
	}
	if !absoluteHTTPURL(r.SuccessURL) {
		f.Add("success_url", "must be an absolute http(s) URL")
	}
	if !absoluteHTTPURL(r.CancelURL) {
		f.Add("cancel_url", "must be an absolute http(s) URL")
	}
	if strings.TrimSpace(r.IdempotencyKey) == "" || len(r.IdempotencyKey) > maxKeyLen {
		f.Add("idempotency_key", "is required (at most %d bytes)", maxKeyLen)
	}
	return f.Err()
}

// ClampExpiry returns when a checkout opened at now stops being payable:
// want moved into [now+MinCheckoutTTL, now+MaxCheckoutTTL], or
// now+DefaultCheckoutTTL when want is zero. It is truncated to the second,
// the provider's resolution.
func ClampExpiry(want, now time.Time) time.Time {
	lo, hi := now.Add(MinCheckoutTTL), now.Add(MaxCheckoutTTL)
	switch {
	case want.IsZero():
		want = now.Add(DefaultCheckoutTTL)
	case want.Before(lo):
		want = lo
	case want.After(hi):
		want = hi
	}
	return want.Truncate(time.Second).UTC()
}

// Checkout is an open hosted checkout.
type Checkout struct {
	Provider    string    // Provider.Name()
	ProviderRef string    // the provider's id of the checkout (Stripe: the session id, cs_…)
	URL         string    // where to send the buyer
	ExpiresAt   time.Time // when it stops being payable
}

// State is where a checkout stands at the provider.
type State string

// The states.
const (
	StateOpen       State = "open"       // waiting for the buyer
	StateProcessing State = "processing" // submitted; an asynchronous payment method is still settling
	StatePaid       State = "paid"       // the money is captured
	StateExpired    State = "expired"    // closed without payment
)

// Status is the provider's answer to Retrieve.
type Status struct {
	Provider    string
	ProviderRef string
	State       State
	Amount      Money  // the checkout's total (zero when the provider does not say)
	PaymentRef  string // the provider's id of the payment (Stripe: the payment intent, pi_…), once there is one
	Purpose     Purpose
	Reference   string
	ExpiresAt   time.Time
}

// Event turns a retrieved status into the event it stands for, so that
// reconciliation goes through the same ApplyOnce path as webhooks. Its ID
// is derived from the checkout and the state ("retrieve:cs_…:paid"), so
// that reconciling twice applies once; a webhook for the same change has
// another ID, which is why effects must also be idempotent on the payment
// row (UpdatePaymentFromEvent reports changed=false the second time). An
// open checkout has no event: ok is false.
func (s Status) Event() (ev Event, ok bool) {
	ev = Event{
		ID: "retrieve:" + s.ProviderRef + ":" + string(s.State), Provider: s.Provider,
		Purpose: s.Purpose, Reference: s.Reference, ProviderRef: s.ProviderRef, PaymentRef: s.PaymentRef,
		AmountTotal: s.Amount.Amount, Currency: s.Amount.Currency,
	}
	switch s.State {
	case StatePaid:
		ev.Type, ev.Paid = EventCheckoutCompleted, true
	case StateProcessing:
		ev.Type = EventCheckoutCompleted
	case StateExpired:
		ev.Type = EventCheckoutExpired
	default:
		return Event{}, false
	}
	return ev, true
}

// RefundReason says why money is given back. The provider only knows these
// three; say more in RefundRequest.Note.
type RefundReason string

// The reasons.
const (
	RefundRequestedByCustomer RefundReason = "requested_by_customer" // a cancellation, a withdrawal (law 31-08), a lost hold
	RefundDuplicate           RefundReason = "duplicate"             // paid twice
	RefundFraudulent          RefundReason = "fraudulent"
)

// RefundRequest asks a provider to give money back on a payment.
type RefundRequest struct {
	PaymentRef string // the provider's payment id (Stripe: pi_…)
	// Amount is in minor units of the payment's currency; 0 refunds all
	// that has not been refunded yet.
	Amount int64
	Reason RefundReason // empty: requested_by_customer
	Note   string       // kept with the refund at the provider, for people
	// IdempotencyKey makes retries safe: the same key refunds once.
	// Required; derive it from what causes the refund (e.g.
	// "booking-7-cancel-refund").
	IdempotencyKey string
}

// Validate checks the request and returns errs.Invalid naming each bad field.
func (r RefundRequest) Validate() error {
	var f errs.Fields
	if strings.TrimSpace(r.PaymentRef) == "" || len(r.PaymentRef) > maxKeyLen {
		f.Add("payment_ref", "is required (at most %d bytes)", maxKeyLen)
	}
	if r.Amount < 0 || r.Amount > MaxCheckoutTotal {
		f.Add("amount", "must be between 0 (everything left) and %d minor units", MaxCheckoutTotal)
	}
	switch r.Reason {
	case "", RefundRequestedByCustomer, RefundDuplicate, RefundFraudulent:
	default:
		f.Add("reason", "must be requested_by_customer, duplicate or fraudulent")
	}
	if len(r.Note) > 500 {
		f.Add("note", "must be at most 500 bytes")
	}
	if strings.TrimSpace(r.IdempotencyKey) == "" || len(r.IdempotencyKey) > maxKeyLen {
		f.Add("idempotency_key", "is required (at most %d bytes)", maxKeyLen)
	}
	return f.Err()
}

// RefundStatus is where a refund stands.
type RefundStatus string

// The refund statuses (the provider's).
const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
	RefundCanceled  RefundStatus = "canceled"
)

// Refund is a refund the provider accepted.
type Refund struct {
	ID         string // the provider's id (Stripe: re_…)
	PaymentRef string
	Amount     Money
	Status     RefundStatus
}

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		b := c[i] | 0x20 // lower-case ASCII letters
		if b < 'a' || b > 'z' {
			return false
		}
	}
	return true
}

func absoluteHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
