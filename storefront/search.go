package storefront

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Sort orders of a product list.
const (
	SortRelevance = "relevance" // the default with q: words found in the title first, then newest
	SortNewest    = "newest"    // the default without q: last published first
	SortPriceAsc  = "price_asc"
	SortPriceDesc = "price_desc"
)

// Paging of product lists.
const (
	DefaultPerPage = 24
	MaxPerPage     = 100
	// maxOffset bounds how deep a list can be paged; past it, narrow the
	// search.
	maxOffset   = 10_000
	maxQueryLen = 200
)

// ProductFilter selects and orders products (GET /products). Every
// criterion is optional; all given must hold.
type ProductFilter struct {
	// Q is searched in titles, descriptions, materials and techniques in
	// all three languages, ignoring case, accents and Arabic spelling
	// variants (NormalizeText); every word must start a word of the
	// product.
	Q           string
	Craft       string // craft slug
	Commune     string // commune of origin, as the commune facet names it
	Cooperative string // cooperative slug
	Certified   *bool  // true: only certified; false: only not certified
	MinPrice    *int64 // centimes, inclusive
	MaxPrice    *int64 // centimes, inclusive
	InStock     bool   // only products that can be ordered now (stock, or made to order)
	// Status narrows a cooperative's own listing (FindCooperativeProducts);
	// the public list holds published products only.
	Status  ProductStatus
	Sort    string
	Page    int // from 1
	PerPage int // 1 to MaxPerPage; DefaultPerPage when 0
	// Cards reads the items as a listing card shows them, and nothing
	// more: no description, materials, techniques, dimensions, weight,
	// certificates (Certified is still set, by the rule productViews
	// follows: cardBadgeSQL) or times (published, created, updated), and the first
	// photo only, without its creation time. The total and the facets
	// are the same. The pages' lists set it; query parameters never do.
	Cards bool
}

// ProductList is a page of products with the total and the facets.
type ProductList struct {
	Items   []Product `json:"items"`
	Total   int64     `json:"total"`
	Page    int       `json:"page"`
	PerPage int       `json:"per_page"`
	Facets  Facets    `json:"facets"`
}

// Facets count the products of the list by craft, commune and certified
// badge. Each facet is counted with every filter except its own (the usual
// faceting), so that it shows what choosing another value would give.
type Facets struct {
	Craft     map[string]int64 `json:"craft"`
	Commune   map[string]int64 `json:"commune"`
	Certified map[string]int64 `json:"certified"` // keys "true" and "false"
}

// ParseProductFilter reads a filter from query parameters (q, craft,
// commune, cooperative, certified, min_price, max_price, in_stock, status,
// sort, page, per_page; prices in centimes). Unknown parameters are
// ignored. It returns errs.Invalid naming every bad parameter.
func ParseProductFilter(values url.Values) (ProductFilter, error) {
	var f errs.Fields
	flt := ProductFilter{
		Q: values.Get("q"), Craft: values.Get("craft"), Commune: values.Get("commune"),
		Cooperative: values.Get("cooperative"), Status: ProductStatus(values.Get("status")), Sort: values.Get("sort"),
	}
	parseBool := func(name string) *bool {
		v := values.Get(name)
		if v == "" {
			return nil
		}
		b, ok := parseBoolWord(v)
		if !ok {
			f.Add(name, "must be true or false")
			return nil
		}
		return &b
	}
	parseInt := func(name string) *int64 {
		v := values.Get(name)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.Add(name, "must be a whole number")
			return nil
		}
		return &n
	}
	flt.Certified = parseBool("certified")
	if b := parseBool("in_stock"); b != nil {
		flt.InStock = *b
	}
	flt.MinPrice = parseInt("min_price")
	flt.MaxPrice = parseInt("max_price")
	if n := parseInt("page"); n != nil {
		if flt.Page = clampInt(*n); flt.Page < 1 {
			f.Add("page", "must be 1 or more")
		}
	}
	if n := parseInt("per_page"); n != nil {
		if flt.PerPage = clampInt(*n); flt.PerPage < 1 || flt.PerPage > MaxPerPage {
			f.Add("per_page", "must be from 1 to %d", MaxPerPage)
		}
	}
	flt.check(&f)
	if err := f.Err(); err != nil {
		return ProductFilter{}, err
	}
	return flt, nil
}

