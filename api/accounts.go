package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
)

// accountRoutes are the routes of the account package: sign-up, sessions,
// the caller's own account, administrators' accounts, and cooperatives
// (cooperatives.go). Without Deps.Accounts they answer 503.
func (s *Server) accountRoutes() []Route {
	rs := []Route{
		{"POST", "/api/v1/auth/register", Public, s.registerUser},
		{"POST", "/api/v1/auth/login", Public, s.login},
		{"POST", "/api/v1/auth/logout", Authenticated, s.logout},
		{"POST", "/api/v1/auth/password-reset", Public, s.requestPasswordReset},
		{"POST", "/api/v1/auth/password-reset/confirm", Public, s.confirmPasswordReset},
		{"GET", "/api/v1/me", Authenticated, s.showMe},
		{"PATCH", "/api/v1/me", Authenticated, s.updateMe},
		{"POST", "/api/v1/me/password", Authenticated, s.changePassword},
		{"POST", "/api/v1/admin/users", AdminOnly, s.createUser},
	}
	rs = append(rs, s.cooperativeRoutes()...)
	if s.deps.Accounts == nil {
		for i := range rs {
			rs[i].Handler = func(*fiber.Ctx) error {
				return errs.E(errs.Unavailable, "accounts are not configured on this server")
			}
		}
	}
	return rs
}

// meAnswer is the caller's own account.
type meAnswer struct {
	account.User
	Memberships []account.Membership    `json:"memberships"`
	Artisan     *account.ArtisanProfile `json:"artisan,omitempty"`
	// CSRFToken is the token cookie-authenticated requests must send back.
	CSRFToken string `json:"csrf_token,omitempty"`
}

func (s *Server) me(c *fiber.Ctx, p *account.Principal) (meAnswer, error) {
	ctx := c.UserContext()
	u, err := s.deps.Accounts.FindUser(ctx, p.UserID)
	if err != nil {
		return meAnswer{}, err
	}
	ms, err := s.deps.Accounts.FindMemberships(ctx, p.UserID)
	if err != nil {
		return meAnswer{}, err
	}
	out := meAnswer{User: u, Memberships: ms, CSRFToken: p.Session.CSRFToken}
	if u.HasRole(account.RoleArtisan) {
		prof, err := s.deps.Accounts.FindArtisanProfile(ctx, p.UserID)
		switch {
		case err == nil:
			out.Artisan = &prof
		case !errs.Is(err, errs.NotFound):
			return meAnswer{}, err
		}
	}
	return out, nil
}

// showMe answers the caller's account, memberships and artisan profile.
func (s *Server) showMe(c *fiber.Ctx) error {
	out, err := s.me(c, principal(c))
	if err != nil {
		return err
	}
	return c.JSON(out)
}

type artisanPatchRequest struct {
	Trades        *[]string `json:"trades"`
	Commune       *string   `json:"commune"`
	CooperativeID *int64    `json:"cooperative_id"`
}

type mePatchRequest struct {
	Name    *string              `json:"name"`
	Phone   *string              `json:"phone"`
	Lang    *string              `json:"lang"`
	Artisan *artisanPatchRequest `json:"artisan"`
}

// updateMe changes the caller's name, phone, language or artisan profile.
func (s *Server) updateMe(c *fiber.Ctx) error {
	var in mePatchRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	patch := account.ProfilePatch{Name: in.Name, Phone: in.Phone, Lang: in.Lang}
	if in.Artisan != nil {
		patch.Artisan = &account.ArtisanPatch{Trades: in.Artisan.Trades, Commune: in.Artisan.Commune, CooperativeID: in.Artisan.CooperativeID}
	}
	p := principal(c)
	if _, err := s.deps.Accounts.UpdateProfile(c.UserContext(), p, patch); err != nil {
		return err
	}
	out, err := s.me(c, p)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

type passwordChangeRequest struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

// changePassword replaces the caller's password; their other sessions end.
func (s *Server) changePassword(c *fiber.Ctx) error {
	var in passwordChangeRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	if err := s.deps.Accounts.ChangePassword(c.UserContext(), principal(c), in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type createUserRequest struct {
	Email    string   `json:"email"`
	Password string   `json:"password"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Lang     string   `json:"lang"`
	Phone    string   `json:"phone"`
}

// createUser lets an administrator create an account with any roles.
func (s *Server) createUser(c *fiber.Ctx) error {
	var in createUserRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	roles := make([]account.Role, len(in.Roles))
	for i, r := range in.Roles {
		roles[i] = account.Role(r)
	}
	u, err := s.deps.Accounts.CreateUser(c.UserContext(), principal(c), account.NewUser{
		Email: in.Email, Password: in.Password, Name: in.Name, Roles: roles, Lang: in.Lang, Phone: in.Phone,
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"user": u})
}
