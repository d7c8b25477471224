package storefront

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database/dbtest"
)

// The public catalog's totals and facets may be kept for the cache's TTL:
// within it a new publication shows in the rows at once but not yet in the
// counts; past it, both; a cooperative's own list is never cached; and a
// cache of zero counts every time.
func TestCountCache(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		e.svc = New(e.db, Options{Now: e.clock.Now, CountCacheTTL: 30 * time.Second})
		ctx := context.Background()
		price, weight := int64(35_000), 2000
		in := func(title string) ProductInput {
			return ProductInput{Title: map[string]string{"fr": title}, Craft: "pottery", Price: &price, WeightG: &weight, Stock: 3}
		}
		e.published(t, e.coop, in("Tajine d'Anzi"))
		list := func() ProductList {
			t.Helper()
			l, err := e.svc.FindProducts(ctx, ProductFilter{Page: 1, PerPage: 24})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		if l := list(); l.Total != 1 || l.Facets.Craft["pottery"] != 1 || len(l.Items) != 1 {
			t.Fatalf("first listing: total %d, facets %v, %d items", l.Total, l.Facets.Craft, len(l.Items))
		}
		e.published(t, e.coop, in("Jarre de Tighmi")) // moves the clock a minute: past the TTL
		if l := list(); l.Total != 2 || l.Facets.Craft["pottery"] != 2 {
			t.Fatalf("past the TTL: total %d, facets %v", l.Total, l.Facets.Craft)
		}
		// Within the TTL: rows fresh, counts kept.
		pr := e.draft(t, e.coop, in("Plat de Aït Ahmed"))
		e.photo(t, pr.ID)
		if _, err := e.svc.PublishProduct(ctx, e.admin, pr.ID); err != nil {
			t.Fatal(err)
		}
		l := list()
		if len(l.Items) != 3 {
			t.Fatalf("the rows lag a publication: %d items", len(l.Items))
		}
		if l.Total != 2 || l.Facets.Craft["pottery"] != 2 {
			t.Fatalf("within the TTL the counts were recounted: total %d, facets %v", l.Total, l.Facets.Craft)
		}
		// Each filter has counts of its own.
		if f, err := e.svc.FindProducts(ctx, ProductFilter{Page: 1, PerPage: 24, Craft: "pottery"}); err != nil || f.Total != 3 {
			t.Fatalf("another filter: total %d, %v", f.Total, err)
		}
		// The cooperative's own list is always counted.
		own, err := e.svc.FindCooperativeProducts(ctx, e.manager, e.coop, ProductFilter{Page: 1, PerPage: 24})
		if err != nil || own.Total != 3 {
			t.Fatalf("the cooperative's list: total %d, %v", own.Total, err)
		}
		e.clock.Advance(31 * time.Second)
		if l := list(); l.Total != 3 || l.Facets.Craft["pottery"] != 3 {
			t.Fatalf("past the TTL again: total %d, facets %v", l.Total, l.Facets.Craft)
		}
		// No cache: counted every time.
		e.svc = New(e.db, Options{Now: e.clock.Now})
		list()
		e.published(t, e.coop, in("Cruche de Tighmi"))
		if l := list(); l.Total != 4 {
			t.Fatalf("without a cache: total %d", l.Total)
		}
	})
}

// The certified filter's counts are kept by the filter's value (not by
// the pointer that carries it), each value its own; the featured
// cooperatives of the home page are kept for the TTL as well.
func TestCountCacheCertifiedAndFeatured(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		e := newEnv(t, dialect)
		e.svc = New(e.db, Options{Now: e.clock.Now, CountCacheTTL: 30 * time.Second})
		ctx := context.Background()
		cert := e.verifiedCertificate(t, e.coop, "madmoun", "", "MAD-CACHE", e.svc.today().AddDays(100))
		e.published(t, e.coop, ProductInput{Title: map[string]string{"fr": "Tajine certifié"}, CertificateIDs: []int64{cert.ID}})
		e.published(t, e.otherCoop, ProductInput{Title: map[string]string{"fr": "Bague"}})
		count := func(certified bool) int64 {
			t.Helper()
			l, err := e.svc.FindProducts(ctx, ProductFilter{Certified: &certified})
			if err != nil {
				t.Fatal(err)
			}
			return l.Total
		}
		featured := func() []CooperativeCard {
			t.Helper()
			cards, err := e.svc.FeaturedCooperatives(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			return cards
		}
		if yes, no := count(true), count(false); yes != 1 || no != 1 {
			t.Fatalf("certified %d, not certified %d; want 1 and 1", yes, no)
		}
		if cards := featured(); len(cards) != 2 || cards[0].Slug != "cooperative-anzi" || cards[0].Products != 1 {
			t.Fatalf("featured %+v", cards)
		}
		// A publication within the TTL: the same counts, from the cache.
		e.exec(t, "UPDATE products SET status = 'published', published_at = ? WHERE id = ?", e.clock.Now(),
			e.draft(t, e.coop, ProductInput{Title: map[string]string{"fr": "Jarre"}, CertificateIDs: []int64{cert.ID}}).ID)
		if yes := count(true); yes != 1 {
			t.Fatalf("within the TTL the certified filter was recounted: %d", yes)
		}
		if cards := featured(); cards[0].Products != 1 {
			t.Fatalf("within the TTL the featured cooperatives were recounted: %+v", cards)
		}
		e.clock.Advance(31 * time.Second)
		if yes, no := count(true), count(false); yes != 2 || no != 1 {
			t.Fatalf("past the TTL: certified %d, not certified %d; want 2 and 1", yes, no)
		}
		if cards := featured(); cards[0].Products != 2 {
			t.Fatalf("past the TTL: featured %+v", cards)
		}
	})
}

