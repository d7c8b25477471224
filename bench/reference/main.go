// Command reference is the limit Souk's paths are measured against in
// `make bench`: the same database and driver as `souk serve`, but the
// fastest Go allows — fasthttp, raw database/sql with prepared statements
// and hand-written writers, no framework, no ORM, no reflection.
//
//	GET /hello                      {"message":"Hello, World!"} (the HTTP stack alone)
//	GET /fortunes                   TechEmpower "Fortunes": one query, add a row, sort, escape, HTML
//	GET /listing?q=&craft=&format=  the 24-card product listing with total and facets, by the same SQL as storefront.FindProducts
//	GET /availability?venue=&from=&to=
//	                                a venue's units × days, by the same four queries as booking.Availability
//
// Usage: reference -addr 127.0.0.1:9090 -db sqlite://path.db | mysql://root@127.0.0.1:3306/name
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/storefront"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9090", "listen address")
	dbURL := flag.String("db", "", "database URL (sqlite://… or mysql://…)")
	countTTL := flag.Duration("count-ttl", 30*time.Second, "how long listing counts are kept (Souk's SOUK_COUNT_CACHE_TTL; 0 counts every request)")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *dbURL, *countTTL, log); err != nil {
		fmt.Fprintln(os.Stderr, "reference:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr, dbURL string, countTTL time.Duration, log *slog.Logger) error {
	gdb, err := database.Open(ctx, dbURL, database.Options{MaxOpenConns: 20, MaxIdleConns: 20, Logger: log})
	if err != nil {
		return err
	}
	db, err := gdb.DB.DB()
	if err != nil {
		return fmt.Errorf("database pool: %w", err)
	}
	defer db.Close()
	s := &server{db: db, mysql: gdb.Dialect == database.MySQL, counts: countCache{ttl: countTTL}}
	if err := s.prepare(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &fasthttp.Server{Handler: s.route, Name: "reference"}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown()
	}()
	fmt.Fprintf(os.Stdout, "reference listening on %s\n", ln.Addr())
	return srv.Serve(ln)
}

type server struct {
	db       *sql.DB
	mysql    bool
	fortunes *sql.Stmt
	units    *sql.Stmt // the venue and its active units, in one statement
	claims   *sql.Stmt // live claims and blocks, in one statement

	counts countCache
}

// The twelve rows of the TechEmpower benchmark.
var fortuneRows = []string{
	"fortune: No such file or directory",
	"A computer scientist is someone who fixes things that aren't broken.",
	"After enough decimal places, nobody gives a damn.",
	"A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
	"A computer program does what you tell it to do, not what you want it to do.",
	"Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
	"Any program that runs right is obsolete.",
	"A list is only as strong as its weakest link. — Donald Knuth",
	"Feature: A bug with seniority.",
	"Computers make very fast, very accurate mistakes.",
	`<script>alert("This should not be displayed in a browser alert box.");</script>`,
	"フレームワークのベンチマーク",
}

// prepare creates the fortune table when missing and prepares the fixed
// statements.
func (s *server) prepare(ctx context.Context) error {
	ddl := "CREATE TABLE IF NOT EXISTS fortune (id INTEGER PRIMARY KEY, message TEXT NOT NULL)"
	if s.mysql {
		ddl = "CREATE TABLE IF NOT EXISTS fortune (id INT PRIMARY KEY, message VARCHAR(2048) NOT NULL) DEFAULT CHARSET=utf8mb4"
	}
	if _, err := s.db.ExecContext(ctx, ddl); err != nil {
		return fmt.Errorf("create fortune table: %w", err)
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM fortune").Scan(&n); err != nil {
		return fmt.Errorf("count fortunes: %w", err)
	}
	if n == 0 {
		for i, m := range fortuneRows {
			if _, err := s.db.ExecContext(ctx, "INSERT INTO fortune (id, message) VALUES (?, ?)", i+1, m); err != nil {
				return fmt.Errorf("insert fortune: %w", err)
			}
		}
	}
	day := "c.day"
	if s.mysql {
		day = "DATE_FORMAT(c.day, '%Y-%m-%d')"
	}
	bday := strings.Replace(day, "c.day", "b.day", 1)
	for _, st := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&s.fortunes, "SELECT id, message FROM fortune"},
		// booking.Availability's two statements.
		{&s.units, "SELECT v.id, u.id, u.code FROM venues v LEFT JOIN units u ON u.venue_id = v.id AND u.active = ?" +
			" WHERE v.slug = ? AND v.active = ? ORDER BY u.code"},
		{&s.claims, "SELECT c.unit_id, " + day + ", CASE WHEN c.state = 'confirmed' THEN 2 ELSE 1 END FROM day_claims c" +
			" JOIN units u ON u.id = c.unit_id WHERE u.venue_id = ? AND c.day BETWEEN ? AND ? AND NOT (c.state = 'held' AND c.expires_at < ?)" +
			" UNION ALL SELECT b.unit_id, " + bday + ", 3 FROM unit_blocks b JOIN units u ON u.id = b.unit_id WHERE u.venue_id = ? AND b.day BETWEEN ? AND ?"},
	} {
		stmt, err := s.db.PrepareContext(ctx, st.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", st.sql, err)
		}
		*st.dst = stmt
	}
	return nil
}

