package storefront

import (
	"errors"
	"strconv"
	"strings"
)

// ParseMAD reads an amount of dirhams written with a dot and at most two
// decimals ("120", "120.5", "120.50") and returns it in centimes, exactly:
// the digits are read as integers, never through a float (DESIGN rule 3).
// Thousands separators, signs, commas and exponents are refused, as are
// amounts of zero and above MaxPrice. The error says what is wrong in
// words a cooperative can act on.
func ParseMAD(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if strings.ContainsAny(s, ",") {
		return 0, errors.New("must use a dot for decimals and no thousands separator, as in 1250.50")
	}
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		if strings.HasPrefix(s, "-") {
			return 0, errors.New("must be more than zero")
		}
		return 0, errors.New("must be an amount in dirhams such as 120 or 120.50")
	}
	if len(frac) > 2 {
		return 0, errors.New("must have at most two decimals (centimes)")
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 9 { // over 999,999,999 MAD: certainly above MaxPrice
		return 0, errors.New("is above the highest price accepted (" + FormatMAD(MaxPrice) + " MAD)")
	}
	var units int64
	if whole != "" {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, errors.New("must be an amount in dirhams such as 120 or 120.50")
		}
		units = n
	}
	var cents int64
	switch len(frac) {
	case 1:
		cents = int64(frac[0]-'0') * 10
	case 2:
		cents = int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	total := units*100 + cents
	switch {
	case total <= 0:
		return 0, errors.New("must be more than zero")
	case total > MaxPrice:
		return 0, errors.New("is above the highest price accepted (" + FormatMAD(MaxPrice) + " MAD)")
	}
	return total, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// FormatMAD writes centimes as dirhams with two decimals ("120.50"), the
// form ParseMAD reads.
func FormatMAD(centimes int64) string {
	sign := ""
	u := uint64(centimes)
	if centimes < 0 {
		sign = "-"
		u = uint64(-(centimes + 1)) + 1 // no overflow for the smallest int64
	}
	cents := u % 100
	return sign + strconv.FormatUint(u/100, 10) + "." + string(rune('0'+cents/10)) + string(rune('0'+cents%10))
}
