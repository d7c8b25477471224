package payment

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"

	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/errs"
)

// StripeName is the name of the Stripe provider in the payments table and
// the event log.
const StripeName = "stripe"

// StripeRetryAfter is the retry hint given when Stripe cannot be reached or
// answers with a server error.
const StripeRetryAfter = 30 * time.Second

// StripeConfig configures a Stripe provider.
type StripeConfig struct {
	SecretKey string // sk_… or rk_…
	// APIURL overrides Stripe's API address (stripe-mock in tests).
	APIURL string
	// Timeout bounds one HTTP attempt: connecting, the TLS handshake and
	// waiting for the whole answer. Default 10 s.
	Timeout time.Duration
	// CallTimeout bounds a whole call, retries included, when the caller's
	// context has no earlier deadline. Default 30 s.
	CallTimeout time.Duration
	// MaxNetworkRetries is how often a failed attempt is retried (network
	// errors, 409, 429 lock timeouts, 503). Every POST carries an
	// idempotency key, so a retry never charges or refunds twice. 0: none.
	MaxNetworkRetries int
	// Transport carries the requests; nil uses one with bounded dial, TLS
	// and response-header waits. Tests wrap it to see the requests.
	Transport http.RoundTripper
	// Logger receives the client's own messages at debug and warn level;
	// nil discards them.
	Logger *slog.Logger
	// Now is the clock used to clamp expiry times; nil is time.Now.
	Now func() time.Time
}

// StripeConfigFrom takes the Stripe settings from the configuration, with
// two network retries.
func StripeConfigFrom(c config.Config, log *slog.Logger) StripeConfig {
	return StripeConfig{SecretKey: c.StripeSecretKey, APIURL: c.StripeAPIURL, MaxNetworkRetries: 2, Logger: log}
}

// Stripe is the Provider for card payments through Stripe Checkout. Each
// value has its own client and backends: nothing is shared through
// stripe-go's package globals, so several providers (tests, processes) never
// see each other's key or URL.
type Stripe struct {
	api         *client.API
	key         string
	callTimeout time.Duration
	now         func() time.Time
}

var _ Provider = (*Stripe)(nil)

// NewStripe returns a Stripe provider. It returns an error when the key is
// missing or does not look like a Stripe secret key.
func NewStripe(cfg StripeConfig) (*Stripe, error) {
	if cfg.SecretKey == "" {
		return nil, errors.New("stripe: a secret key is required")
	}
	if !strings.HasPrefix(cfg.SecretKey, "sk_") && !strings.HasPrefix(cfg.SecretKey, "rk_") {
		return nil, errors.New("stripe: the secret key must start with sk_ or rk_")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 30 * time.Second
	}
	if cfg.MaxNetworkRetries < 0 {
		cfg.MaxNetworkRetries = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	transport := cfg.Transport
	if transport == nil {
		transport = newTransport(cfg.Timeout)
	}
	httpClient := &http.Client{Transport: transport, Timeout: cfg.Timeout}
	backend := func(t stripe.SupportedBackend) stripe.Backend {
		bc := &stripe.BackendConfig{
			HTTPClient:        httpClient,
			MaxNetworkRetries: stripe.Int64(int64(cfg.MaxNetworkRetries)),
			LeveledLogger:     stripeLogger{log: cfg.Logger},
			EnableTelemetry:   stripe.Bool(false),
		}
		if cfg.APIURL != "" {
			bc.URL = stripe.String(cfg.APIURL)
		}
		return stripe.GetBackendWithConfig(t, bc)
	}
	api := client.New(cfg.SecretKey, &stripe.Backends{
		API:     backend(stripe.APIBackend),
		Connect: backend(stripe.ConnectBackend),
		Uploads: backend(stripe.UploadsBackend),
	})
	return &Stripe{api: api, key: cfg.SecretKey, callTimeout: cfg.CallTimeout, now: cfg.Now}, nil
}

func newTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: min(timeout, 5*time.Second), KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   min(timeout, 5*time.Second),
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   16,
		ForceAttemptHTTP2:     true,
	}
}

// Name returns "stripe".
func (s *Stripe) Name() string { return StripeName }

// call bounds ctx by the call timeout unless it already ends sooner.
func (s *Stripe) call(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.callTimeout {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.callTimeout)
}

// Metadata keys put on every session and payment intent.
const (
	metaPurpose   = "purpose"
	metaReference = "reference"
)

