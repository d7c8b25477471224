package storefront

// The marketplace's money after an order is paid: deliveries (cash on
// delivery is paid then), the platform's commission, refunds per parcel,
// payouts to cooperatives and each cooperative's ledger.
//
// The ledger is append-only. Every row records one fact and carries a
// unique entry key derived from that fact:
//
//	sale:f<fulfilment>        + what the parcel was paid (goods and shipping)
//	commission:f<fulfilment>  − the commission fixed on its lines at order time
//	refund:r<refund>          − a refund of part of the parcel
//	reversal:r<refund>        + the commission that follows the refunded money back
//	payout:p<payout>          − a bank transfer to the cooperative's RIB
//
// Rows are inserted with ON CONFLICT DO NOTHING on that key, so a webhook
// delivered twice, a retried transaction or two instances doing the same
// work write each fact once: the unique index decides, not process memory.
// The balance is the sum of the rows.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// DefaultCommissionBPS is the platform's commission when none is
// configured: 1000 basis points, 10 % of each line.
const DefaultCommissionBPS = 1000

// MaxCommissionBPS is the highest commission the order lines can hold: the
// whole line.
const MaxCommissionBPS = 10_000

// CommissionOf returns the commission on a line total at bps basis points
// (1/100 of a percent), rounded half up to the centime: 10 % of 12,345
// centimes is 1,234.5 and rounds to 1,235. The product is split so that no
// intermediate value overflows, and no float is involved (rule 3). A
// non-positive total or rate is no commission.
func CommissionOf(lineTotal int64, bps int) int64 {
	if lineTotal <= 0 || bps <= 0 {
		return 0
	}
	q, r := lineTotal/10_000, lineTotal%10_000
	return q*int64(bps) + (r*int64(bps)+5_000)/10_000
}

// CommissionReversal returns the commission that goes back to a cooperative
// when refund more of a parcel is refunded. The commission follows the
// money: once refunds totalling R of a parcel paid P with commission C are
// made, C·R/P (rounded half up) has been reversed in all, and this refund
// reverses the difference between that total after it and before it. So a
// full refund reverses the whole commission exactly, and however a parcel
// is refunded in parts, the reversals add up to the same total.
func CommissionReversal(commission, paid, refundedBefore, refund int64) int64 {
	return proportion(commission, refundedBefore+refund, paid) - proportion(commission, refundedBefore, paid)
}

// proportion is c·r/p rounded half up, with r clamped to [0, p], in exact
// integer arithmetic.
func proportion(c, r, p int64) int64 {
	if p <= 0 || c <= 0 || r <= 0 {
		return 0
	}
	if r >= p {
		return c
	}
	num := new(big.Int).Mul(big.NewInt(c), big.NewInt(r))
	num.Mul(num, big.NewInt(2))
	num.Add(num, big.NewInt(p))
	return num.Quo(num, big.NewInt(2*p)).Int64()
}

// LedgerKind says what a ledger row records.
type LedgerKind string

// The ledger kinds; the sign of each is fixed (a CHECK in the schema).
const (
	LedgerSale               LedgerKind = "sale"                // + a parcel paid (card webhook, or cash on delivery delivered)
	LedgerCommission         LedgerKind = "commission"          // − the platform's commission on that parcel
	LedgerRefund             LedgerKind = "refund"              // − money given back to the buyer
	LedgerCommissionReversal LedgerKind = "commission_reversal" // + the commission on refunded money
	LedgerPayout             LedgerKind = "payout"              // − a bank transfer to the cooperative
)

// LedgerEntry is one row of a cooperative's ledger.
type LedgerEntry struct {
	ID            int64      `json:"id"`
	CooperativeID int64      `json:"cooperative_id"`
	Kind          LedgerKind `json:"kind"`
	// Amount is signed, in centimes of Currency: what the row adds to the
	// cooperative's balance.
	Amount       int64     `json:"amount"`
	Currency     string    `json:"currency"`
	OrderID      *int64    `json:"order_id,omitempty"`
	OrderNumber  string    `json:"order_number,omitempty"`
	FulfilmentID *int64    `json:"fulfilment_id,omitempty"`
	RefundID     *int64    `json:"refund_id,omitempty"`
	PayoutID     *int64    `json:"payout_id,omitempty"`
	Memo         string    `json:"memo,omitempty"`
	OccurredAt   time.Time `json:"occurred_at"`
}

type ledgerRow struct {
	ID            int64
	CooperativeID int64
	Kind          LedgerKind
	Amount        int64
	Currency      string
	OrderID       *int64
	FulfilmentID  *int64
	RefundID      *int64
	PayoutID      *int64
	Memo          string
	EntryKey      string
	OccurredAt    time.Time
	CreatedAt     time.Time
}

func (ledgerRow) TableName() string { return "ledger_entries" }

// writeLedger inserts rows inside tx, each once: a row whose entry key is
// already there is skipped. Rows of amount zero (no commission) are not
// written.
func writeLedger(tx *gorm.DB, rows ...ledgerRow) error {
	for _, r := range rows {
		if r.Amount == 0 {
			continue
		}
		if r.Currency == "" {
			r.Currency = Currency
		}
		r.CreatedAt = r.OccurredAt
		err := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "entry_key"}}, DoNothing: true}).Create(&r).Error
		if err != nil {
			return fmt.Errorf("write ledger entry %s: %w", r.EntryKey, database.Translate(err))
		}
	}
	return nil
}

func int64Ptr(v int64) *int64 { return &v }

// parcelMoney is what the ledger says of one parcel so far.
type parcelMoney struct {
	Paid       int64 // the sale booked (0 before it is paid)
	Commission int64 // the commission booked on that sale, positive
	Refunded   int64 // refunds booked, positive
}

