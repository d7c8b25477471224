package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/api"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
)

func TestRegisterAndLogin(t *testing.T) {
	env := startEnv(t, envOptions{})
	r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/register", Body: map[string]string{
		"email": "Khadija@Souk.test", "password": testPassword, "name": "Khadija", "role": "cooperative", "lang": "ar", "phone": "+212 661 000000"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	var reg sessionReply
	r.decode(t, &reg)
	if len(reg.Token) != 43 || reg.CSRFToken == "" || reg.User.ID == 0 || reg.User.Email != "Khadija@Souk.test" ||
		!cmp.Equal(reg.User.Roles, []account.Role{account.RoleCooperative}) {
		t.Fatalf("register answer %s", r.Body)
	}
	assertSessionCookie(t, r, reg.Token, true)

	r = env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "khadija@souk.TEST", "password": testPassword}})
	if r.Status != http.StatusOK {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	var in sessionReply
	r.decode(t, &in)
	if in.Token == reg.Token || in.User.ID != reg.User.ID {
		t.Fatalf("login answer %s", r.Body)
	}
	assertSessionCookie(t, r, in.Token, true)

	r = env.send(t, call{Method: "GET", Path: "/api/v1/me", Token: in.Token})
	var me struct {
		account.User
		Memberships []account.Membership `json:"memberships"`
		CSRFToken   string               `json:"csrf_token"`
	}
	r.decode(t, &me)
	if r.Status != 200 || me.ID != reg.User.ID || me.Lang != "ar" || me.Phone != "+212 661 000000" || me.CSRFToken != in.CSRFToken || me.Memberships == nil {
		t.Fatalf("me: %d %s", r.Status, r.Body)
	}
	r = env.send(t, call{Method: "PATCH", Path: "/api/v1/me", Token: in.Token, Body: map[string]any{"name": "Khadija A.", "lang": "fr"}})
	r.decode(t, &me)
	if r.Status != 200 || me.Name != "Khadija A." || me.Lang != "fr" {
		t.Fatalf("patch me: %d %s", r.Status, r.Body)
	}
	r = env.send(t, call{Method: "PATCH", Path: "/api/v1/me", Token: in.Token, Body: map[string]any{"artisan": map[string]any{"trades": []string{"pottery"}}}})
	if p := r.problem(t); r.Status != 422 || !fieldsOf(p).has("artisan") {
		t.Fatalf("artisan patch from a non-artisan: %d %s", r.Status, r.Body)
	}

	// Logout ends that session only.
	if r = env.send(t, call{Method: "POST", Path: "/api/v1/auth/logout", Token: in.Token}); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Body)
	}
	if r = env.send(t, call{Method: "GET", Path: "/api/v1/me", Token: in.Token}); r.Status != 401 {
		t.Fatalf("me after logout: %d", r.Status)
	}
	r.problem(t)
	if r = env.send(t, call{Method: "GET", Path: "/api/v1/me", Token: reg.Token}); r.Status != 200 {
		t.Fatalf("other session after logout: %d", r.Status)
	}
	// An artisan's profile.
	art := env.signUp(t, "brahim@souk.test", account.RoleArtisan)
	r = env.send(t, call{Method: "PATCH", Path: "/api/v1/me", Token: art.Token,
		Body: map[string]any{"artisan": map[string]any{"trades": []string{"pottery", "woodwork"}, "commune": "Aït Ahmed"}}})
	if r.Status != 200 || !strings.Contains(string(r.Body), `"trades":["pottery","woodwork"]`) || !strings.Contains(string(r.Body), `"commune":"Aït Ahmed"`) {
		t.Fatalf("artisan profile: %d %s", r.Status, r.Body)
	}
}

