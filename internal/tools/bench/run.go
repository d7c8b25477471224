package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/storefront"
)

// proc is a started server.
type proc struct {
	name string
	cmd  *exec.Cmd
	addr string
	log  string
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer 200 within a minute", url)
}

func startProc(ctx context.Context, pin *pinning, name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // no server outlives a killed bench
	if err := pin.start(cmd); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	f.Close()
	return &proc{name: name, cmd: cmd, log: logPath}, nil
}

// fixtures are what the load needs from the data: accounts, slugs, ids.
type fixtures struct {
	Tokens      []string // artisans' bearer tokens
	ProductSlug string
	VenueSlug   string
	Units       []int64 // for distinct holds
	Contested   int64   // the unit every contested hold aims at
	OrderIDs    []int64 // products with plenty of stock, for orders
	HoldBase    booking.Day
	Search      string
}

func prepareFixtures(ctx context.Context, url string, conns int, log *slog.Logger) (fixtures, error) {
	var fx fixtures
	db, err := database.Open(ctx, url, database.Options{MaxOpenConns: 4, MaxIdleConns: 4, Logger: log})
	if err != nil {
		return fx, err
	}
	defer db.Close()
	// Light hashing: these accounts exist only to hold sessions.
	acc := account.New(db, account.Options{Logger: log, Password: account.PasswordParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}})
	for i := range max(conns, 8) {
		_, sess, err := acc.Register(ctx, account.Registration{Email: fmt.Sprintf("loader%03d@bench.souk.localhost", i),
			Password: "bench-password-" + hex.EncodeToString([]byte{byte(i)}) + "-long-enough", Name: fmt.Sprintf("Loader %d", i), Role: "artisan", Lang: "fr"})
		if err != nil {
			return fx, fmt.Errorf("register a load artisan: %w", err)
		}
		fx.Tokens = append(fx.Tokens, sess.Token)
	}
	q := db.WithContext(ctx)
	if err := q.Raw(`SELECT p.slug FROM products p WHERE p.status = 'published' AND p.craft = 'pottery'
		AND (SELECT COUNT(*) FROM product_photos ph WHERE ph.product_id = p.id) >= 4 ORDER BY p.id LIMIT 1`).Scan(&fx.ProductSlug).Error; err != nil {
		return fx, fmt.Errorf("pick a product: %w", err)
	}
	if err := q.Raw("SELECT slug FROM venues ORDER BY id LIMIT 1").Scan(&fx.VenueSlug).Error; err != nil {
		return fx, fmt.Errorf("pick a venue: %w", err)
	}
	if err := q.Raw("SELECT id FROM units ORDER BY id").Scan(&fx.Units).Error; err != nil {
		return fx, fmt.Errorf("list units: %w", err)
	}
	if len(fx.Units) < 2 {
		return fx, fmt.Errorf("the data set has %d units", len(fx.Units))
	}
	fx.Contested, fx.Units = fx.Units[len(fx.Units)-1], fx.Units[:len(fx.Units)-1]
	if err := q.Raw("SELECT id FROM products WHERE status = 'published' AND stock >= 1000 AND price <= 150000 ORDER BY id LIMIT 500").Scan(&fx.OrderIDs).Error; err != nil {
		return fx, fmt.Errorf("pick products to order: %w", err)
	}
	if len(fx.OrderIDs) == 0 {
		return fx, fmt.Errorf("no product to order")
	}
	fx.HoldBase = booking.DayOf(time.Now()).AddDays(400) // past the generated year
	fx.Search = "tajine"
	// The search index must answer as the app fills it.
	l, err := storefront.New(db, storefront.Options{}).FindProducts(ctx, storefront.ProductFilter{Q: fx.Search, Craft: "pottery"})
	if err != nil {
		return fx, fmt.Errorf("search the data set: %w", err)
	}
	if l.Total == 0 || len(l.Items) == 0 {
		return fx, fmt.Errorf("searching %q finds nothing: the search index was not filled as the app fills it", fx.Search)
	}
	log.Info("fixtures ready", "artisans", len(fx.Tokens), "product", fx.ProductSlug, "venue", fx.VenueSlug, "units", len(fx.Units),
		"search_total", l.Total)
	return fx, nil
}

// sample is one measured run of a path on one server.
type sample struct {
	Res     result
	CPU     time.Duration // server process CPU during the run
	DBCPU   time.Duration // database server CPU (MariaDB) during the run
	Queries int64         // MariaDB Questions during the run; -1 when not measured
}

func (s sample) cpuPerReq() float64 {
	if s.Res.Requests+s.Res.Errors == 0 {
		return 0
	}
	return float64(s.CPU.Microseconds()) / float64(s.Res.Requests+s.Res.Errors)
}

func (s sample) busy() float64 {
	if s.Res.Elapsed <= 0 {
		return 0
	}
	return float64(s.CPU) / float64(s.Res.Elapsed)
}

func (s sample) dbCPUPerReq() float64 {
	if s.Res.Requests+s.Res.Errors == 0 {
		return 0
	}
	return float64(s.DBCPU.Microseconds()) / float64(s.Res.Requests+s.Res.Errors)
}

func (s sample) queriesPerReq() float64 {
	if s.Queries < 0 || s.Res.Requests+s.Res.Errors == 0 {
		return -1
	}
	return float64(s.Queries) / float64(s.Res.Requests+s.Res.Errors)
}

// meter measures a run: server CPU, database CPU and queries.
type meter struct {
	mysql   *sql.DB // nil on SQLite
	dbPID   int
	selfQry int64 // Questions our own SHOW STATUS adds per measure
}

func (m *meter) questions(ctx context.Context) int64 {
	if m.mysql == nil {
		return -1
	}
	var name string
	var v int64
	if err := m.mysql.QueryRowContext(ctx, "SHOW GLOBAL STATUS LIKE 'Questions'").Scan(&name, &v); err != nil {
		return -1
	}
	return v
}

func (m *meter) measure(ctx context.Context, pid int, fn func() result) sample {
	q0 := m.questions(ctx)
	c0, _ := cpuTime(pid)
	var d0 time.Duration
	if m.dbPID > 0 {
		d0, _ = cpuTime(m.dbPID)
	}
	res := fn()
	c1, _ := cpuTime(pid)
	s := sample{Res: res, CPU: c1 - c0, Queries: -1}
	if m.dbPID > 0 {
		d1, _ := cpuTime(m.dbPID)
		s.DBCPU = d1 - d0
	}
	if q0 >= 0 {
		if q1 := m.questions(ctx); q1 >= 0 {
			s.Queries = q1 - q0 - 1 // the SHOW STATUS itself
		}
	}
	return s
}

func newToken() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func isOK(status int, _ []byte) bool      { return status == 200 }
func isCreated(status int, _ []byte) bool { return status == 201 }

func get(host, uri string) request {
	return func(_ int64, req *fasthttp.Request) {
		req.Header.SetMethod("GET")
		req.SetRequestURI("http://" + host + uri)
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

func mkdir(p string) string {
	_ = os.MkdirAll(p, 0o750)
	return p
}