func parcelLedger(tx *gorm.DB, fulfilmentID int64) (parcelMoney, error) {
	var m parcelMoney
	err := tx.Raw(`SELECT
		COALESCE(SUM(CASE WHEN kind = ? THEN amount ELSE 0 END), 0) AS paid,
		COALESCE(SUM(CASE WHEN kind = ? THEN -amount ELSE 0 END), 0) AS commission,
		COALESCE(SUM(CASE WHEN kind = ? THEN -amount ELSE 0 END), 0) AS refunded
		FROM ledger_entries WHERE fulfilment_id = ?`, LedgerSale, LedgerCommission, LedgerRefund, fulfilmentID).Scan(&m).Error
	if err != nil {
		return m, fmt.Errorf("read the ledger of fulfilment %d: %w", fulfilmentID, err)
	}
	return m, nil
}

// bookSale writes a parcel's sale and the commission on it, once.
func bookSale(tx *gorm.DB, f fulfilmentRow, number string, at time.Time) error {
	var commission int64
	if err := tx.Raw("SELECT COALESCE(SUM(commission), 0) FROM order_lines WHERE fulfilment_id = ?", f.ID).Scan(&commission).Error; err != nil {
		return fmt.Errorf("read the commission of fulfilment %d: %w", f.ID, err)
	}
	return writeLedger(tx,
		ledgerRow{CooperativeID: f.CooperativeID, Kind: LedgerSale, Amount: f.Subtotal + f.Shipping, OrderID: int64Ptr(f.OrderID),
			FulfilmentID: int64Ptr(f.ID), Memo: number, EntryKey: fmt.Sprintf("sale:f%d", f.ID), OccurredAt: at},
		ledgerRow{CooperativeID: f.CooperativeID, Kind: LedgerCommission, Amount: -commission, OrderID: int64Ptr(f.OrderID),
			FulfilmentID: int64Ptr(f.ID), Memo: number, EntryKey: fmt.Sprintf("commission:f%d", f.ID), OccurredAt: at})
}

// bookOrderSales books the sale of every parcel of a card order just paid.
func bookOrderSales(tx *gorm.DB, orderID int64, at time.Time) error {
	var number string
	if err := tx.Raw("SELECT COALESCE(number, '') FROM orders WHERE id = ?", orderID).Scan(&number).Error; err != nil {
		return fmt.Errorf("read order %d: %w", orderID, err)
	}
	var fs []fulfilmentRow
	if err := tx.Where("order_id = ? AND status <> ?", orderID, FulfilmentCancelled).Order("id").Find(&fs).Error; err != nil {
		return fmt.Errorf("read fulfilments of order %d: %w", orderID, err)
	}
	for _, f := range fs {
		if err := bookSale(tx, f, number, at); err != nil {
			return err
		}
	}
	return nil
}

// lockFulfilment reads a parcel for change: under a row lock on MySQL
// (SQLite write transactions are exclusive already).
func (s *Service) lockFulfilment(tx *gorm.DB, id int64) (fulfilmentRow, error) {
	var f fulfilmentRow
	q := tx.Where("id = ?", id)
	if s.db.Dialect == database.MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&f).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return f, errs.E(errs.NotFound, "no such fulfilment")
		}
		return f, fmt.Errorf("read fulfilment %d: %w", id, database.Translate(err))
	}
	return f, nil
}

// Delivery is the answer of DeliverFulfilment.
type Delivery struct {
	CooperativeFulfilment
	// OrderPaid is true when this delivery made a cash-on-delivery order
	// paid: its last parcel arrived.
	OrderPaid bool `json:"order_paid"`
	// OrderID is the parcel's order.
	OrderID int64 `json:"-"`
}

// DeliverFulfilment records that a shipped parcel reached the buyer
// (shipped → delivered). For cash on delivery the courier collected the
// parcel's price: its sale and commission enter the cooperative's ledger,
// and when every parcel of the order is delivered the order becomes paid
// and onCODPaid runs inside the same transaction (to mark the payment
// paid): its error undoes the delivery. Only the parcel's cooperative's
// members and administrators may. It returns errs.NotFound, errs.Forbidden,
// and errs.Conflict for a parcel not shipped yet, cancelled or delivered
// already.
func (s *Service) DeliverFulfilment(ctx context.Context, p *account.Principal, id int64, onCODPaid func(tx *gorm.DB, o Order) error) (Delivery, error) {
	var out Delivery
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		out = Delivery{}
		f, err := s.lockFulfilment(tx, id)
		if err != nil {
			return err
		}
		if p == nil || !p.CanReadCooperative(f.CooperativeID) {
			return refuse(p, "only the cooperative's members may record its deliveries")
		}
		now := s.clock()
		res := tx.Model(&fulfilmentRow{}).Where("id = ? AND status = ?", id, FulfilmentShipped).
			Updates(map[string]any{"status": FulfilmentDelivered, "delivered_at": now, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("deliver fulfilment %d: %w", id, database.Translate(res.Error))
		}
		if res.RowsAffected == 0 {
			switch f.Status {
			case FulfilmentDelivered:
				return errs.E(errs.Conflict, "this parcel is delivered already")
			case FulfilmentCancelled:
				return errs.E(errs.Conflict, "this parcel was cancelled")
			}
			return errs.E(errs.Conflict, "this parcel has not shipped yet: ship it first")
		}
		var o orderRow
		if err := tx.Where("id = ?", f.OrderID).Take(&o).Error; err != nil {
			return fmt.Errorf("read order %d: %w", f.OrderID, err)
		}
		number := ""
		if o.Number != nil {
			number = *o.Number
		}
		if o.PaymentMethod == PayOnCOD {
			if err := bookSale(tx, f, number, now); err != nil {
				return err
			}
			res := tx.Model(&orderRow{}).Where("id = ? AND status = ?", o.ID, OrderConfirmed).
				Where("NOT EXISTS (SELECT 1 FROM fulfilments f WHERE f.order_id = ? AND f.status NOT IN ?)",
					o.ID, []FulfilmentStatus{FulfilmentDelivered, FulfilmentCancelled}).
				Updates(map[string]any{"status": OrderPaid, "paid_at": now, "updated_at": now})
			if res.Error != nil {
				return fmt.Errorf("mark order %d paid: %w", o.ID, database.Translate(res.Error))
			}
			if res.RowsAffected == 1 {
				out.OrderPaid = true
				if onCODPaid != nil {
					paid, err := findOrder(tx, o.ID)
					if err != nil {
						return err
					}
					if err := onCODPaid(tx, paid); err != nil {
						return err
					}
				}
			}
		}
		if err := tx.Where("id = ?", id).Take(&f).Error; err != nil {
			return fmt.Errorf("reread fulfilment %d: %w", id, err)
		}
		out.OrderID = f.OrderID
		out.CooperativeFulfilment, err = cooperativeFulfilment(tx, f)
		return err
	})
	return out, err
}