func clampInt(n int64) int {
	const lim = 1 << 30
	switch {
	case n > lim:
		return lim
	case n < -lim:
		return -lim
	}
	return int(n)
}

// parseBoolWord reads the yes/no words of query strings and spreadsheets.
func parseBoolWord(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes", "y", "oui", "o", "vrai", "نعم":
		return true, true
	case "false", "0", "no", "n", "non", "faux", "لا":
		return false, true
	}
	return false, false
}

// check validates the filter and fills the defaults.
func (flt *ProductFilter) check(f *errs.Fields) {
	flt.Q = strings.TrimSpace(flt.Q)
	if !utf8.ValidString(flt.Q) || utf8.RuneCountInString(flt.Q) > maxQueryLen {
		f.Add("q", "must be text of at most %d characters", maxQueryLen)
	} else if len(parseQuery(flt.Q).all) > maxQueryWords {
		f.Add("q", "must hold at most %d words", maxQueryWords)
	}
	if flt.Craft != "" && !isSlug(flt.Craft, 50) {
		f.Add("craft", "must be a craft slug such as pottery")
	}
	if c, ok := oneLine(flt.Commune); !ok || utf8.RuneCountInString(c) > maxCommuneLength {
		f.Add("commune", "must be a commune name of at most %d characters", maxCommuneLength)
	} else {
		flt.Commune = strings.Join(strings.Fields(c), " ")
	}
	if flt.Cooperative != "" && !isSlug(flt.Cooperative, 100) {
		f.Add("cooperative", "must be a cooperative slug")
	}
	for _, pr := range []struct {
		name string
		v    *int64
	}{{"min_price", flt.MinPrice}, {"max_price", flt.MaxPrice}} {
		if pr.v != nil && (*pr.v < 0 || *pr.v > MaxPrice) {
			f.Add(pr.name, "must be from 0 to %d centimes", MaxPrice)
		}
	}
	if flt.MinPrice != nil && flt.MaxPrice != nil && *flt.MinPrice > *flt.MaxPrice && !f.Has("min_price") && !f.Has("max_price") {
		f.Add("max_price", "must not be below min_price")
	}
	switch flt.Status {
	case "", Draft, Published, Archived:
	default:
		f.Add("status", "must be draft, published or archived")
	}
	switch flt.Sort {
	case "":
		flt.Sort = SortNewest
		if flt.Q != "" {
			flt.Sort = SortRelevance
		}
	case SortRelevance:
		if flt.Q == "" {
			f.Add("sort", "relevance needs a search (q)")
		}
	case SortNewest, SortPriceAsc, SortPriceDesc:
	default:
		f.Add("sort", "must be relevance, newest, price_asc or price_desc")
	}
	if flt.Page == 0 {
		flt.Page = 1
	}
	if flt.PerPage == 0 {
		flt.PerPage = DefaultPerPage
	}
	if flt.Page < 1 && !f.Has("page") {
		f.Add("page", "must be 1 or more")
	}
	if (flt.PerPage < 1 || flt.PerPage > MaxPerPage) && !f.Has("per_page") {
		f.Add("per_page", "must be from 1 to %d", MaxPerPage)
	}
	if flt.Page >= 1 && flt.PerPage >= 1 && flt.PerPage <= MaxPerPage && (flt.Page-1)*flt.PerPage >= maxOffset {
		f.Add("page", "is too deep: lists go %d products deep; narrow the search", maxOffset)
	}
}

// FindProducts is the public catalog: published products of verified
// cooperatives, filtered, sorted (ties broken by id, so pages never overlap
// or skip), one page at a time, with the total and the facets. The same
// data gives the same answer on MySQL/MariaDB and on SQLite. It returns
// errs.Invalid naming the bad filter fields.
func (s *Service) FindProducts(ctx context.Context, flt ProductFilter) (ProductList, error) {
	var f errs.Fields
	if flt.Status != "" && flt.Status != Published {
		f.Add("status", "the public catalog holds published products only")
	}
	flt.check(&f)
	if err := f.Err(); err != nil {
		return ProductList{}, err
	}
	scope := condition{sql: "p.status = ? AND c.status = ?", args: []any{Published, cooperativeVerified}}
	return s.findProducts(ctx, nil, scope, flt)
}

