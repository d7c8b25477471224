package storefront

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// OrderStatus is where an order stands with its money; where each parcel
// stands is its fulfilment's status. The two move like this:
//
//	card: pending_payment → paid (the signed webhook; parcels waiting → to_ship)
//	                      → expired | cancelled (stock back, parcels cancelled)
//	cod:  confirmed (parcels to_ship) → paid when every parcel is delivered
//	                                  → cancelled before any parcel ships
//	parcel: waiting → to_ship → shipped → delivered; or cancelled before it ships
//
// Refunds do not change either status: they are rows of order_refunds and
// lines of the cooperatives' ledgers (ledger.go).
type OrderStatus string

// The order statuses.
const (
	OrderPendingPayment OrderStatus = "pending_payment" // card: stock held until the checkout is paid or expires
	OrderConfirmed      OrderStatus = "confirmed"       // cash on delivery: to ship, paid to the courier
	OrderPaid           OrderStatus = "paid"            // card: paid, as Stripe's signed webhook said; cod: every parcel delivered and paid
	OrderCancelled      OrderStatus = "cancelled"       // cancelled before shipment; stock returned
	OrderExpired        OrderStatus = "expired"         // card checkout never paid; stock returned
)

// FulfilmentStatus is where one cooperative's parcel of an order stands.
type FulfilmentStatus string

// The fulfilment statuses.
const (
	FulfilmentWaiting   FulfilmentStatus = "waiting"   // the order is not paid yet: do not ship
	FulfilmentToShip    FulfilmentStatus = "to_ship"   // paid or cash on delivery: pack and ship
	FulfilmentShipped   FulfilmentStatus = "shipped"   // handed to the carrier
	FulfilmentDelivered FulfilmentStatus = "delivered" // in the buyer's hands (cash on delivery: paid)
	FulfilmentCancelled FulfilmentStatus = "cancelled" // the order was cancelled or expired
)

// OrderPaymentMethod is how an order is paid.
type OrderPaymentMethod string

// The payment methods of an order.
const (
	PayByCard OrderPaymentMethod = "card"
	PayOnCOD  OrderPaymentMethod = "cod"
)

// CardOrderTTL is how long a card order holds its stock before it expires
// unpaid, at least.
const CardOrderTTL = 30 * time.Minute

// maxOrderLines bounds the lines of one order.
const maxOrderLines = 50

// Address is where an order is shipped.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"` // ISO 3166 alpha-2
	Phone      string `json:"phone"`
}

// OrderItem is a product and a quantity asked for.
type OrderItem struct {
	ProductID int64 `json:"product_id"`
	Quantity  int   `json:"quantity"`
}

// Order is a buyer's order of products from one or more cooperatives.
type Order struct {
	ID            int64              `json:"id"`
	Number        string             `json:"number"`
	Status        OrderStatus        `json:"status"`
	PaymentMethod OrderPaymentMethod `json:"payment_method"`
	BuyerID       *int64             `json:"buyer_id,omitempty"`
	Email         string             `json:"email"`
	// Lang is the language the order was placed in (ar, fr, en): its
	// e-mails are written in it.
	Lang            string       `json:"lang"`
	Subtotal        int64        `json:"subtotal"`
	Shipping        int64        `json:"shipping"`
	Total           int64        `json:"total"`
	Currency        string       `json:"currency"`
	ShippingAddress Address      `json:"shipping_address"`
	ExpiresAt       *time.Time   `json:"expires_at,omitempty"`
	PaidAt          *time.Time   `json:"paid_at,omitempty"`
	CancelledAt     *time.Time   `json:"cancelled_at,omitempty"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	Lines           []OrderLine  `json:"lines"`
	Fulfilments     []Fulfilment `json:"fulfilments"`

	accessTokenHash string
}

// OrderLine is one product of an order, with its price when ordered.
type OrderLine struct {
	ID            int64  `json:"id"`
	FulfilmentID  int64  `json:"fulfilment_id"`
	ProductID     int64  `json:"product_id"`
	CooperativeID int64  `json:"cooperative_id"`
	Title         string `json:"title"`
	UnitPrice     int64  `json:"unit_price"`
	Quantity      int    `json:"quantity"`
	// FromStock is how many pieces were taken from stock; the others are
	// made to order. Exactly these go back when the order ends unpaid.
	FromStock int   `json:"from_stock"`
	LineTotal int64 `json:"line_total"`
	WeightG   int   `json:"weight_g"`
	Fragile   bool  `json:"fragile"`
	// CommissionBPS and Commission are the platform's commission on the
	// line, fixed when it was ordered (CommissionOf). They are shown to
	// the cooperative only, never in the buyer's order.
	CommissionBPS int   `json:"commission_bps,omitempty"`
	Commission    int64 `json:"commission,omitempty"`
}

// Fulfilment is the part of an order one cooperative packs and ships.
type Fulfilment struct {
	ID             int64            `json:"id"`
	OrderID        int64            `json:"order_id"`
	CooperativeID  int64            `json:"cooperative_id"`
	Status         FulfilmentStatus `json:"status"`
	Subtotal       int64            `json:"subtotal"`
	Shipping       int64            `json:"shipping"`
	WeightG        int              `json:"weight_g"`
	Carrier        string           `json:"carrier,omitempty"`
	TrackingNumber string           `json:"tracking_number,omitempty"`
	ShippedAt      *time.Time       `json:"shipped_at,omitempty"`
	DeliveredAt    *time.Time       `json:"delivered_at,omitempty"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
}