// When counts are missing or expire under load, one caller counts them:
// the others wait for it when there is nothing to answer yet, and answer
// the expired counts meanwhile otherwise. A failed count is not kept, and
// a waiter whose request ends stops waiting.
func TestCountCacheOneCounterAtATime(t *testing.T) {
	var mu sync.Mutex
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	advance := func(d time.Duration) { mu.Lock(); at = at.Add(d); mu.Unlock() }
	c := newCountCache(30 * time.Second)
	ctx := context.Background()

	var fills atomic.Int64
	release := make(chan struct{})
	call := func(value int64, fillErr error) (int64, error) {
		var got int64
		err := c.load(ctx, "k", now, func() (time.Time, bool) {
			e, ok := c.entries["k"]
			got = e.total
			return e.at, ok
		}, func() error {
			fills.Add(1)
			<-release
			got = value
			return fillErr
		}, func(at time.Time) { c.keep("k", got, Facets{}, at) })
		return got, err
	}
	run := func(n int, value int64) []int64 {
		out := make([]int64, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := call(value, nil)
				if err != nil {
					t.Error(err)
				}
				out[i] = v
			}()
		}
		wg.Wait()
		return out
	}

	// Nothing kept yet: 20 callers, one count, every caller its answer.
	go func() {
		for fills.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond) // the others are waiting by now
		close(release)
	}()
	for i, v := range run(20, 7) {
		if v != 7 {
			t.Fatalf("caller %d answered %d, want 7", i, v)
		}
	}
	if n := fills.Load(); n != 1 {
		t.Fatalf("%d counts for 20 callers with nothing kept, want 1", n)
	}

	// Expired: the first caller recounts (held until released), the other
	// 19 answer the expired counts without waiting for it.
	advance(31 * time.Second)
	release = make(chan struct{})
	fills.Store(0)
	first := make(chan int64)
	go func() {
		v, err := call(8, nil)
		if err != nil {
			t.Error(err)
		}
		first <- v
	}()
	for fills.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for i, v := range run(19, 99) {
		if v != 7 {
			t.Fatalf("caller %d during the recount answered %d, want the expired 7", i, v)
		}
	}
	close(release)
	if v := <-first; v != 8 {
		t.Fatalf("the recounting caller answered %d, want 8", v)
	}
	if n := fills.Load(); n != 1 {
		t.Fatalf("%d counts while one was running, want 1", n)
	}
	if v, _ := call(0, nil); v != 8 {
		t.Fatalf("after the recount: %d, want the new 8", v)
	}

	// A failed count keeps nothing: the next caller counts again.
	advance(31 * time.Second)
	release = make(chan struct{})
	close(release)
	if _, err := call(9, errors.New("database down")); err == nil {
		t.Fatal("a failed count answered no error")
	}
	fills.Store(0)
	if v, err := call(10, nil); err != nil || v != 10 || fills.Load() != 1 {
		t.Fatalf("after a failed count: %d, %v, %d counts; want 10 counted anew", v, err, fills.Load())
	}

	// Long expired (past staleFor TTLs) while someone counts: wait, and a
	// waiter whose request ends stops waiting.
	advance(staleFor * 31 * time.Second)
	release = make(chan struct{})
	go func() { _, _ = call(11, nil) }()
	for counting := false; !counting; {
		time.Sleep(time.Millisecond)
		c.mu.Lock()
		_, counting = c.flights["k"]
		c.mu.Unlock()
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := c.load(cctx, "k", now, func() (time.Time, bool) { e, ok := c.entries["k"]; return e.at, ok },
		func() error { t.Error("a second count while one runs"); return nil }, func(time.Time) {})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter with an ended request: %v, want its deadline", err)
	}
	close(release)
}
