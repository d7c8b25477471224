// Package account owns the people of Souk and what they may do: users and
// their roles, passwords (argon2id), sessions, password resets, the rate
// limits on login and sign-up, cooperatives with their members and
// invitations, artisan profiles, and the Principal whose methods are the
// authorization rules every transport asks.
//
// Everything lives in the database (sessions and rate-limit counters
// included), so any number of processes can serve one site. The package
// talks to the database through GORM and knows nothing of HTTP.
package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/mail"
)

// Options configure a Service. Only Mail is needed for the features that
// send e-mail (password reset, invitations); every other zero value takes
// the production default.
type Options struct {
	// Mail sends password-reset links and invitations.
	Mail mail.Sender
	// BaseURL is the public address of the site, used in links in e-mails.
	BaseURL string
	// Password is the argon2id cost for new hashes; zero means
	// DefaultPasswordParams. Tests use TestPasswordParams.
	Password PasswordParams
	// Limits are the login, sign-up and reset rate limits; zero fields take
	// the values of DefaultLimits.
	Limits Limits
	// SessionTTL is how long a session lives without being used (sliding);
	// zero means 30 days. No session outlives MaxSessionAge.
	SessionTTL time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger records what clients must not see (mail failures behind a
	// neutral answer); nil means slog.Default().
	Logger *slog.Logger
}

// Durations of the secrets the package hands out.
const (
	DefaultSessionTTL = 30 * 24 * time.Hour
	MaxSessionAge     = 180 * 24 * time.Hour
	PasswordResetTTL  = time.Hour
	InvitationTTL     = 14 * 24 * time.Hour
	// sessionTouchEvery bounds how often a used session's expiry is pushed
	// forward, so that reading a session is not a write on every request.
	sessionTouchEvery = time.Hour
)

// Service is the account feature: it holds the rules and runs the queries.
// It is safe for concurrent use and keeps no state that must agree between
// processes.
type Service struct {
	db         *database.DB
	mail       mail.Sender
	baseURL    string
	params     PasswordParams
	limits     Limits
	sessionTTL time.Duration
	now        func() time.Time
	log        *slog.Logger

	// hashing bounds the argon2id computations running at once: each one
	// takes params.Memory KiB, so a burst of logins cannot exhaust memory.
	hashing   chan struct{}
	dummyHash func() string
}

// New returns a Service over db.
func New(db *database.DB, opts Options) *Service {
	s := &Service{
		db:         db,
		mail:       opts.Mail,
		baseURL:    strings.TrimSuffix(opts.BaseURL, "/"),
		params:     opts.Password,
		limits:     opts.Limits.withDefaults(),
		sessionTTL: opts.SessionTTL,
		now:        opts.Now,
		log:        opts.Logger,
	}
	if s.params == (PasswordParams{}) {
		s.params = DefaultPasswordParams
	}
	if s.sessionTTL <= 0 {
		s.sessionTTL = DefaultSessionTTL
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.mail == nil {
		s.mail = noMail{}
	}
	s.hashing = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))
	// A hash of a random password with the current parameters: verifying
	// against it when the e-mail is unknown makes a failed login take as
	// long as a wrong password.
	s.dummyHash = sync.OnceValue(func() string {
		h, err := HashPassword(randomToken(), s.params)
		if err != nil {
			panic(fmt.Sprintf("account: hash a dummy password: %v", err))
		}
		return h
	})
	return s
}

// clock returns the current time in UTC, cut to the microsecond that both
// database dialects keep.
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// noMail refuses to send: the Service was built without a Sender.
type noMail struct{}

func (noMail) Send(context.Context, mail.Message) error {
	return errs.E(errs.Unavailable, "e-mail is not configured on this server")
}

// Role is what a user is on the platform. A user may hold several.
type Role string

// The roles.
const (
	RoleBuyer       Role = "buyer"       // buys products
	RoleArtisan     Role = "artisan"     // makes products, rents units
	RoleCooperative Role = "cooperative" // manages one or more cooperatives
	RoleAdmin       Role = "admin"       // runs the platform
)

// Roles lists every role, in a stable order.
var Roles = []Role{RoleBuyer, RoleArtisan, RoleCooperative, RoleAdmin}

// Valid reports whether r is one of the roles.
func (r Role) Valid() bool {
	for _, v := range Roles {
		if r == v {
			return true
		}
	}
	return false
}

// Languages are the languages of the site.
var Languages = []string{"ar", "fr", "en"}

func validLang(l string) bool {
	for _, v := range Languages {
		if l == v {
			return true
		}
	}
	return false
}

// randomToken returns 32 random bytes, base64url-encoded without padding
// (43 characters).
func randomToken() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("account: read random bytes: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// tokenHash is what is stored for a secret token: its SHA-256, in hex.
func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether s could be a token made by randomToken,
// so that garbage is refused without a query.
func wellFormedToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Slugs is a list of slugs (crafts, trades) stored as a JSON array.
type Slugs []string

// Value implements driver.Valuer.
func (s Slugs) Value() (driver.Value, error) {
	if s == nil {
		s = Slugs{}
	}
	b, err := json.Marshal([]string(s))
	return string(b), err
}

// Scan implements sql.Scanner.
func (s *Slugs) Scan(src any) error { return scanJSON(src, (*[]string)(s)) }

// Localized is text keyed by language ("ar", "fr", "en"), stored as JSON.
type Localized map[string]string

// Value implements driver.Valuer.
func (l Localized) Value() (driver.Value, error) {
	if l == nil {
		l = Localized{}
	}
	b, err := json.Marshal(map[string]string(l))
	return string(b), err
}

// Scan implements sql.Scanner.
func (l *Localized) Scan(src any) error { return scanJSON(src, (*map[string]string)(l)) }

func scanJSON(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case []byte:
		b = v
	case string:
		b = []byte(v)
	default:
		return fmt.Errorf("scan JSON column: unexpected %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("scan JSON column: %w", err)
	}
	return nil
}
