package storefront

import (
	"sync"
	"time"
)

// countCache keeps the totals and facet counts of public catalog queries
// for a short while. Counting facets reads every product the filter
// matches (on 100,000 products, most of a second for the unfiltered
// listing and the home page); the page's own rows are always read fresh.
// Counts may so lag a publication by the TTL, in this process only: no
// rule depends on them.
type countCache struct {
	ttl time.Duration
	max int

	mu       sync.Mutex
	entries  map[string]countEntry
	featured map[string]featuredEntry
}

type featuredEntry struct {
	cards []CooperativeCard
	at    time.Time
}

type countEntry struct {
	total  int64
	facets Facets
	at     time.Time
}

func newCountCache(ttl time.Duration) *countCache {
	if ttl <= 0 {
		return nil
	}
	return &countCache{ttl: ttl, max: 1024, entries: map[string]countEntry{}, featured: map[string]featuredEntry{}}
}

// get returns a copy of the counts of key when they are fresh at now.
func (c *countCache) get(key string, now time.Time) (int64, Facets, bool) {
	if c == nil {
		return 0, Facets{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return 0, Facets{}, false
	}
	return e.total, e.facets.clone(), true
}

// put keeps a copy of the counts of key, forgetting every entry when the
// cache is full (the keys are the filters buyers use: few are hot).
func (c *countCache) put(key string, total int64, f Facets, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		c.entries = map[string]countEntry{}
	}
	c.entries[key] = countEntry{total: total, facets: f.clone(), at: now}
}

func (f Facets) clone() Facets {
	cp := func(m map[string]int64) map[string]int64 {
		out := make(map[string]int64, len(m))
		for k, v := range m {
			out[k] = v
		}
		return out
	}
	return Facets{Craft: cp(f.Craft), Commune: cp(f.Commune), Certified: cp(f.Certified)}
}

// getFeatured returns a copy of the featured cooperatives kept under key
// when they are fresh at now. They are counts too (products per
// cooperative, over the whole catalog), kept for the same TTL.
func (c *countCache) getFeatured(key string, now time.Time) ([]CooperativeCard, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.featured[key]
	if !ok || now.Sub(e.at) >= c.ttl || now.Before(e.at) {
		return nil, false
	}
	return append([]CooperativeCard(nil), e.cards...), true
}

// putFeatured keeps a copy of the featured cooperatives under key.
func (c *countCache) putFeatured(key string, cards []CooperativeCard, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.featured) >= c.max {
		c.featured = map[string]featuredEntry{}
	}
	c.featured[key] = featuredEntry{cards: append([]CooperativeCard(nil), cards...), at: now}
}