// RefundKind says how a refund was made.
type RefundKind string

// The refund kinds.
const (
	RefundCard     RefundKind = "card"     // Souk asked the card provider
	RefundCash     RefundKind = "cash"     // a cash-on-delivery parcel, given back in cash
	RefundExternal RefundKind = "external" // seen only through the provider's webhook (made in its dashboard)
)

// RefundStatus is where a refund stands.
type RefundStatus string

// The refund statuses.
const (
	RefundPending   RefundStatus = "pending"   // the provider is being asked; counts against what is left
	RefundSucceeded RefundStatus = "succeeded" // done and in the ledger
)

// Refund is money given back on one parcel.
type Refund struct {
	ID               int64        `json:"id"`
	OrderID          int64        `json:"order_id"`
	FulfilmentID     int64        `json:"fulfilment_id"`
	CooperativeID    int64        `json:"cooperative_id"`
	Kind             RefundKind   `json:"kind"`
	Status           RefundStatus `json:"status"`
	Amount           int64        `json:"amount"`
	Currency         string       `json:"currency"`
	Reason           string       `json:"reason,omitempty"`
	ProviderRefundID string       `json:"provider_refund_id,omitempty"`
	CreatedAt        time.Time    `json:"created_at"`
}

type refundRow struct {
	ID               int64
	OrderID          int64
	FulfilmentID     int64
	CooperativeID    int64
	Kind             RefundKind
	Status           RefundStatus
	Amount           int64
	Currency         string
	Reason           string
	RequestKey       string
	ProviderRefundID *string
	CreatedBy        *int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

func (refundRow) TableName() string { return "order_refunds" }

func (r refundRow) refund() Refund {
	out := Refund{ID: r.ID, OrderID: r.OrderID, FulfilmentID: r.FulfilmentID, CooperativeID: r.CooperativeID, Kind: r.Kind,
		Status: r.Status, Amount: r.Amount, Currency: r.Currency, Reason: r.Reason, CreatedAt: r.CreatedAt.UTC()}
	if r.ProviderRefundID != nil {
		out.ProviderRefundID = *r.ProviderRefundID
	}
	return out
}

// refundsOf sums the refunds of a parcel that count against what is left:
// pending and succeeded.
func refundsOf(tx *gorm.DB, fulfilmentID int64) (int64, error) {
	var n int64
	err := tx.Raw("SELECT COALESCE(SUM(amount), 0) FROM order_refunds WHERE fulfilment_id = ?", fulfilmentID).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("read refunds of fulfilment %d: %w", fulfilmentID, err)
	}
	return n, nil
}

// bookRefund writes a succeeded refund and the commission reversal that
// follows it, once.
func bookRefund(tx *gorm.DB, r refundRow, at time.Time) error {
	var n int64
	if err := tx.Model(&ledgerRow{}).Where("entry_key = ?", fmt.Sprintf("refund:r%d", r.ID)).Count(&n).Error; err != nil {
		return fmt.Errorf("read the ledger of refund %d: %w", r.ID, err)
	}
	if n > 0 {
		return nil
	}
	m, err := parcelLedger(tx, r.FulfilmentID)
	if err != nil {
		return err
	}
	var number string
	if err := tx.Raw("SELECT COALESCE(number, '') FROM orders WHERE id = ?", r.OrderID).Scan(&number).Error; err != nil {
		return fmt.Errorf("read order %d: %w", r.OrderID, err)
	}
	reversal := CommissionReversal(m.Commission, m.Paid, m.Refunded, r.Amount)
	return writeLedger(tx,
		ledgerRow{CooperativeID: r.CooperativeID, Kind: LedgerRefund, Amount: -r.Amount, Currency: r.Currency, OrderID: int64Ptr(r.OrderID),
			FulfilmentID: int64Ptr(r.FulfilmentID), RefundID: int64Ptr(r.ID), Memo: number, EntryKey: fmt.Sprintf("refund:r%d", r.ID), OccurredAt: at},
		ledgerRow{CooperativeID: r.CooperativeID, Kind: LedgerCommissionReversal, Amount: reversal, Currency: r.Currency, OrderID: int64Ptr(r.OrderID),
			FulfilmentID: int64Ptr(r.FulfilmentID), RefundID: int64Ptr(r.ID), Memo: number, EntryKey: fmt.Sprintf("reversal:r%d", r.ID), OccurredAt: at})
}

// RefundInput asks for a refund of part of a parcel.
type RefundInput struct {
	FulfilmentID int64
	Amount       int64 // centimes of MAD
	Reason       string
	// IdempotencyKey makes the same request refund once; it is scoped to
	// the parcel. Empty: every request is a new refund.
	IdempotencyKey string
	By             int64 // the administrator
}

// Validate checks the input and returns errs.Invalid naming each bad field.
func (in RefundInput) Validate() error {
	var f errs.Fields
	if in.Amount <= 0 {
		f.Add("amount", "must be a positive number of centimes")
	} else if in.Amount > payment.MaxCheckoutTotal {
		f.Add("amount", "must be at most %d centimes", payment.MaxCheckoutTotal)
	}
	reason, ok := oneLine(in.Reason)
	switch {
	case reason == "":
		f.Add("reason", "is required: say why the money goes back")
	case !ok || utf8.RuneCountInString(reason) > 500:
		f.Add("reason", "must be one line of at most 500 characters")
	}
	if len(in.IdempotencyKey) > 200 {
		f.Add("Idempotency-Key", "must be at most 200 characters")
	}
	return f.Err()
}

