// Package demo loads the demonstration data of `make run`: the real places
// of the Tiznit province (Aouartas' 25 units, the Tafraout market's 15, the
// exhibition spaces of Tafraout, Ameln, Tiznit and Sidi Bou Abdelli, the
// artisan complexes of Anzi and Tiznit), into an empty database.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/media"
)

// Options tune the seed.
type Options struct {
	// CredentialsFile receives the demo administrator's e-mail and password
	// (mode 0600) so `make run` can print them at every start.
	CredentialsFile string
	// Media receives the products' photos and certificate documents; nil
	// seeds the places only.
	Media media.Store
	// Password overrides the argon2id cost of the demo accounts' hashes
	// (tests use account.TestPasswordParams); zero is the production cost.
	Password account.PasswordParams
}

// Result counts what was seeded.
type Result struct {
	Venues, Units, Fairs   int
	Cooperatives, Products int
	// AdminEmail and AdminPassword are the demo administrator's credentials.
	AdminEmail, AdminPassword string
}

// AdminEmail is the demo administrator's address.
const AdminEmail = "admin@souk.localhost"

// Place is one venue of the demo with its units.
type Place struct {
	Slug, Name, Commune, Kind, Policy string
	Description                       map[string]string
	Address                           string
	Lat, Lng                          float64
	Units                             int
	AreaM2                            int
	Trades                            []string
	Amenities                         []string
	DayRate, MonthRate                int64 // centimes of MAD
	Columns                           int   // units per row on the floor plan
}