// CooperativeFulfilment is a fulfilment as its cooperative sees it: what
// to ship, where, for which order.
type CooperativeFulfilment struct {
	Fulfilment
	OrderNumber     string      `json:"order_number"`
	OrderStatus     OrderStatus `json:"order_status"`
	ShippingAddress Address     `json:"shipping_address"`
	Lines           []OrderLine `json:"lines"`
}

// orderRow is the orders table.
type orderRow struct {
	ID              int64
	Number          *string
	BuyerID         *int64
	Email           string
	AccessTokenHash *string
	IdempotencyKey  *string
	Status          OrderStatus
	PaymentMethod   OrderPaymentMethod
	Subtotal        int64
	Shipping        int64
	Total           int64
	Currency        string
	ShipName        string
	ShipLine1       string
	ShipLine2       string
	ShipCity        string
	ShipPostalCode  string
	ShipCountry     string
	ShipPhone       string
	Lang            string
	ExpiresAt       *time.Time
	PaidAt          *time.Time
	CancelledAt     *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (orderRow) TableName() string { return "orders" }

type fulfilmentRow struct {
	ID             int64
	OrderID        int64
	CooperativeID  int64
	Status         FulfilmentStatus
	Subtotal       int64
	Shipping       int64
	WeightG        int
	Carrier        string
	TrackingNumber string
	ShippedAt      *time.Time
	DeliveredAt    *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (fulfilmentRow) TableName() string { return "fulfilments" }

type orderLineRow struct {
	ID            int64
	OrderID       int64
	FulfilmentID  int64
	ProductID     int64
	CooperativeID int64
	Title         string
	UnitPrice     int64
	Quantity      int
	FromStock     int
	LineTotal     int64
	WeightG       int
	Fragile       bool
	CommissionBPS int `gorm:"column:commission_bps"`
	Commission    int64
}

func (orderLineRow) TableName() string { return "order_lines" }

func (r orderRow) order() Order {
	o := Order{
		ID: r.ID, Status: r.Status, PaymentMethod: r.PaymentMethod, BuyerID: r.BuyerID, Email: r.Email,
		Subtotal: r.Subtotal, Shipping: r.Shipping, Total: r.Total, Currency: r.Currency,
		ShippingAddress: Address{Name: r.ShipName, Line1: r.ShipLine1, Line2: r.ShipLine2, City: r.ShipCity,
			PostalCode: r.ShipPostalCode, Country: r.ShipCountry, Phone: r.ShipPhone},
		ExpiresAt: utcPtr(r.ExpiresAt), PaidAt: utcPtr(r.PaidAt), CancelledAt: utcPtr(r.CancelledAt),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Lines: []OrderLine{}, Fulfilments: []Fulfilment{},
		Lang: r.Lang,
	}
	if r.Number != nil {
		o.Number = *r.Number
	}
	if r.AccessTokenHash != nil {
		o.accessTokenHash = *r.AccessTokenHash
	}
	return o
}

func (r fulfilmentRow) fulfilment() Fulfilment {
	return Fulfilment{ID: r.ID, OrderID: r.OrderID, CooperativeID: r.CooperativeID, Status: r.Status, Subtotal: r.Subtotal,
		Shipping: r.Shipping, WeightG: r.WeightG, Carrier: r.Carrier, TrackingNumber: r.TrackingNumber,
		ShippedAt: utcPtr(r.ShippedAt), DeliveredAt: utcPtr(r.DeliveredAt), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

func (r orderLineRow) line() OrderLine {
	return OrderLine{ID: r.ID, FulfilmentID: r.FulfilmentID, ProductID: r.ProductID, CooperativeID: r.CooperativeID,
		Title: r.Title, UnitPrice: r.UnitPrice, Quantity: r.Quantity, FromStock: r.FromStock, LineTotal: r.LineTotal,
		WeightG: r.WeightG, Fragile: r.Fragile}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// HashAccessToken returns the form in which a guest's access token is
// stored: hex SHA-256. The token itself is random, so a plain hash is
// enough.
func HashAccessToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// TokenOpens reports whether token is the order's guest access token. An
// order without one (a signed-in buyer's) opens with no token.
func (o Order) TokenOpens(token string) bool {
	if o.accessTokenHash == "" || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(HashAccessToken(token)), []byte(o.accessTokenHash)) == 1
}

// OrderInput is an order to place. The amounts are never taken from the
// buyer: they are computed from the products and the shipping rates.
type OrderInput struct {
	Items           []OrderItem
	Email           string
	ShippingAddress Address
	PaymentMethod   OrderPaymentMethod
	// BuyerID is the signed-in buyer the order belongs to; nil for a guest.
	BuyerID *int64
	// AccessToken is the guest's secret link token; only its hash is
	// stored. Required for a guest, ignored for a signed-in buyer.
	AccessToken string
	// IdempotencyKey, when set, makes the same request return the same
	// order: it is scoped to the buyer, or to the e-mail for a guest.
	IdempotencyKey string
	// COD is the cash-on-delivery policy; the zero value is the default.
	COD payment.CODPolicy
	// Lang is the buyer's language (ar, fr, en) for the order's e-mails;
	// anything else is French.
	Lang string
	// OnPlaced, when set, runs inside the order's transaction once the
	// order is stored (to record its cash-on-delivery payment): its error
	// undoes the whole order. It may run more than once when the
	// transaction is retried.
	OnPlaced func(tx *gorm.DB, o Order) error
}

// PlacedOrder is the answer of PlaceOrder.
type PlacedOrder struct {
	Order
	// Replayed is true when the idempotency key named an order placed
	// before: nothing was reserved again.
	Replayed bool
}

func validateItems(f *errs.Fields, items []OrderItem) {
	if len(items) == 0 {
		f.Add("items", "must hold at least one product")
		return
	}
	if len(items) > maxOrderLines {
		f.Add("items", "must hold at most %d lines", maxOrderLines)
		return
	}
	seen := map[int64]int{}
	for i, it := range items {
		if it.ProductID <= 0 {
			f.Add(fmt.Sprintf("items[%d].product_id", i), "is required")
		} else if j, dup := seen[it.ProductID]; dup {
			f.Add(fmt.Sprintf("items[%d].product_id", i), "repeats items[%d]: give one line per product", j)
		} else {
			seen[it.ProductID] = i
		}
		if it.Quantity < 1 || it.Quantity > MaxReserveQuantity {
			f.Add(fmt.Sprintf("items[%d].quantity", i), "must be from 1 to %d", MaxReserveQuantity)
		}
	}
}

func textField(f *errs.Fields, name, v string, required bool, maxLen int) {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		f.Add(name, "is required")
	case utf8.RuneCountInString(v) > maxLen:
		f.Add(name, "must be at most %d characters", maxLen)
	case strings.ContainsAny(v, "\x00\r\n"):
		f.Add(name, "must be one line of text")
	}
}

func validPhone(s string) bool {
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == ' ', r == '-', r == '.', r == '(', r == ')':
		default:
			return false
		}
	}
	return digits >= 6 && digits <= 15
}

// validate checks everything that needs no database and normalizes the
// input in place.
func (in *OrderInput) validate() error {
	var f errs.Fields
	validateItems(&f, in.Items)
	in.Email = strings.TrimSpace(in.Email)
	if in.Email == "" {
		f.Add("email", "is required: the receipt and the tracking number are sent there")
	} else if a, err := mail.ParseAddress(in.Email); err != nil || a.Address != in.Email || len(in.Email) > 254 {
		f.Add("email", "must be a plain e-mail address such as name@example.com")
	}
	a := &in.ShippingAddress
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	textField(&f, "shipping_address.name", a.Name, true, 200)
	textField(&f, "shipping_address.line1", a.Line1, true, 200)
	textField(&f, "shipping_address.line2", a.Line2, false, 200)
	textField(&f, "shipping_address.city", a.City, true, 100)
	textField(&f, "shipping_address.postal_code", a.PostalCode, true, 20)
	if !ValidCountry(a.Country) {
		f.Add("shipping_address.country", "must be an ISO 3166 alpha-2 code such as MA or FR")
	}
	a.Phone = strings.TrimSpace(a.Phone)
	if a.Phone == "" {
		f.Add("shipping_address.phone", "is required: the carrier calls before delivering")
	} else if !validPhone(a.Phone) {
		f.Add("shipping_address.phone", "must be a phone number such as +33 6 12 34 56 78")
	}
	switch in.PaymentMethod {
	case PayByCard, PayOnCOD:
	default:
		f.Add("payment_method", "must be card or cod")
	}
	if in.BuyerID == nil && in.AccessToken == "" {
		f.Add("access_token", "is required for a guest order")
	}
	if len(in.IdempotencyKey) > 200 {
		f.Add("Idempotency-Key", "must be at most 200 characters")
	}
	for _, s := range []*string{&a.Name, &a.Line1, &a.Line2, &a.City, &a.PostalCode} {
		*s = strings.TrimSpace(*s)
	}
	return f.Err()
}

// scopedKey is the stored idempotency key: the client's key scoped to the
// buyer, or to the guest's e-mail, so that two people's keys never meet.
func (in OrderInput) scopedKey() *string {
	if in.IdempotencyKey == "" {
		return nil
	}
	var k string
	if in.BuyerID != nil {
		k = fmt.Sprintf("u%d:%s", *in.BuyerID, in.IdempotencyKey)
	} else {
		sum := sha256.Sum256([]byte(strings.ToLower(in.Email)))
		k = "g" + hex.EncodeToString(sum[:8]) + ":" + in.IdempotencyKey
	}
	return &k
}

// orderProduct is what an order needs of a product.
type orderProduct struct {
	ID            int64
	CooperativeID int64
	Title         Localized
	Price         *int64
	WeightG       *int
	Fragile       bool
}

// loadOrderProducts reads the products of items; an unknown product is
// errs.Invalid naming its line.
func loadOrderProducts(tx *gorm.DB, items []OrderItem) (map[int64]orderProduct, error) {
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ProductID
	}
	var rows []orderProduct
	err := tx.Raw(`SELECT p.id, p.cooperative_id, p.title, p.price, p.weight_g, c.fragile
		FROM products p JOIN crafts c ON c.slug = p.craft WHERE p.id IN ?`, ids).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read ordered products: %w", err)
	}
	byID := make(map[int64]orderProduct, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	var f errs.Fields
	for i, it := range items {
		if _, ok := byID[it.ProductID]; !ok {
			f.Add(fmt.Sprintf("items[%d].product_id", i), "no such product")
		}
	}
	return byID, f.Err()
}

