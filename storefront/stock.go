package storefront

import (
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/errs"
)

// MaxReserveQuantity bounds the quantity of one order line.
const MaxReserveQuantity = 1_000

// ReserveStock takes qty pieces of a product for an order line, inside the
// caller's transaction (DESIGN rule 2: no overselling). It is one
// conditional update — the row it changes is locked until the caller
// commits, and a competitor that waited sees the stock that is left — so
// a one-of-a-kind piece is sold once however many buyers check out at the
// same moment, on any number of processes. Only a published product of a
// verified cooperative can be reserved.
//
// The made-to-order rule: when the stock covers qty, the line ships from
// stock and qty pieces are taken (fromStock = qty). When it does not and
// the product is made to order, the whole line is made to order and the
// stock is left alone for buyers who want a piece at once (fromStock = 0);
// stock never goes below zero. The caller keeps fromStock on its order
// line and gives exactly that back with ReleaseStock when the order
// expires or is cancelled.
//
// It returns errs.Invalid for a quantity out of 1..MaxReserveQuantity,
// errs.NotFound for no such product, and errs.Conflict when the product is
// sold out (Extra "available": the pieces left) or no longer on sale.
func ReserveStock(tx *gorm.DB, productID int64, qty int) (fromStock int, err error) {
	if qty < 1 || qty > MaxReserveQuantity {
		return 0, errs.InvalidField("quantity", "must be from 1 to %d", MaxReserveQuantity)
	}
	res := tx.Exec(`UPDATE products SET stock = stock - ?
		WHERE id = ? AND stock >= ? AND status = ?
		AND cooperative_id IN (SELECT id FROM cooperatives WHERE status = ?)`,
		qty, productID, qty, Published, cooperativeVerified)
	if res.Error != nil {
		return 0, fmt.Errorf("reserve %d of product %d: %w", qty, productID, res.Error)
	}
	if res.RowsAffected == 1 {
		return qty, nil
	}
	// Not taken: say why, from what the transaction now sees.
	var st struct {
		Status            ProductStatus
		Stock             int
		MadeToOrderDays   *int
		CooperativeStatus string
	}
	err = tx.Raw(`SELECT p.status, p.stock, p.made_to_order_days, c.status AS cooperative_status
		FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE p.id = ?`, productID).Take(&st).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return 0, errs.E(errs.NotFound, "no such product")
	case err != nil:
		return 0, fmt.Errorf("read product %d after a failed reservation: %w", productID, err)
	case st.Status != Published || st.CooperativeStatus != cooperativeVerified:
		return 0, errs.E(errs.Conflict, "this product is no longer on sale").WithExtra("product_id", productID)
	case st.MadeToOrderDays != nil:
		return 0, nil
	}
	return 0, errs.E(errs.Conflict, "sold out: %d left", st.Stock).
		WithExtra("product_id", productID).WithExtra("available", st.Stock)
}

// ReleaseStock gives back pieces ReserveStock took (its fromStock) when an
// unpaid order expires or is cancelled, inside the caller's transaction.
// Giving back 0 does nothing. Whatever the product's status, the pieces
// return to its stock, except that a one-of-a-kind piece never holds more
// than one. It returns errs.Invalid for a negative or excessive quantity
// and errs.NotFound for no such product.
func ReleaseStock(tx *gorm.DB, productID int64, qty int) error {
	if qty < 0 || qty > MaxReserveQuantity {
		return errs.InvalidField("quantity", "must be from 0 to %d", MaxReserveQuantity)
	}
	if qty == 0 {
		return nil
	}
	res := tx.Exec(`UPDATE products SET stock = CASE WHEN one_of_a_kind <> 0 AND stock + ? > 1 THEN 1 ELSE stock + ? END
		WHERE id = ?`, qty, qty, productID)
	if res.Error != nil {
		return fmt.Errorf("release %d of product %d: %w", qty, productID, res.Error)
	}
	if res.RowsAffected == 0 {
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM products WHERE id = ?", productID).Scan(&n).Error; err != nil {
			return fmt.Errorf("release %d of product %d: %w", qty, productID, err)
		}
		if n == 0 {
			return errs.E(errs.NotFound, "no such product")
		}
	}
	return nil
}
