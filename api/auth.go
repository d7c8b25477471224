package api

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/errs"
)

// Credentials and CSRF names.
const (
	// SessionCookie holds the session token for browsers.
	SessionCookie = "souk_session"
	// CSRFHeader carries the CSRF token of a cookie-authenticated request
	// that changes state.
	CSRFHeader = "X-CSRF-Token"
	// CSRFFormField carries it in an HTML form.
	CSRFFormField = "csrf_token"

	localPrincipal = account.PrincipalLocalsKey
)

// authenticate is the middleware that loads the caller once per request:
// it reads the session token from `Authorization: Bearer` or, failing that,
// from the session cookie, asks account.Service.Authenticate, and keeps the
// principal for policies and handlers (see principal). No credentials means
// an anonymous caller.
//
// A bad Bearer token is refused (401) so that API clients learn to sign in
// again; a stale cookie is cleared and the request goes on anonymously.
// A cookie-authenticated request that changes state (POST, PUT, PATCH,
// DELETE) must carry the session's CSRF token in the X-CSRF-Token header or
// the csrf_token form field, else it is refused (403): a cross-site page can
// make the browser send the cookie, but cannot read the token. Bearer
// requests need no CSRF token, since no browser adds that header on its own.
func (s *Server) authenticate(c *fiber.Ctx) error {
	if s.deps.Accounts == nil || skipsAuthentication(c.Path()) {
		return c.Next()
	}
	token, fromCookie := sessionToken(c)
	if token == "" {
		return c.Next()
	}
	p, err := s.deps.Accounts.Authenticate(c.UserContext(), token)
	if err != nil {
		if errs.Is(err, errs.Unauthorized) && fromCookie {
			ClearSessionCookie(c, s.cfg)
			return c.Next()
		}
		return err
	}
	if fromCookie && changesState(c.Method()) {
		given := c.Get(CSRFHeader)
		if given == "" && isForm(c) {
			given = c.FormValue(CSRFFormField)
		}
		if !account.CheckCSRF(token, given) {
			return errs.E(errs.Forbidden, "missing or wrong CSRF token: send the session's token in the %s header", CSRFHeader)
		}
	}
	c.Locals(localPrincipal, p)
	return c.Next()
}

// skipsAuthentication lists the paths that never need a caller: operations
// endpoints and static files, which would otherwise cost a query each.
func skipsAuthentication(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/api/openapi.yaml", "/api/docs", "/favicon.ico", "/robots.txt":
		return true
	}
	return strings.HasPrefix(path, "/static/")
}

// sessionToken returns the token of the request and whether it came from
// the cookie (true) or the Authorization header (false).
func sessionToken(c *fiber.Ctx) (string, bool) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok), false
		}
	}
	return c.Cookies(SessionCookie), true
}

func changesState(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return false
	}
	return true
}

func isForm(c *fiber.Ctx) bool {
	ct := strings.ToLower(c.Get(fiber.HeaderContentType))
	return strings.HasPrefix(ct, fiber.MIMEApplicationForm) || strings.HasPrefix(ct, fiber.MIMEMultipartForm)
}

// principal returns the caller of the request, or nil when anonymous.
func principal(c *fiber.Ctx) *account.Principal {
	p, _ := c.Locals(localPrincipal).(*account.Principal)
	return p
}

// CurrentPrincipal returns the caller of a request that went through the
// API server's middleware (pages mounted on App() included), or nil when
// anonymous.
func CurrentPrincipal(c *fiber.Ctx) *account.Principal { return principal(c) }

// CSRFToken returns the CSRF token a page must put in its forms (field
// csrf_token) or scripts must send (header X-CSRF-Token) for the request's
// session, or "" for an anonymous caller.
func CSRFToken(c *fiber.Ctx) string {
	if p := principal(c); p != nil {
		return p.Session.CSRFToken
	}
	return ""
}