func (p orderProduct) weight() int {
	if p.WeightG == nil || *p.WeightG <= 0 {
		return DefaultWeightG
	}
	return *p.WeightG
}

// parcel is what one cooperative ships of an order.
type parcel struct {
	cooperativeID int64
	weightG       int
	fragileLines  int
}

// groupParcels groups items by cooperative, in cooperative id order.
func groupParcels(items []OrderItem, prods map[int64]orderProduct) []parcel {
	by := map[int64]*parcel{}
	for _, it := range items {
		p := prods[it.ProductID]
		pc := by[p.CooperativeID]
		if pc == nil {
			pc = &parcel{cooperativeID: p.CooperativeID}
			by[p.CooperativeID] = pc
		}
		pc.weightG += p.weight() * it.Quantity
		if p.Fragile {
			pc.fragileLines++
		}
	}
	out := make([]parcel, 0, len(by))
	for _, pc := range by {
		out = append(out, *pc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cooperativeID < out[j].cooperativeID })
	return out
}

// OrderNumber formats the public number of an order: SOUK-2026-000123,
// the year it was placed (Africa/Casablanca) and its id.
func OrderNumber(id int64, placed time.Time) string {
	return fmt.Sprintf("SOUK-%d-%06d", placed.In(Zone).Year(), id)
}

