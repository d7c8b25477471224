package payment_test

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
)

const whsec = "whsec_test_3b1f0c9e2d"

// A fixed clock far from the real one: the caller's clock decides.
var whNow = time.Date(2025, 3, 14, 10, 30, 0, 0, time.UTC)

// Our signature is Stripe's: stripe-go computes the same bytes.
func TestSignMatchesStripe(t *testing.T) {
	payload := paymenttest.EventJSON(paymenttest.Spec{})
	want := "t=1741948200,v1=" + hex.EncodeToString(webhook.ComputeSignature(whNow, payload, whsec))
	if got := paymenttest.Sign(payload, whsec, whNow); got != want {
		t.Fatalf("Sign = %q, want %q", got, want)
	}
}

// Rule 4: payment truth comes only from signature-checked webhooks.
func TestParseWebhookSignature(t *testing.T) {
	spec := paymenttest.Spec{ID: "evt_sig", Reference: "42", Created: whNow}
	payload := paymenttest.EventJSON(spec)
	good := paymenttest.Sign(payload, whsec, whNow)

	if ev, err := payment.ParseWebhook(payload, good, whsec, whNow); err != nil || ev.ID != "evt_sig" {
		t.Fatalf("OK: %+v, %v", ev, err)
	}
	t.Run("OKWithinTolerance", func(t *testing.T) {
		for _, d := range []time.Duration{-payment.WebhookTolerance, -4 * time.Minute, 4 * time.Minute, payment.WebhookTolerance} {
			sig := paymenttest.Sign(payload, whsec, whNow.Add(d))
			if _, err := payment.ParseWebhook(payload, sig, whsec, whNow); err != nil {
				t.Errorf("signed %s from now: %v", d, err)
			}
		}
	})
	t.Run("OKRolledSecret", func(t *testing.T) {
		// While a secret is rolled Stripe sends one v1 per secret.
		old := paymenttest.Sign(payload, "whsec_old", whNow)
		sig := good + "," + strings.Split(old, ",")[1] + ",v0=deadbeef"
		if _, err := payment.ParseWebhook(payload, sig, whsec, whNow); err != nil {
			t.Fatal(err)
		}
	})

	tampered := bytes.Replace(payload, []byte(`"amount_total": 25000`), []byte(`"amount_total": 1`), 1)
	if bytes.Equal(tampered, payload) {
		t.Fatal("test payload did not change")
	}
	unauthorized := map[string]struct {
		payload []byte
		header  string
		secret  string
	}{
		"ErrWrongSecret":   {payload, paymenttest.Sign(payload, "whsec_other", whNow), whsec},
		"ErrTampered":      {tampered, good, whsec},
		"ErrTooOld":        {payload, paymenttest.Sign(payload, whsec, whNow.Add(-payment.WebhookTolerance-time.Second)), whsec},
		"ErrFromTheFuture": {payload, paymenttest.Sign(payload, whsec, whNow.Add(payment.WebhookTolerance+time.Second)), whsec},
		"ErrNoHeader":      {payload, "", whsec},
		"ErrGarbageHeader": {payload, "garbage", whsec},
		"ErrNoV1":          {payload, "t=1741948200", whsec},
		"ErrNoTimestamp":   {payload, strings.Split(good, ",")[1], whsec},
		"ErrBadTimestamp":  {payload, "t=soon," + strings.Split(good, ",")[1], whsec},
		"ErrTimestampSwap": {payload, strings.Replace(good, "t=1741948200", "t=1741948201", 1), whsec},
		"ErrV0Only":        {payload, "t=1741948200,v0=" + strings.TrimPrefix(strings.Split(good, ",")[1], "v1="), whsec},
		"ErrEmptyBody":     {nil, good, whsec},
	}
	for name, c := range unauthorized {
		t.Run(name, func(t *testing.T) {
			_, err := payment.ParseWebhook(c.payload, c.header, c.secret, whNow)
			if e := errs.As(err); e == nil || e.Code != errs.Unauthorized || e.Message == "" {
				t.Fatalf("got %v, want unauthorized with a message", err)
			}
		})
	}
	t.Run("ErrNoSecretConfigured", func(t *testing.T) {
		// An empty secret would let anyone sign: never accept.
		sig := paymenttest.Sign(payload, "", whNow)
		if _, err := payment.ParseWebhook(payload, sig, "", whNow); !errs.Is(err, errs.Internal) {
			t.Fatalf("got %v, want internal", err)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		big := bytes.Repeat([]byte(" "), payment.MaxWebhookBytes+1)
		if _, err := payment.ParseWebhook(big, paymenttest.Sign(big, whsec, whNow), whsec, whNow); !errs.Is(err, errs.TooLarge) {
			t.Fatalf("got %v, want too_large", err)
		}
	})
	badRequest := map[string]string{
		"ErrNotJSON":          `not json`,
		"ErrNoID":             `{"object":"event","type":"checkout.session.completed","created":1,"data":{"object":{}}}`,
		"ErrNoType":           `{"id":"evt_1","object":"event","created":1,"data":{"object":{}}}`,
		"ErrNoData":           `{"id":"evt_1","type":"checkout.session.completed","created":1}`,
		"ErrNullObject":       `{"id":"evt_1","type":"checkout.session.completed","created":1,"data":{"object":null}}`,
		"ErrWrongObject":      `{"id":"evt_1","type":"checkout.session.completed","created":1,"data":{"object":{"id":"ch_1","object":"charge"}}}`,
		"ErrPaidWithoutTotal": `{"id":"evt_1","type":"checkout.session.completed","created":1,"data":{"object":{"id":"cs_1","object":"checkout.session","payment_status":"paid","currency":"mad","payment_intent":"pi_1"}}}`,
		"ErrBadMetadata":      `{"id":"evt_1","type":"checkout.session.expired","created":1,"data":{"object":{"id":"cs_1","object":"checkout.session","metadata":{"purpose":7}}}}`,
		"ErrBadCurrency":      `{"id":"evt_1","type":"checkout.session.expired","created":1,"data":{"object":{"id":"cs_1","object":"checkout.session","currency":"dirhams"}}}`,
		"ErrRefundNoTotals":   `{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{"id":"ch_1","object":"charge","currency":"mad","payment_intent":"pi_1"}}}`,
	}
	for name, body := range badRequest {
		t.Run(name, func(t *testing.T) {
			p := []byte(body)
			_, err := payment.ParseWebhook(p, paymenttest.Sign(p, whsec, whNow), whsec, whNow)
			if !errs.Is(err, errs.BadRequest) {
				t.Fatalf("got %v, want bad_request", err)
			}
		})
	}
}

// Each event type Souk acts on maps to the Event orders and bookings read.
func TestParseWebhookEvents(t *testing.T) {
	created := whNow.Add(-time.Minute)
	base := paymenttest.Spec{
		ID: "evt_1", Created: created, Purpose: payment.PurposeBooking, Reference: "77",
		SessionID: "cs_test_a1", PaymentIntentID: "pi_1", ChargeID: "ch_1", Amount: 45_000,
	}
	ev := func(typ payment.EventType, e payment.Event) payment.Event {
		e.ID, e.Provider, e.Type, e.Created = "evt_1", payment.StripeName, typ, created
		e.Purpose, e.Reference, e.Currency = payment.PurposeBooking, "77", "MAD"
		return e
	}
	tests := []struct {
		name string
		edit func(*paymenttest.Spec)
		want payment.Event
	}{
		{"CheckoutCompletedPaid", nil,
			ev(payment.EventCheckoutCompleted, payment.Event{ProviderRef: "cs_test_a1", PaymentRef: "pi_1", Paid: true, AmountTotal: 45_000})},
		{"CheckoutCompletedUnpaid", func(s *paymenttest.Spec) { s.Unpaid = true },
			ev(payment.EventCheckoutCompleted, payment.Event{ProviderRef: "cs_test_a1", PaymentRef: "pi_1", AmountTotal: 45_000})},
		{"AsyncSucceeded", func(s *paymenttest.Spec) { s.Type = payment.EventCheckoutAsyncSucceeded },
			ev(payment.EventCheckoutAsyncSucceeded, payment.Event{ProviderRef: "cs_test_a1", PaymentRef: "pi_1", Paid: true, AmountTotal: 45_000})},
		{"AsyncFailed", func(s *paymenttest.Spec) { s.Type = payment.EventCheckoutAsyncFailed },
			ev(payment.EventCheckoutAsyncFailed, payment.Event{ProviderRef: "cs_test_a1", PaymentRef: "pi_1", AmountTotal: 45_000})},
		{"Expired", func(s *paymenttest.Spec) { s.Type = payment.EventCheckoutExpired },
			ev(payment.EventCheckoutExpired, payment.Event{ProviderRef: "cs_test_a1", AmountTotal: 45_000})},
		{"ChargeRefundedPartly", func(s *paymenttest.Spec) { s.Type, s.AmountRefunded = payment.EventChargeRefunded, 15_000 },
			ev(payment.EventChargeRefunded, payment.Event{PaymentRef: "pi_1", AmountTotal: 45_000, AmountRefunded: 15_000})},
		{"PaymentFailed", func(s *paymenttest.Spec) {
			s.Type, s.FailureMessage = payment.EventPaymentFailed, "Votre carte a été refusée."
		},
			ev(payment.EventPaymentFailed, payment.Event{PaymentRef: "pi_1", AmountTotal: 45_000, FailureMessage: "Votre carte a été refusée."})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := base
			if tt.edit != nil {
				tt.edit(&spec)
			}
			payload := paymenttest.EventJSON(spec)
			got, err := payment.ParseWebhook(payload, paymenttest.Sign(payload, whsec, whNow), whsec, whNow)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("event (-want +got):\n%s", diff)
			}
			if !got.Type.Known() {
				t.Fatalf("%s not known", got.Type)
			}
		})
	}

	t.Run("RefundWithoutMetadata", func(t *testing.T) {
		spec := base
		spec.Type, spec.NoMetadata = payment.EventChargeRefunded, true
		payload := paymenttest.EventJSON(spec)
		got, err := payment.ParseWebhook(payload, paymenttest.Sign(payload, whsec, whNow), whsec, whNow)
		if err != nil || got.Purpose != "" || got.Reference != "" || got.PaymentRef != "pi_1" {
			t.Fatalf("got %+v, %v; want no purpose, payment pi_1 (Store.ResolveEvent fills it)", got, err)
		}
	})
	t.Run("SessionFallsBackToClientReference", func(t *testing.T) {
		spec := base
		spec.NoMetadata = true
		payload := paymenttest.EventJSON(spec)
		got, err := payment.ParseWebhook(payload, paymenttest.Sign(payload, whsec, whNow), whsec, whNow)
		if err != nil || got.Purpose != payment.PurposeBooking || got.Reference != "77" {
			t.Fatalf("got %+v, %v; want booking 77 from client_reference_id", got, err)
		}
	})
	t.Run("ExpandedPaymentIntent", func(t *testing.T) {
		payload := []byte(`{"id":"evt_x","type":"checkout.session.completed","created":1,"api_version":"2020-08-27",
			"data":{"object":{"id":"cs_1","object":"checkout.session","payment_status":"paid","amount_total":100,"currency":"mad",
			"payment_intent":{"id":"pi_exp","object":"payment_intent"},"metadata":{"purpose":"order","reference":"9"}}}}`)
		got, err := payment.ParseWebhook(payload, paymenttest.Sign(payload, whsec, whNow), whsec, whNow)
		if err != nil || got.PaymentRef != "pi_exp" || !got.Paid || got.Purpose != payment.PurposeOrder {
			t.Fatalf("got %+v, %v", got, err)
		}
	})
	t.Run("UnknownTypeIsNotAnError", func(t *testing.T) {
		payload := paymenttest.EventJSON(paymenttest.Spec{ID: "evt_u", Type: "customer.created", Created: created})
		got, err := payment.ParseWebhook(payload, paymenttest.Sign(payload, whsec, whNow), whsec, whNow)
		want := payment.Event{ID: "evt_u", Provider: payment.StripeName, Type: "customer.created", Created: created}
		if err != nil || got.Type.Known() {
			t.Fatalf("got %+v, %v", got, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("event (-want +got):\n%s", diff)
		}
	})
}

