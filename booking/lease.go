package booking

// Leases: long bookings paid month by month.
//
// A booking is a lease when it books a unit that has a monthly rate for
// whole calendar months — its first day is the 1st of a month, its last day
// the last day of a month — and for at least two of them (LeaseMonths). A
// shorter or ragged booking is priced and paid at once, as PriceDays says.
//
// The rule for paying a lease:
//
//   - The booking's amount is one month: the unit's monthly rate when the
//     booking was made. Holding, approving, paying (card through the
//     provider's webhook, or office payment recorded by an administrator)
//     and confirming work exactly as for any booking: paying the booking
//     pays the first month, and confirms the lease and all its days.
//   - Confirming a lease writes its invoices in the confirming transaction,
//     one per month at the booking's amount: the first already paid (with
//     the booking's payment reference, due on the first day), each later one
//     open and due on the LeaseDueDay of its month.
//   - An administrator records each later payment at the venue office
//     (PayInvoiceTx, in the transaction that records the office payment);
//     FlagOverdueInvoices turns open invoices whose due day has passed
//     overdue; an overdue invoice can still be paid.
//   - Cancelling a lease cancels the open and overdue invoices of the months
//     that have not begun; a month begun is owed. The refund of the venue's
//     cancellation policy applies to the booking's amount, the first month.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// LeaseDueDay is the day of the month on which a lease's monthly invoice
// falls due; it becomes overdue the day after.
const LeaseDueDay = 5

// minLeaseMonths is the fewest whole months a lease covers.
const minLeaseMonths = 2

// InvoiceStatus is where a lease invoice stands.
type InvoiceStatus string

// The invoice statuses.
const (
	InvoiceOpen      InvoiceStatus = "open"      // not paid, not yet due or due today
	InvoicePaid      InvoiceStatus = "paid"      // paid (PaidAt, PaymentRef)
	InvoiceOverdue   InvoiceStatus = "overdue"   // not paid after its due day
	InvoiceCancelled InvoiceStatus = "cancelled" // the lease was cancelled before the month began
)

