package storefront

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// Rule 3 for the commission: computed per line in integer centimes,
// rounded half up, exactly.
func TestCommissionOf(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int64
		bps   int
		want  int64
	}{
		{"TenPercent", 45_000, 1000, 4_500},
		{"HalfRoundsUp", 12_345, 1000, 1_235},        // 1234.5
		{"BelowHalfRoundsDown", 12_344, 1000, 1_234}, // 1234.4
		{"AboveHalfRoundsUp", 12_346, 1000, 1_235},   // 1234.6
		{"OddRate", 99_999, 1234, 12_340},            // 12339.8766
		{"OneCentimeHalf", 5, 1000, 1},               // 0.5
		{"OneCentimeLess", 4, 1000, 0},               // 0.4
		{"Zero", 0, 1000, 0},
		{"NoRate", 45_000, 0, 0},
		{"Whole", 45_000, 10_000, 45_000},
		{"NoOverflow", 900_000_000_000_000_000, 5000, 450_000_000_000_000_000},
		{"NoOverflowRounding", 900_000_000_000_000_001, 5000, 450_000_000_000_000_001}, // .5 up
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := CommissionOf(tc.total, tc.bps); got != tc.want {
				t.Fatalf("CommissionOf(%d, %d) = %d, want %d", tc.total, tc.bps, got, tc.want)
			}
		})
	}
	// Against the definition, on random small values: round(total·bps/10000), half up.
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		total, bps := r.Int64N(10_000_000), r.IntN(10_001)
		want := (total*int64(bps)*2 + 10_000) / 20_000
		if got := CommissionOf(total, bps); got != want {
			t.Fatalf("CommissionOf(%d, %d) = %d, want %d", total, bps, got, want)
		}
	}
}

// The commission follows refunded money back: a full refund reverses all
// of it, and however a parcel is refunded in parts, the reversals add up
// to round(commission · refunded / paid) — never more than the commission.
func TestCommissionReversal(t *testing.T) {
	t.Run("FullRefund", func(t *testing.T) {
		if got := CommissionReversal(4_500, 53_500, 0, 53_500); got != 4_500 {
			t.Fatalf("full refund reverses %d, want 4500", got)
		}
	})
	t.Run("Half", func(t *testing.T) {
		// 4,501 × 1/2 = 2,250.5 → 2,251.
		if got := CommissionReversal(4_501, 10_000, 0, 5_000); got != 2_251 {
			t.Fatalf("got %d, want 2251", got)
		}
	})
	t.Run("NothingPaid", func(t *testing.T) {
		if got := CommissionReversal(4_500, 0, 0, 100); got != 0 {
			t.Fatalf("got %d", got)
		}
	})
	t.Run("BeyondPaidClamps", func(t *testing.T) {
		if got := CommissionReversal(4_500, 10_000, 9_000, 5_000); got != 450 {
			t.Fatalf("got %d, want the 450 left", got)
		}
	})
	t.Run("PartsAddUp", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		for range 2_000 {
			paid := 1 + r.Int64N(2_000_000)
			commission := CommissionOf(paid, r.IntN(5_001))
			var refunded, reversed int64
			for refunded < paid && r.IntN(8) != 0 {
				part := 1 + r.Int64N(paid-refunded)
				rev := CommissionReversal(commission, paid, refunded, part)
				if rev < 0 {
					t.Fatalf("negative reversal %d", rev)
				}
				refunded += part
				reversed += rev
			}
			want := (commission*refunded*2 + paid) / (2 * paid)
			if reversed != want || reversed > commission {
				t.Fatalf("paid %d commission %d refunded %d: reversed %d, want %d", paid, commission, refunded, reversed, want)
			}
			if refunded == paid && reversed != commission {
				t.Fatalf("a full refund in parts reversed %d of %d", reversed, commission)
			}
		}
	})
}

// A statement's month is read strictly, in Africa/Casablanca.
func TestParseMonth(t *testing.T) {
	from, to, err := ParseMonth("2026-03")
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 1, 0, 0, 0, 0, Zone); !from.Equal(want) || !to.Equal(want.AddDate(0, 1, 0)) {
		t.Fatalf("2026-03 is %v – %v", from, to)
	}
	for _, bad := range []string{"", "2026-3", "2026-13", "26-03", "2026-03-01", "march", "1999-12"} {
		if _, _, err := ParseMonth(bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseMonth(%q): %v, want invalid", bad, err)
		}
	}
}

// Totals add each kind to its own sum; opening + entries = closing is
// checked on real statements in api/ledger_test.go.
func TestTotalsAdd(t *testing.T) {
	var tot Totals
	for _, e := range []LedgerEntry{{Kind: LedgerSale, Amount: 100}, {Kind: LedgerCommission, Amount: -10}, {Kind: LedgerRefund, Amount: -50},
		{Kind: LedgerCommissionReversal, Amount: 5}, {Kind: LedgerPayout, Amount: -20}, {Kind: LedgerSale, Amount: 1}} {
		tot.add(e)
	}
	if tot != (Totals{Sales: 101, Commission: -10, Refunds: -50, CommissionReversals: 5, Payouts: -20}) {
		t.Fatalf("totals %+v", tot)
	}
}
