package payment_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/payment"
)

// recorder is an http.RoundTripper that keeps a copy of every request.
type recorder struct {
	mu   sync.Mutex
	reqs []recorded
	next http.RoundTripper
}

type recorded struct {
	Method, Path string
	Header       http.Header
	Form         url.Values
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		req.Body.Close()
		body = b
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	form, _ := url.ParseQuery(string(body))
	if req.Method == http.MethodGet {
		form = req.URL.Query()
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Form: form})
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) last(t *testing.T) recorded {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) == 0 {
		t.Fatal("no request was made")
	}
	return r.reqs[len(r.reqs)-1]
}

const testKey = "sk_test_souk5c0ffee0ddba11"

func newStripe(t *testing.T, apiURL string, mod func(*payment.StripeConfig)) (*payment.Stripe, *recorder) {
	t.Helper()
	rec := &recorder{next: http.DefaultTransport}
	cfg := payment.StripeConfig{SecretKey: testKey, APIURL: apiURL, Transport: rec, Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	s, err := payment.NewStripe(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, rec
}

func checkoutRequest() payment.CheckoutRequest {
	return payment.CheckoutRequest{
		Purpose: payment.PurposeOrder, Reference: "1042", Currency: "MAD",
		Items: []payment.LineItem{
			{Name: "Tajine en terre cuite d'Anzi", UnitAmount: 35_000, Quantity: 2},
			{Name: "Fibule en argent de Tiznit (Tazerzite)", UnitAmount: 120_000, Quantity: 1},
		},
		Shipping: 4_500, ShippingLabel: "Livraison Amana", CustomerEmail: "buyer@example.com", Locale: "fr-MA",
		SuccessURL: "https://souk.example/fr/orders/1042?paid=1", CancelURL: "https://souk.example/fr/checkout",
		ExpiresAt: time.Now().Add(45 * time.Minute), IdempotencyKey: "order-1042-checkout-1",
	}
}

// StartCheckout against stripe-mock: the request carries what Stripe needs
// and our keys, and the answer is parsed.
func TestStripeStartCheckout(t *testing.T) {
	apiURL := testenv.StripeMockURL(t)
	s, rec := newStripe(t, apiURL, nil)
	req := checkoutRequest()
	start := time.Now()
	co, err := s.StartCheckout(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartCheckout against stripe-mock: %s", time.Since(start))
	if !strings.HasPrefix(co.ProviderRef, "cs_") || !strings.HasPrefix(co.URL, "https://") || co.ExpiresAt.IsZero() || co.Provider != "stripe" {
		t.Fatalf("checkout %+v", co)
	}
	r := rec.last(t)
	if r.Method != http.MethodPost || r.Path != "/v1/checkout/sessions" {
		t.Fatalf("%s %s", r.Method, r.Path)
	}
	if got := r.Header.Get("Idempotency-Key"); got != "order-1042-checkout-1" {
		t.Fatalf("Idempotency-Key = %q", got)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Fatalf("Authorization = %q", got)
	}
	want := map[string]string{
		"mode":                                   "payment",
		"client_reference_id":                    "order:1042",
		"customer_email":                         "buyer@example.com",
		"locale":                                 "fr",
		"success_url":                            req.SuccessURL,
		"cancel_url":                             req.CancelURL,
		"metadata[purpose]":                      "order",
		"metadata[reference]":                    "1042",
		"payment_intent_data[metadata][purpose]": "order",
		"payment_intent_data[metadata][reference]":                        "1042",
		"line_items[0][quantity]":                                         "2",
		"line_items[0][price_data][currency]":                             "mad",
		"line_items[0][price_data][unit_amount]":                          "35000",
		"line_items[0][price_data][product_data][name]":                   "Tajine en terre cuite d'Anzi",
		"line_items[1][quantity]":                                         "1",
		"line_items[1][price_data][unit_amount]":                          "120000",
		"shipping_options[0][shipping_rate_data][type]":                   "fixed_amount",
		"shipping_options[0][shipping_rate_data][display_name]":           "Livraison Amana",
		"shipping_options[0][shipping_rate_data][fixed_amount][amount]":   "4500",
		"shipping_options[0][shipping_rate_data][fixed_amount][currency]": "mad",
		"expires_at": strconv.FormatInt(req.ExpiresAt.Unix(), 10),
	}
	got := map[string]string{}
	for k := range want {
		got[k] = r.Form.Get(k)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("form (-want +got):\n%s", diff)
	}
	if _, leaked := r.Form["payment_method_types[0]"]; leaked {
		t.Error("payment methods are left to the Dashboard")
	}
}

// Each provider has its own key and backend: nothing goes through
// stripe-go's package globals.
func TestStripeProvidersDoNotShareState(t *testing.T) {
	apiURL := testenv.StripeMockURL(t)
	a, recA := newStripe(t, apiURL, nil)
	b, recB := newStripe(t, apiURL, func(c *payment.StripeConfig) { c.SecretKey = "sk_test_otheraccount" })
	ctx := context.Background()
	if _, err := a.Retrieve(ctx, "cs_test_a"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Retrieve(ctx, "cs_test_b"); err != nil {
		t.Fatal(err)
	}
	if got := recA.last(t).Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Fatalf("a sent %q", got)
	}
	if got := recB.last(t).Header.Get("Authorization"); got != "Bearer sk_test_otheraccount" {
		t.Fatalf("b sent %q", got)
	}
}

func TestStripeExpiryIsClamped(t *testing.T) {
	apiURL := testenv.StripeMockURL(t)
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	s, rec := newStripe(t, apiURL, func(c *payment.StripeConfig) { c.Now = func() time.Time { return now } })
	for _, c := range []struct {
		name string
		want time.Time
		sent time.Time
	}{
		{"Default", time.Time{}, now.Add(payment.DefaultCheckoutTTL)},
		{"TooSoon", now.Add(15 * time.Minute), now.Add(payment.MinCheckoutTTL)},
		{"TooLate", now.Add(72 * time.Hour), now.Add(payment.MaxCheckoutTTL)},
		{"InRange", now.Add(2*time.Hour + 500*time.Millisecond), now.Add(2 * time.Hour)},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := checkoutRequest()
			req.ExpiresAt = c.want
			req.IdempotencyKey = "clamp-" + c.name
			if _, err := s.StartCheckout(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if got := rec.last(t).Form.Get("expires_at"); got != strconv.FormatInt(c.sent.Unix(), 10) {
				t.Fatalf("expires_at = %s, want %d", got, c.sent.Unix())
			}
		})
	}
}

func TestStripeStartCheckoutInvalid(t *testing.T) {
	s, rec := newStripe(t, "http://127.0.0.1:1", nil) // never called
	req := checkoutRequest()
	req.Items = append(req.Items, payment.LineItem{Name: "", UnitAmount: 0, Quantity: 0})
	req.IdempotencyKey = ""
	req.Currency = "dirham"
	req.SuccessURL = "/fr/orders/1"
	_, err := s.StartCheckout(context.Background(), req)
	e := errs.As(err)
	if e == nil || e.Code != errs.Invalid {
		t.Fatalf("got %v, want invalid", err)
	}
	for _, f := range []string{"currency", "items[2].name", "items[2].unit_amount", "items[2].quantity", "success_url", "idempotency_key"} {
		if !errs.Fields(e.Fields).Has(f) {
			t.Errorf("no error on %s: %v", f, e)
		}
	}
	big := checkoutRequest()
	big.Items = []payment.LineItem{{Name: "Tapis", UnitAmount: 60_000_000, Quantity: 2}}
	if e := errs.As(big.Validate()); e == nil || !errs.Fields(e.Fields).Has("total") {
		t.Fatalf("total above Stripe's limit: %v", e)
	}
	if len(rec.reqs) != 0 {
		t.Fatal("an invalid request reached Stripe")
	}
}

func TestStripeRetrieve(t *testing.T) {
	apiURL := testenv.StripeMockURL(t)
	s, rec := newStripe(t, apiURL, nil)
	st, err := s.Retrieve(context.Background(), "cs_test_a1b2")
	if err != nil {
		t.Fatal(err)
	}
	// stripe-mock answers with its fixture: an open, unpaid session.
	if st.State != payment.StateOpen || st.ProviderRef == "" || !strings.HasPrefix(st.PaymentRef, "pi_") || st.Provider != "stripe" {
		t.Fatalf("status %+v", st)
	}
	if r := rec.last(t); r.Method != http.MethodGet || r.Path != "/v1/checkout/sessions/cs_test_a1b2" {
		t.Fatalf("%s %s", r.Method, r.Path)
	}
	if _, ok := st.Event(); ok {
		t.Fatal("an open checkout has no event")
	}
}

func TestStripeRefund(t *testing.T) {
	apiURL := testenv.StripeMockURL(t)
	s, rec := newStripe(t, apiURL, nil)
	ctx := context.Background()
	r, err := s.Refund(ctx, payment.RefundRequest{PaymentRef: "pi_3Abc", Amount: 15_000, Note: "annulation J-20", IdempotencyKey: "booking-7-cancel-refund"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.ID, "re_") || r.PaymentRef != "pi_3Abc" || r.Status != payment.RefundSucceeded || r.Amount.Amount != 15_000 {
		t.Fatalf("refund %+v", r)
	}
	req := rec.last(t)
	if req.Path != "/v1/refunds" || req.Header.Get("Idempotency-Key") != "booking-7-cancel-refund" {
		t.Fatalf("%s, key %q", req.Path, req.Header.Get("Idempotency-Key"))
	}
	want := url.Values{"payment_intent": {"pi_3Abc"}, "amount": {"15000"}, "reason": {"requested_by_customer"}, "metadata[note]": {"annulation J-20"}}
	if diff := cmp.Diff(want, req.Form); diff != "" {
		t.Fatalf("form (-want +got):\n%s", diff)
	}
	// A full refund sends no amount.
	if _, err := s.Refund(ctx, payment.RefundRequest{PaymentRef: "pi_3Abc", Reason: payment.RefundDuplicate, IdempotencyKey: "order-9-dup"}); err != nil {
		t.Fatal(err)
	}
	if f := rec.last(t).Form; f.Has("amount") || f.Get("reason") != "duplicate" {
		t.Fatalf("full refund form %v", f)
	}
	if _, err := s.Refund(ctx, payment.RefundRequest{PaymentRef: "pi_3Abc", Amount: -1}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("got %v, want invalid", err)
	}
}

func TestStripeCancelCheckout(t *testing.T) {
	apiURL := testenv.StripeMockURL(t)
	s, rec := newStripe(t, apiURL, nil)
	if err := s.CancelCheckout(context.Background(), "cs_test_z9"); err != nil {
		t.Fatal(err)
	}
	if r := rec.last(t); r.Method != http.MethodPost || r.Path != "/v1/checkout/sessions/cs_test_z9/expire" {
		t.Fatalf("%s %s", r.Method, r.Path)
	}
}

// fakeStripe answers every request with status and body, as Stripe's API
// would for an error.
func fakeStripe(t *testing.T, handler http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv.URL
}

func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// Stripe's refusals become errs codes with messages a client can read; the
// key never appears in any of them.
func TestStripeErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   errs.Code
	}{
		{"NotFound", 404, `{"error":{"type":"invalid_request_error","code":"resource_missing","message":"No such checkout.session: 'cs_x'","param":"session"}}`, errs.NotFound},
		{"IdempotencyReused", 400, `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`, errs.Conflict},
		{"AlreadyRefunded", 400, `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge ch_1 has already been refunded."}}`, errs.Conflict},
		{"Disputed", 400, `{"error":{"type":"invalid_request_error","code":"charge_disputed","message":"Charge ch_1 has been charged back."}}`, errs.Conflict},
		{"AmountTooLarge", 400, `{"error":{"type":"invalid_request_error","code":"amount_too_large","message":"Refund amount is greater than unrefunded amount on charge","param":"amount"}}`, errs.Invalid},
		{"CardDeclined", 402, `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`, errs.Invalid},
		{"BadKey", 401, `{"error":{"type":"invalid_request_error","message":"Invalid API Key provided: sk_test_****ba11"}}`, errs.Internal},
		{"KeyEchoed", 401, `{"error":{"type":"invalid_request_error","message":"Authorization was 'Bearer ` + testKey + `'."}}`, errs.Internal},
		{"RateLimited", 429, `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests hit the API too quickly."}}`, errs.Unavailable},
		{"ServerError", 500, `{"error":{"type":"api_error","message":"An unknown error occurred"}}`, errs.Unavailable},
		{"Unavailable", 503, `{"error":{"type":"api_error","message":"Stripe is temporarily unavailable"}}`, errs.Unavailable},
		{"ProxyPage", 502, `<html><body>Bad gateway</body></html>`, errs.Unavailable},
		{"GarbageOK", 200, `not json`, errs.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newStripe(t, fakeStripe(t, answer(tt.status, tt.body)), nil)
			_, err := s.Refund(context.Background(), payment.RefundRequest{PaymentRef: "pi_1", Amount: 100, IdempotencyKey: "k-" + tt.name})
			e := errs.As(err)
			if e == nil || e.Code != tt.code {
				t.Fatalf("got %v, want %s", err, tt.code)
			}
			if e.Message == "" {
				t.Fatal("no message")
			}
			if (tt.code == errs.Unavailable) != (e.RetryAfter > 0) {
				t.Fatalf("RetryAfter %s for %s", e.RetryAfter, tt.code)
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(e.Message, "sk_") {
				t.Fatalf("the key leaked: %v", err)
			}
		})
	}
	t.Run("DeclineCodeAndParam", func(t *testing.T) {
		s, _ := newStripe(t, fakeStripe(t, answer(400, tests[4].body)), nil)
		_, err := s.Refund(context.Background(), payment.RefundRequest{PaymentRef: "pi_1", Amount: 100, IdempotencyKey: "k"})
		if e := errs.As(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Field != "amount" {
			t.Fatalf("got %v, want a field error on amount", err)
		}
		s, _ = newStripe(t, fakeStripe(t, answer(402, tests[5].body)), nil)
		_, err = s.Refund(context.Background(), payment.RefundRequest{PaymentRef: "pi_1", Amount: 100, IdempotencyKey: "k"})
		if e := errs.As(err); e == nil || e.Extra["decline_code"] != "insufficient_funds" {
			t.Fatalf("got %v, want the decline code", err)
		}
	})
	t.Run("CancelPaidCheckout", func(t *testing.T) {
		apiURL := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				answer(400, `{"error":{"type":"invalid_request_error","message":"Only Checkout Sessions with a status in [\"open\"] can be expired."}}`)(w, r)
				return
			}
			answer(200, `{"id":"cs_paid","object":"checkout.session","status":"complete","payment_status":"paid","amount_total":100,"currency":"mad","payment_intent":"pi_9"}`)(w, r)
		})
		s, _ := newStripe(t, apiURL, nil)
		if err := s.CancelCheckout(context.Background(), "cs_paid"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("got %v, want conflict", err)
		}
	})
	t.Run("CancelExpiredCheckout", func(t *testing.T) {
		apiURL := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				answer(400, `{"error":{"type":"invalid_request_error","message":"Only Checkout Sessions with a status in [\"open\"] can be expired."}}`)(w, r)
				return
			}
			answer(200, `{"id":"cs_old","object":"checkout.session","status":"expired","payment_status":"unpaid","amount_total":100,"currency":"mad"}`)(w, r)
		})
		s, _ := newStripe(t, apiURL, nil)
		if err := s.CancelCheckout(context.Background(), "cs_old"); err != nil {
			t.Fatalf("got %v, want nil: closing a closed checkout is not an error", err)
		}
	})
	t.Run("RetrievePaid", func(t *testing.T) {
		s, _ := newStripe(t, fakeStripe(t, answer(200, `{"id":"cs_p","object":"checkout.session","status":"complete","payment_status":"paid",
			"amount_total":45000,"currency":"mad","payment_intent":"pi_p","expires_at":1900000000,
			"metadata":{"purpose":"booking","reference":"7"}}`)), nil)
		st, err := s.Retrieve(context.Background(), "cs_p")
		if err != nil {
			t.Fatal(err)
		}
		want := payment.Status{Provider: "stripe", ProviderRef: "cs_p", State: payment.StatePaid, Amount: payment.MAD(45000),
			PaymentRef: "pi_p", Purpose: payment.PurposeBooking, Reference: "7", ExpiresAt: time.Unix(1900000000, 0).UTC()}
		if diff := cmp.Diff(want, st); diff != "" {
			t.Fatalf("status (-want +got):\n%s", diff)
		}
		ev, ok := st.Event()
		if !ok || ev.ID != "retrieve:cs_p:paid" || !ev.Paid || ev.Type != payment.EventCheckoutCompleted || ev.Amount() != payment.MAD(45000) {
			t.Fatalf("event %+v", ev)
		}
	})
}