// assertSessionCookie checks the cookie a sign-in sets.
func assertSessionCookie(t *testing.T, r reply, token string, secure bool) {
	t.Helper()
	var found *http.Cookie
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == api.SessionCookie {
			found = c
		}
	}
	if found == nil || found.Value != token {
		t.Fatalf("no %s cookie with the token: %v", api.SessionCookie, r.Header.Values("Set-Cookie"))
	}
	if !found.HttpOnly || found.SameSite != http.SameSiteLaxMode || found.Secure != secure || found.Path != "/" {
		t.Fatalf("cookie attributes: %s (want HttpOnly, SameSite=Lax, Secure=%v, Path=/)", r.Header.Get("Set-Cookie"), secure)
	}
}

// Outside production-like settings the cookie is not Secure, so that
// http://localhost works.
func TestSessionCookieInDevelopment(t *testing.T) {
	env := startEnv(t, envOptions{Configure: func(c *config.Config) { c.Env = config.Development }})
	r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/register",
		Body: map[string]string{"email": "dev@souk.test", "password": testPassword, "name": "Dev", "role": "buyer"}})
	var s sessionReply
	r.decode(t, &s)
	assertSessionCookie(t, r, s.Token, false)
}

// Rule 8 for sign-up: bad input gets a problem naming the field, and
// nothing is written.
func TestRegisterRejectsBadInput(t *testing.T) {
	env := startEnv(t, envOptions{})
	env.signUp(t, "taken@souk.test", account.RoleBuyer)
	good := map[string]string{"email": "new@souk.test", "password": testPassword, "name": "New", "role": "buyer"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range good {
			m[kk] = vv
		}
		if v == "<absent>" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		body       any
		header     map[string]string
		wantStatus int
		wantFields []string
	}{
		{"ErrMissingFields", map[string]string{}, nil, 422, []string{"role", "email", "password", "name"}},
		{"ErrMissingEmail", with("email", "<absent>"), nil, 422, []string{"email"}},
		{"ErrBadEmail", with("email", "not-an-address"), nil, 422, []string{"email"}},
		{"ErrEmailWithName", with("email", "Amina <amina@souk.test>"), nil, 422, []string{"email"}},
		{"ErrShortPassword", with("password", "short1"), nil, 422, []string{"password"}},
		{"ErrCommonPassword", with("password", "azertyuiop"), nil, 422, []string{"password"}},
		{"ErrDuplicateEmail", with("email", "TAKEN@souk.test"), nil, 409, []string{"email"}},
		{"ErrUnknownRole", with("role", "sultan"), nil, 422, []string{"role"}},
		{"ErrAdminRole", with("role", "admin"), nil, 422, []string{"role"}},
		{"ErrBadLang", with("lang", "de"), nil, 422, []string{"lang"}},
		{"ErrBadPhone", with("phone", "call me"), nil, 422, []string{"phone"}},
		{"ErrUnknownField", `{"email":"x@souk.test","password":"correct horse battery","name":"X","role":"buyer","is_admin":true}`, nil, 422, []string{"is_admin"}},
		{"ErrWrongType", `{"email":42}`, nil, 422, []string{"email"}},
		{"ErrMalformedJSON", `{"email":`, nil, 400, nil},
		{"ErrTwoValues", `{} {}`, nil, 400, nil},
		{"ErrWrongContentType", "email=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, nil},
		{"ErrOversizedBody", `{"name":"` + strings.Repeat("a", 100<<10) + `"}`, nil, 413, nil},
		{"ErrBodyOverServerLimit", `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, nil, 413, nil},
	}
	tables := []string{"users", "user_roles", "sessions", "artisan_profiles"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := env.countRows(t, tables...)
			if tt.name == "ErrBodyOverServerLimit" {
				// The server answers 413 as soon as it reads the length and
				// closes the connection: a client still writing the body may
				// see the reset before the answer. Either way nothing is
				// written and the server goes on.
				req, _ := http.NewRequest("POST", env.URL+"/api/v1/auth/register", strings.NewReader(tt.body.(string)))
				req.Header.Set("Content-Type", "application/json")
				resp, err := envHTTP.Do(req)
				switch {
				case err != nil && !strings.Contains(err.Error(), "connection reset") && !strings.Contains(err.Error(), "broken pipe"):
					t.Fatalf("over the server's limit: %v", err)
				case err == nil:
					resp.Body.Close()
					if resp.StatusCode != 413 {
						t.Fatalf("over the server's limit: %d, want 413", resp.StatusCode)
					}
				}
				if after := env.countRows(t, tables...); !cmp.Equal(before, after) {
					t.Errorf("a refused request wrote rows: before %v, after %v", before, after)
				}
				if r := env.send(t, call{Method: "GET", Path: "/healthz"}); r.Status != 200 {
					t.Fatalf("the server after a refused upload: %d", r.Status)
				}
				return
			}
			r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/register", Body: tt.body, Header: tt.header})
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			p := r.problem(t)
			got := fieldsOf(p)
			for _, f := range tt.wantFields {
				if !got.has(f) {
					t.Errorf("problem does not name %q: %s", f, r.Body)
				}
			}
			if after := env.countRows(t, tables...); !cmp.Equal(before, after) {
				t.Errorf("a refused request wrote rows: before %v, after %v", before, after)
			}
		})
	}
}

// Rule 9: a cookie-authenticated request that changes state needs the
// session's CSRF token; Bearer requests do not.
func TestCSRF(t *testing.T) {
	env := startEnv(t, envOptions{})
	s := env.signUp(t, "csrf@souk.test", account.RoleBuyer)
	patch := map[string]string{"name": "Renamed"}
	tests := []struct {
		name       string
		c          call
		wantStatus int
	}{
		{"CookieReadNeedsNoToken", call{Method: "GET", Path: "/api/v1/me", Cookie: s.Token}, 200},
		{"ErrCookieWriteWithoutToken", call{Method: "PATCH", Path: "/api/v1/me", Cookie: s.Token, Body: patch}, 403},
		{"ErrCookieWriteWithWrongToken", call{Method: "PATCH", Path: "/api/v1/me", Cookie: s.Token, Body: patch, CSRF: strings.Repeat("A", 43)}, 403},
		{"ErrCookieLogoutWithoutToken", call{Method: "POST", Path: "/api/v1/auth/logout", Cookie: s.Token}, 403},
		{"CookieWriteWithToken", call{Method: "PATCH", Path: "/api/v1/me", Cookie: s.Token, Body: patch, CSRF: s.CSRFToken}, 200},
		// The form field passes the CSRF check; the JSON route then refuses the form (415, not 403).
		{"CookieFormWithTokenField", call{Method: "PATCH", Path: "/api/v1/me", Cookie: s.Token, Body: "csrf_token=" + s.CSRFToken,
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 415},
		{"ErrCookieFormWithoutTokenField", call{Method: "PATCH", Path: "/api/v1/me", Cookie: s.Token, Body: "name=x",
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 403},
		{"BearerWriteNeedsNoToken", call{Method: "PATCH", Path: "/api/v1/me", Token: s.Token, Body: patch}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := env.send(t, tt.c)
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.Status, tt.wantStatus, r.Body)
			}
			if r.Status >= 400 {
				r.problem(t)
			}
		})
	}
	// Another session's token does not pass.
	other := env.signUp(t, "csrf2@souk.test", account.RoleBuyer)
	if r := env.send(t, call{Method: "PATCH", Path: "/api/v1/me", Cookie: s.Token, Body: patch, CSRF: other.CSRFToken}); r.Status != 403 {
		t.Fatalf("another session's CSRF token: %d", r.Status)
	}
	// A stale cookie is cleared and the caller is anonymous.
	if r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/logout", Cookie: s.Token, CSRF: s.CSRFToken}); r.Status != 204 {
		t.Fatalf("logout with cookie and token: %d %s", r.Status, r.Body)
	}
	r := env.send(t, call{Method: "GET", Path: "/api/v1/me", Cookie: s.Token})
	if r.Status != 401 || !strings.Contains(r.Header.Get("Set-Cookie"), api.SessionCookie+"=;") {
		t.Fatalf("stale cookie: %d, Set-Cookie %q", r.Status, r.Header.Get("Set-Cookie"))
	}
	// A bad Bearer token is refused, even on a public route.
	if r := env.send(t, call{Method: "GET", Path: "/api/v1/cooperatives", Token: s.Token}); r.Status != 401 {
		t.Fatalf("revoked Bearer token on a public route: %d", r.Status)
	}
}

// Rule 9 and the two-server contract: sessions live in the database, so
// they survive a restart, work on every server at once, and a revoked or
// expired one is refused by every server at once.
func TestSessionsAcrossRestartsAndServers(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		dbURL := dbtest.URL(t, dialect)
		clock := newTestClock()
		first := startEnv(t, envOptions{DatabaseURL: dbURL, Clock: clock})
		s := first.signUp(t, "sessions@souk.test", account.RoleArtisan)
		first.Stop()

		one := startEnv(t, envOptions{DatabaseURL: dbURL, Clock: clock}) // the same server, restarted
		two := startEnv(t, envOptions{DatabaseURL: dbURL, Clock: clock}) // a second server, its own pool
		both := []*testEnv{one, two}
		expect := func(what, token string, want int) {
			t.Helper()
			for i, e := range both {
				if r := e.send(t, call{Method: "GET", Path: "/api/v1/me", Token: token}); r.Status != want {
					t.Errorf("%s on server %d: %d, want %d (%s)", what, i+1, r.Status, want, r.Body)
				}
			}
		}
		expect("session from before the restart", s.Token, 200)
		if r := two.send(t, call{Method: "GET", Path: "/api/v1/me", Cookie: s.Token}); r.Status != 200 {
			t.Fatalf("cookie on the second server: %d", r.Status)
		}

		// Logged out on one server: refused by both.
		var second sessionReply
		one.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "sessions@souk.test", "password": testPassword}}).decode(t, &second)
		expect("second session", second.Token, 200)
		if r := two.send(t, call{Method: "POST", Path: "/api/v1/auth/logout", Token: second.Token}); r.Status != 204 {
			t.Fatalf("logout: %d", r.Status)
		}
		expect("logged-out session", second.Token, 401)
		expect("first session after the other's logout", s.Token, 200)

		// Expired in the database: refused by both.
		if err := one.DB.Exec("UPDATE sessions SET expires_at = ? WHERE user_id = ?", clock.Now().Add(-time.Second), s.User.ID).Error; err != nil {
			t.Fatal(err)
		}
		expect("expired session", s.Token, 401)

		// A password change on one server ends the other sessions everywhere.
		var a, b sessionReply
		one.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "sessions@souk.test", "password": testPassword}}).decode(t, &a)
		two.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "sessions@souk.test", "password": testPassword}}).decode(t, &b)
		if r := one.send(t, call{Method: "POST", Path: "/api/v1/me/password", Token: a.Token,
			Body: map[string]string{"current_password": testPassword, "new_password": "a whole new passphrase"}}); r.Status != 204 {
			t.Fatalf("change password: %d %s", r.Status, r.Body)
		}
		expect("session that changed the password", a.Token, 200)
		expect("other session after a password change", b.Token, 401)
	})
}

// Rule 9: the 11th wrong password for one account within 15 minutes is
// refused with 429 and Retry-After, counted in the database, so alternating
// between two servers does not help.
func TestBruteForceAcrossServers(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		dbURL := dbtest.URL(t, dialect)
		clock := newTestClock()
		one := startEnv(t, envOptions{DatabaseURL: dbURL, Clock: clock})
		two := startEnv(t, envOptions{DatabaseURL: dbURL, Clock: clock})
		one.signUp(t, "target@souk.test", account.RoleCooperative)
		login := func(e *testEnv, email, pw string) reply {
			return e.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": email, "password": pw}})
		}
		max := account.DefaultLimits.LoginPerAccount.Max
		var firstDetail string
		for i := 1; i <= max; i++ {
			e := []*testEnv{one, two}[i%2]
			r := login(e, "target@souk.test", fmt.Sprintf("guess number %d", i))
			if r.Status != 401 {
				t.Fatalf("wrong password %d: %d %s", i, r.Status, r.Body)
			}
			if d := r.problem(t).Detail; firstDetail == "" {
				firstDetail = d
			}
		}
		r := login(two, "target@souk.test", "guess number 11")
		p := r.problem(t)
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if r.Status != 429 || p.Code != "rate_limited" || err != nil || ra < 1 || ra > 15*60 {
			t.Fatalf("11th wrong password: %d, Retry-After %q: %s", r.Status, r.Header.Get("Retry-After"), r.Body)
		}
		// The right password waits too, on either server.
		if r := login(one, "target@souk.test", testPassword); r.Status != 429 {
			t.Fatalf("right password during the lockout: %d", r.Status)
		}
		// Another account from the same client is not locked.
		one.signUp(t, "bystander@souk.test", account.RoleBuyer)
		if r := login(two, "bystander@souk.test", testPassword); r.Status != 200 {
			t.Fatalf("another account: %d %s", r.Status, r.Body)
		}
		// After the window the owner gets in.
		clock.Advance(15*time.Minute + time.Second)
		if r := login(two, "target@souk.test", testPassword); r.Status != 200 {
			t.Fatalf("after the window: %d %s", r.Status, r.Body)
		}
	})
}

// Failed logins from one client address are limited across accounts.
func TestLoginLimitPerIP(t *testing.T) {
	env := startEnv(t, envOptions{Limits: account.Limits{LoginPerIP: account.Limit{Max: 5, Window: time.Hour}}})
	for i := 1; i <= 5; i++ {
		r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": fmt.Sprintf("u%d@souk.test", i), "password": "not the password"}})
		if r.Status != 401 {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "u6@souk.test", "password": "not the password"}})
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("6th failure from one IP: %d %v", r.Status, r.Header)
	}
}

// Password reset: an e-mailed, single-use, expiring token; the answers do
// not tell whether an account exists.
func TestPasswordReset(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		env := startEnv(t, envOptions{Dialect: dialect})
		s := env.signUp(t, "reset@souk.test", account.RoleBuyer)
		ask := func(email string) reply {
			return env.send(t, call{Method: "POST", Path: "/api/v1/auth/password-reset", Body: map[string]string{"email": email}})
		}
		confirm := func(token, pw string) reply {
			return env.send(t, call{Method: "POST", Path: "/api/v1/auth/password-reset/confirm", Body: map[string]string{"token": token, "password": pw}})
		}

		// No enumeration: the same answer for a known and an unknown address.
		mails := env.mailCount(t)
		known, unknown := ask("RESET@souk.test"), ask("nobody@souk.test")
		if known.Status != 202 || known.Status != unknown.Status || string(known.Body) != string(unknown.Body) {
			t.Fatalf("known: %d %s; unknown: %d %s", known.Status, known.Body, unknown.Status, unknown.Body)
		}
		if got := env.mailCount(t); got != mails+1 {
			t.Fatalf("%d new messages, want 1 (to the known address only)", got-mails)
		}
		token := tokenIn(t, env.mailTo(t, "reset@souk.test"))
		var stored int64
		env.DB.Raw("SELECT COUNT(*) FROM password_resets WHERE token_hash = ?", token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the reset token is stored in clear")
		}

		if r := confirm(token, "short"); r.Status != 422 || !fieldsOf(r.problem(t)).has("password") {
			t.Fatalf("weak new password: %d %s", r.Status, r.Body)
		}
		if r := confirm(token, "a fresh saffron passphrase"); r.Status != 204 {
			t.Fatalf("confirm: %d %s", r.Status, r.Body)
		}
		if r := confirm(token, "yet another passphrase"); r.Status != 422 || !fieldsOf(r.problem(t)).has("token") {
			t.Fatalf("token used twice: %d %s", r.Status, r.Body)
		}
		if r := env.send(t, call{Method: "GET", Path: "/api/v1/me", Token: s.Token}); r.Status != 401 {
			t.Fatalf("session survived a password reset: %d", r.Status)
		}
		login := func(email, pw string) reply {
			return env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": email, "password": pw}})
		}
		if r := login("reset@souk.test", "a fresh saffron passphrase"); r.Status != 200 {
			t.Fatalf("login with the new password: %d", r.Status)
		}

		// No enumeration at login: wrong password and unknown address answer alike.
		wrong, nobody := login("reset@souk.test", testPassword), login("nobody@souk.test", testPassword)
		pw, pn := wrong.problem(t), nobody.problem(t)
		if wrong.Status != 401 || nobody.Status != 401 || pw.Detail != pn.Detail || pw.Code != pn.Code || pw.Type != pn.Type {
			t.Fatalf("wrong password: %d %s; unknown address: %d %s", wrong.Status, wrong.Body, nobody.Status, nobody.Body)
		}

		// A token expires after an hour.
		ask("reset@souk.test")
		late := tokenIn(t, env.mailTo(t, "reset@souk.test"))
		if late == token {
			t.Fatal("the same token twice")
		}
		env.Clock.Advance(account.PasswordResetTTL + time.Second)
		if r := confirm(late, "too late passphrase"); r.Status != 422 {
			t.Fatalf("expired token: %d %s", r.Status, r.Body)
		}
		if r := confirm("", ""); r.Status != 422 || !fieldsOf(r.problem(t)).has("token") || !fieldsOf(r.problem(t)).has("password") {
			t.Fatalf("empty confirmation: %d %s", r.Status, r.Body)
		}
	})
}

// Concurrent confirmations of one reset token: exactly one wins.
func TestPasswordResetTokenIsSingleUseUnderConcurrency(t *testing.T) {
	env := startEnv(t, envOptions{Dialect: database.MySQL})
	env.signUp(t, "race@souk.test", account.RoleBuyer)
	env.send(t, call{Method: "POST", Path: "/api/v1/auth/password-reset", Body: map[string]string{"email": "race@souk.test"}})
	token := tokenIn(t, env.mailTo(t, "race@souk.test"))
	const n = 8
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = env.send(t, call{Method: "POST", Path: "/api/v1/auth/password-reset/confirm",
				Body: map[string]string{"token": token, "password": fmt.Sprintf("concurrent passphrase %d", i)}}).Status
		}()
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 204:
			won++
		case 422:
		default:
			t.Errorf("unexpected status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d confirmations won (%v), want exactly 1", won, statuses)
	}
}

// Administrators create accounts of any role; the admin command's entry
// point works and refuses a duplicate.
func TestAdminCreatesUsers(t *testing.T) {
	env := startEnv(t, envOptions{})
	if _, err := env.Accounts.CreateAdmin(t.Context(), "root@souk.test", "Root", "short"); err == nil {
		t.Fatal("CreateAdmin accepted a short password")
	}
	if _, err := env.Accounts.CreateAdmin(t.Context(), "root@souk.test", "Root", testPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Accounts.CreateAdmin(t.Context(), "ROOT@souk.test", "Root", testPassword); err == nil {
		t.Fatal("CreateAdmin made a second account for one address")
	}
	var root sessionReply
	env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "root@souk.test", "password": testPassword}}).decode(t, &root)
	r := env.send(t, call{Method: "POST", Path: "/api/v1/admin/users", Token: root.Token, Body: map[string]any{
		"email": "agent@commune-tafraout.ma", "password": testPassword, "name": "Agent", "roles": []string{"admin", "artisan"}}})
	if r.Status != 201 || !strings.Contains(string(r.Body), `"roles":["admin","artisan"]`) {
		t.Fatalf("create user: %d %s", r.Status, r.Body)
	}
	r = env.send(t, call{Method: "POST", Path: "/api/v1/admin/users", Token: root.Token, Body: map[string]any{
		"email": "x@souk.test", "password": testPassword, "name": "X", "roles": []string{"emperor"}}})
	if r.Status != 422 || !fieldsOf(r.problem(t)).has("roles[0]") {
		t.Fatalf("unknown role: %d %s", r.Status, r.Body)
	}
}
