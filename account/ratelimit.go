package account

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Limit allows Max events per Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// Limits are the rate limits of the account feature. They are counted in
// the database, so they hold across every process serving the site.
type Limits struct {
	// LoginPerAccount bounds login attempts on one e-mail address (known or
	// not); a successful login clears the count. Wrong current passwords on
	// a password change count here too.
	LoginPerAccount Limit
	// LoginPerIP bounds failed logins from one client address.
	LoginPerIP Limit
	// SignUpPerIP bounds sign-ups from one client address.
	SignUpPerIP Limit
	// ResetPerIP bounds password-reset requests from one client address.
	ResetPerIP Limit
	// ResetPerAccount bounds reset e-mails to one address; beyond it
	// requests are answered as usual but send nothing.
	ResetPerAccount Limit
}

// DefaultLimits are the production limits: the 11th login attempt on an
// account within 15 minutes is refused.
var DefaultLimits = Limits{
	LoginPerAccount: Limit{Max: 10, Window: 15 * time.Minute},
	LoginPerIP:      Limit{Max: 100, Window: 15 * time.Minute},
	SignUpPerIP:     Limit{Max: 30, Window: time.Hour},
	ResetPerIP:      Limit{Max: 20, Window: time.Hour},
	ResetPerAccount: Limit{Max: 3, Window: time.Hour},
}

func (l Limits) withDefaults() Limits {
	pick := func(v, d Limit) Limit {
		if v.Max <= 0 || v.Window <= 0 {
			return d
		}
		return v
	}
	return Limits{
		LoginPerAccount: pick(l.LoginPerAccount, DefaultLimits.LoginPerAccount),
		LoginPerIP:      pick(l.LoginPerIP, DefaultLimits.LoginPerIP),
		SignUpPerIP:     pick(l.SignUpPerIP, DefaultLimits.SignUpPerIP),
		ResetPerIP:      pick(l.ResetPerIP, DefaultLimits.ResetPerIP),
		ResetPerAccount: pick(l.ResetPerAccount, DefaultLimits.ResetPerAccount),
	}
}

// retryBusy is the retry hint when the server is too busy to hash.
const retryBusy = time.Second

// accountBucket is the login bucket of an e-mail address: hashed, so the
// table holds no addresses and the key length is bounded.
func accountBucket(email string) string { return "login:acct:" + emailKey(email) }

// emailKey names an e-mail address in rate-limit buckets without storing it.
func emailKey(email string) string {
	sum := sha256.Sum256([]byte(NormalizeEmail(email)))
	return hex.EncodeToString(sum[:16])
}

func rateLimited(retry time.Duration) error {
	if retry < time.Second {
		retry = time.Second
	}
	return errs.E(errs.RateLimited, "too many attempts; try again later").WithRetryAfter(retry)
}

// hit counts one event in bucket and returns errs.RateLimited when the
// count exceeds l.Max within the window. The window opens at the first
// event and lasts l.Window; the count then starts again. (A fixed window
// lets at most 2×Max events through in any span of one window, and exactly
// Max from a standing start.)
//
// The increment is one atomic upsert, read back in the same transaction
// (which holds the row's lock), so concurrent callers in any number of
// processes each see a distinct count.
func (s *Service) hit(ctx context.Context, bucket string, l Limit) error {
	now := s.clock()
	resets := now.Add(l.Window)
	var got struct {
		Hits     int
		ResetsAt time.Time
	}
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var upsert string
		switch s.db.Dialect {
		case database.MySQL:
			// Assignments run left to right: hits is decided on the old resets_at.
			upsert = `INSERT INTO rate_limits (bucket, hits, resets_at) VALUES (?, 1, ?)
				ON DUPLICATE KEY UPDATE hits = IF(resets_at <= ?, 1, hits + 1), resets_at = IF(resets_at <= ?, ?, resets_at)`
		default:
			upsert = `INSERT INTO rate_limits (bucket, hits, resets_at) VALUES (?, 1, ?)
				ON CONFLICT (bucket) DO UPDATE SET hits = CASE WHEN resets_at <= ? THEN 1 ELSE hits + 1 END,
				resets_at = CASE WHEN resets_at <= ? THEN ? ELSE resets_at END`
		}
		if err := tx.Exec(upsert, bucket, resets, now, now, resets).Error; err != nil {
			return err
		}
		return tx.Raw("SELECT hits, resets_at FROM rate_limits WHERE bucket = ?", bucket).Scan(&got).Error
	})
	if err != nil {
		return fmt.Errorf("count %s: %w", bucket, err)
	}
	if got.Hits > l.Max {
		return rateLimited(got.ResetsAt.Sub(now))
	}
	return nil
}

// checkLimit returns errs.RateLimited when bucket already holds l.Max events
// in a live window, without counting one.
func (s *Service) checkLimit(ctx context.Context, bucket string, l Limit) error {
	now := s.clock()
	var got []struct {
		Hits     int
		ResetsAt time.Time
	}
	if err := s.db.WithContext(ctx).Raw("SELECT hits, resets_at FROM rate_limits WHERE bucket = ? AND resets_at > ?", bucket, now).
		Scan(&got).Error; err != nil {
		return fmt.Errorf("check %s: %w", bucket, database.Translate(err))
	}
	if len(got) == 1 && got[0].Hits >= l.Max {
		return rateLimited(got[0].ResetsAt.Sub(now))
	}
	return nil
}

// clearLimit forgets the events of bucket (after a successful login). A
// failure is logged: it only leaves the count to expire on its own.
func (s *Service) clearLimit(ctx context.Context, bucket string) {
	if err := s.db.WithContext(ctx).Exec("DELETE FROM rate_limits WHERE bucket = ?", bucket).Error; err != nil {
		s.log.WarnContext(ctx, "clear rate limit", "bucket", bucket, "err", err)
	}
}

// Sweep deletes what has expired: rate-limit windows, sessions, password
// reset tokens (used or not, a day after they expire) and invitations
// (thirty days after they expire unaccepted). It is safe to run in every
// process at once and returns the number of rows deleted.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	now := s.clock()
	stmts := []struct {
		what string
		sql  string
		arg  time.Time
	}{
		{"rate limits", "DELETE FROM rate_limits WHERE resets_at <= ?", now},
		{"sessions", "DELETE FROM sessions WHERE expires_at <= ?", now},
		{"password resets", "DELETE FROM password_resets WHERE expires_at <= ?", now.Add(-24 * time.Hour)},
		{"invitations", "DELETE FROM cooperative_invitations WHERE accepted_at IS NULL AND expires_at <= ?", now.Add(-30 * 24 * time.Hour)},
	}
	var total int64
	for _, st := range stmts {
		res := s.db.WithContext(ctx).Exec(st.sql, st.arg)
		if res.Error != nil {
			return total, fmt.Errorf("sweep %s: %w", st.what, database.Translate(res.Error))
		}
		total += res.RowsAffected
	}
	return total, nil
}

// RunSweeper calls Sweep every interval until ctx ends, logging failures.
// Start it once per process (`go svc.RunSweeper(ctx, 10*time.Minute)`).
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := s.Sweep(ctx); err != nil {
				s.log.WarnContext(ctx, "account sweep failed", "err", err)
			} else if n > 0 {
				s.log.DebugContext(ctx, "account sweep", "deleted", n)
			}
		}
	}
}
