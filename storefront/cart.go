package storefront

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// The cart's limits.
const (
	// MaxCartLines bounds the products of one cart: as many as one order
	// may hold.
	MaxCartLines = maxOrderLines
	// MaxCartQuantity bounds the quantity of one cart line, as of one
	// order line.
	MaxCartQuantity = MaxReserveQuantity
	// GuestCartTTL is how long a guest's cart lives untouched before the
	// sweep deletes it.
	GuestCartTTL = 30 * 24 * time.Hour
)

// CartOwner says whose cart: a signed-in buyer's (UserID) or a guest's,
// found by the random token of its cookie (Token; only its hash is
// stored). A zero CartOwner has no cart.
type CartOwner struct {
	UserID int64
	Token  string
}

// GuestCart is the owner of the guest cart of token.
func GuestCart(token string) CartOwner { return CartOwner{Token: token} }

// BuyerCart is the owner of a signed-in buyer's cart.
func BuyerCart(userID int64) CartOwner { return CartOwner{UserID: userID} }

// valid reports whether the owner names a cart at all: a buyer, or a guest
// token of the form NewCartToken makes (anything else is never looked up).
func (o CartOwner) valid() bool { return o.UserID > 0 || ValidCartToken(o.Token) }

// cartTokenLen is the length of a token NewCartToken makes: 32 random bytes
// in unpadded base64url.
const cartTokenLen = 43

