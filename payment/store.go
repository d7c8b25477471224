package payment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Store reads and writes the payments table and the processed-event log.
// It keeps no state between calls: any number of Stores in any number of
// processes may share one database. Methods that take a tx run inside the
// caller's transaction, so that a payment and the order or booking it pays
// commit together; a nil tx runs on the Store's database.
type Store struct {
	db *database.DB
	// Now is the clock of the rows' timestamps. Tests replace it.
	Now func() time.Time
}

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store {
	return &Store{db: db, Now: time.Now}
}

// now is the current instant as both databases store it exactly.
func (s *Store) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

func (s *Store) conn(ctx context.Context, tx *gorm.DB) *gorm.DB {
	if tx == nil {
		return s.db.WithContext(ctx)
	}
	return tx.WithContext(ctx)
}

// ApplyOnce makes an event take effect once, whatever the retries,
// duplicates or order of deliveries (rule 4). Inside the caller's
// transaction tx it records the event in payment_events under its primary
// key (provider, event id), then runs apply with the same tx. When the
// event was recorded before, the insert meets the key and ApplyOnce returns
// applied=false without running apply. When apply fails its error is
// returned, and the caller's rollback takes the record away with the
// effect, so that the provider's next delivery tries again.
//
// Two deliveries of one event at the same moment are serialised by the
// database: on MySQL the second insert waits for the first transaction's
// key lock and then meets the duplicate; on SQLite write transactions are
// already serialised. Run ApplyOnce inside database.(*DB).Transact so that
// a deadlock in that wait is retried.
//
// An event with no ID or provider returns errs.Invalid.
func (s *Store) ApplyOnce(ctx context.Context, tx *gorm.DB, ev Event, apply func(tx *gorm.DB) error) (applied bool, err error) {
	if tx == nil {
		return false, errors.New("apply event once: a transaction is required")
	}
	if ev.ID == "" || len(ev.ID) > maxKeyLen || ev.Provider == "" || len(ev.Provider) > 20 {
		return false, errs.E(errs.Invalid, "an event needs an id (at most %d bytes) and a provider", maxKeyLen)
	}
	tx = tx.WithContext(ctx)
	received := s.now()
	err = tx.Exec("INSERT INTO payment_events (provider, event_id, type, purpose, reference, received_at, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		ev.Provider, ev.ID, truncate(string(ev.Type), 100), truncate(string(ev.Purpose), 20), truncate(ev.Reference, maxRefLen), received, received).Error
	if err != nil {
		if database.IsDuplicate(err) {
			return false, nil // already applied
		}
		return false, fmt.Errorf("record event %s: %w", ev.ID, database.Translate(err))
	}
	if err := apply(tx); err != nil {
		return false, fmt.Errorf("apply event %s: %w", ev.ID, err)
	}
	if err := tx.Exec("UPDATE payment_events SET processed_at = ? WHERE provider = ? AND event_id = ?",
		s.now(), ev.Provider, ev.ID).Error; err != nil {
		return false, fmt.Errorf("record event %s: %w", ev.ID, database.Translate(err))
	}
	return true, nil
}

// EventProcessed reports whether an event has taken effect.
func (s *Store) EventProcessed(ctx context.Context, provider, eventID string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Raw("SELECT COUNT(*) FROM payment_events WHERE provider = ? AND event_id = ?", provider, eventID).Scan(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up event %s: %w", eventID, database.Translate(err))
	}
	return n > 0, nil
}

// PruneEvents deletes the records of events received before cutoff and
// returns how many went. Stripe stops retrying an event after three days,
// so a cutoff of a month or more keeps rule 4; the sweeper may run it in
// every instance at once.
func (s *Store) PruneEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec("DELETE FROM payment_events WHERE received_at < ?", cutoff.UTC())
	if res.Error != nil {
		return 0, fmt.Errorf("prune payment events: %w", database.Translate(res.Error))
	}
	return res.RowsAffected, nil
}

// PaymentStatus is where a payment stands in the payments table.
type PaymentStatus string