// Places are the venues of DESIGN.md. Unit counts given by the programmes
// are kept exactly (Aouartas 25, Tafraout market 15); the others are sized
// from the descriptions of the spaces.
var Places = []Place{
	{
		Slug: "aouartas-artisan-zone", Name: "Zone artisanale et de services d'Aouartas", Commune: "Aouartas", Kind: "artisan_zone", Policy: "application",
		Description: map[string]string{
			"fr": "Zone d'environ 1 000 m² : 25 locaux pour les artisans de service — menuisiers, serruriers, ferronniers et autres métiers.",
			"en": "About 1,000 m² with 25 units for service artisans: carpenters, locksmiths, metalworkers and other trades.",
			"ar": "منطقة تقارب مساحتها 1000 متر مربع تضم 25 وحدة لحرفيي الخدمات: النجارة والأقفال والحدادة وحرف أخرى.",
		},
		Address: "Aouartas, province de Tiznit", Lat: 29.58, Lng: -9.63,
		Units: 25, AreaM2: 40, Trades: []string{"carpentry", "locksmithing", "metalwork", "mechanics", "electrical-repair"},
		Amenities: []string{"power", "water"}, DayRate: 4000, MonthRate: 60000, Columns: 5,
	},
	{
		Slug: "tafraout-artisan-market", Name: "Marché artisanal de Tafraout", Commune: "Tafraout", Kind: "market", Policy: "instant",
		Description: map[string]string{
			"fr": "Marché artisanal réhabilité : 15 unités d'exposition et de vente, espaces communs, eau, électricité et sanitaires.",
			"en": "The rehabilitated artisan market: 15 exhibition and sales units, shared areas, water, power and sanitation.",
			"ar": "السوق الحرفي المؤهل: 15 وحدة للعرض والبيع، وفضاءات مشتركة، والماء والكهرباء والمرافق الصحية.",
		},
		Address: "Centre de Tafraout", Lat: 29.7216, Lng: -8.9749,
		Units: 15, AreaM2: 16, Trades: []string{"any"}, Amenities: []string{"power", "water", "sanitation"},
		DayRate: 5000, MonthRate: 90000, Columns: 5,
	},
	{
		Slug: "tafraout-exhibition-space", Name: "Espace d'exposition et de vente de Tafraout", Commune: "Tafraout", Kind: "exhibition_space", Policy: "instant",
		Description: map[string]string{
			"fr": "Espace dédié aux produits de l'artisanat et de l'économie sociale, tourné vers les visiteurs de l'arrière-pays d'Agadir.",
			"en": "A space for craft and social-economy products, aimed at the tourists of Agadir's hinterland.",
			"ar": "فضاء مخصص لمنتجات الصناعة التقليدية والاقتصاد الاجتماعي موجه لزوار المناطق الخلفية لأكادير.",
		},
		Address: "Tafraout", Lat: 29.7230, Lng: -8.9720,
		Units: 10, AreaM2: 12, Trades: []string{"any"}, Amenities: []string{"power"},
		DayRate: 6000, MonthRate: 100000, Columns: 5,
	},
	{
		Slug: "ameln-exhibition-space", Name: "Espace d'exposition des produits du terroir d'Ameln", Commune: "Ameln", Kind: "exhibition_space", Policy: "instant",
		Description: map[string]string{
			"fr": "Espace d'exposition des produits traditionnels d'Ameln, où se tiennent les foires du Festival Tifawin et de la Fête des amandiers.",
			"en": "Ameln's exhibition space for traditional products, home of the fairs of Festival Tifawin and the Almond Festival.",
			"ar": "فضاء عرض المنتجات التقليدية بأملن، حيث تقام معارض مهرجان تيفاوين وعيد اللوز.",
		},
		Address: "Ameln, Tafraout", Lat: 29.7100, Lng: -9.0300,
		Units: 20, AreaM2: 9, Trades: []string{"any"}, Amenities: []string{"power"},
		DayRate: 3000, MonthRate: 50000, Columns: 5,
	},
	{
		Slug: "ameln-skills-centres", Name: "Centres de qualification des femmes d'Askin et d'Ighalen", Commune: "Ameln", Kind: "skills_centre", Policy: "application",
		Description: map[string]string{
			"fr": "Deux centres de qualification pour les femmes, aux douars Askin et Ighalen : ateliers de tissage, de couture et de transformation.",
			"en": "Two skills centres for women, in the douars of Askin and Ighalen: weaving, sewing and processing workshops.",
			"ar": "مركزان لتأهيل النساء بدواري أسكين وإغالن: ورشات للنسيج والخياطة والتحويل.",
		},
		Address: "Douars Askin et Ighalen, Ameln", Lat: 29.7000, Lng: -9.0500,
		Units: 6, AreaM2: 30, Trades: []string{"weaving", "embroidery", "sewing", "argan-processing"}, Amenities: []string{"power", "water"},
		DayRate: 2000, MonthRate: 30000, Columns: 3,
	},
	{
		Slug: "tiznit-house-sse", Name: "Maison de l'économie sociale et solidaire de Tiznit", Commune: "Tiznit", Kind: "exhibition_space", Policy: "application",
		Description: map[string]string{
			"fr": "Espace permanent et équipé, au centre Haj Mohammed Bourkous, pour exposer et promouvoir les produits des coopératives locales.",
			"en": "A permanent, equipped space at the Haj Mohammed Bourkous centre to exhibit and promote local cooperatives' products.",
			"ar": "فضاء دائم ومجهز بمركز الحاج محمد بوركوس لعرض منتجات التعاونيات المحلية والترويج لها.",
		},
		Address: "Centre Haj Mohammed Bourkous, Tiznit", Lat: 29.6974, Lng: -9.7316,
		Units: 12, AreaM2: 12, Trades: []string{"any"}, Amenities: []string{"power", "water"},
		DayRate: 5000, MonthRate: 80000, Columns: 4,
	},
	{
		Slug: "sidi-bou-abdelli-space", Name: "Espace d'exposition et de vente de Sidi Bou Abdelli", Commune: "Sidi Bou Abdelli", Kind: "exhibition_space", Policy: "instant",
		Description: map[string]string{
			"fr": "Espace d'exposition et de vente des produits artisanaux de la commune.",
			"en": "An exhibition and sales space for the commune's crafts.",
			"ar": "فضاء لعرض وبيع منتجات الصناعة التقليدية بالجماعة.",
		},
		Address: "Sidi Bou Abdelli, province de Tiznit", Lat: 29.62, Lng: -9.55,
		Units: 8, AreaM2: 12, Trades: []string{"any"}, Amenities: []string{"power"},
		DayRate: 3000, MonthRate: 45000, Columns: 4,
	},
	{
		Slug: "anzi-artisan-complex", Name: "Complexe artisanal d'Anzi", Commune: "Anzi", Kind: "artisan_zone", Policy: "application",
		Description: map[string]string{
			"fr": "Complexe artisanal au cœur du programme de poterie du cercle d'Anzi (Anzi, Aït Ahmed, Tighmi).",
			"en": "The artisan complex at the heart of the Anzi circle's pottery programme (Anzi, Aït Ahmed, Tighmi).",
			"ar": "المركب الحرفي في قلب برنامج الفخار بدائرة أنزي (أنزي، آيت أحمد، تيغمي).",
		},
		Address: "Anzi, province de Tiznit", Lat: 29.6200, Lng: -9.3700,
		Units: 12, AreaM2: 35, Trades: []string{"pottery", "ceramics"}, Amenities: []string{"power", "water", "kiln"},
		DayRate: 3000, MonthRate: 45000, Columns: 4,
	},
	{
		Slug: "tiznit-pottery-complex", Name: "Complexe artisanal de la poterie de Tiznit", Commune: "Tiznit", Kind: "artisan_zone", Policy: "application",
		Description: map[string]string{
			"fr": "Complexe dédié à la poterie : ateliers, fours et espace de vente.",
			"en": "A complex for potters: workshops, kilns and a sales area.",
			"ar": "مركب مخصص للفخار: ورشات وأفران وفضاء للبيع.",
		},
		Address: "Tiznit", Lat: 29.7100, Lng: -9.7200,
		Units: 16, AreaM2: 30, Trades: []string{"pottery", "ceramics"}, Amenities: []string{"power", "water", "kiln"},
		DayRate: 3500, MonthRate: 55000, Columns: 4,
	},
}

