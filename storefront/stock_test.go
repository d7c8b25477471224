package storefront

import (
	"context"
	"sync"
	"testing"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/testenv"
)

func (e *env) stockOf(t *testing.T, id int64) int {
	t.Helper()
	var n int
	if err := e.db.Raw("SELECT stock FROM products WHERE id = ?", id).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Rule 2: a one-of-a-kind piece is sold once, however many buyers check out
// at the same moment.
func TestReserveStockOneOfAKindSoldOnce(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		pr := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre unique"}, OneOfAKind: true, Stock: 1})
		const buyers = 50
		var wg sync.WaitGroup
		results := make([]error, buyers)
		start := make(chan struct{})
		for i := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = e.db.Transact(context.Background(), func(tx *gorm.DB) error {
					_, err := ReserveStock(tx, pr.ID, 1)
					return err
				})
			}()
		}
		close(start)
		wg.Wait()
		won := 0
		for i, err := range results {
			switch {
			case err == nil:
				won++
			case !errs.Is(err, errs.Conflict):
				t.Errorf("buyer %d: %v, want sold out", i, err)
			}
		}
		stock := e.stockOf(t, pr.ID)
		testenv.Report(t, "stock: one piece, 50 concurrent transactions ("+dialect+")", buyers, int64(max(won-1, 0))+int64(max(-stock, 0)))
		if won != 1 {
			t.Fatalf("%d buyers got the one-of-a-kind piece, want exactly 1", won)
		}
		if n := stock; n != 0 {
			t.Fatalf("stock %d after the sale, want 0", n)
		}
	})
}

func TestReserveAndReleaseStock(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		ctx := context.Background()
		reserve := func(id int64, qty int) (int, error) {
			var from int
			err := e.db.Transact(ctx, func(tx *gorm.DB) error {
				var err error
				from, err = ReserveStock(tx, id, qty)
				return err
			})
			return from, err
		}
		release := func(id int64, qty int) error {
			return e.db.Transact(ctx, func(tx *gorm.DB) error { return ReleaseStock(tx, id, qty) })
		}

		plates := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Assiettes"}, Stock: 5})
		if from, err := reserve(plates.ID, 3); err != nil || from != 3 {
			t.Fatalf("reserve 3 of 5: %d, %v", from, err)
		}
		_, err := reserve(plates.ID, 3)
		wantCode(t, err, errs.Conflict)
		if e := errs.As(err); e.Extra["available"] != 2 {
			t.Errorf("sold out says %v available, want 2", e.Extra["available"])
		}
		if err := release(plates.ID, 3); err != nil {
			t.Fatal(err)
		}
		if n := e.stockOf(t, plates.ID); n != 5 {
			t.Fatalf("stock %d after release, want 5", n)
		}

		// Made to order: served from stock when it covers the line, made
		// to order otherwise, stock never below zero.
		rugs := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tapis"}, Stock: 1, MadeToOrderDays: ptr(30)})
		if from, err := reserve(rugs.ID, 1); err != nil || from != 1 {
			t.Fatalf("from stock: %d, %v", from, err)
		}
		if from, err := reserve(rugs.ID, 4); err != nil || from != 0 {
			t.Fatalf("made to order: %d, %v", from, err)
		}
		if n := e.stockOf(t, rugs.ID); n != 0 {
			t.Fatalf("stock %d, want 0", n)
		}
		if err := release(rugs.ID, 0); err != nil {
			t.Fatal(err)
		}

		// A one-of-a-kind piece never holds more than one.
		jar := e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre"}, OneOfAKind: true, Stock: 1})
		if err := release(jar.ID, 1); err != nil {
			t.Fatal(err)
		}
		if n := e.stockOf(t, jar.ID); n != 1 {
			t.Fatalf("one-of-a-kind stock %d after a stray release, want 1", n)
		}

		// Not on sale: drafts, and products of cooperatives not verified.
		draft := e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Brouillon"}, Stock: 5})
		_, err = reserve(draft.ID, 1)
		wantCode(t, err, errs.Conflict)
		e.exec(t, "UPDATE cooperatives SET status = 'suspended' WHERE id = ?", e.coop)
		_, err = reserve(plates.ID, 1)
		wantCode(t, err, errs.Conflict)
		_, err = reserve(999_999, 1)
		wantCode(t, err, errs.NotFound)
		_, err = reserve(plates.ID, 0)
		wantCode(t, err, errs.Invalid)
		wantCode(t, release(999_999, 1), errs.NotFound)
	})
}