// FindCooperativeProducts is a cooperative's own catalog, drafts and
// archived products included (narrowed by flt.Status), for its members and
// administrators (errs.Forbidden otherwise). flt.Cooperative is ignored.
func (s *Service) FindCooperativeProducts(ctx context.Context, p *account.Principal, cooperativeID int64, flt ProductFilter) (ProductList, error) {
	if !p.CanReadCooperative(cooperativeID) {
		return ProductList{}, refuse(p, "only members of the cooperative may list its drafts")
	}
	var f errs.Fields
	flt.Cooperative = ""
	flt.check(&f)
	if err := f.Err(); err != nil {
		return ProductList{}, err
	}
	scope := condition{sql: "p.cooperative_id = ?", args: []any{cooperativeID}}
	if flt.Status != "" {
		scope = condition{sql: "p.cooperative_id = ? AND p.status = ?", args: []any{cooperativeID, flt.Status}}
	}
	return s.findProducts(ctx, p, scope, flt)
}

// condition is a piece of WHERE clause with its arguments.
type condition struct {
	sql  string
	args []any
}

// facet names a filter that is also a facet: its own condition is left
// out when that facet is counted.
type facet string

const (
	facetNone      facet = ""
	facetCraft     facet = "craft"
	facetCommune   facet = "commune"
	facetCertified facet = "certified"
)

// query is the WHERE clause of a search, condition by condition.
type query struct {
	conds []condition
	owner []facet // the facet each condition belongs to, or facetNone
}

func (q *query) add(owner facet, sql string, args ...any) {
	q.conds = append(q.conds, condition{sql: sql, args: args})
	q.owner = append(q.owner, owner)
}

// where returns the clause without the conditions of the facet left out.
func (q *query) where(leftOut facet) (string, []any) {
	var parts []string
	var args []any
	for i, c := range q.conds {
		if leftOut != facetNone && q.owner[i] == leftOut {
			continue
		}
		parts = append(parts, "("+c.sql+")")
		args = append(args, c.args...)
	}
	if len(parts) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(parts, " AND "), args
}

const fromProducts = " FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE "

// buildQuery turns a checked filter into conditions. today is the day
// certificates are judged on.
func (s *Service) buildQuery(scope condition, flt ProductFilter, terms searchTerms, today string) query {
	var q query
	q.add(facetNone, scope.sql, scope.args...)
	if flt.Q != "" {
		if len(terms.all) == 0 {
			q.add(facetNone, "1 = 0") // nothing searchable in q: nothing matches
		}
		if len(terms.fts) > 0 {
			if s.db.Dialect == database.MySQL {
				var b strings.Builder
				for _, t := range terms.fts {
					b.WriteString("+" + t + "* ")
				}
				q.add(facetNone, "MATCH (p.search_text) AGAINST (? IN BOOLEAN MODE)", strings.TrimSpace(b.String()))
			} else {
				var b strings.Builder
				for _, t := range terms.fts {
					b.WriteString(`"` + t + `"* `)
				}
				q.add(facetNone, "p.id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)", strings.TrimSpace(b.String()))
			}
		}
		for _, t := range terms.like {
			q.add(facetNone, "p.search_text LIKE ?", "% "+t+"%")
		}
	}
	if flt.Cooperative != "" {
		q.add(facetNone, "c.slug = ?", flt.Cooperative)
	}
	if flt.MinPrice != nil {
		q.add(facetNone, "p.price >= ?", *flt.MinPrice)
	}
	if flt.MaxPrice != nil {
		q.add(facetNone, "p.price <= ?", *flt.MaxPrice)
	}
	if flt.InStock {
		q.add(facetNone, "p.stock > 0 OR p.made_to_order_days IS NOT NULL")
	}
	if flt.Craft != "" {
		q.add(facetCraft, "p.craft = ?", flt.Craft)
	}
	if flt.Commune != "" {
		q.add(facetCommune, "p.commune = ?", flt.Commune)
	}
	if flt.Certified != nil {
		if *flt.Certified {
			q.add(facetCertified, certifiedSQL, certifiedArgs(today)...)
		} else {
			q.add(facetCertified, "NOT "+certifiedSQL, certifiedArgs(today)...)
		}
	}
	return q
}

