package storefront

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/account"
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
		e.linkBehindTheRules(t, pr.ID, false, future.ID)
		check(t, false)
		e.clock.Advance(5 * 24 * time.Hour)
		check(t, true)

		// A certificate that somehow belongs to another cooperative never
		// counts, even if linked behind the rules' back.
		e.linkBehindTheRules(t, pr.ID, true, theirs.ID)
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

// linkBehindTheRules links certificates to a product in SQL, past the
// checks of UpdateProduct (replacing its links when replace is set), as a
// write outside the service would, and keeps the certified columns as
// every writer must.
func (e *env) linkBehindTheRules(tb testing.TB, productID int64, replace bool, certificateIDs ...int64) {
	tb.Helper()
	err := e.db.Transact(context.Background(), func(tx *gorm.DB) error {
		return linkCertificates(tx, productID, certificateIDs, replace, time.Now().UTC())
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// Rule 6 read from the product row (certified_until, certified_from) must
// give, for every product and every day, the answer the certificates give
// (the EXISTS over product_certificates ⋈ certificates the catalog used
// before migration 0013): after any sequence of verifications, rejections,
// revocations, deletions, links, unlinks, edits of valid_until and days
// passing. The Go badge, the certified filter and its facet must agree too.
func TestCertifiedColumnsAgreeWithCertificates(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		for _, seed := range []uint64{1, 2, 3} {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				checkCertifiedColumns(t, dialect, seed, 80)
			})
		}
	})
}

