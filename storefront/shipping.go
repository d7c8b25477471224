package storefront

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/errs"
)

// ShippingZone is where a parcel goes, as the shipping_rates table prices it.
type ShippingZone string

// The zones.
const (
	ZoneMorocco ShippingZone = "MA"    // inside Morocco (Amana)
	ZoneEurope  ShippingZone = "EU"    // the countries of europeanCountries
	ZoneWorld   ShippingZone = "WORLD" // everywhere else
)

// FragilePackingFee is the packing fee the migrations set for every zone:
// added to a parcel for each fragile line (a craft marked fragile, such as
// pottery) for double boxing and padding, in centimes. Administrators
// change it per zone (ReplaceShippingTable).
const FragilePackingFee int64 = 2_000

// DefaultWeightG is the weight assumed for a product that does not say
// its own, in grams.
const DefaultWeightG = 1_000

// europeanCountries are the ISO 3166 alpha-2 codes priced as Europe: the
// European Union, the EFTA states, the United Kingdom and the small states
// inside them.
var europeanCountries = map[string]bool{
	"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true, "DK": true, "EE": true, "FI": true,
	"FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true, "LV": true, "LT": true, "LU": true,
	"MT": true, "NL": true, "PL": true, "PT": true, "RO": true, "SK": true, "SI": true, "ES": true, "SE": true,
	"GB": true, "CH": true, "NO": true, "IS": true, "LI": true, "MC": true, "AD": true, "SM": true, "VA": true,
	"GI": true,
}

// ZoneOf returns the shipping zone of an ISO 3166 alpha-2 country code.
func ZoneOf(country string) ShippingZone {
	c := strings.ToUpper(strings.TrimSpace(country))
	switch {
	case c == "MA":
		return ZoneMorocco
	case europeanCountries[c]:
		return ZoneEurope
	}
	return ZoneWorld
}

// ValidCountry reports whether s is written as an ISO 3166 alpha-2 code:
// two upper-case ASCII letters.
func ValidCountry(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// ShippingQuote is the price of sending one or more parcels.
type ShippingQuote struct {
	Zone     ShippingZone `json:"zone"`
	Amount   int64        `json:"amount"` // centimes
	Currency string       `json:"currency"`
}

// shippingRate is a row of shipping_rates: parcels up to MaxWeightG grams
// cost Amount centimes in Zone, plus FragileFee (shipping_zones) for each
// fragile line.
type shippingRate struct {
	Zone       ShippingZone
	MaxWeightG int
	Amount     int64
	FragileFee int64
}

// parcelPrice prices one parcel of weightG grams with fragileLines fragile
// lines to zone, from the rates visible to tx. It returns errs.Invalid
// (field weight_g) for a parcel heavier than the heaviest bracket.
func parcelPrice(tx *gorm.DB, zone ShippingZone, weightG, fragileLines int) (int64, error) {
	if weightG < 1 {
		weightG = 1
	}
	var r shippingRate
	err := tx.Raw(`SELECT r.zone, r.max_weight_g, r.amount, z.fragile_fee FROM shipping_rates r
		JOIN shipping_zones z ON z.zone = r.zone
		WHERE r.zone = ? AND r.max_weight_g >= ? ORDER BY r.max_weight_g LIMIT 1`, zone, weightG).Scan(&r).Error
	if err != nil {
		return 0, fmt.Errorf("read shipping rate for %s, %d g: %w", zone, weightG, err)
	}
	if r.MaxWeightG == 0 {
		return 0, errs.InvalidField("weight_g", "a parcel of %d g is too heavy to ship; order fewer pieces at once", weightG)
	}
	return r.Amount + int64(fragileLines)*r.FragileFee, nil
}

// QuoteShipping prices one parcel of weightG grams holding fragileLines
// fragile lines to country. It returns errs.Invalid naming country,
// weight_g or fragile.
func (s *Service) QuoteShipping(ctx context.Context, country string, weightG, fragileLines int) (ShippingQuote, error) {
	if err := checkQuote(country, weightG, fragileLines); err != nil {
		return ShippingQuote{}, err
	}
	zone := ZoneOf(country)
	amount, err := parcelPrice(s.db.WithContext(ctx), zone, weightG, fragileLines)
	if err != nil {
		return ShippingQuote{}, err
	}
	return ShippingQuote{Zone: zone, Amount: amount, Currency: Currency}, nil
}

// QuoteItems prices shipping the items to country as an order would: one
// parcel per cooperative, each priced by its weight and fragile lines. It
// returns errs.Invalid naming country or items[i].… for a bad item or an
// unknown product.
func (s *Service) QuoteItems(ctx context.Context, country string, items []OrderItem) (ShippingQuote, error) {
	var f errs.Fields
	if !ValidCountry(country) {
		f.Add("country", "must be an ISO 3166 alpha-2 code such as MA or FR")
	}
	validateItems(&f, items)
	if err := f.Err(); err != nil {
		return ShippingQuote{}, err
	}
	tx := s.db.WithContext(ctx)
	prods, err := loadOrderProducts(tx, items)
	if err != nil {
		return ShippingQuote{}, err
	}
	zone := ZoneOf(country)
	var total int64
	for _, p := range groupParcels(items, prods) {
		amount, err := parcelPrice(tx, zone, p.weightG, p.fragileLines)
		if err != nil {
			return ShippingQuote{}, err
		}
		total += amount
	}
	return ShippingQuote{Zone: zone, Amount: total, Currency: Currency}, nil
}
