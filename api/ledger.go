package api

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/storefront"
)

// ledgerRoutes are the marketplace money: deliveries, refunds per
// fulfilment, the cooperatives' ledgers, statements and payouts.
func (s *Server) ledgerRoutes() []Route {
	return []Route{
		// Members of the parcel's cooperative (checked in storefront).
		{"POST", "/api/v1/fulfilments/:id/deliver", Authenticated, s.deliverFulfilment},
		{"GET", "/api/v1/cooperatives/:id/ledger", CooperativeMember("id"), s.showLedger},
		{"GET", "/api/v1/cooperatives/:id/statements/:month", CooperativeMember("id"), s.showStatement},
		{"POST", "/api/v1/admin/cooperatives/:id/payouts", AdminOnly, s.createPayout},
		{"POST", "/api/v1/admin/fulfilments/:id/refunds", AdminOnly, s.refundFulfilment},
		{"GET", "/api/v1/admin/reports/sales", AdminOnly, s.salesReport},
	}
}

// deliverFulfilment records that a parcel reached its buyer. Cash on
// delivery is paid then: the parcel's sale enters the ledger, and the last
// parcel of an order makes the order and its payment paid.
func (s *Server) deliverFulfilment(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such fulfilment")
	if err != nil {
		return err
	}
	d, err := s.deliver(c.UserContext(), cat, principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// deliver records a delivery, marks a cash-on-delivery payment paid with
// the last parcel, and e-mails the buyer.
func (s *Server) deliver(ctx context.Context, cat *storefront.Service, p *account.Principal, id int64) (storefront.Delivery, error) {
	d, err := cat.DeliverFulfilment(ctx, p, id, func(tx *gorm.DB, o storefront.Order) error {
		return s.markCODPaid(ctx, tx, o)
	})
	if err != nil {
		return storefront.Delivery{}, err
	}
	f := d.Fulfilment
	s.mailOrder(ctx, orderNotice{Event: orderDeliveredEvent, OrderID: d.OrderID, Fulfilment: &f})
	return d, nil
}

// markCODPaid marks an order's cash-on-delivery payment paid inside tx:
// the courier handed over the last parcel and its cash.
func (s *Server) markCODPaid(ctx context.Context, tx *gorm.DB, o storefront.Order) error {
	if s.deps.PaymentStore == nil {
		return nil
	}
	ps, err := s.deps.PaymentStore.ListPayments(ctx, tx, payment.PurposeOrder, strconv.FormatInt(o.ID, 10))
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.Method == payment.MethodCOD && p.Status == payment.PaymentPending {
			if _, _, err := s.deps.PaymentStore.SetPaymentStatus(ctx, tx, p.ID, payment.PaymentPaid); err != nil {
				return err
			}
		}
	}
	return nil
}

// showLedger answers a page of a cooperative's ledger, newest first, with
// its balance.
func (s *Server) showLedger(c *fiber.Ctx) error {
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
	l, err := cat.ListLedger(c.UserContext(), id, pg.Page, pg.PerPage)
	if err != nil {
		return err
	}
	return c.JSON(l)
}

// wantsCSV reads ?format= (json or csv), else the Accept header.
func wantsCSV(c *fiber.Ctx, f *errs.Fields) bool {
	switch c.Query("format") {
	case "csv":
		return true
	case "json":
		return false
	case "":
		accept := c.Get(fiber.HeaderAccept)
		return strings.Contains(accept, "text/csv") && !strings.Contains(accept, "application/json")
	}
	f.Add("format", "must be json or csv")
	return false
}

// formatCentimes writes centimes as a decimal amount with a dot ("-12.50"),
// for spreadsheets.
func formatCentimes(v int64) string { return storefront.FormatMAD(v) }

// showStatement answers a cooperative's monthly statement (YYYY-MM,
// Africa/Casablanca) as JSON, or as CSV with ?format=csv or Accept:
// text/csv: an opening row, one row per entry with the running balance,
// and a closing row.
func (s *Server) showStatement(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var f errs.Fields
	csv := wantsCSV(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	st, err := cat.MonthlyStatement(c.UserContext(), id, c.Params("month"))
	if err != nil {
		return err
	}
	if !csv {
		return c.JSON(st)
	}
	rows := [][]string{{"date", "kind", "order", "memo", "amount", "balance", "currency"}}
	rows = append(rows, []string{st.From.In(storefront.Zone).Format("2006-01-02"), "opening_balance", "", "", "", formatCentimes(st.Opening), st.Currency})
	bal := st.Opening
	for _, e := range st.Entries {
		bal += e.Amount
		rows = append(rows, []string{e.OccurredAt.In(storefront.Zone).Format("2006-01-02 15:04"), string(e.Kind), e.OrderNumber, e.Memo,
			formatCentimes(e.Amount), formatCentimes(bal), e.Currency})
	}
	last := st.To.Add(-time.Second).In(storefront.Zone).Format("2006-01-02")
	rows = append(rows, []string{last, "closing_balance", "", "", "", formatCentimes(st.Closing), st.Currency})
	return sendCSV(c, fmt.Sprintf("statement-%d-%s.csv", id, st.Month), rows)
}

type payoutRequest struct {
	Amount    int64           `json:"amount"`
	Currency  string          `json:"currency"`
	Reference string          `json:"reference"`
	PaidOn    storefront.Date `json:"paid_on"`
}

// createPayout records a bank transfer to a cooperative's RIB (never
// through Stripe). The same Idempotency-Key records it once.
func (s *Server) createPayout(c *fiber.Ctx) error {
	if _, err := s.catalog(); err != nil {
		return err
	}
	id, err := cooperativeParam(c, "id")
	if err != nil {
		return err
	}
	var in payoutRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	p, replayed, err := s.RecordPayout(c.UserContext(), principal(c), storefront.PayoutInput{CooperativeID: id, Amount: in.Amount, Currency: in.Currency,
		Reference: in.Reference, PaidOn: in.PaidOn, IdempotencyKey: key})
	if err != nil {
		return err
	}
	if replayed {
		return c.JSON(p)
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

type refundRequest struct {
	Amount int64  `json:"amount"`
	Reason string `json:"reason"`
}

// resumeAfter is how long a pending card refund is left to the request
// that started it before a repeated request with the same key resumes it.
const resumeAfter = 2 * time.Minute

// refundFulfilment refunds part of a parcel, never more than it was paid
// less earlier refunds: a card payment through the provider (with an
// idempotency key derived from the refund), a delivered cash-on-delivery
// parcel in cash. The same Idempotency-Key refunds once. The provider
// unreachable answers 503 with Retry-After and writes nothing.
func (s *Server) refundFulfilment(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	id, err := idParam(c, "id", "no such fulfilment")
	if err != nil {
		return err
	}
	var in refundRequest
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	r, replayed, err := cat.BeginRefund(ctx, storefront.RefundInput{FulfilmentID: id, Amount: in.Amount, Reason: in.Reason,
		IdempotencyKey: key, By: principal(c).UserID})
	if err != nil {
		return err
	}
	if r.Status == storefront.RefundPending {
		if replayed && time.Since(r.CreatedAt) < resumeAfter {
			return errs.E(errs.Conflict, "this refund is being made; repeat the request in a moment for its outcome").WithRetryAfter(5 * time.Second)
		}
		if r, err = s.makeCardRefund(ctx, r, !replayed); err != nil {
			return err
		}
		replayed = false
	}
	if replayed {
		return c.JSON(r)
	}
	s.mailOrder(ctx, orderNotice{Event: orderRefundedEvent, OrderID: r.OrderID, Amount: r.Amount})
	return c.Status(fiber.StatusCreated).JSON(r)
}

// makeCardRefund asks the provider for a pending card refund and records
// the outcome: done, or forgotten when the provider refused or could not be
// reached (nothing written; 503 with Retry-After for the latter). owner is
// false for a request resuming another's refund: it only forgets the
// refund when the provider answered that it refused it.
func (s *Server) makeCardRefund(ctx context.Context, r storefront.Refund, owner bool) (storefront.Refund, error) {
	cat := s.deps.Catalog
	abandon := func() {
		if err := cat.AbandonRefund(context.WithoutCancel(ctx), r.ID); err != nil {
			s.log.ErrorContext(ctx, "forget a refund the provider did not make", "refund", r.ID, "err", err)
		}
	}
	pay, ok, err := s.cardPayment(ctx, r.OrderID)
	if err != nil {
		abandon()
		return r, err
	}
	if !ok || pay.Method != payment.MethodCard || pay.PaymentRef == nil || s.deps.Payments == nil {
		abandon()
		return r, errs.E(errs.Unavailable, "card refunds are not available on this server").WithRetryAfter(payment.StripeRetryAfter)
	}
	note := r.Reason
	if len(note) > 500 {
		note = note[:500]
	}
	made, err := s.deps.Payments.Refund(ctx, payment.RefundRequest{PaymentRef: *pay.PaymentRef, Amount: r.Amount,
		Reason: payment.RefundRequestedByCustomer, Note: note, IdempotencyKey: fmt.Sprintf("souk-refund-%d", r.ID)})
	if err != nil {
		unreachable := errs.Is(err, errs.Unavailable) || errs.CodeOf(err) == errs.Internal
		if owner || !unreachable {
			abandon()
		}
		if unreachable {
			return r, errs.Wrap(errs.Unavailable, err, "card refunds cannot be reached right now; nothing was refunded or recorded: try again in a moment").
				WithRetryAfter(payment.StripeRetryAfter)
		}
		return r, err
	}
	return cat.CompleteRefund(ctx, r.ID, made.ID, func(tx *gorm.DB, _ storefront.Refund, total int64) error {
		_, _, err := s.deps.PaymentStore.RecordRefund(ctx, tx, pay.ID, total)
		return err
	})
}

// refundCancelledOrder gives back what is left paid on a card order
// cancelled before shipment: one pending refund per parcel, one provider
// refund for their total (its key derived from the order, so a repeated
// cancellation refunds once), then each parcel's refund in its ledger. It
// returns the amount refunded by this call.
func (s *Server) refundCancelledOrder(ctx context.Context, o storefront.Order, pay payment.Payment) (int64, error) {
	cat := s.deps.Catalog
	rs, err := cat.BeginOrderRefunds(ctx, o.ID, "order "+o.Number+" cancelled before shipment")
	if err != nil {
		return 0, err
	}
	var total int64
	for _, r := range rs {
		total += r.Amount
	}
	if total == 0 {
		return 0, nil
	}
	made, err := s.deps.Payments.Refund(ctx, payment.RefundRequest{PaymentRef: *pay.PaymentRef, Amount: total, Reason: payment.RefundRequestedByCustomer,
		Note: "order " + o.Number + " cancelled before shipment", IdempotencyKey: fmt.Sprintf("order-%d-cancel-refund", o.ID)})
	if err != nil {
		for _, r := range rs {
			if aerr := cat.AbandonRefund(context.WithoutCancel(ctx), r.ID); aerr != nil {
				s.log.ErrorContext(ctx, "forget a refund the provider did not make", "refund", r.ID, "err", aerr)
			}
		}
		return 0, err
	}
	for _, r := range rs {
		if _, err := cat.CompleteRefund(ctx, r.ID, made.ID, func(tx *gorm.DB, _ storefront.Refund, total int64) error {
			_, _, err := s.deps.PaymentStore.RecordRefund(ctx, tx, pay.ID, total)
			return err
		}); err != nil {
			return 0, err
		}
	}
	return total, nil
}

// salesReport answers, per cooperative, the sales, commission, refunds and
// payouts of the days from to to (inclusive; by default this month to
// today, Africa/Casablanca) and each balance at the end, as JSON or CSV.
func (s *Server) salesReport(c *fiber.Ctx) error {
	cat, err := s.catalog()
	if err != nil {
		return err
	}
	var f errs.Fields
	now := time.Now().In(storefront.Zone)
	from := queryDate(c, &f, "from", storefront.NewDate(now.Year(), now.Month(), 1))
	to := queryDate(c, &f, "to", storefront.DateOf(now))
	csv := wantsCSV(c, &f)
	if err := f.Err(); err != nil {
		return err
	}
	rows, err := cat.SalesReport(c.UserContext(), from, to)
	if err != nil {
		return err
	}
	if !csv {
		return c.JSON(fiber.Map{"from": from, "to": to, "currency": storefront.Currency, "items": rows})
	}
	out := [][]string{{"cooperative_id", "slug", "name", "gross_sales", "commission", "refunds", "net", "payouts", "balance", "currency"}}
	for _, r := range rows {
		out = append(out, []string{strconv.FormatInt(r.CooperativeID, 10), r.Slug, r.Name, formatCentimes(r.GrossSales),
			formatCentimes(r.Commission), formatCentimes(r.Refunds), formatCentimes(r.Net), formatCentimes(r.Payouts),
			formatCentimes(r.Balance), r.Currency})
	}
	return sendCSV(c, fmt.Sprintf("sales-%s-%s.csv", from, to), out)
}

// queryDate reads an optional YYYY-MM-DD query parameter, or def when
// absent.
func queryDate(c *fiber.Ctx, f *errs.Fields, name string, def storefront.Date) storefront.Date {
	v := c.Query(name)
	if v == "" {
		return def
	}
	d, err := storefront.ParseDate(v)
	if err != nil {
		f.Add(name, "must be a date YYYY-MM-DD")
	}
	return d
}
