package storefront

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

func newCartToken(t *testing.T) string {
	t.Helper()
	tok, err := NewCartToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// quantities lists a cart's lines as product id → quantity.
func quantities(c Cart) map[int64]int {
	out := map[int64]int{}
	for _, g := range c.Groups {
		for _, l := range g.Lines {
			out[l.ProductID] = l.Quantity
		}
	}
	return out
}

// A guest's cart is found by its cookie token, which is stored only as its
// hash; the cart groups lines by cooperative and prices them now.
func TestCartGuestTokenHashedAndGrouped(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Tajine"}, Price: ptr(int64(35_000)), Stock: 5})
		ring := e.published(t, e.otherCoop, ProductInput{Title: Localized{"fr": "Bague"}, Craft: "silver-jewellery", Price: ptr(int64(12_000)), Stock: 2})
		tok := newCartToken(t)
		guest := GuestCart(tok)
		if _, err := e.svc.SetCartQuantity(ctx, guest, pot.ID, 2); err != nil {
			t.Fatal(err)
		}
		cart, err := e.svc.AddToCart(ctx, guest, ring.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		var stored []string
		if err := e.db.Raw("SELECT token_hash FROM carts").Scan(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0] == tok || stored[0] != HashAccessToken(tok) {
			t.Fatalf("stored %q for token %q: want only its SHA-256", stored, tok)
		}
		if len(cart.Groups) != 2 || cart.Subtotal != 2*35_000+12_000 || cart.Pieces != 3 || !cart.Orderable || cart.Flagged != 0 {
			t.Fatalf("cart: %+v", cart)
		}
		for _, g := range cart.Groups {
			if len(g.Lines) != 1 || g.Subtotal != g.Lines[0].LineTotal {
				t.Errorf("group %s: %+v", g.Cooperative.Name, g)
			}
		}
		// The price shown is the current one.
		e.exec(t, "UPDATE products SET price = 40000 WHERE id = ?", pot.ID)
		if cart, _ = e.svc.FindCart(ctx, guest); cart.Subtotal != 2*40_000+12_000 {
			t.Fatalf("subtotal after a price change: %d", cart.Subtotal)
		}
		// Another token, or a malformed one, sees nothing.
		for _, other := range []string{newCartToken(t), "short", strings.Repeat("é", 43)} {
			if c, err := e.svc.FindCart(ctx, GuestCart(other)); err != nil || c.Lines != 0 {
				t.Errorf("token %q sees %d lines (%v)", other, c.Lines, err)
			}
		}
		if n, err := e.svc.CountCartPieces(ctx, guest); err != nil || n != 3 {
			t.Fatalf("count: %d %v", n, err)
		}
		if err := e.svc.ClearCart(ctx, guest); err != nil {
			t.Fatal(err)
		}
		if n, _ := e.svc.CountCartPieces(ctx, guest); n != 0 {
			t.Fatalf("count after clear: %d", n)
		}
	})
}

// Sold-out and unpublished lines stay in the cart, flagged, and are not
// counted or ordered; a line asking more than is left is flagged limited.
func TestCartFlagsLinesItCannotOrder(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		a := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "A"}, Stock: 3})
		b := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "B"}, Stock: 3})
		c := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "C"}, Stock: 3})
		d := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "D"}, Stock: 0, MadeToOrderDays: ptr(10)})
		o := BuyerCart(e.outsider.UserID)
		for _, it := range []OrderItem{{a.ID, 1}, {b.ID, 2}, {c.ID, 3}, {d.ID, 4}} {
			if _, err := e.svc.SetCartQuantity(ctx, o, it.ProductID, it.Quantity); err != nil {
				t.Fatalf("set %d: %v", it.ProductID, err)
			}
		}
		e.exec(t, "UPDATE products SET stock = 0 WHERE id = ?", a.ID)
		e.exec(t, "UPDATE products SET status = 'archived' WHERE id = ?", b.ID)
		e.exec(t, "UPDATE products SET stock = 1 WHERE id = ?", c.ID)
		cart, err := e.svc.FindCart(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]CartLineStatus{}
		for _, l := range cart.Groups[0].Lines {
			got[l.ProductID] = l.Status
		}
		want := map[int64]CartLineStatus{a.ID: CartLineSoldOut, b.ID: CartLineUnavailable, c.ID: CartLineLimited, d.ID: CartLineOK}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("statuses (-want +got):\n%s", diff)
		}
		if cart.Flagged != 3 || cart.Lines != 4 || cart.Subtotal != 4*25_000 {
			t.Fatalf("flagged %d, lines %d, subtotal %d", cart.Flagged, cart.Lines, cart.Subtotal)
		}
		if diff := cmp.Diff([]OrderItem{{d.ID, 4}}, cart.OrderItems()); diff != "" {
			t.Fatalf("order items:\n%s", diff)
		}
	})
}