// Invoice is one month of a lease.
type Invoice struct {
	ID         int64         `json:"id"`
	BookingID  int64         `json:"booking_id"`
	ArtisanID  int64         `json:"artisan_id"`
	VenueID    int64         `json:"venue_id"`
	UnitID     int64         `json:"unit_id"`
	Seq        int           `json:"seq"`   // 1 for the lease's first month
	Month      string        `json:"month"` // YYYY-MM
	Amount     int64         `json:"amount"`
	Currency   string        `json:"currency"`
	DueDay     Day           `json:"due_day"`
	Status     InvoiceStatus `json:"status"`
	PaidAt     *time.Time    `json:"paid_at,omitempty"`
	PaymentRef string        `json:"payment_ref,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	UpdatedAt  time.Time     `json:"updated_at"`
}

// TableName is the lease_invoices table.
func (Invoice) TableName() string { return "lease_invoices" }

// LeaseMonths returns how many calendar months r covers when it makes a
// lease — it starts on the 1st of a month, ends on the last day of a month
// and covers at least two months — and 0 otherwise.
func LeaseMonths(r DayRange) int {
	if r.First.IsZero() || r.Last.Before(r.First) || r.First.Compare(r.First.FirstOfMonth()) != 0 || r.Last.Compare(r.Last.LastOfMonth()) != 0 {
		return 0
	}
	fy, fm, _ := r.First.Date()
	ly, lm, _ := r.Last.Date()
	n := (ly-fy)*12 + int(lm-fm) + 1
	if n < minLeaseMonths {
		return 0
	}
	return n
}

// priceBooking returns the amount of booking unit u for the days of r and,
// for a lease, its months: a lease's amount is its first month.
func priceBooking(r DayRange, u Unit) (amount int64, leaseMonths int) {
	if n := LeaseMonths(r); n > 0 && u.MonthRate > 0 {
		return u.MonthRate, n
	}
	return PriceDays(r, u.DayRate, u.MonthRate), 0
}

// openLease writes the invoices of lease b, confirmed at now with
// paymentRef, inside the confirming transaction tx.
func openLease(tx *gorm.DB, b Booking, now time.Time, paymentRef string) error {
	invs := make([]Invoice, 0, b.LeaseMonths)
	first := b.FirstDay
	for i := range b.LeaseMonths {
		m := MonthOf(first)
		inv := Invoice{
			BookingID: b.ID, ArtisanID: b.ArtisanID, VenueID: b.VenueID, UnitID: b.UnitID, Seq: i + 1,
			Month: m.String(), Amount: b.Amount, Currency: b.Currency, Status: InvoiceOpen,
			DueDay: NewDay(m.Year, m.Month, LeaseDueDay), CreatedAt: now, UpdatedAt: now,
		}
		if i == 0 {
			paid := now
			inv.DueDay, inv.Status, inv.PaidAt, inv.PaymentRef = b.FirstDay, InvoicePaid, &paid, paymentRef
		}
		invs = append(invs, inv)
		first = first.LastOfMonth().AddDays(1)
	}
	if err := tx.Create(&invs).Error; err != nil {
		return fmt.Errorf("write invoices of lease %d: %w", b.ID, err)
	}
	return nil
}

// cancelLeaseInvoices cancels the unpaid invoices of lease b for the months
// that begin after today, inside the cancelling transaction tx.
func cancelLeaseInvoices(tx *gorm.DB, b Booking, today Day, now time.Time) error {
	if b.LeaseMonths == 0 {
		return nil
	}
	if err := tx.Model(&Invoice{}).
		Where("booking_id = ? AND status IN ? AND month > ?", b.ID, []InvoiceStatus{InvoiceOpen, InvoiceOverdue}, MonthOf(today).String()).
		Updates(map[string]any{"status": InvoiceCancelled, "updated_at": now}).Error; err != nil {
		return fmt.Errorf("cancel invoices of lease %d: %w", b.ID, err)
	}
	return nil
}

// FindInvoice returns a lease invoice by id, or errs.NotFound.
func (s *Store) FindInvoice(ctx context.Context, id int64) (Invoice, error) {
	var inv Invoice
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&inv).Error; err != nil {
		return Invoice{}, fmt.Errorf("find invoice %d: %w", id, notFound(err, "invoice"))
	}
	return inv, nil
}

// ListBookingInvoices returns a booking's invoices, month by month.
func (s *Store) ListBookingInvoices(ctx context.Context, bookingID int64) ([]Invoice, error) {
	var invs []Invoice
	if err := s.db.WithContext(ctx).Where("booking_id = ?", bookingID).Order("seq").Find(&invs).Error; err != nil {
		return nil, fmt.Errorf("list invoices of booking %d: %w", bookingID, database.Translate(err))
	}
	return invs, nil
}

// ListArtisanInvoices returns one page of an artisan's lease invoices, the
// latest month first, with the total count. page starts at 1; perPage is
// capped at 100.
func (s *Store) ListArtisanInvoices(ctx context.Context, artisanID int64, page, perPage int) ([]Invoice, int64, error) {
	page, perPage = max(page, 1), min(max(perPage, 1), 100)
	q := s.db.WithContext(ctx).Model(&Invoice{}).Where("artisan_id = ?", artisanID)
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count invoices of artisan %d: %w", artisanID, database.Translate(err))
	}
	invs := []Invoice{}
	if err := q.Order("month DESC, id DESC").Offset((page - 1) * perPage).Limit(perPage).Find(&invs).Error; err != nil {
		return nil, 0, fmt.Errorf("list invoices of artisan %d: %w", artisanID, database.Translate(err))
	}
	return invs, total, nil
}

// PayInvoiceTx marks an open or overdue invoice paid at now with
// paymentRef, inside the caller's transaction tx — the one in which the
// payment package records the office payment, so that both commit or
// neither. The update is conditional: of two payments racing for one
// invoice, one wins and the other gets errs.Conflict. It returns
// errs.NotFound for an unknown invoice and errs.Conflict for one already
// paid or cancelled.
func (s *Store) PayInvoiceTx(ctx context.Context, tx *gorm.DB, id int64, paymentRef string, now time.Time) (Invoice, error) {
	paymentRef = strings.TrimSpace(paymentRef)
	if paymentRef == "" || len(paymentRef) > 200 {
		return Invoice{}, errs.InvalidField("payment_ref", "is required (at most 200 bytes)")
	}
	now = s.now(now)
	tx = tx.WithContext(ctx)
	res := tx.Model(&Invoice{}).Where("id = ? AND status IN ?", id, []InvoiceStatus{InvoiceOpen, InvoiceOverdue}).
		Updates(map[string]any{"status": InvoicePaid, "paid_at": now, "payment_ref": paymentRef, "updated_at": now})
	if res.Error != nil {
		return Invoice{}, fmt.Errorf("pay invoice %d: %w", id, res.Error)
	}
	var inv Invoice
	if err := tx.Where("id = ?", id).Take(&inv).Error; err != nil {
		return Invoice{}, fmt.Errorf("pay invoice %d: %w", id, notFound(err, "invoice"))
	}
	if res.RowsAffected != 1 {
		return Invoice{}, errs.E(errs.Conflict, "this invoice is %s and cannot be paid", inv.Status)
	}
	return inv, nil
}

// FlagOverdueInvoices marks overdue every open invoice whose due day is
// before the day of now. One conditional update: safe to run in every
// instance at once. It returns how many invoices it flagged.
func (s *Store) FlagOverdueInvoices(ctx context.Context, now time.Time) (int, error) {
	now = s.now(now)
	res := s.db.WithContext(ctx).Model(&Invoice{}).Where("status = ? AND due_day < ?", InvoiceOpen, DayOf(now)).
		Updates(map[string]any{"status": InvoiceOverdue, "updated_at": now})
	if res.Error != nil {
		return 0, fmt.Errorf("flag overdue invoices: %w", database.Translate(res.Error))
	}
	return int(res.RowsAffected), nil
}
