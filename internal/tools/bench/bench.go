package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/souk-tiznit/souk/database"
)

// path is one thing Souk does, measured against its reference.
type path struct {
	Name    string
	Kind    string // read | write
	Souk    request
	SoukURI string
	Ref     string // key of the reference path; "" for none
	OK      check
	Skipped string // why the path was not measured

	Runs     []sample
	Open     []openSample
	NoOpen   string        // why the open loop is not run
	Conns    int           // closed-loop connections: fewer for slow paths, so that requests do not time out in the queue
	Single   time.Duration // latency of one request alone (median of three)
	next     atomic.Int64  // numbers this path's requests (writes never repeat)
	Extra    []string      // notes for the report
	Profiled *profile
}

// refPath is a path of the reference server.
type refPath struct {
	Key, Name, URI string
	Runs           []sample
	Conns          int
	Single         time.Duration
}

type openSample struct {
	Share  float64 // of the measured capacity
	Rate   float64
	Sample sample
}

func (p *path) medRPS() float64 {
	var xs []float64
	for _, r := range p.Runs {
		xs = append(xs, r.Res.RPS())
	}
	return median(xs)
}

// medBusy is the share of one core the server used during the runs:
// under about 90% the server was not the bottleneck.
func (p *path) medBusy() float64 {
	var xs []float64
	for _, r := range p.Runs {
		xs = append(xs, r.busy())
	}
	return median(xs)
}

func (r *refPath) medBusy() float64 {
	var xs []float64
	for _, s := range r.Runs {
		xs = append(xs, s.busy())
	}
	return median(xs)
}

func (p *path) medCPU() float64 {
	var xs []float64
	for _, r := range p.Runs {
		xs = append(xs, r.cpuPerReq())
	}
	return median(xs)
}

func (p *path) medDBCPU() float64 {
	var xs []float64
	for _, r := range p.Runs {
		xs = append(xs, r.dbCPUPerReq())
	}
	return median(xs)
}

func (p *path) medQueries() float64 {
	var xs []float64
	for _, r := range p.Runs {
		if q := r.queriesPerReq(); q >= 0 {
			xs = append(xs, q)
		}
	}
	if len(xs) == 0 {
		return -1
	}
	return median(xs)
}

func (r *refPath) medRPS() float64 {
	var xs []float64
	for _, s := range r.Runs {
		xs = append(xs, s.Res.RPS())
	}
	return median(xs)
}

func (r *refPath) medCPU() float64 {
	var xs []float64
	for _, s := range r.Runs {
		xs = append(xs, s.cpuPerReq())
	}
	return median(xs)
}

// report is everything the results file says.
type report struct {
	Opts      options
	Started   time.Time
	Machine   string
	DBVersion string
	Pinning   string
	Data      *dataset
	Paths     []*path
	Refs      map[string]*refPath
	Contested contestResult
	Photos    photoResult
	Double    string // the double-booking check
	PageSize  pageSize
	Notes     []string
	Elapsed   time.Duration
}