// Bad quantities, unknown products, drafts, sold-out pieces and a full
// cart are refused with the field at fault, and change nothing.
func TestCartLimits(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Tajine"}, Stock: 4})
		gone := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Jarre"}, Stock: 1, OneOfAKind: true})
		e.exec(t, "UPDATE products SET stock = 0 WHERE id = ?", gone.ID)
		made := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Mbakhra"}, Stock: 0, MadeToOrderDays: ptr(10)})
		draft := e.draft(t, e.coop, ProductInput{Title: Localized{"fr": "Brouillon"}, Stock: 9})
		o := GuestCart(newCartToken(t))
		for _, tc := range []struct {
			name    string
			product int64
			qty     int
			code    errs.Code
			field   string
		}{
			{"zero", pot.ID, 0, errs.Invalid, "quantity"},
			{"negative", pot.ID, -2, errs.Invalid, "quantity"},
			{"too many", pot.ID, MaxCartQuantity + 1, errs.Invalid, "quantity"},
			{"more than the stock", pot.ID, 5, errs.Invalid, "quantity"},
			{"sold out", gone.ID, 1, errs.Conflict, ""},
			{"unknown", 999_999, 1, errs.NotFound, ""},
			{"a draft", draft.ID, 1, errs.NotFound, ""},
		} {
			_, err := e.svc.SetCartQuantity(ctx, o, tc.product, tc.qty)
			wantCode(t, err, tc.code)
			if tc.field != "" {
				if diff := cmp.Diff([]string{tc.field}, fieldsOf(err)); diff != "" {
					t.Errorf("%s: fields %v", tc.name, fieldsOf(err))
				}
			}
		}
		if _, err := e.svc.SetCartQuantity(ctx, CartOwner{Token: "forged"}, pot.ID, 1); !errs.Is(err, errs.BadRequest) {
			t.Errorf("a malformed token: %v", err)
		}
		// Made to order: past the stock is fine, up to the line limit.
		if _, err := e.svc.SetCartQuantity(ctx, o, made.ID, 40); err != nil {
			t.Fatalf("made to order: %v", err)
		}
		// Adding past the stock is refused too, and keeps the line.
		if _, err := e.svc.AddToCart(ctx, o, pot.ID, 3); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.AddToCart(ctx, o, pot.ID, 2)
		wantCode(t, err, errs.Invalid)
		if c, _ := e.svc.FindCart(ctx, o); quantities(c)[pot.ID] != 3 {
			t.Fatalf("a refused add changed the line: %v", quantities(c))
		}
		// A full cart refuses a new product (but not a change of a line).
		e.exec(t, "UPDATE products SET stock = 100 WHERE id = ?", pot.ID)
		for i := 2; i < MaxCartLines; i++ {
			p := e.draft(t, e.coop, ProductInput{Title: Localized{"fr": "Pièce"}, Stock: 1})
			e.exec(t, "UPDATE products SET status = 'published' WHERE id = ?", p.ID)
			if _, err := e.svc.AddToCart(ctx, o, p.ID, 1); err != nil {
				t.Fatalf("line %d: %v", i, err)
			}
		}
		extra := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "De trop"}, Stock: 1})
		_, err = e.svc.AddToCart(ctx, o, extra.ID, 1)
		wantCode(t, err, errs.Invalid)
		if diff := cmp.Diff([]string{"product_id"}, fieldsOf(err)); diff != "" {
			t.Fatalf("full cart fields: %v", fieldsOf(err))
		}
		if _, err := e.svc.SetCartQuantity(ctx, o, pot.ID, 7); err != nil {
			t.Fatalf("changing a line of a full cart: %v", err)
		}
	})
}

// Two requests adding to one cart at the same moment both count: the
// second waits for the first (the cart row lock) and adds to its line.
func TestCartConcurrentAdds(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Tajine"}, Stock: 500})
		for _, o := range []CartOwner{GuestCart(newCartToken(t)), BuyerCart(e.outsider.UserID)} {
			const n = 8
			var wg sync.WaitGroup
			errc := make(chan error, n)
			for range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := e.svc.AddToCart(ctx, o, pot.ID, 2)
					errc <- err
				}()
			}
			wg.Wait()
			close(errc)
			for err := range errc {
				if err != nil {
					t.Fatalf("concurrent add: %v", err)
				}
			}
			c, err := e.svc.FindCart(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if q := quantities(c)[pot.ID]; q != 2*n {
				t.Fatalf("%+v: %d pieces after %d concurrent adds of 2, want %d", o.UserID, q, n, 2*n)
			}
		}
		var carts int64
		e.db.Raw("SELECT COUNT(*) FROM carts").Scan(&carts)
		if carts != 2 {
			t.Fatalf("%d carts, want one per owner", carts)
		}
	})
}

