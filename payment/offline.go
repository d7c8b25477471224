package payment

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// DefaultCODCeiling is the largest order paid cash on delivery, in
// centimes (5 000 MAD): above it a courier carries too much cash and a
// refused parcel costs too much.
const DefaultCODCeiling int64 = 500_000

// CODPolicy says which orders may be paid cash on delivery.
type CODPolicy struct {
	// Ceiling is the largest total, in centimes of MAD; 0 means
	// DefaultCODCeiling.
	Ceiling int64
}

// CODRequest is what cash on delivery depends on in an order.
type CODRequest struct {
	Country string // the shipping address's ISO 3166 alpha-2 code
	Phone   string // the shipping address's phone
	Total   Money  // the order's total, shipping included
}

// Validate checks that an order may be paid cash on delivery: shipped
// inside Morocco, to a Moroccan phone number the courier can call before
// coming, in MAD, and not above the ceiling. It returns errs.Invalid with a
// message per field (shipping_address.country, shipping_address.phone,
// currency, payment_method).
func (p CODPolicy) Validate(in CODRequest) error {
	ceiling := p.Ceiling
	if ceiling <= 0 {
		ceiling = DefaultCODCeiling
	}
	var f errs.Fields
	if !strings.EqualFold(strings.TrimSpace(in.Country), "MA") {
		f.Add("shipping_address.country", "cash on delivery is only available in Morocco; pay by card instead")
	}
	if strings.TrimSpace(in.Phone) == "" {
		f.Add("shipping_address.phone", "is required for cash on delivery: the courier calls before coming")
	} else if _, err := NormalizeMoroccanPhone(in.Phone); err != nil {
		f.Add("shipping_address.phone", "must be a Moroccan phone number (e.g. 06 12 34 56 78 or +212 6 12 34 56 78): the courier calls before coming")
	}
	if !strings.EqualFold(in.Total.Currency, "MAD") {
		f.Add("currency", "cash on delivery is paid in dirhams (MAD)")
	} else if in.Total.Amount > ceiling {
		f.Add("payment_method", "cash on delivery is available up to %s; this order comes to %s: pay by card instead",
			MAD(ceiling).Format("fr"), in.Total.Format("fr"))
	}
	if in.Total.Amount <= 0 {
		f.Add("total", "must be positive")
	}
	return f.Err()
}

// NormalizeMoroccanPhone reads a Moroccan phone number as people write it
// ("06 12 34 56 78", "06-12-34-56-78", "+212 6 12 34 56 78",
// "+212 (0)6 12 34 56 78", "00212612345678") and returns it in E.164
// form, "+212612345678". Mobile (6, 7) and fixed or VoIP (5, 8) numbers
// are accepted. It returns errs.Invalid for anything else.
func NormalizeMoroccanPhone(s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\u00a0':
		default:
			return "", errs.InvalidField("phone", "must hold only digits, spaces, dashes, dots, brackets and a leading +")
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "+212"):
		d = d[4:]
	case strings.HasPrefix(d, "00212"):
		d = d[5:]
	case strings.HasPrefix(d, "212") && len(d) == 12:
		d = d[3:]
	case strings.HasPrefix(d, "+"):
		return "", errs.InvalidField("phone", "must be a Moroccan number (+212)")
	}
	d = strings.TrimPrefix(d, "0") // the national trunk prefix, also written "(0)" after +212
	if len(d) != 9 || d[0] < '5' || d[0] > '8' {
		return "", errs.InvalidField("phone", "must be a Moroccan number of ten digits starting 05, 06, 07 or 08")
	}
	return "+212" + d, nil
}

// OfficePayment is a payment an administrator received at a venue office:
// cash against a receipt, or a bank transfer checked on the account.
type OfficePayment struct {
	Purpose   Purpose
	Reference string
	Method    Method // office_cash or office_transfer
	Amount    Money  // in MAD
	// ReceiptNumber is the number of the receipt handed over for cash, or
	// the transfer's reference for a transfer. One number is recorded once
	// per method.
	ReceiptNumber string
	RecordedBy    int64 // the administrator's user id
	Note          string
}

// Validate checks the payment and returns errs.Invalid naming each bad field.
func (in OfficePayment) Validate() error {
	var f errs.Fields
	if !in.Purpose.Valid() {
		f.Add("purpose", "must be order or booking")
	}
	if strings.TrimSpace(in.Reference) == "" || len(in.Reference) > maxRefLen {
		f.Add("reference", "is required (at most %d bytes)", maxRefLen)
	}
	if in.Method != MethodOfficeCash && in.Method != MethodOfficeTransfer {
		f.Add("method", "must be office_cash or office_transfer")
	}
	if in.Amount.Amount <= 0 {
		f.Add("amount", "must be a positive number of centimes")
	}
	if !strings.EqualFold(in.Amount.Currency, "MAD") {
		f.Add("currency", "venue offices take dirhams (MAD)")
	}
	rn := strings.TrimSpace(in.ReceiptNumber)
	switch {
	case rn == "":
		if in.Method == MethodOfficeTransfer {
			f.Add("receipt_number", "is required: the transfer's reference")
		} else {
			f.Add("receipt_number", "is required: the number of the receipt handed over")
		}
	case len(rn) > 100 || strings.IndexFunc(rn, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		f.Add("receipt_number", "must be at most 100 printable characters")
	}
	if in.RecordedBy <= 0 {
		f.Add("recorded_by", "must name the administrator who received the payment")
	}
	if len(in.Note) > 500 {
		f.Add("note", "must be at most 500 bytes")
	}
	return f.Err()
}

// RecordOfficePayment records in tx a payment received at a venue office,
// as paid. Record it in the transaction that confirms the booking or the
// order, so that both or neither are written. It returns errs.Invalid for a
// bad input and errs.Conflict when the receipt number is already recorded
// for the method (a double submission, or a receipt used twice).
func (s *Store) RecordOfficePayment(ctx context.Context, tx *gorm.DB, in OfficePayment) (Payment, error) {
	if err := in.Validate(); err != nil {
		return Payment{}, fmt.Errorf("record office payment: %w", err)
	}
	now := s.now()
	rn := strings.TrimSpace(in.ReceiptNumber)
	by := in.RecordedBy
	p := Payment{
		Purpose: in.Purpose, Reference: in.Reference, Method: in.Method,
		Amount: in.Amount.Amount, Currency: "MAD", Status: PaymentPaid,
		ReceiptNumber: &rn, RecordedBy: &by, Note: strings.TrimSpace(in.Note),
		PaidAt: &now, CreatedAt: now, UpdatedAt: now,
	}
	if err := s.conn(ctx, tx).Create(&p).Error; err != nil {
		if database.IsDuplicate(err) {
			e := errs.Wrap(errs.Conflict, err, "receipt %q is already recorded", rn)
			e.Fields = []errs.FieldError{{Field: "receipt_number", Message: "is already recorded"}}
			return Payment{}, fmt.Errorf("record office payment: %w", e)
		}
		return Payment{}, fmt.Errorf("record office payment for %s %s: %w", in.Purpose, in.Reference, database.Translate(err))
	}
	return p, nil
}