// BeginRefund records a refund of part of a parcel, never more than the
// parcel was paid less the refunds already made or under way. The parcel's
// row is locked meanwhile, so concurrent requests, with the same key or
// different ones, are decided one after the other. A cash-on-delivery
// parcel is refunded in cash: the refund is done and in the ledger when
// this returns. A card parcel's refund is pending: the caller asks the
// provider, then calls CompleteRefund, or AbandonRefund when the provider
// refused or could not be reached. A request repeating an idempotency key
// returns the refund it made (replayed; a pending one is to be completed);
// a key repeated with another amount or reason is errs.Conflict.
//
// It returns errs.Invalid naming the field, errs.NotFound for no such
// parcel, and errs.Conflict for a parcel not paid, or an amount above what
// is left (Extra "refundable").
func (s *Service) BeginRefund(ctx context.Context, in RefundInput) (r Refund, replayed bool, err error) {
	in.Reason, _ = oneLine(in.Reason)
	if err := in.Validate(); err != nil {
		return Refund{}, false, err
	}
	key := fmt.Sprintf("admin:f%d:%s", in.FulfilmentID, in.IdempotencyKey)
	if in.IdempotencyKey == "" {
		key = fmt.Sprintf("admin:f%d:%s", in.FulfilmentID, newRequestKey())
	}
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		replayed = false
		f, err := s.lockFulfilment(tx, in.FulfilmentID)
		if err != nil {
			return err
		}
		var prior []refundRow
		if err := tx.Where("request_key = ?", key).Find(&prior).Error; err != nil {
			return fmt.Errorf("read refund %s: %w", key, err)
		}
		if len(prior) > 0 {
			if prior[0].Amount != in.Amount || prior[0].Reason != in.Reason {
				return errs.E(errs.Conflict, "this Idempotency-Key was used for another refund of this parcel (%s)",
					payment.MAD(prior[0].Amount).Format("fr")).WithExtra("field", "Idempotency-Key")
			}
			r, replayed = prior[0].refund(), true
			return nil
		}
		var o orderRow
		if err := tx.Where("id = ?", f.OrderID).Take(&o).Error; err != nil {
			return fmt.Errorf("read order %d: %w", f.OrderID, err)
		}
		m, err := parcelLedger(tx, f.ID)
		if err != nil {
			return err
		}
		if m.Paid == 0 {
			if o.PaymentMethod == PayOnCOD {
				return errs.E(errs.Conflict, "this cash-on-delivery parcel is not delivered, so not paid: there is nothing to refund")
			}
			return errs.E(errs.Conflict, "this parcel is not paid: there is nothing to refund")
		}
		refunded, err := refundsOf(tx, f.ID)
		if err != nil {
			return err
		}
		if left := m.Paid - refunded; in.Amount > left {
			e := errs.E(errs.Conflict, "at most %s is left to refund on this parcel (paid %s, refunded or being refunded %s)",
				payment.MAD(left).Format("fr"), payment.MAD(m.Paid).Format("fr"), payment.MAD(refunded).Format("fr")).
				WithExtra("refundable", left)
			e.Fields = []errs.FieldError{{Field: "amount", Message: fmt.Sprintf("must be at most %d", left)}}
			return e
		}
		now := s.clock()
		row := refundRow{OrderID: o.ID, FulfilmentID: f.ID, CooperativeID: f.CooperativeID, Kind: RefundCard, Status: RefundPending,
			Amount: in.Amount, Currency: o.Currency, Reason: in.Reason, RequestKey: key, CreatedAt: now, UpdatedAt: now}
		if in.By > 0 {
			row.CreatedBy = int64Ptr(in.By)
		}
		if o.PaymentMethod == PayOnCOD {
			row.Kind, row.Status = RefundCash, RefundSucceeded
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("record refund: %w", database.Translate(err))
		}
		if row.Status == RefundSucceeded {
			if err := bookRefund(tx, row, now); err != nil {
				return err
			}
		}
		r = row.refund()
		return nil
	})
	if err != nil && database.IsDuplicate(err) {
		// The same key raced us and won: answer its refund.
		var row refundRow
		if ferr := s.db.WithContext(ctx).Where("request_key = ?", key).Take(&row).Error; ferr == nil {
			return row.refund(), true, nil
		}
	}
	return r, replayed, err
}

// CompleteRefund records that the provider made a pending refund: it is
// succeeded, with the provider's id, and enters the ledger with its
// commission reversal, once. Inside the same transaction, onDone gets the
// total of the order's refunds the provider made (to bring the payment's
// refunded total up to date). Completing a succeeded refund changes
// nothing. It returns errs.NotFound for no such refund.
func (s *Service) CompleteRefund(ctx context.Context, id int64, providerRefundID string, onDone func(tx *gorm.DB, r Refund, providerTotal int64) error) (Refund, error) {
	var out Refund
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		now := s.clock()
		set := map[string]any{"status": RefundSucceeded, "updated_at": now}
		if providerRefundID != "" {
			set["provider_refund_id"] = providerRefundID
		}
		res := tx.Model(&refundRow{}).Where("id = ? AND status = ?", id, RefundPending).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("complete refund %d: %w", id, database.Translate(res.Error))
		}
		var row refundRow
		if err := tx.Where("id = ?", id).Take(&row).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.E(errs.NotFound, "no such refund")
			}
			return fmt.Errorf("read refund %d: %w", id, err)
		}
		out = row.refund()
		if res.RowsAffected == 0 {
			return nil
		}
		if err := bookRefund(tx, row, now); err != nil {
			return err
		}
		if onDone == nil {
			return nil
		}
		total, err := providerRefunded(tx, row.OrderID)
		if err != nil {
			return err
		}
		return onDone(tx, out, total)
	})
	return out, err
}

// providerRefunded sums the succeeded refunds of an order that went
// through the card provider.
func providerRefunded(tx *gorm.DB, orderID int64) (int64, error) {
	var n int64
	err := tx.Raw("SELECT COALESCE(SUM(amount), 0) FROM order_refunds WHERE order_id = ? AND status = ? AND kind IN ?",
		orderID, RefundSucceeded, []RefundKind{RefundCard, RefundExternal}).Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("read refunds of order %d: %w", orderID, err)
	}
	return n, nil
}