func run(ctx context.Context, o options, log *slog.Logger) error {
	rep := &report{Opts: o, Started: time.Now(), Machine: machine(), Refs: map[string]*refPath{}}
	runDir, err := os.MkdirTemp("", "souk-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(runDir)
	soukBin, refBin := filepath.Join(runDir, "souk"), filepath.Join(runDir, "reference")
	for _, b := range []struct{ out, pkg string }{{soukBin, "./cmd/souk"}, {refBin, "./bench/reference"}} {
		cmd := exec.CommandContext(ctx, o.Go, "build", "-trimpath", "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %w: %s", b.pkg, err, out)
		}
	}

	ds, err := prepareData(ctx, o, runDir, soukBin, log)
	if err != nil {
		return err
	}
	defer ds.cleanup()
	rep.Data = ds
	fx, err := prepareFixtures(ctx, ds.URL, o.Conns, log)
	if err != nil {
		return err
	}

	m := &meter{}
	if o.DB == "mysql" {
		user, host, _ := strings.Cut(o.MySQL, "@")
		if m.mysql, err = sql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/", user, host)); err != nil {
			return err
		}
		defer m.mysql.Close()
		m.mysql.SetMaxOpenConns(1)
		_ = m.mysql.QueryRowContext(ctx, "SELECT VERSION()").Scan(&rep.DBVersion)
		rep.DBVersion = "MariaDB/MySQL " + rep.DBVersion
		m.dbPID = findProcess("mariadbd", "mysqld")
	} else {
		rep.DBVersion = "SQLite (modernc.org/sqlite v1.23.1 through glebarez/sqlite, pure Go, in the server process)"
	}

	// Pinned from here on: building and generating use every core.
	pin := pinSelf()
	rep.Pinning = pin.Note
	log.Info("pinning", "note", pin.Note)

	soukAddr, _ := freeAddr()
	refAddr, _ := freeAddr()
	pprofAddr, _ := freeAddr()
	secret := newToken() + newToken() + newToken() + newToken()
	souk, err := startProc(ctx, pin, "souk", filepath.Join(runDir, "souk.log"), []string{
		"SOUK_ENV=production", "SOUK_ADDR=" + soukAddr, "SOUK_BASE_URL=http://" + soukAddr, "SOUK_DATABASE_URL=" + ds.URL,
		"SOUK_DATA_DIR=" + filepath.Join(runDir, "data"), "SOUK_MEDIA_DIR=" + ds.MediaDir, "SOUK_SECRET_KEY=" + secret,
		"SOUK_PPROF_ADDR=" + pprofAddr, "SOUK_MIGRATE_ON_START=false",
	}, soukBin, "serve")
	if err != nil {
		return err
	}
	defer souk.stop()
	ref, err := startProc(ctx, pin, "reference", filepath.Join(runDir, "reference.log"), nil, refBin, "-addr", refAddr, "-db", ds.URL)
	if err != nil {
		return err
	}
	defer ref.stop()
	if err := waitReady(ctx, "http://"+soukAddr+"/healthz"); err != nil {
		return fmt.Errorf("souk: %w (log: %s)", err, tail(souk.log))
	}
	if err := waitReady(ctx, "http://"+refAddr+"/hello"); err != nil {
		return fmt.Errorf("reference: %w (log: %s)", err, tail(ref.log))
	}

	hcS, hcR := newClient(soukAddr, 512), newClient(refAddr, 512)
	today := time.Now().In(time.UTC).Format("2006-01-02")
	plus := func(n int) string { return time.Now().AddDate(0, 0, n).Format("2006-01-02") }
	q := "q=" + fx.Search + "&craft=pottery"
	refs := []*refPath{
		{Key: "hello", Name: "hello JSON", URI: "/hello"},
		{Key: "fortunes", Name: "Fortunes (TechEmpower)", URI: "/fortunes"},
		{Key: "listing", Name: "raw-SQL listing JSON (24 newest)", URI: "/listing"},
		{Key: "search", Name: "raw-SQL search JSON (q + craft + facets)", URI: "/listing?" + q},
		{Key: "search-html", Name: "raw-SQL search HTML (24 cards)", URI: "/listing?q=" + fx.Search + "&format=html"},
		{Key: "avail7", Name: "raw-SQL availability 25×7", URI: fmt.Sprintf("/availability?venue=%s&from=%s&to=%s", fx.VenueSlug, today, plus(6))},
		{Key: "avail31", Name: "raw-SQL availability 25×31", URI: fmt.Sprintf("/availability?venue=%s&from=%s&to=%s", fx.VenueSlug, today, plus(30))},
	}
	for _, r := range refs {
		rep.Refs[r.Key] = r
	}
	var next atomic.Int64 // numbers the reference's requests
	reads := []*path{
		{Name: "health (JSON)", SoukURI: "/healthz", Ref: "hello",
			NoOpen: "not run: one load-generator core cannot send at these rates, so its latencies would be the generator's"},
		{Name: "listing JSON (24 newest)", SoukURI: "/api/v1/products?per_page=24", Ref: "listing"},
		{Name: "search JSON (q + craft + facets)", SoukURI: "/api/v1/products?" + q, Ref: "search"},
		{Name: "search page HTML", SoukURI: "/fr/search?q=" + fx.Search, Ref: "search-html"},
		{Name: "product page HTML", SoukURI: "/fr/products/" + fx.ProductSlug, Ref: "fortunes"},
		{Name: "home page HTML", SoukURI: "/fr/", Ref: "fortunes"},
		{Name: "availability 25×7", SoukURI: fmt.Sprintf("/api/v1/venues/%s/availability?from=%s&to=%s", fx.VenueSlug, today, plus(6)), Ref: "avail7"},
		{Name: "availability 25×31", SoukURI: fmt.Sprintf("/api/v1/venues/%s/availability?from=%s&to=%s", fx.VenueSlug, today, plus(30)), Ref: "avail31"},
	}
	for _, p := range reads {
		p.Kind, p.OK, p.Souk = "read", isOK, get(soukAddr, p.SoukURI)
		status, body, err := probe(hcS, p.SoukURI)
		switch {
		case err != nil:
			p.Skipped = "request failed: " + err.Error()
		case status == 404:
			p.Skipped = "route answers 404 on this build (not built yet): skipped"
		case status != 200:
			p.Skipped = fmt.Sprintf("answers %d: %.200s", status, body)
		default:
			p.Single = single(hcS, p.SoukURI)
			p.Conns = connsFor(p.Single, o.Conns)
		}
	}
	for _, r := range refs {
		if status, body, err := probe(hcR, r.URI); err != nil || status != 200 {
			return fmt.Errorf("reference %s answers %d %v: %.300s", r.URI, status, err, body)
		}
		r.Single, r.Conns = single(hcR, r.URI), connsFor(single(hcR, r.URI), o.Conns)
	}
	units := int64(len(fx.Units))
	holdDay := func(i int64) string { return fx.HoldBase.AddDays(int(i / units)).String() }
	hold := &path{Name: "hold, distinct units", Kind: "write", SoukURI: "POST /api/v1/bookings", OK: isCreated,
		Souk: func(i int64, req *fasthttp.Request) {
			req.Header.SetMethod("POST")
			req.SetRequestURI("http://" + soukAddr + "/api/v1/bookings")
			req.Header.SetContentType("application/json")
			req.Header.Set("Authorization", "Bearer "+fx.Tokens[i%int64(len(fx.Tokens))])
			d := holdDay(i)
			req.SetBodyString(fmt.Sprintf(`{"unit_id":%d,"first_day":"%s","last_day":"%s","payment_method":"office"}`, fx.Units[i%units], d, d))
		}}
	runID := newToken()
	order := &path{Name: "order, cash on delivery", Kind: "write", SoukURI: "POST /api/v1/orders", OK: isCreated,
		Souk: func(i int64, req *fasthttp.Request) {
			req.Header.SetMethod("POST")
			req.SetRequestURI("http://" + soukAddr + "/api/v1/orders")
			req.Header.SetContentType("application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%s-%d", runID, i))
			req.SetBodyString(fmt.Sprintf(`{"items":[{"product_id":%d,"quantity":1}],"email":"buyer%d@example.com",`+
				`"shipping_address":{"name":"Fatima Bench","line1":"12 rue Hassan II","city":"Tiznit","postal_code":"85000","country":"MA","phone":"+212 6 12 34 56 78"},`+
				`"payment_method":"cod"}`, fx.OrderIDs[i%int64(len(fx.OrderIDs))], i%1000))
		}}
	if status, body, err := probeReq(hcS, order.Souk, order.next.Add(1)-1); err != nil || status != 201 {
		order.Skipped = fmt.Sprintf("POST answers %d %v: %.300s", status, err, body)
	}
	if status, body, err := probeReq(hcS, hold.Souk, hold.next.Add(1)-1); err != nil || status != 201 {
		hold.Skipped = fmt.Sprintf("POST answers %d %v: %.300s", status, err, body)
	}
	hold.Conns, order.Conns = o.Conns, o.Conns
	rep.Paths = append(append(rep.Paths, reads...), hold, order)
	rep.PageSize = measurePageSize(soukAddr, "/fr/products/"+fx.ProductSlug)

	// Warm both servers up: caches, connection pools, the page cache.
	warm := min(o.Duration, 2*time.Second)
	// (A path slower than a second was warmed by its four probes.)
	for _, p := range reads {
		if p.Skipped == "" && p.Single < time.Second {
			closedLoop(ctx, hcS, p.Conns, warm/2, &p.next, p.Souk, p.OK)
		}
	}
	for _, r := range refs {
		if r.Single < time.Second {
			closedLoop(ctx, hcR, r.Conns, warm/2, &next, get(refAddr, r.URI), isOK)
		}
	}

	// Capacity: closed loop, Souk and reference alternating, round after round.
	for round := 1; round <= o.Rounds; round++ {
		done := map[string]bool{}
		for _, p := range rep.Paths {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if p.Skipped != "" {
				continue
			}
			s := m.measure(ctx, souk.pid(), func() result { return closedLoop(ctx, hcS, p.Conns, o.Duration, &p.next, p.Souk, p.OK) })
			p.Runs = append(p.Runs, s)
			log.Info("closed loop", "round", round, "path", p.Name, "rps", int(s.Res.RPS()), "cpu_us", int(s.cpuPerReq()), "errors", s.Res.Errors)
			if r := rep.Refs[p.Ref]; r != nil && !done[r.Key] {
				done[r.Key] = true
				rs := m.measure(ctx, ref.pid(), func() result { return closedLoop(ctx, hcR, r.Conns, o.Duration, &next, get(refAddr, r.URI), isOK) })
				r.Runs = append(r.Runs, rs)
				log.Info("closed loop", "round", round, "reference", r.Name, "rps", int(rs.Res.RPS()), "cpu_us", int(rs.cpuPerReq()))
			}
		}
	}

	// Latency: open loop at fixed shares of the measured capacity.
	for _, p := range rep.Paths {
		if p.Skipped != "" || p.NoOpen != "" || p.medRPS() <= 0 {
			continue
		}
		if p.medRPS()*0.25*o.Duration.Seconds() < 5 {
			p.NoOpen = fmt.Sprintf("not run: at %s req/s an open loop of %s sends too few requests to have percentiles", num(p.medRPS()), o.Duration)
			continue
		}
		for _, share := range []float64{0.25, 0.5, 0.8} {
			rate := p.medRPS() * share
			s := m.measure(ctx, souk.pid(), func() result { return openLoop(ctx, hcS, 256, rate, o.Duration, &p.next, p.Souk, p.OK) })
			p.Open = append(p.Open, openSample{Share: share, Rate: rate, Sample: s})
			log.Info("open loop", "path", p.Name, "rate", int(rate), "p50", s.Res.Pct(0.5), "p99", s.Res.Pct(0.99), "errors", s.Res.Errors)
		}
	}

	// One contested unit: waves of concurrent holds on the same day.
	rep.Contested = contest(ctx, hcS, soukAddr, fx, o, souk.pid(), m, log)

	// The three slowest paths, profiled while under load.
	if o.Profile {
		profileSlowest(ctx, o, rep, hcS, pprofAddr, log)
	}

	// Photos, in process and against vipsthumbnail, on the load core.
	rep.Photos = benchPhotos(ctx, o, runDir, log)

	rep.Double = checkDoubleBookings(ctx, ds.URL, log)
	souk.stop()
	ref.stop()
	if b, err := os.ReadFile(souk.log); err == nil {
		if n := strings.Count(string(b), "level=ERROR") + strings.Count(string(b), `"level":"ERROR"`); n > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("souk logged %d errors during the run; first: %.300s", n, firstError(string(b))))
		}
	}
	rep.Elapsed = time.Since(rep.Started)
	return writeReport(rep, log)
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func firstError(log string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "ERROR") {
			return l
		}
	}
	return ""
}