// PlaceOrder places an order in one transaction: it prices every line from
// the product (a snapshot), reserves the stock of every line (DESIGN rule
// 2: a sold-out piece fails the whole order, and nothing is written), adds
// one parcel per cooperative priced from the shipping rates, and stores the
// order, its lines and its fulfilments. A cash-on-delivery order is
// confirmed at once; a card order waits for payment until at least
// now+CardOrderTTL. With an idempotency key already used by the same
// buyer, it returns that order and reserves nothing.
//
// It returns errs.Invalid naming each bad field (items[i].quantity,
// shipping_address.country…), errs.Conflict naming the product when a
// piece is sold out or no longer on sale (Extra product_id), and
// errs.Conflict for an idempotency key used for another e-mail.
func (s *Service) PlaceOrder(ctx context.Context, in OrderInput) (PlacedOrder, error) {
	if err := in.validate(); err != nil {
		return PlacedOrder{}, err
	}
	key := in.scopedKey()
	if key != nil {
		if o, ok, err := s.findByKey(ctx, *key); err != nil || ok {
			return o, err
		}
	}
	var id int64
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var err error
		id, err = s.placeOrderTx(tx, in, key)
		return err
	})
	if err != nil {
		if key != nil && (database.IsDuplicate(err) || errs.Is(err, errs.Conflict)) {
			// The same key raced us and won: answer its order. Its stock
			// may be what made ours sold out, and its certification on
			// another Galera node may come before our insert meets the key.
			if o, ok, ferr := s.findByKey(ctx, *key); ferr == nil && ok {
				return o, nil
			}
		}
		return PlacedOrder{}, fmt.Errorf("place order: %w", err)
	}
	o, err := s.FindOrder(ctx, id)
	if err != nil {
		return PlacedOrder{}, err
	}
	return PlacedOrder{Order: o}, nil
}

func (s *Service) findByKey(ctx context.Context, key string) (PlacedOrder, bool, error) {
	var id int64
	err := s.db.WithContext(ctx).Raw("SELECT id FROM orders WHERE idempotency_key = ?", key).Scan(&id).Error
	if err != nil {
		return PlacedOrder{}, false, fmt.Errorf("find order by idempotency key: %w", database.Translate(err))
	}
	if id == 0 {
		return PlacedOrder{}, false, nil
	}
	o, err := s.FindOrder(ctx, id)
	if err != nil {
		return PlacedOrder{}, false, err
	}
	return PlacedOrder{Order: o, Replayed: true}, true, nil
}