// orderBy is the ORDER BY of a sort, every order ending on the id so that
// rows never tie.
func orderBy(flt ProductFilter, terms searchTerms, public bool) (string, []any) {
	// Published products all have published_at: sorting on it alone lets
	// the (status, published_at, id) index give the newest first without
	// sorting the catalog. Drafts fall back on their creation.
	newest := "COALESCE(p.published_at, p.created_at) DESC, p.id DESC"
	if public {
		newest = "p.published_at DESC, p.id DESC"
	}
	switch flt.Sort {
	case SortPriceAsc:
		return "p.price ASC, p.id ASC", nil
	case SortPriceDesc:
		return "p.price DESC, p.id DESC", nil
	case SortRelevance:
		// The same score on both engines (their native scores differ):
		// how many of the words start a word of the title.
		var parts []string
		var args []any
		for _, t := range terms.all {
			parts = append(parts, "CASE WHEN p.search_title LIKE ? THEN 1 ELSE 0 END")
			args = append(args, "% "+t+"%")
		}
		if len(parts) == 0 {
			parts = []string{"0"}
		}
		return "(" + strings.Join(parts, " + ") + ") DESC, " + newest, args
	}
	return newest, nil
}

func (s *Service) findProducts(ctx context.Context, p *account.Principal, scope condition, flt ProductFilter) (ProductList, error) {
	terms := parseQuery(flt.Q)
	today := s.today().String()
	q := s.buildQuery(scope, flt, terms, today)
	db := s.db.WithContext(ctx)
	out := ProductList{Items: []Product{}, Page: flt.Page, PerPage: flt.PerPage, Facets: emptyFacets()}

	where, args := q.where(facetNone)
	// The public catalog's counts may come from the cache (p is nil only
	// there); a cooperative's own list is always counted.
	cacheKey := ""
	if p == nil && s.counts != nil {
		// Every value of the filter that the counts depend on, by value
		// (a pointer printed would make every key new).
		certified := "any"
		if flt.Certified != nil {
			certified = strconv.FormatBool(*flt.Certified)
		}
		cacheKey = fmt.Sprintf("%s|%q|%s|%s|%s|%s", where, args, flt.Craft, flt.Commune, certified, today)
	}
	err := s.counts.load(ctx, cacheKey, s.now, func() (time.Time, bool) {
		e, ok := s.counts.entries[cacheKey]
		if ok {
			out.Total, out.Facets = e.total, e.facets.clone()
		}
		return e.at, ok
	}, func() error {
		out.Total, out.Facets = 0, emptyFacets() // read may have left expired counts
		return s.countProducts(db, q, flt, today, &out)
	}, func(at time.Time) {
		s.counts.keep(cacheKey, out.Total, out.Facets, at)
	})
	if err != nil {
		return ProductList{}, err
	}

	if out.Total > int64((flt.Page-1)*flt.PerPage) {
		order, orderArgs := orderBy(flt, terms, p == nil)
		all := append(append(append([]any{}, args...), orderArgs...), flt.PerPage, (flt.Page-1)*flt.PerPage)
		// Sort and cut the page on ids alone, then read the page's rows:
		// sorting whole rows (long texts) makes MariaDB sort on disk.
		//
		// On MariaDB the join order is fixed, products first: with the
		// 400-odd cooperatives first its optimizer sorts every published
		// product to find the newest few (4 s on 100,000 products, against
		// under a millisecond through the products' own index).
		sel := "SELECT p.id"
		if s.db.Dialect == database.MySQL {
			sel = "SELECT STRAIGHT_JOIN p.id"
		}
		var ids []int64
		err := db.Raw(sel+fromProducts+where+" ORDER BY "+order+" LIMIT ? OFFSET ?", all...).Scan(&ids).Error
		if err != nil {
			return ProductList{}, fmt.Errorf("list products: %w", database.Translate(err))
		}
		if flt.Cards {
			if out.Items, err = readCards(db, ids, today); err != nil {
				return ProductList{}, err
			}
			return out, nil
		}
		recs, err := readProductRecords(db, ids)
		if err != nil {
			return ProductList{}, err
		}
		// The badge of the page's products is computed from their
		// certificates by the same rule (certificateActive); the tests hold
		// it to the SQL the filter and the facet use.
		if out.Items, err = s.productViews(ctx, p, recs); err != nil {
			return ProductList{}, err
		}
	}
	return out, nil
}

