package payment

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/souk-tiznit/souk/errs"
)

// EventType names a provider event. The values are Stripe's; another
// provider maps its notifications onto them.
type EventType string

// The event types Souk acts on.
const (
	// EventCheckoutCompleted: the buyer finished the checkout. The money is
	// in only when Event.Paid is set; otherwise an asynchronous method is
	// still settling and one of the next two events follows.
	EventCheckoutCompleted      EventType = "checkout.session.completed"
	EventCheckoutAsyncSucceeded EventType = "checkout.session.async_payment_succeeded"
	EventCheckoutAsyncFailed    EventType = "checkout.session.async_payment_failed"
	// EventCheckoutExpired: the checkout closed without payment; give the
	// stock or the days back.
	EventCheckoutExpired EventType = "checkout.session.expired"
	// EventChargeRefunded: money went back; AmountRefunded is the running
	// total refunded on the payment, not this refund's amount.
	EventChargeRefunded EventType = "charge.refunded"
	// EventPaymentFailed: one payment attempt failed (a declined card). It is
	// informational: the buyer may try another card in the same checkout,
	// which stays open until it completes or expires.
	EventPaymentFailed EventType = "payment_intent.payment_failed"
)

// Known reports whether Souk acts on events of this type. ParseWebhook
// returns other types with only ID, Type and Created set; answer them with
// success so that the provider stops sending them.
func (t EventType) Known() bool {
	switch t {
	case EventCheckoutCompleted, EventCheckoutAsyncSucceeded, EventCheckoutAsyncFailed,
		EventCheckoutExpired, EventChargeRefunded, EventPaymentFailed:
		return true
	}
	return false
}

// Event is a provider event reduced to what orders and bookings need.
type Event struct {
	ID       string // the provider's event id (evt_…): the key of the event log
	Provider string // "stripe"
	Type     EventType
	Created  time.Time
	// Purpose and Reference say which order or booking the event is about,
	// from the metadata put on the checkout. Refund events may lack them:
	// Store.ResolveEvent finds them from PaymentRef.
	Purpose   Purpose
	Reference string
	// ProviderRef is the checkout's id (cs_…) for checkout events.
	ProviderRef string
	// PaymentRef is the payment's id (pi_…), once there is one.
	PaymentRef string
	// Paid is set when the event says the money was captured.
	Paid           bool
	AmountTotal    int64 // minor units
	AmountRefunded int64 // minor units, running total (charge.refunded)
	Currency       string
	// FailureMessage is the provider's reason for a failed attempt, safe to
	// show the buyer (payment_intent.payment_failed).
	FailureMessage string
}

// Amount returns the event's total as Money.
func (e Event) Amount() Money { return Money{Amount: e.AmountTotal, Currency: e.Currency} }

// Webhook limits.
const (
	// WebhookTolerance is how far a signature's timestamp may be from now,
	// either way, before the delivery is refused as a possible replay.
	WebhookTolerance = 5 * time.Minute
	// MaxWebhookBytes bounds a webhook body; Stripe's are a few kilobytes.
	MaxWebhookBytes = 1 << 20
)

