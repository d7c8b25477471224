package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// soakSample is one reading of the server's /metrics.
type soakSample struct {
	at         time.Duration
	goroutines float64
	heap       float64 // bytes in use by live objects after the last GC, roughly
}

func readGauges(t *testing.T, url string) (goroutines, heap float64) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		t.Fatalf("metrics: %d %.1500s", resp.StatusCode, b.String())
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch name {
		case "go_goroutines":
			goroutines = v
		case "go_memstats_heap_inuse_bytes":
			heap = v
		}
	}
	if goroutines == 0 || heap == 0 {
		t.Fatalf("metrics carry no go_goroutines or go_memstats_heap_inuse_bytes (content type %q)", resp.Header.Get("Content-Type"))
	}
	return goroutines, heap
}

// The soak (issue "reliability"): a bounded mixed load — home, search,
// product pages, cash orders, bookings, photo uploads and deletions — on a
// `souk serve` process over MariaDB for SOUK_SOAK_DURATION (make
// reliability sets it; skipped otherwise), with goroutines and heap read
// from /metrics every few seconds. It passes when no request failed and
// neither count grows from the first third of the run to the last.
func TestSoak(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("SOUK_SOAK_DURATION"))
	if err != nil || d <= 0 {
		t.Skip("set SOUK_SOAK_DURATION (e.g. 2m) to soak; make reliability does")
	}
	dbURL := dbtest.URL(t, database.MySQL)
	cfg := testserver.Config(t, testserver.Options{DatabaseURL: dbURL})
	proc := testserver.StartProcess(t, cfg)
	s := testserver.StartConfig(t, cfg, nil)
	sc := newOrderScene(t, s)
	if err := s.DB.Exec("UPDATE products SET stock = 1000000 WHERE id = ?", sc.pots.ID).Error; err != nil {
		t.Fatal(err)
	}
	bs := newBookingScene(t, s.DB, booking.PolicyInstant, 4)
	admin := signIn(t, s, "admin@orders.test")
	photo := smallJPEG(t, 1200, 900, color.RGBA{160, 80, 40, 255})

	var requests, failures atomic.Int64
	var mu sync.Mutex
	var failed []string
	fail := func(what string) {
		failures.Add(1)
		mu.Lock()
		defer mu.Unlock()
		if len(failed) < 20 {
			failed = append(failed, what)
		}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	do := func(req *http.Request) (int, []byte) {
		requests.Add(1)
		resp, err := client.Do(req)
		if err != nil {
			fail(fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err))
			return 0, nil
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		if resp.StatusCode >= 500 {
			fail(fmt.Sprintf("%s %s: %d %.200s", req.Method, req.URL.Path, resp.StatusCode, b.String()))
		}
		return resp.StatusCode, b.Bytes()
	}
	get := func(path string) { req, _ := http.NewRequest("GET", proc.URL+path, nil); do(req) }
	postJSON := func(path, token string, body any, want ...int) {
		b, _ := jsonBytes(body)
		req, _ := http.NewRequest("POST", proc.URL+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		st, rb := do(req)
		if st != 0 && st < 500 && len(want) > 0 && !containsInt(want, st) {
			fail(fmt.Sprintf("POST %s: %d %.200s", path, st, rb))
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				switch (w + i) % 8 {
				case 0:
					get("/fr/")
				case 1:
					get("/api/v1/products?q=tajine&per_page=24")
				case 2:
					get("/ar/search?q=" + "%D8%B7%D8%A7%D8%AC%D9%8A%D9%86")
				case 3:
					get("/en/products/" + sc.pots.Slug)
				case 4:
					postJSON("/api/v1/orders", "", orderBody(sc.pots.ID, 1, "MA", "cod"), 201)
				case 5:
					day := booking.DayOf(time.Now()).AddDays(30 + (w*100000+i)%3000)
					postJSON("/api/v1/bookings", bs.tokens[w], map[string]any{"unit_id": bs.unit.ID, "first_day": day.String(),
						"last_day": day.String(), "payment_method": "office"}, 201, 409)
				case 6:
					get(fmt.Sprintf("/api/v1/venues/%s/availability?from=%s&to=%s", bs.venue.Slug,
						booking.DayOf(time.Now()), booking.DayOf(time.Now()).AddDays(30)))
				case 7:
					if i%4 != 3 {
						get("/fr/venues/" + bs.venue.Slug)
						continue
					}
					body, ct := multipartBody(t, formPart{Name: "file", FileName: "p.jpg", ContentType: "image/jpeg", Data: photo}, formPart{Name: "alt", Data: []byte("Tajine")})
					req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/v1/products/%d/photos", proc.URL, sc.pots.ID), bytes.NewReader(body))
					req.Header.Set("Content-Type", ct)
					req.Header.Set("Authorization", "Bearer "+admin)
					st, rb := do(req)
					if st != 201 {
						if st != 0 && st < 500 {
							fail(fmt.Sprintf("upload: %d %.200s", st, rb))
						}
						continue
					}
					var out struct{ ID int64 }
					_ = jsonUnmarshal(rb, &out)
					del, _ := http.NewRequest("DELETE", fmt.Sprintf("%s/api/v1/products/%d/photos/%d", proc.URL, sc.pots.ID, out.ID), nil)
					del.Header.Set("Authorization", "Bearer "+admin)
					if st, rb := do(del); st != 204 && st != 200 && st < 500 {
						fail(fmt.Sprintf("delete photo: %d %.200s", st, rb))
					}
				}
			}
		}()
	}
	var samples []soakSample
	tick := time.NewTicker(max(d/24, time.Second))
	for time.Since(start) < d {
		<-tick.C
		g, h := readGauges(t, proc.URL)
		samples = append(samples, soakSample{time.Since(start), g, h})
	}
	tick.Stop()
	close(stop)
	wg.Wait()

	third := max(len(samples)/3, 1)
	mean := func(ss []soakSample, f func(soakSample) float64) float64 {
		var sum float64
		for _, s := range ss {
			sum += f(s)
		}
		return sum / float64(len(ss))
	}
	g0, g1 := mean(samples[:third], func(s soakSample) float64 { return s.goroutines }), mean(samples[len(samples)-third:], func(s soakSample) float64 { return s.goroutines })
	h0, h1 := mean(samples[:third], func(s soakSample) float64 { return s.heap }), mean(samples[len(samples)-third:], func(s soakSample) float64 { return s.heap })
	var growth int64
	// Goroutines: a leak of even one per request shows; a few are the
	// pool's coming and going. Heap: the working set, allowed to breathe.
	if g1 > g0*1.25+10 {
		growth++
		t.Errorf("goroutines grew from %.0f to %.0f", g0, g1)
	}
	if h1 > h0*1.5+16<<20 {
		growth++
		t.Errorf("heap in use grew from %.1f MiB to %.1f MiB", h0/(1<<20), h1/(1<<20))
	}
	for _, f := range failed {
		t.Error(f)
	}
	testenv.Report(t, fmt.Sprintf("soak: %v of mixed load on one process (failed requests + growth of goroutines or heap)", d.Round(time.Second)),
		requests.Load(), failures.Load()+growth)
	t.Logf("%d requests in %v (%.0f/s); goroutines %.0f → %.0f, heap in use %.1f → %.1f MiB over %d samples",
		requests.Load(), d, float64(requests.Load())/d.Seconds(), g0, g1, h0/(1<<20), h1/(1<<20), len(samples))
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