// emptyFacets are the facets of no product.
func emptyFacets() Facets {
	return Facets{Craft: map[string]int64{}, Commune: map[string]int64{}, Certified: map[string]int64{"true": 0, "false": 0}}
}

// countProducts counts the products q matches into out: the total and the
// facets, a facet whose own filter is set being counted without it.
func (s *Service) countProducts(db *gorm.DB, q query, flt ProductFilter, today string, out *ProductList) error {
	// One pass over the filtered set counts it by craft, commune and badge
	// at once: the total, and every facet whose own filter is not set.
	where, args := q.where(facetNone)
	type cell struct {
		Craft     string
		Commune   string
		Certified string
		N         int64
	}
	var cells []cell
	err := db.Raw("SELECT craft, commune, certified, COUNT(*) AS n FROM (SELECT p.craft AS craft, p.commune AS commune, "+
		"CASE WHEN "+certifiedSQL+" THEN 'true' ELSE 'false' END AS certified"+fromProducts+where+
		") t GROUP BY craft, commune, certified", append(certifiedArgs(today), args...)...).Scan(&cells).Error
	if err != nil {
		return fmt.Errorf("count products: %w", database.Translate(err))
	}
	for _, c := range cells {
		out.Total += c.N
		if flt.Craft == "" {
			out.Facets.Craft[c.Craft] += c.N
		}
		if flt.Commune == "" && c.Commune != "" {
			out.Facets.Commune[c.Commune] += c.N
		}
		if flt.Certified == nil {
			out.Facets.Certified[c.Certified] += c.N
		}
	}

	// A facet whose filter is set is counted without that filter.
	count := func(f facet, expr string, exprArgs []any, into map[string]int64) error {
		where, args := q.where(f)
		var rows []struct {
			K string
			N int64
		}
		err := db.Raw("SELECT k, COUNT(*) AS n FROM (SELECT "+expr+" AS k"+fromProducts+where+") t GROUP BY k",
			append(append([]any{}, exprArgs...), args...)...).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("count %s facet: %w", f, database.Translate(err))
		}
		for _, r := range rows {
			if r.K != "" {
				into[r.K] = r.N
			}
		}
		return nil
	}
	if flt.Craft != "" {
		if err := count(facetCraft, "p.craft", nil, out.Facets.Craft); err != nil {
			return err
		}
	}
	if flt.Commune != "" {
		if err := count(facetCommune, "p.commune", nil, out.Facets.Commune); err != nil {
			return err
		}
	}
	if flt.Certified != nil {
		if err := count(facetCertified, "CASE WHEN "+certifiedSQL+" THEN 'true' ELSE 'false' END", certifiedArgs(today),
			out.Facets.Certified); err != nil {
			return err
		}
	}

	return nil
}

// readProductRecords reads the products with the ids, in the order of ids.
func readProductRecords(db *gorm.DB, ids []int64) ([]productRecord, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.Raw("SELECT "+productColumns+" FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE p.id IN ?", ids).Rows()
	if err != nil {
		return nil, fmt.Errorf("read products: %w", database.Translate(err))
	}
	recs, err := scanProductRecords(rows)
	if err != nil {
		return nil, fmt.Errorf("read products: %w", database.Translate(err))
	}
	byID := make(map[int64]int, len(recs))
	for i, r := range recs {
		byID[r.Row.ID] = i
	}
	out := make([]productRecord, 0, len(ids))
	for _, id := range ids {
		if i, ok := byID[id]; ok {
			out = append(out, recs[i])
		}
	}
	return out, nil
}