// The payment statuses.
const (
	PaymentPending           PaymentStatus = "pending"            // waiting: an open checkout, a COD parcel on its way
	PaymentProcessing        PaymentStatus = "processing"         // submitted; an asynchronous method is settling
	PaymentPaid              PaymentStatus = "paid"               // the money is in
	PaymentFailed            PaymentStatus = "failed"             // the payment was refused
	PaymentExpired           PaymentStatus = "expired"            // the checkout closed without payment
	PaymentCancelled         PaymentStatus = "cancelled"          // given up before payment (order cancelled, parcel refused)
	PaymentPartiallyRefunded PaymentStatus = "partially_refunded" // part of the money went back
	PaymentRefunded          PaymentStatus = "refunded"           // all of it went back
)

// transitions lists the statuses each status may move to. Webhooks arrive
// in any order: a move that is not listed is a late or stale event and
// changes nothing.
var transitions = map[PaymentStatus][]PaymentStatus{
	PaymentPending:           {PaymentProcessing, PaymentPaid, PaymentFailed, PaymentExpired, PaymentCancelled},
	PaymentProcessing:        {PaymentPaid, PaymentFailed},
	PaymentPaid:              {PaymentPartiallyRefunded, PaymentRefunded},
	PaymentPartiallyRefunded: {PaymentPartiallyRefunded, PaymentRefunded},
}

// CanMove reports whether a payment may go from status from to status to.
func CanMove(from, to PaymentStatus) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// sourcesOf lists the statuses from which to can be reached.
func sourcesOf(to PaymentStatus) []PaymentStatus {
	var out []PaymentStatus
	for from, tos := range transitions {
		for _, t := range tos {
			if t == to {
				out = append(out, from)
			}
		}
	}
	return out
}

