package payment

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/souk-tiznit/souk/errs"
)

// Money is an exact amount: an integer number of minor units (centimes for
// MAD) and an ISO 4217 currency code (rule 3). There are no floats anywhere
// on the way from a price to a payment.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// MAD returns an amount of Moroccan dirhams given in centimes.
func MAD(centimes int64) Money { return Money{Amount: centimes, Currency: "MAD"} }

// IsZero reports whether m is the zero value.
func (m Money) IsZero() bool { return m == Money{} }

// Exponent returns how many minor-unit digits a currency has: 2 for MAD,
// EUR, USD and most others, 0 for JPY or KRW, 3 for TND, KWD or BHD.
func Exponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	}
	return 2
}

// String returns the amount with a dot and the code, e.g. "1250.00 MAD":
// unambiguous, for logs and CSV exports. Use Format for people.
func (m Money) String() string {
	whole, frac, neg := m.split()
	s := whole
	if frac != "" {
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s + " " + strings.ToUpper(m.Currency)
}

// Non-breaking spaces keep an amount on one line ("1 250,00 MAD" never
// breaks between "1" and "250").
const nbsp = "\u00a0"

// Format writes the amount for people reading lang ("ar", "fr" or "en"; a
// regional tag such as "fr-MA" counts as its language, anything else as
// English):
//
//	fr: 1 250,00 MAD   (no-break spaces; comma before the centimes)
//	en: MAD 1,250.00
//	ar: 1.250,00 د.م.   (Western digits as written in Morocco, CLDR ar-MA)
//
// Arabic in the Maghreb is written with Western ("Arabic") digits; the
// Eastern Arabic-Indic digits of the Mashreq would look foreign to Moroccan
// readers. The dirham's Arabic symbol is د.م.; other currencies keep their
// code.
func (m Money) Format(lang string) string {
	whole, frac, neg := m.split()
	code := strings.ToUpper(m.Currency)
	sign := ""
	if neg {
		sign = "-"
	}
	switch baseLang(lang) {
	case "fr":
		return sign + joinAmount(group(whole, nbsp), ",", frac) + nbsp + code
	case "ar":
		symbol := code
		if code == "MAD" {
			symbol = "د.م."
		}
		return sign + joinAmount(group(whole, "."), ",", frac) + nbsp + symbol
	default:
		return sign + code + nbsp + joinAmount(group(whole, ","), ".", frac)
	}
}

// split returns the absolute amount's whole digits, its minor-unit digits
// and whether it is negative.
func (m Money) split() (whole, frac string, neg bool) {
	exp := Exponent(m.Currency)
	a := m.Amount
	neg = a < 0
	// Through uint64 so that the most negative int64 has an absolute value.
	u := uint64(a)
	if neg {
		u = -u
	}
	digits := strconv.FormatUint(u, 10)
	if exp == 0 {
		return digits, "", neg
	}
	if len(digits) <= exp {
		digits = strings.Repeat("0", exp-len(digits)+1) + digits
	}
	return digits[:len(digits)-exp], digits[len(digits)-exp:], neg
}

func joinAmount(whole, sep, frac string) string {
	if frac == "" {
		return whole
	}
	return whole + sep + frac
}

// group inserts sep between groups of three digits from the right.
func group(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first > 0 {
		b.WriteString(digits[:first])
	}
	for i := first; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

func baseLang(lang string) string {
	l := strings.ToLower(lang)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	return l
}

// Rate converts one currency into another for display: Micros millionths of
// a unit of To for one unit of From (1 MAD = 0.092 EUR is Micros 92_000).
// Prices are set in MAD; a Rate only ever produces an approximation shown
// beside the real price, never an amount that is charged.
type Rate struct {
	From   string
	To     string
	Micros int64
}

// ParseRate reads a decimal rate such as "0.0921" (units of to for one unit
// of from) without going through a float; digits past the sixth decimal
// are rounded half up.
func ParseRate(from, to, decimal string) (Rate, error) {
	bad := func() (Rate, error) {
		return Rate{}, errs.InvalidField("rate", "must be a positive decimal number such as 0.0921, not %q", decimal)
	}
	if !validCurrency(from) || !validCurrency(to) {
		return Rate{}, errs.InvalidField("currency", "must be three-letter ISO 4217 codes, not %q and %q", from, to)
	}
	s := strings.TrimSpace(decimal)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) || len(whole) > 12 || len(frac) > 30 {
		return bad()
	}
	// Pad or cut the fraction to 7 digits, then round the seventh away.
	frac += strings.Repeat("0", max(0, 7-len(frac)))
	n, ok := new(big.Int).SetString(whole+frac[:7], 10)
	if !ok {
		return bad()
	}
	n.Add(n, big.NewInt(5))
	n.Quo(n, big.NewInt(10))
	if n.Sign() <= 0 || !n.IsInt64() {
		return bad()
	}
	return Rate{From: strings.ToUpper(from), To: strings.ToUpper(to), Micros: n.Int64()}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Approx converts m at rate r, rounding half away from zero to the minor
// unit of r.To, with integer arithmetic only. It returns errs.Invalid when
// m is not in r.From, when the rate is not positive, or when the result
// does not fit in an int64.
func Approx(m Money, r Rate) (Money, error) {
	if !strings.EqualFold(m.Currency, r.From) {
		return Money{}, errs.E(errs.Invalid, "cannot convert %s at a rate from %s", strings.ToUpper(m.Currency), strings.ToUpper(r.From))
	}
	if r.Micros <= 0 || !validCurrency(r.To) {
		return Money{}, errs.E(errs.Invalid, "the rate from %s to %q is not usable", strings.ToUpper(r.From), r.To)
	}
	// to_minor = amount · micros · 10^expTo / (10^6 · 10^expFrom)
	num := new(big.Int).Mul(big.NewInt(m.Amount), big.NewInt(r.Micros))
	num.Mul(num, pow10(Exponent(r.To)))
	den := new(big.Int).Mul(pow10(6), pow10(Exponent(m.Currency)))
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	// Round half away from zero: |2·rem| ≥ den moves q one step outward.
	if rem.Sign() != 0 && new(big.Int).Abs(new(big.Int).Lsh(rem, 1)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return Money{}, errs.E(errs.Invalid, "%s at %s is too large to convert", m, fmt.Sprint(r.Micros))
	}
	return Money{Amount: q.Int64(), Currency: strings.ToUpper(r.To)}, nil
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