// ParseWebhook checks a Stripe webhook delivery and maps it to an Event.
// payload is the raw request body, sigHeader the Stripe-Signature header,
// secret the endpoint's signing secret (whsec_…), now the current time.
//
// The signature is checked by stripe-go (webhook.ConstructEventWithOptions,
// HMAC-SHA256 over "timestamp.payload", constant-time comparison). Its
// timestamp is then checked against now, WebhookTolerance either way,
// instead of against stripe-go's own clock, so that the caller's clock
// decides and tests can pin it. The event's API version is not required to
// equal stripe-go's: a webhook endpoint created in the Dashboard takes the
// account's default version, and refusing every event over that would
// silently stop all payments. The few fields read here (ids, metadata,
// amounts, currency, statuses) are decoded from the raw object, have been
// stable across API versions, and their absence is an error.
//
// It returns errs.Unauthorized for a missing, malformed, wrong or expired
// signature; errs.BadRequest for a signed body that is not a well-formed
// event; errs.TooLarge for a body over MaxWebhookBytes; errs.Internal when
// secret is empty (never accept unsigned events). Unknown event types are
// not errors (see EventType.Known).
func ParseWebhook(payload []byte, sigHeader string, secret string, now time.Time) (Event, error) {
	if secret == "" {
		return Event{}, errs.E(errs.Internal, "the Stripe webhook signing secret is not configured")
	}
	if len(payload) > MaxWebhookBytes {
		return Event{}, errs.E(errs.TooLarge, "the webhook body exceeds %d bytes", MaxWebhookBytes)
	}
	se, err := webhook.ConstructEventWithOptions(payload, sigHeader, secret, webhook.ConstructEventOptions{
		IgnoreTolerance:          true, // checked below against now
		IgnoreAPIVersionMismatch: true,
	})
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		return Event{}, errs.Wrap(errs.Unauthorized, err, "the Stripe-Signature header is missing")
	case errors.Is(err, webhook.ErrInvalidHeader):
		return Event{}, errs.Wrap(errs.Unauthorized, err, "the Stripe-Signature header is malformed")
	case errors.Is(err, webhook.ErrNoValidSignature):
		return Event{}, errs.Wrap(errs.Unauthorized, err, "the webhook signature does not match: wrong signing secret or altered body")
	case err != nil:
		return Event{}, errs.Wrap(errs.BadRequest, err, "the webhook body is not a JSON event")
	}
	signedAt, ok := signatureTime(sigHeader)
	if !ok {
		return Event{}, errs.E(errs.Unauthorized, "the Stripe-Signature header has no timestamp")
	}
	if d := now.Sub(signedAt); d > WebhookTolerance || d < -WebhookTolerance {
		return Event{}, errs.E(errs.Unauthorized, "the webhook signature was made at %s, more than %s from now: a replay or a clock out of step",
			signedAt.UTC().Format(time.RFC3339), WebhookTolerance)
	}
	ev, err := mapEvent(se)
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// signatureTime returns the t= timestamp of a Stripe-Signature header (the
// last one, as stripe-go reads it).
func signatureTime(header string) (time.Time, bool) {
	var t time.Time
	found := false
	for _, pair := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || k != "t" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false
		}
		t, found = time.Unix(n, 0), true
	}
	return t, found
}

func badEvent(format string, args ...any) error {
	return errs.E(errs.BadRequest, "malformed event: "+format, args...)
}

func mapEvent(se stripe.Event) (Event, error) {
	if se.ID == "" || len(se.ID) > maxKeyLen {
		return Event{}, badEvent("id is missing or longer than %d bytes", maxKeyLen)
	}
	if se.Type == "" {
		return Event{}, badEvent("type is missing")
	}
	ev := Event{ID: se.ID, Provider: StripeName, Type: EventType(se.Type), Created: time.Unix(se.Created, 0).UTC()}
	if !ev.Type.Known() {
		return ev, nil
	}
	if se.Data == nil || len(se.Data.Raw) == 0 {
		return Event{}, badEvent("%s has no data.object", ev.Type)
	}
	var err error
	switch ev.Type {
	case EventCheckoutCompleted, EventCheckoutAsyncSucceeded, EventCheckoutAsyncFailed, EventCheckoutExpired:
		err = mapSession(&ev, se.Data.Raw)
	case EventChargeRefunded:
		err = mapCharge(&ev, se.Data.Raw)
	case EventPaymentFailed:
		err = mapPaymentIntent(&ev, se.Data.Raw)
	}
	if err != nil {
		return Event{}, err
	}
	return ev, nil
}

// idRef reads an expandable field: an id string, or an object with an id.
type idRef string

// UnmarshalJSON reads an id, an object with an id, or null.
func (r *idRef) UnmarshalJSON(b []byte) error {
	switch {
	case string(b) == "null":
		*r = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = idRef(s)
		return nil
	}
	var o struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*r = idRef(o.ID)
	return nil
}

type stripeObject struct {
	ID       string            `json:"id"`
	Object   string            `json:"object"`
	Metadata map[string]string `json:"metadata"`
	Currency string            `json:"currency"`
}