// NewCartToken returns a new random guest cart token for the cookie.
func NewCartToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("cart token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// ValidCartToken reports whether s is shaped like a token of NewCartToken.
func ValidCartToken(s string) bool {
	if len(s) != cartTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// CartLineStatus says whether a cart line can be ordered as it stands.
type CartLineStatus string

// The cart line statuses. Only ok lines are ordered from a cart; the
// others stay in it, flagged, until the buyer mends or removes them.
const (
	CartLineOK          CartLineStatus = "ok"          // in stock, or made to order
	CartLineLimited     CartLineStatus = "limited"     // fewer pieces left than asked for (Available)
	CartLineSoldOut     CartLineStatus = "sold_out"    // none left, and not made to order
	CartLineUnavailable CartLineStatus = "unavailable" // unpublished, archived, or its cooperative suspended
)

// CartLine is one product of a cart, priced and checked now.
type CartLine struct {
	ProductID int64     `json:"product_id"`
	Slug      string    `json:"slug"`
	Title     Localized `json:"title"`
	Quantity  int       `json:"quantity"`
	// UnitPrice is the product's current price in centimes (0 when it has
	// none any more); LineTotal is UnitPrice × Quantity.
	UnitPrice int64          `json:"unit_price"`
	LineTotal int64          `json:"line_total"`
	Status    CartLineStatus `json:"status"`
	// Available is the stock left; MadeToOrderDays is set for a product
	// made to order (the line may exceed the stock: the rest is made).
	Available       int  `json:"available"`
	MadeToOrderDays *int `json:"made_to_order_days,omitempty"`
	WeightG         int  `json:"weight_g"`
}

// CartGroup is the lines of one cooperative: one parcel, one fulfilment.
type CartGroup struct {
	Cooperative CooperativeRef `json:"cooperative"`
	Lines       []CartLine     `json:"lines"`
	// Subtotal counts the group's ok lines only.
	Subtotal int64 `json:"subtotal"`
}

// Cart is a buyer's cart as it stands now.
type Cart struct {
	Groups []CartGroup `json:"groups"`
	// Subtotal is the sum of the ok lines, in centimes; flagged lines are
	// not counted (they are not ordered).
	Subtotal int64  `json:"subtotal"`
	Currency string `json:"currency"`
	// Pieces counts every piece of every line; Lines the products.
	Pieces int `json:"pieces"`
	Lines  int `json:"lines"`
	// Orderable is true when at least one line can be ordered; Flagged
	// counts the lines that cannot.
	Orderable bool `json:"orderable"`
	Flagged   int  `json:"flagged"`
}

// OrderItems returns the lines that an order from this cart takes: the ok
// ones, in cart order.
func (c Cart) OrderItems() []OrderItem {
	var out []OrderItem
	for _, g := range c.Groups {
		for _, l := range g.Lines {
			if l.Status == CartLineOK {
				out = append(out, OrderItem{ProductID: l.ProductID, Quantity: l.Quantity})
			}
		}
	}
	return out
}

func emptyCart() Cart { return Cart{Groups: []CartGroup{}, Currency: Currency} }

type cartRow struct {
	ID        int64
	TokenHash *string
	UserID    *int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

func (cartRow) TableName() string { return "carts" }

// where is the condition that finds the owner's cart.
func (o CartOwner) where() (string, any) {
	if o.UserID > 0 {
		return "user_id = ?", o.UserID
	}
	return "token_hash = ?", HashAccessToken(o.Token)
}

// findCartID returns the id of the owner's cart, or 0 when it has none.
func findCartID(tx *gorm.DB, o CartOwner) (int64, error) {
	cond, arg := o.where()
	var ids []int64
	if err := tx.Model(&cartRow{}).Where(cond, arg).Limit(1).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find cart: %w", database.Translate(err))
	}
	if len(ids) == 0 {
		return 0, nil
	}
	return ids[0], nil
}

// lockCart returns the id of the owner's cart, creating it when missing,
// and holds its row locked until tx ends: one upsert that touches
// updated_at, so two requests changing one cart at the same moment take
// turns (on MySQL the row lock; on SQLite the IMMEDIATE write transaction)
// and neither reads a line the other is about to change.
func (s *Service) lockCart(tx *gorm.DB, o CartOwner, now time.Time) (int64, error) {
	var tokenHash *string
	var userID *int64
	col := "token_hash"
	if o.UserID > 0 {
		userID, col = &o.UserID, "user_id"
	} else {
		h := HashAccessToken(o.Token)
		tokenHash = &h
	}
	var q string
	if s.db.Dialect == database.MySQL {
		q = "INSERT INTO carts (token_hash, user_id, created_at, updated_at) VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE updated_at = VALUES(updated_at)"
	} else {
		q = "INSERT INTO carts (token_hash, user_id, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (" + col + ") DO UPDATE SET updated_at = excluded.updated_at"
	}
	if err := tx.Exec(q, tokenHash, userID, now, now).Error; err != nil {
		return 0, fmt.Errorf("open cart: %w", err)
	}
	id, err := findCartID(tx, o)
	if err != nil {
		return 0, err
	}
	if id == 0 {
		return 0, fmt.Errorf("open cart: the cart row is missing after its upsert")
	}
	return id, nil
}

// cartProduct is what the cart needs to know of a product to accept it.
type cartProduct struct {
	ID                int64
	Status            ProductStatus
	Price             *int64
	Stock             int
	MadeToOrderDays   *int
	CooperativeStatus string
}

func (p cartProduct) onSale() bool {
	return p.Status == Published && p.CooperativeStatus == cooperativeVerified && p.Price != nil && *p.Price > 0
}

func loadCartProduct(tx *gorm.DB, id int64) (cartProduct, error) {
	var p cartProduct
	err := tx.Raw(`SELECT p.id, p.status, p.price, p.stock, p.made_to_order_days, c.status AS cooperative_status
		FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE p.id = ?`, id).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, errs.E(errs.NotFound, "no such product").WithExtra("field", "product_id")
	}
	if err != nil {
		return p, fmt.Errorf("read product %d for the cart: %w", id, err)
	}
	return p, nil
}

// checkQuantity says whether qty pieces of p may sit in a cart line.
func checkQuantity(p cartProduct, qty int) error {
	if !p.onSale() {
		if p.Status != Published {
			// A draft is nobody's business; an archived piece is simply gone.
			return errs.E(errs.NotFound, "no such product on sale").WithExtra("field", "product_id").WithExtra("product_id", p.ID)
		}
		return errs.E(errs.Conflict, "this product is not on sale at the moment").WithExtra("field", "product_id").WithExtra("product_id", p.ID)
	}
	if qty < 1 || qty > MaxCartQuantity {
		return errs.InvalidField("quantity", "must be from 1 to %d", MaxCartQuantity)
	}
	if p.MadeToOrderDays == nil && qty > p.Stock {
		if p.Stock == 0 {
			return errs.E(errs.Conflict, "this piece is sold out").WithExtra("field", "quantity").
				WithExtra("product_id", p.ID).WithExtra("available", 0)
		}
		e := errs.InvalidField("quantity", "only %d left: choose at most %d", p.Stock, p.Stock)
		return e.WithExtra("available", p.Stock)
	}
	return nil
}

// changeLine sets (add false) or adds to (add true) the quantity of one
// product in the owner's cart, inside one transaction that holds the cart.
func (s *Service) changeLine(ctx context.Context, o CartOwner, productID int64, qty int, add bool) (Cart, error) {
	if !o.valid() {
		return Cart{}, errs.E(errs.BadRequest, "no cart: the cart cookie is missing or malformed")
	}
	if productID <= 0 {
		return Cart{}, errs.InvalidField("product_id", "must be a product id")
	}
	if qty < 1 || qty > MaxCartQuantity {
		return Cart{}, errs.InvalidField("quantity", "must be from 1 to %d", MaxCartQuantity)
	}
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		now := s.clock()
		cartID, err := s.lockCart(tx, o, now)
		if err != nil {
			return err
		}
		var have []int
		if err := tx.Raw("SELECT quantity FROM cart_items WHERE cart_id = ? AND product_id = ?", cartID, productID).
			Scan(&have).Error; err != nil {
			return fmt.Errorf("read cart line: %w", err)
		}
		want := qty
		if add && len(have) == 1 {
			want += have[0]
		}
		p, err := loadCartProduct(tx, productID)
		if err != nil {
			return err
		}
		if err := checkQuantity(p, want); err != nil {
			return err
		}
		if len(have) == 1 {
			return tx.Exec("UPDATE cart_items SET quantity = ?, updated_at = ? WHERE cart_id = ? AND product_id = ?",
				want, now, cartID, productID).Error
		}
		var lines int64
		if err := tx.Raw("SELECT COUNT(*) FROM cart_items WHERE cart_id = ?", cartID).Scan(&lines).Error; err != nil {
			return fmt.Errorf("count cart lines: %w", err)
		}
		if lines >= MaxCartLines {
			return errs.InvalidField("product_id", "a cart holds at most %d products: order these first, or remove one", MaxCartLines)
		}
		return tx.Exec("INSERT INTO cart_items (cart_id, product_id, quantity, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
			cartID, productID, want, now, now).Error
	})
	if err != nil {
		return Cart{}, err
	}
	return s.FindCart(ctx, o)
}