// connsFor gives a path enough connections to keep one core busy, but
// not so many that a slow path's requests wait past the request timeout.
func connsFor(single time.Duration, most int) int {
	if n := int(2 * time.Second / max(single, time.Microsecond)); n < most {
		return max(1, n)
	}
	return most
}

// single is the median latency of three requests sent one at a time.
func single(hc *fasthttp.HostClient, uri string) time.Duration {
	var ds []float64
	for range 3 {
		t := time.Now()
		if _, _, err := probe(hc, uri); err != nil {
			return time.Second
		}
		ds = append(ds, float64(time.Since(t)))
	}
	return time.Duration(median(ds))
}

func probe(hc *fasthttp.HostClient, uri string) (int, []byte, error) {
	return probeReq(hc, get(hc.Addr, uri), 0)
}

func probeReq(hc *fasthttp.HostClient, build request, i int64) (int, []byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	build(i, req)
	if err := hc.DoTimeout(req, resp, 30*time.Second); err != nil {
		return 0, nil, err
	}
	return resp.StatusCode(), append([]byte(nil), resp.Body()...), nil
}

// pageSize is the product page's weight on the wire.
type pageSize struct {
	Raw, Gzip, Brotli int
	Note              string
}

func measurePageSize(addr, uri string) pageSize {
	var ps pageSize
	hc := newClient(addr, 4)
	for _, enc := range []string{"", "gzip", "br"} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + addr + uri)
		if enc != "" {
			req.Header.Set("Accept-Encoding", enc)
		}
		err := hc.DoTimeout(req, resp, 30*time.Second)
		n := len(resp.Body())
		status := resp.StatusCode()
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		if err != nil || status != 200 {
			ps.Note = fmt.Sprintf("product page answers %d: not measured", status)
			return ps
		}
		switch enc {
		case "":
			ps.Raw = n
		case "gzip":
			ps.Gzip = n
		case "br":
			ps.Brotli = n
		}
	}
	return ps
}

