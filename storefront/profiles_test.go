package storefront

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// The public profile of a cooperative: verified ones only, with the member
// total (not its breakdown) and only the certificates that count today
// (rule 6).
func TestFindCooperativeProfile(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect)
			ctx := context.Background()
			e.exec(t, `UPDATE cooperatives SET story = '{"fr":"Des potières"}', women_members = 18, men_members = 4, disabled_members = 2 WHERE id = ?`, e.coop)
			valid := e.verifiedCertificate(t, e.coop, "morocco-handmade", "2", "MH-2-0001", e.svc.today().AddDays(100))
			e.verifiedCertificate(t, e.coop, "madmoun", "", "MD-EXPIRES", e.svc.today().AddDays(1))
			pending, err := e.svc.SubmitCertificate(ctx, e.admin, e.coop, CertificateInput{Scheme: "tazerzite", Number: "TZ-PENDING",
				Issuer: "Association", ValidFrom: e.svc.today().AddDays(-1), ValidUntil: e.svc.today().AddDays(100),
				DocumentKey: "private/certificates/tz.pdf"})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(3 * 24 * time.Hour) // MD-EXPIRES has expired

			prof, err := e.svc.FindCooperativeProfile(ctx, "cooperative-anzi")
			if err != nil {
				t.Fatal(err)
			}
			if prof.Name != "Coopérative Anzi" || prof.Commune != "Anzi" || prof.Story.In("fr") != "Des potières" ||
				prof.Members == nil || *prof.Members != 22 {
				t.Errorf("profile %+v", prof)
			}
			var numbers []string
			for _, c := range prof.Certificates {
				numbers = append(numbers, c.Number)
			}
			if diff := cmp.Diff([]string{valid.Number}, numbers); diff != "" || prof.Certificates[0].SchemeName.In("fr") == "" {
				t.Errorf("certificates (-want +got, %s pending):\n%s", pending.Number, diff)
			}
			_, err = e.svc.FindCooperativeProfile(ctx, "cooperative-tighmi") // pending
			wantCode(t, err, errs.NotFound)
			_, err = e.svc.FindCooperativeProfile(ctx, "no-such")
			wantCode(t, err, errs.NotFound)
		})
	}
}

// Featured cooperatives: verified ones with published products, certified
// first; the artisan's name only while they are a member.
func TestFeaturedCooperativesAndArtisanName(t *testing.T) {
	for _, dialect := range dbtest.Dialects {
		t.Run(dialect, func(t *testing.T) {
			e := newEnv(t, dialect)
			ctx := context.Background()
			for range 2 {
				e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine"}})
			}
			e.published(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Fibule"}})
			e.draft(t, e.pendingCoop, ProductInput{Title: map[string]string{"fr": "Jarre"}})
			e.verifiedCertificate(t, e.otherCoop, "tazerzite", "", "TZ-1", e.svc.today().AddDays(30))

			got, err := e.svc.FeaturedCooperatives(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			want := []CooperativeCard{
				{Slug: "cooperative-tiznit-silver", Name: "Coopérative Argent Tiznit", Commune: "Tiznit", Products: 1, Certified: true},
				{Slug: "cooperative-anzi", Name: "Coopérative Anzi", Commune: "Anzi", Products: 2},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("featured (-want +got):\n%s", diff)
			}
			_, err = e.svc.FeaturedCooperatives(ctx, 0)
			wantCode(t, err, errs.Invalid)

			name, err := e.svc.FindArtisanName(ctx, e.coop, e.member.UserID)
			if err != nil || name != "Ahmed" {
				t.Errorf("artisan name %q, %v", name, err)
			}
			_, err = e.svc.FindArtisanName(ctx, e.otherCoop, e.member.UserID) // not a member there
			wantCode(t, err, errs.NotFound)

			products, coops, err := e.svc.ListPublicPages(ctx, 100)
			if err != nil || len(products) != 3 || len(coops) != 2 || products[0].UpdatedAt.IsZero() {
				t.Errorf("public pages: %d products, %d cooperatives, %v", len(products), len(coops), err)
			}
		})
	}
}
