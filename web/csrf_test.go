package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// Rule 9 on every form (issue #11): each state-changing page route — every
// non-GET route web registers, each with its rows in the page matrix — is
// sent by a signed-in caller it admits with a valid session cookie but no
// CSRF token, a wrong one, the token of another session of the same person
// and another person's token; each is refused (403, an HTML page) and the
// database is the same afterwards, row for row. The same request with the
// right token then answers as the matrix says, and where the row says it
// writes, the database changed: so the refusals were of a request that
// would have worked. Signed-out visitors' forms (sign-in, cart, checkout)
// get the same treatment with the guest token of their cart cookie.
func TestPageFormsNeedCSRF(t *testing.T) {
	w := newPageWorld(t)
	for _, setup := range pageSetups {
		setup(t, w)
	}
	setupRoutes(t, w)
	registered, _ := webRoutes(t, w.S.Media)
	cases := allRouteCases()

	proven := map[string]bool{}
	refusals, forgeries := 0, 0
	for _, rc := range cases {
		method, _, _ := strings.Cut(rc.Route, " ")
		if rc.Route == "" || method == http.MethodGet {
			continue
		}
		name := rc.Route
		if rc.Name != "" {
			name += " (" + rc.Name + ")"
		}
		t.Run(name, func(t *testing.T) {
			if who, ok := admittedCaller(rc.Want); ok {
				refusals += w.checkCSRFRefusals(t, rc, who)
				forgeries += 4
				proven[rc.Route] = true
			}
			// The order's secret token in a guest's cancel form is itself
			// the proof a cross-site page lacks (submitOrderCancel); the
			// guest token is not asked for there.
			if admitsGuests(rc) && rc.Name != "guest order, token in the form" {
				refusals += w.checkCSRFRefusals(t, rc, pgAnon)
				forgeries += 4
			}
		})
	}
	for _, r := range registered {
		if method, _, _ := strings.Cut(r, " "); method != http.MethodGet && !proven[r] {
			t.Errorf("form route %s has no row a signed-in caller may send (web/pages_matrix_test.go): its CSRF check is unproven", r)
		}
	}
	t.Logf("%d refused forgeries over %d form routes", refusals, len(proven))
	testenv.Report(t, fmt.Sprintf("csrf: forged tokens on %d page form routes (refused, nothing written)", len(proven)), int64(forgeries), int64(forgeries-refusals))
}

// admittedCaller is the first signed-in caller a row admits: one it does
// not refuse (403), preferring one it does not hide things from (404).
func admittedCaller(want routeExpect) (int, bool) {
	order := []int{pgBuyer, pgArtisan, pgManagerA, pgManagerB, pgAdmin, pgMemberA}
	for _, who := range order {
		if st := want[who]; st != notAsked && st != http.StatusForbidden && st != http.StatusNotFound {
			return who, true
		}
	}
	for _, who := range order {
		if want[who] == http.StatusNotFound {
			return who, true
		}
	}
	return 0, false
}

// admitsGuests says whether a signed-out visitor may send the form: a
// public form they are not refused (dashboards send them to sign in).
func admitsGuests(rc routeCase) bool {
	st := rc.Want[pgAnon]
	return st >= 200 && st < 500 && st != http.StatusForbidden && st != http.StatusNotFound && !strings.Contains(rc.Route, "/dashboard")
}

