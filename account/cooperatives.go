package account

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// CooperativeStatus is where a cooperative stands with the administrators.
type CooperativeStatus string

// The statuses: a new cooperative is pending until an administrator
// verifies it; only verified cooperatives are public; an administrator may
// suspend one (and verify it again).
const (
	StatusPending   CooperativeStatus = "pending"
	StatusVerified  CooperativeStatus = "verified"
	StatusSuspended CooperativeStatus = "suspended"
)

// Valid reports whether s is a status.
func (s CooperativeStatus) Valid() bool {
	return s == StatusPending || s == StatusVerified || s == StatusSuspended
}

// Contact is how buyers and administrators reach a cooperative.
type Contact struct {
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// MemberFigures count a cooperative's members for the inclusion reports.
// Each figure is optional (nil: not reported).
type MemberFigures struct {
	Women            *int `json:"women"`
	Men              *int `json:"men"`
	WithDisabilities *int `json:"with_disabilities"`
}

// Cooperative is a cooperative (or association) of artisans.
type Cooperative struct {
	ID             int64             `json:"id"`
	Slug           string            `json:"slug"`
	Name           string            `json:"name"`
	Commune        string            `json:"commune"`
	Crafts         Slugs             `json:"crafts"`
	RegistryNumber string            `json:"registry_number"`
	ICE            string            `json:"ice"`
	Story          Localized         `json:"story"`
	Contact        Contact           `json:"contact"`
	LogoKey        *string           `json:"logo_key"`
	Status         CooperativeStatus `json:"status"`
	// MemberFigures are shown to the cooperative's members and to
	// administrators only (nil for everyone else).
	MemberFigures *MemberFigures `json:"member_figures,omitempty"`
	// RIB is the 24-digit bank account the cooperative is paid out to,
	// shown to its managers and to administrators only.
	RIB       string    `json:"rib,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// cooperativeRow is a row of cooperatives.
type cooperativeRow struct {
	ID              int64 `gorm:"primaryKey"`
	Slug            string
	Name            string
	Commune         string
	Crafts          Slugs
	RegistryNumber  string
	ICE             *string `gorm:"column:ice"`
	Story           Localized
	ContactEmail    string
	ContactPhone    string
	LogoKey         *string
	Status          CooperativeStatus
	WomenMembers    *int
	MenMembers      *int
	DisabledMembers *int
	RIB             *string `gorm:"column:rib"`
	CreatedBy       *int64
	StatusChangedAt *time.Time
	StatusChangedBy *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (cooperativeRow) TableName() string { return "cooperatives" }

func (r cooperativeRow) cooperative() Cooperative {
	c := Cooperative{
		ID: r.ID, Slug: r.Slug, Name: r.Name, Commune: r.Commune, Crafts: r.Crafts, RegistryNumber: r.RegistryNumber,
		Story: r.Story, Contact: Contact{Email: r.ContactEmail, Phone: r.ContactPhone}, LogoKey: r.LogoKey,
		Status: r.Status, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		MemberFigures: &MemberFigures{Women: r.WomenMembers, Men: r.MenMembers, WithDisabilities: r.DisabledMembers},
	}
	if r.ICE != nil {
		c.ICE = *r.ICE
	}
	if r.RIB != nil {
		c.RIB = *r.RIB
	}
	if c.Crafts == nil {
		c.Crafts = Slugs{}
	}
	if c.Story == nil {
		c.Story = Localized{}
	}
	return c
}

// forViewer hides what p may not see.
func (c Cooperative) forViewer(p *Principal) Cooperative {
	if !p.CanReadCooperative(c.ID) {
		c.MemberFigures = nil
	}
	if !p.CanManageCooperative(c.ID) {
		c.RIB = ""
	}
	return c
}

// CooperativeInput is a new cooperative.
type CooperativeInput struct {
	Name           string
	Commune        string
	Crafts         []string
	RegistryNumber string
	ICE            string
	Story          map[string]string
	Contact        Contact
	LogoKey        *string
	MemberFigures  MemberFigures
}

// Limits on cooperative fields.
const (
	maxCrafts      = 20
	maxStoryLength = 5000
)

func checkCrafts(f *errs.Fields, field string, crafts []string, required bool) Slugs {
	if len(crafts) == 0 {
		if required {
			f.Add(field, "must name at least one craft")
		}
		return Slugs{}
	}
	if len(crafts) > maxCrafts {
		f.Add(field, "must name at most %d crafts", maxCrafts)
		return nil
	}
	seen := map[string]bool{}
	out := Slugs{}
	for i, c := range crafts {
		if !IsSlug(c) || len(c) > 50 {
			f.Add(fmt.Sprintf("%s[%d]", field, i), "must be a craft slug such as pottery or silver-jewellery")
			continue
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

func checkICE(f *errs.Fields, ice string) {
	if ice == "" {
		return
	}
	if len(ice) != 15 || strings.IndexFunc(ice, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		f.Add("ice", "must be the 15 digits of the Identifiant Commun de l'Entreprise")
	}
}

func checkRegistry(f *errs.Fields, n string) {
	if utf8.RuneCountInString(n) > 50 || strings.IndexFunc(n, unicode.IsControl) >= 0 {
		f.Add("registry_number", "must be at most 50 printable characters")
	}
}

func checkStory(f *errs.Fields, story map[string]string) Localized {
	out := Localized{}
	for lang, text := range story {
		if !validLang(lang) {
			f.Add("story."+lang, "is not a language of the site (ar, fr, en)")
			continue
		}
		if utf8.RuneCountInString(text) > maxStoryLength {
			f.Add("story."+lang, "must be at most %d characters long", maxStoryLength)
			continue
		}
		if t := strings.TrimSpace(text); t != "" {
			out[lang] = t
		}
	}
	return out
}

func checkContact(f *errs.Fields, c Contact) Contact {
	c.Email, c.Phone = strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone)
	if c.Email != "" {
		checkEmail(f, "contact.email", c.Email)
	}
	checkPhone(f, "contact.phone", c.Phone)
	return c
}

func checkFigures(f *errs.Fields, m MemberFigures) {
	for _, fig := range []struct {
		name string
		v    *int
	}{{"women", m.Women}, {"men", m.Men}, {"with_disabilities", m.WithDisabilities}} {
		if fig.v != nil && (*fig.v < 0 || *fig.v > 1_000_000) {
			f.Add("member_figures."+fig.name, "must be a whole number from 0 to 1000000")
		}
	}
}

// checkLogoKey accepts a key of the public media area (media.PublicPrefix);
// "" clears the logo.
func checkLogoKey(f *errs.Fields, key *string) *string {
	if key == nil || *key == "" {
		return nil
	}
	k := *key
	if !strings.HasPrefix(k, "public/") || len(k) > 300 || strings.Contains(k, "..") || strings.Contains(k, "//") ||
		strings.IndexFunc(k, func(r rune) bool { return r < 0x21 || r == '\\' || r > 0x7e }) >= 0 {
		f.Add("logo_key", "must be a key of an uploaded public image (public/…)")
		return nil
	}
	return &k
}

// CreateCooperative registers a cooperative, pending verification, and
// makes the caller its manager. The slug comes from the name (transliterated,
// made unique with -2, -3 …). It returns errs.Forbidden unless the caller may
// create cooperatives, errs.Invalid for bad fields and errs.Conflict when
// the ICE is already registered.
func (s *Service) CreateCooperative(ctx context.Context, p *Principal, in CooperativeInput) (Cooperative, error) {
	if p == nil {
		return Cooperative{}, errs.E(errs.Unauthorized, "sign in first")
	}
	if !p.CanCreateCooperative() {
		return Cooperative{}, errs.E(errs.Forbidden, "only cooperative managers and administrators may register a cooperative")
	}
	var f errs.Fields
	checkName(&f, "name", in.Name, 200)
	checkName(&f, "commune", in.Commune, 100)
	crafts := checkCrafts(&f, "crafts", in.Crafts, true)
	in.RegistryNumber = strings.TrimSpace(in.RegistryNumber)
	checkRegistry(&f, in.RegistryNumber)
	in.ICE = strings.TrimSpace(in.ICE)
	checkICE(&f, in.ICE)
	story := checkStory(&f, in.Story)
	contact := checkContact(&f, in.Contact)
	checkFigures(&f, in.MemberFigures)
	logo := checkLogoKey(&f, in.LogoKey)
	if err := f.Err(); err != nil {
		return Cooperative{}, err
	}
	now := s.clock()
	row := cooperativeRow{
		Name: strings.TrimSpace(in.Name), Commune: strings.TrimSpace(in.Commune), Crafts: crafts,
		RegistryNumber: in.RegistryNumber, Story: story, ContactEmail: contact.Email, ContactPhone: contact.Phone,
		LogoKey: logo, Status: StatusPending, WomenMembers: in.MemberFigures.Women, MenMembers: in.MemberFigures.Men,
		DisabledMembers: in.MemberFigures.WithDisabilities, CreatedBy: &p.UserID, CreatedAt: now, UpdatedAt: now,
	}
	if in.ICE != "" {
		row.ICE = &in.ICE
	}
	base := Slugify(row.Name)
	var err error
	// A concurrent creation may take the slug between our look and our
	// insert; the unique index refuses it and we pick again.
	for attempt := 0; attempt < 5; attempt++ {
		err = s.db.Transact(ctx, func(tx *gorm.DB) error {
			slug, err := freeSlug(tx, base)
			if err != nil {
				return err
			}
			row.ID, row.Slug = 0, slug
			if err := tx.Create(&row).Error; err != nil {
				return err
			}
			return tx.Create(&memberRow{CooperativeID: row.ID, UserID: p.UserID, Role: MemberManager, CreatedAt: now}).Error
		})
		if err == nil || !database.IsDuplicate(err) || !strings.Contains(err.Error(), "slug") {
			break
		}
	}
	if err != nil && database.IsDuplicate(err) {
		return Cooperative{}, &errs.Error{Code: errs.Conflict, Message: "a cooperative with this ICE is already registered",
			Fields: []errs.FieldError{{Field: "ice", Message: "is already registered"}}, Err: err}
	}
	if err != nil {
		return Cooperative{}, fmt.Errorf("create cooperative %q: %w", row.Name, err)
	}
	if p.Memberships != nil {
		p.Memberships[row.ID] = MemberManager
	}
	return row.cooperative(), nil
}

// freeSlug returns base, or base-2, base-3 … whichever is not taken.
func freeSlug(tx *gorm.DB, base string) (string, error) {
	var taken []string
	if err := tx.Model(&cooperativeRow{}).Where("slug = ? OR slug LIKE ?", base, base+"-%").Pluck("slug", &taken).Error; err != nil {
		return "", fmt.Errorf("look up slugs like %q: %w", base, err)
	}
	used := make(map[string]bool, len(taken))
	for _, t := range taken {
		used[t] = true
	}
	if !used[base] {
		return base, nil
	}
	for n := 2; ; n++ {
		if c := fmt.Sprintf("%s-%d", base, n); !used[c] {
			return c, nil
		}
	}
}

// FindCooperative returns the cooperative with id whatever its status, with
// every field; callers decide what to show. It returns errs.NotFound.
func (s *Service) FindCooperative(ctx context.Context, id int64) (Cooperative, error) {
	var row cooperativeRow
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&row).Error; err != nil {
		return Cooperative{}, fmt.Errorf("find cooperative %d: %w", id, database.Translate(err))
	}
	return row.cooperative(), nil
}

// FindCooperativeBySlug returns the cooperative as p may see it: verified
// ones for anyone, others for their members and administrators. It returns
// errs.NotFound for a cooperative p may not see.
func (s *Service) FindCooperativeBySlug(ctx context.Context, p *Principal, slug string) (Cooperative, error) {
	if !IsSlug(slug) {
		return Cooperative{}, errs.E(errs.NotFound, "no such cooperative")
	}
	var row cooperativeRow
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).Take(&row).Error; err != nil {
		err = database.Translate(err)
		if errs.Is(err, errs.NotFound) {
			return Cooperative{}, errs.Wrap(errs.NotFound, err, "no such cooperative")
		}
		return Cooperative{}, fmt.Errorf("find cooperative %q: %w", slug, err)
	}
	c := row.cooperative()
	if !p.CanSeeCooperative(c) {
		return Cooperative{}, errs.E(errs.NotFound, "no such cooperative")
	}
	return c.forViewer(p), nil
}

// Page is a page request: Page from 1, PerPage from 1 to MaxPerPage.
type Page struct {
	Page    int
	PerPage int
}

// Paging bounds.
const (
	DefaultPerPage = 20
	MaxPerPage     = 100
)

// Check validates the page and fills defaults; it names the fields page and
// per_page.
func (pg *Page) Check(f *errs.Fields) {
	if pg.Page == 0 {
		pg.Page = 1
	}
	if pg.PerPage == 0 {
		pg.PerPage = DefaultPerPage
	}
	if pg.Page < 1 {
		f.Add("page", "must be 1 or more")
	}
	if pg.PerPage < 1 || pg.PerPage > MaxPerPage {
		f.Add("per_page", "must be from 1 to %d", MaxPerPage)
	}
}

func (pg Page) offset() int { return (pg.Page - 1) * pg.PerPage }

// CooperativeFilter selects cooperatives.
type CooperativeFilter struct {
	Status  CooperativeStatus // verified when empty; others for administrators only
	Commune string
	Craft   string
	Page
}

// FindCooperatives lists cooperatives by name, one page at a time, with the
// total. Anyone sees verified ones; only administrators may list other
// statuses (errs.Forbidden otherwise). It returns errs.Invalid for a bad
// filter.
func (s *Service) FindCooperatives(ctx context.Context, p *Principal, flt CooperativeFilter) ([]Cooperative, int64, error) {
	var f errs.Fields
	flt.Page.Check(&f)
	if flt.Status == "" {
		flt.Status = StatusVerified
	} else if !flt.Status.Valid() {
		f.Add("status", "must be one of pending, verified, suspended")
	}
	if flt.Craft != "" && !IsSlug(flt.Craft) {
		f.Add("craft", "must be a craft slug")
	}
	if err := f.Err(); err != nil {
		return nil, 0, err
	}
	if flt.Status != StatusVerified && !p.CanModerate() {
		return nil, 0, errs.E(errs.Forbidden, "only administrators may list cooperatives that are not verified")
	}
	q := s.db.WithContext(ctx).Model(&cooperativeRow{}).Where("status = ?", flt.Status)
	if flt.Commune != "" {
		q = q.Where("commune = ?", flt.Commune)
	}
	if flt.Craft != "" {
		switch s.db.Dialect {
		case database.MySQL:
			q = q.Where("JSON_CONTAINS(crafts, JSON_QUOTE(?))", flt.Craft)
		default:
			q = q.Where("EXISTS (SELECT 1 FROM json_each(cooperatives.crafts) WHERE json_each.value = ?)", flt.Craft)
		}
	}
	q = q.Session(&gorm.Session{}) // reused by the count and the page query
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count cooperatives: %w", database.Translate(err))
	}
	var rows []cooperativeRow
	if err := q.Order("name, id").Limit(flt.PerPage).Offset(flt.offset()).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("list cooperatives: %w", database.Translate(err))
	}
	out := make([]Cooperative, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.cooperative().forViewer(p))
	}
	return out, total, nil
}

// CooperativePatch changes a cooperative; nil fields stay as they are.
// Crafts, Story, Contact and MemberFigures replace the whole value; an empty
// LogoKey clears the logo. The slug never changes (links stay valid) and the
// status is changed by SetCooperativeStatus.
type CooperativePatch struct {
	Name           *string
	Commune        *string
	Crafts         *[]string
	RegistryNumber *string
	ICE            *string
	Story          *map[string]string
	Contact        *Contact
	LogoKey        *string
	MemberFigures  *MemberFigures
	// RIB is the bank account payouts go to (24 digits, or the same
	// account as a Moroccan IBAN); empty removes it.
	RIB *string
}

// UpdateCooperative changes a cooperative. It returns errs.NotFound,
// errs.Forbidden unless p manages it (or is an administrator), errs.Invalid
// for bad fields and errs.Conflict for an ICE registered to another one.
func (s *Service) UpdateCooperative(ctx context.Context, p *Principal, id int64, patch CooperativePatch) (Cooperative, error) {
	if _, err := s.FindCooperative(ctx, id); err != nil {
		return Cooperative{}, err
	}
	if !p.CanManageCooperative(id) {
		return Cooperative{}, errs.E(errs.Forbidden, "only the cooperative's managers may change it")
	}
	var f errs.Fields
	up := map[string]any{}
	if patch.Name != nil {
		checkName(&f, "name", *patch.Name, 200)
		up["name"] = strings.TrimSpace(*patch.Name)
	}
	if patch.Commune != nil {
		checkName(&f, "commune", *patch.Commune, 100)
		up["commune"] = strings.TrimSpace(*patch.Commune)
	}
	if patch.Crafts != nil {
		up["crafts"] = checkCrafts(&f, "crafts", *patch.Crafts, true)
	}
	if patch.RegistryNumber != nil {
		v := strings.TrimSpace(*patch.RegistryNumber)
		checkRegistry(&f, v)
		up["registry_number"] = v
	}
	if patch.ICE != nil {
		v := strings.TrimSpace(*patch.ICE)
		checkICE(&f, v)
		if v == "" {
			up["ice"] = nil
		} else {
			up["ice"] = v
		}
	}
	if patch.Story != nil {
		up["story"] = checkStory(&f, *patch.Story)
	}
	if patch.Contact != nil {
		c := checkContact(&f, *patch.Contact)
		up["contact_email"], up["contact_phone"] = c.Email, c.Phone
	}
	if patch.LogoKey != nil {
		up["logo_key"] = checkLogoKey(&f, patch.LogoKey)
	}
	if patch.MemberFigures != nil {
		checkFigures(&f, *patch.MemberFigures)
		up["women_members"], up["men_members"], up["disabled_members"] =
			patch.MemberFigures.Women, patch.MemberFigures.Men, patch.MemberFigures.WithDisabilities
	}
	if patch.RIB != nil {
		if v := strings.TrimSpace(*patch.RIB); v == "" {
			up["rib"] = nil
		} else if rib, err := payment.ParseRIB(v); err != nil {
			f.Add("rib", "%s", errs.As(err).Fields[0].Message)
		} else {
			up["rib"] = rib.Digits()
		}
	}
	if err := f.Err(); err != nil {
		return Cooperative{}, err
	}
	if len(up) > 0 {
		up["updated_at"] = s.clock()
		err := s.db.Transact(ctx, func(tx *gorm.DB) error {
			return tx.Model(&cooperativeRow{}).Where("id = ?", id).Updates(up).Error
		})
		if err != nil && database.IsDuplicate(err) {
			return Cooperative{}, &errs.Error{Code: errs.Conflict, Message: "a cooperative with this ICE is already registered",
				Fields: []errs.FieldError{{Field: "ice", Message: "is already registered"}}, Err: err}
		}
		if err != nil {
			return Cooperative{}, fmt.Errorf("update cooperative %d: %w", id, err)
		}
	}
	c, err := s.FindCooperative(ctx, id)
	if err != nil {
		return Cooperative{}, err
	}
	return c.forViewer(p), nil
}

// SetCooperativeStatus verifies or suspends a cooperative and records who
// decided and when. Setting the status it already has changes nothing. It
// returns errs.Forbidden unless p is an administrator, errs.Invalid for a
// status other than verified or suspended and errs.NotFound.
func (s *Service) SetCooperativeStatus(ctx context.Context, p *Principal, id int64, status CooperativeStatus) (Cooperative, error) {
	if !p.CanModerate() {
		return Cooperative{}, errs.E(errs.Forbidden, "only administrators may verify or suspend cooperatives")
	}
	if status != StatusVerified && status != StatusSuspended {
		return Cooperative{}, errs.InvalidField("status", "must be verified or suspended")
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&cooperativeRow{}).Where("id = ? AND status <> ?", id, status).
			Updates(map[string]any{"status": status, "status_changed_at": now, "status_changed_by": p.UserID, "updated_at": now})
		return res.Error
	})
	if err != nil {
		return Cooperative{}, fmt.Errorf("set status of cooperative %d to %s: %w", id, status, err)
	}
	c, err := s.FindCooperative(ctx, id)
	if err != nil {
		return Cooperative{}, err
	}
	return c.forViewer(p), nil
}