// contestResult is the contested-unit run.
type contestResult struct {
	Waves, Winners, Losers, Wrong int64 // Wrong: losers not answered 409, or waves without exactly one winner
	PerWave                       int
	WavesPerSec                   float64
	Loser                         result
	Winner                        result
	CPUPerHold                    float64
	Skipped                       string
}

func contest(ctx context.Context, hc *fasthttp.HostClient, addr string, fx fixtures, o options, pid int, m *meter, log *slog.Logger) contestResult {
	var cr contestResult
	n := len(fx.Tokens)
	day0 := fx.HoldBase.AddDays(1500)
	winners, losers := &recorder{status: map[int]int64{}}, &recorder{status: map[int]int64{}}
	total := time.Duration(o.Rounds) * o.Duration
	var wave int
	var wrong atomic.Int64
	s := m.measure(ctx, pid, func() result {
		start := time.Now()
		for time.Since(start) < total && ctx.Err() == nil {
			d := day0.AddDays(wave).String()
			wave++
			var wins atomic.Int64
			var wg sync.WaitGroup
			gate := make(chan struct{})
			for k := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
					defer fasthttp.ReleaseRequest(req)
					defer fasthttp.ReleaseResponse(resp)
					req.Header.SetMethod("POST")
					req.SetRequestURI("http://" + addr + "/api/v1/bookings")
					req.Header.SetContentType("application/json")
					req.Header.Set("Authorization", "Bearer "+fx.Tokens[k])
					req.SetBodyString(fmt.Sprintf(`{"unit_id":%d,"first_day":"%s","last_day":"%s","payment_method":"office"}`, fx.Contested, d, d))
					<-gate
					t := time.Now()
					err := hc.Do(req, resp)
					el := time.Since(t)
					switch {
					case err != nil:
						wrong.Add(1)
					case resp.StatusCode() == 201:
						wins.Add(1)
						winners.add([]time.Duration{el}, map[int]int64{201: 1}, "")
					case resp.StatusCode() == 409:
						losers.add([]time.Duration{el}, map[int]int64{409: 1}, "")
					default:
						wrong.Add(1)
						losers.add(nil, map[int]int64{resp.StatusCode(): 1}, fmt.Sprintf("%d %.200s", resp.StatusCode(), resp.Body()))
					}
				}()
			}
			close(gate)
			wg.Wait()
			if wins.Load() != 1 {
				wrong.Add(1)
			}
		}
		el := time.Since(start)
		return result{Requests: int64(wave * n), Elapsed: el}
	})
	cr.Waves, cr.PerWave = int64(wave), n
	cr.WavesPerSec = float64(wave) / s.Res.Elapsed.Seconds()
	cr.Winner = winners.result(0)
	cr.Loser = losers.result(0)
	cr.Winners, cr.Losers = int64(len(cr.Winner.Lat)), int64(len(cr.Loser.Lat))
	cr.Wrong = wrong.Load()
	cr.CPUPerHold = s.cpuPerReq()
	log.Info("contested unit", "waves", cr.Waves, "per_wave", n, "winners", cr.Winners, "losers", cr.Losers, "wrong", cr.Wrong,
		"loser_p99", cr.Loser.Pct(0.99))
	return cr
}