func FuzzParseWebhook(f *testing.F) {
	for _, typ := range []payment.EventType{payment.EventCheckoutCompleted, payment.EventCheckoutAsyncSucceeded,
		payment.EventCheckoutAsyncFailed, payment.EventCheckoutExpired, payment.EventChargeRefunded, payment.EventPaymentFailed, "invoice.paid"} {
		p := paymenttest.EventJSON(paymenttest.Spec{Type: typ, Created: whNow})
		f.Add(p, paymenttest.Sign(p, whsec, whNow))
	}
	for _, s := range []string{"", "{}", "null", "[]", `{"id":"evt_1"}`, `{"data":null}`, `{"data":{"object":7}}`,
		`{"id":"evt_1","type":"charge.refunded","data":{"object":{"object":"charge","id":"ch","amount":-1,"amount_refunded":9e99}}}`,
		`{"id":"evt_1","type":"checkout.session.completed","data":{"object":{"object":"checkout.session","id":"cs","payment_intent":[]}}}`} {
		f.Add([]byte(s), "t=1741948200,v1=00")
		f.Add([]byte(s), "t=,v1=,=,,")
	}
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		// Whatever the header, nothing a sender controls becomes a 500.
		_, err := payment.ParseWebhook(payload, header, whsec, whNow)
		if c := errs.CodeOf(err); c == errs.Internal {
			t.Fatalf("internal error for a client's input: %v", err)
		}
		// Correctly signed: the body is judged on its own.
		ev, err := payment.ParseWebhook(payload, paymenttest.Sign(payload, whsec, whNow), whsec, whNow)
		switch c := errs.CodeOf(err); c {
		case "":
			if ev.ID == "" || ev.Type == "" || ev.Provider != payment.StripeName {
				t.Fatalf("accepted an event without id or type: %+v", ev)
			}
			if ev.Type.Known() && ev.Paid && (ev.Currency == "" || ev.PaymentRef == "") {
				t.Fatalf("paid event without currency or payment: %+v", ev)
			}
		case errs.BadRequest, errs.TooLarge:
		default:
			t.Fatalf("signed body: got %v (%s), want success or bad_request", err, c)
		}
	})
}
