package payment

import (
	"strconv"
	"strings"

	"github.com/souk-tiznit/souk/errs"
)

// RIB is a Moroccan bank account identifier (relevé d'identité bancaire),
// 24 digits in four parts as the interbank clearing system (SIMT) fixed
// them: the bank code (3), the city or locality code (3), the account
// number (16, which holds the branch and the account) and a two-digit key.
// Cooperatives are paid out by bank transfer to a RIB.
type RIB struct {
	Bank    string // 3 digits, e.g. "011"
	City    string // 3 digits
	Account string // 16 digits
	Key     string // 2 digits
}

// ParseRIB reads a RIB written with or without spaces, dashes or dots, and
// checks its key: key = 97 − ((first 22 digits · 100) mod 97), the mod-97
// rule that the French RIB formula 97 − ((89·bank + 15·branch +
// 3·account) mod 97) spells out for another split of the digits. A
// Moroccan RIB is all digits, so letters are refused rather than mapped to
// digits as the French rule does. It also accepts the same account as a
// Moroccan IBAN ("MA64 0115 1900 …"), checking the IBAN's own check digits
// too. It returns errs.Invalid on the field "rib".
func ParseRIB(s string) (RIB, error) {
	var b strings.Builder
	for _, r := range strings.ToUpper(strings.TrimSpace(s)) {
		switch {
		case r == ' ' || r == '-' || r == '.' || r == '\u00a0':
		case r >= '0' && r <= '9', r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		default:
			return RIB{}, errs.InvalidField("rib", "must hold 24 digits (spaces allowed)")
		}
	}
	d := b.String()
	if strings.HasPrefix(d, "MA") && len(d) == 28 {
		if !allDigits(d[2:]) || ibanMod97(d) != 1 {
			return RIB{}, errs.InvalidField("rib", "this IBAN's check digits are wrong: check for a typing mistake")
		}
		d = d[4:]
	}
	if len(d) != 24 || !allDigits(d) {
		return RIB{}, errs.InvalidField("rib", "must hold exactly 24 digits (bank 3, city 3, account 16, key 2), not %d characters", len(d))
	}
	if ribKey(d[:22]) != d[22:] {
		return RIB{}, errs.InvalidField("rib", "the key (last two digits) does not match the account: check for a typing mistake")
	}
	return RIB{Bank: d[:3], City: d[3:6], Account: d[6:22], Key: d[22:]}, nil
}

// ValidateRIB checks a RIB (see ParseRIB) and returns errs.Invalid on the
// field "rib" when it is wrong.
func ValidateRIB(s string) error {
	_, err := ParseRIB(s)
	return err
}

// ribKey computes the two-digit key of 22 digits.
func ribKey(digits string) string {
	rem := mod97(digits + "00")
	return twoDigits(97 - rem)
}

// mod97 returns a decimal digit string modulo 97, digit by digit.
func mod97(digits string) int {
	rem := 0
	for i := 0; i < len(digits); i++ {
		rem = (rem*10 + int(digits[i]-'0')) % 97
	}
	return rem
}

// ibanMod97 is ISO 13616's check: the first four characters moved to the
// end, letters as 10 to 35, the whole number modulo 97.
func ibanMod97(iban string) int {
	r := iban[4:] + iban[:4]
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		if c >= 'A' && c <= 'Z' {
			b.WriteString(strconv.Itoa(int(c-'A') + 10))
		} else {
			b.WriteByte(c)
		}
	}
	return mod97(b.String())
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// String returns the RIB grouped as printed on a bank's form:
// "011 519 0000012050005349 21".
func (r RIB) String() string {
	return r.Bank + " " + r.City + " " + r.Account + " " + r.Key
}

// Digits returns the 24 digits without spaces, as stored.
func (r RIB) Digits() string { return r.Bank + r.City + r.Account + r.Key }

// IBAN returns the account's Moroccan IBAN: "MA", two check digits, the
// 24 digits of the RIB.
func (r RIB) IBAN() string {
	check := 98 - ibanMod97("MA00"+r.Digits())
	return "MA" + twoDigits(check) + r.Digits()
}