// At sign-in the guest's cart joins the buyer's: quantities added, capped
// by the stock; a made-to-order line is not capped; a flagged line keeps
// the larger quantity; the guest cart is gone.
func TestMergeGuestCart(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		both := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Tajine"}, Stock: 5})
		guestOnly := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Plat"}, Stock: 9})
		made := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Mbakhra"}, Stock: 0, MadeToOrderDays: ptr(10)})
		flagged := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Bol"}, Stock: 9})
		tok := newCartToken(t)
		guest, buyer := GuestCart(tok), BuyerCart(e.outsider.UserID)
		set := func(o CartOwner, id int64, q int) {
			t.Helper()
			if _, err := e.svc.SetCartQuantity(ctx, o, id, q); err != nil {
				t.Fatal(err)
			}
		}
		set(buyer, both.ID, 3)
		set(guest, both.ID, 4)
		set(guest, guestOnly.ID, 2)
		set(buyer, made.ID, 6)
		set(guest, made.ID, 7)
		set(buyer, flagged.ID, 2)
		set(guest, flagged.ID, 5)
		e.exec(t, "UPDATE products SET status = 'archived' WHERE id = ?", flagged.ID)
		n, err := e.svc.MergeGuestCart(ctx, tok, e.outsider.UserID)
		if err != nil || n != 4 {
			t.Fatalf("merged %d lines: %v", n, err)
		}
		c, err := e.svc.FindCart(ctx, buyer)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]int{both.ID: 5, guestOnly.ID: 2, made.ID: 13, flagged.ID: 5}
		if diff := cmp.Diff(want, quantities(c)); diff != "" {
			t.Fatalf("merged cart (-want +got):\n%s", diff)
		}
		var rows int64
		e.db.Raw("SELECT COUNT(*) FROM carts WHERE token_hash IS NOT NULL").Scan(&rows)
		if rows != 0 {
			t.Fatal("the guest cart survived the merge")
		}
		// Merging again (a replayed sign-in) changes nothing.
		if n, err := e.svc.MergeGuestCart(ctx, tok, e.outsider.UserID); err != nil || n != 0 {
			t.Fatalf("second merge: %d %v", n, err)
		}
	})
}

// An order takes its pieces out of the cart; a line added to meanwhile
// keeps the rest.
func TestRemoveOrderedFromCart(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		a := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "A"}, Stock: 9})
		b := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "B"}, Stock: 9})
		c := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "C"}, Stock: 9})
		o := BuyerCart(e.outsider.UserID)
		for _, it := range []OrderItem{{a.ID, 2}, {b.ID, 5}, {c.ID, 1}} {
			if _, err := e.svc.SetCartQuantity(ctx, o, it.ProductID, it.Quantity); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.svc.RemoveOrderedFromCart(ctx, o, []OrderItem{{a.ID, 2}, {b.ID, 3}}); err != nil {
			t.Fatal(err)
		}
		cart, _ := e.svc.FindCart(ctx, o)
		if diff := cmp.Diff(map[int64]int{b.ID: 2, c.ID: 1}, quantities(cart)); diff != "" {
			t.Fatalf("after the order (-want +got):\n%s", diff)
		}
	})
}

// The sweep deletes guest carts untouched for GuestCartTTL, never a
// buyer's, and may run twice at once.
func TestSweepGuestCarts(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		pot := e.published(t, e.coop, ProductInput{Title: Localized{"fr": "Tajine"}, Stock: 9})
		old, fresh := GuestCart(newCartToken(t)), GuestCart(newCartToken(t))
		buyer := BuyerCart(e.outsider.UserID)
		for _, o := range []CartOwner{old, buyer} {
			if _, err := e.svc.AddToCart(ctx, o, pot.ID, 1); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Advance(GuestCartTTL + time.Hour)
		if _, err := e.svc.AddToCart(ctx, fresh, pot.ID, 1); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i := range counts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := e.svc.SweepGuestCarts(ctx, e.clock.Now())
				if err != nil {
					t.Error(err)
				}
				counts[i] = n
			}()
		}
		wg.Wait()
		if counts[0]+counts[1] != 1 {
			t.Fatalf("swept %v, want one cart in all", counts)
		}
		for o, want := range map[*CartOwner]int{&old: 0, &fresh: 1, &buyer: 1} {
			if n, _ := e.svc.CountCartPieces(ctx, *o); n != want {
				t.Errorf("%+v holds %d pieces after the sweep, want %d", *o, n, want)
			}
		}
		var items int64
		e.db.Raw("SELECT COUNT(*) FROM cart_items").Scan(&items)
		if items != 2 {
			t.Fatalf("%d cart lines left, want 2", items)
		}
	})
}
