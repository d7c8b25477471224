package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// request builds the i-th request of a run into req.
type request func(i int64, req *fasthttp.Request)

// check says whether an answer counts as a success.
type check func(status int, body []byte) bool

// result is one run of the load generator.
type result struct {
	Requests int64 // answered successfully
	Errors   int64 // other answers and transport errors
	Elapsed  time.Duration
	Lat      []time.Duration // sorted latencies of successful requests
	Status   map[int]int64
	Sample   string // the body of one failed answer, for the report
}

func (r result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

func (r result) Pct(p float64) time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	i := int(float64(len(r.Lat)-1) * p)
	return r.Lat[i]
}

type recorder struct {
	mu     sync.Mutex
	lat    []time.Duration
	status map[int]int64
	ok     atomic.Int64
	bad    atomic.Int64
	sample string
}

func (r *recorder) add(lat []time.Duration, status map[int]int64, sample string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lat = append(r.lat, lat...)
	for k, v := range status {
		r.status[k] += v
	}
	if r.sample == "" {
		r.sample = sample
	}
}

func (r *recorder) result(elapsed time.Duration) result {
	slices.Sort(r.lat)
	return result{Requests: r.ok.Load(), Errors: r.bad.Load(), Elapsed: elapsed, Lat: r.lat, Status: r.status, Sample: r.sample}
}

func newClient(addr string, conns int) *fasthttp.HostClient {
	return &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second, WriteTimeout: 10 * time.Second,
		MaxIdleConnDuration: time.Minute, MaxConnWaitTimeout: 30 * time.Second}
}

// closedLoop keeps conns requests in flight for d: each worker sends its
// next request as soon as the previous one is answered. It measures
// capacity (requests/s at saturation). next numbers the requests across
// runs so that writes never repeat.
func closedLoop(ctx context.Context, hc *fasthttp.HostClient, conns int, d time.Duration, next *atomic.Int64, build request, ok check) result {
	rec := &recorder{status: map[int]int64{}}
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			lat := make([]time.Duration, 0, 4096)
			status := map[int]int64{}
			sample := ""
			for ctx.Err() == nil && time.Now().Before(deadline) {
				req.Reset()
				build(next.Add(1)-1, req)
				t := time.Now()
				err := hc.Do(req, resp)
				el := time.Since(t)
				if err != nil {
					rec.bad.Add(1)
					status[-1]++
					if sample == "" {
						sample = err.Error()
					}
					continue
				}
				status[resp.StatusCode()]++
				if ok(resp.StatusCode(), resp.Body()) {
					rec.ok.Add(1)
					lat = append(lat, el)
				} else {
					rec.bad.Add(1)
					if sample == "" {
						sample = fmt.Sprintf("%d %.300s", resp.StatusCode(), resp.Body())
					}
				}
			}
			rec.add(lat, status, sample)
		}()
	}
	wg.Wait()
	return rec.result(time.Since(start))
}

// openLoop sends requests at a fixed rate for d, whatever the server's
// pace, and measures each latency from the request's intended send time
// (start + i/rate), not from when a connection was free: a server that
// stalls is charged for the requests queued behind the stall (no
// coordinated omission).
func openLoop(ctx context.Context, hc *fasthttp.HostClient, workers int, rate float64, d time.Duration, next *atomic.Int64, build request, ok check) result {
	rec := &recorder{status: map[int]int64{}}
	total := int(rate * d.Seconds())
	queue := make(chan time.Time, total+1)
	start := time.Now().Add(20 * time.Millisecond)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			var lat []time.Duration
			status := map[int]int64{}
			sample := ""
			for intended := range queue {
				req.Reset()
				build(next.Add(1)-1, req)
				err := hc.Do(req, resp)
				el := time.Since(intended)
				if err != nil {
					rec.bad.Add(1)
					status[-1]++
					if sample == "" {
						sample = err.Error()
					}
					continue
				}
				status[resp.StatusCode()]++
				if ok(resp.StatusCode(), resp.Body()) {
					rec.ok.Add(1)
					lat = append(lat, el)
				} else {
					rec.bad.Add(1)
					if sample == "" {
						sample = fmt.Sprintf("%d %.300s", resp.StatusCode(), resp.Body())
					}
				}
			}
			rec.add(lat, status, sample)
		}()
	}
	interval := time.Duration(float64(time.Second) / rate)
	for i := range total {
		if ctx.Err() != nil {
			break
		}
		intended := start.Add(time.Duration(i) * interval)
		if w := time.Until(intended); w > 0 {
			time.Sleep(w)
		}
		queue <- intended
	}
	close(queue)
	wg.Wait()
	return rec.result(time.Since(start))
}
