package payment_test

import (
	"testing"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// The example account of the SWIFT IBAN registry for Morocco:
// MA64 0115 1900 0001 2050 0053 4921, whose RIB key is 21.
const registryRIB = "011519000001205000534921"

func TestParseRIB(t *testing.T) {
	want := payment.RIB{Bank: "011", City: "519", Account: "0000012050005349", Key: "21"}
	for _, in := range []string{
		registryRIB,
		"011 519 0000012050005349 21",
		"011-519-0000012050005349-21",
		" 011.519.0000012050005349.21 ",
		"MA64 0115 1900 0001 2050 0053 4921",
		"ma64011519000001205000534921",
	} {
		got, err := payment.ParseRIB(in)
		if err != nil {
			t.Errorf("ParseRIB(%q): %v", in, err)
			continue
		}
		if got != want {
			t.Errorf("ParseRIB(%q) = %+v, want %+v", in, got, want)
		}
	}
	r, _ := payment.ParseRIB(registryRIB)
	if r.String() != "011 519 0000012050005349 21" || r.Digits() != registryRIB {
		t.Errorf("String %q Digits %q", r.String(), r.Digits())
	}
	if r.IBAN() != "MA64"+registryRIB {
		t.Errorf("IBAN() = %q, want MA64%s", r.IBAN(), registryRIB)
	}
}

// A key of 97 − (n·100 mod 97) is between 01 and 97; every account number
// has exactly one key that passes.
func TestRIBKeyRange(t *testing.T) {
	accounts := []string{"0000000000000000", "0000000000000001", "9999999999999999", "1234567890123456", "0000000000000097"}
	for _, acc := range accounts {
		prefix := "007780" + acc
		passing := 0
		for k := 0; k < 100; k++ {
			key := string([]byte{byte('0' + k/10), byte('0' + k%10)})
			if payment.ValidateRIB(prefix+key) == nil {
				passing++
				if k < 1 || k > 97 {
					t.Errorf("%s passes with key %s, outside 01–97", prefix, key)
				}
			}
		}
		if passing != 1 {
			t.Errorf("%s: %d keys pass, want exactly 1", prefix, passing)
		}
	}
}

func TestValidateRIBErrors(t *testing.T) {
	for name, in := range map[string]string{
		"ErrEmpty":          "",
		"ErrShort":          "01151900000120500053492",
		"ErrLong":           "0115190000012050005349211",
		"ErrWrongKey":       "011519000001205000534922",
		"ErrTypo":           "011519000001205000534821",     // one digit of the account changed
		"ErrSwappedDigits":  "011519000001205000543921",     // two neighbours swapped
		"ErrLetters":        "01151900000120500053A921",     // Moroccan RIBs are all digits
		"ErrSymbols":        "011519000001205000534921!",    // not a separator
		"ErrIBANCheck":      "MA65011519000001205000534921", // IBAN check digits off
		"ErrIBANWrongLen":   "MA6401151900000120500053492",
		"ErrOtherCountry":   "FR7630006000011234567890189",
		"ErrUnicodeDigits":  "٠١١٥١٩٠٠٠٠٠١٢٠٥٠٠٠٥٣٤٩٢١",
		"ErrSeparatorsOnly": " - . ",
	} {
		t.Run(name, func(t *testing.T) {
			err := payment.ValidateRIB(in)
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "rib" {
				t.Fatalf("ValidateRIB(%q) = %v, want invalid on field rib", in, err)
			}
		})
	}
}
