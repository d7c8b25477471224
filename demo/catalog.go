package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/media"
	"github.com/souk-tiznit/souk/storefront"
)

// coop is one demo cooperative with its products.
type coop struct {
	Name, Commune   string
	Crafts          []string
	Story           map[string]string
	Women, Men, Dis int
	Certificate     *cert
	Products        []product
}

type cert struct{ Scheme, Level, Number, Issuer string }

type product struct {
	Title, Description map[string]string
	Craft              string
	Materials          []string
	WeightG            int
	Price              int64 // centimes
	Stock              int
	OneOfAKind         bool
	MadeToOrderDays    int
	Shape              string // the generated picture: tagine, jar, dish, jewel, weave
	Hue                color.RGBA
	Certified          bool
}

var terracotta = color.RGBA{0xb5, 0x5a, 0x30, 0xff}

// Cooperatives are the demo's cooperatives: the pottery programme of the
// Anzi circle (Anzi, Aït Ahmed, Tighmi), Tiznit silver, Tafraout weavers.
var Cooperatives = []coop{
	{
		Name: "Coopérative des potières d'Anzi", Commune: "Anzi", Crafts: []string{"pottery"}, Women: 18, Men: 4, Dis: 2,
		Story: map[string]string{
			"fr": "Des potières d'Anzi qui façonnent à la main tajines et jarres en terre locale, cuites au four à bois.",
			"en": "Women potters of Anzi shaping tagines and jars by hand from local clay, fired in a wood kiln.",
			"ar": "نساء خزافات من أنزي يصنعن الطواجن والجرار يدويا من الطين المحلي ويطهينها في فرن الحطب.",
		},
		Certificate: &cert{Scheme: "morocco-handmade", Level: "2", Number: "MFM-2025-0412", Issuer: "Ministère du Tourisme, de l'Artisanat et de l'Économie sociale et solidaire"},
		Products: []product{
			{Title: map[string]string{"fr": "Tajine d'Anzi en terre cuite", "en": "Anzi terracotta tagine", "ar": "طاجين أنزي من الطين"},
				Description: map[string]string{"fr": "Tajine de cuisson tourné à la main, émaillé à l'intérieur, pour 4 personnes.", "en": "Hand-thrown cooking tagine, glazed inside, serves four.", "ar": "طاجين للطهي مصنوع يدويا، مطلي من الداخل، لأربعة أشخاص."},
				Craft:       "pottery", Materials: []string{"argile", "émail"}, WeightG: 2400, Price: 35000, Stock: 12, Shape: "tagine", Hue: terracotta, Certified: true},
			{Title: map[string]string{"fr": "Poterie émaillée : plat à couscous", "en": "Glazed couscous dish", "ar": "قصعة الكسكس المطلية"},
				Description: map[string]string{"fr": "Gasâa émaillée verte, décor incisé.", "en": "Green-glazed gasâa with incised pattern.", "ar": "قصعة مطلية بالأخضر بزخرفة محفورة."},
				Craft:       "pottery", Materials: []string{"argile", "émail"}, WeightG: 3100, Price: 42000, Stock: 6, Shape: "dish", Hue: color.RGBA{0x2e, 0x7d, 0x4f, 0xff}, Certified: true},
		},
	},
	{
		Name: "Coopérative Aït Ahmed pour la poterie", Commune: "Aït Ahmed", Crafts: []string{"pottery"}, Women: 9, Men: 11, Dis: 1,
		Story: map[string]string{
			"fr": "Jarres à eau et cruches d'Aït Ahmed, qui gardent l'eau fraîche l'été.",
			"en": "Water jars and jugs from Aït Ahmed that keep water cool in summer.",
			"ar": "جرار الماء والأباريق من آيت أحمد التي تحفظ برودة الماء صيفا.",
		},
		Products: []product{
			{Title: map[string]string{"fr": "Jarre à eau (khabia)", "en": "Water jar (khabia)", "ar": "خابية الماء"},
				Description: map[string]string{"fr": "Grande jarre non émaillée, pièce unique signée.", "en": "Large unglazed jar, a signed one-of-a-kind piece.", "ar": "خابية كبيرة غير مطلية، قطعة فريدة موقعة."},
				Craft:       "pottery", Materials: []string{"argile"}, WeightG: 6500, Price: 90000, Stock: 1, OneOfAKind: true, Shape: "jar", Hue: color.RGBA{0xc9, 0x7b, 0x4a, 0xff}},
			{Title: map[string]string{"fr": "Brûle-encens (mbakhra)", "en": "Incense burner (mbakhra)", "ar": "مبخرة"},
				Description: map[string]string{"fr": "Brûle-encens tourné, fait sur commande.", "en": "Wheel-thrown incense burner, made to order.", "ar": "مبخرة مصنوعة عند الطلب."},
				Craft:       "pottery", Materials: []string{"argile"}, WeightG: 600, Price: 12000, Stock: 0, MadeToOrderDays: 10, Shape: "jar", Hue: color.RGBA{0x8a, 0x4b, 0x2a, 0xff}},
		},
	},
	{
		Name: "Association des artisanes de Tighmi", Commune: "Tighmi", Crafts: []string{"pottery"}, Women: 23, Men: 0, Dis: 3,
		Story: map[string]string{
			"fr": "Une association de femmes de Tighmi, poterie culinaire traditionnelle.",
			"en": "A women's association of Tighmi making traditional cooking pottery.",
			"ar": "جمعية نسائية بتيغمي للفخار التقليدي للطبخ.",
		},
		Products: []product{
			{Title: map[string]string{"ar": "طاجين تيغمي الصغير", "fr": "Petit tajine de Tighmi"},
				Description: map[string]string{"ar": "طاجين صغير للطهي على الفحم.", "fr": "Petit tajine pour la cuisson au charbon."},
				Craft:       "pottery", Materials: []string{"argile"}, WeightG: 1500, Price: 22000, Stock: 9, Shape: "tagine", Hue: color.RGBA{0xa5, 0x4a, 0x25, 0xff}},
		},
	},
	{
		Name: "Coopérative Tazerzite de l'argent de Tiznit", Commune: "Tiznit", Crafts: []string{"silver-jewellery"}, Women: 5, Men: 12, Dis: 1,
		Story: map[string]string{
			"fr": "Bijoutiers de Tiznit : fibules tazerzite, bracelets et colliers en argent.",
			"en": "Tiznit silversmiths: tazerzite fibulae, bracelets and necklaces.",
			"ar": "صاغة تيزنيت: تازرزيت وأساور وقلائد من الفضة.",
		},
		Certificate: &cert{Scheme: "tazerzite", Number: "TZ-0198", Issuer: "Association Tazerzite, Tiznit"},
		Products: []product{
			{Title: map[string]string{"fr": "Fibule tazerzite en argent", "en": "Silver tazerzite fibula", "ar": "تازرزيت من الفضة"},
				Description: map[string]string{"fr": "Fibule triangulaire ciselée, émail et argent 925.", "en": "Chased triangular fibula, enamel and 925 silver.", "ar": "تازرزيت مثلثة منقوشة من الفضة والمينا."},
				Craft:       "silver-jewellery", Materials: []string{"argent 925", "émail"}, WeightG: 180, Price: 145000, Stock: 3, Shape: "jewel", Hue: color.RGBA{0xc0, 0xc4, 0xcc, 0xff}, Certified: true},
		},
	},
	{
		Name: "Coopérative féminine de tissage de Tafraout", Commune: "Tafraout", Crafts: []string{"carpets-weaving"}, Women: 31, Men: 0, Dis: 4,
		Story: map[string]string{
			"fr": "Tisserandes de Tafraout : tapis et coussins en laine teinte aux plantes.",
			"en": "Weavers of Tafraout: rugs and cushions of plant-dyed wool.",
			"ar": "نساجات تافراوت: زرابي ووسائد من الصوف المصبوغ بالنباتات.",
		},
		Products: []product{
			{Title: map[string]string{"fr": "Tapis amazigh en laine", "en": "Amazigh wool rug", "ar": "زربية أمازيغية من الصوف"},
				Description: map[string]string{"fr": "Tapis noué main, 150 × 100 cm, teintures végétales.", "en": "Hand-knotted rug, 150 × 100 cm, plant dyes.", "ar": "زربية معقودة يدويا، 150 × 100 سم، بأصباغ نباتية."},
				Craft:       "carpets-weaving", Materials: []string{"laine"}, WeightG: 4200, Price: 320000, Stock: 1, OneOfAKind: true, Shape: "weave", Hue: color.RGBA{0x9c, 0x2f, 0x2f, 0xff}},
		},
	},
}