// SetSessionCookie hands a new session to a browser: HttpOnly, SameSite=Lax,
// Secure outside development, for the whole site. The cookie may outlive
// the session (the server decides when a session ends and clears a stale
// cookie), so it lasts as long as a session can.
func SetSessionCookie(c *fiber.Ctx, cfg config.Config, sess account.NewSession) {
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookie,
		Value:    sess.Token,
		Path:     "/",
		Expires:  time.Now().Add(account.MaxSessionAge),
		HTTPOnly: true,
		Secure:   !cfg.Development(),
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// ClearSessionCookie removes the session cookie from a browser.
func ClearSessionCookie(c *fiber.Ctx, cfg config.Config) {
	c.Cookie(&fiber.Cookie{
		Name:     SessionCookie,
		Value:    "",
		Path:     "/",
		Expires:  time.Unix(0, 0),
		HTTPOnly: true,
		Secure:   !cfg.Development(),
		SameSite: fiber.CookieSameSiteLaxMode,
	})
}

// sessionAnswer is the answer to a sign-up or a login.
type sessionAnswer struct {
	Token     string       `json:"token"`
	ExpiresAt time.Time    `json:"expires_at"`
	CSRFToken string       `json:"csrf_token"`
	User      account.User `json:"user"`
}

type registerRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Lang     string `json:"lang"`
	Phone    string `json:"phone"`
}

// registerUser signs a person up and signs them in.
func (s *Server) registerUser(c *fiber.Ctx) error {
	var in registerRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	u, sess, err := s.deps.Accounts.Register(c.UserContext(), account.Registration{
		Email: in.Email, Password: in.Password, Name: in.Name, Role: in.Role, Lang: in.Lang, Phone: in.Phone,
		IP: c.IP(), UserAgent: c.Get(fiber.HeaderUserAgent),
	})
	if err != nil {
		return err
	}
	SetSessionCookie(c, s.cfg, sess)
	s.mergeCartAtSignIn(c, u.ID)
	return c.Status(fiber.StatusCreated).JSON(sessionAnswer{Token: sess.Token, ExpiresAt: sess.ExpiresAt, CSRFToken: sess.CSRFToken, User: u})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// login signs a person in.
func (s *Server) login(c *fiber.Ctx) error {
	var in loginRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	u, sess, err := s.deps.Accounts.Login(c.UserContext(), account.Credentials{
		Email: in.Email, Password: in.Password, IP: c.IP(), UserAgent: c.Get(fiber.HeaderUserAgent),
	})
	if err != nil {
		return err
	}
	SetSessionCookie(c, s.cfg, sess)
	s.mergeCartAtSignIn(c, u.ID)
	return c.JSON(sessionAnswer{Token: sess.Token, ExpiresAt: sess.ExpiresAt, CSRFToken: sess.CSRFToken, User: u})
}

// logout ends the caller's session.
func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.deps.Accounts.Logout(c.UserContext(), principal(c).Session.ID); err != nil {
		return err
	}
	ClearSessionCookie(c, s.cfg)
	return c.SendStatus(fiber.StatusNoContent)
}

type passwordResetRequest struct {
	Email string `json:"email"`
}

// requestPasswordReset e-mails a reset link if the account exists, and
// answers the same either way.
func (s *Server) requestPasswordReset(c *fiber.Ctx) error {
	var in passwordResetRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	if err := s.deps.Accounts.RequestPasswordReset(c.UserContext(), in.Email, c.IP()); err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{
		"message": "if an account uses this address, a link to choose a new password is on its way",
	})
}

type passwordResetConfirmRequest struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// confirmPasswordReset sets a new password with a token from the e-mail.
func (s *Server) confirmPasswordReset(c *fiber.Ctx) error {
	var in passwordResetConfirmRequest
	if err := decodeSmallJSON(c, &in); err != nil {
		return err
	}
	if err := s.deps.Accounts.ConfirmPasswordReset(c.UserContext(), in.Token, in.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// maxAccountBody bounds the JSON bodies of the account routes, far below
// the server-wide limit that uploads need.
const maxAccountBody = 64 << 10

// decodeSmallJSON is decodeJSON for bodies of at most maxAccountBody bytes.
func decodeSmallJSON(c *fiber.Ctx, dst any) error {
	if len(c.Body()) > maxAccountBody {
		return errs.E(errs.TooLarge, "the request body is too large (at most %d KiB)", maxAccountBody>>10)
	}
	return decodeJSON(c, dst)
}
