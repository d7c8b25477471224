package storefront

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// Reference.QuoteShipping prices exactly as QuoteShipping does from the
// database, errors included, for every zone, weight bracket edge and
// fragile count.
func TestReferenceQuotesAsTheDatabase(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		ref, err := e.svc.Reference(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var brackets []int
		if err := e.db.Raw("SELECT DISTINCT max_weight_g FROM shipping_rates").Scan(&brackets).Error; err != nil || len(brackets) == 0 {
			t.Fatalf("no shipping brackets: %v", err)
		}
		weights := []int{-1, 0, 1, 1_000_000, 1_000_001}
		for _, b := range brackets {
			weights = append(weights, b-1, b, b+1)
		}
		n := 0
		for _, country := range []string{"MA", "FR", "DE", "US", "JP", "ES", "france", ""} {
			for _, w := range weights {
				for _, fragile := range []int{-1, 0, 1, 3, maxOrderLines, maxOrderLines + 1} {
					want, wantErr := e.svc.QuoteShipping(ctx, country, w, fragile)
					got, gotErr := ref.QuoteShipping(country, w, fragile)
					name := fmt.Sprintf("%s %d g %d fragile", country, w, fragile)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Fatalf("%s (-database +reference):\n%s", name, diff)
					}
					if errs.CodeOf(wantErr) != errs.CodeOf(gotErr) || fmt.Sprint(fieldsOf(wantErr)) != fmt.Sprint(fieldsOf(gotErr)) {
						t.Fatalf("%s: database %v, reference %v", name, wantErr, gotErr)
					}
					if gotErr == nil {
						n++
					}
				}
			}
		}
		if n == 0 {
			t.Fatal("no quote succeeded: the comparison proved nothing")
		}
		crafts, err := e.svc.ListCrafts(ctx)
		if err != nil || len(crafts) == 0 {
			t.Fatalf("crafts: %v", err)
		}
		for _, c := range crafts {
			got, err := ref.Craft(c.Slug)
			if err != nil || !cmp.Equal(c, got) {
				t.Fatalf("craft %s: %+v, %v; want %+v", c.Slug, got, err, c)
			}
		}
		if _, err := ref.Craft("no-such-craft"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown craft: %v", err)
		}
		schemes, err := e.svc.ListCertificateSchemes(ctx)
		if err != nil || len(schemes) == 0 {
			t.Fatalf("schemes: %v", err)
		}
		for _, sc := range schemes {
			if got, ok := ref.Scheme(sc.Slug); !ok || !cmp.Equal(sc, got) {
				t.Fatalf("scheme %s: %+v, %v", sc.Slug, got, ok)
			}
		}
	})
}

// The reference data is kept for the TTL and read again after it; with a
// TTL of zero (tests) it is read on every call.
func TestReferenceCache(t *testing.T) {
	e := newEnv(t, "sqlite")
	ctx := context.Background()
	rename := func(name string) {
		e.exec(t, `UPDATE crafts SET name = ? WHERE slug = 'pottery'`, `{"fr":"`+name+`"}`)
	}
	potteryName := func(s *Service) string {
		t.Helper()
		ref, err := s.Reference(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ref.Craft("pottery")
		if err != nil {
			t.Fatal(err)
		}
		return c.Name["fr"]
	}
	cached := New(e.db, Options{Now: e.clock.Now, CountCacheTTL: 30 * time.Second})
	rename("Poterie")
	if got := potteryName(cached); got != "Poterie" {
		t.Fatalf("first read: %q", got)
	}
	rename("Céramique")
	if got := potteryName(cached); got != "Poterie" {
		t.Fatalf("within the TTL the reference was read again: %q", got)
	}
	e.clock.Advance(31 * time.Second)
	if got := potteryName(cached); got != "Céramique" {
		t.Fatalf("past the TTL: %q, want the new name", got)
	}
	uncached := New(e.db, Options{Now: e.clock.Now})
	rename("Argile")
	if got := potteryName(uncached); got != "Argile" {
		t.Fatalf("without a TTL: %q, want the new name", got)
	}
}