// checkDoubleBookings counts pairs of live bookings of one unit whose
// days overlap (DESIGN rule 1), over the whole run database.
func checkDoubleBookings(ctx context.Context, url string, log *slog.Logger) string {
	db, err := database.Open(ctx, url, database.Options{MaxOpenConns: 1, MaxIdleConns: 1, Logger: log})
	if err != nil {
		return "not checked: " + err.Error()
	}
	defer db.Close()
	var overlaps, bookings, claims, orphan int64
	now := time.Now().UTC()
	err = db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM bookings a JOIN bookings b ON b.unit_id = a.unit_id AND b.id > a.id
		AND a.first_day <= b.last_day AND b.first_day <= a.last_day
		WHERE (a.status = 'confirmed' OR (a.status = 'held' AND a.hold_expires_at > ?))
		AND (b.status = 'confirmed' OR (b.status = 'held' AND b.hold_expires_at > ?))`, now, now).Scan(&overlaps).Error
	if err == nil {
		err = db.WithContext(ctx).Raw("SELECT COUNT(*) FROM bookings WHERE status IN ('held', 'confirmed')").Scan(&bookings).Error
	}
	if err == nil {
		err = db.WithContext(ctx).Raw("SELECT COUNT(*) FROM day_claims").Scan(&claims).Error
	}
	if err == nil { // every claim belongs to a booking of its unit covering its day
		err = db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM day_claims c LEFT JOIN bookings b ON b.id = c.booking_id
			AND b.unit_id = c.unit_id AND c.day BETWEEN b.first_day AND b.last_day WHERE b.id IS NULL`).Scan(&orphan).Error
	}
	if err != nil {
		return "not checked: " + err.Error()
	}
	verdict := "OK"
	if overlaps > 0 || orphan > 0 {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %d overlapping pairs of live bookings, %d claims outside their booking (%d live bookings, %d day claims after the run)",
		verdict, overlaps, orphan, bookings, claims)
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
