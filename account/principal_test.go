package account_test

import (
	"testing"

	"github.com/souk-tiznit/souk/account"
)

// The authorization rules, for every kind of caller.
func TestPrincipalRules(t *testing.T) {
	const a, b = 1, 2
	admin := &account.Principal{UserID: 1, Roles: []account.Role{account.RoleAdmin}}
	buyer := &account.Principal{UserID: 2, Roles: []account.Role{account.RoleBuyer}}
	memberA := &account.Principal{UserID: 3, Roles: []account.Role{account.RoleArtisan}, Memberships: map[int64]account.MemberRole{a: account.MemberRegular}}
	managerA := &account.Principal{UserID: 4, Roles: []account.Role{account.RoleCooperative}, Memberships: map[int64]account.MemberRole{a: account.MemberManager}}
	managerB := &account.Principal{UserID: 5, Roles: []account.Role{account.RoleCooperative}, Memberships: map[int64]account.MemberRole{b: account.MemberManager}}
	var anon *account.Principal

	pendingA := account.Cooperative{ID: a, Status: account.StatusPending}
	verifiedA := account.Cooperative{ID: a, Status: account.StatusVerified}
	suspendedA := account.Cooperative{ID: a, Status: account.StatusSuspended}

	type row struct {
		name                                     string
		p                                        *account.Principal
		readA, manageA, createCoop, moderate     bool
		seePendingA, seeVerifiedA, seeSuspendedA bool
	}
	rows := []row{
		{"anonymous", anon, false, false, false, false, false, true, false},
		{"buyer", buyer, false, false, false, false, false, true, false},
		{"member of A", memberA, true, false, false, false, true, true, true},
		{"manager of A", managerA, true, true, true, false, true, true, true},
		{"manager of B", managerB, false, false, true, false, false, true, false},
		{"admin", admin, true, true, true, true, true, true, true},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			check := func(what string, got, want bool) {
				t.Helper()
				if got != want {
					t.Errorf("%s: got %v, want %v", what, got, want)
				}
			}
			check("CanReadCooperative(A)", r.p.CanReadCooperative(a), r.readA)
			check("CanManageCooperative(A)", r.p.CanManageCooperative(a), r.manageA)
			check("CanCreateCooperative", r.p.CanCreateCooperative(), r.createCoop)
			check("CanModerate", r.p.CanModerate(), r.moderate)
			check("CanSeeCooperative(pending A)", r.p.CanSeeCooperative(pendingA), r.seePendingA)
			check("CanSeeCooperative(verified A)", r.p.CanSeeCooperative(verifiedA), r.seeVerifiedA)
			check("CanSeeCooperative(suspended A)", r.p.CanSeeCooperative(suspendedA), r.seeSuspendedA)
		})
	}
	if !managerB.CanManageCooperative(b) || managerB.CanManageCooperative(a) {
		t.Error("manager of B must manage B and only B")
	}
}

func TestSlugify(t *testing.T) {
	tests := map[string]string{
		"Coopérative Tafraout des Potières": "cooperative-tafraout-des-potieres",
		"  Argent de Tiznit — Tazerzite!! ": "argent-de-tiznit-tazerzite",
		"تعاونية أنزي للفخار":               "taaounia-anzi-llfkhar",
		"ⵜⴰⵡⵍⴰ ⵏ ⵜⵉⵣⵏⵉⵜ":                    "tawla-n-tiznit",
		"L'Œuvre d'Aït Ahmed":               "loeuvre-dait-ahmed",
		"Coop ٢٠٢٤":                         "coop-2024",
		"!!!":                               "cooperative",
	}
	for in, want := range tests {
		if got := account.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
		if !account.IsSlug(account.Slugify(in)) {
			t.Errorf("Slugify(%q) is not a slug", in)
		}
	}
	long := account.Slugify("Coopérative des artisans potiers et des tisserandes de la commune d'Aït Ahmed et de Tighmi réunies")
	if len(long) > account.MaxSlugLength || !account.IsSlug(long) {
		t.Errorf("long slug %q", long)
	}
}