// Payment is one payment of an order or a booking.
type Payment struct {
	ID             int64         `json:"id"`
	Purpose        Purpose       `json:"purpose"`
	Reference      string        `json:"reference"`
	Method         Method        `json:"method"`
	Amount         int64         `json:"amount"`
	Currency       string        `json:"currency"`
	AmountRefunded int64         `json:"amount_refunded"`
	Status         PaymentStatus `json:"status"`
	Provider       *string       `json:"provider,omitempty"`
	ProviderRef    *string       `json:"provider_ref,omitempty"`
	PaymentRef     *string       `json:"payment_ref,omitempty"`
	ReceiptNumber  *string       `json:"receipt_number,omitempty"`
	RecordedBy     *int64        `json:"recorded_by,omitempty"`
	Note           string        `json:"note,omitempty"`
	PaidAt         *time.Time    `json:"paid_at,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	UpdatedAt      time.Time     `json:"updated_at"`
}

// TableName is the payments table.
func (Payment) TableName() string { return "payments" }

// Money returns the payment's amount with its currency.
func (p Payment) Money() Money { return Money{Amount: p.Amount, Currency: p.Currency} }

// NewPayment is a payment to record: a card payment when its checkout
// opens, a cash-on-delivery payment when the order is placed.
type NewPayment struct {
	Purpose     Purpose
	Reference   string
	Method      Method // card or cod; office payments go through RecordOfficePayment
	Amount      Money
	Provider    string // Checkout.Provider, for card
	ProviderRef string // Checkout.ProviderRef, for card
}

func (in NewPayment) validate() error {
	var f errs.Fields
	if !in.Purpose.Valid() {
		f.Add("purpose", "must be order or booking")
	}
	if strings.TrimSpace(in.Reference) == "" || len(in.Reference) > maxRefLen {
		f.Add("reference", "is required (at most %d bytes)", maxRefLen)
	}
	switch in.Method {
	case MethodCard:
		if in.Provider == "" || len(in.Provider) > 20 {
			f.Add("provider", "is required for a card payment")
		}
		if in.ProviderRef == "" || len(in.ProviderRef) > maxKeyLen {
			f.Add("provider_ref", "is required for a card payment")
		}
	case MethodCOD:
		if in.Provider != "" || in.ProviderRef != "" {
			f.Add("provider", "must be empty for cash on delivery")
		}
		if validCurrency(in.Amount.Currency) && !strings.EqualFold(in.Amount.Currency, "MAD") {
			f.Add("currency", "cash on delivery is paid in dirhams (MAD)")
		}
	default:
		f.Add("method", "must be card or cod (office payments are recorded with RecordOfficePayment)")
	}
	addAmountErrors(&f, in.Amount)
	return f.Err()
}

func addAmountErrors(f *errs.Fields, m Money) {
	if m.Amount <= 0 {
		f.Add("amount", "must be a positive number of minor units")
	}
	if !validCurrency(m.Currency) {
		f.Add("currency", "must be a three-letter ISO 4217 code such as MAD")
	}
}

// CreatePayment records a pending card or cash-on-delivery payment in tx.
// It returns errs.Invalid for a bad input and errs.Conflict when the
// checkout is already recorded.
func (s *Store) CreatePayment(ctx context.Context, tx *gorm.DB, in NewPayment) (Payment, error) {
	if err := in.validate(); err != nil {
		return Payment{}, fmt.Errorf("create payment: %w", err)
	}
	now := s.now()
	p := Payment{
		Purpose: in.Purpose, Reference: in.Reference, Method: in.Method,
		Amount: in.Amount.Amount, Currency: strings.ToUpper(in.Amount.Currency),
		Status: PaymentPending, CreatedAt: now, UpdatedAt: now,
	}
	if in.Method == MethodCard {
		p.Provider, p.ProviderRef = &in.Provider, &in.ProviderRef
	}
	if err := s.conn(ctx, tx).Create(&p).Error; err != nil {
		if database.IsDuplicate(err) {
			return Payment{}, fmt.Errorf("create payment: %w", errs.Wrap(errs.Conflict, err, "this checkout is already recorded"))
		}
		return Payment{}, fmt.Errorf("create payment for %s %s: %w", in.Purpose, in.Reference, database.Translate(err))
	}
	return p, nil
}

// FindPayment returns a payment by id, or errs.NotFound.
func (s *Store) FindPayment(ctx context.Context, tx *gorm.DB, id int64) (Payment, error) {
	var p Payment
	if err := s.conn(ctx, tx).Where("id = ?", id).Take(&p).Error; err != nil {
		return Payment{}, fmt.Errorf("find payment %d: %w", id, database.Translate(err))
	}
	return p, nil
}

// FindPaymentByProviderRef returns the payment of a provider's checkout, or
// errs.NotFound.
func (s *Store) FindPaymentByProviderRef(ctx context.Context, tx *gorm.DB, provider, providerRef string) (Payment, error) {
	var p Payment
	err := s.conn(ctx, tx).Where("provider = ? AND provider_ref = ?", provider, providerRef).Take(&p).Error
	if err != nil {
		return Payment{}, fmt.Errorf("find payment of checkout %s: %w", providerRef, database.Translate(err))
	}
	return p, nil
}

// findByPaymentRef returns the payment a provider's payment id belongs to.
func (s *Store) findByPaymentRef(ctx context.Context, tx *gorm.DB, provider, paymentRef string) (Payment, error) {
	var p Payment
	err := s.conn(ctx, tx).Where("provider = ? AND payment_ref = ?", provider, paymentRef).Order("id DESC").Take(&p).Error
	if err != nil {
		return Payment{}, fmt.Errorf("find payment %s: %w", paymentRef, database.Translate(err))
	}
	return p, nil
}

// ListPayments returns the payments of an order or a booking, oldest first.
func (s *Store) ListPayments(ctx context.Context, tx *gorm.DB, purpose Purpose, reference string) ([]Payment, error) {
	var out []Payment
	err := s.conn(ctx, tx).Where("purpose = ? AND reference = ?", purpose, reference).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list payments of %s %s: %w", purpose, reference, database.Translate(err))
	}
	return out, nil
}

// ListStalePayments returns card payments still pending or processing that
// were created before cutoff, oldest first, at most limit of them: the
// ones a reconciliation sweep should Retrieve.
func (s *Store) ListStalePayments(ctx context.Context, cutoff time.Time, limit int) ([]Payment, error) {
	var out []Payment
	err := s.db.WithContext(ctx).Where("method = ? AND status IN ? AND created_at < ?",
		MethodCard, []PaymentStatus{PaymentPending, PaymentProcessing}, cutoff.UTC()).
		Order("created_at").Limit(max(1, limit)).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list stale payments: %w", database.Translate(err))
	}
	return out, nil
}

// SetPaymentStatus moves a payment to status to in tx: a cash-on-delivery
// parcel paid or refused, an order cancelled before payment. It reports
// whether the row changed: moving a payment to the status it already has
// changes nothing and is not an error. It returns errs.Conflict for a move
// the payment's status forbids (see CanMove) and errs.NotFound for an
// unknown payment.
func (s *Store) SetPaymentStatus(ctx context.Context, tx *gorm.DB, id int64, to PaymentStatus) (Payment, bool, error) {
	if to == PaymentPartiallyRefunded || to == PaymentRefunded {
		return Payment{}, false, errs.E(errs.Invalid, "refunds are recorded with RecordRefund")
	}
	p, err := s.FindPayment(ctx, tx, id)
	if err != nil {
		return Payment{}, false, err
	}
	if p.Status == to {
		return p, false, nil
	}
	changed, err := s.move(ctx, tx, &p, to, nil)
	if err != nil {
		return Payment{}, false, err
	}
	if !changed {
		return Payment{}, false, fmt.Errorf("payment %d: %w", id,
			errs.E(errs.Conflict, "the payment is %s and cannot become %s", p.Status, to))
	}
	return p, true, nil
}

// move changes p's status to to with extra column changes, only if p is in
// one of the statuses to may come from: the condition in the UPDATE makes
// concurrent moves safe without a lock. p is updated when it changed;
// otherwise it is reloaded so the caller sees the current state.
func (s *Store) move(ctx context.Context, tx *gorm.DB, p *Payment, to PaymentStatus, changes map[string]any) (bool, error) {
	now := s.now()
	set := map[string]any{"status": to, "updated_at": now}
	if to == PaymentPaid {
		set["paid_at"] = now
	}
	for k, v := range changes {
		set[k] = v
	}
	res := s.conn(ctx, tx).Model(&Payment{}).Where("id = ? AND status IN ?", p.ID, sourcesOf(to)).Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("update payment %d: %w", p.ID, database.Translate(res.Error))
	}
	fresh, err := s.FindPayment(ctx, tx, p.ID)
	if err != nil {
		return false, err
	}
	*p = fresh
	return res.RowsAffected > 0, nil
}

// UpdatePaymentFromEvent brings the card payment an event is about up to
// date in tx, and reports whether it changed — the signal to change the
// order or booking, so that a webhook and a reconciliation reporting the
// same payment confirm it once:
//
//	checkout completed and paid, async succeeded → paid
//	checkout completed, not yet paid             → processing
//	async failed                                 → failed
//	checkout expired                             → expired
//	charge refunded                              → partially_refunded or refunded, with the running total
//	payment failed                               → no change (the buyer may try again)
//
// An event that arrives late (an expiry after the payment) changes nothing.
// It returns errs.NotFound when no payment matches the event (the checkout
// was never recorded, or a refund came before its payment: return the
// error so the provider delivers it again later), errs.Conflict for a
// refund of a payment not marked paid yet (likewise delivered again), and
// errs.Internal when a paid amount or currency differs from the payment's:
// an order is never confirmed for less than is due, and the error is
// logged and the delivery retried until someone looks.
func (s *Store) UpdatePaymentFromEvent(ctx context.Context, tx *gorm.DB, ev Event) (Payment, bool, error) {
	var p Payment
	var err error
	switch {
	case ev.ProviderRef != "":
		p, err = s.FindPaymentByProviderRef(ctx, tx, ev.Provider, ev.ProviderRef)
	case ev.PaymentRef != "":
		p, err = s.findByPaymentRef(ctx, tx, ev.Provider, ev.PaymentRef)
	default:
		return Payment{}, false, errs.E(errs.Invalid, "event %s names no checkout and no payment", ev.ID)
	}
	if err != nil {
		return Payment{}, false, err
	}
	var to PaymentStatus
	changes := map[string]any{}
	if ev.PaymentRef != "" && (p.PaymentRef == nil || *p.PaymentRef != ev.PaymentRef) {
		changes["payment_ref"] = ev.PaymentRef
	}
	switch ev.Type {
	case EventCheckoutCompleted, EventCheckoutAsyncSucceeded:
		to = PaymentProcessing
		if ev.Paid {
			to = PaymentPaid
			if ev.AmountTotal != p.Amount || !strings.EqualFold(ev.Currency, p.Currency) {
				return p, false, errs.E(errs.Internal, "event %s paid %s for payment %d of %s",
					ev.ID, ev.Amount().String(), p.ID, p.Money().String())
			}
		}
	case EventCheckoutAsyncFailed:
		to = PaymentFailed
	case EventCheckoutExpired:
		to = PaymentExpired
	case EventChargeRefunded:
		return s.recordRefunded(ctx, tx, p, ev.AmountRefunded)
	default:
		return p, false, nil
	}
	changed, err := s.move(ctx, tx, &p, to, changes)
	if err != nil {
		return Payment{}, false, err
	}
	if !changed && len(changes) > 0 && p.PaymentRef == nil {
		// A late event still teaches us the payment id (for refunds).
		if err := s.conn(ctx, tx).Model(&Payment{}).Where("id = ? AND payment_ref IS NULL", p.ID).
			Update("payment_ref", ev.PaymentRef).Error; err != nil {
			return Payment{}, false, fmt.Errorf("update payment %d: %w", p.ID, database.Translate(err))
		}
		p.PaymentRef = &ev.PaymentRef
	}
	return p, changed, nil
}

// RecordRefund records in tx that the running total refunded on payment id
// is now refunded (in minor units): after Provider.Refund, or from a
// charge.refunded event. Totals only grow, so events arriving out of order
// never lower them. It returns errs.Conflict for a payment that was never
// paid and errs.Invalid for a total above the amount.
func (s *Store) RecordRefund(ctx context.Context, tx *gorm.DB, id int64, refunded int64) (Payment, bool, error) {
	p, err := s.FindPayment(ctx, tx, id)
	if err != nil {
		return Payment{}, false, err
	}
	return s.recordRefunded(ctx, tx, p, refunded)
}

func (s *Store) recordRefunded(ctx context.Context, tx *gorm.DB, p Payment, refunded int64) (Payment, bool, error) {
	if refunded <= 0 || refunded > p.Amount {
		return Payment{}, false, errs.E(errs.Invalid, "a refunded total of %d does not fit payment %d of %s", refunded, p.ID, p.Money())
	}
	switch p.Status {
	case PaymentPaid, PaymentPartiallyRefunded, PaymentRefunded:
	default:
		return Payment{}, false, errs.E(errs.Conflict, "payment %d is %s: nothing was paid to refund", p.ID, p.Status)
	}
	to := PaymentPartiallyRefunded
	if refunded == p.Amount {
		to = PaymentRefunded
	}
	res := s.conn(ctx, tx).Model(&Payment{}).
		Where("id = ? AND status IN ? AND amount_refunded < ?", p.ID, []PaymentStatus{PaymentPaid, PaymentPartiallyRefunded}, refunded).
		Updates(map[string]any{"status": to, "amount_refunded": refunded, "updated_at": s.now()})
	if res.Error != nil {
		return Payment{}, false, fmt.Errorf("record refund on payment %d: %w", p.ID, database.Translate(res.Error))
	}
	fresh, err := s.FindPayment(ctx, tx, p.ID)
	if err != nil {
		return Payment{}, false, err
	}
	return fresh, res.RowsAffected > 0, nil
}

// ResolveEvent fills an event's Purpose and Reference from the payment it
// is about when the provider did not carry them (refunds), so that the
// webhook handler knows whether to hand it to orders or to bookings. It
// returns the event unchanged when it already names them, and errs.NotFound
// when no payment matches.
func (s *Store) ResolveEvent(ctx context.Context, ev Event) (Event, error) {
	if ev.Purpose.Valid() && ev.Reference != "" {
		return ev, nil
	}
	var p Payment
	var err error
	switch {
	case ev.ProviderRef != "":
		p, err = s.FindPaymentByProviderRef(ctx, nil, ev.Provider, ev.ProviderRef)
	case ev.PaymentRef != "":
		p, err = s.findByPaymentRef(ctx, nil, ev.Provider, ev.PaymentRef)
	default:
		return ev, errs.E(errs.NotFound, "event %s names no checkout and no payment", ev.ID)
	}
	if err != nil {
		return ev, fmt.Errorf("resolve event %s: %w", ev.ID, err)
	}
	ev.Purpose, ev.Reference = p.Purpose, p.Reference
	return ev, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
