package storefront

import (
	"context"
	"fmt"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// CooperativeProfile is a verified cooperative as its public page shows it.
type CooperativeProfile struct {
	ID      int64
	Slug    string
	Name    string
	Commune string
	Crafts  Strings
	Story   Localized
	// Members is how many members the cooperative reports (women and men
	// together), nil when it reports none. The breakdown (women, members
	// with disabilities) stays with its members and administrators, as the
	// account package decides.
	Members *int
	// Certificates are those that count today (rule 6): verified by an
	// administrator and within their validity.
	Certificates []ActiveCertificate
}

// ActiveCertificate is a certificate that makes a product certified today.
type ActiveCertificate struct {
	Number     string
	Scheme     string
	SchemeName Localized
	Level      string
	ValidUntil Date
}

// FindCooperativeProfile returns the public profile of the verified
// cooperative with the slug, with its active certificates, in two queries.
// Any other cooperative is errs.NotFound.
func (s *Service) FindCooperativeProfile(ctx context.Context, slug string) (CooperativeProfile, error) {
	if !isSlug(slug, 100) {
		return CooperativeProfile{}, errs.E(errs.NotFound, "no such cooperative")
	}
	db := s.db.WithContext(ctx)
	var rows []struct {
		ID           int64
		Slug         string
		Name         string
		Commune      string
		Crafts       Strings
		Story        Localized
		WomenMembers *int
		MenMembers   *int
	}
	err := db.Raw(`SELECT id, slug, name, commune, crafts, story, women_members, men_members FROM cooperatives
		WHERE slug = ? AND status = ?`, slug, cooperativeVerified).Scan(&rows).Error
	if err != nil {
		return CooperativeProfile{}, fmt.Errorf("find cooperative %q: %w", slug, database.Translate(err))
	}
	if len(rows) == 0 {
		return CooperativeProfile{}, errs.E(errs.NotFound, "no such cooperative")
	}
	r := rows[0]
	out := CooperativeProfile{ID: r.ID, Slug: r.Slug, Name: r.Name, Commune: r.Commune, Crafts: r.Crafts, Story: r.Story,
		Certificates: []ActiveCertificate{}}
	if r.WomenMembers != nil || r.MenMembers != nil {
		n := 0
		for _, m := range []*int{r.WomenMembers, r.MenMembers} {
			if m != nil {
				n += *m
			}
		}
		out.Members = &n
	}
	var certs []struct {
		Number     string
		Scheme     string
		SchemeName Localized
		Level      *string
		ValidUntil Date
	}
	today := s.today().String()
	err = db.Raw(`SELECT c.number, c.scheme, s.name AS scheme_name, c.level, c.valid_until
		FROM certificates c JOIN certificate_schemes s ON s.slug = c.scheme
		WHERE c.cooperative_id = ? AND `+activeSQL+` ORDER BY s.position, c.id`, r.ID, today, today).Scan(&certs).Error
	if err != nil {
		return CooperativeProfile{}, fmt.Errorf("certificates of cooperative %q: %w", slug, database.Translate(err))
	}
	for _, c := range certs {
		out.Certificates = append(out.Certificates, ActiveCertificate{Number: c.Number, Scheme: c.Scheme, SchemeName: c.SchemeName,
			Level: deref(c.Level), ValidUntil: c.ValidUntil})
	}
	return out, nil
}

// CooperativeCard is a cooperative in a list that links to it.
type CooperativeCard struct {
	Slug     string
	Name     string
	Commune  string
	Products int64 // published products
	// Certified reports whether it holds a certificate that counts today.
	Certified bool
}

// FeaturedCooperatives returns up to limit verified cooperatives that have
// published products, in one query: certified ones first, then those with
// the most products, then by name. Like the catalog's counts, the answer
// may be kept for the count cache's TTL.
func (s *Service) FeaturedCooperatives(ctx context.Context, limit int) ([]CooperativeCard, error) {
	if limit < 1 || limit > 100 {
		return nil, errs.InvalidField("limit", "must be from 1 to 100")
	}
	today := s.today().String()
	key := fmt.Sprintf("%d|%s", limit, today)
	var out []CooperativeCard
	err := s.counts.load(ctx, key, s.now, func() (time.Time, bool) {
		e, ok := s.counts.featured[key]
		if ok {
			out = append([]CooperativeCard(nil), e.cards...)
		}
		return e.at, ok
	}, func() error {
		// Products are counted per cooperative on the (status, cooperative_id,
		// …) index alone, before the join.
		out = nil
		err := s.db.WithContext(ctx).Raw(`SELECT co.slug, co.name, co.commune, n.products,
			CASE WHEN EXISTS (SELECT 1 FROM certificates c WHERE c.cooperative_id = co.id AND `+activeSQL+`) THEN 1 ELSE 0 END AS certified
			FROM cooperatives co
			JOIN (SELECT cooperative_id, COUNT(*) AS products FROM products WHERE status = ? GROUP BY cooperative_id) n ON n.cooperative_id = co.id
			WHERE co.status = ?
			ORDER BY certified DESC, n.products DESC, co.name, co.id LIMIT ?`,
			today, today, Published, cooperativeVerified, limit).Scan(&out).Error
		if err != nil {
			return fmt.Errorf("featured cooperatives: %w", database.Translate(err))
		}
		return nil
	}, func(at time.Time) {
		s.counts.keepFeatured(key, out, at)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// FindArtisanName returns the name of the member of cooperativeID who made
// a product (Product.ArtisanID), or errs.NotFound when that user is no
// longer a member of it: a name is shown only while it stands for the
// cooperative.
func (s *Service) FindArtisanName(ctx context.Context, cooperativeID, userID int64) (string, error) {
	var names []string
	err := s.db.WithContext(ctx).Raw(`SELECT u.name FROM users u JOIN cooperative_members m ON m.user_id = u.id
		WHERE u.id = ? AND m.cooperative_id = ?`, userID, cooperativeID).Scan(&names).Error
	if err != nil {
		return "", fmt.Errorf("artisan %d: %w", userID, database.Translate(err))
	}
	if len(names) == 0 || names[0] == "" {
		return "", errs.E(errs.NotFound, "no such artisan")
	}
	return names[0], nil
}

// PublicPage is a public page's slug and when it last changed, for the
// sitemap.
type PublicPage struct {
	Slug      string
	UpdatedAt time.Time
}

// ListPublicPages returns the slugs of up to limit published products of
// verified cooperatives and of every verified cooperative, newest first.
func (s *Service) ListPublicPages(ctx context.Context, limit int) (products, cooperatives []PublicPage, err error) {
	db := s.db.WithContext(ctx)
	err = db.Raw(`SELECT p.slug, p.updated_at FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
		WHERE p.status = ? AND c.status = ? ORDER BY p.id DESC LIMIT ?`, Published, cooperativeVerified, limit).Scan(&products).Error
	if err != nil {
		return nil, nil, fmt.Errorf("list public products: %w", database.Translate(err))
	}
	err = db.Raw(`SELECT slug, updated_at FROM cooperatives WHERE status = ? ORDER BY id DESC LIMIT ?`, cooperativeVerified, limit).
		Scan(&cooperatives).Error
	if err != nil {
		return nil, nil, fmt.Errorf("list public cooperatives: %w", database.Translate(err))
	}
	return products, cooperatives, nil
}