// SetCartQuantity puts qty pieces of a product in the owner's cart,
// creating the cart and the line as needed. qty must be from 1 to
// MaxCartQuantity and at most the stock unless the product is made to
// order. It returns errs.Invalid naming quantity or product_id (a full
// cart), errs.NotFound for a product not on sale, errs.Conflict for a
// sold-out piece, and errs.BadRequest for an owner without a valid token.
func (s *Service) SetCartQuantity(ctx context.Context, o CartOwner, productID int64, qty int) (Cart, error) {
	return s.changeLine(ctx, o, productID, qty, false)
}

// AddToCart adds qty pieces of a product to the owner's cart (to the line
// already there, if any), under the limits and errors of SetCartQuantity.
// Two requests adding at the same moment both count.
func (s *Service) AddToCart(ctx context.Context, o CartOwner, productID int64, qty int) (Cart, error) {
	return s.changeLine(ctx, o, productID, qty, true)
}

// RemoveFromCart takes a product out of the owner's cart; removing what is
// not there is not an error.
func (s *Service) RemoveFromCart(ctx context.Context, o CartOwner, productID int64) (Cart, error) {
	if !o.valid() {
		return emptyCart(), nil
	}
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		id, err := findCartID(tx, o)
		if err != nil || id == 0 {
			return err
		}
		if err := tx.Exec("DELETE FROM cart_items WHERE cart_id = ? AND product_id = ?", id, productID).Error; err != nil {
			return fmt.Errorf("remove cart line: %w", err)
		}
		return tx.Exec("UPDATE carts SET updated_at = ? WHERE id = ?", s.clock(), id).Error
	})
	if err != nil {
		return Cart{}, err
	}
	return s.FindCart(ctx, o)
}

