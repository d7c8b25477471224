package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/internal/testserver"
)

const authPassword = "a long enough password"

// Sign-in from the pages: a signed-out visitor asking for the dashboard is
// sent to the sign-in page with where they were going; a wrong password
// gets the same answer as an unknown e-mail; signing in issues a new
// session cookie and goes back to the page asked for, never to another
// host; the form needs its CSRF token; signing out ends the session.
func TestSignInFromThePages(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	ctx := context.Background()
	if _, _, err := s.Accounts.Register(ctx, account.Registration{Email: "amina@souk.test", Password: authPassword, Name: "Amina", Role: "artisan"}); err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"ar", "fr", "en"} {
		v := newVisitor(t, s.URL)
		resp, _ := v.get("/" + lang + "/dashboard")
		loc := resp.Header.Get("Location")
		if resp.StatusCode != 303 || !strings.HasPrefix(loc, "/"+lang+"/login?next=") {
			t.Fatalf("%s: signed-out dashboard: %d %q", lang, resp.StatusCode, loc)
		}
		resp, page := v.get(loc)
		if resp.StatusCode != 200 || !strings.Contains(page, `dir="`) || !strings.Contains(page, `name="next" value="/`+lang+`/dashboard"`) {
			t.Fatalf("%s: sign-in page: %d %.400s", lang, resp.StatusCode, page)
		}
		csrf := field(t, csrfField, page)

		// No token, no sign-in.
		if resp, _ := v.post("/"+lang+"/login", url.Values{"email": {"amina@souk.test"}, "password": {authPassword}}); resp.StatusCode != 403 {
			t.Fatalf("%s: sign-in without its CSRF token: %d", lang, resp.StatusCode)
		}
		// Wrong password and unknown e-mail: one answer.
		_, wrong := v.post("/"+lang+"/login", url.Values{"csrf_token": {csrf}, "email": {"amina@souk.test"}, "password": {"not it at all"}})
		resp, unknown := v.post("/"+lang+"/login", url.Values{"csrf_token": {csrf}, "email": {"nobody@souk.test"}, "password": {"not it at all"}})
		if resp.StatusCode != 401 || errorOf(wrong) == "" || errorOf(wrong) != errorOf(unknown) {
			t.Fatalf("%s: wrong password %q and unknown e-mail %q differ (%d)", lang, errorOf(wrong), errorOf(unknown), resp.StatusCode)
		}
		if !strings.Contains(wrong, `value="amina@souk.test"`) {
			t.Errorf("%s: the e-mail is not kept after a wrong password", lang)
		}
		// Open redirects are refused: each goes to the dashboard instead.
		for _, next := range []string{"//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)", "/\t/evil.example", "/\n/evil.example"} {
			w := newVisitor(t, s.URL)
			_, p := w.get("/" + lang + "/login")
			resp, _ := w.post("/"+lang+"/login", url.Values{"csrf_token": {field(t, csrfField, p)}, "email": {"amina@souk.test"},
				"password": {authPassword}, "next": {next}})
			if got := resp.Header.Get("Location"); resp.StatusCode != 303 || got != "/"+lang+"/dashboard" {
				t.Errorf("%s: next=%q sent the visitor to %q (%d)", lang, next, got, resp.StatusCode)
			}
		}
		// Signing in replaces any session cookie planted before (fixation).
		u, _ := url.Parse(s.URL)
		v.client.Jar.SetCookies(u, nil)
		resp, _ = v.post("/"+lang+"/login", url.Values{"csrf_token": {csrf}, "email": {"amina@souk.test"}, "password": {authPassword},
			"next": {"/" + lang + "/dashboard?tab=1"}})
		if got := resp.Header.Get("Location"); resp.StatusCode != 303 || got != "/"+lang+"/dashboard?tab=1" {
			t.Fatalf("%s: sign-in: %d to %q", lang, resp.StatusCode, got)
		}
		session := v.cookie("souk_session")
		if session == "" {
			t.Fatalf("%s: no session cookie after signing in", lang)
		}
		if _, err := s.Accounts.Authenticate(ctx, session); err != nil {
			t.Fatalf("%s: the session cookie does not authenticate: %v", lang, err)
		}
		resp, dash := v.get("/" + lang + "/dashboard")
		if resp.StatusCode != 200 || !strings.Contains(dash, "Amina") {
			t.Fatalf("%s: dashboard when signed in: %d %.300s", lang, resp.StatusCode, dash)
		}
		if resp.Header.Get("Cache-Control") != "private, no-store" {
			t.Errorf("%s: a dashboard answer may be cached: %q", lang, resp.Header.Get("Cache-Control"))
		}
		// Sign out: the session no longer authenticates anywhere.
		resp, _ = v.post("/"+lang+"/logout", url.Values{"csrf_token": {field(t, csrfField, dash)}})
		if resp.StatusCode != 303 {
			t.Fatalf("%s: sign out: %d", lang, resp.StatusCode)
		}
		if _, err := s.Accounts.Authenticate(ctx, session); err == nil {
			t.Fatalf("%s: the session still authenticates after signing out", lang)
		}
	}
}

// errorOf is the sign-in page's error message.
func errorOf(page string) string {
	_, rest, ok := strings.Cut(page, `id="login-error">`)
	if !ok {
		return ""
	}
	msg, _, _ := strings.Cut(rest, "<")
	return msg
}
