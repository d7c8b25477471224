package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// genVersion changes when the generated data changes, so that cached
// databases of an older generator are not reused.
//
//	2: products.certified_until and certified_from filled (migration 0013).
const genVersion = 2

// dataSize is how much the generator makes.
type dataSize struct {
	Name         string
	Products     int
	Cooperatives int
	Venues       int
	UnitsPer     int
	Orders       int
	Artisans     int
}

var sizes = map[string]dataSize{
	"full":  {Name: "full", Products: 100_000, Cooperatives: 400, Venues: 60, UnitsPer: 25, Orders: 20_000, Artisans: 300},
	"quick": {Name: "quick", Products: 1_000, Cooperatives: 20, Venues: 4, UnitsPer: 25, Orders: 500, Artisans: 30},
}

// genStats counts what was generated, for the report.
type genStats struct {
	Products, Photos, Cooperatives, Certified, Venues, Units, Bookings, Claims, Orders int
	Elapsed                                                                            time.Duration
}

// craftWords are the words products are named and described with, per
// craft, in French, English and Arabic.
type craftWords struct {
	slug       string
	nouns      [][3]string // fr, en, ar
	adjectives [][3]string
	materials  []string
	techniques []string
	weight     [2]int // grams, min and max
	price      [2]int // MAD, min and max
}