// ClearCart empties the owner's cart (a guest's cart row goes with it).
func (s *Service) ClearCart(ctx context.Context, o CartOwner) error {
	if !o.valid() {
		return nil
	}
	return s.db.Transact(ctx, func(tx *gorm.DB) error {
		id, err := findCartID(tx, o)
		if err != nil || id == 0 {
			return err
		}
		return deleteCart(tx, id)
	})
}

func deleteCart(tx *gorm.DB, id int64) error {
	if err := tx.Exec("DELETE FROM cart_items WHERE cart_id = ?", id).Error; err != nil {
		return fmt.Errorf("empty cart %d: %w", id, err)
	}
	if err := tx.Exec("DELETE FROM carts WHERE id = ?", id).Error; err != nil {
		return fmt.Errorf("delete cart %d: %w", id, err)
	}
	return nil
}

// cartLineRow is one line of the cart query.
type cartLineRow struct {
	ProductID         int64
	Quantity          int
	Slug              string
	Title             Localized
	Price             *int64
	Stock             int
	MadeToOrderDays   *int
	Status            ProductStatus
	WeightG           *int
	CooperativeID     int64
	CooperativeSlug   string
	CooperativeName   string
	CooperativeStatus string
}

// FindCart returns the owner's cart priced and checked now, lines grouped
// by cooperative (by name), each line flagged when it cannot be ordered as
// it stands. An owner without a cart has an empty one.
func (s *Service) FindCart(ctx context.Context, o CartOwner) (Cart, error) {
	if !o.valid() {
		return emptyCart(), nil
	}
	db := s.db.WithContext(ctx)
	id, err := findCartID(db, o)
	if err != nil || id == 0 {
		return emptyCart(), err
	}
	var rows []cartLineRow
	err = db.Raw(`SELECT ci.product_id, ci.quantity, p.slug, p.title, p.price, p.stock, p.made_to_order_days, p.status, p.weight_g,
		c.id AS cooperative_id, c.slug AS cooperative_slug, c.name AS cooperative_name, c.status AS cooperative_status
		FROM cart_items ci JOIN products p ON p.id = ci.product_id JOIN cooperatives c ON c.id = p.cooperative_id
		WHERE ci.cart_id = ? ORDER BY c.name, c.id, ci.created_at, ci.product_id`, id).Scan(&rows).Error
	if err != nil {
		return Cart{}, fmt.Errorf("read cart %d: %w", id, err)
	}
	return buildCart(rows), nil
}

func buildCart(rows []cartLineRow) Cart {
	c := emptyCart()
	var g *CartGroup
	for _, r := range rows {
		if g == nil || g.Cooperative.ID != r.CooperativeID {
			c.Groups = append(c.Groups, CartGroup{Cooperative: CooperativeRef{ID: r.CooperativeID, Slug: r.CooperativeSlug, Name: r.CooperativeName},
				Lines: []CartLine{}})
			g = &c.Groups[len(c.Groups)-1]
		}
		l := CartLine{ProductID: r.ProductID, Slug: r.Slug, Title: r.Title, Quantity: r.Quantity, Available: r.Stock,
			MadeToOrderDays: r.MadeToOrderDays, WeightG: DefaultWeightG, Status: CartLineOK}
		if r.WeightG != nil && *r.WeightG > 0 {
			l.WeightG = *r.WeightG
		}
		if r.Price != nil {
			l.UnitPrice = *r.Price
			l.LineTotal = *r.Price * int64(r.Quantity)
		}
		switch {
		case r.Status != Published || r.CooperativeStatus != cooperativeVerified || r.Price == nil || *r.Price <= 0:
			l.Status = CartLineUnavailable
		case r.MadeToOrderDays != nil:
		case r.Stock == 0:
			l.Status = CartLineSoldOut
		case r.Stock < r.Quantity:
			l.Status = CartLineLimited
		}
		if l.Status == CartLineOK {
			g.Subtotal += l.LineTotal
			c.Subtotal += l.LineTotal
			c.Orderable = true
		} else {
			c.Flagged++
		}
		c.Pieces += l.Quantity
		c.Lines++
		g.Lines = append(g.Lines, l)
	}
	return c
}