// AbandonRefund forgets a pending refund the provider refused or could not
// be reached for: nothing of it stays. A succeeded refund is left alone.
func (s *Service) AbandonRefund(ctx context.Context, id int64) error {
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		return tx.Where("id = ? AND status = ?", id, RefundPending).Delete(&refundRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("abandon refund %d: %w", id, err)
	}
	return nil
}

// BeginOrderRefunds records, for an order cancelled after its card payment,
// one pending refund per parcel of what is left to refund on it, and
// returns the order's refunds still pending (all of them on a retry: the
// keys are derived from the order, so a repeated cancellation finds the
// same ones). The caller asks the provider for their total, then completes
// or abandons each.
func (s *Service) BeginOrderRefunds(ctx context.Context, orderID int64, reason string) ([]Refund, error) {
	var out []Refund
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		out = nil
		var fs []fulfilmentRow
		q := tx.Where("order_id = ?", orderID).Order("id")
		if s.db.Dialect == database.MySQL {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Find(&fs).Error; err != nil {
			return fmt.Errorf("read fulfilments of order %d: %w", orderID, err)
		}
		now := s.clock()
		for _, f := range fs {
			key := fmt.Sprintf("cancel:o%d:f%d", orderID, f.ID)
			var n int64
			if err := tx.Model(&refundRow{}).Where("request_key = ?", key).Count(&n).Error; err != nil {
				return fmt.Errorf("read refund %s: %w", key, err)
			}
			if n > 0 {
				continue
			}
			m, err := parcelLedger(tx, f.ID)
			if err != nil {
				return err
			}
			refunded, err := refundsOf(tx, f.ID)
			if err != nil {
				return err
			}
			if left := m.Paid - refunded; left > 0 {
				row := refundRow{OrderID: orderID, FulfilmentID: f.ID, CooperativeID: f.CooperativeID, Kind: RefundCard, Status: RefundPending,
					Amount: left, Currency: Currency, Reason: reason, RequestKey: key, CreatedAt: now, UpdatedAt: now}
				if err := tx.Create(&row).Error; err != nil {
					return fmt.Errorf("record refund: %w", database.Translate(err))
				}
			}
		}
		var rows []refundRow
		if err := tx.Where("order_id = ? AND status = ? AND request_key LIKE ?", orderID, RefundPending,
			fmt.Sprintf("cancel:o%d:%%", orderID)).Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("read refunds of order %d: %w", orderID, err)
		}
		for _, r := range rows {
			out = append(out, r.refund())
		}
		return nil
	})
	return out, err
}

// RecordProviderRefundsTx reconciles inside tx what the card provider says
// was refunded on an order's payment (the running total of a
// charge.refunded event) with the refunds Souk knows. A total Souk already
// accounts for changes nothing, so the event that follows a refund Souk
// made is not counted twice, and a late or repeated event with a smaller
// total is ignored. The difference — a refund made in the provider's
// dashboard — is spread over the order's parcels in id order, each up to
// what is left on it, as external refunds in the ledger; their keys are
// derived from the running total, so one total is recorded once. An order
// whose parcels were never booked as sold (paid after it had expired, and
// refunded for that) has nothing to spread. While a refund of the order is
// pending with the provider, the event may be about it: errs.Unavailable
// asks the provider to deliver it again later.
func (s *Service) RecordProviderRefundsTx(ctx context.Context, tx *gorm.DB, orderID int64, refundedTotal int64) ([]Refund, error) {
	tx = tx.WithContext(ctx)
	// The parcels are locked first, as BeginRefund locks its parcel, so
	// that a refund request and this event are decided one after the other.
	var fs []fulfilmentRow
	q := tx.Where("order_id = ?", orderID).Order("id")
	if s.db.Dialect == database.MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Find(&fs).Error; err != nil {
		return nil, fmt.Errorf("read fulfilments of order %d: %w", orderID, err)
	}
	known, err := providerRefunded(tx, orderID)
	if err != nil {
		return nil, err
	}
	if refundedTotal <= known {
		return nil, nil
	}
	var pending int64
	if err := tx.Model(&refundRow{}).Where("order_id = ? AND status = ?", orderID, RefundPending).Count(&pending).Error; err != nil {
		return nil, fmt.Errorf("read refunds of order %d: %w", orderID, err)
	}
	if pending > 0 {
		return nil, errs.E(errs.Unavailable, "a refund of order %d is under way; deliver the event again later", orderID).WithRetryAfter(time.Minute)
	}
	now := s.clock()
	delta := refundedTotal - known
	var out []Refund
	for _, f := range fs {
		if delta == 0 {
			break
		}
		m, err := parcelLedger(tx, f.ID)
		if err != nil {
			return nil, err
		}
		refunded, err := refundsOf(tx, f.ID)
		if err != nil {
			return nil, err
		}
		take := min(delta, m.Paid-refunded)
		if take <= 0 {
			continue
		}
		row := refundRow{OrderID: orderID, FulfilmentID: f.ID, CooperativeID: f.CooperativeID, Kind: RefundExternal, Status: RefundSucceeded,
			Amount: take, Currency: Currency, Reason: "refunded at the card provider", RequestKey: fmt.Sprintf("provider:o%d:t%d:f%d", orderID, refundedTotal, f.ID),
			CreatedAt: now, UpdatedAt: now}
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "request_key"}}, DoNothing: true}).Create(&row)
		if res.Error != nil {
			return nil, fmt.Errorf("record refund: %w", database.Translate(res.Error))
		}
		if res.RowsAffected == 0 {
			continue
		}
		if err := bookRefund(tx, row, now); err != nil {
			return nil, err
		}
		out = append(out, row.refund())
		delta -= take
	}
	return out, nil
}