func (s *Service) placeOrderTx(tx *gorm.DB, in OrderInput, key *string) (int64, error) {
	prods, err := loadOrderProducts(tx, in.Items)
	if err != nil {
		return 0, err
	}
	now := s.clock()
	zone := ZoneOf(in.ShippingAddress.Country)

	// Price everything first, so that a bad order reserves nothing.
	var subtotal, shipping int64
	coopSubtotal := map[int64]int64{}
	for i, it := range in.Items {
		p := prods[it.ProductID]
		if p.Price == nil || *p.Price <= 0 {
			return 0, errs.E(errs.Conflict, "%q is not on sale", p.Title.In("fr")).WithExtra("product_id", p.ID).
				WithExtra("field", fmt.Sprintf("items[%d].product_id", i))
		}
		line := *p.Price * int64(it.Quantity)
		subtotal += line
		coopSubtotal[p.CooperativeID] += line
	}
	parcels := groupParcels(in.Items, prods)
	parcelCost := make(map[int64]int64, len(parcels))
	for _, pc := range parcels {
		amount, err := parcelPrice(tx, zone, pc.weightG, pc.fragileLines)
		if err != nil {
			return 0, err
		}
		parcelCost[pc.cooperativeID] = amount
		shipping += amount
	}
	total := subtotal + shipping
	status := OrderPendingPayment
	fstatus := FulfilmentWaiting
	var expires *time.Time
	switch in.PaymentMethod {
	case PayOnCOD:
		if err := in.COD.Validate(payment.CODRequest{Country: in.ShippingAddress.Country, Phone: in.ShippingAddress.Phone,
			Total: payment.MAD(total)}); err != nil {
			return 0, err
		}
		status, fstatus = OrderConfirmed, FulfilmentToShip
	case PayByCard:
		if total > payment.MaxCheckoutTotal {
			return 0, errs.InvalidField("payment_method", "a card payment is at most %s; this order comes to %s: split it",
				payment.MAD(payment.MaxCheckoutTotal).Format("fr"), payment.MAD(total).Format("fr"))
		}
		t := now.Add(CardOrderTTL)
		expires = &t
	}

	// Reserve in product id order: two multi-line orders never wait on
	// each other's rows in opposite orders.
	order := make([]int, len(in.Items))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return in.Items[order[a]].ProductID < in.Items[order[b]].ProductID })
	fromStock := make([]int, len(in.Items))
	for _, i := range order {
		it := in.Items[i]
		n, err := ReserveStock(tx, it.ProductID, it.Quantity)
		if err != nil {
			if e := errs.As(err); e != nil && e.Code == errs.Conflict {
				title := prods[it.ProductID].Title.In("fr")
				msg := fmt.Sprintf("%q is sold out", title)
				if avail, ok := e.Extra["available"].(int); ok && avail > 0 {
					msg = fmt.Sprintf("only %d of %q left", avail, title)
				}
				if strings.Contains(e.Message, "no longer on sale") {
					msg = fmt.Sprintf("%q is no longer on sale", title)
				}
				ce := errs.E(errs.Conflict, "%s", msg).WithExtra("product_id", it.ProductID).
					WithExtra("field", fmt.Sprintf("items[%d].product_id", i))
				if avail, ok := e.Extra["available"]; ok {
					ce = ce.WithExtra("available", avail)
				}
				return 0, ce
			}
			if errs.Is(err, errs.Invalid) {
				return 0, errs.InvalidField(fmt.Sprintf("items[%d].quantity", i), "must be from 1 to %d", MaxReserveQuantity)
			}
			return 0, err
		}
		fromStock[i] = n
	}

	row := orderRow{
		BuyerID: in.BuyerID, Email: in.Email, IdempotencyKey: key, Status: status, PaymentMethod: in.PaymentMethod,
		Subtotal: subtotal, Shipping: shipping, Total: total, Currency: Currency,
		ShipName: in.ShippingAddress.Name, ShipLine1: in.ShippingAddress.Line1, ShipLine2: in.ShippingAddress.Line2,
		ShipCity: in.ShippingAddress.City, ShipPostalCode: in.ShippingAddress.PostalCode,
		ShipCountry: in.ShippingAddress.Country, ShipPhone: in.ShippingAddress.Phone,
		ExpiresAt: expires, CreatedAt: now, UpdatedAt: now, Lang: orderLang(in.Lang),
	}
	if in.BuyerID == nil {
		h := HashAccessToken(in.AccessToken)
		row.AccessTokenHash = &h
	}
	if err := tx.Omit("Number").Create(&row).Error; err != nil {
		return 0, fmt.Errorf("insert order: %w", database.Translate(err))
	}
	number := OrderNumber(row.ID, now)
	if err := tx.Model(&orderRow{}).Where("id = ?", row.ID).Update("number", number).Error; err != nil {
		return 0, fmt.Errorf("number order %d: %w", row.ID, err)
	}
	fids := map[int64]int64{}
	for _, pc := range parcels {
		f := fulfilmentRow{OrderID: row.ID, CooperativeID: pc.cooperativeID, Status: fstatus, Subtotal: coopSubtotal[pc.cooperativeID],
			Shipping: parcelCost[pc.cooperativeID], WeightG: pc.weightG, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&f).Error; err != nil {
			return 0, fmt.Errorf("insert fulfilment: %w", err)
		}
		fids[pc.cooperativeID] = f.ID
	}
	lines := make([]orderLineRow, len(in.Items))
	for i, it := range in.Items {
		p := prods[it.ProductID]
		title := p.Title.In("fr")
		if utf8.RuneCountInString(title) > 250 {
			title = string([]rune(title)[:250])
		}
		lines[i] = orderLineRow{OrderID: row.ID, FulfilmentID: fids[p.CooperativeID], ProductID: p.ID, CooperativeID: p.CooperativeID,
			Title: title, UnitPrice: *p.Price, Quantity: it.Quantity, FromStock: fromStock[i],
			LineTotal: *p.Price * int64(it.Quantity), WeightG: p.weight(), Fragile: p.Fragile,
			CommissionBPS: s.commissionBPS, Commission: CommissionOf(*p.Price*int64(it.Quantity), s.commissionBPS)}
	}
	if err := tx.Create(&lines).Error; err != nil {
		return 0, fmt.Errorf("insert order lines: %w", err)
	}
	if in.OnPlaced != nil {
		o, err := findOrder(tx, row.ID)
		if err != nil {
			return 0, err
		}
		if err := in.OnPlaced(tx, o); err != nil {
			return 0, err
		}
	}
	return row.ID, nil
}

