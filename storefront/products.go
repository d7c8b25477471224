package storefront

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// ProductStatus is where a product stands: a draft is seen by its
// cooperative only, a published product by everyone (while its cooperative
// is verified), an archived one by its cooperative only, kept for the
// orders that name it.
type ProductStatus string

// The product statuses.
const (
	Draft     ProductStatus = "draft"
	Published ProductStatus = "published"
	Archived  ProductStatus = "archived"
)

// Limits on product fields.
const (
	// MaxPrice is the highest price accepted, in centimes (1,000,000 MAD):
	// far above any piece sold, low enough to catch a misplaced decimal.
	MaxPrice int64 = 100_000_000
	// MaxStock bounds the stock of one product.
	MaxStock = 100_000
	// MaxWeightG bounds the weight of one piece (200 kg: the largest carpets).
	MaxWeightG = 200_000
	// MaxDimensionCM bounds a dimension (20 m: the longest carpets).
	MaxDimensionCM = 2_000
	// MaxMadeToOrderDays bounds the making time of a made-to-order product.
	MaxMadeToOrderDays = 365
	// MaxCertificatesPerProduct bounds the certificates linked to a product.
	MaxCertificatesPerProduct = 10

	maxTitleLength       = 200
	maxDescriptionLength = 5000
	maxCommuneLength     = 100
	maxListItems         = 20
	maxListItemLength    = 60
	maxReasonLength      = 500
)

// Dimensions are a product's height, width and depth in centimetres, each
// optional, to the millimetre.
type Dimensions struct {
	Height *float64 `json:"height,omitempty"`
	Width  *float64 `json:"width,omitempty"`
	Depth  *float64 `json:"depth,omitempty"`
}