// CountCartPieces returns how many pieces the owner's cart holds, in one
// small query; an owner without a cart (or without a valid token) costs
// no query at all.
func (s *Service) CountCartPieces(ctx context.Context, o CartOwner) (int, error) {
	if !o.valid() {
		return 0, nil
	}
	cond, arg := o.where()
	var n *int64
	err := s.db.WithContext(ctx).Raw("SELECT SUM(ci.quantity) FROM cart_items ci JOIN carts c ON c.id = ci.cart_id WHERE c."+cond, arg).
		Scan(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count cart: %w", err)
	}
	if n == nil {
		return 0, nil
	}
	return int(*n), nil
}

// MergeGuestCart moves a guest's cart into a buyer's at sign-in: the
// quantities of a product in both are added, capped by its stock (unless
// made to order) and by MaxCartQuantity; a product the buyer cannot order
// now keeps the larger of the two quantities, flagged in the cart as
// before; lines past MaxCartLines are left out. The guest cart is deleted.
// A token without a cart merges nothing. It returns how many lines came
// over.
func (s *Service) MergeGuestCart(ctx context.Context, token string, userID int64) (int, error) {
	guest := GuestCart(token)
	if !guest.valid() || userID <= 0 {
		return 0, nil
	}
	moved := 0
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		moved = 0
		guestID, err := findCartID(tx, guest)
		if err != nil || guestID == 0 {
			return err
		}
		now := s.clock()
		buyerID, err := s.lockCart(tx, BuyerCart(userID), now)
		if err != nil {
			return err
		}
		type item struct {
			ProductID int64
			Quantity  int
		}
		var theirs, mine []item
		if err := tx.Raw("SELECT product_id, quantity FROM cart_items WHERE cart_id = ? ORDER BY created_at, product_id", guestID).
			Scan(&theirs).Error; err != nil {
			return fmt.Errorf("read guest cart: %w", err)
		}
		if err := tx.Raw("SELECT product_id, quantity FROM cart_items WHERE cart_id = ?", buyerID).Scan(&mine).Error; err != nil {
			return fmt.Errorf("read buyer cart: %w", err)
		}
		have := make(map[int64]int, len(mine))
		for _, it := range mine {
			have[it.ProductID] = it.Quantity
		}
		lines := len(mine)
		for _, it := range theirs {
			p, err := loadCartProduct(tx, it.ProductID)
			if err != nil {
				return err
			}
			old, exists := have[it.ProductID]
			q := mergedQuantity(p, old, it.Quantity)
			switch {
			case exists:
				err = tx.Exec("UPDATE cart_items SET quantity = ?, updated_at = ? WHERE cart_id = ? AND product_id = ?", q, now, buyerID, it.ProductID).Error
			case lines >= MaxCartLines:
				continue
			default:
				lines++
				err = tx.Exec("INSERT INTO cart_items (cart_id, product_id, quantity, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					buyerID, it.ProductID, q, now, now).Error
			}
			if err != nil {
				return fmt.Errorf("merge cart line: %w", err)
			}
			moved++
		}
		return deleteCart(tx, guestID)
	})
	return moved, err
}

// mergedQuantity is the quantity of a line in both carts after a merge.
func mergedQuantity(p cartProduct, mine, theirs int) int {
	q := mine + theirs
	if p.onSale() && p.MadeToOrderDays == nil && p.Stock > 0 {
		q = min(q, p.Stock)
	} else if !p.onSale() || p.MadeToOrderDays == nil {
		q = max(mine, theirs)
	}
	return max(1, min(q, MaxCartQuantity))
}

// RemoveOrderedFromCartTx takes the ordered pieces out of the owner's
// cart, inside the order's transaction: each item's quantity comes off its
// line (a line added to meanwhile keeps the rest) and emptied lines go.
func RemoveOrderedFromCartTx(tx *gorm.DB, o CartOwner, items []OrderItem, now time.Time) error {
	if !o.valid() || len(items) == 0 {
		return nil
	}
	id, err := findCartID(tx, o)
	if err != nil || id == 0 {
		return err
	}
	sorted := append([]OrderItem(nil), items...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ProductID < sorted[j].ProductID })
	for _, it := range sorted {
		if err := tx.Exec("DELETE FROM cart_items WHERE cart_id = ? AND product_id = ? AND quantity <= ?", id, it.ProductID, it.Quantity).Error; err != nil {
			return fmt.Errorf("remove ordered line: %w", err)
		}
		if err := tx.Exec("UPDATE cart_items SET quantity = quantity - ?, updated_at = ? WHERE cart_id = ? AND product_id = ?",
			it.Quantity, now, id, it.ProductID).Error; err != nil {
			return fmt.Errorf("reduce ordered line: %w", err)
		}
	}
	return tx.Exec("UPDATE carts SET updated_at = ? WHERE id = ?", now, id).Error
}

