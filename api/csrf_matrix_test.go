package api_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// Rule 9 over every JSON route (issue #11): each state-changing route under
// /api/v1 (every POST, PUT, PATCH and DELETE of the roles × routes matrix,
// which has a case for every route) is sent with a caller's session
// cookie, the way a browser sends it, but no CSRF token, a wrong one, the
// token of another session of the same person and another person's token.
// Each is refused (403 problem+json) and leaves every table as it was, row
// for row. The same request with the right token then answers what the
// matrix says, and where that is a success that writes, the database did
// change: the refusals were of requests that would have worked.
func TestCSRFEveryCookieRoute(t *testing.T) {
	env := startEnv(t, envOptions{Limits: account.Limits{
		SignUpPerIP: account.Limit{Max: 100_000, Window: time.Hour}, ResetPerIP: account.Limit{Max: 100_000, Window: time.Hour},
		LoginPerIP: account.Limit{Max: 100_000, Window: time.Hour}, LoginPerAccount: account.Limit{Max: 100_000, Window: time.Hour},
	}})
	w := newMatrixWorld(t, env)
	for _, setup := range matrixSetups {
		setup(t, w)
	}
	stateChanging := map[string]bool{}
	for _, r := range env.Server.Routes() {
		if strings.HasPrefix(r.Path, "/api/v1/") && r.Method != "GET" && r.Method != "HEAD" {
			stateChanging[r.Method+" "+r.Path] = true
		}
	}
	proven := map[string]bool{}
	refused, wrote, forged := 0, 0, 0
	for _, mc := range matrixCases {
		method, pattern, _ := strings.Cut(mc.Route, " ")
		if !stateChanging[mc.Route] {
			continue
		}
		who, ok := admittedAPICaller(mc.Want)
		if !ok {
			continue
		}
		name := mc.Route
		if mc.Name != "" {
			name += " (" + mc.Name + ")"
		}
		t.Run(name, func(t *testing.T) {
			c := w.callers[who]
			if mc.Fresh {
				c = w.newCaller(t, who)
			}
			rq := mc.Request(t, w, c)
			if p, _, _ := strings.Cut(rq.Path, "?"); !matchesPattern(pattern, p) {
				t.Fatalf("case builds %s, which is not route %s", rq.Path, pattern)
			}
			other := secondSession(t, env, c)
			stranger := w.callers[asAdmin]
			if who == asAdmin {
				stranger = w.callers[asBuyer]
			}
			before := dbtest.Digest(t, env.DB)
			for _, f := range []struct{ what, token string }{
				{"no token", ""},
				{"a wrong token", strings.Repeat("A", 43)},
				{"another session's token", account.CSRFToken(other)},
				{"another person's token", account.CSRFToken(stranger.Token)},
			} {
				got := env.send(t, call{Method: method, Path: rq.Path, Body: rq.Body, Cookie: c.Token, CSRF: f.token, Header: rq.Header})
				forged++
				if got.Status != 403 {
					t.Errorf("as %s with %s: %s %s answered %d, want 403: %.300s", callerNames[who], f.what, method, rq.Path, got.Status, got.Body)
					continue
				}
				if p := got.problem(t); !strings.Contains(p.Detail, "CSRF") {
					t.Errorf("as %s with %s: refused for another reason: %+v", callerNames[who], f.what, p)
				}
				if diff := dbtest.DigestDiff(before, dbtest.Digest(t, env.DB)); diff != "" {
					t.Errorf("as %s with %s: the refused %s %s changed %s", callerNames[who], f.what, method, rq.Path, diff)
					continue
				}
				refused++
			}
			got := env.send(t, call{Method: method, Path: rq.Path, Body: rq.Body, Cookie: c.Token, CSRF: account.CSRFToken(c.Token), Header: rq.Header})
			if want := mc.Want.of(who); got.Status != want {
				t.Errorf("as %s with the right token: %s %s answered %d, want %d: %.300s", callerNames[who], method, rq.Path, got.Status, want, got.Body)
			}
			if got.Status >= 200 && got.Status < 300 && !readsOnly[mc.Route] {
				if dbtest.DigestDiff(before, dbtest.Digest(t, env.DB)) == "" {
					t.Errorf("as %s with the right token: %s %s answered %d and changed nothing, so its refusals prove little (or list it in readsOnly)",
						callerNames[who], method, rq.Path, got.Status)
				} else {
					wrote++
				}
			}
			proven[mc.Route] = true
		})
	}
	var unproven []string
	for r := range stateChanging {
		if !proven[r] {
			unproven = append(unproven, r)
		}
	}
	sort.Strings(unproven)
	for _, r := range unproven {
		t.Errorf("route %s has no matrix case a caller may send with a cookie: its CSRF check is unproven", r)
	}
	t.Logf("%d forged requests refused over %d state-changing routes; %d right-token requests seen to write", refused, len(proven), wrote)
	testenv.Report(t, fmt.Sprintf("csrf: forged tokens with a session cookie on %d state-changing API routes (refused, nothing written)", len(proven)),
		int64(forged), int64(forged-refused))
}

// readsOnly are state-changing methods that write nothing when they
// succeed (a quote, a preview).
var readsOnly = map[string]bool{}

// admittedAPICaller is the first signed-in caller a case lets through
// (2xx), else the first it does not refuse (not 401 or 403).
func admittedAPICaller(want expect) (int, bool) {
	for who := asBuyer; who < nCallers; who++ {
		if st := want.of(who); st >= 200 && st < 300 {
			return who, true
		}
	}
	for who := asBuyer; who < nCallers; who++ {
		if st := want.of(who); st != 401 && st != 403 {
			return who, true
		}
	}
	return 0, false
}

// secondSession signs c's person in again and returns the new token.
func secondSession(t *testing.T, env *testEnv, c *caller) string {
	t.Helper()
	_, sess, err := env.Accounts.Login(context.Background(), account.Credentials{Email: c.User.Email, Password: testPassword})
	if err != nil {
		t.Fatalf("sign %s in again: %v", c.User.Email, err)
	}
	if sess.CSRFToken == account.CSRFToken(c.Token) {
		t.Fatal("two sessions share a CSRF token")
	}
	return sess.Token
}
