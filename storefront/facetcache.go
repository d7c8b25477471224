package storefront

import (
	"context"
	"sync"
	"time"
)

// countCache keeps the totals and facet counts of public catalog queries
// for a short while. Counting facets reads every product the filter
// matches (on 100,000 products, most of a second for the unfiltered
// listing and the home page); the page's own rows are always read fresh.
// Counts may so lag a publication by the TTL, in this process only: no
// rule depends on them.
//
// One caller at a time counts a key (load): when counts expire under load,
// the others keep answering the expired counts until the new ones are in,
// and when there are none yet they wait for the one counting — instead of
// every request in flight counting the whole catalogue at once.
type countCache struct {
	ttl time.Duration
	max int

	mu       sync.Mutex
	entries  map[string]countEntry
	featured map[string]featuredEntry
	flights  map[string]chan struct{} // keys being counted; closed when done
}

// staleFor is how many TTLs past its time an entry may still be answered
// while another caller recounts it.
const staleFor = 10

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
	return &countCache{ttl: ttl, max: 1024, entries: map[string]countEntry{}, featured: map[string]featuredEntry{},
		flights: map[string]chan struct{}{}}
}

// load answers from the cache through read, or counts with fill and keeps
// the result through keep, one caller per key at a time. read reports
// whether an entry exists and when it was made; fill and keep run without
// the lock, read and keep with it. Without a cache (c nil, key "") it is
// fill.
func (c *countCache) load(ctx context.Context, key string, now func() time.Time,
	read func() (time.Time, bool), fill func() error, keep func(at time.Time)) error {
	if c == nil || key == "" {
		return fill()
	}
	for {
		c.mu.Lock()
		at, ok := read()
		t := now()
		age := t.Sub(at)
		if ok && age < c.ttl && !t.Before(at) {
			c.mu.Unlock()
			return nil // fresh: read has taken it
		}
		if done, counting := c.flights[key]; counting {
			if ok && age < staleFor*c.ttl && !t.Before(at) {
				c.mu.Unlock()
				return nil // being recounted: the expired counts meanwhile
			}
			c.mu.Unlock()
			select {
			case <-done:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		done := make(chan struct{})
		c.flights[key] = done
		c.mu.Unlock()
		err := fill()
		c.mu.Lock()
		delete(c.flights, key)
		if err == nil {
			keep(now())
		}
		c.mu.Unlock()
		close(done)
		return err
	}
}

// keep keeps a copy of the counts of key made at at, forgetting every
// entry when the cache is full (the keys are the filters buyers use: few
// are hot). The caller holds c.mu (load).
func (c *countCache) keep(key string, total int64, f Facets, at time.Time) {
	if len(c.entries) >= c.max {
		c.entries = map[string]countEntry{}
	}
	c.entries[key] = countEntry{total: total, facets: f.clone(), at: at}
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

// keepFeatured keeps a copy of the featured cooperatives under key. They
// are counts too (products per cooperative, over the whole catalog), kept
// for the same TTL. The caller holds c.mu (load).
func (c *countCache) keepFeatured(key string, cards []CooperativeCard, at time.Time) {
	if len(c.featured) >= c.max {
		c.featured = map[string]featuredEntry{}
	}
	c.featured[key] = featuredEntry{cards: append([]CooperativeCard(nil), cards...), at: at}
}