var crafts = []craftWords{
	{slug: "pottery",
		nouns: [][3]string{{"Tajine", "Tagine", "طاجين"}, {"Jarre", "Jar", "جرة"}, {"Plat à couscous", "Couscous dish", "قصعة"},
			{"Cruche", "Jug", "إبريق"}, {"Brûle-encens", "Incense burner", "مبخرة"}, {"Bol", "Bowl", "زلافة"}, {"Khabia", "Water jar", "خابية"}},
		adjectives: [][3]string{{"émaillé vert", "green-glazed", "مطلي بالأخضر"}, {"en terre cuite", "terracotta", "من الطين"},
			{"peint à la main", "hand-painted", "مرسوم باليد"}, {"non émaillé", "unglazed", "غير مطلي"}, {"au décor incisé", "with incised pattern", "بزخرفة محفورة"}},
		materials: []string{"argile", "émail", "terre locale"}, techniques: []string{"tournage", "cuisson au bois", "modelage"},
		weight: [2]int{400, 6500}, price: [2]int{80, 1200}},
	{slug: "silver-jewellery",
		nouns: [][3]string{{"Fibule tazerzite", "Tazerzite fibula", "تازرزيت"}, {"Bracelet", "Bracelet", "دملج"}, {"Collier", "Necklace", "قلادة"},
			{"Boucles d'oreilles", "Earrings", "أقراط"}, {"Bague", "Ring", "خاتم"}, {"Khmissa", "Hand of Fatima", "خميسة"}},
		adjectives: [][3]string{{"en argent ciselé", "chased silver", "من الفضة المنقوشة"}, {"émaillé", "enamelled", "بالمينا"},
			{"filigrane", "filigree", "مخرم"}, {"berbère", "Amazigh", "أمازيغي"}, {"serti de corail", "set with coral", "مرصع بالمرجان"}},
		materials: []string{"argent 925", "émail", "corail", "ambre"}, techniques: []string{"ciselure", "filigrane", "niellage"},
		weight: [2]int{20, 400}, price: [2]int{300, 6000}},
	{slug: "carpets-weaving",
		nouns: [][3]string{{"Tapis", "Rug", "زربية"}, {"Coussin", "Cushion", "وسادة"}, {"Hanbel", "Hanbel blanket", "حنبل"},
			{"Kilim", "Kilim", "كليم"}, {"Chemin de table", "Table runner", "مفرش"}},
		adjectives: [][3]string{{"en laine teinte aux plantes", "of plant-dyed wool", "من الصوف المصبوغ بالنباتات"}, {"noué main", "hand-knotted", "معقود يدويا"},
			{"à losanges", "with lozenges", "بالمعينات"}, {"amazigh", "Amazigh", "أمازيغي"}, {"rouge et safran", "red and saffron", "أحمر وزعفراني"}},
		materials: []string{"laine", "coton", "henné", "garance"}, techniques: []string{"nouage", "tissage plat", "teinture végétale"},
		weight: [2]int{500, 12000}, price: [2]int{250, 9000}},
	{slug: "basketry",
		nouns:      [][3]string{{"Panier", "Basket", "سلة"}, {"Tbiga", "Bread basket", "طبيقة"}, {"Chapeau", "Hat", "طربوش"}, {"Couffin", "Tote", "قفة"}},
		adjectives: [][3]string{{"en doum", "of doum palm", "من الدوم"}, {"tressé", "braided", "مضفور"}, {"à couvercle", "lidded", "بغطاء"}},
		materials:  []string{"doum", "alfa", "raphia"}, techniques: []string{"vannerie spiralée", "tressage"},
		weight: [2]int{150, 1500}, price: [2]int{60, 600}},
	{slug: "woodwork",
		nouns: [][3]string{{"Coffret", "Box", "صندوق"}, {"Plateau", "Tray", "صينية"}, {"Cuillère", "Spoon", "ملعقة"}, {"Table basse", "Low table", "مائدة"}},
		adjectives: [][3]string{{"en thuya", "of thuya wood", "من العرعار"}, {"en arganier", "of argan wood", "من خشب الأركان"},
			{"sculpté", "carved", "منحوت"}, {"marqueté", "inlaid", "مطعم"}},
		materials: []string{"thuya", "arganier", "noyer"}, techniques: []string{"sculpture", "marqueterie", "tournage"},
		weight: [2]int{100, 9000}, price: [2]int{90, 4000}},
	{slug: "leather",
		nouns:      [][3]string{{"Babouches", "Slippers", "بلغة"}, {"Sac", "Bag", "حقيبة"}, {"Pouf", "Pouf", "بوف"}, {"Ceinture", "Belt", "حزام"}},
		adjectives: [][3]string{{"en cuir tanné", "of tanned leather", "من الجلد المدبوغ"}, {"brodé", "embroidered", "مطرز"}, {"jaune safran", "saffron yellow", "أصفر"}},
		materials:  []string{"cuir de chèvre", "fil de soie"}, techniques: []string{"tannage végétal", "couture main"},
		weight: [2]int{200, 3000}, price: [2]int{120, 2500}},
	{slug: "embroidery",
		nouns:      [][3]string{{"Nappe", "Tablecloth", "غطاء مائدة"}, {"Caftan", "Kaftan", "قفطان"}, {"Foulard", "Scarf", "وشاح"}},
		adjectives: [][3]string{{"brodé main", "hand-embroidered", "مطرز يدويا"}, {"au point de Fès", "Fez stitch", "بغرزة فاس"}, {"en soie", "silk", "من الحرير"}},
		materials:  []string{"lin", "soie", "coton"}, techniques: []string{"broderie", "passementerie"},
		weight: [2]int{100, 1500}, price: [2]int{150, 5000}},
	{slug: "argan-cosmetics",
		nouns:      [][3]string{{"Huile d'argan", "Argan oil", "زيت الأركان"}, {"Savon", "Soap", "صابون"}, {"Amlou", "Amlou", "أملو"}},
		adjectives: [][3]string{{"pressée à froid", "cold-pressed", "معصور على البارد"}, {"bio", "organic", "عضوي"}, {"à la fleur d'oranger", "with orange blossom", "بماء الزهر"}},
		materials:  []string{"argan", "amande", "miel"}, techniques: []string{"pression à froid", "torréfaction"},
		weight: [2]int{100, 1200}, price: [2]int{50, 700}},
}

