package account_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
)

var phc = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$`)

// Hashes are argon2id in PHC format with the parameters written in, salted
// (two hashes of one password differ) and verified in both directions.
func TestHashPasswordFormat(t *testing.T) {
	for name, p := range map[string]account.PasswordParams{"test": account.TestPasswordParams, "default": account.DefaultPasswordParams} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			h, err := account.HashPassword("tagine au safran", p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s params: one hash took %v", name, time.Since(start))
			m := phc.FindStringSubmatch(h)
			if m == nil {
				t.Fatalf("hash %q is not a PHC argon2id string", h)
			}
			want := []string{itoa(p.Memory), itoa(p.Time), itoa(uint32(p.Threads))}
			if m[1] != want[0] || m[2] != want[1] || m[3] != want[2] {
				t.Fatalf("parameters m=%s,t=%s,p=%s, want %v", m[1], m[2], m[3], want)
			}
			ok, err := account.VerifyPassword("tagine au safran", h)
			if err != nil || !ok {
				t.Fatalf("right password: ok=%v err=%v", ok, err)
			}
			ok, err = account.VerifyPassword("tagine au safraN", h)
			if err != nil || ok {
				t.Fatalf("wrong password: ok=%v err=%v", ok, err)
			}
			h2, _ := account.HashPassword("tagine au safran", p)
			if h2 == h {
				t.Fatal("two hashes of one password are equal: no salt?")
			}
		})
	}
}

func itoa(n uint32) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}

func TestDefaultPasswordParamsAreProductionGrade(t *testing.T) {
	p := account.DefaultPasswordParams
	if p.Memory < 19*1024 || p.Time < 1 || p.Threads < 1 || p.SaltLen < 16 || p.KeyLen < 32 {
		t.Fatalf("default argon2id parameters too weak: %+v", p)
	}
}

// A malformed or foreign hash never matches.
func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	good, _ := account.HashPassword("tagine au safran", account.TestPasswordParams)
	bad := []string{
		"",
		"plain text",
		"$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=64", "m=0", 1),
		strings.Replace(good, "t=1", "t=x", 1),
		good[:len(good)-10],
		good + "$extra",
	}
	for _, h := range bad {
		ok, err := account.VerifyPassword("tagine au safran", h)
		if ok || err == nil {
			t.Errorf("hash %q: ok=%v err=%v, want an error and no match", h, ok, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, pw, email string
		wantErr         string // "" for OK
	}{
		{"OK", "tagine au safran", "", ""},
		{"OKArabic", "كلمة سر طويلة", "", ""},
		{"ErrRequired", "", "", "is required"},
		{"ErrShort", "short pw1", "", "at least 10"},
		{"ErrShortRunes", "ⵜⵉⵣⵏⵉⵜ", "", "at least 10"}, // 18 bytes but 6 characters
		{"ErrCommon", "Password123", "", "too common"},
		{"ErrCommonFrench", "azertyuiop", "", "too common"},
		{"ErrRepeated", "zzzzzzzzzzzz", "", "too common"},
		{"ErrEmail", "fatima@coop.ma", "Fatima@coop.ma", "e-mail"},
		{"ErrLong", strings.Repeat("ab", 600), "", "at most"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := account.CheckPassword("password", tt.pw, tt.email)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "password" ||
				!strings.Contains(e.Fields[0].Message, tt.wantErr) {
				t.Fatalf("got %v, want invalid password %q", err, tt.wantErr)
			}
		})
	}
}
