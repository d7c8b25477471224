package payment_test

import (
	"math"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// Rule 3: amounts are integers in minor units; formatting never goes
// through a float, so every centime shows as it is stored.
func TestMoneyFormat(t *testing.T) {
	nb := "\u00a0"
	tests := []struct {
		m    payment.Money
		lang string
		want string
	}{
		{payment.MAD(125000), "fr", "1" + nb + "250,00" + nb + "MAD"},
		{payment.MAD(125000), "en", "MAD" + nb + "1,250.00"},
		{payment.MAD(125000), "ar", "1.250,00" + nb + "د.م."},
		{payment.MAD(125000), "fr-MA", "1" + nb + "250,00" + nb + "MAD"},
		{payment.MAD(125000), "de", "MAD" + nb + "1,250.00"},
		{payment.MAD(0), "fr", "0,00" + nb + "MAD"},
		{payment.MAD(5), "en", "MAD" + nb + "0.05"},
		{payment.MAD(99), "fr", "0,99" + nb + "MAD"},
		{payment.MAD(100), "fr", "1,00" + nb + "MAD"},
		{payment.MAD(99999999), "fr", "999" + nb + "999,99" + nb + "MAD"},
		{payment.MAD(210000000), "en", "MAD" + nb + "2,100,000.00"}, // the Anzi pottery programme's 2.1 M MAD
		{payment.MAD(-125050), "fr", "-1" + nb + "250,50" + nb + "MAD"},
		{payment.MAD(-125050), "en", "-MAD" + nb + "1,250.50"},
		{payment.Money{Amount: 11550, Currency: "EUR"}, "ar", "115,50" + nb + "EUR"},
		{payment.Money{Amount: 11550, Currency: "eur"}, "en", "EUR" + nb + "115.50"},
		{payment.Money{Amount: 1234567, Currency: "JPY"}, "en", "JPY" + nb + "1,234,567"},
		{payment.Money{Amount: 1234, Currency: "TND"}, "fr", "1,234" + nb + "TND"},
		{payment.Money{Amount: math.MinInt64, Currency: "MAD"}, "en", "-MAD" + nb + "92,233,720,368,547,758.08"},
		{payment.Money{Amount: math.MaxInt64, Currency: "MAD"}, "fr", "92" + nb + "233" + nb + "720" + nb + "368" + nb + "547" + nb + "758,07" + nb + "MAD"},
	}
	for _, tt := range tests {
		if got := tt.m.Format(tt.lang); got != tt.want {
			t.Errorf("%v.Format(%q) = %q, want %q", tt.m, tt.lang, got, tt.want)
		}
	}
}

func TestMoneyString(t *testing.T) {
	for m, want := range map[payment.Money]string{
		payment.MAD(125000):                           "1250.00 MAD",
		payment.MAD(-7):                               "-0.07 MAD",
		{Amount: 500, Currency: "jpy"}:                "500 JPY",
		{Amount: 1, Currency: "KWD"}:                  "0.001 KWD",
		{Amount: math.MinInt64 + 1, Currency: "USD"}:  "-92233720368547758.07 USD",
		{Amount: 100_000_000_00, Currency: "MAD"}:     "100000000.00 MAD",
		{Amount: 12, Currency: "MAD"}:                 "0.12 MAD",
		{Amount: 1_000, Currency: "MAD"}:              "10.00 MAD",
		{Amount: 0, Currency: "MAD"}:                  "0.00 MAD",
		{Amount: 123456789012, Currency: "XOF"}:       "123456789012 XOF",
		{Amount: 1, Currency: "BHD"}:                  "0.001 BHD",
		{Amount: -1000, Currency: "BHD"}:              "-1.000 BHD",
		{Amount: 50, Currency: "USD"}:                 "0.50 USD",
		{Amount: 5, Currency: "USD"}:                  "0.05 USD",
		{Amount: 500000000000000000, Currency: "USD"}: "5000000000000000.00 USD",
	} {
		if got := m.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", m, got, want)
		}
	}
}