// seedCatalog creates the cooperatives (verified, each with a manager who
// shares the administrator's generated demo password), their certificates
// (verified) and their products (published, with generated photos).
func seedCatalog(ctx context.Context, db *database.DB, store media.Store, params account.PasswordParams, adminEmail, password string) (coops, products int, err error) {
	acc := account.New(db, account.Options{Password: params})
	shop := storefront.New(db, storefront.Options{})
	admin, err := acc.FindUserByEmail(ctx, adminEmail)
	if err != nil {
		return 0, 0, err
	}
	adminP, err := acc.PrincipalOf(ctx, admin.ID)
	if err != nil {
		return 0, 0, err
	}
	today := time.Now().UTC()
	for i, c := range Cooperatives {
		email := fmt.Sprintf("cooperative%d@souk.localhost", i+1)
		mgr, _, err := acc.Register(ctx, account.Registration{Email: email, Password: password, Name: "Gérante — " + c.Name, Role: "cooperative", Lang: "fr"})
		if err != nil {
			return coops, products, fmt.Errorf("manager of %s: %w", c.Name, err)
		}
		mp, err := acc.PrincipalOf(ctx, mgr.ID)
		if err != nil {
			return coops, products, err
		}
		w, m, d := c.Women, c.Men, c.Dis
		co, err := acc.CreateCooperative(ctx, mp, account.CooperativeInput{Name: c.Name, Commune: c.Commune, Crafts: c.Crafts, Story: c.Story,
			Contact: account.Contact{Email: email}, MemberFigures: account.MemberFigures{Women: &w, Men: &m, WithDisabilities: &d}})
		if err != nil {
			return coops, products, fmt.Errorf("cooperative %s: %w", c.Name, err)
		}
		if _, err := acc.SetCooperativeStatus(ctx, adminP, co.ID, account.StatusVerified); err != nil {
			return coops, products, err
		}
		if mp, err = acc.PrincipalOf(ctx, mgr.ID); err != nil { // now a manager of the cooperative
			return coops, products, err
		}
		coops++
		var certIDs []int64
		if c.Certificate != nil {
			key := fmt.Sprintf("private/certificates/%d/%s.pdf", co.ID, c.Certificate.Number)
			doc := demoPDF(c.Name + " - " + c.Certificate.Number)
			if err := store.Put(ctx, key, bytes.NewReader(doc), int64(len(doc)), media.PutOptions{ContentType: media.PDFContentType}); err != nil {
				return coops, products, fmt.Errorf("certificate document: %w", err)
			}
			ce, err := shop.SubmitCertificate(ctx, mp, co.ID, storefront.CertificateInput{Scheme: c.Certificate.Scheme, Level: c.Certificate.Level,
				Number: c.Certificate.Number, Issuer: c.Certificate.Issuer,
				ValidFrom:  storefront.NewDate(today.Year()-1, 1, 15),
				ValidUntil: storefront.NewDate(today.Year()+2, 1, 14), DocumentKey: key})
			if err != nil {
				return coops, products, fmt.Errorf("certificate of %s: %w", c.Name, err)
			}
			if _, err := shop.VerifyCertificate(ctx, adminP, ce.ID); err != nil {
				return coops, products, err
			}
			certIDs = append(certIDs, ce.ID)
		}
		for _, p := range c.Products {
			weight, price := p.WeightG, p.Price
			in := storefront.ProductInput{Title: p.Title, Description: p.Description, Craft: p.Craft, Materials: p.Materials,
				WeightG: &weight, Price: &price, Currency: "MAD", Stock: p.Stock, OneOfAKind: p.OneOfAKind}
			if p.MadeToOrderDays > 0 {
				days := p.MadeToOrderDays
				in.MadeToOrderDays = &days
			}
			if p.Certified {
				in.CertificateIDs = certIDs
			}
			pr, err := shop.CreateProduct(ctx, mp, co.ID, in)
			if err != nil {
				return coops, products, fmt.Errorf("product %v: %w", p.Title, err)
			}
			if err := addDemoPhoto(ctx, shop, store, mp, pr.ID, p); err != nil {
				return coops, products, fmt.Errorf("photo of %v: %w", p.Title, err)
			}
			if _, err := shop.PublishProduct(ctx, mp, pr.ID); err != nil {
				return coops, products, fmt.Errorf("publish %v: %w", p.Title, err)
			}
			products++
		}
	}
	return coops, products, nil
}