// PayoutInput is a bank transfer to record.
type PayoutInput struct {
	CooperativeID int64
	Amount        int64  // centimes
	Currency      string // MAD
	Reference     string // the bank transfer's reference
	PaidOn        Date   // the day of the transfer
	// IdempotencyKey makes the same request record one payout; empty: a
	// new payout each time (the reference still may not repeat).
	IdempotencyKey string
	By             int64 // the administrator
}

// Payout is a bank transfer to a cooperative.
type Payout struct {
	ID            int64     `json:"id"`
	CooperativeID int64     `json:"cooperative_id"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Reference     string    `json:"reference"`
	PaidOn        Date      `json:"paid_on"`
	RIB           string    `json:"rib"`
	CreatedAt     time.Time `json:"created_at"`
	// Balance is the cooperative's balance after the payout.
	Balance int64 `json:"balance"`
}

type payoutRow struct {
	ID            int64
	CooperativeID int64
	Amount        int64
	Currency      string
	Reference     string
	PaidOn        Date
	RIB           string `gorm:"column:rib"`
	RequestKey    string
	CreatedBy     *int64
	CreatedAt     time.Time
}

func (payoutRow) TableName() string { return "payouts" }

func (r payoutRow) payout() Payout {
	return Payout{ID: r.ID, CooperativeID: r.CooperativeID, Amount: r.Amount, Currency: r.Currency, Reference: r.Reference,
		PaidOn: r.PaidOn, RIB: r.RIB, CreatedAt: r.CreatedAt.UTC()}
}

// Validate checks a payout against everything that needs no database and
// returns errs.Invalid naming each bad field.
func (in PayoutInput) Validate(today Date) error {
	var f errs.Fields
	if in.Amount <= 0 {
		f.Add("amount", "must be a positive number of centimes")
	}
	if in.Currency != Currency {
		f.Add("currency", "must be MAD: cooperatives are paid in dirhams")
	}
	ref, ok := oneLine(in.Reference)
	switch {
	case ref == "":
		f.Add("reference", "is required: the bank transfer's reference")
	case !ok || utf8.RuneCountInString(ref) > 100:
		f.Add("reference", "must be one line of at most 100 characters")
	}
	switch {
	case in.PaidOn.IsZero():
		f.Add("paid_on", "is required: the day of the transfer, YYYY-MM-DD")
	case in.PaidOn.After(today):
		f.Add("paid_on", "must not be in the future")
	case in.PaidOn.Before(NewDate(2020, 1, 1)):
		f.Add("paid_on", "must be 2020-01-01 or later")
	}
	if len(in.IdempotencyKey) > 200 {
		f.Add("Idempotency-Key", "must be at most 200 characters")
	}
	return f.Err()
}

// RecordPayout records a bank transfer to a cooperative's RIB and its
// ledger row, in one transaction under the cooperative's row lock, so that
// two payouts never together take more than the balance. It returns
// errs.Invalid naming the field, errs.NotFound for no such cooperative, and
// errs.Conflict when the cooperative has no valid RIB on file, when the
// amount is above its balance (Extra "balance"), when the reference is
// already recorded, or when the idempotency key was used for another
// payout. The same key with the same payout returns it (replayed).
func (s *Service) RecordPayout(ctx context.Context, in PayoutInput) (p Payout, replayed bool, err error) {
	in.Reference, _ = oneLine(in.Reference)
	in.Currency = strings.ToUpper(strings.TrimSpace(in.Currency))
	if err := in.Validate(s.today()); err != nil {
		return Payout{}, false, err
	}
	key := fmt.Sprintf("admin:c%d:%s", in.CooperativeID, in.IdempotencyKey)
	if in.IdempotencyKey == "" {
		key = fmt.Sprintf("admin:c%d:%s", in.CooperativeID, newRequestKey())
	}
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		replayed = false
		var coop struct {
			ID  int64
			RIB *string `gorm:"column:rib"`
		}
		q := tx.Table("cooperatives").Select("id, rib").Where("id = ?", in.CooperativeID)
		if s.db.Dialect == database.MySQL {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&coop).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.E(errs.NotFound, "no such cooperative")
			}
			return fmt.Errorf("read cooperative %d: %w", in.CooperativeID, err)
		}
		var prior []payoutRow
		if err := tx.Where("request_key = ?", key).Find(&prior).Error; err != nil {
			return fmt.Errorf("read payout %s: %w", key, err)
		}
		if len(prior) > 0 {
			pr := prior[0]
			if pr.Amount != in.Amount || pr.Reference != in.Reference || pr.PaidOn != in.PaidOn {
				return errs.E(errs.Conflict, "this Idempotency-Key was used for another payout (%s, %s)",
					payment.MAD(pr.Amount).Format("fr"), pr.Reference).WithExtra("field", "Idempotency-Key")
			}
			p, replayed = pr.payout(), true
			bal, err := balanceOf(tx, in.CooperativeID, time.Time{})
			p.Balance = bal
			return err
		}
		if coop.RIB == nil || payment.ValidateRIB(*coop.RIB) != nil {
			return errs.E(errs.Conflict, "this cooperative has no valid RIB on file: its managers add it with PATCH /api/v1/cooperatives/%d {\"rib\": …}", in.CooperativeID).
				WithExtra("field", "rib")
		}
		bal, err := balanceOf(tx, in.CooperativeID, time.Time{})
		if err != nil {
			return err
		}
		if in.Amount > bal {
			e := errs.E(errs.Conflict, "the cooperative's balance is %s: a payout of %s would exceed it",
				payment.MAD(bal).Format("fr"), payment.MAD(in.Amount).Format("fr")).WithExtra("balance", bal)
			e.Fields = []errs.FieldError{{Field: "amount", Message: fmt.Sprintf("must be at most the balance, %d", max(bal, 0))}}
			return e
		}
		now := s.clock()
		row := payoutRow{CooperativeID: in.CooperativeID, Amount: in.Amount, Currency: in.Currency, Reference: in.Reference,
			PaidOn: in.PaidOn, RIB: *coop.RIB, RequestKey: key, CreatedAt: now}
		if in.By > 0 {
			row.CreatedBy = int64Ptr(in.By)
		}
		if err := tx.Create(&row).Error; err != nil {
			if database.IsDuplicate(err) {
				var n int64
				if cerr := tx.Model(&payoutRow{}).Where("request_key = ?", key).Count(&n).Error; cerr == nil && n == 0 {
					e := errs.Wrap(errs.Conflict, err, "a payout with reference %q is already recorded for this cooperative", in.Reference)
					e.Fields = []errs.FieldError{{Field: "reference", Message: "is already recorded"}}
					return e
				}
			}
			return fmt.Errorf("record payout: %w", database.Translate(err))
		}
		if err := writeLedger(tx, ledgerRow{CooperativeID: in.CooperativeID, Kind: LedgerPayout, Amount: -in.Amount, Currency: in.Currency,
			PayoutID: int64Ptr(row.ID), Memo: "virement " + in.Reference + " du " + in.PaidOn.String(), EntryKey: fmt.Sprintf("payout:p%d", row.ID),
			OccurredAt: now}); err != nil {
			return err
		}
		p = row.payout()
		p.Balance = bal - in.Amount
		return nil
	})
	if err != nil && database.IsDuplicate(err) {
		var row payoutRow
		if ferr := s.db.WithContext(ctx).Where("request_key = ?", key).Take(&row).Error; ferr == nil {
			p = row.payout()
			p.Balance, _ = balanceOf(s.db.WithContext(ctx), in.CooperativeID, time.Time{})
			return p, true, nil
		}
	}
	return p, replayed, err
}

// balanceOf sums a cooperative's ledger, of rows before until (all rows
// for the zero time).
func balanceOf(tx *gorm.DB, cooperativeID int64, until time.Time) (int64, error) {
	q := tx.Model(&ledgerRow{}).Select("COALESCE(SUM(amount), 0)").Where("cooperative_id = ?", cooperativeID)
	if !until.IsZero() {
		q = q.Where("occurred_at < ?", until.UTC())
	}
	var n int64
	if err := q.Scan(&n).Error; err != nil {
		return 0, fmt.Errorf("sum the ledger of cooperative %d: %w", cooperativeID, err)
	}
	return n, nil
}

// Balance returns what Souk owes a cooperative now: the sum of its ledger,
// in centimes of MAD.
func (s *Service) Balance(ctx context.Context, cooperativeID int64) (int64, error) {
	return balanceOf(s.db.WithContext(ctx), cooperativeID, time.Time{})
}

func (s *Service) mustFindCooperative(tx *gorm.DB, id int64) error {
	var n int64
	if err := tx.Table("cooperatives").Where("id = ?", id).Count(&n).Error; err != nil {
		return fmt.Errorf("read cooperative %d: %w", id, err)
	}
	if n == 0 {
		return errs.E(errs.NotFound, "no such cooperative")
	}
	return nil
}

// entries reads ledger rows with their order numbers.
func entries(q *gorm.DB) ([]LedgerEntry, error) {
	var rows []struct {
		ID, CooperativeID, Amount                 int64
		Kind                                      LedgerKind
		Currency, Memo                            string
		OrderID, FulfilmentID, RefundID, PayoutID *int64
		OrderNumber                               *string
		OccurredAt                                time.Time
	}
	if err := q.Select("l.id, l.cooperative_id, l.amount, l.kind, l.currency, l.memo, l.order_id, l.fulfilment_id, l.refund_id, l.payout_id, l.occurred_at, o.number AS order_number").
		Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read ledger: %w", err)
	}
	out := make([]LedgerEntry, len(rows))
	for i, r := range rows {
		out[i] = LedgerEntry{ID: r.ID, CooperativeID: r.CooperativeID, Kind: r.Kind, Amount: r.Amount, Currency: r.Currency,
			OrderID: r.OrderID, FulfilmentID: r.FulfilmentID, RefundID: r.RefundID, PayoutID: r.PayoutID, Memo: r.Memo,
			OccurredAt: r.OccurredAt.UTC()}
		if r.OrderNumber != nil {
			out[i].OrderNumber = *r.OrderNumber
		}
	}
	return out, nil
}

func ledgerQuery(tx *gorm.DB, cooperativeID int64) *gorm.DB {
	return tx.Table("ledger_entries l").Joins("LEFT JOIN orders o ON o.id = l.order_id").Where("l.cooperative_id = ?", cooperativeID)
}

// Ledger is a page of a cooperative's ledger, newest first, with its
// balance.
type Ledger struct {
	Items    []LedgerEntry `json:"items"`
	Total    int64         `json:"total"`
	Page     int           `json:"page"`
	PerPage  int           `json:"per_page"`
	Balance  int64         `json:"balance"`
	Currency string        `json:"currency"`
}

// ListLedger returns a page (from 1) of a cooperative's ledger, newest
// first, and its balance. Who may read it is the route's policy
// (members and administrators). It returns errs.NotFound for no such
// cooperative.
func (s *Service) ListLedger(ctx context.Context, cooperativeID int64, page, perPage int) (Ledger, error) {
	db := s.db.WithContext(ctx)
	if err := s.mustFindCooperative(db, cooperativeID); err != nil {
		return Ledger{}, err
	}
	out := Ledger{Page: page, PerPage: perPage, Currency: Currency}
	if err := db.Model(&ledgerRow{}).Where("cooperative_id = ?", cooperativeID).Count(&out.Total).Error; err != nil {
		return Ledger{}, fmt.Errorf("count ledger: %w", err)
	}
	var err error
	if out.Items, err = entries(ledgerQuery(db, cooperativeID).Order("l.occurred_at DESC, l.id DESC").
		Offset((page - 1) * perPage).Limit(perPage)); err != nil {
		return Ledger{}, err
	}
	if out.Balance, err = balanceOf(db, cooperativeID, time.Time{}); err != nil {
		return Ledger{}, err
	}
	return out, nil
}

// Statement is a cooperative's monthly statement: the balance when the
// month began, every row of the month in order, and the balance when it
// ended (opening + the rows = closing).
type Statement struct {
	CooperativeID int64         `json:"cooperative_id"`
	Month         string        `json:"month"` // YYYY-MM
	From          time.Time     `json:"from"`  // the month's first instant, Africa/Casablanca
	To            time.Time     `json:"to"`    // the next month's first instant
	Currency      string        `json:"currency"`
	Opening       int64         `json:"opening_balance"`
	Closing       int64         `json:"closing_balance"`
	Totals        Totals        `json:"totals"`
	Entries       []LedgerEntry `json:"entries"`
}

// Totals sum ledger rows by kind, signed as in the ledger.
type Totals struct {
	Sales               int64 `json:"sales"`
	Commission          int64 `json:"commission"`
	Refunds             int64 `json:"refunds"`
	CommissionReversals int64 `json:"commission_reversals"`
	Payouts             int64 `json:"payouts"`
}

func (t *Totals) add(e LedgerEntry) {
	switch e.Kind {
	case LedgerSale:
		t.Sales += e.Amount
	case LedgerCommission:
		t.Commission += e.Amount
	case LedgerRefund:
		t.Refunds += e.Amount
	case LedgerCommissionReversal:
		t.CommissionReversals += e.Amount
	case LedgerPayout:
		t.Payouts += e.Amount
	}
}

// ParseMonth reads a month written YYYY-MM and returns its first instant
// and the next month's, in Africa/Casablanca. It returns errs.Invalid on
// the field "month".
func ParseMonth(s string) (from, to time.Time, err error) {
	t, perr := time.Parse("2006-01", s)
	if perr != nil || len(s) != 7 || t.Year() < 2000 {
		return time.Time{}, time.Time{}, errs.InvalidField("month", "must be a month written YYYY-MM, such as 2026-03")
	}
	from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, Zone)
	return from, from.AddDate(0, 1, 0), nil
}

// MonthlyStatement returns a cooperative's statement for month (YYYY-MM,
// Africa/Casablanca). It returns errs.Invalid for a bad month and
// errs.NotFound for no such cooperative.
func (s *Service) MonthlyStatement(ctx context.Context, cooperativeID int64, month string) (Statement, error) {
	from, to, err := ParseMonth(month)
	if err != nil {
		return Statement{}, err
	}
	var st Statement
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		if err := s.mustFindCooperative(tx, cooperativeID); err != nil {
			return err
		}
		st = Statement{CooperativeID: cooperativeID, Month: month, From: from.UTC(), To: to.UTC(), Currency: Currency}
		var err error
		if st.Opening, err = balanceOf(tx, cooperativeID, from); err != nil {
			return err
		}
		if st.Entries, err = entries(ledgerQuery(tx, cooperativeID).Where("l.occurred_at >= ? AND l.occurred_at < ?", from.UTC(), to.UTC()).
			Order("l.occurred_at, l.id")); err != nil {
			return err
		}
		st.Closing = st.Opening
		for _, e := range st.Entries {
			st.Closing += e.Amount
			st.Totals.add(e)
		}
		return nil
	})
	return st, err
}

// SalesRow is one cooperative's line of the sales report. Sales,
// commission, refunds and payouts are the period's, as positive amounts
// (commission net of the reversals that followed refunds); Net is what the
// cooperative earned in the period (sales − commission − refunds); Balance
// is what Souk owed it at the end of the period.
type SalesRow struct {
	CooperativeID int64  `json:"cooperative_id"`
	Slug          string `json:"slug"`
	Name          string `json:"name"`
	GrossSales    int64  `json:"gross_sales"`
	Commission    int64  `json:"commission"`
	Refunds       int64  `json:"refunds"`
	Net           int64  `json:"net"`
	Payouts       int64  `json:"payouts"`
	Balance       int64  `json:"balance"`
	Currency      string `json:"currency"`
}

// SalesReport sums the ledgers of every cooperative that has one, for the
// days from to to (inclusive, Africa/Casablanca), ordered by name. It
// returns errs.Invalid when to is before from.
func (s *Service) SalesReport(ctx context.Context, from, to Date) ([]SalesRow, error) {
	if to.Before(from) {
		return nil, errs.InvalidField("to", "must not be before from")
	}
	start := time.Date(from.t.Year(), from.t.Month(), from.t.Day(), 0, 0, 0, 0, Zone).UTC()
	end := time.Date(to.t.Year(), to.t.Month(), to.t.Day()+1, 0, 0, 0, 0, Zone).UTC()
	in := "l.occurred_at >= ? AND l.occurred_at < ?"
	var rows []SalesRow
	err := s.db.WithContext(ctx).Raw(`SELECT c.id AS cooperative_id, c.slug, c.name,
		COALESCE(SUM(CASE WHEN l.kind = 'sale' AND `+in+` THEN l.amount ELSE 0 END), 0) AS gross_sales,
		COALESCE(SUM(CASE WHEN l.kind IN ('commission', 'commission_reversal') AND `+in+` THEN -l.amount ELSE 0 END), 0) AS commission,
		COALESCE(SUM(CASE WHEN l.kind = 'refund' AND `+in+` THEN -l.amount ELSE 0 END), 0) AS refunds,
		COALESCE(SUM(CASE WHEN l.kind = 'payout' AND `+in+` THEN -l.amount ELSE 0 END), 0) AS payouts,
		COALESCE(SUM(l.amount), 0) AS balance
		FROM ledger_entries l JOIN cooperatives c ON c.id = l.cooperative_id
		WHERE l.occurred_at < ?
		GROUP BY c.id, c.slug, c.name ORDER BY c.name, c.id`,
		start, end, start, end, start, end, start, end, end).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sales report: %w", database.Translate(err))
	}
	for i := range rows {
		rows[i].Net = rows[i].GrossSales - rows[i].Commission - rows[i].Refunds
		rows[i].Currency = Currency
	}
	if rows == nil {
		rows = []SalesRow{}
	}
	return rows, nil
}

// newRequestKey returns a random key for a request that came without an
// idempotency key: it is a new request every time.
func newRequestKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("storefront: random: %v", err))
	}
	return "once-" + hex.EncodeToString(b)
}
