package api_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
)

// Rule 5, "everyone stays in their room", as a matrix of roles × routes.
//
// TestRolesRoutesMatrix calls every route under /api/v1 as each of seven
// callers and compares the status with the table below; a route without a
// case fails the test. The world it runs in:
//
//   - cooperative A (verified): managed by "manager of A", with "member of A";
//   - cooperative P (pending): A's unverified sister, same manager and member;
//   - cooperative B (verified): managed by "manager of B";
//   - cooperative C (verified): managed by an outsider, for invitations;
//   - a buyer, an artisan without a cooperative, and an administrator.
//
// To add your routes, append cases from your own test file:
//
//	func init() {
//		matrixCases = append(matrixCases, matrixCase{
//			Route: "GET /api/v1/cooperatives/:id/products",
//			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
//				return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/products", w.A.ID)}
//			},
//			Want: membersOfA(200),
//		})
//	}
//
// and, for fixtures of your own (a product of A, an order of the buyer…),
// append to matrixSetups a function that stores them in w.Extra. Requests
// that spend what they touch (logout, a password change) set Fresh: each
// signed-in column then runs as a new caller of the same kind.

// The callers, in the order of expect's fields.
const (
	asAnon = iota
	asBuyer
	asArtisan
	asMemberA
	asManagerA
	asManagerB
	asAdmin
	nCallers
)

var callerNames = [nCallers]string{"anonymous", "buyer", "artisan", "member of A", "manager of A", "manager of B", "admin"}

// expect is the status each caller must get.
type expect struct{ Anon, Buyer, Artisan, MemberA, ManagerA, ManagerB, Admin int }

func (e expect) of(who int) int {
	return [nCallers]int{e.Anon, e.Buyer, e.Artisan, e.MemberA, e.ManagerA, e.ManagerB, e.Admin}[who]
}

// everyone expects the same status from every caller.
func everyone(status int) expect {
	return expect{status, status, status, status, status, status, status}
}

// signedIn expects status from every signed-in caller and 401 from anonymous.
func signedIn(status int) expect { return expect{401, status, status, status, status, status, status} }

// adminOnly expects status from the administrator, 403 from other signed-in
// callers and 401 from anonymous.
func adminOnly(status int) expect { return expect{401, 403, 403, 403, 403, 403, status} }

// membersOfA expects status from A's members and manager and the
// administrator, 403 from other signed-in callers.
func membersOfA(status int) expect { return expect{401, 403, 403, status, status, 403, status} }

// managersOfA expects status from A's manager and the administrator.
func managersOfA(status int) expect { return expect{401, 403, 403, 403, status, 403, status} }

// matrixRequest is the concrete request of a case for one caller.
type matrixRequest struct {
	Path string
	Body any // JSON; nil for none; a string or []byte is sent as is
	// Header overrides request headers (Content-Type of a CSV or multipart body).
	Header map[string]string
}

// matrixCase is one row of the matrix.
type matrixCase struct {
	// Route is the method and path exactly as registered (":id" and all).
	Route string
	// Name tells cases of one route apart.
	Name string
	// Fresh runs each signed-in caller as a new person of the same kind.
	Fresh bool
	// Request builds the request for caller c.
	Request func(t *testing.T, w *matrixWorld, c *caller) matrixRequest
	Want    expect
}

// caller is one person of the matrix.
type caller struct {
	Kind  int
	Token string // "" for anonymous
	User  account.User
	P     *account.Principal
}

// matrixWorld is what the matrix runs against.
type matrixWorld struct {
	env        *testEnv
	A, B, C, P account.Cooperative
	callers    [nCallers]*caller
	managerC   *caller
	n          int
	// Extra holds fixtures added by matrixSetups.
	Extra map[string]any
}

// matrixSetups add fixtures for other resources' cases.
var matrixSetups []func(t *testing.T, w *matrixWorld)

func pathOnly(format string, args ...any) func(*testing.T, *matrixWorld, *caller) matrixRequest {
	return func(*testing.T, *matrixWorld, *caller) matrixRequest {
		return matrixRequest{Path: fmt.Sprintf(format, args...)}
	}
}