func (s *server) route(c *fasthttp.RequestCtx) {
	var err error
	switch string(c.Path()) {
	case "/hello":
		c.SetContentType("application/json")
		c.SetBodyString(`{"message":"Hello, World!"}`)
	case "/fortunes":
		err = s.showFortunes(c)
	case "/listing":
		err = s.showListing(c)
	case "/availability":
		err = s.showAvailability(c)
	default:
		c.Error("not found", fasthttp.StatusNotFound)
		return
	}
	if err != nil {
		c.Error(err.Error(), fasthttp.StatusInternalServerError)
	}
}

type fortune struct {
	id      int
	message string
}

func (s *server) showFortunes(c *fasthttp.RequestCtx) error {
	rows, err := s.fortunes.QueryContext(c)
	if err != nil {
		return err
	}
	fs := make([]fortune, 0, 16)
	for rows.Next() {
		var f fortune
		if err := rows.Scan(&f.id, &f.message); err != nil {
			rows.Close()
			return err
		}
		fs = append(fs, f)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	fs = append(fs, fortune{0, "Additional fortune added at request time."})
	sort.Slice(fs, func(i, j int) bool { return fs[i].message < fs[j].message })
	c.SetContentType("text/html; charset=utf-8")
	b := make([]byte, 0, 2048)
	b = append(b, "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table><tr><th>id</th><th>message</th></tr>"...)
	for _, f := range fs {
		b = append(b, "<tr><td>"...)
		b = strconv.AppendInt(b, int64(f.id), 10)
		b = append(b, "</td><td>"...)
		b = appendHTML(b, f.message)
		b = append(b, "</td></tr>"...)
	}
	b = append(b, "</table></body></html>"...)
	c.SetBody(b)
	return nil
}

// appendHTML appends s escaped for HTML text and attributes.
func appendHTML(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	last := 0
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 0x20 && ch != '"' && ch != '\\' && ch != '<' && ch != '>' && ch != '&' {
			continue
		}
		b = append(b, s[last:i]...)
		switch ch {
		case '"', '\\':
			b = append(b, '\\', ch)
		default:
			b = append(b, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		}
		last = i + 1
	}
	b = append(b, s[last:]...)
	return append(b, '"')
}

// certified is storefront's certifiedSQL: the badge read from the columns
// migration 0013 keeps on the product, the certificates looked at only for
// a product whose last certificate has not started yet. The day is passed
// four times.
const certified = `(p.certified_until IS NOT NULL AND p.certified_until >= ? AND (p.certified_from IS NULL OR p.certified_from <= ? OR
	EXISTS (SELECT 1 FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
	WHERE pc.product_id = p.id AND c.cooperative_id = p.cooperative_id AND c.status = 'verified' AND c.valid_until >= ? AND (c.valid_from IS NULL OR c.valid_from <= ?))))`

// countCache keeps the total and facet counts of a listing for a while, as
// storefront keeps them for SOUK_COUNT_CACHE_TTL (30 s by default), and
// like it lets one caller recount expired counts while the others answer
// them: the limit for Souk's listing is the page's own queries, not a
// recount.
type countCache struct {
	mu         sync.Mutex
	ttl        time.Duration
	m          map[string]counts
	refreshing map[string]bool
}

type counts struct {
	at             time.Time
	total, yes, no int64
	craft, commune map[string]int64
}

// get returns the counts of key and true when they can be answered: fresh,
// or expired while another caller recounts them. false: the caller counts
// them and puts them.
func (cc *countCache) get(key string) (counts, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	c, ok := cc.m[key]
	switch {
	case !ok || cc.ttl <= 0:
		return counts{}, false
	case time.Since(c.at) < cc.ttl || cc.refreshing[key]:
		return c, true
	}
	if cc.refreshing == nil {
		cc.refreshing = map[string]bool{}
	}
	cc.refreshing[key] = true
	return counts{}, false
}

// put keeps the counts of key (or, with err, lets the next caller recount).
func (cc *countCache) put(key string, c counts, err error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	delete(cc.refreshing, key)
	if err != nil || cc.ttl <= 0 {
		return
	}
	if cc.m == nil {
		cc.m = map[string]counts{}
	}
	c.at = time.Now()
	cc.m[key] = c
}

type card struct {
	id                                       int64
	slug, title, craft, commune, coop, coopN string
	price                                    sql.NullInt64
	certified                                bool
	photo                                    string // the variants JSON of the first photo
}

// showListing is storefront.FindProducts for the public catalog with q and
// craft, in the same SQL: one grouped count for the total and facets, one
// more for the craft facet when craft is set, the page's ids, their rows,
// their photos and their certificates — then a hand-written answer.
func (s *server) showListing(c *fasthttp.RequestCtx) error {
	args := c.QueryArgs()
	q, craft := string(args.Peek("q")), string(args.Peek("craft"))
	html := string(args.Peek("format")) == "html"
	today := time.Now().In(storefront.Zone).Format("2006-01-02")
	conds := []string{"p.status = 'published' AND c.status = 'verified'"}
	var cargs []any
	var words []string
	if q != "" {
		words = strings.Fields(storefront.NormalizeText(q))
		var b strings.Builder
		for _, w := range words {
			if s.mysql {
				b.WriteString("+" + w + "* ")
			} else {
				b.WriteString(`"` + w + `"* `)
			}
		}
		if s.mysql {
			conds = append(conds, "MATCH (p.search_text) AGAINST (? IN BOOLEAN MODE)")
		} else {
			conds = append(conds, "p.id IN (SELECT rowid FROM products_fts WHERE products_fts MATCH ?)")
		}
		cargs = append(cargs, strings.TrimSpace(b.String()))
	}
	base := len(conds)
	if craft != "" {
		conds = append(conds, "p.craft = ?")
		cargs = append(cargs, craft)
	}
	const from = " FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE "
	where := strings.Join(conds, " AND ")
	ctx := c

	// Total and facets in one pass, unless counted a moment ago.
	key := q + "\x00" + craft
	cnt, cached := s.counts.get(key)
	if !cached {
		var err error
		cnt, err = s.count(ctx, conds, base, cargs, craft, today)
		s.counts.put(key, cnt, err)
		if err != nil {
			return err
		}
	}
	total, yes, no, facetCraft, facetCommune := cnt.total, cnt.yes, cnt.no, cnt.craft, cnt.commune

	// The page: ids in order, then their rows.
	order := "p.published_at DESC, p.id DESC" // the public catalog, as storefront sorts it
	oargs := []any{}
	if len(words) > 0 {
		var parts []string
		for _, w := range words {
			parts = append(parts, "CASE WHEN p.search_title LIKE ? THEN 1 ELSE 0 END")
			oargs = append(oargs, "% "+w+"%")
		}
		order = "(" + strings.Join(parts, " + ") + ") DESC, " + order
	}
	ids := make([]int64, 0, 24)
	sel := "SELECT p.id"
	if s.mysql {
		sel = "SELECT STRAIGHT_JOIN p.id" // products first, as storefront reads them
	}
	rows, err := s.db.QueryContext(ctx, sel+from+where+" ORDER BY "+order+" LIMIT 24 OFFSET 0", append(append([]any{}, cargs...), oargs...)...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	cards := make([]card, len(ids))
	if len(ids) > 0 {
		in := "?" + strings.Repeat(",?", len(ids)-1)
		idArgs := make([]any, len(ids))
		pos := make(map[int64]int, len(ids))
		for i, id := range ids {
			idArgs[i] = id
			pos[id] = i
		}
		rows, err := s.db.QueryContext(ctx, "SELECT p.id, p.slug, p.title, p.craft, p.commune, p.price, c.slug, c.name"+
			" FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE p.id IN ("+in+")", idArgs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var k card
			if err := rows.Scan(&k.id, &k.slug, &k.title, &k.craft, &k.commune, &k.price, &k.coop, &k.coopN); err != nil {
				rows.Close()
				return err
			}
			cards[pos[k.id]] = k
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = s.db.QueryContext(ctx, "SELECT product_id, variants FROM product_photos WHERE product_id IN ("+in+") ORDER BY product_id, position, id", idArgs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return err
			}
			if k := &cards[pos[id]]; k.photo == "" {
				k.photo = v
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		rows, err = s.db.QueryContext(ctx, "SELECT p.id FROM products p WHERE p.id IN ("+in+") AND "+certified,
			append(idArgs, today, today, today, today)...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			cards[pos[id]].certified = true
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	if html {
		c.SetContentType("text/html; charset=utf-8")
		c.SetBody(appendCardsHTML(make([]byte, 0, 16<<10), cards, total))
		return nil
	}
	b := make([]byte, 0, 16<<10)
	b = append(b, `{"items":[`...)
	for i, k := range cards {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, k.id, 10)
		b = append(b, `,"slug":`...)
		b = appendJSONString(b, k.slug)
		b = append(b, `,"title":`...)
		b = append(b, k.title...) // stored as a JSON object
		b = append(b, `,"craft":`...)
		b = appendJSONString(b, k.craft)
		b = append(b, `,"commune":`...)
		b = appendJSONString(b, k.commune)
		b = append(b, `,"price":`...)
		if k.price.Valid {
			b = strconv.AppendInt(b, k.price.Int64, 10)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"currency":"MAD","certified":`...)
		b = strconv.AppendBool(b, k.certified)
		b = append(b, `,"cooperative":{"slug":`...)
		b = appendJSONString(b, k.coop)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, k.coopN)
		b = append(b, `},"photo":`...)
		if k.photo == "" {
			b = append(b, "null"...)
		} else {
			b = append(b, k.photo...) // the variants, stored as JSON
		}
		b = append(b, '}')
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, total, 10)
	b = append(b, `,"page":1,"per_page":24,"facets":{"craft":`...)
	b = appendCounts(b, facetCraft)
	b = append(b, `,"commune":`...)
	b = appendCounts(b, facetCommune)
	b = append(b, `,"certified":{"true":`...)
	b = strconv.AppendInt(b, yes, 10)
	b = append(b, `,"false":`...)
	b = strconv.AppendInt(b, no, 10)
	b = append(b, "}}}"...)
	c.SetContentType("application/json")
	c.SetBody(b)
	return nil
}

func appendCounts(b []byte, m map[string]int64) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		b = strconv.AppendInt(b, m[k], 10)
	}
	return append(b, '}')
}

// frTitle takes the French title out of the stored JSON object without a
// general JSON decoder (titles hold no escaped quotes in the bench data;
// an escaped one is kept escaped, which is still safe once HTML-escaped).
func frTitle(js string) string {
	i := strings.Index(js, `"fr":"`)
	if i < 0 {
		return ""
	}
	rest := js[i+6:]
	for j := 0; j < len(rest); j++ {
		switch rest[j] {
		case '\\':
			j++
		case '"':
			return rest[:j]
		}
	}
	return rest
}

func appendCardsHTML(b []byte, cards []card, total int64) []byte {
	b = append(b, `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Recherche — Souk</title></head><body><main><p>`...)
	b = strconv.AppendInt(b, total, 10)
	b = append(b, ` produits</p><ul class="cards">`...)
	for _, k := range cards {
		b = append(b, `<li class="card"><a href="/fr/products/`...)
		b = appendHTML(b, k.slug)
		b = append(b, `"><h3>`...)
		b = appendHTML(b, frTitle(k.title))
		b = append(b, `</h3><p>`...)
		b = appendHTML(b, k.coopN)
		b = append(b, `</p><p class="price">`...)
		if k.price.Valid {
			b = strconv.AppendInt(b, k.price.Int64/100, 10)
			b = append(b, " MAD"...)
		}
		b = append(b, `</p>`...)
		if k.certified {
			b = append(b, `<span class="badge">Certifié</span>`...)
		}
		b = append(b, `</a></li>`...)
	}
	return append(b, `</ul></main></body></html>`...)
}

// count is the grouped count of storefront.FindProducts: the total and the
// facets in one pass, and the craft facet without its own filter.
func (s *server) count(ctx context.Context, conds []string, base int, cargs []any, craft, today string) (counts, error) {
	facetCraft, facetCommune := map[string]int64{}, map[string]int64{}
	var total, yes, no int64
	from, where := " FROM products p JOIN cooperatives c ON c.id = p.cooperative_id WHERE ", strings.Join(conds, " AND ")
	rows, err := s.db.QueryContext(ctx, "SELECT craft, commune, certified, COUNT(*) FROM (SELECT p.craft AS craft, p.commune AS commune, CASE WHEN "+
		certified+" THEN 'true' ELSE 'false' END AS certified"+from+where+") t GROUP BY craft, commune, certified",
		append([]any{today, today, today, today}, cargs...)...)
	if err != nil {
		return counts{}, err
	}
	for rows.Next() {
		var cr, co, ce string
		var n int64
		if err := rows.Scan(&cr, &co, &ce, &n); err != nil {
			rows.Close()
			return counts{}, err
		}
		total += n
		if craft == "" {
			facetCraft[cr] += n
		}
		if co != "" {
			facetCommune[co] += n
		}
		if ce == "true" {
			yes += n
		} else {
			no += n
		}
	}
	if err := rows.Close(); err != nil {
		return counts{}, err
	}
	if craft != "" { // the craft facet without its own filter
		rows, err := s.db.QueryContext(ctx, "SELECT k, COUNT(*) FROM (SELECT p.craft AS k"+from+strings.Join(conds[:base], " AND ")+") t GROUP BY k", cargs[:len(cargs)-1]...)
		if err != nil {
			return counts{}, err
		}
		for rows.Next() {
			var k string
			var n int64
			if err := rows.Scan(&k, &n); err != nil {
				rows.Close()
				return counts{}, err
			}
			facetCraft[k] = n
		}
		if err := rows.Close(); err != nil {
			return counts{}, err
		}
	}

	return counts{total: total, yes: yes, no: no, craft: facetCraft, commune: facetCommune}, nil
}

// showAvailability is booking.Availability in the same two statements,
// written by hand.
func (s *server) showAvailability(c *fasthttp.RequestCtx) error {
	args := c.QueryArgs()
	slug, fromS, toS := string(args.Peek("venue")), string(args.Peek("from")), string(args.Peek("to"))
	from, err1 := time.Parse("2006-01-02", fromS)
	to, err2 := time.Parse("2006-01-02", toS)
	if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 366*24*time.Hour {
		c.Error("bad period", fasthttp.StatusBadRequest)
		return nil
	}
	n := int(to.Sub(from)/(24*time.Hour)) + 1
	days := make([]string, n)
	for i := range days {
		days[i] = from.AddDate(0, 0, i).Format("2006-01-02")
	}
	type unit struct {
		id    int64
		code  string
		state []byte // per day: 0 free, 1 held, 2 booked, 3 blocked
	}
	var (
		venueID int64
		units   []unit
	)
	rows, err := s.units.QueryContext(c, true, slug, true)
	if err != nil {
		return err
	}
	index := map[int64]int{}
	for rows.Next() {
		var id sql.NullInt64
		var code sql.NullString
		if err := rows.Scan(&venueID, &id, &code); err != nil {
			rows.Close()
			return err
		}
		if !id.Valid {
			continue // a venue without active units
		}
		index[id.Int64] = len(units)
		units = append(units, unit{id: id.Int64, code: code.String, state: make([]byte, n)})
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if venueID == 0 {
		c.Error("no such venue", fasthttp.StatusNotFound)
		return nil
	}
	dayIndex := func(d string) int {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return -1
		}
		i := int(t.Sub(from) / (24 * time.Hour))
		if i < 0 || i >= n {
			return -1
		}
		return i
	}
	rows, err = s.claims.QueryContext(c, venueID, fromS, toS, time.Now(), venueID, fromS, toS)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var d string
		var state byte
		if err := rows.Scan(&id, &d, &state); err != nil {
			rows.Close()
			return err
		}
		ui, ok := index[id]
		di := dayIndex(d)
		if !ok || di < 0 {
			continue
		}
		if state > units[ui].state[di] { // a block wins over a claim, as in booking
			units[ui].state[di] = state
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	names := [...]string{`":"free"`, `":"held"`, `":"booked"`, `":"blocked"`}
	b := make([]byte, 0, 64+len(units)*(40+n*22))
	b = append(b, `{"from":"`...)
	b = append(b, fromS...)
	b = append(b, `","to":"`...)
	b = append(b, toS...)
	b = append(b, `","units":[`...)
	for i, u := range units {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":`...)
		b = strconv.AppendInt(b, u.id, 10)
		b = append(b, `,"code":`...)
		b = appendJSONString(b, u.code)
		b = append(b, `,"days":{`...)
		for j, d := range days {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, d...)
			b = append(b, names[u.state[j]]...)
		}
		b = append(b, "}}"...)
	}
	b = append(b, "]}"...)
	c.SetContentType("application/json")
	c.SetBody(b)
	return nil
}
