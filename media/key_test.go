package media

import (
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

func TestValidateKey(t *testing.T) {
	for _, key := range []string{
		"public/photos/ab/ab12-320.jpg",
		"private/certificates/42/Madmoun_2026.pdf",
		"a",
		"public/logo.v2.png",
		strings.Repeat("a", MaxKeyLength),
	} {
		if err := ValidateKey(key); err != nil {
			t.Errorf("ValidateKey(%q) = %v; want nil", key, err)
		}
	}
	for _, key := range []string{
		"", "/", "/public/x", "public/../x", "..", "a..b", "public/./x", "./x", "public//x", "public/",
		`public\x`, "public/.x", ".x", "public/x y", "public/x%2f", "public/\x00", "public/ñ", "public/x?",
		strings.Repeat("a", MaxKeyLength+1),
	} {
		err := ValidateKey(key)
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("ValidateKey(%q) = %v; want Invalid", key, err)
		}
	}
}

func TestValidatePrefix(t *testing.T) {
	for _, p := range []string{"", "public/", "public/photos/a", "private"} {
		if err := validatePrefix(p); err != nil {
			t.Errorf("validatePrefix(%q) = %v; want nil", p, err)
		}
	}
	for _, p := range []string{"/", "../", "public/../", "public//", "/public/", `public\`, "public/.x"} {
		if err := validatePrefix(p); !errs.Is(err, errs.Invalid) {
			t.Errorf("validatePrefix(%q) = %v; want Invalid", p, err)
		}
	}
}

func TestURLExpiry(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0:                    DefaultURLExpiry,
		-time.Second:         DefaultURLExpiry,
		time.Minute:          time.Minute,
		MaxURLExpiry + 1:     MaxURLExpiry,
		365 * 24 * time.Hour: MaxURLExpiry,
	} {
		if got := urlExpiry(in); got != want {
			t.Errorf("urlExpiry(%v) = %v, want %v", in, got, want)
		}
	}
}