// matrixCases is the table: at least one case per route under /api/v1.
var matrixCases = []matrixCase{
	{Route: "POST /api/v1/auth/register", Want: everyone(201),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/auth/register",
				Body: map[string]string{"email": w.unique("new") + "@souk.test", "password": testPassword, "name": "New", "role": "buyer"}}
		}},
	{Route: "POST /api/v1/auth/login", Want: everyone(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			who := c
			if c.Kind == asAnon {
				who = w.callers[asBuyer]
			}
			return matrixRequest{Path: "/api/v1/auth/login", Body: map[string]string{"email": who.User.Email, "password": testPassword}}
		}},
	{Route: "POST /api/v1/auth/logout", Fresh: true, Want: signedIn(204),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/auth/logout"}
		}},
	{Route: "POST /api/v1/auth/password-reset", Want: everyone(202),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/auth/password-reset", Body: map[string]string{"email": w.unique("nobody") + "@souk.test"}}
		}},
	{Route: "POST /api/v1/auth/password-reset/confirm", Name: "unknown token", Want: everyone(422),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/auth/password-reset/confirm",
				Body: map[string]string{"token": strings.Repeat("x", 43), "password": "a brand new password"}}
		}},
	{Route: "GET /api/v1/me", Want: signedIn(200), Request: pathOnly("/api/v1/me")},
	{Route: "PATCH /api/v1/me", Want: signedIn(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/me", Body: map[string]string{"lang": "en"}}
		}},
	{Route: "POST /api/v1/me/password", Fresh: true, Want: signedIn(204),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/me/password",
				Body: map[string]string{"current_password": testPassword, "new_password": "another long password"}}
		}},
	{Route: "POST /api/v1/admin/users", Want: adminOnly(201),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/admin/users", Body: map[string]any{
				"email": w.unique("made") + "@souk.test", "password": testPassword, "name": "Made", "roles": []string{"admin"}}}
		}},
	{Route: "GET /api/v1/cooperatives", Want: everyone(200), Request: pathOnly("/api/v1/cooperatives?per_page=100")},
	{Route: "POST /api/v1/cooperatives", Want: expect{401, 403, 403, 403, 201, 201, 201},
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/cooperatives",
				Body: map[string]any{"name": w.unique("Coopérative"), "commune": "Tiznit", "crafts": []string{"silver-jewellery"}}}
		}},
	{Route: "GET /api/v1/cooperatives/:slug", Name: "verified A", Want: everyone(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/cooperatives/" + w.A.Slug}
		}},
	{Route: "GET /api/v1/cooperatives/:slug", Name: "pending P", Want: expect{404, 404, 404, 200, 200, 404, 200},
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/cooperatives/" + w.P.Slug}
		}},
	{Route: "PATCH /api/v1/cooperatives/:id", Name: "A", Want: managersOfA(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d", w.A.ID), Body: map[string]any{"commune": "Anzi"}}
		}},
	{Route: "PATCH /api/v1/cooperatives/:id", Name: "B", Want: expect{401, 403, 403, 403, 403, 200, 200},
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d", w.B.ID), Body: map[string]any{"commune": "Tafraout"}}
		}},
	{Route: "GET /api/v1/cooperatives/:id/members", Name: "A", Want: membersOfA(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/members", w.A.ID)}
		}},
	{Route: "GET /api/v1/cooperatives/:id/members", Name: "pending P", Want: membersOfA(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/members", w.P.ID)}
		}},
	{Route: "POST /api/v1/cooperatives/:id/members", Name: "into A", Want: managersOfA(201),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/cooperatives/%d/members", w.A.ID),
				Body: map[string]string{"email": w.unique("invitee") + "@souk.test", "role": "member"}}
		}},
	{Route: "POST /api/v1/invitations/:token/accept", Name: "own invitation", Fresh: true, Want: signedIn(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			email := c.User.Email
			if c.Kind == asAnon {
				email = w.unique("someone") + "@souk.test"
			}
			return matrixRequest{Path: "/api/v1/invitations/" + w.invite(t, w.C, w.managerC, email, account.MemberRegular) + "/accept"}
		}},
	{Route: "POST /api/v1/invitations/:token/accept", Name: "someone else's invitation", Want: expect{401, 403, 403, 403, 403, 403, 403},
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/invitations/" + w.invite(t, w.C, w.managerC, w.unique("someone")+"@souk.test", account.MemberRegular) + "/accept"}
		}},
	{Route: "POST /api/v1/admin/cooperatives/:id/verify", Want: adminOnly(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/cooperatives/%d/verify", w.newCooperative(t, w.callers[asManagerB]).ID)}
		}},
	{Route: "POST /api/v1/admin/cooperatives/:id/suspend", Want: adminOnly(200),
		Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/cooperatives/%d/suspend", w.newCooperative(t, w.callers[asManagerB]).ID)}
		}},
}

