package api

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/media"
)

// Every route declares a policy with a name and a check.
func TestEveryRouteHasAPolicy(t *testing.T) {
	store, err := media.NewLocal(t.TempDir(), "http://127.0.0.1", []byte("test-signing-key-test-signing-key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Env = config.Test
	db := dbtest.Open(t, database.SQLite)
	s := New(cfg, Deps{DB: db, Media: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Accounts: account.New(db, account.Options{Password: account.TestPasswordParams})})
	if len(s.Routes()) == 0 {
		t.Fatal("no routes")
	}
	seen := map[string]bool{}
	for _, r := range s.Routes() {
		key := r.Method + " " + r.Path
		if r.Policy.Check == nil || r.Policy.Name == "" {
			t.Errorf("route %s has no policy (Name %q, Check set: %v)", key, r.Policy.Name, r.Policy.Check != nil)
		}
		if r.Handler == nil {
			t.Errorf("route %s has no handler", key)
		}
		if seen[key] {
			t.Errorf("route %s is registered twice", key)
		}
		seen[key] = true
	}
}

// The callers the policy tests run as.
var (
	policyAdmin    = &account.Principal{UserID: 1, Roles: []account.Role{account.RoleAdmin}}
	policyBuyer    = &account.Principal{UserID: 2, Roles: []account.Role{account.RoleBuyer}}
	policyMemberA  = &account.Principal{UserID: 3, Roles: []account.Role{account.RoleArtisan}, Memberships: map[int64]account.MemberRole{7: account.MemberRegular}}
	policyManagerA = &account.Principal{UserID: 4, Roles: []account.Role{account.RoleCooperative}, Memberships: map[int64]account.MemberRole{7: account.MemberManager}}
	policyManagerB = &account.Principal{UserID: 5, Roles: []account.Role{account.RoleCooperative}, Memberships: map[int64]account.MemberRole{8: account.MemberManager}}
)

// checkPolicy runs pol for a request to path (matched against pattern) by
// p and returns the status it leads to: 200 when it lets the request
// through, else the status of its error.
func checkPolicy(t *testing.T, pol Policy, pattern, path string, p *account.Principal) int {
	t.Helper()
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		return c.SendStatus(statusOf[toError(err).Code])
	}})
	app.Get(pattern, func(c *fiber.Ctx) error {
		if p != nil {
			c.Locals(localPrincipal, p)
		}
		return c.Next()
	}, func(c *fiber.Ctx) error {
		if err := pol.Check(c); err != nil {
			return err
		}
		return c.SendStatus(200)
	})
	resp, err := app.Test(httptest.NewRequest("GET", path, nil))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

type policyCase struct {
	name string
	p    *account.Principal
	want int
}

func runPolicyCases(t *testing.T, pol Policy, pattern, path string, cases []policyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkPolicy(t, pol, pattern, path, tc.p); got != tc.want {
				t.Fatalf("%s on %s: got %d, want %d", pol.Name, path, got, tc.want)
			}
		})
	}
}

func TestPolicyAuthenticated(t *testing.T) {
	runPolicyCases(t, Authenticated, "/x", "/x", []policyCase{
		{"anonymous", nil, 401},
		{"buyer", policyBuyer, 200},
		{"admin", policyAdmin, 200},
	})
}

func TestPolicyRoleIs(t *testing.T) {
	pol := RoleIs(account.RoleCooperative, account.RoleAdmin)
	if pol.Name != "role:cooperative|admin" {
		t.Errorf("name %q", pol.Name)
	}
	runPolicyCases(t, pol, "/x", "/x", []policyCase{
		{"anonymous", nil, 401},
		{"buyer", policyBuyer, 403},
		{"artisan", policyMemberA, 403},
		{"cooperative manager", policyManagerB, 200},
		{"admin", policyAdmin, 200},
	})
	// Administrators pass only when listed.
	runPolicyCases(t, RoleIs(account.RoleBuyer), "/x", "/x", []policyCase{{"admin for buyers", policyAdmin, 403}})
}

func TestPolicyAdminOnly(t *testing.T) {
	runPolicyCases(t, AdminOnly, "/x", "/x", []policyCase{
		{"anonymous", nil, 401},
		{"manager", policyManagerA, 403},
		{"admin", policyAdmin, 200},
	})
}

func TestPolicyCooperativeMember(t *testing.T) {
	pol := CooperativeMember("id")
	runPolicyCases(t, pol, "/c/:id", "/c/7", []policyCase{
		{"anonymous", nil, 401},
		{"buyer", policyBuyer, 403},
		{"member of A", policyMemberA, 200},
		{"manager of A", policyManagerA, 200},
		{"manager of B", policyManagerB, 403},
		{"admin", policyAdmin, 200},
	})
	runPolicyCases(t, pol, "/c/:id", "/c/abc", []policyCase{{"bad id", policyAdmin, 404}, {"bad id anonymous", nil, 401}})
	runPolicyCases(t, pol, "/c/:id", "/c/-7", []policyCase{{"negative id", policyMemberA, 404}})
}

func TestPolicyCooperativeManager(t *testing.T) {
	pol := CooperativeManager("id")
	runPolicyCases(t, pol, "/c/:id", "/c/7", []policyCase{
		{"anonymous", nil, 401},
		{"buyer", policyBuyer, 403},
		{"member of A", policyMemberA, 403},
		{"manager of A", policyManagerA, 200},
		{"manager of B", policyManagerB, 403},
		{"admin", policyAdmin, 200},
	})
	runPolicyCases(t, pol, "/c/:id", "/c/8", []policyCase{{"manager of B on B", policyManagerB, 200}, {"manager of A on B", policyManagerA, 403}})
	runPolicyCases(t, pol, "/c/:id", "/c/99999999999999999999", []policyCase{{"overflowing id", policyAdmin, 404}})
}

// The error a policy returns carries the code the error handler maps.
func TestPolicyErrorsAreCodes(t *testing.T) {
	app := fiber.New()
	var got error
	app.Get("/c/:id", func(c *fiber.Ctx) error { got = CooperativeManager("id").Check(c); return nil })
	if _, err := app.Test(httptest.NewRequest("GET", "/c/7", nil)); err != nil {
		t.Fatal(err)
	}
	if !errs.Is(got, errs.Unauthorized) {
		t.Fatalf("anonymous: %v, want an unauthorized errs.Error", got)
	}
}
