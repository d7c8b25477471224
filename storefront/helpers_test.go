package storefront

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is a migrated database with a service and the people of a test: an
// administrator, two verified cooperatives (the first with a manager, a
// regular member and an artisan), a pending cooperative and an outsider.
type env struct {
	db    *database.DB
	svc   *Service
	clock *testClock

	admin, manager, member, outsider, otherManager, pendingManager *account.Principal

	coop, otherCoop, pendingCoop int64
	seq                          int
}

// start of every test clock: 10:00 in Casablanca on 15 June 2026.
var testStart = time.Date(2026, 6, 15, 9, 0, 0, 0, time.UTC)

func newEnv(tb testing.TB, dialect string) *env {
	tb.Helper()
	db := dbtest.Open(tb, dialect)
	clk := &testClock{t: testStart}
	e := &env{db: db, svc: New(db, Options{Now: clk.Now}), clock: clk}
	admin := e.user(tb, "admin@souk.test", "Admin")
	manager := e.user(tb, "manager@anzi.test", "Fatima")
	member := e.user(tb, "member@anzi.test", "Ahmed")
	outsider := e.user(tb, "buyer@example.test", "Buyer")
	other := e.user(tb, "manager@tiznit.test", "Hassan")
	pending := e.user(tb, "manager@tighmi.test", "Aicha")
	e.coop = e.cooperative(tb, "cooperative-anzi", "Coopérative Anzi", "Anzi", "verified")
	e.otherCoop = e.cooperative(tb, "cooperative-tiznit-silver", "Coopérative Argent Tiznit", "Tiznit", "verified")
	e.pendingCoop = e.cooperative(tb, "cooperative-tighmi", "Coopérative Tighmi", "Tighmi", "pending")
	e.membership(tb, e.coop, manager, "manager")
	e.membership(tb, e.coop, member, "member")
	e.membership(tb, e.otherCoop, other, "manager")
	e.membership(tb, e.pendingCoop, pending, "manager")
	e.admin = &account.Principal{UserID: admin, Roles: []account.Role{account.RoleAdmin}, Memberships: map[int64]account.MemberRole{}}
	e.manager = &account.Principal{UserID: manager, Roles: []account.Role{account.RoleCooperative},
		Memberships: map[int64]account.MemberRole{e.coop: account.MemberManager}}
	e.member = &account.Principal{UserID: member, Roles: []account.Role{account.RoleArtisan},
		Memberships: map[int64]account.MemberRole{e.coop: account.MemberRegular}}
	e.outsider = &account.Principal{UserID: outsider, Roles: []account.Role{account.RoleBuyer}, Memberships: map[int64]account.MemberRole{}}
	e.otherManager = &account.Principal{UserID: other, Roles: []account.Role{account.RoleCooperative},
		Memberships: map[int64]account.MemberRole{e.otherCoop: account.MemberManager}}
	e.pendingManager = &account.Principal{UserID: pending, Roles: []account.Role{account.RoleCooperative},
		Memberships: map[int64]account.MemberRole{e.pendingCoop: account.MemberManager}}
	return e
}

func (e *env) exec(tb testing.TB, q string, args ...any) {
	tb.Helper()
	if err := e.db.Exec(q, args...).Error; err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
}

func (e *env) user(tb testing.TB, email, name string) int64 {
	tb.Helper()
	now := time.Now().UTC()
	e.exec(tb, "INSERT INTO users (email, email_norm, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, ?)",
		email, email, name, now, now)
	var id int64
	if err := e.db.Raw("SELECT id FROM users WHERE email_norm = ?", email).Scan(&id).Error; err != nil || id == 0 {
		tb.Fatalf("user %s: %v", email, err)
	}
	return id
}

func (e *env) cooperative(tb testing.TB, slug, name, commune, status string) int64 {
	tb.Helper()
	now := time.Now().UTC()
	e.exec(tb, `INSERT INTO cooperatives (slug, name, commune, crafts, story, status, created_at, updated_at)
		VALUES (?, ?, ?, '["pottery"]', '{}', ?, ?, ?)`, slug, name, commune, status, now, now)
	var id int64
	if err := e.db.Raw("SELECT id FROM cooperatives WHERE slug = ?", slug).Scan(&id).Error; err != nil || id == 0 {
		tb.Fatalf("cooperative %s: %v", slug, err)
	}
	return id
}