// communes are the places of the Tiznit province the products come from.
var communes = [][3]string{
	{"Anzi", "Anzi", "أنزي"}, {"Tiznit", "Tiznit", "تيزنيت"}, {"Tafraout", "Tafraout", "تافراوت"}, {"Aït Ahmed", "Aït Ahmed", "آيت أحمد"},
	{"Tighmi", "Tighmi", "تيغمي"}, {"Ameln", "Ameln", "أملن"}, {"Aouartas", "Aouartas", "أوارتاس"}, {"Sidi Bou Abdelli", "Sidi Bou Abdelli", "سيدي بوعبدلي"},
}

// generate fills a migrated, empty database with the data set. The media
// folder receives a handful of real photos that the photo rows share.
func generate(ctx context.Context, db *sql.DB, dialect string, size dataSize, seed uint64, mediaDir string, log *slog.Logger) (genStats, error) {
	start := time.Now()
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	g := &gen{db: db, dialect: dialect, rng: rng, now: time.Now().UTC().Truncate(time.Second)}
	var st genStats
	images, err := makeImages(ctx, mediaDir, 8)
	if err != nil {
		return st, err
	}
	steps := []struct {
		name string
		fn   func(context.Context, dataSize, *genStats) error
	}{
		{"users", g.users},
		{"cooperatives", g.cooperatives},
		{"products", func(ctx context.Context, s dataSize, st *genStats) error { return g.products(ctx, s, st, images) }},
		{"venues", g.venues},
		{"bookings", g.bookings},
		{"orders", g.orders},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(ctx, size, &st); err != nil {
			return st, fmt.Errorf("generate %s: %w", s.name, err)
		}
		log.Info("generated", "step", s.name, "took", time.Since(t).Round(time.Millisecond))
	}
	st.Elapsed = time.Since(start)
	return st, nil
}

type gen struct {
	db      *sql.DB
	dialect string
	rng     *rand.Rand
	now     time.Time
	prices  []int64 // price of each product, by id-1
	weights []int
	coopOf  []int64
	fragile []bool
	titles  []string
	dayRate []int64 // by unit id-1
}

