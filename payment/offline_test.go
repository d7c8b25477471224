package payment_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

func TestNormalizeMoroccanPhone(t *testing.T) {
	for in, want := range map[string]string{
		"0612345678":            "+212612345678",
		"06 12 34 56 78":        "+212612345678",
		"06-12-34-56-78":        "+212612345678",
		"06.12.34.56.78":        "+212612345678",
		"+212612345678":         "+212612345678",
		"+212 6 12 34 56 78":    "+212612345678",
		"+212 (0)6 12 34 56 78": "+212612345678",
		"00212612345678":        "+212612345678",
		"212612345678":          "+212612345678",
		"0712345678":            "+212712345678",
		"0528861234":            "+212528861234", // Tiznit, fixed line
		"0808123456":            "+212808123456",
		"612345678":             "+212612345678",
	} {
		got, err := payment.NormalizeMoroccanPhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizeMoroccanPhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "06123456", "061234567890", "0912345678", "0412345678", "+33612345678",
		"+212 9 12 34 56 78", "06 12 34 56 7a", "tel: 0612345678", "0+612345678", "++212612345678"} {
		if got, err := payment.NormalizeMoroccanPhone(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("NormalizeMoroccanPhone(%q) = %q, %v; want invalid", bad, got, err)
		}
	}
}

// Cash on delivery: Morocco only, a phone the courier can call, in MAD, up
// to a ceiling; each refusal names its field.
func TestCODPolicyValidate(t *testing.T) {
	ok := payment.CODRequest{Country: "MA", Phone: "06 12 34 56 78", Total: payment.MAD(120_000)}
	if err := (payment.CODPolicy{}).Validate(ok); err != nil {
		t.Fatalf("OK: %v", err)
	}
	atCeiling := ok
	atCeiling.Total = payment.MAD(payment.DefaultCODCeiling)
	if err := (payment.CODPolicy{}).Validate(atCeiling); err != nil {
		t.Fatalf("at the ceiling: %v", err)
	}
	lower := ok
	lower.Country = "ma"
	if err := (payment.CODPolicy{}).Validate(lower); err != nil {
		t.Fatalf("lower-case country: %v", err)
	}
	tests := []struct {
		name   string
		policy payment.CODPolicy
		edit   func(*payment.CODRequest)
		fields []string
	}{
		{"ErrAbroad", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Country = "FR" }, []string{"shipping_address.country"}},
		{"ErrNoCountry", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Country = "" }, []string{"shipping_address.country"}},
		{"ErrNoPhone", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Phone = " " }, []string{"shipping_address.phone"}},
		{"ErrForeignPhone", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Phone = "+33 6 12 34 56 78" }, []string{"shipping_address.phone"}},
		{"ErrAboveDefaultCeiling", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Total = payment.MAD(payment.DefaultCODCeiling + 1) }, []string{"payment_method"}},
		{"ErrAboveOwnCeiling", payment.CODPolicy{Ceiling: 100_000}, func(r *payment.CODRequest) { r.Total = payment.MAD(100_001) }, []string{"payment_method"}},
		{"ErrEuros", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Total = payment.Money{Amount: 100, Currency: "EUR"} }, []string{"currency"}},
		{"ErrZero", payment.CODPolicy{}, func(r *payment.CODRequest) { r.Total = payment.MAD(0) }, []string{"total"}},
		{"ErrAll", payment.CODPolicy{}, func(r *payment.CODRequest) { *r = payment.CODRequest{Country: "ES", Total: payment.MAD(900_000)} },
			[]string{"shipping_address.country", "shipping_address.phone", "payment_method"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			e := errs.As(tt.policy.Validate(in))
			if e == nil || e.Code != errs.Invalid {
				t.Fatalf("got %v, want invalid", e)
			}
			var got []string
			for _, f := range e.Fields {
				got = append(got, f.Field)
			}
			if diff := cmp.Diff(tt.fields, got); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
		})
	}
	// The ceiling is said in the buyer's terms.
	e := errs.As((payment.CODPolicy{}).Validate(payment.CODRequest{Country: "MA", Phone: "0612345678", Total: payment.MAD(600_000)}))
	if e == nil || e.Fields[0].Message != "cash on delivery is available up to 5\u00a0000,00\u00a0MAD; this order comes to 6\u00a0000,00\u00a0MAD: pay by card instead" {
		t.Fatalf("message: %v", e)
	}
}

