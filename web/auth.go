package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
)

// Sessions sign visitors in and out of the pages with the API's own
// session code (api.Server.SignIn and SignOut), wired by internal/server.
type Sessions struct {
	SignIn  func(c *fiber.Ctx, email, password string) error
	SignOut func(c *fiber.Ctx) error
}

// mountAuthPages registers sign-in, sign-out and the dashboard's front
// door.
func (s *site) mountAuthPages(app *fiber.App) {
	app.Get("/:lang<len(2)>/login", s.withLang(s.showLoginPage))
	app.Post("/:lang<len(2)>/login", s.withLang(s.submitLogin))
	app.Post("/:lang<len(2)>/logout", s.withLang(s.submitLogout))
	app.Get("/:lang<len(2)>/dashboard", s.withLang(s.signedIn(s.showDashboardHome)))
}

// loginView is what the sign-in page shows.
type loginView struct {
	Email, Next, CSRF, Error string
}

// safeNext is where to go after signing in: a path on this site only
// (never another host: //evil.example, /\evil.example, https://…), the
// dashboard otherwise.
func safeNext(next, lang string) string {
	fallback := "/" + lang + "/dashboard"
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t") {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") {
		return fallback
	}
	return u.RequestURI()
}

func (s *site) showLoginPage(c *fiber.Ctx, lang string) error {
	next := safeNext(c.Query("next"), lang)
	if principalOf(c) != nil {
		return c.Redirect(next, http.StatusSeeOther)
	}
	return s.renderLogin(c, lang, http.StatusOK, loginView{Next: next})
}

func (s *site) renderLogin(c *fiber.Ctx, lang string, status int, v loginView) error {
	p := s.page(c, lang, T(lang, "auth.title"), "/login")
	p.NoIndex = true
	v.CSRF = s.csrfToken(c)
	return render(c, status, loginPage(p, v))
}

// submitLogin signs in and goes where the visitor was going. A wrong
// e-mail or password gets one answer whichever it was (no enumeration).
func (s *site) submitLogin(c *fiber.Ctx, lang string) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	v := loginView{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"), lang)}
	if s.deps.Sessions.SignIn == nil {
		return errs.E(errs.Unavailable, "signing in is not available on this server")
	}
	err := s.deps.Sessions.SignIn(c, v.Email, c.FormValue("password"))
	switch {
	case err == nil:
		return c.Redirect(v.Next, http.StatusSeeOther)
	case errs.Is(err, errs.RateLimited):
		v.Error = T(lang, "auth.rate_limited")
		return s.renderLogin(c, lang, http.StatusTooManyRequests, v)
	case errs.Is(err, errs.Unauthorized), errs.Is(err, errs.Invalid):
		v.Error = T(lang, "auth.wrong")
		return s.renderLogin(c, lang, http.StatusUnauthorized, v)
	}
	return err
}

func (s *site) submitLogout(c *fiber.Ctx, lang string) error {
	if err := s.checkCSRF(c); err != nil {
		return err
	}
	if s.deps.Sessions.SignOut != nil {
		if err := s.deps.Sessions.SignOut(c); err != nil {
			return err
		}
	}
	return c.Redirect("/"+lang+"/", http.StatusSeeOther)
}

// signedIn sends a signed-out visitor to the sign-in page, with the page
// they wanted as next.
func (s *site) signedIn(h func(c *fiber.Ctx, lang string, p *account.Principal) error) func(c *fiber.Ctx, lang string) error {
	return func(c *fiber.Ctx, lang string) error {
		p := principalOf(c)
		if p == nil {
			return c.Redirect("/"+lang+"/login?next="+url.QueryEscape(string(c.Request().RequestURI())), http.StatusSeeOther)
		}
		c.Set(fiber.HeaderCacheControl, "private, no-store")
		return h(c, lang, p)
	}
}

// dashLink is one entry of the dashboard's menu.
type dashLink struct {
	Href, Label string
	Active      bool
}

// dashboardLinks are the sections a signed-in person may open: their
// cooperatives, their bookings as an artisan, the administration.
func (s *site) dashboardLinks(c *fiber.Ctx, lang string, p *account.Principal) []dashLink {
	var out []dashLink
	base := "/" + lang + "/dashboard"
	if p.IsAdmin() {
		out = append(out, dashLink{Href: base + "/admin", Label: T(lang, "dashboard.admin")})
	}
	if s.deps.Accounts != nil {
		ms, err := s.deps.Accounts.FindMemberships(c.UserContext(), p.UserID)
		if err == nil {
			for _, m := range ms {
				out = append(out, dashLink{Href: base + "/cooperatives/" + strconv.FormatInt(m.CooperativeID, 10), Label: m.Name})
			}
		} else {
			s.log.WarnContext(c.UserContext(), "list a dashboard's cooperatives", "err", err)
		}
	}
	if p.HasRole(account.RoleArtisan) || p.IsAdmin() || len(p.Memberships) > 0 {
		out = append(out, dashLink{Href: base + "/artisan", Label: T(lang, "dashboard.artisan")})
	}
	path := string(c.Request().URI().Path())
	for i := range out {
		out[i].Active = path == out[i].Href || strings.HasPrefix(path, out[i].Href+"/")
	}
	return out
}

// showDashboardHome lists the sections a person may open.
func (s *site) showDashboardHome(c *fiber.Ctx, lang string, p *account.Principal) error {
	links := s.dashboardLinks(c, lang, p)
	pg := s.page(c, lang, T(lang, "dashboard.title"), "/dashboard")
	pg.NoIndex = true
	return render(c, http.StatusOK, dashboardHome(pg, p.Name, links, s.csrfToken(c)))
}
