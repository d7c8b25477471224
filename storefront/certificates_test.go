package storefront

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

func TestSubmitCertificate(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		today := e.svc.today()
		in := CertificateInput{Scheme: "morocco-handmade", Level: "2", Number: "mh 2026-0012", Issuer: "Ministère de l'Artisanat",
			ValidFrom: today.AddDays(-10), ValidUntil: today.AddDays(365), DocumentKey: "private/certificates/mh-2026-0012.pdf"}

		c, err := e.svc.SubmitCertificate(ctx, e.manager, e.coop, in)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != CertificatePending || c.Level != "2" || c.Number != "mh 2026-0012" {
			t.Fatalf("%+v", c)
		}

		t.Run("ErrSameNumberUnderTheScheme", func(t *testing.T) {
			again := in
			again.Number = "MH2026-0012" // blanks and case do not make it another number
			_, err := e.svc.SubmitCertificate(ctx, e.otherManager, e.otherCoop, again)
			wantCode(t, err, errs.Conflict)
			if diff := cmp.Diff([]string{"number"}, fieldsOf(err)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			// The number is free under another scheme.
			again.Scheme, again.Level = "tazerzite", ""
			if _, err := e.svc.SubmitCertificate(ctx, e.otherManager, e.otherCoop, again); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("ErrFieldByField", func(t *testing.T) {
			_, err := e.svc.SubmitCertificate(ctx, e.manager, e.coop, CertificateInput{Scheme: "morocco-handmade", Level: "4",
				Number: "x<y>", ValidUntil: today.AddDays(-1), DocumentKey: "public/certificates/a.pdf"})
			want := []string{"number", "issuer", "valid_until", "document", "level"}
			if diff := cmp.Diff(want, fieldsOf(err)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
			_, err = e.svc.SubmitCertificate(ctx, e.manager, e.coop, CertificateInput{Scheme: "madmoun", Level: "1",
				Number: "MD-1", Issuer: "ONSSA", ValidUntil: today.AddDays(30), DocumentKey: "private/c/md1.pdf"})
			if diff := cmp.Diff([]string{"level"}, fieldsOf(err)); diff != "" {
				t.Fatalf("a level for a scheme without levels (-want +got):\n%s", diff)
			}
			_, err = e.svc.SubmitCertificate(ctx, e.manager, e.coop, CertificateInput{Scheme: "morocco-handmade",
				Number: "MH-9", Issuer: "X", ValidUntil: today.AddDays(30), DocumentKey: "private/c/mh9.pdf"})
			if diff := cmp.Diff([]string{"level"}, fieldsOf(err)); diff != "" {
				t.Fatalf("no level for a scheme with levels (-want +got):\n%s", diff)
			}
			_, err = e.svc.SubmitCertificate(ctx, e.manager, e.coop, CertificateInput{Scheme: "unknown",
				Number: "U-1", Issuer: "X", ValidUntil: today.AddDays(30), DocumentKey: "private/c/u1.pdf"})
			if diff := cmp.Diff([]string{"scheme"}, fieldsOf(err)); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})

		t.Run("ErrRoles", func(t *testing.T) {
			_, err := e.svc.SubmitCertificate(ctx, e.member, e.coop, in)
			wantCode(t, err, errs.Forbidden)
			_, err = e.svc.VerifyCertificate(ctx, e.manager, c.ID)
			wantCode(t, err, errs.Forbidden)
			_, err = e.svc.RejectCertificate(ctx, e.manager, c.ID, "no")
			wantCode(t, err, errs.Forbidden)
			_, err = e.svc.FindCertificate(ctx, e.otherManager, c.ID)
			wantCode(t, err, errs.NotFound)
		})

		t.Run("ReviewAndReject", func(t *testing.T) {
			queue, err := e.svc.FindCertificatesToReview(ctx, e.admin, 10)
			if err != nil || len(queue) == 0 || queue[0].ID != c.ID {
				t.Fatalf("queue %+v, %v", queue, err)
			}
			_, err = e.svc.RejectCertificate(ctx, e.admin, c.ID, "")
			wantCode(t, err, errs.Invalid)
			got, err := e.svc.RejectCertificate(ctx, e.admin, c.ID, "The audit document is for another cooperative.")
			if err != nil || got.Status != CertificateRejected || got.RejectionReason == "" {
				t.Fatalf("%+v, %v", got, err)
			}
			if err := e.svc.DeleteCertificate(ctx, e.manager, c.ID); err != nil {
				t.Fatalf("deleting a rejected certificate to submit it again: %v", err)
			}
			if _, err := e.svc.SubmitCertificate(ctx, e.manager, e.coop, in); err != nil {
				t.Fatal(err)
			}
		})
	})
}

// Rule 6: certified means verified — by an administrator, and not expired
// (Africa/Casablanca). The badge is computed in Go for one product and in
// SQL for lists; both must say the same, and neither may show it for an
// unverified, rejected or expired certificate.
func TestCertifiedMeansVerified(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		today := e.svc.today()
		pr := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine certifié"}})

		check := func(t *testing.T, want bool) {
			t.Helper()
			one, err := e.svc.FindProduct(ctx, nil, pr.ID)
			if err != nil {
				t.Fatal(err)
			}
			list, err := e.svc.FindProducts(ctx, ProductFilter{Q: "tajine certifie"})
			if err != nil || len(list.Items) != 1 {
				t.Fatalf("list: %d items, %v", len(list.Items), err)
			}
			only, err := e.svc.FindProducts(ctx, ProductFilter{Certified: ptr(true)})
			if err != nil {
				t.Fatal(err)
			}
			if one.Certified != want || list.Items[0].Certified != want || (only.Total == 1) != want {
				t.Fatalf("certified: product %v, list %v, certified filter total %d; want %v",
					one.Certified, list.Items[0].Certified, only.Total, want)
			}
			if want != (list.Facets.Certified["true"] == 1) {
				t.Fatalf("facet %v, want certified %v", list.Facets.Certified, want)
			}
			if !want && len(one.Certificates) > 0 {
				t.Fatalf("the public sees certificates %+v on an uncertified product", one.Certificates)
			}
		}

		// A pending certificate cannot be linked, and shows nothing.
		pending, err := e.svc.SubmitCertificate(ctx, e.manager, e.coop, CertificateInput{Scheme: "madmoun", Number: "MAD-77",
			Issuer: "ONSSA", ValidUntil: today.AddDays(10), DocumentKey: "private/c/mad77.pdf"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.UpdateProduct(ctx, e.manager, pr.ID, ProductPatch{CertificateIDs: []int64{pending.ID}})
		if diff := cmp.Diff([]string{"certificate_ids[0]"}, fieldsOf(err)); diff != "" || !errs.Is(err, errs.Invalid) {
			t.Fatalf("linking a pending certificate: %v (-want +got):\n%s", err, diff)
		}
		check(t, false)

		// Another cooperative's verified certificate cannot be linked.
		theirs := e.verifiedCertificate(t, e.otherCoop, "tazerzite", "", "TZ-001", today.AddDays(100))
		_, err = e.svc.UpdateProduct(ctx, e.manager, pr.ID, ProductPatch{CertificateIDs: []int64{theirs.ID}})
		wantCode(t, err, errs.Forbidden)
		_, err = e.svc.CreateProduct(ctx, e.manager, e.coop, ProductInput{Title: map[string]string{"fr": "Bague"}, Craft: "silver-jewellery",
			CertificateIDs: []int64{theirs.ID}})
		wantCode(t, err, errs.Forbidden)
		check(t, false)

		// A verified certificate, valid until tomorrow: certified.
		mine := e.verifiedCertificate(t, e.coop, "morocco-handmade", "3", "MH-3-0001", today.AddDays(1))
		got, err := e.svc.UpdateProduct(ctx, e.manager, pr.ID, ProductPatch{CertificateIDs: []int64{mine.ID, mine.ID}})
		if err != nil || len(got.Certificates) != 1 {
			t.Fatalf("link: %+v, %v", got.Certificates, err)
		}
		check(t, true)
		public, _ := e.svc.FindProduct(ctx, nil, pr.ID)
		wantCert := []ProductCertificate{{ID: mine.ID, Number: "MH-3-0001", Scheme: "morocco-handmade", Level: "3",
			ValidUntil: today.AddDays(1), Status: CertificateVerified}}
		if diff := cmp.Diff(wantCert, public.Certificates, cmp.AllowUnexported(Date{})); diff != "" {
			t.Fatalf("public certificates (-want +got):\n%s", diff)
		}

		// Still valid all of its last day in Casablanca …
		e.clock.Advance(24 * time.Hour)
		check(t, true)
		// … and expired the day after: no badge, no timer needed.
		e.clock.Advance(24 * time.Hour)
		check(t, false)
		c, err := e.svc.FindCertificate(ctx, e.manager, mine.ID)
		if err != nil || c.Status != CertificateExpired {
			t.Fatalf("status %s, %v", c.Status, err)
		}
		insider, _ := e.svc.FindProduct(ctx, e.manager, pr.ID)
		if len(insider.Certificates) != 1 || insider.Certificates[0].Status != CertificateExpired || insider.Certified {
			t.Fatalf("the cooperative sees %+v certified %v", insider.Certificates, insider.Certified)
		}
		_, err = e.svc.VerifyCertificate(ctx, e.admin, mine.ID)
		wantCode(t, err, errs.Conflict)

		// A revoked certificate loses the badge at once.
		fresh := e.verifiedCertificate(t, e.coop, "madmoun", "", "MAD-78", e.svc.today().AddDays(200))
		if _, err := e.svc.UpdateProduct(ctx, e.manager, pr.ID, ProductPatch{CertificateIDs: []int64{fresh.ID}}); err != nil {
			t.Fatal(err)
		}
		check(t, true)
		if _, err := e.svc.RejectCertificate(ctx, e.admin, fresh.ID, "The audit was withdrawn."); err != nil {
			t.Fatal(err)
		}
		check(t, false)

		// A certificate not yet in force does not count either.
		future, err := e.svc.SubmitCertificate(ctx, e.manager, e.coop, CertificateInput{Scheme: "idoukan-n-oudrar", Number: "IO-5",
			Issuer: "Région Souss-Massa", ValidFrom: e.svc.today().AddDays(5), ValidUntil: e.svc.today().AddDays(50),
			DocumentKey: "private/c/io5.pdf"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.VerifyCertificate(ctx, e.admin, future.ID); err != nil {
			t.Fatal(err)
		}
		e.exec(t, "INSERT INTO product_certificates (product_id, certificate_id, created_at) VALUES (?, ?, ?)", pr.ID, future.ID, time.Now().UTC())
		check(t, false)
		e.clock.Advance(5 * 24 * time.Hour)
		check(t, true)

		// A certificate that somehow belongs to another cooperative never
		// counts, even if linked behind the rules' back.
		e.exec(t, "DELETE FROM product_certificates WHERE product_id = ?", pr.ID)
		e.exec(t, "INSERT INTO product_certificates (product_id, certificate_id, created_at) VALUES (?, ?, ?)", pr.ID, theirs.ID, time.Now().UTC())
		check(t, false)
	})
}

func TestFindCertificateByNumber(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		today := e.svc.today()
		cert := e.verifiedCertificate(t, e.otherCoop, "tazerzite", "", "TZ 2026/17", today.AddDays(300))
		ring := e.published(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Bague en argent"}, Craft: "silver-jewellery",
			CertificateIDs: []int64{cert.ID}})
		// A draft showing the certificate is not listed by the public check.
		e.draft(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Fibule"}, Craft: "silver-jewellery",
			CertificateIDs: []int64{cert.ID}})

		got, err := e.svc.FindCertificateByNumber(ctx, " tz2026/17 ")
		if err != nil {
			t.Fatal(err)
		}
		want := []CertificateCheck{{
			Number: "TZ 2026/17", Scheme: "tazerzite", SchemeName: Localized{"ar": "تازرزيت", "fr": "Tazerzite", "en": "Tazerzite"},
			Issuer: "Maison de l'Artisan", ValidFrom: today.AddDays(-30), ValidUntil: today.AddDays(300),
			Status: CertificateVerified, Valid: true,
			Cooperative: CooperativeRef{ID: e.otherCoop, Slug: "cooperative-tiznit-silver", Name: "Coopérative Argent Tiznit"},
			Products:    []ProductSummary{{ID: ring.ID, Slug: ring.Slug, Title: Localized{"fr": "Bague en argent"}}},
		}}
		if diff := cmp.Diff(want, got, cmp.AllowUnexported(Date{})); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}

		_, err = e.svc.FindCertificateByNumber(ctx, "TZ-0000")
		wantCode(t, err, errs.NotFound)

		// Expired: still answered, marked expired and not valid.
		e.clock.Advance(301 * 24 * time.Hour)
		got, err = e.svc.FindCertificateByNumber(ctx, "TZ 2026/17")
		if err != nil || got[0].Status != CertificateExpired || got[0].Valid {
			t.Fatalf("%+v, %v", got, err)
		}

		// A cooperative that is not verified is not vouched for.
		e.exec(t, "UPDATE cooperatives SET status = 'suspended' WHERE id = ?", e.otherCoop)
		_, err = e.svc.FindCertificateByNumber(ctx, "TZ 2026/17")
		wantCode(t, err, errs.NotFound)
	})
}
