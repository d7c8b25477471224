package storefront

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Reference is the catalog's reference data as read at one moment: the
// crafts, the certificate schemes and the shipping rates. Administrators
// change them a few times a year; pages read them on every request (the
// product page: its craft, the names of its certificates' schemes and the
// shipping estimate to three zones). Reference returns it from a copy kept
// for CountCacheTTL in this process, so a change shows on pages within that
// time. Nothing that takes money or stock reads it: orders price shipping
// from the database (QuoteItems). A Reference is never modified once made.
type Reference struct {
	crafts  map[string]Craft
	schemes map[string]CertificateScheme
	rates   map[ShippingZone][]shippingRate // by max_weight_g, ascending
	at      time.Time
}

// Craft returns the craft with the slug, or errs.NotFound.
func (r *Reference) Craft(slug string) (Craft, error) {
	c, ok := r.crafts[slug]
	if !ok {
		return Craft{}, errs.E(errs.NotFound, "no such craft")
	}
	return c, nil
}

// Scheme returns the certificate scheme with the slug and whether it exists.
func (r *Reference) Scheme(slug string) (CertificateScheme, bool) {
	sc, ok := r.schemes[slug]
	return sc, ok
}

// QuoteShipping is Service.QuoteShipping on these rates: one parcel of
// weightG grams holding fragileLines fragile lines to country. It returns
// errs.Invalid naming country, weight_g or fragile.
func (r *Reference) QuoteShipping(country string, weightG, fragileLines int) (ShippingQuote, error) {
	if err := checkQuote(country, weightG, fragileLines); err != nil {
		return ShippingQuote{}, err
	}
	zone := ZoneOf(country)
	// The lightest bracket that takes the parcel, as parcelPrice's query
	// picks it.
	for _, rt := range r.rates[zone] {
		if rt.MaxWeightG >= weightG {
			return ShippingQuote{Zone: zone, Amount: rt.Amount + int64(fragileLines)*rt.FragileFee, Currency: Currency}, nil
		}
	}
	return ShippingQuote{}, errs.InvalidField("weight_g", "a parcel of %d g is too heavy to ship; order fewer pieces at once", weightG)
}

// checkQuote is the validation of a one-parcel quote, shared by
// Service.QuoteShipping and Reference.QuoteShipping.
func checkQuote(country string, weightG, fragileLines int) error {
	var f errs.Fields
	if !ValidCountry(country) {
		f.Add("country", "must be an ISO 3166 alpha-2 code such as MA or FR")
	}
	if weightG < 1 || weightG > 1_000_000 {
		f.Add("weight_g", "must be from 1 to 1000000 grams")
	}
	if fragileLines < 0 || fragileLines > maxOrderLines {
		f.Add("fragile", "must be from 0 to %d lines", maxOrderLines)
	}
	return f.Err()
}

// refCache keeps the last Reference read for ttl. Its zero TTL (tests)
// reads the database every time.
type refCache struct {
	ttl time.Duration

	mu   sync.Mutex
	last *Reference
	// loading serialises reloads so that a burst of requests after expiry
	// reads the tables once.
	loading sync.Mutex
}

func newRefCache(ttl time.Duration) *refCache { return &refCache{ttl: ttl} }

func (c *refCache) fresh(now time.Time) *Reference {
	if c == nil || c.ttl <= 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.last; r != nil && now.Sub(r.at) < c.ttl && !now.Before(r.at) {
		return r
	}
	return nil
}

func (c *refCache) keep(r *Reference) {
	if c == nil || c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	c.last = r
	c.mu.Unlock()
}

// Reference returns the crafts, certificate schemes and shipping rates,
// from this process's copy when it is younger than CountCacheTTL, else
// read afresh (three queries).
func (s *Service) Reference(ctx context.Context) (*Reference, error) {
	c := s.refs
	now := s.now()
	if r := c.fresh(now); r != nil {
		return r, nil
	}
	if c.ttl > 0 {
		c.loading.Lock()
		defer c.loading.Unlock()
		if r := c.fresh(s.now()); r != nil {
			return r, nil
		}
	}
	r, err := s.readReference(ctx, now)
	if err != nil {
		return nil, err
	}
	c.keep(r)
	return r, nil
}

func (s *Service) readReference(ctx context.Context, now time.Time) (*Reference, error) {
	crafts, err := s.ListCrafts(ctx)
	if err != nil {
		return nil, err
	}
	schemes, err := s.ListCertificateSchemes(ctx)
	if err != nil {
		return nil, err
	}
	var rates []shippingRate
	if err := s.db.WithContext(ctx).Raw(`SELECT r.zone, r.max_weight_g, r.amount, z.fragile_fee FROM shipping_rates r
		JOIN shipping_zones z ON z.zone = r.zone ORDER BY r.zone, r.max_weight_g`).Scan(&rates).Error; err != nil {
		return nil, fmt.Errorf("read shipping rates: %w", database.Translate(err))
	}
	r := &Reference{crafts: make(map[string]Craft, len(crafts)), schemes: make(map[string]CertificateScheme, len(schemes)),
		rates: map[ShippingZone][]shippingRate{}, at: now}
	for _, c := range crafts {
		r.crafts[c.Slug] = c
	}
	for _, sc := range schemes {
		r.schemes[sc.Slug] = sc
	}
	for _, rt := range rates {
		r.rates[rt.Zone] = append(r.rates[rt.Zone], rt)
	}
	for _, rs := range r.rates {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].MaxWeightG < rs[j].MaxWeightG })
	}
	return r, nil
}
