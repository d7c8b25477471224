package account_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

func ptr[T any](v T) *T { return &v }

func TestCooperatives(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		f := newFixture(t, dialect)
		_, admin := f.user(t, "admin@souk.test", account.RoleAdmin)
		_, mgr := f.user(t, "manager@souk.test", account.RoleCooperative)
		_, other := f.user(t, "other@souk.test", account.RoleCooperative)
		_, buyer := f.user(t, "buyer@souk.test", account.RoleBuyer)

		in := account.CooperativeInput{Name: "Coopérative Anzi", Commune: "Anzi", Crafts: []string{"pottery", "pottery"},
			ICE: "001234567000089", Story: map[string]string{"fr": "Des potières d'Anzi."},
			MemberFigures: account.MemberFigures{Women: ptr(12), Men: ptr(3)}}

		t.Run("ErrForbiddenForBuyers", func(t *testing.T) {
			if _, err := f.svc.CreateCooperative(ctx, buyer, in); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("got %v, want forbidden", err)
			}
		})
		t.Run("ErrInvalid", func(t *testing.T) {
			bad := account.CooperativeInput{Name: " ", Commune: "", Crafts: []string{"Pottery!"}, ICE: "12345",
				Story: map[string]string{"de": "x"}, Contact: account.Contact{Email: "nope", Phone: "abc"},
				MemberFigures: account.MemberFigures{Women: ptr(-1)}, LogoKey: ptr("private/../x.png")}
			_, err := f.svc.CreateCooperative(ctx, mgr, bad)
			var fields []string
			for _, fe := range errs.As(err).Fields {
				fields = append(fields, fe.Field)
			}
			want := []string{"name", "commune", "crafts[0]", "ice", "story.de", "contact.email", "contact.phone", "member_figures.women", "logo_key"}
			if diff := cmp.Diff(want, fields); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
			if n := f.count(t, "cooperatives"); n != 0 {
				t.Fatalf("%d cooperatives written by a refused request", n)
			}
		})

		a, err := f.svc.CreateCooperative(ctx, mgr, in)
		if err != nil {
			t.Fatal(err)
		}
		if a.Slug != "cooperative-anzi" || a.Status != account.StatusPending || len(a.Crafts) != 1 || a.ICE != "001234567000089" {
			t.Fatalf("created %+v", a)
		}
		if !mgr.IsManagerOf(a.ID) {
			t.Fatal("the creator is not the manager")
		}
		t.Run("SlugsAreUnique", func(t *testing.T) {
			in2 := in
			in2.ICE = ""
			b, err := f.svc.CreateCooperative(ctx, other, in2)
			if err != nil || b.Slug != "cooperative-anzi-2" {
				t.Fatalf("second cooperative: %+v %v", b, err)
			}
		})
		t.Run("ErrConflictICE", func(t *testing.T) {
			in3 := in
			in3.Name = "Autre"
			_, err := f.svc.CreateCooperative(ctx, other, in3)
			if e := errs.As(err); e == nil || e.Code != errs.Conflict || e.Fields[0].Field != "ice" {
				t.Fatalf("got %v, want conflict on ice", err)
			}
		})
		t.Run("PendingIsHidden", func(t *testing.T) {
			if _, err := f.svc.FindCooperativeBySlug(ctx, nil, a.Slug); !errs.Is(err, errs.NotFound) {
				t.Fatalf("anonymous sees a pending cooperative: %v", err)
			}
			if _, err := f.svc.FindCooperativeBySlug(ctx, other, a.Slug); !errs.Is(err, errs.NotFound) {
				t.Fatalf("another manager sees a pending cooperative: %v", err)
			}
			got, err := f.svc.FindCooperativeBySlug(ctx, mgr, a.Slug)
			if err != nil || got.MemberFigures == nil || *got.MemberFigures.Women != 12 {
				t.Fatalf("manager: %+v %v", got, err)
			}
			items, total, err := f.svc.FindCooperatives(ctx, nil, account.CooperativeFilter{})
			if err != nil || total != 0 || len(items) != 0 {
				t.Fatalf("public list shows pending ones: %v %d %v", items, total, err)
			}
			if _, _, err := f.svc.FindCooperatives(ctx, mgr, account.CooperativeFilter{Status: account.StatusPending}); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("manager lists pending: %v", err)
			}
			_, total, err = f.svc.FindCooperatives(ctx, admin, account.CooperativeFilter{Status: account.StatusPending})
			if err != nil || total != 2 {
				t.Fatalf("admin lists pending: %d %v", total, err)
			}
		})
		t.Run("VerifyAndList", func(t *testing.T) {
			if _, err := f.svc.SetCooperativeStatus(ctx, mgr, a.ID, account.StatusVerified); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("manager verified their own cooperative: %v", err)
			}
			v, err := f.svc.SetCooperativeStatus(ctx, admin, a.ID, account.StatusVerified)
			if err != nil || v.Status != account.StatusVerified {
				t.Fatalf("verify: %+v %v", v, err)
			}
			got, err := f.svc.FindCooperativeBySlug(ctx, nil, a.Slug)
			if err != nil || got.MemberFigures != nil {
				t.Fatalf("public view: %+v %v (member figures must be hidden)", got, err)
			}
			items, total, err := f.svc.FindCooperatives(ctx, nil, account.CooperativeFilter{Craft: "pottery", Page: account.Page{PerPage: 1}})
			if err != nil || total != 1 || len(items) != 1 || items[0].ID != a.ID {
				t.Fatalf("list by craft: %v %d %v", items, total, err)
			}
			_, total, _ = f.svc.FindCooperatives(ctx, nil, account.CooperativeFilter{Craft: "weaving"})
			if total != 0 {
				t.Fatalf("list by another craft found %d", total)
			}
			_, _, err = f.svc.FindCooperatives(ctx, nil, account.CooperativeFilter{Page: account.Page{Page: -1, PerPage: 101}})
			if e := errs.As(err); e == nil || len(e.Fields) != 2 {
				t.Fatalf("bad page: %v", err)
			}
		})
		t.Run("Update", func(t *testing.T) {
			if _, err := f.svc.UpdateCooperative(ctx, other, a.ID, account.CooperativePatch{Name: ptr("Hijacked")}); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("another manager changed A: %v", err)
			}
			got, err := f.svc.UpdateCooperative(ctx, mgr, a.ID, account.CooperativePatch{
				Commune: ptr("Tighmi"), Crafts: &[]string{"pottery", "weaving"}, ICE: ptr(""), LogoKey: ptr("public/logos/anzi.webp"),
				Contact: &account.Contact{Email: "contact@anzi.ma", Phone: "+212 528 000000"}})
			if err != nil {
				t.Fatal(err)
			}
			if got.Commune != "Tighmi" || len(got.Crafts) != 2 || got.ICE != "" || got.LogoKey == nil || got.Contact.Email != "contact@anzi.ma" || got.Slug != a.Slug {
				t.Fatalf("updated %+v", got)
			}
		})
		t.Run("Members", func(t *testing.T) {
			_, artisanP := f.user(t, "Hafsa@souk.test", account.RoleBuyer)
			if _, err := f.svc.InviteMember(ctx, other, a.ID, "hafsa@souk.test", ""); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("another manager invited into A: %v", err)
			}
			if _, err := f.svc.InviteMember(ctx, mgr, a.ID, "manager@souk.test", ""); !errs.Is(err, errs.Conflict) {
				t.Fatalf("invited an existing member: %v", err)
			}
			inv, err := f.svc.InviteMember(ctx, mgr, a.ID, "hafsa@SOUK.test", "")
			if err != nil || inv.Role != account.MemberRegular {
				t.Fatalf("invite: %+v %v", inv, err)
			}
			token := regexp.MustCompile(`/invitations/([A-Za-z0-9_-]{43})`).FindStringSubmatch(f.lastMail(t))
			if token == nil {
				t.Fatalf("no invitation link in the mail:\n%s", f.lastMail(t))
			}
			if _, err := f.svc.AcceptInvitation(ctx, buyer, token[1]); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("someone else accepted: %v", err)
			}
			m, err := f.svc.AcceptInvitation(ctx, artisanP, token[1])
			if err != nil || m.CooperativeID != a.ID || m.Role != account.MemberRegular {
				t.Fatalf("accept: %+v %v", m, err)
			}
			if _, err := f.svc.AcceptInvitation(ctx, artisanP, token[1]); !errs.Is(err, errs.NotFound) {
				t.Fatalf("invitation used twice: %v", err)
			}
			p, _ := f.svc.PrincipalOf(ctx, artisanP.UserID)
			if !p.IsMemberOf(a.ID) || p.IsManagerOf(a.ID) || !p.HasRole(account.RoleArtisan) {
				t.Fatalf("after accepting: %+v", p)
			}
			prof, err := f.svc.FindArtisanProfile(ctx, p.UserID)
			if err != nil || prof.CooperativeID == nil || *prof.CooperativeID != a.ID {
				t.Fatalf("artisan profile %+v %v", prof, err)
			}
			members, total, err := f.svc.ListMembers(ctx, p, a.ID, account.Page{})
			if err != nil || total != 2 || members[0].Role != account.MemberManager || members[0].Email != "" {
				t.Fatalf("members as a member: %+v %d %v", members, total, err)
			}
			members, _, _ = f.svc.ListMembers(ctx, mgr, a.ID, account.Page{})
			if members[1].Email != "Hafsa@souk.test" {
				t.Fatalf("manager sees %+v", members)
			}
			if _, _, err := f.svc.ListMembers(ctx, other, a.ID, account.Page{}); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("another manager listed A's members: %v", err)
			}
		})
	})
}

