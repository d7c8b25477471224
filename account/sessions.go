package account

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// sessionRow is a row of sessions. The token is never stored, only its
// SHA-256: a copy of the database opens no session.
type sessionRow struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	IP         string
	UserAgent  string
}

func (sessionRow) TableName() string { return "sessions" }

// NewSession is a session just opened. Token is the secret the client
// presents (Bearer header or cookie); it is shown once and never stored.
type NewSession struct {
	ID        int64
	Token     string
	ExpiresAt time.Time
	CSRFToken string
}

// SessionInfo describes the session a Principal came with.
type SessionInfo struct {
	ID        int64
	ExpiresAt time.Time
	// CSRFToken is the token a cookie-authenticated form or script must send
	// back with every state-changing request (see CSRFToken).
	CSRFToken string
}

// CSRFToken returns the anti-CSRF token bound to a session: an HMAC keyed
// by the session's secret token. Only the holder of the session can compute
// it, it needs no storage and no server-wide secret (so every instance
// agrees), and it reveals nothing of the session token.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("souk/csrf/v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports, in constant time, whether given is the CSRF token of
// the session.
func CheckCSRF(sessionToken, given string) bool {
	if given == "" {
		return false
	}
	return hmac.Equal([]byte(CSRFToken(sessionToken)), []byte(given))
}

// Credentials are the input of Login.
type Credentials struct {
	Email    string
	Password string
	// IP and UserAgent identify the client for the rate limits and the
	// session. An empty IP skips the per-IP limit (trusted callers only).
	IP        string
	UserAgent string
}

// errLoginFailed is the one answer to a wrong e-mail or a wrong password,
// so that a login attempt does not tell whether an account exists.
func errLoginFailed() error {
	return errs.E(errs.Unauthorized, "the e-mail address or the password is wrong")
}

// Login checks an e-mail and password and opens a session. Every attempt
// counts against the account's limit (Limits.LoginPerAccount; a success
// clears it) and every failure against the IP's (Limits.LoginPerIP). It
// returns errs.Invalid for missing fields, errs.Unauthorized for a wrong
// e-mail or password (the same answer for both, in about the same time) and
// errs.RateLimited with a retry hint once a limit is reached.
func (s *Service) Login(ctx context.Context, in Credentials) (User, NewSession, error) {
	var f errs.Fields
	if strings.TrimSpace(in.Email) == "" {
		f.Add("email", "is required")
	}
	if in.Password == "" {
		f.Add("password", "is required")
	}
	if err := f.Err(); err != nil {
		return User{}, NewSession{}, err
	}
	ipBucket := ""
	if in.IP != "" {
		ipBucket = "login:ip:" + in.IP
		if err := s.checkLimit(ctx, ipBucket, s.limits.LoginPerIP); err != nil {
			return User{}, NewSession{}, err
		}
	}
	// The account's attempt is counted before the password is checked, so
	// that concurrent guesses cannot all slip under the limit.
	acct := accountBucket(in.Email)
	if err := s.hit(ctx, acct, s.limits.LoginPerAccount); err != nil {
		return User{}, NewSession{}, err
	}
	fail := func() (User, NewSession, error) {
		if ipBucket != "" {
			if err := s.hit(ctx, ipBucket, s.limits.LoginPerIP); err != nil && !errs.Is(err, errs.RateLimited) {
				return User{}, NewSession{}, err
			}
		}
		return User{}, NewSession{}, errLoginFailed()
	}
	if len(in.Password) > MaxPasswordLength {
		return fail()
	}
	var row userRow
	err := s.db.WithContext(ctx).Where("email_norm = ?", NormalizeEmail(in.Email)).Take(&row).Error
	if err = database.Translate(err); err != nil && !errs.Is(err, errs.NotFound) {
		return User{}, NewSession{}, fmt.Errorf("login: find user: %w", err)
	}
	if err != nil { // unknown e-mail: spend the same time as a wrong password
		if _, verr := s.verify(ctx, in.Password, s.dummyHash()); verr != nil {
			return User{}, NewSession{}, fmt.Errorf("login: %w", verr)
		}
		return fail()
	}
	ok, err := s.verify(ctx, in.Password, row.PasswordHash)
	if err != nil {
		return User{}, NewSession{}, fmt.Errorf("login: verify password of user %d: %w", row.ID, err)
	}
	if !ok {
		return fail()
	}
	s.clearLimit(ctx, acct)
	if needsRehash(row.PasswordHash, s.params) {
		// Upgrade the hash to the current costs; a failure only delays it.
		if h, err := s.hash(ctx, in.Password); err == nil {
			s.db.WithContext(ctx).Model(&userRow{}).Where("id = ? AND password_hash = ?", row.ID, row.PasswordHash).
				Update("password_hash", h)
		}
	}
	roles, err := s.rolesOf(ctx, s.db.WithContext(ctx), row.ID)
	if err != nil {
		return User{}, NewSession{}, err
	}
	sess, err := s.openSession(ctx, row.ID, in.IP, in.UserAgent)
	if err != nil {
		return User{}, NewSession{}, err
	}
	return row.user(roles), sess, nil
}

