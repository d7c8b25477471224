package account

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// resetRow is a row of password_resets; like a session, only the token's
// hash is kept.
type resetRow struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (resetRow) TableName() string { return "password_resets" }

// RequestPasswordReset e-mails a single-use link, valid PasswordResetTTL,
// to the account with the address. The answer is the same whether or not
// such an account exists: unknown addresses, the per-account limit and
// mail failures all return nil (failures are logged). It returns
// errs.Invalid for a malformed address and errs.RateLimited when the
// client's IP has asked too often.
func (s *Service) RequestPasswordReset(ctx context.Context, email, ip string) error {
	var f errs.Fields
	checkEmail(&f, "email", email)
	if err := f.Err(); err != nil {
		return err
	}
	if ip != "" {
		if err := s.hit(ctx, "reset:ip:"+ip, s.limits.ResetPerIP); err != nil {
			return err
		}
	}
	var row userRow
	err := database.Translate(s.db.WithContext(ctx).Where("email_norm = ?", NormalizeEmail(email)).Take(&row).Error)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("password reset: find user: %w", err)
	}
	if err := s.hit(ctx, "reset:acct:"+emailKey(email), s.limits.ResetPerAccount); err != nil {
		if errs.Is(err, errs.RateLimited) {
			s.log.InfoContext(ctx, "password reset e-mail withheld: too many for this account", "user", row.ID)
			return nil
		}
		return err
	}
	token := randomToken()
	now := s.clock()
	reset := resetRow{TokenHash: tokenHash(token), UserID: row.ID, CreatedAt: now, ExpiresAt: now.Add(PasswordResetTTL)}
	if err := s.db.WithContext(ctx).Create(&reset).Error; err != nil {
		return fmt.Errorf("password reset for user %d: %w", row.ID, database.Translate(err))
	}
	msg := resetMessage(row.Lang, row.Email, row.Name, s.link(row.Lang, "password-reset?token="+token))
	if err := s.mail.Send(ctx, msg); err != nil {
		s.log.ErrorContext(ctx, "send password reset e-mail", "user", row.ID, "err", err)
		s.db.WithContext(ctx).Where("id = ?", reset.ID).Delete(&resetRow{})
	}
	return nil
}

// ConfirmPasswordReset sets a new password with a token from
// RequestPasswordReset. The token works once; every session of the account
// is revoked and its login limit cleared (so a locked-out owner gets back
// in). It returns errs.Invalid for a weak password or a token that is
// unknown, used or expired.
func (s *Service) ConfirmPasswordReset(ctx context.Context, token, password string) error {
	var f errs.Fields
	if token == "" {
		f.Add("token", "is required")
	}
	if err := CheckPassword("password", password, ""); err != nil {
		f = append(f, errs.As(err).Fields...)
	}
	if err := f.Err(); err != nil {
		return err
	}
	badToken := errs.InvalidField("token", "is not valid, was already used or has expired; ask for a new link")
	if !wellFormedToken(token) {
		return badToken
	}
	var found []struct {
		ID     int64
		UserID int64
		Email  string
	}
	if err := s.db.WithContext(ctx).Table("password_resets AS r").Select("r.id, r.user_id, u.email").
		Joins("JOIN users u ON u.id = r.user_id").
		Where("r.token_hash = ? AND r.used_at IS NULL AND r.expires_at > ?", tokenHash(token), s.clock()).
		Scan(&found).Error; err != nil {
		return fmt.Errorf("password reset: find token: %w", database.Translate(err))
	}
	if len(found) != 1 {
		return badToken
	}
	r := found[0]
	if err := CheckPassword("password", password, r.Email); err != nil {
		return err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return fmt.Errorf("password reset for user %d: %w", r.UserID, err)
	}
	now := s.clock()
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		// Single use: of two concurrent confirmations only one marks the token.
		res := tx.Model(&resetRow{}).Where("id = ? AND used_at IS NULL AND expires_at > ?", r.ID, now).Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return badToken
		}
		// Other outstanding links of the account die with this one.
		if err := tx.Model(&resetRow{}).Where("user_id = ? AND used_at IS NULL", r.UserID).Update("used_at", now).Error; err != nil {
			return err
		}
		if err := tx.Model(&userRow{}).Where("id = ?", r.UserID).
			Updates(map[string]any{"password_hash": hash, "updated_at": now}).Error; err != nil {
			return err
		}
		return tx.Where("user_id = ?", r.UserID).Delete(&sessionRow{}).Error
	})
	if err != nil {
		return fmt.Errorf("password reset for user %d: %w", r.UserID, err)
	}
	s.clearLimit(ctx, accountBucket(r.Email))
	return nil
}
