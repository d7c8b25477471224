package storefront

import (
	"context"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
)

// Zones lists the shipping zones in the order tables show them.
var Zones = []ShippingZone{ZoneMorocco, ZoneEurope, ZoneWorld}

// Limits of the shipping table an administrator edits.
const (
	maxBrackets       = 20
	maxBracketWeightG = 1_000_000   // a tonne: beyond any parcel
	maxShippingAmount = 100_000_000 // 1,000,000 MAD
	maxFragileFee     = 10_000_000  // 100,000 MAD
)

// ShippingBracket prices a parcel up to MaxWeightG grams.
type ShippingBracket struct {
	MaxWeightG int   `json:"max_weight_g"`
	Amount     int64 `json:"amount"` // centimes
}

// ShippingZoneRates are a zone's weight brackets, lightest first, and the
// packing fee added per fragile line.
type ShippingZoneRates struct {
	Zone              ShippingZone      `json:"zone"`
	FragilePackingFee int64             `json:"fragile_packing_fee"` // centimes per fragile line
	Brackets          []ShippingBracket `json:"brackets"`
}

// ShippingTable is what orders are priced with: every zone's brackets and
// fee. An order keeps the amounts it was priced with; a new table prices
// only orders placed after it.
type ShippingTable struct {
	Currency  string              `json:"currency"`
	Zones     []ShippingZoneRates `json:"zones"`
	UpdatedAt *time.Time          `json:"updated_at,omitempty"`
}

// ShippingTable reads the current table.
func (s *Service) ShippingTable(ctx context.Context) (ShippingTable, error) {
	return readShippingTable(s.db.WithContext(ctx))
}

func readShippingTable(tx *gorm.DB) (ShippingTable, error) {
	var zones []struct {
		Zone       ShippingZone
		FragileFee int64
		UpdatedAt  time.Time
	}
	if err := tx.Raw(`SELECT zone, fragile_fee, updated_at FROM shipping_zones`).Scan(&zones).Error; err != nil {
		return ShippingTable{}, fmt.Errorf("read shipping zones: %w", err)
	}
	var rates []shippingRate
	if err := tx.Raw(`SELECT zone, max_weight_g, amount FROM shipping_rates ORDER BY zone, max_weight_g`).Scan(&rates).Error; err != nil {
		return ShippingTable{}, fmt.Errorf("read shipping rates: %w", err)
	}
	t := ShippingTable{Currency: Currency}
	for _, zone := range Zones {
		zr := ShippingZoneRates{Zone: zone, Brackets: []ShippingBracket{}}
		for _, z := range zones {
			if z.Zone == zone {
				zr.FragilePackingFee = z.FragileFee
				if u := z.UpdatedAt.UTC(); t.UpdatedAt == nil || u.After(*t.UpdatedAt) {
					t.UpdatedAt = &u
				}
			}
		}
		for _, r := range rates {
			if r.Zone == zone {
				zr.Brackets = append(zr.Brackets, ShippingBracket{MaxWeightG: r.MaxWeightG, Amount: r.Amount})
			}
		}
		t.Zones = append(t.Zones, zr)
	}
	return t, nil
}

// validate checks a whole table: every zone exactly once, one to
// maxBrackets brackets each with weights rising strictly, amounts and fees
// in range, in MAD. Field names are JSON paths (zones[1].brackets[0].amount).
func (t *ShippingTable) validate() error {
	var f errs.Fields
	switch t.Currency {
	case "":
		t.Currency = Currency
	case Currency:
	default:
		f.Add("currency", "shipping is priced in %s", Currency)
	}
	seen := map[ShippingZone]bool{}
	for i, z := range t.Zones {
		at := fmt.Sprintf("zones[%d]", i)
		switch {
		case !slices.Contains(Zones, z.Zone):
			f.Add(at+".zone", "must be one of MA, EU, WORLD")
		case seen[z.Zone]:
			f.Add(at+".zone", "zone %s is given twice", z.Zone)
		}
		seen[z.Zone] = true
		if z.FragilePackingFee < 0 || z.FragilePackingFee > maxFragileFee {
			f.Add(at+".fragile_packing_fee", "must be from 0 to %d centimes", maxFragileFee)
		}
		if len(z.Brackets) == 0 || len(z.Brackets) > maxBrackets {
			f.Add(at+".brackets", "must hold from 1 to %d weight brackets", maxBrackets)
		}
		prev := 0
		for j, b := range z.Brackets {
			bat := fmt.Sprintf("%s.brackets[%d]", at, j)
			switch {
			case b.MaxWeightG < 1 || b.MaxWeightG > maxBracketWeightG:
				f.Add(bat+".max_weight_g", "must be from 1 to %d grams", maxBracketWeightG)
			case b.MaxWeightG <= prev:
				f.Add(bat+".max_weight_g", "must be heavier than the bracket before it (%d g)", prev)
			}
			prev = max(prev, b.MaxWeightG)
			if b.Amount < 1 || b.Amount > maxShippingAmount {
				f.Add(bat+".amount", "must be from 1 to %d centimes", maxShippingAmount)
			}
		}
	}
	for _, zone := range Zones {
		if !seen[zone] {
			f.Add("zones", "zone %s is missing: give MA, EU and WORLD", zone)
		}
	}
	return f.Err()
}

// ReplaceShippingTable sets the whole table at once, for administrators:
// a quote or an order placed meanwhile sees the old table or the new one,
// never a mix. It returns errs.Forbidden for anyone else and errs.Invalid
// naming the field at fault.
func (s *Service) ReplaceShippingTable(ctx context.Context, p *account.Principal, t ShippingTable) (ShippingTable, error) {
	if p == nil || !p.IsAdmin() {
		return ShippingTable{}, errs.E(errs.Forbidden, "only administrators edit the shipping table")
	}
	if err := t.validate(); err != nil {
		return ShippingTable{}, err
	}
	var out ShippingTable
	now := s.clock()
	err := s.db.Transact(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec(`DELETE FROM shipping_rates WHERE zone IN ?`, Zones).Error; err != nil {
			return fmt.Errorf("clear shipping rates: %w", err)
		}
		for _, z := range t.Zones {
			for _, b := range z.Brackets {
				if err := tx.Exec(`INSERT INTO shipping_rates (zone, max_weight_g, amount, currency) VALUES (?, ?, ?, ?)`,
					z.Zone, b.MaxWeightG, b.Amount, Currency).Error; err != nil {
					return fmt.Errorf("write shipping rate: %w", err)
				}
			}
			if err := tx.Exec(`UPDATE shipping_zones SET fragile_fee = ?, updated_at = ?, updated_by = ? WHERE zone = ?`,
				z.FragilePackingFee, now, p.UserID, z.Zone).Error; err != nil {
				return fmt.Errorf("write shipping zone: %w", err)
			}
		}
		var err error
		out, err = readShippingTable(tx)
		return err
	})
	if err != nil {
		return ShippingTable{}, err
	}
	return out, nil
}