// Other currencies are shown as approximations computed with integers
// only, rounded half away from zero.
func TestApprox(t *testing.T) {
	eur := payment.Rate{From: "MAD", To: "EUR", Micros: 92_000} // 1 MAD = 0.092 EUR
	tests := []struct {
		name string
		m    payment.Money
		r    payment.Rate
		want payment.Money
	}{
		{"OK", payment.MAD(125000), eur, payment.Money{Amount: 11500, Currency: "EUR"}},
		{"RoundsHalfUp", payment.MAD(50), payment.Rate{From: "MAD", To: "EUR", Micros: 100_000}, payment.Money{Amount: 5, Currency: "EUR"}},
		{"RoundsHalfUpAtHalf", payment.MAD(5), payment.Rate{From: "MAD", To: "EUR", Micros: 100_000}, payment.Money{Amount: 1, Currency: "EUR"}}, // 0.5 → 1
		{"RoundsDownBelowHalf", payment.MAD(4), payment.Rate{From: "MAD", To: "EUR", Micros: 100_000}, payment.Money{Amount: 0, Currency: "EUR"}},
		{"NegativeAwayFromZero", payment.MAD(-5), payment.Rate{From: "MAD", To: "EUR", Micros: 100_000}, payment.Money{Amount: -1, Currency: "EUR"}},
		{"ToZeroDecimals", payment.MAD(100000), payment.Rate{From: "MAD", To: "JPY", Micros: 15_250_000}, payment.Money{Amount: 15250, Currency: "JPY"}},
		{"ToThreeDecimals", payment.MAD(100), payment.Rate{From: "MAD", To: "TND", Micros: 310_000}, payment.Money{Amount: 310, Currency: "TND"}},
		{"USD", payment.MAD(99999999), payment.Rate{From: "MAD", To: "USD", Micros: 99_850}, payment.Money{Amount: 9985000, Currency: "USD"}},
		{"NoFloatDrift", payment.MAD(10), payment.Rate{From: "MAD", To: "EUR", Micros: 1_000_000}, payment.Money{Amount: 10, Currency: "EUR"}},
		{"Huge", payment.MAD(math.MaxInt64 / 2), payment.Rate{From: "MAD", To: "MAD", Micros: 1_000_000}, payment.MAD(math.MaxInt64 / 2)},
		{"CaseInsensitiveFrom", payment.Money{Amount: 1000, Currency: "mad"}, eur, payment.Money{Amount: 92, Currency: "EUR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := payment.Approx(tt.m, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Approx(%v, %+v) = %v, want %v", tt.m, tt.r, got, tt.want)
			}
		})
	}
	for name, c := range map[string]struct {
		m payment.Money
		r payment.Rate
	}{
		"ErrCurrencyMismatch": {payment.Money{Amount: 1, Currency: "EUR"}, eur},
		"ErrZeroRate":         {payment.MAD(1), payment.Rate{From: "MAD", To: "EUR"}},
		"ErrNegativeRate":     {payment.MAD(1), payment.Rate{From: "MAD", To: "EUR", Micros: -1}},
		"ErrBadTarget":        {payment.MAD(1), payment.Rate{From: "MAD", To: "E", Micros: 1}},
		"ErrOverflow":         {payment.MAD(math.MaxInt64), payment.Rate{From: "MAD", To: "EUR", Micros: 2_000_000}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := payment.Approx(c.m, c.r); !errs.Is(err, errs.Invalid) {
				t.Fatalf("got %v, want invalid", err)
			}
		})
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0.092", 92_000},
		{"0.0921", 92_100},
		{"0.09213455", 92_135}, // 0.0921345|5 rounds up at the 7th digit
		{"0.09213449", 92_134},
		{"10.5", 10_500_000},
		{"1", 1_000_000},
		{".5", 500_000},
		{"15.", 15_000_000},
		{" 0.1 ", 100_000},
	}
	for _, tt := range tests {
		r, err := payment.ParseRate("mad", "eur", tt.in)
		if err != nil {
			t.Errorf("ParseRate(%q): %v", tt.in, err)
			continue
		}
		if r.Micros != tt.want || r.From != "MAD" || r.To != "EUR" {
			t.Errorf("ParseRate(%q) = %+v, want %d micros MAD→EUR", tt.in, r, tt.want)
		}
	}
	for _, bad := range []string{"", ".", "-1", "0", "0.0000004", "1e3", "1,5", "abc", "NaN", "Inf", strings.Repeat("9", 13)} {
		if _, err := payment.ParseRate("MAD", "EUR", bad); !errs.Is(err, errs.Invalid) {
			t.Errorf("ParseRate(%q) = %v, want invalid", bad, err)
		}
	}
	if _, err := payment.ParseRate("MAD", "EURO", "1"); !errs.Is(err, errs.Invalid) {
		t.Errorf("bad currency: %v, want invalid", err)
	}
}