func (e *env) membership(tb testing.TB, coop, user int64, role string) {
	tb.Helper()
	e.exec(tb, "INSERT INTO cooperative_members (cooperative_id, user_id, role, created_at) VALUES (?, ?, ?, ?)",
		coop, user, role, time.Now().UTC())
}

func ptr[T any](v T) *T { return &v }

// draft creates a draft of the cooperative as its manager (or the
// administrator for other cooperatives) with a price and a weight.
func (e *env) draft(tb testing.TB, coop int64, in ProductInput) Product {
	tb.Helper()
	if in.Craft == "" {
		in.Craft = "pottery"
	}
	if in.Price == nil {
		in.Price = ptr(int64(25_000))
	}
	if in.WeightG == nil {
		in.WeightG = ptr(1200)
	}
	pr, err := e.svc.CreateProduct(context.Background(), e.admin, coop, in)
	if err != nil {
		tb.Fatalf("create product %v: %v", in.Title, err)
	}
	return pr
}

// photo adds a distinct photo to a product.
func (e *env) photo(tb testing.TB, productID int64) Photo {
	tb.Helper()
	e.seq++
	ph, err := e.svc.AddPhoto(context.Background(), e.admin, productID, photoRecord(e.seq))
	if err != nil {
		tb.Fatalf("add photo to %d: %v", productID, err)
	}
	return ph
}

func photoRecord(n int) PhotoRecord {
	sum := sha256.Sum256([]byte(fmt.Sprintf("photo %d", n)))
	h := hex.EncodeToString(sum[:])
	return PhotoRecord{
		Alt: Localized{"fr": "Photo " + fmt.Sprint(n)}, Width: 1600, Height: 1200, Color: "#a0522d", BlurHash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
		Variants: []PhotoVariant{
			{Width: 320, Height: 240, Key: "public/photos/" + h[:2] + "/" + h + "-320.jpg"},
			{Width: 640, Height: 480, Key: "public/photos/" + h[:2] + "/" + h + "-640.jpg"},
			{Width: 1280, Height: 960, Key: "public/photos/" + h[:2] + "/" + h + "-1280.jpg"},
		},
		ContentHash: h,
	}
}

// published creates a product with a photo and publishes it; the clock
// moves a minute so that "newest" is well defined.
func (e *env) published(tb testing.TB, coop int64, in ProductInput) Product {
	tb.Helper()
	pr := e.draft(tb, coop, in)
	e.photo(tb, pr.ID)
	e.clock.Advance(time.Minute)
	out, err := e.svc.PublishProduct(context.Background(), e.admin, pr.ID)
	if err != nil {
		tb.Fatalf("publish %d: %v", pr.ID, err)
	}
	return out
}

// verifiedCertificate submits and verifies a certificate of the cooperative.
func (e *env) verifiedCertificate(tb testing.TB, coop int64, scheme, level, number string, validUntil Date) Certificate {
	tb.Helper()
	ctx := context.Background()
	c, err := e.svc.SubmitCertificate(ctx, e.admin, coop, CertificateInput{Scheme: scheme, Level: level, Number: number,
		Issuer: "Maison de l'Artisan", ValidFrom: e.svc.today().AddDays(-30), ValidUntil: validUntil,
		DocumentKey: "private/certificates/" + NormalizeCertificateNumber(number) + ".pdf"})
	if err != nil {
		tb.Fatalf("submit certificate %s: %v", number, err)
	}
	if c, err = e.svc.VerifyCertificate(ctx, e.admin, c.ID); err != nil {
		tb.Fatalf("verify certificate %s: %v", number, err)
	}
	return c
}

// wantCode fails unless err carries code.
func wantCode(tb testing.TB, err error, code errs.Code) {
	tb.Helper()
	if !errs.Is(err, code) {
		tb.Fatalf("got %v, want a %s error", err, code)
	}
}

// fieldsOf returns the field names of an errs.Error, in order.
func fieldsOf(err error) []string {
	e := errs.As(err)
	if e == nil {
		return nil
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Field
	}
	return out
}