func (g *gen) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// insert writes rows into table with multi-row INSERTs of up to batch rows,
// in transactions of about 20,000 rows.
func (g *gen) insert(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	// The SQLite driver binds each argument by looking through the
	// statement's parameters (quadratic in their number): small
	// statements there; MariaDB prefers few big ones.
	params := 10_000
	if g.dialect == database.SQLite {
		params = 600
	}
	batch := max(1, params/len(cols))
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for lo := 0; lo < len(rows); lo += 20_000 {
		hi := min(lo+20_000, len(rows))
		tx, err := g.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		for b := lo; b < hi; b += batch {
			e := min(b+batch, hi)
			var sb strings.Builder
			sb.WriteString(head)
			args := make([]any, 0, (e-b)*len(cols))
			for i := b; i < e; i++ {
				if i > b {
					sb.WriteByte(',')
				}
				sb.WriteString(one)
				args = append(args, rows[i]...)
			}
			if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("insert into %s: %w", table, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("commit %s: %w", table, err)
		}
	}
	return nil
}

// users are the artisans who hold the generated bookings (they never log
// in: the load generator registers its own).
func (g *gen) users(ctx context.Context, s dataSize, st *genStats) error {
	var users, roles [][]any
	for i := 1; i <= s.Artisans; i++ {
		email := fmt.Sprintf("artisan%04d@bench.souk.localhost", i)
		users = append(users, []any{i, email, email, fmt.Sprintf("Artisan %04d", i), "fr", "!disabled", g.now, g.now})
		roles = append(roles, []any{i, "artisan"})
	}
	if err := g.insert(ctx, "users", []string{"id", "email", "email_norm", "name", "lang", "password_hash", "created_at", "updated_at"}, users); err != nil {
		return err
	}
	return g.insert(ctx, "user_roles", []string{"user_id", "role"}, roles)
}

func (g *gen) cooperatives(ctx context.Context, s dataSize, st *genStats) error {
	var coops, certs [][]any
	kinds := []string{"Coopérative", "Association", "Coopérative féminine", "Union des artisans"}
	for i := 1; i <= s.Cooperatives; i++ {
		c := communes[(i-1)%len(communes)]
		cr := crafts[(i-1)%len(crafts)]
		name := fmt.Sprintf("%s %s de %s n° %d", kinds[i%len(kinds)], cr.nouns[0][0], c[0], i)
		slug := fmt.Sprintf("coop-%s-%04d", slugify(c[0]), i)
		story := js(map[string]string{
			"fr": fmt.Sprintf("Artisans de %s : %s faits main, vendus par la coopérative.", c[0], strings.ToLower(cr.nouns[0][0])),
			"en": fmt.Sprintf("Artisans of %s: handmade %s sold by the cooperative.", c[1], strings.ToLower(cr.nouns[0][1])),
			"ar": fmt.Sprintf("حرفيو %s: %s مصنوعة يدويا تبيعها التعاونية.", c[2], cr.nouns[0][2]),
		})
		coops = append(coops, []any{i, slug, name, c[0], js([]string{cr.slug}), fmt.Sprintf("RC-%05d", i), story, "verified",
			g.between(3, 30), g.between(0, 15), g.between(0, 3), g.now, g.now})
		if i%3 == 1 { // a third hold a verified, valid certificate
			num := fmt.Sprintf("MFM-B-%05d", i)
			certs = append(certs, []any{i, i, "morocco-handmade", "2", num, num, "Ministère de l'Artisanat",
				g.certValidFrom(), g.certValidUntil(), "verified", g.now, g.now})
			st.Certified++
		}
	}
	st.Cooperatives = len(coops)
	if err := g.insert(ctx, "cooperatives", []string{"id", "slug", "name", "commune", "crafts", "registry_number", "story", "status",
		"women_members", "men_members", "disabled_members", "created_at", "updated_at"}, coops); err != nil {
		return err
	}
	return g.insert(ctx, "certificates", []string{"id", "cooperative_id", "scheme", "level", "number", "number_norm", "issuer",
		"valid_from", "valid_until", "status", "created_at", "updated_at"}, certs)
}

// certValidFrom and certValidUntil are the validity of every generated
// certificate: a year ago to three years on ('YYYY-MM-DD').
func (g *gen) certValidFrom() string  { return g.now.AddDate(-1, 0, 0).Format("2006-01-02") }
func (g *gen) certValidUntil() string { return g.now.AddDate(3, 0, 0).Format("2006-01-02") }

// searchDocument builds products.search_title and search_text as
// storefront does (storefront/text.go): titles in ar, fr, en order, then
// descriptions, materials and techniques, through storefront.NormalizeText,
// one space between words and one at each end. (Generated words are short,
// so the 84-rune cut never applies.)
func searchDocument(title, desc map[string]string, materials, techniques []string) (string, string) {
	var titles, all []string
	for _, l := range storefront.Languages {
		if t := title[l]; t != "" {
			titles = append(titles, t)
		}
	}
	all = append(all, titles...)
	for _, l := range storefront.Languages {
		if d := desc[l]; d != "" {
			all = append(all, d)
		}
	}
	all = append(all, materials...)
	all = append(all, techniques...)
	wrap := func(s string) string {
		f := strings.Fields(storefront.NormalizeText(s))
		if len(f) == 0 {
			return " "
		}
		return " " + strings.Join(f, " ") + " "
	}
	return wrap(strings.Join(titles, " ")), wrap(strings.Join(all, " "))
}

func (g *gen) products(ctx context.Context, s dataSize, st *genStats, images []genImage) error {
	var prods, photos, keys, links [][]any
	photoID := 0
	keyed := map[int]bool{} // images whose keys are referenced already
	g.prices = make([]int64, s.Products)
	g.weights = make([]int, s.Products)
	g.coopOf = make([]int64, s.Products)
	g.fragile = make([]bool, s.Products)
	g.titles = make([]string, s.Products)
	for i := 1; i <= s.Products; i++ {
		coop := g.between(1, s.Cooperatives)
		cr := crafts[(coop-1)%len(crafts)]
		if g.rng.IntN(5) == 0 { // some cooperatives sell more than one craft
			cr = crafts[g.rng.IntN(len(crafts))]
		}
		c := communes[(coop-1)%len(communes)]
		n := cr.nouns[g.rng.IntN(len(cr.nouns))]
		a := cr.adjectives[g.rng.IntN(len(cr.adjectives))]
		title := map[string]string{
			"fr": fmt.Sprintf("%s %s de %s", n[0], a[0], c[0]),
			"en": fmt.Sprintf("%s %s from %s", strings.ToUpper(a[1][:1])+a[1][1:], strings.ToLower(n[1]), c[1]),
			"ar": fmt.Sprintf("%s %s من %s", n[2], a[2], c[2]),
		}
		if g.rng.IntN(10) == 0 { // a few titles in one or two languages only
			delete(title, "en")
		}
		mats := []string{cr.materials[g.rng.IntN(len(cr.materials))]}
		if g.rng.IntN(2) == 0 {
			if m := cr.materials[g.rng.IntN(len(cr.materials))]; m != mats[0] {
				mats = append(mats, m)
			}
		}
		techs := []string{cr.techniques[g.rng.IntN(len(cr.techniques))]}
		size := g.between(8, 180)
		desc := map[string]string{
			"fr": fmt.Sprintf("%s %s, fait main à %s par une artisane de la coopérative. Environ %d cm. Matières : %s. Chaque pièce est unique ; de légères variations de forme et de couleur sont le signe du travail à la main.",
				n[0], a[0], c[0], size, strings.Join(mats, ", ")),
			"en": fmt.Sprintf("%s %s, handmade in %s by a member of the cooperative. About %d cm. Every piece is unique: slight variations of shape and colour are the mark of handwork.",
				n[1], a[1], c[1], size),
			"ar": fmt.Sprintf("%s %s، مصنوع يدويا في %s من طرف حرفية من التعاونية. حوالي %d سم. كل قطعة فريدة.", n[2], a[2], c[2], size),
		}
		searchTitle, searchText := searchDocument(title, desc, mats, techs)
		price := int64(g.between(cr.price[0], cr.price[1])) * 100
		weight := g.between(cr.weight[0], cr.weight[1])
		stock := g.between(20, 5000)
		oneOfAKind := false
		var mto any
		switch g.rng.IntN(20) {
		case 0:
			stock, oneOfAKind = 1, true
		case 1:
			stock, mto = 0, g.between(5, 30)
		}
		published := g.now.Add(-time.Duration(g.rng.IntN(730*24)) * time.Hour)
		slug := fmt.Sprintf("%s-%06d", slugify(title["fr"]), i)
		prods = append(prods, []any{i, coop, slug, js(title), js(desc), cr.slug, c[0], js(mats), js(techs),
			size * 10, size * 8, size * 6, weight, price, "MAD", stock, oneOfAKind, mto, "published", published,
			searchTitle, searchText, published, published})
		g.prices[i-1], g.weights[i-1], g.coopOf[i-1] = price, weight, int64(coop)
		g.fragile[i-1] = cr.slug == "pottery" || cr.slug == "argan-cosmetics"
		g.titles[i-1] = title["fr"]

		np := g.between(1, 6)
		first := g.rng.IntN(len(images))
		for k := range np {
			photoID++
			imgIdx := (first + k) % len(images) // distinct pictures within a product
			im := images[imgIdx]
			photos = append(photos, []any{photoID, i, k, js(title), im.width, im.height, im.color, im.blurhash, im.variants, im.hash, published})
			if !keyed[imgIdx] { // one reference per object keeps the orphan sweep off it
				keyed[imgIdx] = true
				for _, key := range im.keys {
					keys = append(keys, []any{key, photoID})
				}
			}
		}
		// Two thirds of the products of a certified cooperative show its
		// certificate (id = the cooperative's): their certified columns are
		// what storefront's refreshCertified makes of that one link.
		var certifiedUntil, certifiedFrom any
		if coop%3 == 1 && g.rng.IntN(3) != 0 {
			links = append(links, []any{i, coop, published})
			certifiedUntil, certifiedFrom = g.certValidUntil(), g.certValidFrom()
		}
		prods[len(prods)-1] = append(prods[len(prods)-1], certifiedUntil, certifiedFrom)
	}
	st.Products, st.Photos = len(prods), len(photos)
	if err := g.insert(ctx, "products", []string{"id", "cooperative_id", "slug", "title", "description", "craft", "commune",
		"materials", "techniques", "height_mm", "width_mm", "depth_mm", "weight_g", "price", "currency", "stock", "one_of_a_kind",
		"made_to_order_days", "status", "published_at", "search_title", "search_text", "created_at", "updated_at",
		"certified_until", "certified_from"}, prods); err != nil {
		return err
	}
	if err := g.insert(ctx, "product_photos", []string{"id", "product_id", "position", "alt", "width", "height", "color", "blurhash",
		"variants", "content_hash", "created_at"}, photos); err != nil {
		return err
	}
	if err := g.insert(ctx, "product_photo_keys", []string{"media_key", "photo_id"}, keys); err != nil {
		return err
	}
	return g.insert(ctx, "product_certificates", []string{"product_id", "certificate_id", "created_at"}, links)
}

// venues are s.Venues instant-booking venues of s.UnitsPer units each.
func (g *gen) venues(ctx context.Context, s dataSize, st *genStats) error {
	var venues, units [][]any
	kinds := []struct{ kind, fr string }{{"market", "Marché artisanal"}, {"exhibition_space", "Espace d'exposition"},
		{"artisan_zone", "Zone artisanale"}, {"complex", "Complexe artisanal"}}
	unitID := 0
	for v := 1; v <= s.Venues; v++ {
		c := communes[(v-1)%len(communes)]
		k := kinds[(v-1)%len(kinds)]
		desc := js(map[string]string{"fr": k.fr + " de " + c[0] + ".", "en": "A venue of " + c[1] + ".", "ar": "فضاء ب" + c[2] + "."})
		venues = append(venues, []any{v, fmt.Sprintf("bench-%s-%02d", slugify(c[0]), v), fmt.Sprintf("%s de %s n° %d", k.fr, c[0], v),
			c[0], k.kind, "instant", desc, c[0] + ", province de Tiznit", 1000, 600, true, "{}", "{}", g.now, g.now})
		for u := range s.UnitsPer {
			unitID++
			rate := int64(g.between(20, 80)) * 100
			g.dayRate = append(g.dayRate, rate)
			shape := js(booking.Shape{Kind: booking.ShapeRect, X: (u % 5) * 200, Y: (u / 5) * 120, W: 180, H: 100})
			units = append(units, []any{unitID, v, fmt.Sprintf("U%02d", u+1), g.between(9, 40), `["any"]`, `["power"]`,
				rate, rate * 15, "MAD", shape, true, g.now, g.now})
		}
	}
	st.Venues, st.Units = len(venues), len(units)
	if err := g.insert(ctx, "venues", []string{"id", "slug", "name", "commune", "kind", "policy", "description", "address",
		"plan_width", "plan_height", "active", "opening_hours", "rules", "created_at", "updated_at"}, venues); err != nil {
		return err
	}
	return g.insert(ctx, "units", []string{"id", "venue_id", "code", "area_m2", "trades", "amenities", "day_rate", "month_rate",
		"currency", "shape", "active", "created_at", "updated_at"}, units)
}

// bookings fill the year from today at about 50% occupancy: on every unit,
// runs of 1 to 14 booked days alternate with gaps of 1 to 14 free days.
// Each booking is confirmed and claims each of its days, as
// ConfirmBooking leaves them.
func (g *gen) bookings(ctx context.Context, s dataSize, st *genStats) error {
	var bookings, claims [][]any
	today := booking.DayOf(g.now)
	id := 0
	for u := 1; u <= len(g.dayRate); u++ {
		venue := (u-1)/s.UnitsPer + 1
		d := g.between(0, 7)
		for d < 365 {
			n := g.between(1, 14)
			first, last := today.AddDays(d), today.AddDays(min(d+n, 365)-1)
			r := booking.DayRange{First: first, Last: last}
			id++
			amount := booking.PriceDays(r, g.dayRate[u-1], g.dayRate[u-1]*15)
			bookings = append(bookings, []any{id, venue, u, g.between(1, s.Artisans), first.String(), last.String(), r.Days(),
				"confirmed", amount, "MAD", "office", fmt.Sprintf("R-%06d", id), g.now, g.now, g.now})
			for _, day := range r.List() {
				claims = append(claims, []any{u, day.String(), id, "confirmed"})
			}
			d += r.Days() + g.between(1, 14)
		}
	}
	st.Bookings, st.Claims = len(bookings), len(claims)
	if err := g.insert(ctx, "bookings", []string{"id", "venue_id", "unit_id", "artisan_id", "first_day", "last_day", "days", "status",
		"amount", "currency", "payment_method", "payment_ref", "confirmed_at", "created_at", "updated_at"}, bookings); err != nil {
		return err
	}
	return g.insert(ctx, "day_claims", []string{"unit_id", "day", "booking_id", "state"}, claims)
}

// orders are cash-on-delivery orders of one or two lines from one
// cooperative, shipped inside Morocco, priced as storefront prices them.
func (g *gen) orders(ctx context.Context, s dataSize, st *genStats) error {
	var orders, fuls, lines [][]any
	lineID := 0
	cities := []string{"Agadir", "Tiznit", "Casablanca", "Rabat", "Marrakech", "Tafraout"}
	for i := 1; i <= s.Orders; i++ {
		p := g.rng.IntN(len(g.prices))
		items := []int{p}
		if g.rng.IntN(3) == 0 && p+1 < len(g.prices) && g.coopOf[p+1] == g.coopOf[p] {
			items = append(items, p+1)
		}
		var subtotal int64
		weight, fragile := 0, 0
		placed := g.now.Add(-time.Duration(g.rng.IntN(365*24)) * time.Hour)
		for _, it := range items {
			q := g.between(1, 2)
			subtotal += g.prices[it] * int64(q)
			weight += g.weights[it] * q
			if g.fragile[it] {
				fragile++
			}
			lineID++
			lines = append(lines, []any{lineID, i, i, it + 1, g.coopOf[it], g.titles[it], g.prices[it], q, q,
				g.prices[it] * int64(q), g.weights[it], g.fragile[it]})
		}
		shipping := shippingMA(weight) + int64(fragile)*storefront.FragilePackingFee
		city := cities[g.rng.IntN(len(cities))]
		orders = append(orders, []any{i, storefront.OrderNumber(int64(i), placed), fmt.Sprintf("buyer%05d@example.com", i), "confirmed", "cod",
			subtotal, shipping, subtotal + shipping, "MAD", fmt.Sprintf("Client %d", i), fmt.Sprintf("%d rue Hassan II", g.between(1, 300)),
			city, fmt.Sprintf("%05d", g.between(10000, 90000)), "MA", "+212 6 12 34 56 78", placed, placed})
		fuls = append(fuls, []any{i, i, g.coopOf[items[0]], "to_ship", subtotal, shipping, weight, placed, placed})
	}
	st.Orders = len(orders)
	if err := g.insert(ctx, "orders", []string{"id", "number", "email", "status", "payment_method", "subtotal", "shipping", "total",
		"currency", "ship_name", "ship_line1", "ship_city", "ship_postal_code", "ship_country", "ship_phone", "created_at", "updated_at"}, orders); err != nil {
		return err
	}
	if err := g.insert(ctx, "fulfilments", []string{"id", "order_id", "cooperative_id", "status", "subtotal", "shipping", "weight_g",
		"created_at", "updated_at"}, fuls); err != nil {
		return err
	}
	return g.insert(ctx, "order_lines", []string{"id", "order_id", "fulfilment_id", "product_id", "cooperative_id", "title",
		"unit_price", "quantity", "from_stock", "line_total", "weight_g", "fragile"}, lines)
}

// shippingMA is the Moroccan rate of the migrations' shipping_rates.
func shippingMA(weightG int) int64 {
	for _, r := range []struct {
		max    int
		amount int64
	}{{1000, 3500}, {2000, 4500}, {5000, 6500}, {10000, 9500}, {30000, 15000}} {
		if weightG <= r.max {
			return r.amount
		}
	}
	return 15000 // over 30 kg the app refuses; generated orders stay lighter
}

func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, w := range strings.Fields(storefront.NormalizeText(s)) {
		for _, r := range w {
			if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
				b.WriteRune(r)
				dash = false
			} else if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.Trim(b.String(), "-")
}

// genImage is one real photo in the media folder that photo rows share.
type genImage struct {
	width, height         int
	color, blurhash, hash string
	variants              string // JSON as product_photos.variants holds it
	keys                  []string
}

// makeImages draws n pictures, runs them through media.ProcessPhoto and
// saves their variants in the media folder.
func makeImages(ctx context.Context, mediaDir string, n int) ([]genImage, error) {
	store, err := media.NewLocal(mediaDir, "http://127.0.0.1", []byte(strings.Repeat("k", 32)))
	if err != nil {
		return nil, fmt.Errorf("media folder: %w", err)
	}
	var out []genImage
	for i := range n {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, drawPhoto(1600, 1200, i), &jpeg.Options{Quality: 88}); err != nil {
			return nil, fmt.Errorf("encode picture: %w", err)
		}
		sum := sha256.Sum256(buf.Bytes())
		ph, err := media.ProcessPhoto(ctx, bytes.NewReader(buf.Bytes()), media.DefaultPhotoLimits())
		if err != nil {
			return nil, fmt.Errorf("process picture: %w", err)
		}
		if err := ph.Save(ctx, store); err != nil {
			return nil, fmt.Errorf("save picture: %w", err)
		}
		vs := make([]storefront.PhotoVariant, len(ph.Variants))
		for k, v := range ph.Variants {
			vs[k] = storefront.PhotoVariant{Width: v.Width, Height: v.Height, Key: v.Key}
		}
		out = append(out, genImage{width: ph.Width, height: ph.Height, color: ph.Color, blurhash: ph.BlurHash,
			hash: hex.EncodeToString(sum[:]), variants: js(vs), keys: ph.Keys()})
	}
	return out, nil
}

// drawPhoto paints a piece on a sand background, with some noise so the
// JPEG is as heavy as a photo's.
func drawPhoto(w, h, seed int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	hues := []color.RGBA{{0xb5, 0x5a, 0x30, 0xff}, {0x2e, 0x7d, 0x4f, 0xff}, {0xc0, 0xc4, 0xcc, 0xff}, {0x9c, 0x2f, 0x2f, 0xff}}
	hue := hues[seed%len(hues)]
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	for y := range h {
		for x := range w {
			cx, cy := float64(x-w/2)/float64(w), float64(y-h/2)/float64(h)
			c := color.RGBA{0xf3, 0xe9, 0xd8, 0xff}
			if cx*cx+cy*cy*1.4 < 0.08+0.02*math.Sin(float64(seed)+cx*9) {
				c = hue
			}
			n := uint8(rng.IntN(12))
			img.SetRGBA(x, y, color.RGBA{c.R - min(c.R, n), c.G - min(c.G, n), c.B - min(c.B, n), 0xff})
		}
	}
	return img
}