// StartCheckout opens a Stripe Checkout Session in payment mode: one line
// per item with inline price data, shipping as a fixed-amount shipping
// option, our purpose and reference in the metadata of the session and of
// its payment intent, client_reference_id "purpose:reference", and
// expires_at clamped to what Stripe accepts (see ClampExpiry).
//
// It returns errs.Invalid for a bad request (ours or as Stripe judges it),
// errs.Conflict when the idempotency key was used with other parameters,
// errs.Unavailable with a retry hint when Stripe cannot be reached, times
// out or fails, and errs.Internal when the key is refused.
func (s *Stripe) StartCheckout(ctx context.Context, req CheckoutRequest) (Checkout, error) {
	if err := req.Validate(); err != nil {
		return Checkout{}, fmt.Errorf("start checkout: %w", err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	currency := strings.ToLower(req.Currency)
	expires := ClampExpiry(req.ExpiresAt, s.now())
	meta := map[string]string{metaPurpose: string(req.Purpose), metaReference: req.Reference}
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL:        stripe.String(req.SuccessURL),
		CancelURL:         stripe.String(req.CancelURL),
		ClientReferenceID: stripe.String(string(req.Purpose) + ":" + req.Reference),
		ExpiresAt:         stripe.Int64(expires.Unix()),
		Metadata:          meta,
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Metadata: meta},
	}
	p.Context = ctx
	p.SetIdempotencyKey(req.IdempotencyKey)
	for _, it := range req.Items {
		p.LineItems = append(p.LineItems, &stripe.CheckoutSessionLineItemParams{
			Quantity: stripe.Int64(it.Quantity),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{
				Currency:    stripe.String(currency),
				UnitAmount:  stripe.Int64(it.UnitAmount),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(it.Name)},
			},
		})
	}
	if req.Shipping > 0 {
		label := req.ShippingLabel
		if strings.TrimSpace(label) == "" {
			label = "Shipping"
		}
		p.ShippingOptions = []*stripe.CheckoutSessionShippingOptionParams{{
			ShippingRateData: &stripe.CheckoutSessionShippingOptionShippingRateDataParams{
				Type:        stripe.String("fixed_amount"),
				DisplayName: stripe.String(label),
				FixedAmount: &stripe.CheckoutSessionShippingOptionShippingRateDataFixedAmountParams{
					Amount:   stripe.Int64(req.Shipping),
					Currency: stripe.String(currency),
				},
			},
		}}
	}
	if req.CustomerEmail != "" {
		p.CustomerEmail = stripe.String(req.CustomerEmail)
	}
	if l := stripeLocale(req.Locale); l != "" {
		p.Locale = stripe.String(l)
	}
	sess, err := s.api.CheckoutSessions.New(p)
	if err != nil {
		return Checkout{}, fmt.Errorf("start checkout for %s %s: %w", req.Purpose, req.Reference, s.stripeError(ctx, err, "checkout session"))
	}
	if sess.ID == "" || sess.URL == "" {
		return Checkout{}, errs.Wrap(errs.Unavailable, fmt.Errorf("session %q without id or url", sess.ID),
			"the card payment service gave an incomplete answer; try again").WithRetryAfter(StripeRetryAfter)
	}
	out := Checkout{Provider: StripeName, ProviderRef: sess.ID, URL: sess.URL, ExpiresAt: expires}
	if sess.ExpiresAt > 0 {
		out.ExpiresAt = time.Unix(sess.ExpiresAt, 0).UTC()
	}
	return out, nil
}

// stripeLocale maps our languages to Stripe Checkout's; Checkout has no
// Arabic, so Arabic readers get "auto" (their browser's language).
func stripeLocale(lang string) string {
	switch baseLang(lang) {
	case "fr":
		return "fr"
	case "en":
		return "en"
	case "":
		return ""
	}
	return "auto"
}