// checkCSRFRefusals sends a row's request as who in a new browser with
// forged tokens, then with the right one, and returns the refusals seen.
func (w *pageWorld) checkCSRFRefusals(t *testing.T, rc routeCase, who int) int {
	t.Helper()
	c := w.routeCaller(t, who, true)
	rq := rc.Request(t, w, c)
	other := w.routeCaller(t, who, true) // another session (or guest) of the same person
	stranger := w.routeCaller(t, pgAdmin, true)
	if who == pgAdmin {
		stranger = w.routeCaller(t, pgBuyer, true)
	}
	before := dbtest.Digest(t, w.S.DB)
	forged := []struct{ what, token string }{
		{"no token", ""},
		{"a wrong token", strings.Repeat("A", 43)},
		{"another session's token", other.CSRF},
		{"another person's token", stranger.CSRF},
	}
	if other.CSRF == c.CSRF || stranger.CSRF == c.CSRF {
		t.Fatalf("two sessions share a CSRF token")
	}
	n := 0
	for _, f := range forged {
		resp, body := c.send(rq, f.token)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("as %s with %s: %s %s answered %d, want 403: %.300s", routeCallerNames[who], f.what, rq.Method, rq.Path, resp.StatusCode, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("as %s with %s: the refusal of %s is %q, not an HTML page", routeCallerNames[who], f.what, rq.Path, ct)
		}
		if diff := dbtest.DigestDiff(before, dbtest.Digest(t, w.S.DB)); diff != "" {
			t.Errorf("as %s with %s: the refused %s %s changed %s", routeCallerNames[who], f.what, rq.Method, rq.Path, diff)
			continue
		}
		n++
	}
	resp, body := c.send(rq, c.CSRF)
	if want := rc.Want[who]; resp.StatusCode != want {
		t.Errorf("as %s with the right token: %s %s answered %d, want %d: %s %.300s", routeCallerNames[who], rq.Method, rq.Path, resp.StatusCode, want,
			formProblems.FindAllString(body, 5), body)
	}
	if rc.Changes && dbtest.DigestDiff(before, dbtest.Digest(t, w.S.DB)) == "" {
		t.Errorf("as %s with the right token: %s %s changed nothing, so its refusals prove little", routeCallerNames[who], rq.Method, rq.Path)
	}
	return n
}

// Session fixation: a session cookie planted in a browser before it signs
// in — an unknown token, or a real session of the attacker's — is replaced
// by a new one at sign-in, and the planted token never becomes the
// victim's session. The cookie signing-in sets is HttpOnly, SameSite=Lax
// and (outside development) Secure.
func TestSignInReplacesAPlantedSession(t *testing.T) {
	w := newPageWorld(t)
	ctx := context.Background()
	base, _ := url.Parse(w.S.URL)
	victim := w.Emails[pgBuyer]
	_, attacker, err := w.S.Accounts.Login(ctx, account.Credentials{Email: w.Emails[pgArtisan], Password: w.Password})
	if err != nil {
		t.Fatal(err)
	}
	unknown := strings.Repeat("x", len(attacker.Token))
	for _, tc := range []struct {
		name, planted, csrf string
	}{
		{"UnknownToken", unknown, ""},
		{"AttackersSession", attacker.Token, attacker.CSRFToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVisitor(t, w.S.URL)
			v.client.Jar.SetCookies(base, []*http.Cookie{{Name: "souk_session", Value: tc.planted, Path: "/"}})
			token := tc.csrf
			if token == "" {
				_, page := v.get("/fr/login")
				token = field(t, csrfField, page)
			}
			req, _ := http.NewRequest(http.MethodPost, w.S.URL+"/fr/login", strings.NewReader(url.Values{"csrf_token": {token},
				"email": {victim}, "password": {w.Password}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body := v.do(req)
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in: %d %.300s", resp.StatusCode, body)
			}
			var set *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == "souk_session" {
					set = ck
				}
			}
			if set == nil || set.Value == "" || set.Value == tc.planted {
				t.Fatalf("signing in kept the planted session cookie (Set-Cookie %q)", resp.Header.Values("Set-Cookie"))
			}
			if !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || !set.Secure || set.Path != "/" {
				t.Errorf("the sign-in cookie is %q: want HttpOnly, SameSite=Lax, Secure (not development), Path=/", resp.Header.Values("Set-Cookie"))
			}
			p, err := w.S.Accounts.Authenticate(ctx, set.Value)
			if err != nil || p.Email != victim {
				t.Fatalf("the new cookie is not the victim's session: %+v %v", p, err)
			}
			if old, err := w.S.Accounts.Authenticate(ctx, tc.planted); err == nil && old.Email == victim {
				t.Fatal("the planted token became the victim's session")
			}
			if tc.planted == attacker.Token {
				// The attacker's own session is still only the attacker's.
				if old, err := w.S.Accounts.Authenticate(ctx, tc.planted); err != nil || old.Email != w.Emails[pgArtisan] {
					t.Fatalf("the attacker's session after the victim signed in: %+v %v", old, err)
				}
			}
		})
	}
}