// Product is a piece or a line of pieces a cooperative sells.
type Product struct {
	ID          int64          `json:"id"`
	Slug        string         `json:"slug"`
	Status      ProductStatus  `json:"status"`
	Cooperative CooperativeRef `json:"cooperative"`
	// ArtisanID is the member of the cooperative who made it, when named.
	ArtisanID   *int64     `json:"artisan_id,omitempty"`
	Title       Localized  `json:"title"`
	Description Localized  `json:"description"`
	Craft       string     `json:"craft"`
	Commune     string     `json:"commune"`
	Materials   Strings    `json:"materials"`
	Techniques  Strings    `json:"techniques"`
	Dimensions  Dimensions `json:"dimensions_cm"`
	WeightG     *int       `json:"weight_g"`
	// Price is in centimes of Currency; nil while a draft has none.
	Price      *int64 `json:"price"`
	Currency   string `json:"currency"`
	Stock      int    `json:"stock"`
	OneOfAKind bool   `json:"one_of_a_kind"`
	// MadeToOrderDays, when set, says the cooperative makes the piece on
	// order in that many days: it can be bought with no stock.
	MadeToOrderDays *int `json:"made_to_order_days"`
	// Available reports whether a buyer can order it now: published by a
	// verified cooperative, and in stock or made to order.
	Available bool `json:"available"`
	// Certified is DESIGN rule 6: a linked certificate is verified and
	// valid today (Africa/Casablanca).
	Certified bool `json:"certified"`
	// Certificates are the linked certificates: the public sees only those
	// that make it certified; members and administrators see all, with
	// their status.
	Certificates []ProductCertificate `json:"certificates"`
	Photos       []Photo              `json:"photos"`
	// UnpublishedReason is an administrator's reason for taking the
	// product down; shown to its cooperative and administrators only.
	UnpublishedReason string     `json:"unpublished_reason,omitempty"`
	PublishedAt       *time.Time `json:"published_at,omitempty"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// ProductCertificate is a certificate as shown on a product.
type ProductCertificate struct {
	ID         int64             `json:"id"`
	Number     string            `json:"number"`
	Scheme     string            `json:"scheme"`
	Level      string            `json:"level,omitempty"`
	ValidUntil Date              `json:"valid_until"`
	Status     CertificateStatus `json:"status"`
}

// productRow is a row of products.
type productRow struct {
	ID                int64 `gorm:"primaryKey"`
	CooperativeID     int64
	ArtisanID         *int64
	Slug              string
	Title             Localized
	Description       Localized
	Craft             string
	Commune           string
	Materials         Strings
	Techniques        Strings
	HeightMM          *int `gorm:"column:height_mm"`
	WidthMM           *int `gorm:"column:width_mm"`
	DepthMM           *int `gorm:"column:depth_mm"`
	WeightG           *int `gorm:"column:weight_g"`
	Price             *int64
	Currency          string
	Stock             int
	OneOfAKind        bool `gorm:"column:one_of_a_kind"`
	MadeToOrderDays   *int `gorm:"column:made_to_order_days"`
	Status            ProductStatus
	UnpublishedReason *string
	UnpublishedAt     *time.Time
	UnpublishedBy     *int64
	PublishedAt       *time.Time
	SearchTitle       string
	SearchText        string
	// CertifiedUntil and CertifiedFrom are kept by refreshCertified
	// (certifiedSQL says what they mean); no other write sets them.
	CertifiedUntil Date
	CertifiedFrom  Date
	CreatedBy      *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (productRow) TableName() string { return "products" }

// productRecord is a product row with what views need of its cooperative.
type productRecord struct {
	Row               productRow `gorm:"embedded"`
	CooperativeSlug   string
	CooperativeName   string
	CooperativeStatus string
}

// productColumns selects a productRecord from products p joined to
// cooperatives c.
const productColumns = `p.id, p.cooperative_id, p.artisan_id, p.slug, p.title, p.description, p.craft, p.commune,
	p.materials, p.techniques, p.height_mm, p.width_mm, p.depth_mm, p.weight_g, p.price, p.currency, p.stock,
	p.one_of_a_kind, p.made_to_order_days, p.status, p.unpublished_reason, p.unpublished_at, p.unpublished_by,
	p.published_at, p.created_by, p.created_at, p.updated_at, p.certified_until, p.certified_from,
	c.slug AS cooperative_slug, c.name AS cooperative_name, c.status AS cooperative_status`

// scanProductRecords reads rows of productColumns and closes them. It
// scans column by column: lists read a page of these on every request,
// and GORM's reflective scan cost more than the query.
func scanProductRecords(rows *sql.Rows) ([]productRecord, error) {
	defer rows.Close()
	var out []productRecord
	for rows.Next() {
		var rec productRecord
		r := &rec.Row
		if err := rows.Scan(&r.ID, &r.CooperativeID, &r.ArtisanID, &r.Slug, &r.Title, &r.Description, &r.Craft, &r.Commune,
			&r.Materials, &r.Techniques, &r.HeightMM, &r.WidthMM, &r.DepthMM, &r.WeightG, &r.Price, &r.Currency, &r.Stock,
			&r.OneOfAKind, &r.MadeToOrderDays, &r.Status, &r.UnpublishedReason, &r.UnpublishedAt, &r.UnpublishedBy,
			&r.PublishedAt, &r.CreatedBy, &r.CreatedAt, &r.UpdatedAt, &r.CertifiedUntil, &r.CertifiedFrom,
			&rec.CooperativeSlug, &rec.CooperativeName, &rec.CooperativeStatus); err != nil {
			return nil, fmt.Errorf("scan product: %w", err)
		}
		out = append(out, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("scan products: %w", err)
	}
	return out, nil
}

// readPhotos reads the photos of the products by product, each product's
// in order (what loadPhotos reads, scanned column by column: a page of 24
// products has about a hundred photos).
func readPhotos(db *gorm.DB, productIDs []int64) (map[int64][]Photo, error) {
	out := make(map[int64][]Photo, len(productIDs))
	if len(productIDs) == 0 {
		return out, nil
	}
	rows, err := db.Raw(`SELECT id, product_id, position, alt, width, height, color, blurhash, variants, content_hash, created_at
		FROM product_photos WHERE product_id IN ? ORDER BY product_id, position, id`, productIDs).Rows()
	if err != nil {
		return nil, fmt.Errorf("read photos: %w", database.Translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var ph Photo
		if err := rows.Scan(&ph.ID, &ph.ProductID, &ph.Position, &ph.Alt, &ph.Width, &ph.Height, &ph.Color, &ph.BlurHash,
			&ph.Variants, &ph.ContentHash, &ph.CreatedAt); err != nil {
			return nil, fmt.Errorf("scan photo: %w", err)
		}
		out[ph.ProductID] = append(out[ph.ProductID], ph)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read photos: %w", database.Translate(err))
	}
	return out, nil
}

// ProductInput is a new product. A draft needs a title in at least one
// language and a craft; the rest may come later, but publishing needs a
// photo, a price and a weight (PublishProduct).
type ProductInput struct {
	Title       map[string]string `json:"title"`
	Description map[string]string `json:"description"`
	Craft       string            `json:"craft"`
	// Commune of origin; the cooperative's commune when empty.
	Commune    string     `json:"commune"`
	Materials  []string   `json:"materials"`
	Techniques []string   `json:"techniques"`
	Dimensions Dimensions `json:"dimensions_cm"`
	WeightG    *int       `json:"weight_g"`
	// Price in centimes; Currency must be MAD (or empty, meaning MAD).
	Price           *int64  `json:"price"`
	Currency        string  `json:"currency"`
	Stock           int     `json:"stock"`
	OneOfAKind      bool    `json:"one_of_a_kind"`
	MadeToOrderDays *int    `json:"made_to_order_days"`
	ArtisanID       *int64  `json:"artisan_id"`
	CertificateIDs  []int64 `json:"certificate_ids"`
}

// ProductPatch changes some fields of a product; a nil field is left as it
// is. A map or list given replaces the old one whole (an empty list clears
// it). MadeToOrderDays 0 clears made to order; ArtisanID 0 clears the
// artisan; Dimensions given replace all three.
type ProductPatch struct {
	Title           map[string]string `json:"title"`
	Description     map[string]string `json:"description"`
	Craft           *string           `json:"craft"`
	Commune         *string           `json:"commune"`
	Materials       []string          `json:"materials"`
	Techniques      []string          `json:"techniques"`
	Dimensions      *Dimensions       `json:"dimensions_cm"`
	WeightG         *int              `json:"weight_g"`
	Price           *int64            `json:"price"`
	Currency        *string           `json:"currency"`
	Stock           *int              `json:"stock"`
	OneOfAKind      *bool             `json:"one_of_a_kind"`
	MadeToOrderDays *int              `json:"made_to_order_days"`
	ArtisanID       *int64            `json:"artisan_id"`
	CertificateIDs  []int64           `json:"certificate_ids"`
}

// productState is what a cooperative edits of a product, in stored form;
// the API, the CSV import and the publish check all validate it here.
type productState struct {
	Title, Description    Localized
	Craft, Commune        string
	Materials, Techniques Strings
	HeightMM              *int
	WidthMM               *int
	DepthMM               *int
	WeightG               *int
	Price                 *int64
	Stock                 int
	OneOfAKind            bool
	MadeToOrderDays       *int
	ArtisanID             *int64
}

// namer turns a field's API name into the name an error reports (the CSV
// import reports "line 17: price_mad").
type namer func(field string) string

func apiName(field string) string { return field }

func (r productRow) state() productState {
	return productState{
		Title: r.Title, Description: r.Description, Craft: r.Craft, Commune: r.Commune,
		Materials: r.Materials, Techniques: r.Techniques, HeightMM: r.HeightMM, WidthMM: r.WidthMM, DepthMM: r.DepthMM,
		WeightG: r.WeightG, Price: r.Price, Stock: r.Stock, OneOfAKind: r.OneOfAKind,
		MadeToOrderDays: r.MadeToOrderDays, ArtisanID: r.ArtisanID,
	}
}

// apply writes the state into the row, with the search columns it implies.
func (st productState) apply(r *productRow) {
	r.Title, r.Description, r.Craft, r.Commune = st.Title, st.Description, st.Craft, st.Commune
	r.Materials, r.Techniques = st.Materials, st.Techniques
	r.HeightMM, r.WidthMM, r.DepthMM = st.HeightMM, st.WidthMM, st.DepthMM
	r.WeightG, r.Price, r.Stock, r.OneOfAKind, r.MadeToOrderDays, r.ArtisanID =
		st.WeightG, st.Price, st.Stock, st.OneOfAKind, st.MadeToOrderDays, st.ArtisanID
	r.Currency = Currency
	r.SearchTitle, r.SearchText = searchDocument(st.Title, st.Description, st.Materials, st.Techniques)
}

// check validates and tidies the state field by field (trims text, drops
// empty translations and list items), naming fields through name.
func (st *productState) check(f *errs.Fields, name namer) {
	st.Title = checkLocalizedIn(f, name, "title", st.Title, maxTitleLength, true, oneLine)
	st.Description = checkLocalizedIn(f, name, "description", st.Description, maxDescriptionLength, false, multiLine)
	if !isSlug(st.Craft, 50) {
		if st.Craft == "" {
			f.Add(name("craft"), "is required")
		} else {
			f.Add(name("craft"), "must be a craft slug such as pottery or silver-jewellery")
		}
	}
	commune, ok := oneLine(st.Commune)
	switch {
	case !ok:
		f.Add(name("commune"), "must be a single line of text")
	case utf8.RuneCountInString(commune) > maxCommuneLength:
		f.Add(name("commune"), "must be at most %d characters", maxCommuneLength)
	}
	st.Commune = strings.Join(strings.Fields(commune), " ")
	st.Materials = checkList(f, name("materials"), st.Materials)
	st.Techniques = checkList(f, name("techniques"), st.Techniques)
	for _, d := range []struct {
		field string
		mm    *int
	}{{"dimensions_cm.height", st.HeightMM}, {"dimensions_cm.width", st.WidthMM}, {"dimensions_cm.depth", st.DepthMM}} {
		if d.mm != nil && (*d.mm < 1 || *d.mm > MaxDimensionCM*10) {
			f.Add(name(d.field), "must be from 0.1 to %d centimetres", MaxDimensionCM)
		}
	}
	if st.WeightG != nil && (*st.WeightG < 1 || *st.WeightG > MaxWeightG) {
		f.Add(name("weight_g"), "must be from 1 to %d grams", MaxWeightG)
	}
	if st.Price != nil && (*st.Price < 1 || *st.Price > MaxPrice) {
		f.Add(name("price"), "must be from 1 to %d centimes (%s MAD)", MaxPrice, FormatMAD(MaxPrice))
	}
	switch {
	case st.Stock < 0 || st.Stock > MaxStock:
		f.Add(name("stock"), "must be from 0 to %d", MaxStock)
	case st.OneOfAKind && st.Stock > 1:
		f.Add(name("stock"), "must be 0 or 1 for a one-of-a-kind piece")
	}
	if st.MadeToOrderDays != nil {
		switch {
		case *st.MadeToOrderDays < 1 || *st.MadeToOrderDays > MaxMadeToOrderDays:
			f.Add(name("made_to_order_days"), "must be from 1 to %d days", MaxMadeToOrderDays)
		case st.OneOfAKind:
			f.Add(name("made_to_order_days"), "must be empty for a one-of-a-kind piece, which cannot be made again")
		}
	}
	if st.ArtisanID != nil && *st.ArtisanID < 1 {
		f.Add(name("artisan_id"), "must be the id of a member of the cooperative")
	}
}

// checkReferences validates what needs the database: the craft exists and
// the artisan belongs to the cooperative.
func (st *productState) checkReferences(tx *gorm.DB, f *errs.Fields, name namer, crafts map[string]bool, cooperativeID int64) error {
	if isSlug(st.Craft, 50) && !crafts[st.Craft] {
		f.Add(name("craft"), "is not a known craft")
	}
	if st.ArtisanID != nil && *st.ArtisanID > 0 {
		var n int64
		if err := tx.Table("cooperative_members").Where("cooperative_id = ? AND user_id = ?", cooperativeID, *st.ArtisanID).
			Count(&n).Error; err != nil {
			return fmt.Errorf("check artisan %d: %w", *st.ArtisanID, err)
		}
		if n == 0 {
			f.Add(name("artisan_id"), "must be a member of the cooperative")
		}
	}
	return nil
}

// missingToPublish lists, field by field, what keeps the state from being
// published.
func (st productState) missingToPublish(f *errs.Fields, name namer, photos int, cooperativeStatus string) {
	if len(st.Title) == 0 {
		f.Add(name("title"), "a title in at least one language is required to publish")
	}
	if st.Price == nil {
		f.Add(name("price"), "a price is required to publish")
	}
	if st.WeightG == nil {
		f.Add(name("weight_g"), "a weight is required to publish (it sets the shipping cost)")
	}
	if photos < 1 {
		f.Add(name("photos"), "at least one photo is required to publish")
	}
	if cooperativeStatus != cooperativeVerified {
		f.Add(name("cooperative"), "the cooperative must be verified by an administrator before its products are published")
	}
}

func (in ProductInput) state() (productState, errs.Fields) {
	var f errs.Fields
	st := productState{
		Title: in.Title, Description: in.Description, Craft: strings.TrimSpace(in.Craft), Commune: in.Commune,
		Materials: in.Materials, Techniques: in.Techniques, WeightG: in.WeightG, Price: in.Price,
		Stock: in.Stock, OneOfAKind: in.OneOfAKind, MadeToOrderDays: in.MadeToOrderDays, ArtisanID: in.ArtisanID,
	}
	st.HeightMM, st.WidthMM, st.DepthMM = dimensionsMM(&f, in.Dimensions)
	if in.Currency != "" && in.Currency != Currency {
		f.Add("currency", "must be MAD: prices are set in Moroccan dirhams")
	}
	if len(in.CertificateIDs) > MaxCertificatesPerProduct {
		f.Add("certificate_ids", "must list at most %d certificates", MaxCertificatesPerProduct)
	}
	return st, f
}

// applyTo changes st by the patch.
func (pt ProductPatch) applyTo(st *productState, f *errs.Fields) {
	if pt.Title != nil {
		st.Title = pt.Title
	}
	if pt.Description != nil {
		st.Description = pt.Description
	}
	if pt.Craft != nil {
		st.Craft = strings.TrimSpace(*pt.Craft)
	}
	if pt.Commune != nil {
		st.Commune = *pt.Commune
	}
	if pt.Materials != nil {
		st.Materials = pt.Materials
	}
	if pt.Techniques != nil {
		st.Techniques = pt.Techniques
	}
	if pt.Dimensions != nil {
		st.HeightMM, st.WidthMM, st.DepthMM = dimensionsMM(f, *pt.Dimensions)
	}
	if pt.WeightG != nil {
		st.WeightG = pt.WeightG
	}
	if pt.Price != nil {
		st.Price = pt.Price
	}
	if pt.Currency != nil && *pt.Currency != Currency {
		f.Add("currency", "must be MAD: prices are set in Moroccan dirhams")
	}
	if pt.Stock != nil {
		st.Stock = *pt.Stock
	}
	if pt.OneOfAKind != nil {
		st.OneOfAKind = *pt.OneOfAKind
	}
	if pt.MadeToOrderDays != nil {
		if *pt.MadeToOrderDays == 0 {
			st.MadeToOrderDays = nil
		} else {
			st.MadeToOrderDays = pt.MadeToOrderDays
		}
	}
	if pt.ArtisanID != nil {
		if *pt.ArtisanID == 0 {
			st.ArtisanID = nil
		} else {
			st.ArtisanID = pt.ArtisanID
		}
	}
	if len(pt.CertificateIDs) > MaxCertificatesPerProduct {
		f.Add("certificate_ids", "must list at most %d certificates", MaxCertificatesPerProduct)
	}
}

// dimensionsMM turns centimetres into whole millimetres.
func dimensionsMM(f *errs.Fields, d Dimensions) (h, w, dd *int) {
	conv := func(field string, cm *float64) *int {
		if cm == nil {
			return nil
		}
		if math.IsNaN(*cm) || *cm <= 0 || *cm > MaxDimensionCM {
			f.Add(field, "must be from 0.1 to %d centimetres", MaxDimensionCM)
			return nil
		}
		mm := int(math.Round(*cm * 10))
		if mm < 1 {
			mm = 1
		}
		return &mm
	}
	return conv("dimensions_cm.height", d.Height), conv("dimensions_cm.width", d.Width), conv("dimensions_cm.depth", d.Depth)
}

func centimetres(mm *int) *float64 {
	if mm == nil {
		return nil
	}
	cm := float64(*mm) / 10
	return &cm
}

// checkLocalized validates text in several languages: known languages
// only, each at most max characters, at least one when required. It
// returns the text trimmed, without empty translations.
func checkLocalized(f *errs.Fields, field string, in map[string]string, max int, required bool) Localized {
	return checkLocalizedIn(f, apiName, field, in, max, required, oneLine)
}

func checkLocalizedIn(f *errs.Fields, name namer, field string, in map[string]string, max int, required bool,
	tidy func(string) (string, bool)) Localized {
	out := Localized{}
	for lang, text := range in {
		if _, ok := fallbacks[lang]; !ok {
			f.Add(name(field+"."+lang), "is not a language of the site (ar, fr or en)")
			continue
		}
		t, ok := tidy(text)
		switch {
		case !utf8.ValidString(t):
			f.Add(name(field+"."+lang), "must be UTF-8 text")
		case !ok:
			f.Add(name(field+"."+lang), "must not hold control characters")
		case utf8.RuneCountInString(t) > max:
			f.Add(name(field+"."+lang), "must be at most %d characters", max)
		case t != "":
			out[lang] = t
		}
	}
	if required && len(out) == 0 && !hasFieldPrefix(*f, name(field)) {
		f.Add(name(field), "is required in at least one language (ar, fr or en)")
	}
	return out
}

func hasFieldPrefix(f errs.Fields, prefix string) bool {
	for _, e := range f {
		if strings.HasPrefix(e.Field, prefix) {
			return true
		}
	}
	return false
}

// checkList tidies a list of short texts: trimmed, no empties, no repeats.
func checkList(f *errs.Fields, field string, in []string) Strings {
	out := Strings{}
	seen := map[string]bool{}
	for i, s := range in {
		t, ok := oneLine(s)
		switch {
		case !ok || !utf8.ValidString(t) || strings.ContainsRune(t, ';'):
			f.Add(fmt.Sprintf("%s[%d]", field, i), "must be a single line of text without semicolons")
			continue
		case utf8.RuneCountInString(t) > maxListItemLength:
			f.Add(fmt.Sprintf("%s[%d]", field, i), "must be at most %d characters", maxListItemLength)
			continue
		case t == "":
			continue
		}
		key := NormalizeText(t)
		if !seen[key] {
			seen[key] = true
			out = append(out, t)
		}
	}
	if len(out) > maxListItems {
		f.Add(field, "must list at most %d items", maxListItems)
	}
	return out
}

// cooperativeInfo is what products need to know of their cooperative.
type cooperativeInfo struct {
	ID      int64
	Slug    string
	Name    string
	Commune string
	Status  string
}

func findCooperative(tx *gorm.DB, id int64) (cooperativeInfo, error) {
	var c cooperativeInfo
	err := tx.Table("cooperatives").Select("id, slug, name, commune, status").Where("id = ?", id).Take(&c).Error
	if err != nil {
		return cooperativeInfo{}, fmt.Errorf("find cooperative %d: %w", id, database.Translate(err))
	}
	return c, nil
}

// CreateProduct adds a draft to a cooperative's catalog. Members of the
// cooperative and administrators may (errs.Forbidden otherwise). The slug
// comes from the title (French, else English, else Arabic transliterated;
// made unique with -2, -3 …). It returns errs.Invalid naming the bad
// fields, errs.NotFound for an unknown cooperative, and errs.Forbidden for
// a certificate of another cooperative.
func (s *Service) CreateProduct(ctx context.Context, p *account.Principal, cooperativeID int64, in ProductInput) (Product, error) {
	if !canEditCatalog(p, cooperativeID) {
		return Product{}, refuse(p, "only members of the cooperative may add products to its catalog")
	}
	st, f := in.state()
	st.check(&f, apiName)
	if err := f.Err(); err != nil {
		return Product{}, err
	}
	base := slugify(st.Title.In("fr"))
	if base == "" {
		base = "product"
	}
	now := s.clock()
	var id int64
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = s.db.Transact(ctx, func(tx *gorm.DB) error {
			coop, err := findCooperative(tx, cooperativeID)
			if err != nil {
				return err
			}
			st := st
			if st.Commune == "" {
				st.Commune = coop.Commune
			}
			crafts, err := craftSet(tx)
			if err != nil {
				return err
			}
			var f errs.Fields
			if err := st.checkReferences(tx, &f, apiName, crafts, cooperativeID); err != nil {
				return err
			}
			certs, err := checkCertificateLinks(tx, &f, cooperativeID, in.CertificateIDs, s.today())
			if err != nil {
				return err
			}
			if err := f.Err(); err != nil {
				return err
			}
			// A concurrent creation may take the free slug between the look
			// and the insert; the unique index refuses it and the next
			// attempt adds a random suffix.
			slug := base + "-" + randomSuffix()
			if attempt == 0 {
				if slug, err = freeProductSlug(tx, base); err != nil {
					return err
				}
			}
			row := productRow{CooperativeID: cooperativeID, Slug: slug, Status: Draft, CreatedBy: &p.UserID, CreatedAt: now, UpdatedAt: now}
			st.apply(&row)
			if err := tx.Create(&row).Error; err != nil {
				return fmt.Errorf("insert product: %w", err)
			}
			id = row.ID
			return linkCertificates(tx, id, certs, false, now)
		})
		if err == nil || !database.IsDuplicate(err) {
			break
		}
	}
	if err != nil {
		return Product{}, fmt.Errorf("create product for cooperative %d: %w", cooperativeID, err)
	}
	return s.FindProduct(ctx, p, id)
}

// freeProductSlug returns base when no product has it, else the first of
// base-2, base-3 … that is free.
func freeProductSlug(tx *gorm.DB, base string) (string, error) {
	var taken []string
	if err := tx.Model(&productRow{}).Where("slug = ? OR slug LIKE ?", base, base+"-%").Pluck("slug", &taken).Error; err != nil {
		return "", fmt.Errorf("look up slugs like %q: %w", base, err)
	}
	return nextFreeSlug(base, taken), nil
}

func nextFreeSlug(base string, taken []string) string {
	set := make(map[string]bool, len(taken))
	for _, t := range taken {
		set[t] = true
	}
	if !set[base] {
		return base
	}
	for n := 2; ; n++ {
		if s := fmt.Sprintf("%s-%d", base, n); !set[s] {
			return s
		}
	}
}

func randomSuffix() string {
	b := make([]byte, 3)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("storefront: read random bytes: %v", err))
	}
	return hex.EncodeToString(b)
}

// lockProduct reads a product row for change: on MySQL under a row lock
// (SQLite write transactions are already exclusive). It returns
// errs.NotFound when there is none.
func (s *Service) lockProduct(tx *gorm.DB, id int64) (productRow, error) {
	var r productRow
	q := tx.Where("id = ?", id)
	if s.db.Dialect == database.MySQL {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&r).Error; err != nil {
		return productRow{}, fmt.Errorf("read product %d: %w", id, database.Translate(err))
	}
	return r, nil
}

// authorizeChange checks that the caller may change a product of the
// cooperative: allowed() says whether they may; a caller who may not even
// see a draft gets errs.NotFound, as if it did not exist.
// Who may change a product: any member of its cooperative (drafts,
// photos), or its managers only (publishing, archiving, deleting).
const (
	membersMay   = false
	managersOnly = true
)

// lockForChange locks a product for a change in tx and checks that the
// caller may make it; it returns the row and its cooperative.
func (s *Service) lockForChange(tx *gorm.DB, p *account.Principal, id int64, onlyManagers bool) (productRow, cooperativeInfo, error) {
	row, err := s.lockProduct(tx, id)
	if err != nil {
		return productRow{}, cooperativeInfo{}, err
	}
	coop, err := findCooperative(tx, row.CooperativeID)
	if err != nil {
		return productRow{}, cooperativeInfo{}, err
	}
	allowed, who := canEditCatalog(p, row.CooperativeID), "members of the cooperative"
	if onlyManagers {
		allowed, who = p.CanManageCooperative(row.CooperativeID), "managers of the cooperative"
	}
	if err := authorizeChange(p, row, coop.Status, allowed, who); err != nil {
		return productRow{}, cooperativeInfo{}, err
	}
	return row, coop, nil
}

func authorizeChange(p *account.Principal, r productRow, cooperativeStatus string, allowed bool, what string) error {
	if allowed {
		return nil
	}
	if !(r.Status == Published && cooperativeStatus == cooperativeVerified) && !p.CanReadCooperative(r.CooperativeID) {
		return errs.E(errs.NotFound, "no such product")
	}
	return refuse(p, "only %s may do this", what)
}

// UpdateProduct changes a product. Members of its cooperative and
// administrators may. A published product stays publishable: a change that
// would break a publish rule is refused. certificate_ids, when given,
// replace the linked certificates. It returns errs.Invalid, errs.NotFound,
// errs.Forbidden (not a member, or another cooperative's certificate).
func (s *Service) UpdateProduct(ctx context.Context, p *account.Principal, id int64, patch ProductPatch) (Product, error) {
	if err := mustSignIn(p); err != nil {
		return Product{}, err
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		row, coop, err := s.lockForChange(tx, p, id, membersMay)
		if err != nil {
			return err
		}
		st := row.state()
		var f errs.Fields
		patch.applyTo(&st, &f)
		st.check(&f, apiName)
		if patch.Commune != nil && st.Commune == "" {
			st.Commune = coop.Commune
		}
		crafts, err := craftSet(tx)
		if err != nil {
			return err
		}
		if err := st.checkReferences(tx, &f, apiName, crafts, row.CooperativeID); err != nil {
			return err
		}
		var certs []int64
		if patch.CertificateIDs != nil {
			if certs, err = checkCertificateLinks(tx, &f, row.CooperativeID, patch.CertificateIDs, s.today()); err != nil {
				return err
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		if row.Status == Published {
			if err := checkStillPublishable(tx, st, row.ID); err != nil {
				return err
			}
		}
		st.apply(&row)
		row.UpdatedAt = now
		if err := tx.Select("*").Omit("id", "cooperative_id", "slug", "status", "created_at", "created_by",
			"published_at", "unpublished_reason", "unpublished_at", "unpublished_by", "certified_until", "certified_from").Updates(&row).Error; err != nil {
			return fmt.Errorf("update product: %w", err)
		}
		if patch.CertificateIDs != nil {
			return linkCertificates(tx, row.ID, certs, true, now)
		}
		return nil
	})
	if err != nil {
		return Product{}, fmt.Errorf("update product %d: %w", id, err)
	}
	return s.FindProduct(ctx, p, id)
}

// checkStillPublishable refuses a change that leaves a published product
// without what publishing needs.
func checkStillPublishable(tx *gorm.DB, st productState, productID int64) error {
	photos, err := countPhotos(tx, productID)
	if err != nil {
		return err
	}
	var f errs.Fields
	// A suspended cooperative's products stay published (hidden by the
	// public filter) and may still be edited.
	st.missingToPublish(&f, apiName, photos, cooperativeVerified)
	if len(f) > 0 {
		return &errs.Error{Code: errs.Invalid, Message: "a published product must keep what publishing needs; unpublish it first",
			Fields: f}
	}
	return nil
}

// PublishProduct puts a draft (or an archived product) on sale. Managers of
// the cooperative and administrators may. The product needs at least one
// photo, a title, a price and a weight, and its cooperative must be
// verified: otherwise errs.Conflict lists what is missing, field by field.
// Publishing clears an administrator's unpublished reason. Publishing a
// published product changes nothing.
func (s *Service) PublishProduct(ctx context.Context, p *account.Principal, id int64) (Product, error) {
	if err := mustSignIn(p); err != nil {
		return Product{}, err
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		row, coop, err := s.lockForChange(tx, p, id, managersOnly)
		if err != nil {
			return err
		}
		if row.Status == Published {
			return nil
		}
		photos, err := countPhotos(tx, row.ID)
		if err != nil {
			return err
		}
		var f errs.Fields
		row.state().missingToPublish(&f, apiName, photos, coop.Status)
		if len(f) > 0 {
			return &errs.Error{Code: errs.Conflict, Message: "the product is not ready to publish", Fields: f}
		}
		published := now
		if row.PublishedAt != nil {
			published = *row.PublishedAt
		}
		return tx.Model(&productRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"status": Published, "published_at": published, "unpublished_reason": nil, "unpublished_at": nil,
			"unpublished_by": nil, "updated_at": now,
		}).Error
	})
	if err != nil {
		return Product{}, fmt.Errorf("publish product %d: %w", id, err)
	}
	return s.FindProduct(ctx, p, id)
}

// ArchiveProduct takes a product off sale for good, keeping it for the
// orders that name it; PublishProduct brings it back. Managers of the
// cooperative and administrators may.
func (s *Service) ArchiveProduct(ctx context.Context, p *account.Principal, id int64) (Product, error) {
	if err := mustSignIn(p); err != nil {
		return Product{}, err
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		row, _, err := s.lockForChange(tx, p, id, managersOnly)
		if err != nil {
			return err
		}
		return tx.Model(&productRow{}).Where("id = ?", row.ID).Updates(map[string]any{"status": Archived, "updated_at": now}).Error
	})
	if err != nil {
		return Product{}, fmt.Errorf("archive product %d: %w", id, err)
	}
	return s.FindProduct(ctx, p, id)
}

// DeleteProduct removes a product from the catalog: a draft that was never
// published is deleted with its photos and links (its media objects are
// left to media.SweepOrphans); a product that was ever published is
// archived instead, since orders may name it. It reports whether the
// product was archived rather than deleted. Managers of the cooperative and
// administrators may.
func (s *Service) DeleteProduct(ctx context.Context, p *account.Principal, id int64) (archived bool, err error) {
	if err := mustSignIn(p); err != nil {
		return false, err
	}
	now := s.clock()
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		row, _, err := s.lockForChange(tx, p, id, managersOnly)
		if err != nil {
			return err
		}
		if row.PublishedAt != nil {
			archived = true
			return tx.Model(&productRow{}).Where("id = ?", row.ID).Updates(map[string]any{"status": Archived, "updated_at": now}).Error
		}
		archived = false
		return tx.Where("id = ?", row.ID).Delete(&productRow{}).Error
	})
	if err != nil {
		return false, fmt.Errorf("delete product %d: %w", id, err)
	}
	return archived, nil
}

// UnpublishProduct takes a published product down for moderation: it goes
// back to draft with the reason, which its cooperative sees. Only
// administrators may (errs.Forbidden); the reason is required
// (errs.Invalid); a product that is not published is errs.Conflict.
func (s *Service) UnpublishProduct(ctx context.Context, p *account.Principal, id int64, reason string) (Product, error) {
	if !p.IsAdmin() {
		return Product{}, refuse(p, "only administrators may unpublish a product")
	}
	reason, ok := multiLine(reason)
	switch {
	case reason == "":
		return Product{}, errs.InvalidField("reason", "is required: the cooperative needs to know what to fix")
	case !ok || utf8.RuneCountInString(reason) > maxReasonLength:
		return Product{}, errs.InvalidField("reason", "must be plain text of at most %d characters", maxReasonLength)
	}
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		row, err := s.lockProduct(tx, id)
		if err != nil {
			return err
		}
		if row.Status != Published {
			return errs.E(errs.Conflict, "the product is %s, not published", row.Status)
		}
		return tx.Model(&productRow{}).Where("id = ?", row.ID).Updates(map[string]any{
			"status": Draft, "unpublished_reason": reason, "unpublished_at": now, "unpublished_by": p.UserID, "updated_at": now,
		}).Error
	})
	if err != nil {
		return Product{}, fmt.Errorf("unpublish product %d: %w", id, err)
	}
	return s.FindProduct(ctx, p, id)
}

// FindProduct returns a product as the caller may see it: anyone sees a
// published product of a verified cooperative; the cooperative's members
// and administrators see it in any state, with every linked certificate
// and the moderation reason. Anything else is errs.NotFound.
func (s *Service) FindProduct(ctx context.Context, p *account.Principal, id int64) (Product, error) {
	return s.findProduct(ctx, p, "p.id = ?", id)
}

// FindProductBySlug is FindProduct by the product's slug.
func (s *Service) FindProductBySlug(ctx context.Context, p *account.Principal, slug string) (Product, error) {
	if !isSlug(slug, 100) {
		return Product{}, errs.E(errs.NotFound, "no such product")
	}
	return s.findProduct(ctx, p, "p.slug = ?", slug)
}

func (s *Service) findProduct(ctx context.Context, p *account.Principal, where string, arg any) (Product, error) {
	rows, err := s.db.WithContext(ctx).Raw("SELECT "+productColumns+" FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE "+
		where, arg).Rows()
	if err != nil {
		return Product{}, fmt.Errorf("find product %v: %w", arg, database.Translate(err))
	}
	recs, err := scanProductRecords(rows)
	if err != nil {
		return Product{}, fmt.Errorf("find product %v: %w", arg, database.Translate(err))
	}
	if len(recs) == 0 || !visible(p, recs[0]) {
		return Product{}, errs.E(errs.NotFound, "no such product")
	}
	out, err := s.productViews(ctx, p, recs)
	if err != nil {
		return Product{}, err
	}
	return out[0], nil
}

// isPublic reports whether the public sees the product.
func isPublic(r productRecord) bool {
	return r.Row.Status == Published && r.CooperativeStatus == cooperativeVerified
}

func visible(p *account.Principal, r productRecord) bool {
	return isPublic(r) || p.CanReadCooperative(r.Row.CooperativeID)
}

// productViews turns records into Products for the caller, with their
// photos and certificates, and the certified badge computed from them.
func (s *Service) productViews(ctx context.Context, p *account.Principal, recs []productRecord) ([]Product, error) {
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.Row.ID
	}
	db := s.db.WithContext(ctx)
	photos, err := readPhotos(db, ids)
	if err != nil {
		return nil, err
	}
	// The certificates are read only where they can show: every linked
	// one for the cooperative's members and administrators, the active
	// ones for the public, which only a product certified until today or
	// later has (certifiedSQL). The badge is then the rule itself
	// (certificateActive) on what was read.
	today := s.today()
	withCerts := make([]int64, 0, len(recs))
	for _, r := range recs {
		if p.CanReadCooperative(r.Row.CooperativeID) || !r.Row.CertifiedUntil.IsZero() && !r.Row.CertifiedUntil.Before(today) {
			withCerts = append(withCerts, r.Row.ID)
		}
	}
	certs, err := loadProductCertificates(db, withCerts)
	if err != nil {
		return nil, err
	}
	out := make([]Product, len(recs))
	for i, rec := range recs {
		r := rec.Row
		insider := p.CanReadCooperative(r.CooperativeID)
		pr := Product{
			ID: r.ID, Slug: r.Slug, Status: r.Status,
			Cooperative: CooperativeRef{ID: r.CooperativeID, Slug: rec.CooperativeSlug, Name: rec.CooperativeName},
			ArtisanID:   r.ArtisanID, Title: r.Title, Description: r.Description, Craft: r.Craft, Commune: r.Commune,
			Materials: r.Materials, Techniques: r.Techniques,
			Dimensions: Dimensions{Height: centimetres(r.HeightMM), Width: centimetres(r.WidthMM), Depth: centimetres(r.DepthMM)},
			WeightG:    r.WeightG, Price: r.Price, Currency: r.Currency, Stock: r.Stock, OneOfAKind: r.OneOfAKind,
			MadeToOrderDays: r.MadeToOrderDays, PublishedAt: r.PublishedAt, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
			Photos: photos[r.ID], Certificates: []ProductCertificate{},
		}
		if pr.Materials == nil {
			pr.Materials = Strings{}
		}
		if pr.Techniques == nil {
			pr.Techniques = Strings{}
		}
		if pr.Photos == nil {
			pr.Photos = []Photo{}
		}
		pr.Available = isPublic(rec) && (r.Stock > 0 || r.MadeToOrderDays != nil)
		for _, c := range certs[r.ID] {
			active := c.activeFor(r.CooperativeID, today)
			pr.Certified = pr.Certified || active
			if active || insider {
				pr.Certificates = append(pr.Certificates, ProductCertificate{
					ID: c.ID, Number: c.Number, Scheme: c.Scheme, Level: deref(c.Level), ValidUntil: c.ValidUntil,
					Status: effectiveStatus(c.Status, c.ValidUntil, today),
				})
			}
		}
		if insider && r.UnpublishedReason != nil {
			pr.UnpublishedReason = *r.UnpublishedReason
		}
		out[i] = pr
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