func TestRegister(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		f := newFixture(t, dialect)
		u, s, err := f.svc.Register(ctx, account.Registration{Email: " Youssef@Souk.test ", Password: "correct horse battery",
			Name: "Youssef", Role: "artisan", Lang: "ar", Phone: "+212 600 123456", IP: "10.1.1.1"})
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != "Youssef@Souk.test" || u.Lang != "ar" || !u.HasRole(account.RoleArtisan) || s.Token == "" {
			t.Fatalf("registered %+v %+v", u, s)
		}
		if _, err := f.svc.FindArtisanProfile(ctx, u.ID); err != nil {
			t.Fatalf("artisan without a profile: %v", err)
		}
		_, _, err = f.svc.Register(ctx, account.Registration{Email: "youssef@souk.TEST", Password: "correct horse battery", Name: "Y", Role: "buyer"})
		if e := errs.As(err); e == nil || e.Code != errs.Conflict || e.Fields[0].Field != "email" {
			t.Fatalf("duplicate e-mail (other case): %v", err)
		}
		_, _, err = f.svc.Register(ctx, account.Registration{Email: "z@souk.test", Password: "correct horse battery", Name: "Z", Role: "admin"})
		if e := errs.As(err); e == nil || e.Code != errs.Invalid || e.Fields[0].Field != "role" {
			t.Fatalf("sign-up as admin: %v", err)
		}
		_, admin := f.user(t, "root@souk.test", account.RoleAdmin)
		_, buyer := f.user(t, "b@souk.test", account.RoleBuyer)
		nu := account.NewUser{Email: "second-admin@souk.test", Name: "Second", Password: "correct horse battery", Roles: []account.Role{account.RoleAdmin}}
		if _, err := f.svc.CreateUser(ctx, buyer, nu); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("buyer created an admin: %v", err)
		}
		if got, err := f.svc.CreateUser(ctx, admin, nu); err != nil || !got.HasRole(account.RoleAdmin) {
			t.Fatalf("admin created %+v %v", got, err)
		}
	})
}

// Sign-ups from one IP are limited; the limit is counted in the database.
func TestSignUpLimit(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	max := account.DefaultLimits.SignUpPerIP.Max
	for i := 0; i <= max; i++ {
		_, _, err := f.svc.Register(ctx, account.Registration{Email: "u" + strings.Repeat("x", i) + "@souk.test",
			Password: "correct horse battery", Name: "U", Role: "buyer", IP: "10.9.9.9"})
		if i < max && err != nil {
			t.Fatalf("sign-up %d: %v", i+1, err)
		}
		if i == max && !errs.Is(err, errs.RateLimited) {
			t.Fatalf("sign-up %d: %v, want rate limited", i+1, err)
		}
	}
	if _, _, err := f.svc.Register(ctx, account.Registration{Email: "other-ip@souk.test", Password: "correct horse battery",
		Name: "U", Role: "buyer", IP: "10.9.9.10"}); err != nil {
		t.Fatalf("another IP: %v", err)
	}
}