// FindOrder returns an order with its lines and fulfilments, or
// errs.NotFound. Who may see it is the caller's question (CanSeeOrder).
func (s *Service) FindOrder(ctx context.Context, id int64) (Order, error) {
	return findOrder(s.db.WithContext(ctx), id)
}

func findOrder(tx *gorm.DB, id int64) (Order, error) {
	var r orderRow
	if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return Order{}, errs.E(errs.NotFound, "no such order")
		}
		return Order{}, fmt.Errorf("find order %d: %w", id, database.Translate(err))
	}
	o := r.order()
	var fs []fulfilmentRow
	if err := tx.Where("order_id = ?", id).Order("cooperative_id").Find(&fs).Error; err != nil {
		return Order{}, fmt.Errorf("find fulfilments of order %d: %w", id, err)
	}
	for _, f := range fs {
		o.Fulfilments = append(o.Fulfilments, f.fulfilment())
	}
	var ls []orderLineRow
	if err := tx.Where("order_id = ?", id).Order("id").Find(&ls).Error; err != nil {
		return Order{}, fmt.Errorf("find lines of order %d: %w", id, err)
	}
	for _, l := range ls {
		o.Lines = append(o.Lines, l.line())
	}
	return o, nil
}

// CanSeeOrder reports whether the caller (nil for anonymous) or the holder
// of token may see an order: its buyer, an administrator, or a guest with
// the order's secret link.
func CanSeeOrder(p *account.Principal, o Order, token string) bool {
	if p != nil && (p.IsAdmin() || (o.BuyerID != nil && *o.BuyerID == p.UserID)) {
		return true
	}
	return o.TokenOpens(token)
}

// releaseLines gives back the stock an order's lines took, in product id
// order, inside tx.
func releaseLines(tx *gorm.DB, orderID int64) error {
	var ls []orderLineRow
	if err := tx.Where("order_id = ?", orderID).Order("product_id").Find(&ls).Error; err != nil {
		return fmt.Errorf("read lines of order %d: %w", orderID, err)
	}
	for _, l := range ls {
		if err := ReleaseStock(tx, l.ProductID, l.FromStock); err != nil {
			return fmt.Errorf("release stock of order %d: %w", orderID, err)
		}
	}
	return nil
}