func checkCertifiedColumns(t *testing.T, dialect string, seed uint64, steps int) {
	e := newEnv(t, dialect)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, 0x6ce27))
	type product struct {
		id, coop int64
		manager  *account.Principal
	}
	var products []product
	for i := range 6 {
		coop, manager := e.coop, e.manager
		if i%3 == 2 {
			coop, manager = e.otherCoop, e.otherManager
		}
		pr := e.published(t, coop, ProductInput{Title: map[string]string{"fr": fmt.Sprintf("Tajine %d", i)}})
		products = append(products, product{pr.ID, coop, manager})
	}
	var certs []Certificate
	n := 0
	// submit records a certificate valid from a random day (or from ever)
	// to a later one, and has it verified unless pending is set.
	submit := func(coop int64, pending bool) string {
		today := e.svc.today()
		n++
		in := CertificateInput{Scheme: "madmoun", Number: fmt.Sprintf("MAD-%d-%d", seed, n), Issuer: "ONSSA",
			ValidUntil: today.AddDays(rng.IntN(40)), DocumentKey: fmt.Sprintf("private/c/%d-%d.pdf", seed, n)}
		if rng.IntN(3) > 0 {
			in.ValidFrom = today.AddDays(rng.IntN(30) - 20)
			if in.ValidFrom.After(in.ValidUntil) {
				in.ValidUntil = in.ValidFrom.AddDays(rng.IntN(30))
			}
		}
		c, err := e.svc.SubmitCertificate(ctx, e.admin, coop, in)
		if err != nil {
			t.Fatalf("submit %+v: %v", in, err)
		}
		if !pending {
			if c, err = e.svc.VerifyCertificate(ctx, e.admin, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		certs = append(certs, c)
		return fmt.Sprintf("submit %d [%s, %s] pending=%v", c.ID, in.ValidFrom, in.ValidUntil, pending)
	}
	pick := func() (Certificate, bool) {
		if len(certs) == 0 {
			return Certificate{}, false
		}
		return certs[rng.IntN(len(certs))], true
	}
	link := func() string { // link the product to some of its cooperative's certificates the rules allow, or to none
		pr := products[rng.IntN(len(products))]
		var linkable, ids []int64
		err := e.db.Raw("SELECT id FROM certificates WHERE cooperative_id = ? AND status = ? AND valid_until >= ? ORDER BY id",
			pr.coop, CertificateVerified, e.svc.today()).Scan(&linkable).Error
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range linkable {
			if rng.IntN(2) == 0 {
				ids = append(ids, id)
			}
		}
		if _, err := e.svc.UpdateProduct(ctx, pr.manager, pr.id, ProductPatch{CertificateIDs: append([]int64{}, ids...)}); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("link %d to %v", pr.id, ids)
	}
	ops := []func() string{
		func() string { return submit([]int64{e.coop, e.otherCoop}[rng.IntN(2)], rng.IntN(4) == 0) },
		link, link,
		func() string { // link behind the rules: another cooperative's, pending or rejected certificates
			c, ok := pick()
			if !ok {
				return "no certificate to link"
			}
			pr := products[rng.IntN(len(products))]
			var linked int64
			e.db.Raw("SELECT COUNT(*) FROM product_certificates WHERE product_id = ? AND certificate_id = ?", pr.id, c.ID).Scan(&linked)
			if linked == 0 {
				e.linkBehindTheRules(t, pr.id, false, c.ID)
			}
			return fmt.Sprintf("link %d to %d behind the rules", pr.id, c.ID)
		},
		func() string { // verify a pending one, or reinstate a rejected one (its links kept)
			var waiting []int64
			err := e.db.Raw("SELECT id FROM certificates WHERE status <> ? ORDER BY id", CertificateVerified).Scan(&waiting).Error
			if err != nil {
				t.Fatal(err)
			}
			if len(waiting) == 0 {
				return "no certificate to verify"
			}
			c := Certificate{ID: waiting[rng.IntN(len(waiting))]}
			_, err = e.svc.VerifyCertificate(ctx, e.admin, c.ID)
			if err != nil && !errs.Is(err, errs.Conflict) {
				t.Fatal(err)
			}
			return fmt.Sprintf("verify %d: %v", c.ID, err)
		},
		func() string { // reject a pending one, revoke a verified one
			c, ok := pick()
			if !ok {
				return "no certificate to reject"
			}
			if _, err := e.svc.RejectCertificate(ctx, e.admin, c.ID, "The audit was withdrawn."); err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("reject %d", c.ID)
		},
		func() string { // delete one that is not verified (any other is refused), expired ones most
			c, ok := pick()
			var expired []int64
			err := e.db.Raw("SELECT id FROM certificates WHERE status = ? AND valid_until < ? ORDER BY id",
				CertificateVerified, e.svc.today()).Scan(&expired).Error
			if err != nil {
				t.Fatal(err)
			}
			if len(expired) > 0 && rng.IntN(3) > 0 {
				c, ok = Certificate{ID: expired[rng.IntN(len(expired))]}, true
			}
			if !ok {
				return "no certificate to delete"
			}
			err = e.svc.DeleteCertificate(ctx, e.admin, c.ID)
			if err != nil && !errs.Is(err, errs.Conflict) {
				t.Fatal(err)
			}
			if err == nil {
				certs = slices.DeleteFunc(certs, func(d Certificate) bool { return d.ID == c.ID })
			}
			return fmt.Sprintf("delete %d: %v", c.ID, err)
		},
		func() string { // edit valid_until (no service writer yet: what one must do)
			c, ok := pick()
			if !ok {
				return "no certificate to edit"
			}
			until := e.svc.today().AddDays(rng.IntN(50) - 10)
			err := e.db.Transact(ctx, func(tx *gorm.DB) error {
				if err := tx.Exec("UPDATE certificates SET valid_until = ? WHERE id = ? AND (valid_from IS NULL OR valid_from <= ?)",
					until, c.ID, until).Error; err != nil {
					return err
				}
				return refreshCertifiedOf(tx, c.ID)
			})
			if err != nil {
				t.Fatal(err)
			}
			return fmt.Sprintf("edit %d valid_until %s", c.ID, until)
		},
		func() string { // days pass: certificates start and expire with no write
			d := rng.IntN(6) + 1
			e.clock.Advance(time.Duration(d) * 24 * time.Hour)
			return fmt.Sprintf("advance %d days to %s", d, e.svc.today())
		},
	}
	for _, coop := range []int64{e.coop, e.coop, e.otherCoop} {
		submit(coop, false)
	}
	var log []string
	for step := range steps {
		log = append(log, ops[rng.IntN(len(ops))]())
		today := e.svc.today()
		// The columns must hold for the days to come as well: no job runs
		// when a certificate starts or ends.
		for d := 0; d <= 45; d += 3 {
			day := today.AddDays(d).String()
			var rows []struct {
				ID        int64
				Want, Got bool
			}
			args := append([]any{day, day}, certifiedArgs(day)...)
			err := e.db.Raw(`SELECT p.id, CASE WHEN `+linkedActiveSQL+` THEN 1 ELSE 0 END AS want,
				CASE WHEN `+certifiedSQL+` THEN 1 ELSE 0 END AS got FROM products p ORDER BY p.id`, args...).Scan(&rows).Error
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if r.Want != r.Got {
					t.Fatalf("step %d, day %s: product %d certified by its certificates %v, by its columns %v; operations:\n%s",
						step, day, r.ID, r.Want, r.Got, strings.Join(log, "\n"))
				}
			}
		}
		// The columns hold what they are defined as (migration 0013): a
		// write that forgot to refresh them shows here even when it does
		// not change today's answer.
		var stale []int64
		err := e.db.Raw(`SELECT p.id FROM products p WHERE NOT (
				COALESCE(p.certified_until, '') = COALESCE((SELECT MAX(c.valid_until) FROM product_certificates pc
					JOIN certificates c ON c.id = pc.certificate_id
					WHERE pc.product_id = p.id AND c.cooperative_id = p.cooperative_id AND c.status = 'verified'), '')
				AND (p.certified_until IS NULL OR COALESCE(p.certified_from, '') = COALESCE((SELECT MIN(COALESCE(c.valid_from, ''))
					FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
					WHERE pc.product_id = p.id AND c.cooperative_id = p.cooperative_id AND c.status = 'verified'
					AND c.valid_until = p.certified_until), '')))`).Scan(&stale).Error
		if err != nil {
			t.Fatal(err)
		}
		if len(stale) > 0 {
			t.Fatalf("step %d: products %v hold stale certified columns; operations:\n%s", step, stale, strings.Join(log, "\n"))
		}
		// Today through the catalog: the badge, the filter, the facet.
		var want []int64
		for _, pr := range products {
			var active bool
			day := today.String()
			if err := e.db.Raw("SELECT "+linkedActiveSQL+" FROM products p WHERE p.id = ?", day, day, pr.id).Scan(&active).Error; err != nil {
				t.Fatal(err)
			}
			one, err := e.svc.FindProduct(ctx, nil, pr.id)
			if err != nil {
				t.Fatal(err)
			}
			if one.Certified != active || (len(one.Certificates) > 0) != active {
				t.Fatalf("step %d: product %d shows certified %v with %d certificates, want %v; operations:\n%s",
					step, pr.id, one.Certified, len(one.Certificates), active, strings.Join(log, "\n"))
			}
			if active {
				want = append(want, pr.id)
			}
		}
		only, err := e.svc.FindProducts(ctx, ProductFilter{Certified: ptr(true), Sort: SortPriceAsc})
		if err != nil {
			t.Fatal(err)
		}
		others, err := e.svc.FindProducts(ctx, ProductFilter{Certified: ptr(false)})
		if err != nil {
			t.Fatal(err)
		}
		if others.Total != int64(len(products)-len(want)) {
			t.Fatalf("step %d: %d products not certified, want %d", step, others.Total, len(products)-len(want))
		}
		var got []int64
		for _, it := range only.Items {
			got = append(got, it.ID)
			if !it.Certified {
				t.Fatalf("step %d: product %d listed as certified without the badge", step, it.ID)
			}
		}
		slices.Sort(got)
		if !slices.Equal(want, got) || only.Total != int64(len(want)) || only.Facets.Certified["true"] != int64(len(want)) ||
			only.Facets.Certified["false"] != int64(len(products)-len(want)) {
			t.Fatalf("step %d: certified filter %v (total %d, facet %v), want %v; operations:\n%s",
				step, got, only.Total, only.Facets.Certified, want, strings.Join(log, "\n"))
		}
	}
}
