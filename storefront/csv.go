package storefront

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// CatalogColumns are the columns of the catalog CSV, in the order the
// export writes them.
//
// The catalog CSV holds one product a row, comma-separated, UTF-8 (a byte-order
// mark is allowed), a header row naming the columns in any order. Only the
// columns present are read; a missing column leaves that field as it is.
//
//	title_ar, title_fr, title_en        title in each language (at least one for a new product)
//	description_ar, _fr, _en             description in each language
//	craft                                craft slug (pottery, silver-jewellery …), required for a new product
//	commune                              commune of origin; the cooperative's when empty
//	materials, techniques                lists separated by semicolons: "argile; engobe"
//	weight_g                             weight in grams, a whole number
//	price_mad                            price in dirhams with a dot and at most two decimals: 120.50
//	stock                                whole number, 0 when empty
//	one_of_a_kind                        true/false (also yes/no, oui/non, 1/0); false when empty
//	made_to_order_days                   days to make on order; empty when not made to order
//	slug                                 empty: a new product (draft); a slug of the cooperative: update that product
//
// In an update an empty cell clears the field (a title language, the
// weight, the price …). A cell starting with = + - or @ may be preceded by
// an apostrophe, which is dropped: spreadsheets must not run it as a
// formula, and the export writes such cells that way.
//
// The import is all or nothing: every bad row is reported with its line
// and column ("line 17: price_mad") and nothing is written, or every row is
// written in one transaction.
var CatalogColumns = []string{
	"title_ar", "title_fr", "title_en", "description_ar", "description_fr", "description_en",
	"craft", "commune", "materials", "techniques", "weight_g", "price_mad", "stock", "one_of_a_kind",
	"made_to_order_days", "slug",
}

// Limits of the import.
const (
	// MaxImportRows bounds the products of one file.
	MaxImportRows    = 5_000
	maxImportErrors  = 100
	maxCellBytes     = 4 * maxDescriptionLength // Arabic text takes 2 bytes a letter; leave room
	importBatchSize  = 100
	materialsDivider = ";"
)

// CatalogRow is one data row of a catalog CSV, parsed but not yet checked
// against the rules of products. Only the columns of the file's header are
// meaningful (CatalogSheet.Has).
type CatalogRow struct {
	Line            int // the line of the file the row starts on
	Slug            string
	Title           Localized // an empty text clears that language
	Description     Localized
	Craft           string
	Commune         string
	Materials       []string
	Techniques      []string
	WeightG         *int
	Price           *int64 // centimes
	Stock           *int
	OneOfAKind      *bool
	MadeToOrderDays *int
}

// CatalogSheet is a parsed catalog CSV.
type CatalogSheet struct {
	Columns []string // the header's columns, in file order
	Rows    []CatalogRow
}

// Has reports whether the file has the column.
func (sh CatalogSheet) Has(column string) bool {
	for _, c := range sh.Columns {
		if c == column {
			return true
		}
	}
	return false
}

// ParseCatalogCSV reads a catalog CSV and checks its form: the header, the
// number of cells, numbers, prices and yes/no cells. It does not check the
// rules of products (ImportCatalogCSV does). Every problem is reported as
// an errs.Invalid field "line N: column".
func ParseCatalogCSV(r io.Reader) (CatalogSheet, error) {
	sh, f, err := parseCatalog(r)
	if err != nil {
		return CatalogSheet{}, err
	}
	if err := capFields(f).Err(); err != nil {
		return CatalogSheet{}, err
	}
	return sh, nil
}