// Retrieve reads a Checkout Session. It returns errs.NotFound for an unknown
// session and the errors of StartCheckout otherwise.
func (s *Stripe) Retrieve(ctx context.Context, providerRef string) (Status, error) {
	if err := checkRef("provider_ref", providerRef); err != nil {
		return Status{}, err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	p := &stripe.CheckoutSessionParams{}
	p.Context = ctx
	sess, err := s.api.CheckoutSessions.Get(providerRef, p)
	if err != nil {
		return Status{}, fmt.Errorf("retrieve checkout %s: %w", providerRef, s.stripeError(ctx, err, "checkout session"))
	}
	return sessionStatus(sess)
}

func sessionStatus(sess *stripe.CheckoutSession) (Status, error) {
	st := Status{
		Provider:    StripeName,
		ProviderRef: sess.ID,
		Amount:      Money{Amount: sess.AmountTotal, Currency: strings.ToUpper(string(sess.Currency))},
		Purpose:     Purpose(sess.Metadata[metaPurpose]),
		Reference:   sess.Metadata[metaReference],
	}
	if !st.Purpose.Valid() {
		st.Purpose, st.Reference = parseClientReference(sess.ClientReferenceID)
	}
	if sess.PaymentIntent != nil {
		st.PaymentRef = sess.PaymentIntent.ID
	}
	if sess.ExpiresAt > 0 {
		st.ExpiresAt = time.Unix(sess.ExpiresAt, 0).UTC()
	}
	switch sess.Status {
	case stripe.CheckoutSessionStatusOpen:
		st.State = StateOpen
	case stripe.CheckoutSessionStatusExpired:
		st.State = StateExpired
	case stripe.CheckoutSessionStatusComplete:
		if sess.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid {
			st.State = StatePaid
		} else {
			st.State = StateProcessing
		}
	default:
		return Status{}, errs.Wrap(errs.Unavailable, fmt.Errorf("checkout session %s has status %q", sess.ID, sess.Status),
			"the card payment service gave an unexpected answer; try again").WithRetryAfter(StripeRetryAfter)
	}
	return st, nil
}

// parseClientReference reads "order:42" back into its purpose and reference.
func parseClientReference(s string) (Purpose, string) {
	p, ref, ok := strings.Cut(s, ":")
	if !ok || !Purpose(p).Valid() || ref == "" {
		return "", ""
	}
	return Purpose(p), ref
}

// CancelCheckout expires an open Checkout Session. An expired session is
// left as it is; a completed one returns errs.Conflict (it was paid or is
// being paid: refund it instead).
func (s *Stripe) CancelCheckout(ctx context.Context, providerRef string) error {
	if err := checkRef("provider_ref", providerRef); err != nil {
		return err
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	p := &stripe.CheckoutSessionExpireParams{}
	p.Context = ctx
	// Expiring is naturally idempotent; the key only makes stripe-go's own
	// retries explicit.
	p.SetIdempotencyKey("souk-expire-" + providerRef)
	_, err := s.api.CheckoutSessions.Expire(providerRef, p)
	if err == nil {
		return nil
	}
	var se *stripe.Error
	if !errors.As(err, &se) || se.Type != stripe.ErrorTypeInvalidRequest || se.HTTPStatusCode == http.StatusNotFound {
		return fmt.Errorf("cancel checkout %s: %w", providerRef, s.stripeError(ctx, err, "checkout session"))
	}
	// Stripe refuses to expire a session that is not open: find out why.
	st, rerr := s.Retrieve(ctx, providerRef)
	if rerr != nil {
		return fmt.Errorf("cancel checkout %s: %w", providerRef, rerr)
	}
	switch st.State {
	case StateExpired:
		return nil
	case StatePaid, StateProcessing:
		return fmt.Errorf("cancel checkout %s: %w", providerRef,
			errs.E(errs.Conflict, "the checkout was already completed; refund the payment instead"))
	}
	return fmt.Errorf("cancel checkout %s: %w", providerRef, s.stripeError(ctx, err, "checkout session"))
}

// Refund refunds a payment intent, in part (Amount) or in full (Amount 0).
// It returns errs.Conflict when the payment was already refunded in full or
// is disputed, errs.Invalid when the amount exceeds what is left,
// errs.NotFound for an unknown payment, and the errors of StartCheckout
// otherwise.
func (s *Stripe) Refund(ctx context.Context, req RefundRequest) (Refund, error) {
	if err := req.Validate(); err != nil {
		return Refund{}, fmt.Errorf("refund: %w", err)
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	reason := req.Reason
	if reason == "" {
		reason = RefundRequestedByCustomer
	}
	p := &stripe.RefundParams{
		PaymentIntent: stripe.String(req.PaymentRef),
		Reason:        stripe.String(string(reason)),
	}
	if req.Amount > 0 {
		p.Amount = stripe.Int64(req.Amount)
	}
	if req.Note != "" {
		p.AddMetadata("note", req.Note)
	}
	p.Context = ctx
	p.SetIdempotencyKey(req.IdempotencyKey)
	r, err := s.api.Refunds.New(p)
	if err != nil {
		return Refund{}, fmt.Errorf("refund %s: %w", req.PaymentRef, s.stripeError(ctx, err, "payment"))
	}
	out := Refund{
		ID:         r.ID,
		PaymentRef: req.PaymentRef,
		Amount:     Money{Amount: r.Amount, Currency: strings.ToUpper(string(r.Currency))},
		Status:     RefundStatus(r.Status),
	}
	if r.PaymentIntent != nil && r.PaymentIntent.ID != "" {
		out.PaymentRef = r.PaymentIntent.ID
	}
	return out, nil
}

func checkRef(field, ref string) error {
	if strings.TrimSpace(ref) == "" || len(ref) > maxKeyLen {
		return errs.InvalidField(field, "is required (at most %d bytes)", maxKeyLen)
	}
	return nil
}

// stripeError turns what stripe-go returns into an errs code with a message
// safe to show. The messages written here never hold the key; the cause is
// kept for logs with the key scrubbed from its text, because an API that
// echoes the Authorization header back (stripe-mock does, a proxy might)
// would otherwise put it in the log of an Internal error.
func (s *Stripe) stripeError(ctx context.Context, err error, what string) error {
	err = redacted{err: err, secret: s.key}
	var se *stripe.Error
	if !errors.As(err, &se) {
		// No answer from Stripe: refused or dropped connection, timeout,
		// a body that is not Stripe's JSON (a proxy's error page).
		msg := "the card payment service cannot be reached; try again in a moment"
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			msg = "the card payment service did not answer in time; try again in a moment"
		}
		return errs.Wrap(errs.Unavailable, err, "%s", msg).WithRetryAfter(StripeRetryAfter)
	}
	status := se.HTTPStatusCode
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return errs.Wrap(errs.Unavailable, err, "the card payment service is busy or failing; try again in a moment").
			WithRetryAfter(StripeRetryAfter)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// Our key is wrong or lacks a permission: an operator must act, so
		// it is an internal error (logged), not the client's fault.
		return errs.Wrap(errs.Internal, err, "card payments are misconfigured")
	case se.Type == stripe.ErrorTypeIdempotency:
		return errs.Wrap(errs.Conflict, err, "this payment request was already made with different details")
	case status == http.StatusNotFound || se.Code == stripe.ErrorCodeResourceMissing:
		return errs.Wrap(errs.NotFound, err, "no such %s at the card payment service", what)
	case status == http.StatusConflict:
		return errs.Wrap(errs.Conflict, err, "the card payment service is busy with the same request; try again").
			WithRetryAfter(time.Second)
	case se.Code == stripe.ErrorCodeChargeAlreadyRefunded || se.Code == stripe.ErrorCodeChargeDisputed ||
		se.Code == stripe.ErrorCodePaymentIntentUnexpectedState:
		return errs.Wrap(errs.Conflict, err, "the %s cannot be changed in its current state: %s", what, stripeMessage(se))
	case se.Type == stripe.ErrorTypeCard:
		e := errs.Wrap(errs.Invalid, err, "the card was declined: %s", stripeMessage(se))
		if se.DeclineCode != "" {
			e = e.WithExtra("decline_code", string(se.DeclineCode))
		}
		return e
	}
	e := errs.Wrap(errs.Invalid, err, "the card payment service refused the request: %s", stripeMessage(se))
	if se.Param != "" {
		e.Fields = []errs.FieldError{{Field: se.Param, Message: stripeMessage(se)}}
	}
	return e
}

// redacted is an error whose text never shows secret.
type redacted struct {
	err    error
	secret string
}

// Error returns the cause's text with the secret scrubbed.
func (r redacted) Error() string {
	msg := r.err.Error()
	if r.secret == "" {
		return msg
	}
	return strings.ReplaceAll(msg, r.secret, redactKey(r.secret))
}

// Unwrap returns the cause.
func (r redacted) Unwrap() error { return r.err }

// redactKey keeps a key's prefix and last four characters, as Stripe does.
func redactKey(k string) string {
	prefix := k[:min(len(k), 8)] // sk_test_, sk_live_, rk_live_
	if len(k) <= 12 {
		return prefix + "****"
	}
	return prefix + "****" + k[len(k)-4:]
}

func stripeMessage(se *stripe.Error) string {
	if se.Msg != "" {
		return se.Msg
	}
	if se.Code != "" {
		return string(se.Code)
	}
	return "no reason given"
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// stripeLogger sends stripe-go's messages to slog. Its debug messages (full
// response bodies, with buyers' e-mail addresses) are dropped; its "errors"
// are ordinary refusals the caller handles, so they are warnings.
type stripeLogger struct{ log *slog.Logger }

// Debugf drops the message.
func (l stripeLogger) Debugf(string, ...any) {}

// Infof logs at debug level.
func (l stripeLogger) Infof(format string, v ...any) {
	if l.log != nil {
		l.log.Debug("stripe: " + fmt.Sprintf(format, v...))
	}
}

// Warnf logs at warn level.
func (l stripeLogger) Warnf(format string, v ...any) {
	if l.log != nil {
		l.log.Warn("stripe: " + fmt.Sprintf(format, v...))
	}
}

// Errorf logs at warn level.
func (l stripeLogger) Errorf(format string, v ...any) {
	if l.log != nil {
		l.log.Warn("stripe: " + fmt.Sprintf(format, v...))
	}
}