func createAdmin(t *testing.T, db *database.DB) int64 {
	t.Helper()
	now := time.Now().UTC()
	email := "admin-" + time.Now().Format("150405.000000000") + "@souk.test"
	if err := db.Exec("INSERT INTO users (email, email_norm, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		email, email, "Admin", "x", now, now).Error; err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.Raw("SELECT id FROM users WHERE email_norm = ?", email).Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	return id
}

// An office payment is recorded paid, once per receipt number, inside the
// caller's transaction.
func TestRecordOfficePayment(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.Open(t, dialect)
		store := payment.NewStore(db)
		admin := createAdmin(t, db)
		in := payment.OfficePayment{
			Purpose: payment.PurposeBooking, Reference: "17", Method: payment.MethodOfficeCash,
			Amount: payment.MAD(45_000), ReceiptNumber: " TZN-2025-0042 ", RecordedBy: admin, Note: "reçu carnet 3",
		}
		var p payment.Payment
		err := db.Transact(ctx, func(tx *gorm.DB) error {
			var err error
			p, err = store.RecordOfficePayment(ctx, tx, in)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if p.ID == 0 || p.Status != payment.PaymentPaid || p.PaidAt == nil || *p.ReceiptNumber != "TZN-2025-0042" ||
			*p.RecordedBy != admin || p.Money() != payment.MAD(45_000) {
			t.Fatalf("recorded %+v", p)
		}
		got, err := store.FindPayment(ctx, nil, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Fatalf("stored payment differs (-recorded +stored):\n%s", diff)
		}

		t.Run("ErrReceiptTwice", func(t *testing.T) {
			again := in
			again.Reference = "18"
			_, err := store.RecordOfficePayment(ctx, nil, again)
			e := errs.As(err)
			if e == nil || e.Code != errs.Conflict || len(e.Fields) != 1 || e.Fields[0].Field != "receipt_number" {
				t.Fatalf("got %v, want conflict on receipt_number", err)
			}
		})
		t.Run("SameNumberOtherMethod", func(t *testing.T) {
			tr := in
			tr.Method = payment.MethodOfficeTransfer
			if _, err := store.RecordOfficePayment(ctx, nil, tr); err != nil {
				t.Fatalf("a transfer may carry the same number as a cash receipt: %v", err)
			}
		})
		t.Run("RolledBackWithTheBooking", func(t *testing.T) {
			other := in
			other.ReceiptNumber = "TZN-2025-0043"
			err := db.Transact(ctx, func(tx *gorm.DB) error {
				if _, err := store.RecordOfficePayment(ctx, tx, other); err != nil {
					return err
				}
				return errs.E(errs.Conflict, "the booking could not be confirmed")
			})
			if !errs.Is(err, errs.Conflict) {
				t.Fatal(err)
			}
			list, err := store.ListPayments(ctx, nil, payment.PurposeBooking, "17")
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != 2 { // the cash payment and the transfer, not the rolled-back one
				t.Fatalf("%d payments, want 2", len(list))
			}
		})
		t.Run("ErrFields", func(t *testing.T) {
			_, err := store.RecordOfficePayment(ctx, nil, payment.OfficePayment{Method: payment.MethodCard, Amount: payment.Money{Amount: -1, Currency: "EUR"}})
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid {
				t.Fatalf("got %v, want invalid", err)
			}
			for _, f := range []string{"purpose", "reference", "method", "amount", "currency", "receipt_number", "recorded_by"} {
				if !errs.Fields(e.Fields).Has(f) {
					t.Errorf("no error on %s: %v", f, e)
				}
			}
		})
	})
}