// endOrder moves an order from one of from to status (expired or
// cancelled) with one conditional update, and only when that update won,
// gives its stock back and cancels its fulfilments: whoever runs it, on
// whichever instance, the stock returns once. extra narrows the update
// (an expiry time, no shipped parcel).
func endOrder(tx *gorm.DB, id int64, to OrderStatus, from []OrderStatus, now time.Time, extra string, args ...any) (bool, error) {
	q := tx.Model(&orderRow{}).Where("id = ? AND status IN ?", id, from)
	if extra != "" {
		q = q.Where(extra, args...)
	}
	set := map[string]any{"status": to, "updated_at": now}
	if to == OrderCancelled {
		set["cancelled_at"] = now
	}
	res := q.Updates(set)
	if res.Error != nil {
		return false, fmt.Errorf("end order %d: %w", id, database.Translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return false, nil
	}
	if err := releaseLines(tx, id); err != nil {
		return false, err
	}
	if err := tx.Model(&fulfilmentRow{}).Where("order_id = ? AND status NOT IN ?", id, []FulfilmentStatus{FulfilmentShipped, FulfilmentDelivered}).
		Updates(map[string]any{"status": FulfilmentCancelled, "updated_at": now}).Error; err != nil {
		return false, fmt.Errorf("cancel fulfilments of order %d: %w", id, err)
	}
	return true, nil
}

// ExpireOrderTx ends an unpaid card order whose checkout closed without
// payment (checkout.session.expired), inside tx: the order becomes expired
// and its stock comes back, once. An order already paid, cancelled or
// expired is left alone and changed is false.
func (s *Service) ExpireOrderTx(ctx context.Context, tx *gorm.DB, id int64) (changed bool, err error) {
	return endOrder(tx.WithContext(ctx), id, OrderExpired, []OrderStatus{OrderPendingPayment}, s.clock(), "")
}

// ExpireOrders ends the card orders still unpaid past their expiry and
// gives their stock back. Each order ends in its own short transaction
// through a conditional update, so any number of instances may run it at
// once: each order expires, and its stock returns, once. It returns how
// many orders this call expired.
func (s *Service) ExpireOrders(ctx context.Context, now time.Time) (int, error) {
	now = now.UTC().Truncate(time.Microsecond)
	var ids []int64
	if err := s.db.WithContext(ctx).Model(&orderRow{}).Where("status = ? AND expires_at <= ?", OrderPendingPayment, now).
		Order("expires_at").Limit(200).Pluck("id", &ids).Error; err != nil {
		return 0, fmt.Errorf("find expired orders: %w", database.Translate(err))
	}
	n := 0
	for _, id := range ids {
		var changed bool
		err := s.db.Transact(ctx, func(tx *gorm.DB) error {
			var err error
			changed, err = endOrder(tx, id, OrderExpired, []OrderStatus{OrderPendingPayment}, now, "expires_at <= ?", now)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("expire order %d: %w", id, err)
		}
		if changed {
			n++
		}
	}
	return n, nil
}

// MarkOrderPaidTx records inside tx that a card order's payment went
// through (from the signed webhook only, rule 4): pending_payment → paid,
// its parcels ready to ship. It is idempotent: an order already paid
// reports lost=false and changes nothing. An order that expired or was
// cancelled before the money arrived has given its stock back: lost is
// true and the caller refunds the payment.
func (s *Service) MarkOrderPaidTx(ctx context.Context, tx *gorm.DB, id int64) (lost bool, err error) {
	tx = tx.WithContext(ctx)
	now := s.clock()
	res := tx.Model(&orderRow{}).Where("id = ? AND status = ?", id, OrderPendingPayment).
		Updates(map[string]any{"status": OrderPaid, "paid_at": now, "updated_at": now})
	if res.Error != nil {
		return false, fmt.Errorf("mark order %d paid: %w", id, database.Translate(res.Error))
	}
	if res.RowsAffected == 1 {
		if err := tx.Model(&fulfilmentRow{}).Where("order_id = ? AND status = ?", id, FulfilmentWaiting).
			Updates(map[string]any{"status": FulfilmentToShip, "updated_at": now}).Error; err != nil {
			return false, fmt.Errorf("release fulfilments of order %d: %w", id, err)
		}
		// The money is in: each cooperative's sale and the commission on
		// it enter its ledger, once (unique entry keys).
		if err := bookOrderSales(tx, id, now); err != nil {
			return false, err
		}
		return false, nil
	}
	var sts []OrderStatus
	if err := tx.Model(&orderRow{}).Where("id = ?", id).Pluck("status", &sts).Error; err != nil {
		return false, fmt.Errorf("read order %d: %w", id, err)
	}
	if len(sts) == 0 {
		return false, errs.E(errs.NotFound, "no such order")
	}
	switch sts[0] {
	case OrderExpired, OrderCancelled:
		return true, nil
	}
	return false, nil
}

// CancelOrder cancels an order before any of it ships: its stock comes
// back and its parcels are cancelled, in one conditional update that a
// concurrent shipment or expiry cannot both win. It returns the order as
// cancelled and whether it was paid (the caller refunds a card payment).
// It returns errs.NotFound for no such order and errs.Conflict for an
// order that has shipped, expired or was cancelled already.
func (s *Service) CancelOrder(ctx context.Context, id int64) (o Order, wasPaid bool, err error) {
	err = s.db.Transact(ctx, func(tx *gorm.DB) error {
		before, err := findOrder(tx, id)
		if err != nil {
			return err
		}
		wasPaid = before.Status == OrderPaid
		changed, err := endOrder(tx, id, OrderCancelled, []OrderStatus{OrderPendingPayment, OrderConfirmed, OrderPaid}, s.clock(),
			"NOT EXISTS (SELECT 1 FROM fulfilments f WHERE f.order_id = ? AND f.status IN ?)", id, []FulfilmentStatus{FulfilmentShipped, FulfilmentDelivered})
		if err != nil {
			return err
		}
		if !changed {
			now, err := findOrder(tx, id)
			if err != nil {
				return err
			}
			switch now.Status {
			case OrderCancelled:
				return errs.E(errs.Conflict, "this order is already cancelled")
			case OrderExpired:
				return errs.E(errs.Conflict, "this order expired unpaid; there is nothing to cancel")
			}
			return errs.E(errs.Conflict, "part of this order has shipped; ask for a return instead")
		}
		o, err = findOrder(tx, id)
		return err
	})
	return o, wasPaid, err
}

// AbandonOrder removes an unpaid card order whose checkout could not be
// opened, giving its stock back: the buyer never saw it, so nothing of it
// stays. An order that is no longer pending is left alone.
func (s *Service) AbandonOrder(ctx context.Context, id int64) error {
	return s.db.Transact(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM payments WHERE purpose = ? AND reference = ?", payment.PurposeOrder, fmt.Sprint(id)).
			Scan(&n).Error; err != nil {
			return fmt.Errorf("read payments of order %d: %w", id, err)
		}
		if n > 0 {
			return nil // a checkout is recorded: let it expire the ordinary way
		}
		changed, err := endOrder(tx, id, OrderCancelled, []OrderStatus{OrderPendingPayment}, s.clock(), "")
		if err != nil || !changed {
			return err
		}
		for _, q := range []string{"DELETE FROM order_lines WHERE order_id = ?", "DELETE FROM fulfilments WHERE order_id = ?", "DELETE FROM orders WHERE id = ?"} {
			if err := tx.Exec(q, id).Error; err != nil {
				return fmt.Errorf("abandon order %d: %w", id, err)
			}
		}
		return nil
	})
}

// ResetAccessToken replaces a guest order's access token with token (only
// its hash is kept): a guest who repeats an order with its idempotency key
// gets a working link again, and the previous link stops working. An order
// of a signed-in buyer has no token and is left alone.
func (s *Service) ResetAccessToken(ctx context.Context, id int64, token string) error {
	err := s.db.WithContext(ctx).Model(&orderRow{}).Where("id = ? AND buyer_id IS NULL", id).
		Update("access_token_hash", HashAccessToken(token)).Error
	if err != nil {
		return fmt.Errorf("reset access token of order %d: %w", id, database.Translate(err))
	}
	return nil
}

// SetOrderExpiry moves an unpaid order's expiry later, to when its
// checkout stops being payable, so that stock is never given back while
// the buyer can still pay.
func (s *Service) SetOrderExpiry(ctx context.Context, id int64, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	err := s.db.WithContext(ctx).Model(&orderRow{}).Where("id = ? AND status = ? AND expires_at < ?", id, OrderPendingPayment, at).
		Updates(map[string]any{"expires_at": at}).Error
	if err != nil {
		return fmt.Errorf("set expiry of order %d: %w", id, database.Translate(err))
	}
	return nil
}

// ListCooperativeFulfilments lists a cooperative's parcels, newest first,
// with what to ship and where; page counts from 1. The caller checks that
// the principal may read the cooperative (the route's policy does).
func (s *Service) ListCooperativeFulfilments(ctx context.Context, cooperativeID int64, page, perPage int) ([]CooperativeFulfilment, int64, error) {
	db := s.db.WithContext(ctx)
	var total int64
	if err := db.Model(&fulfilmentRow{}).Where("cooperative_id = ?", cooperativeID).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count fulfilments: %w", err)
	}
	var fs []fulfilmentRow
	if err := db.Where("cooperative_id = ?", cooperativeID).Order("created_at DESC, id DESC").
		Offset((page - 1) * perPage).Limit(perPage).Find(&fs).Error; err != nil {
		return nil, 0, fmt.Errorf("list fulfilments: %w", err)
	}
	out := make([]CooperativeFulfilment, 0, len(fs))
	for _, f := range fs {
		cf, err := cooperativeFulfilment(db, f)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, cf)
	}
	return out, total, nil
}