// addDemoPhoto draws a picture of the piece and runs it through the real
// photo pipeline (variants, placeholder) into the store.
func addDemoPhoto(ctx context.Context, shop *storefront.Service, store media.Store, p *account.Principal, productID int64, pr product) error {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, drawPiece(pr.Shape, pr.Hue), &jpeg.Options{Quality: 90}); err != nil {
		return err
	}
	sum := sha256.Sum256(buf.Bytes())
	ph, err := media.ProcessPhoto(ctx, bytes.NewReader(buf.Bytes()), media.DefaultPhotoLimits())
	if err != nil {
		return err
	}
	if err := ph.Save(ctx, store); err != nil {
		return err
	}
	rec := storefront.PhotoRecord{Alt: storefront.Localized(pr.Title), Width: ph.Width, Height: ph.Height, Color: ph.Color, BlurHash: ph.BlurHash,
		ContentHash: hex.EncodeToString(sum[:])}
	for _, v := range ph.Variants {
		rec.Variants = append(rec.Variants, storefront.PhotoVariant{Width: v.Width, Height: v.Height, Key: v.Key})
	}
	_, err = shop.AddPhoto(ctx, p, productID, rec)
	return err
}

// drawPiece paints a simple picture of a craft piece on a sand background.
func drawPiece(shape string, hue color.RGBA) image.Image {
	const w, h = 960, 720
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	sand := color.RGBA{0xf3, 0xe9, 0xd8, 0xff}
	shade := func(c color.RGBA, f float64) color.RGBA {
		return color.RGBA{uint8(float64(c.R) * f), uint8(float64(c.G) * f), uint8(float64(c.B) * f), 0xff}
	}
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, shade(sand, 1-0.12*float64(y)/h))
			cx, cy := float64(x-w/2), float64(y)
			inside := false
			switch shape {
			case "tagine": // a cone on a wide dish
				inside = (cy > 200 && cy < 520 && math.Abs(cx) < (cy-200)*0.9) || (cy >= 520 && cy < 580 && math.Abs(cx) < 340)
			case "jar": // an ellipse with a neck
				inside = (cx*cx)/(230*230)+((cy-420)*(cy-420))/(230*230) < 1 || (cy > 130 && cy < 220 && math.Abs(cx) < 80)
			case "dish": // a shallow bowl
				inside = cy > 330 && cy < 520 && (cx*cx)/(380*380)+((cy-330)*(cy-330))/(190*190) < 1
			case "jewel": // a triangle fibula with a ring
				inside = (cy > 260 && cy < 560 && math.Abs(cx) < (560-cy)*0.6) || math.Abs(math.Hypot(cx, cy-210)-70) < 14
			default: // a woven rectangle with lozenges
				inside = math.Abs(cx) < 360 && cy > 120 && cy < 620
				if inside && int(math.Abs(cx)+math.Abs(float64(int(cy)%100-50))*2)%90 < 12 {
					img.SetRGBA(x, y, shade(sand, 0.95))
					continue
				}
			}
			if inside {
				img.SetRGBA(x, y, shade(hue, 0.75+0.25*(1-float64(y)/h)))
			}
		}
	}
	return img
}