// Stripe unreachable: a clean 503 with a retry hint, quickly, whatever the
// way it fails.
func TestStripeUnavailable(t *testing.T) {
	t.Run("ClosedPort", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		for _, retries := range []int{0, 2} {
			s, _ := newStripe(t, "http://"+addr, func(c *payment.StripeConfig) { c.MaxNetworkRetries = retries })
			start := time.Now()
			_, err := s.StartCheckout(context.Background(), checkoutRequest())
			took := time.Since(start)
			e := errs.As(err)
			if e == nil || e.Code != errs.Unavailable || e.RetryAfter <= 0 {
				t.Fatalf("got %v, want unavailable with a retry hint", err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Fatalf("the key leaked: %v", err)
			}
			// stripe-go waits 0.5 s, then up to 1 s, between retries.
			limit := time.Second + time.Duration(retries)*1500*time.Millisecond
			t.Logf("closed port, %d retries: %s", retries, took)
			if took > limit {
				t.Fatalf("%d retries took %s, want under %s", retries, took, limit)
			}
		}
	})
	t.Run("Hangs", func(t *testing.T) {
		t.Parallel()
		apiURL := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		s, _ := newStripe(t, apiURL, func(c *payment.StripeConfig) { c.Timeout = 300 * time.Millisecond })
		start := time.Now()
		_, err := s.Retrieve(context.Background(), "cs_slow")
		took := time.Since(start)
		t.Logf("hanging server, 300 ms timeout: %s", took)
		if e := errs.As(err); e == nil || e.Code != errs.Unavailable || !strings.Contains(e.Message, "in time") {
			t.Fatalf("got %v, want unavailable (timeout)", err)
		}
		if took > 2*time.Second {
			t.Fatalf("took %s", took)
		}
	})
	t.Run("CallerDeadline", func(t *testing.T) {
		t.Parallel()
		apiURL := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body) // so that the server sees the client go
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		})
		s, _ := newStripe(t, apiURL, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := s.Refund(ctx, payment.RefundRequest{PaymentRef: "pi_1", IdempotencyKey: "k"})
		if !errs.Is(err, errs.Unavailable) || time.Since(start) > 2*time.Second {
			t.Fatalf("got %v after %s", err, time.Since(start))
		}
	})
}