func (o stripeObject) check(t EventType, object string) error {
	if o.Object != object {
		return badEvent("%s carries a %q object, not a %s", t, o.Object, object)
	}
	if o.ID == "" || len(o.ID) > maxKeyLen {
		return badEvent("the %s of %s has no id", object, t)
	}
	if o.Currency != "" && !validCurrency(o.Currency) {
		return badEvent("the %s of %s has currency %q", object, t, o.Currency)
	}
	return nil
}

func (o stripeObject) purpose(clientRef string) (Purpose, string) {
	p, ref := Purpose(o.Metadata[metaPurpose]), o.Metadata[metaReference]
	if p.Valid() && ref != "" {
		return p, ref
	}
	return parseClientReference(clientRef)
}

func mapSession(ev *Event, raw []byte) error {
	var s struct {
		stripeObject
		AmountTotal       *int64 `json:"amount_total"`
		PaymentStatus     string `json:"payment_status"`
		ClientReferenceID string `json:"client_reference_id"`
		PaymentIntent     idRef  `json:"payment_intent"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return badEvent("the checkout session of %s: %v", ev.Type, err)
	}
	if err := s.check(ev.Type, "checkout.session"); err != nil {
		return err
	}
	ev.ProviderRef = s.ID
	ev.PaymentRef = string(s.PaymentIntent)
	ev.Purpose, ev.Reference = s.purpose(s.ClientReferenceID)
	ev.Currency = strings.ToUpper(s.Currency)
	if s.AmountTotal != nil {
		ev.AmountTotal = *s.AmountTotal
	}
	switch ev.Type {
	case EventCheckoutCompleted:
		ev.Paid = s.PaymentStatus == string(stripe.CheckoutSessionPaymentStatusPaid)
	case EventCheckoutAsyncSucceeded:
		ev.Paid = true
	}
	if ev.Paid && (s.AmountTotal == nil || ev.Currency == "" || ev.PaymentRef == "") {
		return badEvent("the paid checkout session %s lacks its amount, currency or payment intent", s.ID)
	}
	return nil
}

func mapCharge(ev *Event, raw []byte) error {
	var c struct {
		stripeObject
		Amount         *int64 `json:"amount"`
		AmountRefunded *int64 `json:"amount_refunded"`
		PaymentIntent  idRef  `json:"payment_intent"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return badEvent("the charge of %s: %v", ev.Type, err)
	}
	if err := c.check(ev.Type, "charge"); err != nil {
		return err
	}
	if c.Amount == nil || c.AmountRefunded == nil || c.Currency == "" || c.PaymentIntent == "" {
		return badEvent("the refunded charge %s lacks its amounts, currency or payment intent", c.ID)
	}
	ev.PaymentRef = string(c.PaymentIntent)
	ev.Purpose, ev.Reference = c.purpose("")
	ev.Currency = strings.ToUpper(c.Currency)
	ev.AmountTotal, ev.AmountRefunded = *c.Amount, *c.AmountRefunded
	return nil
}

func mapPaymentIntent(ev *Event, raw []byte) error {
	var pi struct {
		stripeObject
		Amount           int64 `json:"amount"`
		LastPaymentError *struct {
			Message string `json:"message"`
		} `json:"last_payment_error"`
	}
	if err := json.Unmarshal(raw, &pi); err != nil {
		return badEvent("the payment intent of %s: %v", ev.Type, err)
	}
	if err := pi.check(ev.Type, "payment_intent"); err != nil {
		return err
	}
	ev.PaymentRef = pi.ID
	ev.Purpose, ev.Reference = pi.purpose("")
	ev.Currency = strings.ToUpper(pi.Currency)
	ev.AmountTotal = pi.Amount
	if pi.LastPaymentError != nil {
		ev.FailureMessage = pi.LastPaymentError.Message
	}
	return nil
}

// String describes the event for logs.
func (e Event) String() string {
	return fmt.Sprintf("%s %s (%s %s)", e.Type, e.ID, e.Purpose, e.Reference)
}