// RemoveOrderedFromCart is RemoveOrderedFromCartTx in a transaction of its
// own, for an order whose cart is emptied once its checkout is open.
func (s *Service) RemoveOrderedFromCart(ctx context.Context, o CartOwner, items []OrderItem) error {
	return s.db.Transact(ctx, func(tx *gorm.DB) error {
		return RemoveOrderedFromCartTx(tx, o, items, s.clock())
	})
}

// Clock returns the service's current instant as stored (UTC,
// microseconds), for callers that write inside its transactions.
func (s *Service) Clock() time.Time { return s.clock() }

// SweepGuestCarts deletes the guest carts untouched since before now −
// GuestCartTTL, a few hundred at a time. Every statement is conditional on
// the cart still being stale, so any number of instances may run it at
// once, and a cart touched meanwhile survives. It returns how many carts
// this call deleted.
func (s *Service) SweepGuestCarts(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.UTC().Add(-GuestCartTTL)
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&cartRow{}).Where("user_id IS NULL AND updated_at < ?", cutoff).
		Order("updated_at").Limit(500).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find stale carts: %w", database.Translate(err))
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var n int64
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM cart_items WHERE cart_id IN
			(SELECT id FROM carts WHERE id IN ? AND user_id IS NULL AND updated_at < ?)`, ids, cutoff).Error; err != nil {
			return fmt.Errorf("empty stale carts: %w", err)
		}
		res := tx.Exec("DELETE FROM carts WHERE id IN ? AND user_id IS NULL AND updated_at < ?", ids, cutoff)
		n = res.RowsAffected
		return res.Error
	})
	return int(n), err
}

// Checkout is an order as a buyer submits it, through the JSON API or the
// checkout page; both place it through the same code (api.Server's
// PlaceOrder).
type Checkout struct {
	// Items are the products to order; empty means the buyer's cart (its
	// ok lines), whose ordered pieces then leave the cart.
	Items           []OrderItem
	Email           string
	ShippingAddress Address
	PaymentMethod   OrderPaymentMethod
	IdempotencyKey  string
	// Buyer is the signed-in caller, nil for a guest.
	Buyer *account.Principal
	// CartToken is a guest's cart cookie, to order from its cart.
	CartToken string
	// AccessToken, for a guest, is the secret link token to use; empty
	// makes a random one. The checkout page derives it from its
	// idempotency key, so a repeated submit keeps the first link working.
	AccessToken string
	// Lang is the language of the e-mail and of the pages the card
	// checkout returns to; empty is French.
	Lang string
}

// CartOwner is the cart an order without items is taken from.
func (c Checkout) CartOwner() CartOwner {
	if c.Buyer != nil {
		return BuyerCart(c.Buyer.UserID)
	}
	return GuestCart(c.CartToken)
}

// CheckoutResult is a placed order as its buyer sees it.
type CheckoutResult struct {
	Order Order
	// CheckoutURL is the card payment page, for a card order.
	CheckoutURL string
	// AccessToken opens a guest's order (?token=).
	AccessToken string
	// Replayed is true when the idempotency key named an order placed
	// before.
	Replayed bool
}

// FindOrderByKey returns the order placed before with in's idempotency key
// (scoped to its buyer, or to its e-mail for a guest), and whether there is
// one: a repeated checkout from a cart the first one emptied answers it.
func (s *Service) FindOrderByKey(ctx context.Context, in OrderInput) (PlacedOrder, bool, error) {
	in.Email = strings.TrimSpace(in.Email)
	key := in.scopedKey()
	if key == nil {
		return PlacedOrder{}, false, nil
	}
	return s.findByKey(ctx, *key)
}

// CooperativeNames returns the names of the cooperatives of ids, for the
// parcels of an order page.
func (s *Service) CooperativeNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Name string
	}
	if err := s.db.WithContext(ctx).Raw("SELECT id, name FROM cooperatives WHERE id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read cooperative names: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}
