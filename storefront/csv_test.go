package storefront

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// catalogCSV generates a catalog of n products; bad, when not zero, is
// the 1-based data row whose price is wrong.
func catalogCSV(n, bad int) string {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"title_ar", "title_fr", "title_en", "description_fr", "craft", "commune", "materials", "weight_g",
		"price_mad", "stock", "one_of_a_kind", "made_to_order_days"})
	for i := 1; i <= n; i++ {
		price := fmt.Sprintf("%d.%02d", 50+i%400, i%100)
		if i == bad {
			price = "12.345"
		}
		craft, one, stock, mto := "pottery", "false", fmt.Sprint(i%7), ""
		switch i % 5 {
		case 1:
			craft = "carpets-weaving"
		case 2:
			craft, one, stock = "silver-jewellery", "oui", "1"
		case 3:
			mto, stock = "21", "0"
		}
		_ = w.Write([]string{
			fmt.Sprintf("طاجين رقم %d", i), fmt.Sprintf("Tajine n° %04d", i), "",
			"Pièce tournée à la main,\nséchée au soleil.", craft, "Tighmi", "argile; engobe", fmt.Sprint(500 + i),
			price, stock, one, mto,
		})
	}
	w.Flush()
	return b.String()
}

func countProducts(t *testing.T, e *env) int64 {
	t.Helper()
	var n int64
	if err := e.db.Raw("SELECT COUNT(*) FROM products").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// All or nothing: 1,000 rows with one bad row change nothing and name the
// row; the same file mended imports every row.
func TestImportCatalogAllOrNothing(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		before := countProducts(t, e)

		_, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(catalogCSV(1000, 537)))
		wantCode(t, err, errs.Invalid)
		// Row 537 sits on line 1 + 2×536 + 1: the header, then two lines a
		// row (the description holds a line break).
		if diff := cmp.Diff([]string{"line 1074: price_mad"}, fieldsOf(err)); diff != "" {
			t.Fatalf("(-want +got):\n%s\nerr: %v", diff, err)
		}
		if after := countProducts(t, e); after != before {
			t.Fatalf("a failed import wrote %d products", after-before)
		}

		res, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(catalogCSV(1000, 0)))
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 1000 || res.Updated != 0 || len(res.Slugs) != 1000 {
			t.Fatalf("created %d updated %d", res.Created, res.Updated)
		}
		if after := countProducts(t, e); after != before+1000 {
			t.Fatalf("%d products after the import, want %d", after, before+1000)
		}
		pr, err := e.svc.FindProductBySlug(ctx, e.manager, res.Slugs[536])
		if err != nil {
			t.Fatal(err)
		}
		if pr.Title["fr"] != "Tajine n° 0537" || *pr.Price != 18_737 || pr.Status != Draft || pr.Commune != "Tighmi" ||
			pr.Description["fr"] != "Pièce tournée à la main,\nséchée au soleil." {
			t.Fatalf("row 537 imported as %+v", pr)
		}
		// The imported products are searchable.
		list, err := e.svc.FindCooperativeProducts(ctx, e.manager, e.coop, ProductFilter{Q: "tajine 0537"})
		if err != nil || list.Total != 1 {
			t.Fatalf("search finds %d, %v", list.Total, err)
		}
		list, err = e.svc.FindCooperativeProducts(ctx, e.manager, e.coop, ProductFilter{Q: "طاجين", PerPage: 1})
		if err != nil || list.Total != 1000 {
			t.Fatalf("Arabic search finds %d, %v", list.Total, err)
		}
	})
}

func TestImportCatalogErrors(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		tests := []struct {
			name, file string
			want       []string
		}{
			{"unknown and repeated columns", "title_fr,prix,craft,craft\nA,1,pottery,pottery\n", []string{"line 1: prix", "line 1: craft"}},
			{"semicolon-separated", "title_fr;craft;price_mad\nA;pottery;12\n", []string{"line 1"}},
			{"every bad cell named", "title_fr,craft,price_mad,weight_g,stock,one_of_a_kind,made_to_order_days\n" +
				"Plat,pottery,\"1,200\",lourd,-1,peut-être,x\n" +
				",pottery,12,100,0,,\n" +
				"Jarre,glass,12,100,3,true,\n" +
				"Bol,pottery,12,100,0,false,0\n",
				[]string{"line 2: price_mad", "line 2: weight_g", "line 2: stock", "line 2: one_of_a_kind", "line 2: made_to_order_days",
					"line 3: title", "line 4: stock", "line 4: craft", "line 5: made_to_order_days"}},
			{"wrong number of cells", "title_fr,craft\nA,pottery,extra\n", []string{"line 2"}},
			{"bad quoting", "title_fr,craft\n\"A\"b,pottery\n", []string{"line 2"}},
			{"unknown slug", "slug,price_mad\nno-such-product,12\n", []string{"line 2: slug"}},
			{"empty", "", []string{"file"}},
			{"header only", "title_fr,craft\n", []string{"file"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(tt.file))
				wantCode(t, err, errs.Invalid)
				if diff := cmp.Diff(tt.want, fieldsOf(err)); diff != "" {
					t.Fatalf("(-want +got):\n%s\nerr: %v", diff, err)
				}
			})
		}
		if n := countProducts(t, e); n != 0 {
			t.Fatalf("failed imports wrote %d products", n)
		}
		_, err := e.svc.ImportCatalogCSV(ctx, e.member, e.coop, strings.NewReader(catalogCSV(1, 0)))
		wantCode(t, err, errs.Forbidden)
	})
}