func cooperativeFulfilment(tx *gorm.DB, f fulfilmentRow) (CooperativeFulfilment, error) {
	var r orderRow
	if err := tx.Where("id = ?", f.OrderID).Take(&r).Error; err != nil {
		return CooperativeFulfilment{}, fmt.Errorf("read order %d: %w", f.OrderID, err)
	}
	o := r.order()
	cf := CooperativeFulfilment{Fulfilment: f.fulfilment(), OrderNumber: o.Number, OrderStatus: o.Status,
		ShippingAddress: o.ShippingAddress, Lines: []OrderLine{}}
	var ls []orderLineRow
	if err := tx.Where("fulfilment_id = ?", f.ID).Order("id").Find(&ls).Error; err != nil {
		return CooperativeFulfilment{}, fmt.Errorf("read lines of fulfilment %d: %w", f.ID, err)
	}
	for _, l := range ls {
		line := l.line()
		line.CommissionBPS, line.Commission = l.CommissionBPS, l.Commission
		cf.Lines = append(cf.Lines, line)
	}
	return cf, nil
}

// ShipFulfilment records that a cooperative handed its parcel of an order
// to a carrier. Only the cooperative's members and administrators may;
// the parcel must be ready to ship (its order paid or cash on delivery, not
// cancelled). It returns errs.NotFound for no such parcel, errs.Forbidden
// for someone else's, errs.Invalid naming carrier or tracking_number, and
// errs.Conflict for a parcel not ready to ship or shipped already.
func (s *Service) ShipFulfilment(ctx context.Context, p *account.Principal, id int64, carrier, tracking string) (CooperativeFulfilment, error) {
	carrier, tracking = strings.TrimSpace(carrier), strings.TrimSpace(tracking)
	var out CooperativeFulfilment
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		var f fulfilmentRow
		if err := tx.Where("id = ?", id).Take(&f).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return errs.E(errs.NotFound, "no such fulfilment")
			}
			return fmt.Errorf("find fulfilment %d: %w", id, err)
		}
		if p == nil || !p.CanReadCooperative(f.CooperativeID) {
			return errs.E(errs.Forbidden, "only the cooperative's members may ship its parcels")
		}
		var fe errs.Fields
		textField(&fe, "carrier", carrier, true, 100)
		textField(&fe, "tracking_number", tracking, true, 100)
		if err := fe.Err(); err != nil {
			return err
		}
		now := s.clock()
		res := tx.Model(&fulfilmentRow{}).
			Where("id = ? AND status = ? AND order_id IN (SELECT id FROM orders WHERE status IN ?)", id, FulfilmentToShip,
				[]OrderStatus{OrderConfirmed, OrderPaid}).
			Updates(map[string]any{"status": FulfilmentShipped, "carrier": carrier, "tracking_number": tracking, "shipped_at": now, "updated_at": now})
		if res.Error != nil {
			return fmt.Errorf("ship fulfilment %d: %w", id, database.Translate(res.Error))
		}
		if res.RowsAffected == 0 {
			switch f.Status {
			case FulfilmentShipped:
				return errs.E(errs.Conflict, "this parcel has shipped already")
			case FulfilmentWaiting:
				return errs.E(errs.Conflict, "this order is not paid yet: do not ship it")
			}
			return errs.E(errs.Conflict, "this order was cancelled: do not ship it")
		}
		if err := tx.Where("id = ?", id).Take(&f).Error; err != nil {
			return fmt.Errorf("reread fulfilment %d: %w", id, err)
		}
		var err error
		out, err = cooperativeFulfilment(tx, f)
		return err
	})
	return out, err
}

// orderLang is the language an order keeps: ar, fr or en, French when the
// buyer's is none of them.
func orderLang(lang string) string {
	switch lang {
	case "ar", "en":
		return lang
	}
	return "fr"
}