// parseCatalog reads the file, collecting form errors in f; err is for a
// file that cannot be read at all.
func parseCatalog(r io.Reader) (CatalogSheet, errs.Fields, error) {
	var f errs.Fields
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		f.Add("file", "is empty: it needs a header row naming the columns")
		return CatalogSheet{}, f, nil
	}
	if err != nil {
		if line, msg, ok := csvProblem(err); ok {
			f.Add(fmt.Sprintf("line %d", line), "%s", msg)
			return CatalogSheet{}, f, nil
		}
		return CatalogSheet{}, nil, fmt.Errorf("read catalog header: %w", err)
	}
	sh := CatalogSheet{}
	known := map[string]bool{}
	for _, c := range CatalogColumns {
		known[c] = true
	}
	seen := map[string]bool{}
	for i, h := range header {
		name := strings.ToLower(strings.TrimSpace(h))
		switch {
		case name == "" && i == len(header)-1 && len(header) > 1:
			name = "" // a trailing comma in the header
		case strings.Contains(name, ";") && len(header) == 1:
			f.Add("line 1", "the file must be comma-separated (this one looks separated by semicolons)")
		case !known[name]:
			f.Add("line 1: "+clipText(name, 40), "is not a column of the catalog (known: %s)", strings.Join(CatalogColumns, ", "))
		case seen[name]:
			f.Add("line 1: "+name, "is named twice")
		}
		seen[name] = true
		sh.Columns = append(sh.Columns, name)
	}
	if len(f) > 0 {
		return CatalogSheet{}, f, nil
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if line, msg, ok := csvProblem(err); ok {
				f.Add(fmt.Sprintf("line %d", line), "%s", msg)
				break // the reader cannot resynchronise after a quoting error
			}
			return CatalogSheet{}, nil, fmt.Errorf("read catalog: %w", err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec, sh.Columns) {
			continue
		}
		if len(sh.Rows) == MaxImportRows {
			f.Add("file", "holds more than %d products; split it", MaxImportRows)
			break
		}
		if len(rec) != len(sh.Columns) {
			f.Add(fmt.Sprintf("line %d", line), "has %d cells; the header has %d", len(rec), len(sh.Columns))
			continue
		}
		sh.Rows = append(sh.Rows, parseCatalogRow(&f, sh.Columns, rec, line))
	}
	if len(sh.Rows) == 0 && len(f) == 0 {
		f.Add("file", "holds no products below its header")
	}
	return sh, f, nil
}

func csvProblem(err error) (line int, msg string, ok bool) {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return 0, "", false
	}
	switch {
	case errors.Is(pe.Err, csv.ErrQuote), errors.Is(pe.Err, csv.ErrBareQuote):
		return pe.Line, "has a misplaced quote: put the whole cell in double quotes and double the quotes inside it", true
	}
	return pe.Line, "cannot be read: " + pe.Err.Error(), true
}