func TestNewStripeRefusesBadKeys(t *testing.T) {
	for _, key := range []string{"", "pk_test_123", "whsec_123"} {
		if _, err := payment.NewStripe(payment.StripeConfig{SecretKey: key}); err == nil {
			t.Errorf("key %q accepted", key)
		}
	}
}

// stripe-go's own retries resend the same Idempotency-Key, so a retried
// POST charges or refunds once.
func TestStripeRetriesKeepTheIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	apiURL := fakeStripe(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		n := len(keys)
		mu.Unlock()
		if n == 1 {
			answer(503, `{"error":{"type":"api_error","message":"try again"}}`)(w, r)
			return
		}
		answer(200, `{"id":"re_1","object":"refund","amount":100,"currency":"mad","payment_intent":"pi_1","status":"succeeded"}`)(w, r)
	})
	s, _ := newStripe(t, apiURL, func(c *payment.StripeConfig) { c.MaxNetworkRetries = 1 })
	r, err := s.Refund(context.Background(), payment.RefundRequest{PaymentRef: "pi_1", Amount: 100, IdempotencyKey: "order-5-refund"})
	if err != nil || r.ID != "re_1" || r.Amount != payment.MAD(100) {
		t.Fatalf("%+v, %v", r, err)
	}
	if diff := cmp.Diff([]string{"order-5-refund", "order-5-refund"}, keys); diff != "" {
		t.Fatalf("keys (-want +got):\n%s", diff)
	}
}