// Shape is a unit's outline on its venue's floor plan.
type Shape struct {
	Kind string `json:"kind"`
	X    int    `json:"x"`
	Y    int    `json:"y"`
	W    int    `json:"w"`
	H    int    `json:"h"`
}

// UnitShapes lays n units out in rows of cols on a 1000×600 plan, leaving
// an aisle between rows.
func UnitShapes(n, cols int) []Shape {
	rows := (n + cols - 1) / cols
	const width, height, margin = 1000, 600, 20
	w := (width - margin*(cols+1)) / cols
	h := (height - margin*(rows+1)) / rows
	out := make([]Shape, n)
	for i := range n {
		r, c := i/cols, i%cols
		out[i] = Shape{Kind: "rect", X: margin + c*(w+margin), Y: margin + r*(h+margin), W: w, H: h}
	}
	return out
}

// SeedIfEmpty seeds the demo unless the database holds data, under a
// cluster-wide lock so that instances starting together seed it once. It
// reports whether this call seeded.
func SeedIfEmpty(ctx context.Context, db *database.DB, opts Options) (seeded bool, err error) {
	err = db.Exclusively(ctx, database.LockDemoSeed, nil, func() error {
		empty, err := db.IsEmpty(ctx)
		if err != nil || !empty {
			return err
		}
		if _, err := Seed(ctx, db, opts); err != nil {
			return err
		}
		seeded = true
		return nil
	})
	return seeded, err
}

// Seed loads the demo into db. It refuses a database that already holds
// venues or users.
func Seed(ctx context.Context, db *database.DB, opts Options) (Result, error) {
	var res Result
	empty, err := db.IsEmpty(ctx)
	if err != nil {
		return res, err
	}
	if !empty {
		return res, fmt.Errorf("seed: the database is not empty")
	}
	err = db.Transact(ctx, func(tx *gorm.DB) error {
		res = Result{}
		now := time.Now().UTC()
		for _, p := range Places {
			desc, _ := json.Marshal(p.Description)
			if err := tx.Exec(`INSERT INTO venues (slug, name, commune, kind, policy, description, address, latitude, longitude, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				p.Slug, p.Name, p.Commune, p.Kind, p.Policy, string(desc), p.Address, p.Lat, p.Lng, now, now).Error; err != nil {
				return fmt.Errorf("venue %s: %w", p.Slug, err)
			}
			var venueID int64
			if err := tx.Raw("SELECT id FROM venues WHERE slug = ?", p.Slug).Scan(&venueID).Error; err != nil {
				return err
			}
			trades, _ := json.Marshal(p.Trades)
			amen, _ := json.Marshal(p.Amenities)
			prefix := string(rune('A' + res.Venues%26))
			for i, sh := range UnitShapes(p.Units, p.Columns) {
				shape, _ := json.Marshal(sh)
				code := fmt.Sprintf("%s-%02d", prefix, i+1)
				if err := tx.Exec(`INSERT INTO units (venue_id, code, area_m2, trades, amenities, day_rate, month_rate, currency, shape, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, 'MAD', ?, ?, ?)`,
					venueID, code, p.AreaM2, string(trades), string(amen), p.DayRate, p.MonthRate, string(shape), now, now).Error; err != nil {
					return fmt.Errorf("unit %s of %s: %w", code, p.Slug, err)
				}
				res.Units++
			}
			res.Venues++
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	// The administrator gets a fresh random password, kept (mode 0600) where
	// `souk serve` prints it at every start.
	res.AdminEmail, res.AdminPassword = AdminEmail, randomPassword()
	if _, err := account.New(db, account.Options{Password: opts.Password}).CreateAdmin(ctx, res.AdminEmail, "Administrateur Souk", res.AdminPassword); err != nil {
		return res, fmt.Errorf("seed the administrator: %w", err)
	}
	if res.Fairs, err = seedFairs(ctx, db); err != nil {
		return res, fmt.Errorf("seed the fairs: %w", err)
	}
	if opts.Media != nil {
		if res.Cooperatives, res.Products, err = seedCatalog(ctx, db, opts.Media, opts.Password, res.AdminEmail, res.AdminPassword); err != nil {
			return res, fmt.Errorf("seed the catalog: %w", err)
		}
	}
	if opts.CredentialsFile != "" {
		if err := os.MkdirAll(filepath.Dir(opts.CredentialsFile), 0o750); err != nil {
			return res, err
		}
		line := res.AdminEmail + " / " + res.AdminPassword + "  (cooperative managers: cooperative1…5@souk.localhost, same password)\n"
		if err := os.WriteFile(opts.CredentialsFile, []byte(line), 0o600); err != nil {
			return res, fmt.Errorf("write the demo credentials: %w", err)
		}
	}
	return res, nil
}

func randomPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