// openSession stores a new session for a user.
func (s *Service) openSession(ctx context.Context, userID int64, ip, userAgent string) (NewSession, error) {
	token := randomToken()
	now := s.clock()
	row := sessionRow{
		TokenHash: tokenHash(token), UserID: userID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.sessionTTL), IP: truncateRunes(ip, 45), UserAgent: truncateRunes(userAgent, 255),
	}
	if err := s.db.Transact(ctx, func(tx *gorm.DB) error { return tx.Create(&row).Error }); err != nil {
		return NewSession{}, fmt.Errorf("open session for user %d: %w", userID, database.Translate(err))
	}
	return NewSession{ID: row.ID, Token: token, ExpiresAt: row.ExpiresAt, CSRFToken: CSRFToken(token)}, nil
}

// Authenticate returns the principal of a session token: the user, their
// roles and their cooperative memberships, read from the database on every
// call so that a revocation or a new membership holds at once in every
// process. An unknown, revoked or expired token is errs.Unauthorized. A
// session in use has its expiry pushed forward (at most once an hour), up to
// MaxSessionAge after it was opened.
func (s *Service) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if !wellFormedToken(token) {
		return nil, errs.E(errs.Unauthorized, "the session is not valid; sign in again")
	}
	var row struct {
		ID         int64
		UserID     int64
		CreatedAt  time.Time
		LastSeenAt time.Time
		ExpiresAt  time.Time
		Email      string
		Name       string
		Lang       string
	}
	err := s.db.WithContext(ctx).Table("sessions").
		Select("sessions.id, sessions.user_id, sessions.created_at, sessions.last_seen_at, sessions.expires_at, users.email, users.name, users.lang").
		Joins("JOIN users ON users.id = sessions.user_id").
		Where("sessions.token_hash = ?", tokenHash(token)).Take(&row).Error
	if err = database.Translate(err); errs.Is(err, errs.NotFound) {
		return nil, errs.E(errs.Unauthorized, "the session is not valid; sign in again")
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	now := s.clock()
	if !now.Before(row.ExpiresAt) {
		return nil, errs.E(errs.Unauthorized, "the session has expired; sign in again")
	}
	expires := row.ExpiresAt
	if now.Sub(row.LastSeenAt) >= sessionTouchEvery {
		next := now.Add(s.sessionTTL)
		if limit := row.CreatedAt.Add(MaxSessionAge); next.After(limit) {
			next = limit
		}
		// Only a live session is extended: a concurrent logout wins.
		res := s.db.WithContext(ctx).Model(&sessionRow{}).Where("id = ? AND expires_at > ?", row.ID, now).
			Updates(map[string]any{"last_seen_at": now, "expires_at": next})
		if res.Error != nil {
			return nil, fmt.Errorf("authenticate: extend session %d: %w", row.ID, database.Translate(res.Error))
		}
		if res.RowsAffected == 0 {
			return nil, errs.E(errs.Unauthorized, "the session is not valid; sign in again")
		}
		expires = next
	}
	p := &Principal{UserID: row.UserID, Email: row.Email, Name: row.Name, Lang: row.Lang,
		Session: SessionInfo{ID: row.ID, ExpiresAt: expires, CSRFToken: CSRFToken(token)}}
	if err := s.loadGrants(ctx, s.db.WithContext(ctx), p); err != nil {
		return nil, err
	}
	return p, nil
}

// PrincipalOf builds the principal of a user without a session (for jobs,
// the command line and tests). It returns errs.NotFound for an unknown id.
func (s *Service) PrincipalOf(ctx context.Context, userID int64) (*Principal, error) {
	u, err := s.FindUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	p := &Principal{UserID: u.ID, Email: u.Email, Name: u.Name, Lang: u.Lang}
	if err := s.loadGrants(ctx, s.db.WithContext(ctx), p); err != nil {
		return nil, err
	}
	return p, nil
}

// loadGrants fills the roles and memberships of p.
func (s *Service) loadGrants(ctx context.Context, tx *gorm.DB, p *Principal) error {
	roles, err := s.rolesOf(ctx, tx, p.UserID)
	if err != nil {
		return err
	}
	p.Roles = roles
	var ms []struct {
		CooperativeID int64
		Role          MemberRole
	}
	if err := tx.Table("cooperative_members").Select("cooperative_id, role").Where("user_id = ?", p.UserID).
		Scan(&ms).Error; err != nil {
		return fmt.Errorf("memberships of user %d: %w", p.UserID, database.Translate(err))
	}
	p.Memberships = make(map[int64]MemberRole, len(ms))
	for _, m := range ms {
		p.Memberships[m.CooperativeID] = m.Role
	}
	return nil
}

// Logout revokes one session. Revoking a session that is already gone is
// not an error.
func (s *Service) Logout(ctx context.Context, sessionID int64) error {
	if err := s.db.Transact(ctx, func(tx *gorm.DB) error { return tx.Where("id = ?", sessionID).Delete(&sessionRow{}).Error }); err != nil {
		return fmt.Errorf("logout session %d: %w", sessionID, database.Translate(err))
	}
	return nil
}

// RevokeSessions revokes every session of a user and says how many there
// were.
func (s *Service) RevokeSessions(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		res := tx.Where("user_id = ?", userID).Delete(&sessionRow{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("revoke sessions of user %d: %w", userID, err)
	}
	return n, nil
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) > n {
		r = r[:n]
	}
	for len(string(r)) > n { // n bounds bytes too (VARCHAR and TEXT alike)
		r = r[:len(r)-1]
	}
	return string(r)
}