// Export, then import the export with changes: the slug column updates the
// products; a published product keeps what publishing needs.
func TestCatalogRoundTrip(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pub := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "=Jarre \"berbère\"", "ar": "جرة"},
			Description: map[string]string{"fr": "Deux lignes\net une virgule, ici."}, Materials: []string{"argile", "henné"},
			Price: ptr(int64(45_050)), Stock: 1, OneOfAKind: true})
		draft := e.draft(t, e.coop, ProductInput{Title: map[string]string{"en": "Bowl"}, MadeToOrderDays: ptr(12)})
		e.draft(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Pas à nous"}})

		var out bytes.Buffer
		if err := e.svc.ExportCatalogCSV(ctx, e.member, e.coop, &out); err != nil {
			t.Fatal(err)
		}
		sh, err := ParseCatalogCSV(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("the export does not parse: %v\n%s", err, out.String())
		}
		if diff := cmp.Diff(CatalogColumns, sh.Columns); diff != "" {
			t.Fatalf("columns (-want +got):\n%s", diff)
		}
		if len(sh.Rows) != 2 || sh.Rows[0].Slug != pub.Slug || sh.Rows[1].Slug != draft.Slug {
			t.Fatalf("rows %+v", sh.Rows)
		}
		if !strings.Contains(out.String(), `"'=Jarre ""berbère""`) || !strings.Contains(out.String(), ",450.50,") {
			t.Fatalf("export:\n%s", out.String())
		}
		// Importing the export unchanged changes nothing but updated_at.
		res, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, bytes.NewReader(out.Bytes()))
		if err != nil || res.Updated != 2 || res.Created != 0 {
			t.Fatalf("re-import: %+v, %v", res, err)
		}
		again, err := e.svc.FindProduct(ctx, e.manager, pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		ignore := cmpopts.IgnoreFields(Product{}, "UpdatedAt")
		if diff := cmp.Diff(pub, again, ignore, cmp.AllowUnexported(Date{})); diff != "" {
			t.Fatalf("a round trip changed the product (-before +after):\n%s", diff)
		}

		// Clearing the price of a published product is refused; of a draft, allowed.
		file := "slug,price_mad,stock\n" + pub.Slug + ",,1\n" + draft.Slug + ",,5\n"
		_, err = e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(file))
		if diff := cmp.Diff([]string{"line 2: price_mad"}, fieldsOf(err)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		file = "slug,price_mad,stock\n" + pub.Slug + ",99.90,1\n" + draft.Slug + ",,5\n"
		if _, err := e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(file)); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.FindProduct(ctx, e.manager, pub.ID)
		if *got.Price != 9_990 || got.Title["fr"] != pub.Title["fr"] {
			t.Fatalf("price %d title %q", *got.Price, got.Title["fr"])
		}
		// Another cooperative's slug is not ours to update.
		file = "slug,stock\n" + pub.Slug + ",0\n"
		_, err = e.svc.ImportCatalogCSV(ctx, e.otherManager, e.otherCoop, strings.NewReader(file))
		if diff := cmp.Diff([]string{"line 2: slug"}, fieldsOf(err)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		// The same slug twice in one file.
		file = "slug,stock\n" + draft.Slug + ",1\n" + draft.Slug + ",2\n"
		_, err = e.svc.ImportCatalogCSV(ctx, e.manager, e.coop, strings.NewReader(file))
		if diff := cmp.Diff([]string{"line 3: slug"}, fieldsOf(err)); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
}

func FuzzImportCSV(f *testing.F) {
	f.Add([]byte(catalogCSV(3, 0)))
	f.Add([]byte(catalogCSV(2, 2)))
	f.Add([]byte("\xEF\xBB\xBFslug,title_fr,price_mad\nplat,\"'=SUM(A1)\",12.5\n"))
	f.Add([]byte("title_fr;craft\nA;pottery\n"))
	f.Add([]byte("title_fr,craft\n\"unterminated,pottery\n"))
	f.Add([]byte("title_ar,materials,one_of_a_kind,stock\nفخار,\"a; ;b;\",oui,1\n\n,,,\n"))
	f.Add([]byte("price_mad,weight_g,made_to_order_days\n0.29,999999999,0\n99999999999,1,\n"))
	f.Add([]byte("description_fr\n\"a\r\nb\rc\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sh, err := ParseCatalogCSV(bytes.NewReader(data))
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("a bad file gave %v, want an invalid error", err)
			}
			for _, fe := range errs.As(err).Fields {
				if fe.Field != "file" && !strings.HasPrefix(fe.Field, "line ") {
					t.Fatalf("field %q names neither a line nor the file", fe.Field)
				}
			}
			return
		}
		for _, r := range sh.Rows {
			if r.Price != nil && (*r.Price < 1 || *r.Price > MaxPrice) {
				t.Fatalf("line %d: price %d out of range", r.Line, *r.Price)
			}
			for _, n := range []*int{r.WeightG, r.Stock, r.MadeToOrderDays} {
				if n != nil && *n < 0 {
					t.Fatalf("line %d: negative count %d", r.Line, *n)
				}
			}
		}
		// What parses writes back and parses to the same rows.
		var b bytes.Buffer
		if err := WriteCatalogCSV(&b, sh); err != nil {
			t.Fatal(err)
		}
		back, err := ParseCatalogCSV(&b)
		if err != nil {
			t.Fatalf("the written sheet does not parse: %v\n%q", err, b.String())
		}
		if diff := cmp.Diff(sh, back, cmpopts.IgnoreFields(CatalogRow{}, "Line"), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("round trip (-parsed +reparsed):\n%s", diff)
		}
	})
}