// cardBadgeSQL is the certified badge as productViews computes it for the
// public: a product certified until today or later (certifiedSQL's
// columns, which narrow it to few products) with a linked certificate
// active today (the rule itself, linkedActiveSQL), so that a card never
// shows a badge its product page does not. The day is passed three times.
const cardBadgeSQL = `p.certified_until IS NOT NULL AND p.certified_until >= ? AND ` + linkedActiveSQL

// cardColumns selects what a listing card shows of a product p joined to
// its cooperative c and its first photo ph (cardsFrom), with the
// certified badge (cardBadgeSQL: its arguments come first).
const cardColumns = `p.id, p.cooperative_id, p.artisan_id, p.slug, p.title, p.craft, p.commune, p.price, p.currency,
	p.stock, p.one_of_a_kind, p.made_to_order_days, p.status,
	c.slug, c.name, c.status, CASE WHEN ` + cardBadgeSQL + ` THEN 1 ELSE 0 END,
	ph.id, ph.position, ph.alt, ph.width, ph.height, ph.color, ph.blurhash, ph.variants`

// cardsFrom joins each product to its first photo (lowest position, then
// id: the order readPhotos gives), found by a correlated subquery that
// both engines answer with one seek on product_photos_position per
// product.
const cardsFrom = ` FROM products p JOIN cooperatives c ON c.id = p.cooperative_id
	LEFT JOIN product_photos ph ON ph.id = (SELECT f.id FROM product_photos f WHERE f.product_id = p.id
		ORDER BY f.position, f.id LIMIT 1)
	WHERE p.id IN ?`

// readCards reads the products with the ids as cards (ProductFilter.Cards)
// in one query, in the order of ids; today is the day the badge is judged
// on. Times are left out: SQLite's driver parses them at a cost near the
// rest of a card's.
func readCards(db *gorm.DB, ids []int64, today string) ([]Product, error) {
	out := make([]Product, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := db.Raw("SELECT "+cardColumns+cardsFrom, today, today, today, ids).Rows()
	if err != nil {
		return nil, fmt.Errorf("read product cards: %w", database.Translate(err))
	}
	defer rows.Close()
	byID := make(map[int64]Product, len(ids))
	for rows.Next() {
		var (
			pr                    Product
			coopStatus            string
			phID, phPos, phW, phH sql.NullInt64
			phColor, phBlur       sql.NullString
			ph                    Photo
		)
		if err := rows.Scan(&pr.ID, &pr.Cooperative.ID, &pr.ArtisanID, &pr.Slug, &pr.Title, &pr.Craft, &pr.Commune, &pr.Price,
			&pr.Currency, &pr.Stock, &pr.OneOfAKind, &pr.MadeToOrderDays, &pr.Status,
			&pr.Cooperative.Slug, &pr.Cooperative.Name, &coopStatus, &pr.Certified,
			&phID, &phPos, &ph.Alt, &phW, &phH, &phColor, &phBlur, &ph.Variants); err != nil {
			return nil, fmt.Errorf("scan product card: %w", err)
		}
		pr.Available = pr.Status == Published && coopStatus == cooperativeVerified && (pr.Stock > 0 || pr.MadeToOrderDays != nil)
		pr.Description, pr.Materials, pr.Techniques = Localized{}, Strings{}, Strings{}
		pr.Certificates, pr.Photos = []ProductCertificate{}, []Photo{}
		if phID.Valid {
			ph.ID, ph.ProductID, ph.Position = phID.Int64, pr.ID, int(phPos.Int64)
			ph.Width, ph.Height, ph.Color, ph.BlurHash = int(phW.Int64), int(phH.Int64), phColor.String, phBlur.String
			pr.Photos = []Photo{ph}
		}
		byID[pr.ID] = pr
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read product cards: %w", database.Translate(err))
	}
	for _, id := range ids {
		if pr, ok := byID[id]; ok {
			out = append(out, pr)
		}
	}
	return out, nil
}
