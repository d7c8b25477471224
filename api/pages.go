package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
)

// SignIn signs a visitor in from a page form with the code of
// POST /api/v1/auth/login: the same rate limits, a new session token (so a
// token planted before sign-in is worthless), the session cookie, and the
// guest's cart merged into the account's.
func (s *Server) SignIn(c *fiber.Ctx, email, password string) error {
	u, sess, err := s.deps.Accounts.Login(c.UserContext(), account.Credentials{
		Email: email, Password: password, IP: c.IP(), UserAgent: c.Get(fiber.HeaderUserAgent),
	})
	if err != nil {
		return err
	}
	SetSessionCookie(c, s.cfg, sess)
	s.mergeCartAtSignIn(c, u.ID)
	return nil
}

// SignOut ends the caller's session and clears the cookie; a visitor who
// is not signed in is left as they are.
func (s *Server) SignOut(c *fiber.Ctx) error {
	if p := principal(c); p != nil {
		if err := s.deps.Accounts.Logout(c.UserContext(), p.Session.ID); err != nil {
			return err
		}
	}
	ClearSessionCookie(c, s.cfg)
	return nil
}