// demoPDF is a minimal well-formed PDF standing in for an audit document.
func demoPDF(title string) []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n" +
		"% " + title + "\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}

// seedFairs puts the Almond Festival and Festival Tifawin fairs at Ameln.
func seedFairs(ctx context.Context, db *database.DB) (int, error) {
	store := booking.NewStore(db, nil, nil)
	ameln, err := store.FindVenueBySlug(ctx, "ameln-exhibition-space")
	if err != nil {
		return 0, err
	}
	now := time.Now()
	today := booking.DayOf(now)
	next := func(m time.Month, d int) booking.Day {
		day := booking.NewDay(now.Year(), m, d)
		if day.Before(today.AddDays(30)) {
			day = booking.NewDay(now.Year()+1, m, d)
		}
		return day
	}
	fairs := []booking.Event{
		{VenueID: ameln.ID, Name: booking.Text{"fr": "Foire de la Fête des amandiers", "en": "Almond Festival fair", "ar": "معرض عيد اللوز"},
			FirstDay: next(time.February, 12), StallPrice: 60000},
		{VenueID: ameln.ID, Name: booking.Text{"fr": "Foire du Festival Tifawin", "en": "Festival Tifawin fair", "ar": "معرض مهرجان تيفاوين"},
			FirstDay: next(time.August, 6), StallPrice: 50000},
	}
	for _, f := range fairs {
		f.LastDay = f.FirstDay.AddDays(3)
		if _, err := store.CreateEvent(ctx, f); err != nil {
			return 0, fmt.Errorf("fair %v: %w", f.Name, err)
		}
	}
	return len(fairs), nil
}
