package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/souk-tiznit/souk/errs"
)

// PasswordParams are the argon2id costs of a password hash. They are written
// into every hash (PHC string format), so hashes made with older parameters
// keep verifying and are upgraded at the next successful login.
type PasswordParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultPasswordParams are the production costs: 64 MiB, 2 passes, 2
// lanes, a 16-byte salt and a 32-byte key — within RFC 9106's second
// recommended option (64 MiB) and above OWASP's minimum (19 MiB, t=2, p=1).
// One hash takes about 50–100 ms on a current server core; the Service runs
// at most GOMAXPROCS of them at once so memory stays bounded under a burst.
var DefaultPasswordParams = PasswordParams{Memory: 64 * 1024, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}

// TestPasswordParams are deliberately cheap costs (64 KiB, one pass) that
// keep test suites fast. Never use them in production.
var TestPasswordParams = PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// Password rules.
const (
	MinPasswordLength = 10   // characters
	MaxPasswordLength = 1024 // bytes: bounds the work a login can ask for
)

// HashPassword returns the argon2id hash of password in PHC string format:
//
//	$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>
//
// with salt and hash in unpadded standard base64.
func HashPassword(password string, p PasswordParams) (string, error) {
	if p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1 || p.SaltLen < 8 || p.KeyLen < 16 {
		return "", fmt.Errorf("argon2id parameters too weak: %+v", p)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// errBadHash reports a stored hash that is not an argon2id PHC string.
var errBadHash = errors.New("not an argon2id PHC hash")

// ParsePasswordHash reads the parameters, salt and key of a PHC string
// made by HashPassword.
func ParsePasswordHash(hash string) (p PasswordParams, salt, key []byte, err error) {
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: version %q", errBadHash, parts[2])
	}
	var m, t, threads uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, errBadHash
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, fmt.Errorf("%w: %s", errBadHash, kv)
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			threads = n
		default:
			return p, nil, nil, fmt.Errorf("%w: unknown parameter %q", errBadHash, k)
		}
	}
	if m == 0 || t == 0 || threads == 0 || threads > 255 {
		return p, nil, nil, fmt.Errorf("%w: parameters %s", errBadHash, parts[3])
	}
	if salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, fmt.Errorf("%w: salt", errBadHash)
	}
	if key, err = base64.RawStdEncoding.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, fmt.Errorf("%w: key", errBadHash)
	}
	p = PasswordParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(threads), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}

// VerifyPassword reports whether password matches the PHC hash, comparing
// in constant time. A malformed hash is an error, never a match.
func VerifyPassword(password, hash string) (bool, error) {
	p, salt, key, err := ParsePasswordHash(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// needsRehash reports whether hash was made with parameters other than p.
func needsRehash(hash string, p PasswordParams) bool {
	got, _, _, err := ParsePasswordHash(hash)
	return err != nil || got != p
}

// hash and verify run argon2id under the Service's concurrency bound.
func (s *Service) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return "", err
	}
	defer func() { <-s.hashing }()
	return HashPassword(password, s.params)
}

func (s *Service) verify(ctx context.Context, password, hash string) (bool, error) {
	if err := s.acquireHashing(ctx); err != nil {
		return false, err
	}
	defer func() { <-s.hashing }()
	return VerifyPassword(password, hash)
}

func (s *Service) acquireHashing(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return errs.Wrap(errs.Unavailable, ctx.Err(), "the server is busy; try again").WithRetryAfter(retryBusy)
	}
}

// CheckPassword applies the password rules — at least MinPasswordLength
// characters, at most MaxPasswordLength bytes, not a common password, not
// the e-mail address — and names field in the error it returns.
func CheckPassword(field, password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		return errs.InvalidField(field, "is required")
	case n < MinPasswordLength:
		return errs.InvalidField(field, "must be at least %d characters long", MinPasswordLength)
	case len(password) > MaxPasswordLength:
		return errs.InvalidField(field, "must be at most %d bytes long", MaxPasswordLength)
	case isCommonPassword(password):
		return errs.InvalidField(field, "is too common; choose a password that is harder to guess")
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return errs.InvalidField(field, "must not be your e-mail address")
	}
	return nil
}

// isCommonPassword reports a password from the built-in list (compared
// without case) or one made of a single repeated character.
func isCommonPassword(pw string) bool {
	lower := strings.ToLower(pw)
	if _, ok := commonPasswords[lower]; ok {
		return true
	}
	first, _ := utf8.DecodeRuneInString(pw)
	return strings.Trim(pw, string(first)) == ""
}

// commonPasswords are frequent passwords of ten characters or more (shorter
// ones fail the length rule anyway), from public breach lists, with French,
// Moroccan and site-specific ones added.
var commonPasswords = func() map[string]struct{} {
	list := []string{
		"1234567890", "0123456789", "0987654321", "12345678910", "123456789a", "a123456789", "1q2w3e4r5t",
		"1qaz2wsx3edc", "qwertyuiop", "qwerty1234", "qwerty12345", "qwerty123456", "azertyuiop", "azerty1234",
		"azerty12345", "azerty123456", "password12", "password123", "password1234", "passw0rd123", "p@ssw0rd123",
		"motdepasse", "motdepasse1", "motdepasse123", "iloveyou12", "iloveyou123", "letmein123", "welcome123",
		"welcome1234", "changeme123", "administrator", "admin12345", "admin123456", "princess123", "football123",
		"sunshine123", "trustno1234", "abcdefghij", "abcdefghijk", "abc1234567", "abcd123456", "zxcvbnm123",
		"asdfghjkl1", "asdfghjkl123", "1111111111", "1234512345", "1122334455", "5555555555", "9876543210",
		"123123123123", "123qweasdzxc", "soleil1234", "bonjour123", "marseille13", "maroc12345", "morocco123",
		"morocco2024", "morocco2025", "marrakech123", "casablanca1", "casablanca123", "agadir1234", "tiznit1234",
		"souk123456", "souk-tiznit", "soukpassword", "bismillah1", "bismillah123", "allahakbar", "elhamdulillah",
		"mohammed123", "fatimazahra", "iloveyouforever", "qwertyuiop123", "superman123", "starwars123",
	}
	m := make(map[string]struct{}, len(list))
	for _, p := range list {
		m[p] = struct{}{}
	}
	return m
}()
