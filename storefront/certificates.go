package storefront

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// CertificateStatus is where a certificate stands. Pending, verified and
// rejected are stored; expired is read: a pending or verified certificate
// whose valid_until has passed (Africa/Casablanca) is expired, with no
// timer to run.
type CertificateStatus string

// The certificate statuses.
const (
	CertificatePending  CertificateStatus = "pending"
	CertificateVerified CertificateStatus = "verified"
	CertificateRejected CertificateStatus = "rejected"
	CertificateExpired  CertificateStatus = "expired"
)

// Limits on certificate fields.
const (
	maxNumberLength    = 64
	maxIssuerLength    = 200
	privateKeyPrefix   = "private/" // media.PrivatePrefix: certificate documents are private objects
	maxCheckedProducts = 100
)

// Certificate is a certificate a cooperative holds under a scheme.
type Certificate struct {
	ID            int64  `json:"id"`
	CooperativeID int64  `json:"cooperative_id"`
	Scheme        string `json:"scheme"`
	Level         string `json:"level,omitempty"`
	Number        string `json:"number"`
	Issuer        string `json:"issuer"`
	ValidFrom     Date   `json:"valid_from"`
	ValidUntil    Date   `json:"valid_until"`
	// DocumentKey is the private media key of the audit document (PDF),
	// served only to the cooperative's members and administrators.
	DocumentKey string `json:"-"`
	// Status is derived: expired once valid_until has passed.
	Status          CertificateStatus `json:"status"`
	RejectionReason string            `json:"rejection_reason,omitempty"`
	VerifiedBy      *int64            `json:"verified_by,omitempty"`
	VerifiedAt      *time.Time        `json:"verified_at,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// certificateRow is a row of certificates.
type certificateRow struct {
	ID              int64 `gorm:"primaryKey"`
	CooperativeID   int64
	Scheme          string
	Level           *string
	Number          string
	NumberNorm      string
	Issuer          string
	ValidFrom       Date
	ValidUntil      Date
	DocumentKey     *string
	Status          CertificateStatus
	RejectionReason *string
	VerifiedBy      *int64
	VerifiedAt      *time.Time
	RejectedBy      *int64
	RejectedAt      *time.Time
	SubmittedBy     *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (certificateRow) TableName() string { return "certificates" }

func (r certificateRow) certificate(today Date) Certificate {
	return Certificate{
		ID: r.ID, CooperativeID: r.CooperativeID, Scheme: r.Scheme, Level: deref(r.Level), Number: r.Number,
		Issuer: r.Issuer, ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil, DocumentKey: deref(r.DocumentKey),
		Status: effectiveStatus(r.Status, r.ValidUntil, today), RejectionReason: deref(r.RejectionReason),
		VerifiedBy: r.VerifiedBy, VerifiedAt: r.VerifiedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// effectiveStatus derives the status shown from the stored one.
func effectiveStatus(stored CertificateStatus, validUntil, today Date) CertificateStatus {
	if (stored == CertificateVerified || stored == CertificatePending) && validUntil.Before(today) {
		return CertificateExpired
	}
	return stored
}

// certificateActive is rule 6 in Go: verified by an administrator and
// within its validity today. activeSQL is the same rule in SQL; the two
// must agree (TestCertifiedAgreesInGoAndSQL).
func certificateActive(status CertificateStatus, validFrom, validUntil, today Date) bool {
	return status == CertificateVerified && !validUntil.Before(today) && (validFrom.IsZero() || !validFrom.After(today))
}

// activeSQL is certificateActive for a certificate aliased c, with the day
// passed twice as a 'YYYY-MM-DD' parameter.
const activeSQL = `c.status = 'verified' AND c.valid_until >= ? AND (c.valid_from IS NULL OR c.valid_from <= ?)`

// linkedActiveSQL is true for a product p that one of its linked
// certificates, held by its own cooperative, makes certified today (rule
// 6, read from the certificates themselves). The day is passed twice.
const linkedActiveSQL = `EXISTS (SELECT 1 FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
	WHERE pc.product_id = p.id AND c.cooperative_id = p.cooperative_id AND ` + activeSQL + `)`

// certifiedSQL is true for a product p that shows the certified badge, read
// from the columns refreshCertified keeps (migration 0013): every day from
// certified_from to certified_until is certified and no day after it, so
// only a product whose last certificate has not started yet needs its
// certificates looked at (an earlier one may cover today). It is the same
// rule as linkedActiveSQL (TestCertifiedColumnsAgreeWithCertificates). The
// day is passed four times (certifiedArgs).
// It is never NULL, so that NOT of it holds for every uncertified product.
const certifiedSQL = `(p.certified_until IS NOT NULL AND p.certified_until >= ? AND
	(p.certified_from IS NULL OR p.certified_from <= ? OR ` + linkedActiveSQL + `))`

// certifiedArgs are the arguments of certifiedSQL for the day.
func certifiedArgs(today string) []any { return []any{today, today, today, today} }

// refreshCertifiedSQL recomputes certified_until and certified_from of the
// products the WHERE clause appended to it selects (products unaliased):
// of the linked certificates its own cooperative holds and an
// administrator has verified, the latest valid_until, and the earliest
// valid_from of those ending then (NULL when one has none). Migration 0013
// backfills with the same statement.
const refreshCertifiedSQL = `UPDATE products SET
  certified_until = (SELECT MAX(c.valid_until) FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
    WHERE pc.product_id = products.id AND c.cooperative_id = products.cooperative_id AND c.status = 'verified'),
  certified_from = (SELECT CASE WHEN COUNT(*) > COUNT(c.valid_from) THEN NULL ELSE MIN(c.valid_from) END
    FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
    WHERE pc.product_id = products.id AND c.cooperative_id = products.cooperative_id AND c.status = 'verified'
      AND c.valid_until = (SELECT MAX(c2.valid_until) FROM product_certificates pc2 JOIN certificates c2 ON c2.id = pc2.certificate_id
        WHERE pc2.product_id = products.id AND c2.cooperative_id = products.cooperative_id AND c2.status = 'verified'))
WHERE `

// refreshCertified recomputes the certified columns of the products in tx.
// Every write that links or unlinks certificates, or changes a linked
// certificate's status or dates, calls it (or refreshCertifiedOf) in its
// own transaction.
func refreshCertified(tx *gorm.DB, productIDs []int64) error {
	if len(productIDs) == 0 {
		return nil
	}
	if err := tx.Exec(refreshCertifiedSQL+"id IN ?", productIDs).Error; err != nil {
		return fmt.Errorf("refresh certified badge of products %v: %w", productIDs, err)
	}
	return nil
}

// refreshCertifiedOf recomputes the certified columns of the products
// linked to a certificate whose status or dates changed, in tx.
func refreshCertifiedOf(tx *gorm.DB, certificateID int64) error {
	err := tx.Exec(refreshCertifiedSQL+"id IN (SELECT product_id FROM product_certificates WHERE certificate_id = ?)", certificateID).Error
	if err != nil {
		return fmt.Errorf("refresh certified badge of the products of certificate %d: %w", certificateID, err)
	}
	return nil
}

// linkedCertificate is a certificate linked to a product.
type linkedCertificate struct {
	ProductID     int64
	ID            int64
	CooperativeID int64
	Scheme        string
	Level         *string
	Number        string
	Status        CertificateStatus
	ValidFrom     Date
	ValidUntil    Date
}

func (c linkedCertificate) activeFor(cooperativeID int64, today Date) bool {
	return c.CooperativeID == cooperativeID && certificateActive(c.Status, c.ValidFrom, c.ValidUntil, today)
}

func loadProductCertificates(db *gorm.DB, productIDs []int64) (map[int64][]linkedCertificate, error) {
	out := map[int64][]linkedCertificate{}
	if len(productIDs) == 0 {
		return out, nil
	}
	var rows []linkedCertificate
	err := db.Raw(`SELECT pc.product_id, c.id, c.cooperative_id, c.scheme, c.level, c.number, c.status, c.valid_from, c.valid_until
		FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
		WHERE pc.product_id IN ? ORDER BY pc.product_id, c.valid_until DESC, c.id`, productIDs).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read product certificates: %w", database.Translate(err))
	}
	for _, r := range rows {
		out[r.ProductID] = append(out[r.ProductID], r)
	}
	return out, nil
}

type productCertificateRow struct {
	ProductID     int64 `gorm:"primaryKey"`
	CertificateID int64 `gorm:"primaryKey"`
	CreatedAt     time.Time
}

func (productCertificateRow) TableName() string { return "product_certificates" }

// checkCertificateLinks checks the certificates a product of the
// cooperative is to show: each must be the cooperative's own (errs.Forbidden
// otherwise), verified and not expired (a field error in f otherwise). It
// returns the ids without repeats.
func checkCertificateLinks(tx *gorm.DB, f *errs.Fields, cooperativeID int64, ids []int64, today Date) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []certificateRow
	if err := tx.Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read certificates: %w", err)
	}
	byID := make(map[int64]certificateRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	var out []int64
	seen := map[int64]bool{}
	for i, id := range ids {
		field := fmt.Sprintf("certificate_ids[%d]", i)
		r, ok := byID[id]
		switch {
		case !ok:
			f.Add(field, "is not a certificate")
		case r.CooperativeID != cooperativeID:
			return nil, &errs.Error{Code: errs.Forbidden, Message: "a product may only show its own cooperative's certificates",
				Fields: []errs.FieldError{{Field: field, Message: "belongs to another cooperative"}}}
		case effectiveStatus(r.Status, r.ValidUntil, today) == CertificateExpired:
			f.Add(field, "has expired (valid until %s)", r.ValidUntil)
		case r.Status != CertificateVerified:
			f.Add(field, "is %s: only certificates verified by an administrator can be shown", r.Status)
		case !seen[id]:
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// linkCertificates links the certificates to a product (replacing its
// links when replace is set) and refreshes its certified columns.
func linkCertificates(tx *gorm.DB, productID int64, certificateIDs []int64, replace bool, now time.Time) error {
	if replace {
		if err := tx.Where("product_id = ?", productID).Delete(&productCertificateRow{}).Error; err != nil {
			return fmt.Errorf("unlink certificates of product %d: %w", productID, err)
		}
	}
	if len(certificateIDs) > 0 {
		rows := make([]productCertificateRow, len(certificateIDs))
		for i, id := range certificateIDs {
			rows[i] = productCertificateRow{ProductID: productID, CertificateID: id, CreatedAt: now}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("link certificates to product %d: %w", productID, err)
		}
	} else if !replace {
		return nil
	}
	return refreshCertified(tx, []int64{productID})
}

// CertificateInput is a certificate a cooperative submits for
// verification. DocumentKey is the private media key under which the HTTP
// layer stored the audit document (media.ValidatePDF, then Store.Put under
// "private/…").
type CertificateInput struct {
	Scheme      string
	Level       string
	Number      string
	Issuer      string
	ValidFrom   Date
	ValidUntil  Date
	DocumentKey string
}

// NormalizeCertificateNumber is the form numbers are compared in: upper
// case, without blanks ("mh 2024-0012" and "MH2024-0012" are one number).
func NormalizeCertificateNumber(number string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToUpper(r)
	}, number)
}

// checkNumber validates a certificate number: letters, digits, spaces and
// - / . only.
func checkNumber(f *errs.Fields, number string) string {
	n := strings.Join(strings.Fields(number), " ")
	if n == "" {
		f.Add("number", "is required")
		return n
	}
	if utf8.RuneCountInString(n) > maxNumberLength {
		f.Add("number", "must be at most %d characters", maxNumberLength)
		return n
	}
	for _, r := range n {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ' ' || r == '-' || r == '/' || r == '.') {
			f.Add("number", "may hold only letters, digits, spaces and - / .")
			break
		}
	}
	return n
}

// SubmitCertificate records a certificate of a cooperative, pending an
// administrator's verification. Managers of the cooperative and
// administrators may (errs.Forbidden). The level must be one of the
// scheme's levels when it has levels and empty otherwise; the certificate
// must not have expired; a number already recorded under the scheme is
// errs.Conflict.
func (s *Service) SubmitCertificate(ctx context.Context, p *account.Principal, cooperativeID int64, in CertificateInput) (Certificate, error) {
	if !p.CanManageCooperative(cooperativeID) {
		return Certificate{}, refuse(p, "only managers of the cooperative may submit its certificates")
	}
	var f errs.Fields
	number := checkNumber(&f, in.Number)
	issuer, ok := oneLine(in.Issuer)
	switch {
	case issuer == "":
		f.Add("issuer", "is required")
	case !ok || utf8.RuneCountInString(issuer) > maxIssuerLength:
		f.Add("issuer", "must be one line of at most %d characters", maxIssuerLength)
	}
	today := s.today()
	switch {
	case in.ValidUntil.IsZero():
		f.Add("valid_until", "is required")
	case in.ValidUntil.Before(today):
		f.Add("valid_until", "has passed: the certificate has expired")
	case !in.ValidFrom.IsZero() && in.ValidFrom.After(in.ValidUntil):
		f.Add("valid_from", "must not be after valid_until")
	}
	if in.DocumentKey == "" {
		f.Add("document", "the audit document (PDF) is required")
	} else if !strings.HasPrefix(in.DocumentKey, privateKeyPrefix) || !isMediaKey(in.DocumentKey) {
		f.Add("document", "must be stored as a private media object")
	}
	level := strings.TrimSpace(in.Level)
	now := s.clock()
	var id int64
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		f := append(errs.Fields(nil), f...)
		if _, err := findCooperative(tx, cooperativeID); err != nil {
			return err
		}
		var scheme CertificateScheme
		err := tx.Where("slug = ?", in.Scheme).Take(&scheme).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			f.Add("scheme", "is not a known certificate scheme")
		case err != nil:
			return fmt.Errorf("read scheme: %w", err)
		case scheme.HasLevels && level == "":
			f.Add("level", "is required for %s (one of %s)", scheme.Slug, strings.Join(scheme.Levels, ", "))
		case scheme.HasLevels && !scheme.hasLevel(level):
			f.Add("level", "must be one of %s", strings.Join(scheme.Levels, ", "))
		case !scheme.HasLevels && level != "":
			f.Add("level", "must be empty: %s has no levels", scheme.Slug)
		}
		if err := f.Err(); err != nil {
			return err
		}
		row := certificateRow{
			CooperativeID: cooperativeID, Scheme: scheme.Slug, Number: number, NumberNorm: NormalizeCertificateNumber(number),
			Issuer: issuer, ValidFrom: in.ValidFrom, ValidUntil: in.ValidUntil, DocumentKey: &in.DocumentKey,
			Status: CertificatePending, SubmittedBy: &p.UserID, CreatedAt: now, UpdatedAt: now,
		}
		if level != "" {
			row.Level = &level
		}
		if err := tx.Create(&row).Error; err != nil {
			if database.IsDuplicate(err) {
				return &errs.Error{Code: errs.Conflict, Message: "this certificate number is already recorded under the scheme",
					Fields: []errs.FieldError{{Field: "number", Message: "is already recorded"}}, Err: err}
			}
			return fmt.Errorf("insert certificate: %w", err)
		}
		id = row.ID
		return nil
	})
	if err != nil {
		return Certificate{}, fmt.Errorf("submit certificate for cooperative %d: %w", cooperativeID, err)
	}
	return s.FindCertificate(ctx, p, id)
}

// FindCertificate returns a certificate to its cooperative's members and to
// administrators (errs.NotFound for anyone else).
func (s *Service) FindCertificate(ctx context.Context, p *account.Principal, id int64) (Certificate, error) {
	var r certificateRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return Certificate{}, fmt.Errorf("find certificate %d: %w", id, database.Translate(err))
	}
	if !p.CanReadCooperative(r.CooperativeID) {
		return Certificate{}, errs.E(errs.NotFound, "no such certificate")
	}
	return r.certificate(s.today()), nil
}

// ListCooperativeCertificates returns a cooperative's certificates, newest
// first, to its members and administrators (errs.Forbidden otherwise).
func (s *Service) ListCooperativeCertificates(ctx context.Context, p *account.Principal, cooperativeID int64) ([]Certificate, error) {
	if !p.CanReadCooperative(cooperativeID) {
		return nil, refuse(p, "only members of the cooperative may list its certificates")
	}
	var rows []certificateRow
	if err := s.db.WithContext(ctx).Where("cooperative_id = ?", cooperativeID).Order("created_at DESC, id DESC").
		Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list certificates of cooperative %d: %w", cooperativeID, database.Translate(err))
	}
	today := s.today()
	out := make([]Certificate, len(rows))
	for i, r := range rows {
		out[i] = r.certificate(today)
	}
	return out, nil
}

// FindCertificatesToReview lists the certificates awaiting an
// administrator, oldest first, at most limit (1 to 100). Only
// administrators may.
func (s *Service) FindCertificatesToReview(ctx context.Context, p *account.Principal, limit int) ([]Certificate, error) {
	if !p.IsAdmin() {
		return nil, refuse(p, "only administrators review certificates")
	}
	if limit < 1 || limit > 100 {
		return nil, errs.InvalidField("limit", "must be from 1 to 100")
	}
	var rows []certificateRow
	if err := s.db.WithContext(ctx).Where("status = ? AND valid_until >= ?", CertificatePending, s.today()).
		Order("created_at, id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list certificates to review: %w", database.Translate(err))
	}
	today := s.today()
	out := make([]Certificate, len(rows))
	for i, r := range rows {
		out[i] = r.certificate(today)
	}
	return out, nil
}

// VerifyCertificate records that an administrator has checked the
// certificate against its document: from then until valid_until, the
// products linked to it show the certified badge. Only administrators may;
// an expired certificate cannot be verified (errs.Conflict).
func (s *Service) VerifyCertificate(ctx context.Context, p *account.Principal, id int64) (Certificate, error) {
	if !p.IsAdmin() {
		return Certificate{}, refuse(p, "only administrators verify certificates")
	}
	now := s.clock()
	today := s.today()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var r certificateRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return err
		}
		if r.ValidUntil.Before(today) {
			return errs.E(errs.Conflict, "the certificate expired on %s", r.ValidUntil)
		}
		if r.Status == CertificateVerified {
			return nil
		}
		if err := tx.Model(&certificateRow{}).Where("id = ?", id).Updates(map[string]any{
			"status": CertificateVerified, "verified_by": p.UserID, "verified_at": now, "rejection_reason": nil,
			"rejected_by": nil, "rejected_at": nil, "updated_at": now,
		}).Error; err != nil {
			return err
		}
		return refreshCertifiedOf(tx, id)
	})
	if err != nil {
		return Certificate{}, fmt.Errorf("verify certificate %d: %w", id, err)
	}
	return s.FindCertificate(ctx, p, id)
}

// RejectCertificate refuses a pending certificate, or revokes a verified
// one, with a reason the cooperative sees; the products linked to it lose
// the badge at once. Only administrators may; the reason is required.
func (s *Service) RejectCertificate(ctx context.Context, p *account.Principal, id int64, reason string) (Certificate, error) {
	if !p.IsAdmin() {
		return Certificate{}, refuse(p, "only administrators reject certificates")
	}
	reason, ok := multiLine(reason)
	switch {
	case reason == "":
		return Certificate{}, errs.InvalidField("reason", "is required: the cooperative needs to know why")
	case !ok || utf8.RuneCountInString(reason) > maxReasonLength:
		return Certificate{}, errs.InvalidField("reason", "must be plain text of at most %d characters", maxReasonLength)
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		// Read first: MySQL counts only changed rows as affected, so a
		// repeated rejection within the same microsecond would look absent.
		var r certificateRow
		switch err := tx.Select("id").Where("id = ?", id).Take(&r).Error; {
		case errors.Is(err, gorm.ErrRecordNotFound):
			return errs.E(errs.NotFound, "no such certificate")
		case err != nil:
			return err
		}
		err := tx.Model(&certificateRow{}).Where("id = ?", id).Updates(map[string]any{
			"status": CertificateRejected, "rejection_reason": reason, "rejected_by": p.UserID, "rejected_at": now,
			"verified_by": nil, "verified_at": nil, "updated_at": now,
		}).Error
		if err != nil {
			return err
		}
		return refreshCertifiedOf(tx, id)
	})
	if err != nil {
		return Certificate{}, fmt.Errorf("reject certificate %d: %w", id, err)
	}
	return s.FindCertificate(ctx, p, id)
}

// DeleteCertificate removes a certificate that is not verified (pending,
// rejected or expired), for instance to submit it again corrected; a
// verified one is kept for the record (errs.Conflict: ask an administrator
// to reject it). Managers of the cooperative and administrators may.
func (s *Service) DeleteCertificate(ctx context.Context, p *account.Principal, id int64) error {
	if err := mustSignIn(p); err != nil {
		return err
	}
	today := s.today()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var r certificateRow
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return err
		}
		if !p.CanManageCooperative(r.CooperativeID) {
			if !p.CanReadCooperative(r.CooperativeID) {
				return errs.E(errs.NotFound, "no such certificate")
			}
			return errs.E(errs.Forbidden, "only managers of the cooperative may delete its certificates")
		}
		if effectiveStatus(r.Status, r.ValidUntil, today) == CertificateVerified {
			return errs.E(errs.Conflict, "a verified certificate is kept; an administrator may revoke it")
		}
		// Its links go with it (ON DELETE CASCADE): the products they
		// badged are refreshed after.
		var linked []int64
		if err := tx.Model(&productCertificateRow{}).Where("certificate_id = ?", id).Pluck("product_id", &linked).Error; err != nil {
			return fmt.Errorf("read products of the certificate: %w", err)
		}
		if err := tx.Where("id = ?", id).Delete(&certificateRow{}).Error; err != nil {
			return err
		}
		return refreshCertified(tx, linked)
	})
	if err != nil {
		return fmt.Errorf("delete certificate %d: %w", id, err)
	}
	return nil
}

// CertificateCheck is the public answer to "is this certificate real?"
// (DESIGN rule 6): who holds it, under which scheme and level, how long it
// is valid, its status, and the published products that show it.
type CertificateCheck struct {
	Number      string            `json:"number"`
	Scheme      string            `json:"scheme"`
	SchemeName  Localized         `json:"scheme_name"`
	Level       string            `json:"level,omitempty"`
	Issuer      string            `json:"issuer"`
	ValidFrom   Date              `json:"valid_from"`
	ValidUntil  Date              `json:"valid_until"`
	Status      CertificateStatus `json:"status"`
	Valid       bool              `json:"valid"` // verified and within its validity today
	Cooperative CooperativeRef    `json:"cooperative"`
	Products    []ProductSummary  `json:"products"`
}

// ProductSummary names a product in a list that links to it.
type ProductSummary struct {
	ID    int64     `json:"id"`
	Slug  string    `json:"slug"`
	Title Localized `json:"title"`
}

// FindCertificateByNumber is the public certificate check. It looks the
// number up (blanks and case ignored) among the certificates of verified
// cooperatives and returns one answer per scheme that knows the number —
// usually one — or errs.NotFound. A rejection's reason is not shown.
func (s *Service) FindCertificateByNumber(ctx context.Context, number string) ([]CertificateCheck, error) {
	norm := NormalizeCertificateNumber(number)
	if norm == "" || utf8.RuneCountInString(norm) > maxNumberLength {
		return nil, errs.E(errs.NotFound, "no certificate has this number")
	}
	type checkRow struct {
		Row             certificateRow `gorm:"embedded"`
		SchemeName      Localized
		CooperativeSlug string
		CooperativeName string
	}
	var rows []checkRow
	db := s.db.WithContext(ctx)
	err := db.Raw(`SELECT c.*, s.name AS scheme_name, co.slug AS cooperative_slug, co.name AS cooperative_name
		FROM certificates c JOIN certificate_schemes s ON s.slug = c.scheme JOIN cooperatives co ON co.id = c.cooperative_id
		WHERE c.number_norm = ? AND co.status = ? ORDER BY s.position, c.id`, norm, cooperativeVerified).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("check certificate %q: %w", number, database.Translate(err))
	}
	if len(rows) == 0 {
		return nil, errs.E(errs.NotFound, "no certificate has this number")
	}
	today := s.today()
	out := make([]CertificateCheck, len(rows))
	for i, cr := range rows {
		r := cr.Row
		products := []ProductSummary{}
		err := db.Raw(`SELECT p.id, p.slug, p.title FROM products p JOIN product_certificates pc ON pc.product_id = p.id
			WHERE pc.certificate_id = ? AND p.cooperative_id = ? AND p.status = ? ORDER BY p.published_at DESC, p.id DESC LIMIT ?`,
			r.ID, r.CooperativeID, Published, maxCheckedProducts).Scan(&products).Error
		if err != nil {
			return nil, fmt.Errorf("products of certificate %d: %w", r.ID, database.Translate(err))
		}
		out[i] = CertificateCheck{
			Number: r.Number, Scheme: r.Scheme, SchemeName: cr.SchemeName, Level: deref(r.Level), Issuer: r.Issuer,
			ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil, Status: effectiveStatus(r.Status, r.ValidUntil, today),
			Valid:       certificateActive(r.Status, r.ValidFrom, r.ValidUntil, today),
			Cooperative: CooperativeRef{ID: r.CooperativeID, Slug: cr.CooperativeSlug, Name: cr.CooperativeName},
			Products:    products,
		}
	}
	return out, nil
}