// blank reports whether a record holds nothing in the named columns
// (spreadsheets leave rows of empty cells at the end).
func blank(rec, columns []string) bool {
	for i, c := range rec {
		if (i >= len(columns) || columns[i] != "") && strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// parseCatalogRow reads the cells of one row.
func parseCatalogRow(f *errs.Fields, columns, rec []string, line int) CatalogRow {
	row := CatalogRow{Line: line}
	field := func(col string) string { return fmt.Sprintf("line %d: %s", line, col) }
	for i, col := range columns {
		if col == "" {
			continue
		}
		raw := rec[i]
		if len(raw) > maxCellBytes {
			f.Add(field(col), "is too long (at most %d bytes)", maxCellBytes)
			continue
		}
		if !utf8.ValidString(raw) {
			f.Add(field(col), "must be UTF-8 text (save the file as \"CSV UTF-8\")")
			continue
		}
		v := unguardCell(strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\r", "\n")))
		switch col {
		case "title_ar", "title_fr", "title_en":
			if row.Title == nil {
				row.Title = Localized{}
			}
			row.Title[strings.TrimPrefix(col, "title_")] = v
		case "description_ar", "description_fr", "description_en":
			if row.Description == nil {
				row.Description = Localized{}
			}
			row.Description[strings.TrimPrefix(col, "description_")] = v
		case "craft":
			row.Craft = v
		case "commune":
			row.Commune = v
		case "slug":
			row.Slug = v
			if v != "" && !isSlug(v, 100) {
				f.Add(field(col), "must be the slug of one of the cooperative's products, or empty for a new one")
			}
		case "materials":
			row.Materials = splitList(v)
		case "techniques":
			row.Techniques = splitList(v)
		case "weight_g":
			row.WeightG = parseCount(f, field(col), v, "grams")
		case "stock":
			row.Stock = parseCount(f, field(col), v, "pieces")
		case "made_to_order_days":
			row.MadeToOrderDays = parseCount(f, field(col), v, "days")
		case "price_mad":
			if v != "" {
				c, err := ParseMAD(v)
				if err != nil {
					f.Add(field(col), "%s", err.Error())
				} else {
					row.Price = &c
				}
			}
		case "one_of_a_kind":
			if v != "" {
				b, ok := parseBoolWord(v)
				if !ok {
					f.Add(field(col), "must be true or false (or yes/no, oui/non, 1/0)")
				} else {
					row.OneOfAKind = &b
				}
			}
		}
	}
	return row
}

// parseCount reads a whole number cell; empty is nil.
func parseCount(f *errs.Fields, field, v, unit string) *int {
	if v == "" {
		return nil
	}
	if !allDigits(v) || len(v) > 9 {
		f.Add(field, "must be a whole number of %s", unit)
		return nil
	}
	n, _ := strconv.Atoi(v)
	return &n
}

func splitList(v string) []string {
	out := []string{}
	for _, s := range strings.Split(v, materialsDivider) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// guardCell protects a cell a spreadsheet would run as a formula with a
// leading apostrophe; unguardCell drops it again. Cells that already start
// with apostrophes before such a character get one more, so that the two
// are exact inverses.
func guardCell(v string) string {
	if startsFormula(v) {
		return "'" + v
	}
	return v
}

func unguardCell(v string) string {
	if strings.HasPrefix(v, "'") && startsFormula(v) {
		return v[1:]
	}
	return v
}

func startsFormula(v string) bool {
	v = strings.TrimLeft(v, "'")
	return v != "" && strings.ContainsRune("=+-@", rune(v[0]))
}

// capFields keeps the first maxImportErrors errors and says how many more
// there were.
func capFields(f errs.Fields) errs.Fields {
	if len(f) <= maxImportErrors {
		return f
	}
	more := len(f) - maxImportErrors
	out := append(errs.Fields(nil), f[:maxImportErrors]...)
	out.Add("file", "and %d more problems", more)
	return out
}

// csvName maps the API name of a product field to its column.
func csvName(line int) namer {
	return func(field string) string {
		col := field
		switch {
		case strings.HasPrefix(field, "title."):
			col = "title_" + strings.TrimPrefix(field, "title.")
		case strings.HasPrefix(field, "description."):
			col = "description_" + strings.TrimPrefix(field, "description.")
		case strings.HasPrefix(field, "materials"):
			col = "materials"
		case strings.HasPrefix(field, "techniques"):
			col = "techniques"
		case field == "price":
			col = "price_mad"
		}
		return fmt.Sprintf("line %d: %s", line, col)
	}
}

// applyTo writes the row's cells into a product's state; columns absent
// from the file leave the state as it is.
func (row CatalogRow) applyTo(st *productState, sh CatalogSheet) {
	if row.Title != nil {
		t := Localized{}
		for k, v := range st.Title {
			t[k] = v
		}
		for k, v := range row.Title {
			if v == "" {
				delete(t, k)
			} else {
				t[k] = v
			}
		}
		st.Title = t
	}
	if row.Description != nil {
		d := Localized{}
		for k, v := range st.Description {
			d[k] = v
		}
		for k, v := range row.Description {
			if v == "" {
				delete(d, k)
			} else {
				d[k] = v
			}
		}
		st.Description = d
	}
	if sh.Has("craft") {
		st.Craft = row.Craft
	}
	if sh.Has("commune") {
		st.Commune = row.Commune
	}
	if sh.Has("materials") {
		st.Materials = row.Materials
	}
	if sh.Has("techniques") {
		st.Techniques = row.Techniques
	}
	if sh.Has("weight_g") {
		st.WeightG = row.WeightG
	}
	if sh.Has("price_mad") {
		st.Price = row.Price
	}
	if sh.Has("stock") {
		st.Stock = 0
		if row.Stock != nil {
			st.Stock = *row.Stock
		}
	}
	if sh.Has("one_of_a_kind") {
		st.OneOfAKind = row.OneOfAKind != nil && *row.OneOfAKind
	}
	if sh.Has("made_to_order_days") {
		st.MadeToOrderDays = row.MadeToOrderDays
	}
}

// ImportResult says what an import did.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Slugs are the slugs of the rows, in file order (new ones included).
	Slugs []string `json:"slugs"`
}

// ImportCatalogCSV creates and updates a cooperative's products from a
// catalog CSV (see CatalogColumns): rows without a slug become drafts,
// rows with one of the cooperative's slugs update that product (a
// published product must stay publishable). Managers of the cooperative and
// administrators may (errs.Forbidden). All or nothing: errs.Invalid lists
// every bad row by line and column ("line 17: price_mad") and nothing is
// written; otherwise every row is written in one transaction.
func (s *Service) ImportCatalogCSV(ctx context.Context, p *account.Principal, cooperativeID int64, r io.Reader) (ImportResult, error) {
	if !p.CanManageCooperative(cooperativeID) {
		return ImportResult{}, refuse(p, "only managers of the cooperative may import its catalog")
	}
	sh, f, err := parseCatalog(r)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import catalog of cooperative %d: %w", cooperativeID, err)
	}
	if len(sh.Rows) == 0 {
		if err := capFields(f).Err(); err != nil {
			return ImportResult{}, err
		}
		return ImportResult{}, errs.InvalidField("file", "holds no products below its header")
	}
	now := s.clock()
	var res ImportResult
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		res = ImportResult{Slugs: make([]string, len(sh.Rows))}
		f := append(errs.Fields(nil), f...)
		coop, err := findCooperative(tx, cooperativeID)
		if err != nil {
			return err
		}
		crafts, err := craftSet(tx)
		if err != nil {
			return err
		}
		existing, err := s.productsBySlug(tx, cooperativeID, sh.Rows)
		if err != nil {
			return err
		}
		states := make([]productState, len(sh.Rows))
		updatedBy := map[string]int{}
		for i, row := range sh.Rows {
			name := csvName(row.Line)
			var st productState
			old, isUpdate := existing[row.Slug]
			switch {
			case row.Slug != "" && !isUpdate:
				f.Add(name("slug"), "no product of this cooperative has this slug")
				continue
			case row.Slug != "" && updatedBy[row.Slug] > 0:
				f.Add(name("slug"), "is already updated by line %d", updatedBy[row.Slug])
				continue
			case isUpdate:
				updatedBy[row.Slug] = row.Line
				st = old.state()
			}
			row.applyTo(&st, sh)
			st.check(&f, name)
			if st.Commune == "" {
				st.Commune = coop.Commune
			}
			if err := st.checkReferences(tx, &f, name, crafts, cooperativeID); err != nil {
				return err
			}
			if isUpdate && old.Status == Published {
				// Photos and the cooperative are not in the file; the
				// fields it can clear must stay.
				var missing errs.Fields
				st.missingToPublish(&missing, name, 1, cooperativeVerified)
				for _, m := range missing {
					f.Add(m.Field, "is required while the product is published")
				}
			}
			states[i] = st
		}
		if err := capFields(f).Err(); err != nil {
			return err
		}
		slugs, err := newSlugs(tx, sh.Rows, states)
		if err != nil {
			return err
		}
		var batch []productRow
		for i, row := range sh.Rows {
			if row.Slug != "" {
				pr := existing[row.Slug]
				states[i].apply(&pr)
				pr.UpdatedAt = now
				if err := tx.Select("*").Omit("id", "cooperative_id", "slug", "status", "created_at", "created_by",
					"published_at", "unpublished_reason", "unpublished_at", "unpublished_by", "certified_until", "certified_from").
					Updates(&pr).Error; err != nil {
					return fmt.Errorf("line %d: update product %s: %w", row.Line, row.Slug, err)
				}
				res.Updated++
				res.Slugs[i] = row.Slug
				continue
			}
			pr := productRow{CooperativeID: cooperativeID, Slug: slugs[i], Status: Draft, CreatedBy: &p.UserID, CreatedAt: now, UpdatedAt: now}
			states[i].apply(&pr)
			batch = append(batch, pr)
			res.Created++
			res.Slugs[i] = pr.Slug
		}
		if len(batch) > 0 {
			if err := tx.CreateInBatches(batch, importBatchSize).Error; err != nil {
				return fmt.Errorf("insert products: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return ImportResult{}, fmt.Errorf("import catalog of cooperative %d: %w", cooperativeID, err)
	}
	return res, nil
}

// productsBySlug loads the cooperative's products the rows name, locked
// for the update (on MySQL; SQLite write transactions are exclusive) so
// that stock reserved meanwhile is not written back over.
func (s *Service) productsBySlug(tx *gorm.DB, cooperativeID int64, rows []CatalogRow) (map[string]productRow, error) {
	var slugs []string
	for _, r := range rows {
		if r.Slug != "" {
			slugs = append(slugs, r.Slug)
		}
	}
	out := map[string]productRow{}
	for start := 0; start < len(slugs); start += 500 {
		var found []productRow
		chunk := slugs[start:min(start+500, len(slugs))]
		q := tx.Where("cooperative_id = ? AND slug IN ?", cooperativeID, chunk).Order("id")
		if s.db.Dialect == database.MySQL {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Find(&found).Error; err != nil {
			return nil, fmt.Errorf("read products to update: %w", err)
		}
		for _, r := range found {
			out[r.Slug] = r
		}
	}
	return out, nil
}

// newSlugs picks a free slug for every new row, none shared with a
// product or with another row.
func newSlugs(tx *gorm.DB, rows []CatalogRow, states []productState) ([]string, error) {
	out := make([]string, len(rows))
	bases := make([]string, len(rows))
	var want []string
	for i, r := range rows {
		if r.Slug != "" {
			continue
		}
		b := slugify(states[i].Title.In("fr"))
		if b == "" {
			b = "product"
		}
		bases[i] = b
		want = append(want, b)
	}
	taken := map[string]bool{}
	for start := 0; start < len(want); start += 500 {
		var found []string
		if err := tx.Model(&productRow{}).Where("slug IN ?", want[start:min(start+500, len(want))]).Pluck("slug", &found).Error; err != nil {
			return nil, fmt.Errorf("look up slugs: %w", err)
		}
		for _, s := range found {
			taken[s] = true
		}
	}
	loaded := map[string]bool{} // bases whose base-N slugs are in taken
	for i, b := range bases {
		if b == "" {
			continue
		}
		if taken[b] && !loaded[b] {
			var found []string
			if err := tx.Model(&productRow{}).Where("slug LIKE ?", b+"-%").Pluck("slug", &found).Error; err != nil {
				return nil, fmt.Errorf("look up slugs like %q: %w", b, err)
			}
			for _, s := range found {
				taken[s] = true
			}
			loaded[b] = true
		}
		var list []string
		for s := range taken {
			if s == b || strings.HasPrefix(s, b+"-") {
				list = append(list, s)
			}
		}
		slug := nextFreeSlug(b, list)
		taken[slug] = true
		out[i] = slug
	}
	return out, nil
}

// ExportCatalogCSV writes a cooperative's catalog (drafts and published
// products, not archived ones) as a catalog CSV with every column, in the
// form ImportCatalogCSV reads back. Members of the cooperative and
// administrators may (errs.Forbidden).
func (s *Service) ExportCatalogCSV(ctx context.Context, p *account.Principal, cooperativeID int64, w io.Writer) error {
	if !p.CanReadCooperative(cooperativeID) {
		return refuse(p, "only members of the cooperative may export its catalog")
	}
	var rows []productRow
	if err := s.db.WithContext(ctx).Where("cooperative_id = ? AND status <> ?", cooperativeID, Archived).
		Order("id").Find(&rows).Error; err != nil {
		return fmt.Errorf("export catalog of cooperative %d: %w", cooperativeID, database.Translate(err))
	}
	sh := CatalogSheet{Columns: CatalogColumns}
	for _, r := range rows {
		one := r.OneOfAKind
		stock := r.Stock
		sh.Rows = append(sh.Rows, CatalogRow{
			Slug: r.Slug, Title: r.Title, Description: r.Description, Craft: r.Craft, Commune: r.Commune,
			Materials: r.Materials, Techniques: r.Techniques, WeightG: r.WeightG, Price: r.Price, Stock: &stock,
			OneOfAKind: &one, MadeToOrderDays: r.MadeToOrderDays,
		})
	}
	if err := WriteCatalogCSV(w, sh); err != nil {
		return fmt.Errorf("export catalog of cooperative %d: %w", cooperativeID, err)
	}
	return nil
}

// WriteCatalogCSV writes a sheet's columns and rows as a catalog CSV, with
// a UTF-8 byte-order mark so that spreadsheets read Arabic and accents
// right.
func WriteCatalogCSV(w io.Writer, sh CatalogSheet) error {
	if _, err := w.Write([]byte{0xEF, 0xBB, 0xBF}); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(sh.Columns); err != nil {
		return err
	}
	rec := make([]string, len(sh.Columns))
	for _, row := range sh.Rows {
		for i, col := range sh.Columns {
			rec[i] = guardCell(row.cell(col))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// cell writes one cell of the row.
func (row CatalogRow) cell(col string) string {
	itoa := func(n *int) string {
		if n == nil {
			return ""
		}
		return strconv.Itoa(*n)
	}
	switch col {
	case "title_ar", "title_fr", "title_en":
		return row.Title[strings.TrimPrefix(col, "title_")]
	case "description_ar", "description_fr", "description_en":
		return row.Description[strings.TrimPrefix(col, "description_")]
	case "craft":
		return row.Craft
	case "commune":
		return row.Commune
	case "materials":
		return strings.Join(row.Materials, materialsDivider+" ")
	case "techniques":
		return strings.Join(row.Techniques, materialsDivider+" ")
	case "weight_g":
		return itoa(row.WeightG)
	case "price_mad":
		if row.Price == nil {
			return ""
		}
		return FormatMAD(*row.Price)
	case "stock":
		return itoa(row.Stock)
	case "one_of_a_kind":
		if row.OneOfAKind == nil {
			return ""
		}
		return strconv.FormatBool(*row.OneOfAKind)
	case "made_to_order_days":
		return itoa(row.MadeToOrderDays)
	case "slug":
		return row.Slug
	}
	return ""
}