func TestRolesRoutesMatrix(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		env := startEnv(t, envOptions{Dialect: dialect,
			Limits: account.Limits{SignUpPerIP: account.Limit{Max: 10_000, Window: time.Hour}, ResetPerIP: account.Limit{Max: 10_000, Window: time.Hour}}})
		w := newMatrixWorld(t, env)
		for _, setup := range matrixSetups {
			setup(t, w)
		}

		registered := map[string]bool{}
		for _, r := range env.Server.Routes() {
			if strings.HasPrefix(r.Path, "/api/v1/") {
				registered[r.Method+" "+r.Path] = true
			}
		}
		covered := map[string]bool{}
		for _, mc := range matrixCases {
			covered[mc.Route] = true
			if !registered[mc.Route] {
				t.Errorf("matrix case for %q, which no route serves", mc.Route)
			}
		}
		for r := range registered {
			if !covered[r] {
				t.Errorf("route %s has no case in the roles × routes matrix (api/matrix_test.go)", r)
			}
		}

		for _, mc := range matrixCases {
			name := mc.Route
			if mc.Name != "" {
				name += " (" + mc.Name + ")"
			}
			t.Run(name, func(t *testing.T) {
				method, pattern, _ := strings.Cut(mc.Route, " ")
				for who := range nCallers {
					c := w.callers[who]
					if mc.Fresh && who != asAnon {
						c = w.newCaller(t, who)
					}
					rq := mc.Request(t, w, c)
					if p, _, _ := strings.Cut(rq.Path, "?"); !matchesPattern(pattern, p) {
						t.Fatalf("case builds %s, which is not route %s", rq.Path, pattern)
					}
					got := env.send(t, call{Method: method, Path: rq.Path, Body: rq.Body, Token: c.Token, Header: rq.Header})
					if want := mc.Want.of(who); got.Status != want {
						t.Errorf("as %s: %s %s answered %d, want %d: %s", callerNames[who], method, rq.Path, got.Status, want, got.Body)
					}
					if got.Status >= 400 {
						got.problem(t)
					}
				}
			})
		}
	})
}

// matchesPattern reports whether a concrete path fits a Fiber route path.
func matchesPattern(pattern, p string) bool {
	ps, cs := strings.Split(pattern, "/"), strings.Split(p, "/")
	if len(ps) != len(cs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if cs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != cs[i] {
			return false
		}
	}
	return true
}

func newMatrixWorld(t *testing.T, env *testEnv) *matrixWorld {
	t.Helper()
	ctx := context.Background()
	w := &matrixWorld{env: env, Extra: map[string]any{}}
	w.callers[asAnon] = &caller{Kind: asAnon}
	for _, who := range []int{asBuyer, asArtisan, asManagerA, asManagerB, asAdmin} {
		w.callers[who] = w.person(t, who)
	}
	w.A = w.newCooperative(t, w.callers[asManagerA])
	w.P = w.newCooperative(t, w.callers[asManagerA])
	w.B = w.newCooperative(t, w.callers[asManagerB])
	w.managerC = w.person(t, asManagerB)
	w.C = w.newCooperative(t, w.managerC)
	for _, c := range []account.Cooperative{w.A, w.B, w.C} {
		if _, err := env.Accounts.SetCooperativeStatus(ctx, w.callers[asAdmin].P, c.ID, account.StatusVerified); err != nil {
			t.Fatal(err)
		}
	}
	w.callers[asMemberA] = w.newCaller(t, asMemberA)
	return w
}

