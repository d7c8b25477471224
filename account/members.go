package account

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// memberRow is a row of cooperative_members.
type memberRow struct {
	CooperativeID int64 `gorm:"primaryKey"`
	UserID        int64 `gorm:"primaryKey"`
	Role          MemberRole
	CreatedAt     time.Time
}

func (memberRow) TableName() string { return "cooperative_members" }

// invitationRow is a row of cooperative_invitations.
type invitationRow struct {
	ID            int64 `gorm:"primaryKey"`
	CooperativeID int64
	Email         string
	EmailNorm     string
	Role          MemberRole
	TokenHash     string
	InvitedBy     *int64
	CreatedAt     time.Time
	ExpiresAt     time.Time
	AcceptedAt    *time.Time
	AcceptedBy    *int64
}

func (invitationRow) TableName() string { return "cooperative_invitations" }

// Member is a person in a cooperative.
type Member struct {
	CooperativeID int64      `json:"cooperative_id"`
	UserID        int64      `json:"user_id"`
	Name          string     `json:"name"`
	Email         string     `json:"email,omitempty"` // shown to managers and administrators
	Role          MemberRole `json:"role"`
	JoinedAt      time.Time  `json:"joined_at"`
}

// Invitation is a pending invitation to join a cooperative. The secret
// token travels only in the e-mail.
type Invitation struct {
	ID            int64      `json:"id"`
	CooperativeID int64      `json:"cooperative_id"`
	Email         string     `json:"email"`
	Role          MemberRole `json:"role"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpiresAt     time.Time  `json:"expires_at"`
}

func (r invitationRow) invitation() Invitation {
	return Invitation{ID: r.ID, CooperativeID: r.CooperativeID, Email: r.Email, Role: r.Role, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
}

// Membership is one cooperative a user belongs to.
type Membership struct {
	CooperativeID int64             `json:"cooperative_id"`
	Slug          string            `json:"slug"`
	Name          string            `json:"name"`
	Status        CooperativeStatus `json:"status"`
	Role          MemberRole        `json:"role"`
}

// FindMemberships lists the cooperatives a user belongs to, by name.
func (s *Service) FindMemberships(ctx context.Context, userID int64) ([]Membership, error) {
	out := []Membership{}
	err := s.db.WithContext(ctx).Table("cooperative_members AS m").
		Select("m.cooperative_id, c.slug, c.name, c.status, m.role").
		Joins("JOIN cooperatives c ON c.id = m.cooperative_id").
		Where("m.user_id = ?", userID).Order("c.name, c.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("memberships of user %d: %w", userID, database.Translate(err))
	}
	return out, nil
}

// ListMembers returns one page of a cooperative's members, managers first,
// with the total. Members see each other's names and roles; managers and
// administrators also see e-mail addresses. It returns errs.Forbidden
// unless p may read the cooperative, and errs.Invalid for a bad page.
func (s *Service) ListMembers(ctx context.Context, p *Principal, cooperativeID int64, pg Page) ([]Member, int64, error) {
	if !p.CanReadCooperative(cooperativeID) {
		return nil, 0, errs.E(errs.Forbidden, "only the cooperative's members may see who belongs to it")
	}
	var f errs.Fields
	pg.Check(&f)
	if err := f.Err(); err != nil {
		return nil, 0, err
	}
	q := s.db.WithContext(ctx).Table("cooperative_members AS m").Where("m.cooperative_id = ?", cooperativeID).
		Session(&gorm.Session{}) // reused by the count and the page query
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count members of cooperative %d: %w", cooperativeID, database.Translate(err))
	}
	out := []Member{}
	err := q.Select("m.cooperative_id, m.user_id, u.name, u.email, m.role, m.created_at AS joined_at").
		Joins("JOIN users u ON u.id = m.user_id").
		Order("CASE WHEN m.role = 'manager' THEN 0 ELSE 1 END, u.name, u.id").
		Limit(pg.PerPage).Offset(pg.offset()).Scan(&out).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list members of cooperative %d: %w", cooperativeID, database.Translate(err))
	}
	if !p.CanManageCooperative(cooperativeID) {
		for i := range out {
			out[i].Email = ""
		}
	}
	return out, total, nil
}

// PendingInvitations lists the invitations of a cooperative that are
// neither accepted nor expired, newest first. It returns errs.Forbidden
// unless p manages the cooperative.
func (s *Service) PendingInvitations(ctx context.Context, p *Principal, cooperativeID int64) ([]Invitation, error) {
	if !p.CanManageCooperative(cooperativeID) {
		return nil, errs.E(errs.Forbidden, "only the cooperative's managers may see its invitations")
	}
	var rows []invitationRow
	err := s.db.WithContext(ctx).Where("cooperative_id = ? AND accepted_at IS NULL AND expires_at > ?", cooperativeID, s.clock()).
		Order("created_at DESC, id DESC").Limit(200).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("invitations of cooperative %d: %w", cooperativeID, database.Translate(err))
	}
	out := make([]Invitation, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.invitation())
	}
	return out, nil
}

// InviteMember invites a person, by e-mail, to join a cooperative in a
// role (member when empty), and e-mails them a link valid InvitationTTL. A
// new invitation to the same address replaces the pending one. It returns
// errs.NotFound, errs.Forbidden unless p manages the cooperative,
// errs.Invalid for bad fields, errs.Conflict when the address already
// belongs to a member, and errs.Unavailable when the e-mail cannot be sent
// (then no invitation is left behind).
func (s *Service) InviteMember(ctx context.Context, p *Principal, cooperativeID int64, email string, role MemberRole) (Invitation, error) {
	coop, err := s.FindCooperative(ctx, cooperativeID)
	if err != nil {
		return Invitation{}, err
	}
	if !p.CanManageCooperative(cooperativeID) {
		return Invitation{}, errs.E(errs.Forbidden, "only the cooperative's managers may invite members")
	}
	var f errs.Fields
	checkEmail(&f, "email", email)
	if role == "" {
		role = MemberRegular
	} else if !role.Valid() {
		f.Add("role", "must be manager or member")
	}
	if err := f.Err(); err != nil {
		return Invitation{}, err
	}
	email = strings.TrimSpace(email)
	norm := NormalizeEmail(email)
	token := randomToken()
	now := s.clock()
	row := invitationRow{CooperativeID: cooperativeID, Email: email, EmailNorm: norm, Role: role, TokenHash: tokenHash(token),
		InvitedBy: &p.UserID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	lang := p.Lang
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		var member []struct{ Lang string }
		if err := tx.Table("cooperative_members AS m").Select("u.lang").Joins("JOIN users u ON u.id = m.user_id").
			Where("m.cooperative_id = ? AND u.email_norm = ?", cooperativeID, norm).Scan(&member).Error; err != nil {
			return err
		}
		if len(member) > 0 {
			return &errs.Error{Code: errs.Conflict, Message: "this person already belongs to the cooperative",
				Fields: []errs.FieldError{{Field: "email", Message: "is already a member"}}}
		}
		var invitee []struct{ Lang string }
		if err := tx.Table("users").Select("lang").Where("email_norm = ?", norm).Scan(&invitee).Error; err != nil {
			return err
		}
		if len(invitee) > 0 {
			lang = invitee[0].Lang
		}
		if err := tx.Where("cooperative_id = ? AND email_norm = ? AND accepted_at IS NULL", cooperativeID, norm).
			Delete(&invitationRow{}).Error; err != nil {
			return err
		}
		row.ID = 0
		return tx.Create(&row).Error
	})
	if err != nil {
		return Invitation{}, fmt.Errorf("invite %s to cooperative %d: %w", norm, cooperativeID, err)
	}
	msg := invitationMessage(lang, email, p.Name, coop.Name, role, s.link(lang, "invitations/"+token))
	if err := s.mail.Send(ctx, msg); err != nil {
		// Without its e-mail the invitation is useless; take it back.
		if derr := s.db.WithContext(ctx).Where("id = ?", row.ID).Delete(&invitationRow{}).Error; derr != nil {
			s.log.ErrorContext(ctx, "withdraw unsent invitation", "invitation", row.ID, "err", derr)
		}
		if errs.As(err) == nil {
			err = errs.Wrap(errs.Unavailable, err, "the invitation e-mail could not be sent; try again later").WithRetryAfter(time.Minute)
		}
		return Invitation{}, fmt.Errorf("send invitation to cooperative %d: %w", cooperativeID, err)
	}
	return row.invitation(), nil
}

// AcceptInvitation makes the caller a member of the cooperative named by
// an invitation token sent to the caller's e-mail address. The caller gains
// the artisan role (members) or the cooperative role (managers) if they
// lacked it, and an artisan without a home cooperative gets this one. It
// returns errs.Unauthorized for an anonymous caller, errs.NotFound for an
// unknown, used or expired token, errs.Forbidden when the invitation was
// sent to another address and errs.Conflict when the caller already
// belongs to the cooperative.
func (s *Service) AcceptInvitation(ctx context.Context, p *Principal, token string) (Membership, error) {
	if p == nil {
		return Membership{}, errs.E(errs.Unauthorized, "sign in first")
	}
	notFound := errs.E(errs.NotFound, "no such invitation, or it was used or has expired")
	if !wellFormedToken(token) {
		return Membership{}, notFound
	}
	now := s.clock()
	var inv invitationRow
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("token_hash = ?", tokenHash(token)).Take(&inv).Error; err != nil {
			if errs.Is(database.Translate(err), errs.NotFound) {
				return notFound
			}
			return err
		}
		if inv.AcceptedAt != nil || !now.Before(inv.ExpiresAt) {
			return notFound
		}
		if inv.EmailNorm != NormalizeEmail(p.Email) {
			return errs.E(errs.Forbidden, "this invitation was sent to another e-mail address; sign in with that one")
		}
		var n int64
		if err := tx.Model(&memberRow{}).Where("cooperative_id = ? AND user_id = ?", inv.CooperativeID, p.UserID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, "you already belong to this cooperative")
		}
		// Single use: only the first of concurrent accepts marks it.
		res := tx.Model(&invitationRow{}).Where("id = ? AND accepted_at IS NULL", inv.ID).
			Updates(map[string]any{"accepted_at": now, "accepted_by": p.UserID})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return notFound
		}
		if err := tx.Create(&memberRow{CooperativeID: inv.CooperativeID, UserID: p.UserID, Role: inv.Role, CreatedAt: now}).Error; err != nil {
			return err
		}
		role := RoleArtisan
		if inv.Role == MemberManager {
			role = RoleCooperative
		}
		if err := grantRole(tx, p.UserID, role); err != nil {
			return err
		}
		if role == RoleArtisan {
			return adoptHomeCooperative(tx, p.UserID, inv.CooperativeID, now)
		}
		return nil
	})
	if err != nil {
		return Membership{}, fmt.Errorf("accept invitation: %w", err)
	}
	if p.Memberships != nil {
		p.Memberships[inv.CooperativeID] = inv.Role
	}
	coop, err := s.FindCooperative(ctx, inv.CooperativeID)
	if err != nil {
		return Membership{}, err
	}
	return Membership{CooperativeID: coop.ID, Slug: coop.Slug, Name: coop.Name, Status: coop.Status, Role: inv.Role}, nil
}

// grantRole gives a user a role unless they hold it.
func grantRole(tx *gorm.DB, userID int64, role Role) error {
	var n int64
	if err := tx.Model(&userRoleRow{}).Where("user_id = ? AND role = ?", userID, role).Count(&n).Error; err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	return tx.Create(&userRoleRow{UserID: userID, Role: role}).Error
}

// adoptHomeCooperative creates the artisan profile with the cooperative,
// or sets it on a profile that has none.
func adoptHomeCooperative(tx *gorm.DB, userID, cooperativeID int64, now time.Time) error {
	var prof []artisanRow
	if err := tx.Where("user_id = ?", userID).Limit(1).Find(&prof).Error; err != nil {
		return err
	}
	if len(prof) == 0 {
		return tx.Create(&artisanRow{UserID: userID, Trades: Slugs{}, CooperativeID: &cooperativeID, CreatedAt: now, UpdatedAt: now}).Error
	}
	if prof[0].CooperativeID == nil {
		return tx.Model(&artisanRow{}).Where("user_id = ?", userID).
			Updates(map[string]any{"cooperative_id": cooperativeID, "updated_at": now}).Error
	}
	return nil
}

// link is an absolute address on the site in a language.
func (s *Service) link(lang, path string) string {
	if !validLang(lang) {
		lang = "fr"
	}
	return s.baseURL + "/" + lang + "/" + path
}