// unique returns a new name with prefix.
func (w *matrixWorld) unique(prefix string) string {
	w.n++
	return fmt.Sprintf("%s-%d", prefix, w.n)
}

// person creates a signed-in user of a kind, without memberships.
func (w *matrixWorld) person(t *testing.T, kind int) *caller {
	t.Helper()
	ctx := context.Background()
	email := w.unique(strings.ReplaceAll(callerNames[kind], " ", "-")) + "@souk.test"
	var err error
	switch kind {
	case asAdmin:
		_, err = w.env.Accounts.CreateAdmin(ctx, email, "Admin", testPassword)
	default:
		role := map[int]account.Role{asBuyer: account.RoleBuyer, asArtisan: account.RoleArtisan, asMemberA: account.RoleArtisan,
			asManagerA: account.RoleCooperative, asManagerB: account.RoleCooperative}[kind]
		_, _, err = w.env.Accounts.Register(ctx, account.Registration{Email: email, Password: testPassword, Name: callerNames[kind], Role: string(role)})
	}
	if err != nil {
		t.Fatalf("create %s: %v", callerNames[kind], err)
	}
	u, sess, err := w.env.Accounts.Login(ctx, account.Credentials{Email: email, Password: testPassword})
	if err != nil {
		t.Fatalf("login %s: %v", callerNames[kind], err)
	}
	p, err := w.env.Accounts.Authenticate(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	return &caller{Kind: kind, Token: sess.Token, User: u, P: p}
}

// newCaller creates a new person of a kind with the memberships the kind
// has in this world.
func (w *matrixWorld) newCaller(t *testing.T, kind int) *caller {
	t.Helper()
	c := w.person(t, kind)
	switch kind {
	case asMemberA:
		w.join(t, c, w.A, w.callers[asManagerA], account.MemberRegular)
		w.join(t, c, w.P, w.callers[asManagerA], account.MemberRegular)
	case asManagerA:
		w.join(t, c, w.A, w.callers[asManagerA], account.MemberManager)
		w.join(t, c, w.P, w.callers[asManagerA], account.MemberManager)
	case asManagerB:
		w.join(t, c, w.B, w.callers[asManagerB], account.MemberManager)
	}
	return c
}

// join makes c a member of coop, invited by its manager.
func (w *matrixWorld) join(t *testing.T, c *caller, coop account.Cooperative, manager *caller, role account.MemberRole) {
	t.Helper()
	token := w.invite(t, coop, manager, c.User.Email, role)
	if _, err := w.env.Accounts.AcceptInvitation(context.Background(), c.P, token); err != nil {
		t.Fatalf("%s joins %s: %v", c.User.Email, coop.Slug, err)
	}
}

// invite invites email into coop and returns the token from the e-mail.
func (w *matrixWorld) invite(t *testing.T, coop account.Cooperative, manager *caller, email string, role account.MemberRole) string {
	t.Helper()
	if _, err := w.env.Accounts.InviteMember(context.Background(), manager.P, coop.ID, email, role); err != nil {
		t.Fatalf("invite %s into %s: %v", email, coop.Slug, err)
	}
	return tokenIn(t, w.env.mailTo(t, email))
}

// newCooperative registers a pending cooperative managed by c.
func (w *matrixWorld) newCooperative(t *testing.T, c *caller) account.Cooperative {
	t.Helper()
	coop, err := w.env.Accounts.CreateCooperative(context.Background(), c.P, account.CooperativeInput{
		Name: w.unique("Coopérative"), Commune: "Tiznit", Crafts: []string{"pottery"}})
	if err != nil {
		t.Fatalf("create cooperative: %v", err)
	}
	return coop
}
