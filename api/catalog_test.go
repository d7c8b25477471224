package api_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/media"
)

// catalogSite is a real server (the wiring of `souk serve`) with a
// cooperative manager, an administrator and a draft to work on.
type catalogSite struct {
	srv          *testserver.Server
	manager      string // token of the cooperative's manager
	admin, buyer string
	coopID       int64
	product      productJSON // a draft of the cooperative, price and weight set
}

// productJSON is what the tests read of the product shape.
type productJSON struct {
	ID          int64              `json:"id"`
	Slug        string             `json:"slug"`
	Status      string             `json:"status"`
	Certified   bool               `json:"certified"`
	Cooperative struct{ ID int64 } `json:"cooperative"`
	Photos      []struct {
		ID            int64
		Width, Height int
		URLs          map[string]string `json:"urls"`
	} `json:"photos"`
	Certificates []struct{ Number, Scheme, Level string } `json:"certificates"`
}

func bearer(token string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + token}
}

func withHeader(h map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range h {
		out[a] = b
	}
	return out
}

func decodeAnswer(t *testing.T, a answer, dst any) {
	t.Helper()
	if err := json.Unmarshal(a.body, dst); err != nil {
		t.Fatalf("decode %s: %v", a.body, err)
	}
}

// register signs a person up through the API and returns their token.
func register(t *testing.T, base, email string, role account.Role) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": email, "password": testPassword, "name": "Test", "role": string(role)})
	a := do(t, "POST", base+"/api/v1/auth/register", string(body), map[string]string{"Content-Type": "application/json"})
	if a.status != 201 {
		t.Fatalf("register %s: %d %s", email, a.status, a.body)
	}
	var s sessionReply
	decodeAnswer(t, a, &s)
	return s.Token
}

func sendJSON(t *testing.T, method, u, token string, v any) answer {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, method, u, string(body), withHeader(bearer(token), "Content-Type", "application/json"))
}

func startCatalogSite(t *testing.T, opts testserver.Options) *catalogSite {
	t.Helper()
	s := &catalogSite{srv: testserver.Start(t, opts)}
	base := s.srv.URL
	s.manager = register(t, base, "manager@souk.test", account.RoleCooperative)
	s.buyer = register(t, base, "buyer@souk.test", account.RoleBuyer)
	if _, err := s.srv.Accounts.CreateAdmin(context.Background(), "admin@souk.test", "Admin", testPassword); err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(map[string]string{"email": "admin@souk.test", "password": testPassword})
	a := do(t, "POST", base+"/api/v1/auth/login", string(body), map[string]string{"Content-Type": "application/json"})
	var sess sessionReply
	decodeAnswer(t, a, &sess)
	s.admin = sess.Token
	a = sendJSON(t, "POST", base+"/api/v1/cooperatives", s.manager, map[string]any{"name": "Coopérative Tighmi", "commune": "Tighmi", "crafts": []string{"pottery"}})
	if a.status != 201 {
		t.Fatalf("create cooperative: %d %s", a.status, a.body)
	}
	var coop struct{ ID int64 }
	decodeAnswer(t, a, &coop)
	s.coopID = coop.ID
	s.product = s.newDraft(t, "Tajine de Tighmi")
	return s
}

func (s *catalogSite) newDraft(t *testing.T, title string) productJSON {
	t.Helper()
	a := sendJSON(t, "POST", fmt.Sprintf("%s/api/v1/cooperatives/%d/products", s.srv.URL, s.coopID), s.manager, map[string]any{
		"title": map[string]string{"fr": title}, "craft": "pottery", "price": 35000, "currency": "MAD", "weight_g": 1800, "stock": 3})
	if a.status != 201 {
		t.Fatalf("create product: %d %s", a.status, a.body)
	}
	var p productJSON
	decodeAnswer(t, a, &p)
	return p
}

// upload posts a photo file of the product as the manager.
func (s *catalogSite) upload(t *testing.T, productID int64, name string, data []byte) answer {
	t.Helper()
	body, ct := multipartBody(t, formPart{Name: "file", FileName: name, Data: data}, formPart{Name: "alt", Data: []byte("Tajine vu de face")})
	return do(t, "POST", fmt.Sprintf("%s/api/v1/products/%d/photos", s.srv.URL, productID), string(body), withHeader(bearer(s.manager), "Content-Type", ct))
}

func (s *catalogSite) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := s.srv.DB.Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// objects lists the keys under prefix in the site's store.
func objects(t *testing.T, store media.Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := store.List(context.Background(), prefix, func(o media.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatalf("list %s: %v", prefix, err)
	}
	return keys
}

// fetch gets a media URL; a local-store URL is sent to the test server,
// whose base URL the store does not know.
func (s *catalogSite) fetch(t *testing.T, raw string) answer {
	t.Helper()
	if i := strings.Index(raw, "/media/"); i >= 0 && !s.srv.Config.MinIO.Enabled() {
		raw = s.srv.URL + raw[i:]
	}
	return do(t, "GET", raw, "", nil)
}

// sideways is a landscape picture stored as a phone stores a portrait one:
// 96×48 pixels, its left quarter red, the rest blue, with EXIF saying
// "turn a quarter clockwise" (6) and GPS data.
func sideways(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 96, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 96; x++ {
			c := color.RGBA{20, 40, 220, 255}
			if x < 24 {
				c = color.RGBA{220, 20, 20, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return exifJPEG(buf.Bytes(), 6)
}

func isRed(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r>>8 > 160 && g>>8 < 90 && b>>8 < 90
}

func isBlue(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return b>>8 > 160 && r>>8 < 90 && g>>8 < 110
}

// hugePNG is the start of a PNG whose header declares w×h pixels: nothing
// to decode, only a size to refuse.
func hugePNG(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0)
	b = binary.BigEndian.AppendUint32(b, 13)
	b = append(b, ihdr...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(ihdr))
}

// truncatedJPEG is a detailed JPEG cut in the middle of its pixels.
func truncatedJPEG(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	rng := rand.New(rand.NewSource(7))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Intn(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()[:buf.Len()*6/10]
}

// Rule 7 end to end, on the local folder and on MinIO: the photo's variants
// are upright and carry no EXIF or GPS; every refused upload leaves no row
// and no object.
func TestPhotoUpload(t *testing.T) {
	for _, store := range []string{"local", "minio"} {
		t.Run(store, func(t *testing.T) {
			// The server-wide body limit (20 MB by default) sits above the
			// photo route's own; raised here so that the 20 MB upload
			// reaches the route rather than being cut off mid-send.
			s := startCatalogSite(t, testserver.Options{MinIO: store == "minio", Configure: func(c *config.Config) { c.BodyLimitBytes = 32 << 20 }})

			a := s.upload(t, s.product.ID, "IMG_0042.jpg", sideways(t))
			if a.status != 201 {
				t.Fatalf("upload: %d %s", a.status, a.body)
			}
			var ph struct {
				ID            int64
				Width, Height int
				Alt           map[string]string
				URLs          map[string]string `json:"urls"`
			}
			decodeAnswer(t, a, &ph)
			if ph.Width != 48 || ph.Height != 96 {
				t.Errorf("photo is %d×%d, want 48×96 (turned upright)", ph.Width, ph.Height)
			}
			if ph.Alt["fr"] != "Tajine vu de face" {
				t.Errorf("alt %v", ph.Alt)
			}
			for _, size := range []string{"thumb", "small", "medium", "large"} {
				if ph.URLs[size] == "" {
					t.Fatalf("no URL for %s: %v", size, ph.URLs)
				}
			}
			v := s.fetch(t, ph.URLs["large"])
			if v.status != 200 {
				t.Fatalf("fetch variant %s: %d %s", ph.URLs["large"], v.status, v.body)
			}
			if bytes.Contains(v.body, []byte("Exif")) || bytes.Contains(v.body, []byte(gpsMarker)) {
				t.Error("the public variant still carries EXIF or GPS data")
			}
			img, err := jpeg.Decode(bytes.NewReader(v.body))
			if err != nil {
				t.Fatalf("decode variant: %v", err)
			}
			b := img.Bounds()
			if b.Dx() != 48 || b.Dy() != 96 {
				t.Fatalf("variant is %d×%d, want 48×96", b.Dx(), b.Dy())
			}
			// Turned a quarter clockwise, the stored left quarter is on top.
			if top, bottom := img.At(24, 5), img.At(24, 90); !isRed(top) || !isBlue(bottom) {
				t.Errorf("variant not upright: top %v, bottom %v", top, bottom)
			}
			for _, key := range objects(t, s.srv.Media, "public/photos/") {
				r, _, err := s.srv.Media.Get(context.Background(), key)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(r)
				r.Close()
				if bytes.Contains(data, []byte(gpsMarker)) || bytes.Contains(data, []byte("Exif")) {
					t.Errorf("stored object %s carries EXIF or GPS data", key)
				}
			}

			rows, objs := s.count(t, "product_photos"), len(objects(t, s.srv.Media, "public/photos/"))
			html := []byte("<!DOCTYPE html><html><head><title>pot</title></head><body><script>alert(1)</script></body></html>")
			for _, tc := range []struct {
				name, file string
				data       []byte
				want       int
			}{
				{"PDF", "pot.jpg", testPDF, 415},
				{"HTMLNamedJPEG", "pot.jpg", html, 415},
				{"TruncatedJPEG", "pot.jpg", truncatedJPEG(t), 422},
				{"HeaderOnly60MP", "pot.png", hugePNG(10000, 6000), 422},
				{"SixteenMB", "pot.jpg", append(smallJPEG(t, 8, 8, color.RGBA{1, 2, 3, 255}), make([]byte, 16<<20)...), 413},
				{"TwentyMB", "pot.jpg", append(smallJPEG(t, 8, 8, color.RGBA{1, 2, 3, 255}), make([]byte, 20<<20)...), 413},
				{"SameAgain", "again.jpg", sideways(t), 409},
			} {
				t.Run(tc.name, func(t *testing.T) {
					a := s.upload(t, s.product.ID, tc.file, tc.data)
					if a.status != tc.want {
						t.Fatalf("%d, want %d: %.300s", a.status, tc.want, a.body)
					}
					problem(t, a)
					if n := s.count(t, "product_photos"); n != rows {
						t.Errorf("rows of product_photos: %d, want %d", n, rows)
					}
					if n := len(objects(t, s.srv.Media, "public/photos/")); n != objs {
						t.Errorf("objects under public/photos/: %d, want %d", n, objs)
					}
				})
			}
			// The photo refused as a duplicate shares the first one's
			// objects: they are still served.
			if v := s.fetch(t, ph.URLs["thumb"]); v.status != 200 {
				t.Errorf("the first photo lost its thumbnail: %d", v.status)
			}

			// Reorder and delete: the row goes, then its objects.
			second := s.upload(t, s.product.ID, "b.jpg", smallJPEG(t, 700, 500, color.RGBA{200, 180, 40, 255}))
			if second.status != 201 {
				t.Fatalf("second upload: %d %s", second.status, second.body)
			}
			var ph2 struct{ ID int64 }
			decodeAnswer(t, second, &ph2)
			a = sendJSON(t, "PUT", fmt.Sprintf("%s/api/v1/products/%d/photos/order", s.srv.URL, s.product.ID), s.manager,
				map[string]any{"photo_ids": []int64{ph2.ID, ph.ID}})
			var order struct{ Photos []struct{ ID int64 } }
			decodeAnswer(t, a, &order)
			if a.status != 200 || len(order.Photos) != 2 || order.Photos[0].ID != ph2.ID {
				t.Fatalf("reorder: %d %s", a.status, a.body)
			}
			before := len(objects(t, s.srv.Media, "public/photos/"))
			a = do(t, "DELETE", fmt.Sprintf("%s/api/v1/products/%d/photos/%d", s.srv.URL, s.product.ID, ph2.ID), "", bearer(s.manager))
			if a.status != 204 {
				t.Fatalf("delete photo: %d %s", a.status, a.body)
			}
			if after := len(objects(t, s.srv.Media, "public/photos/")); after >= before {
				t.Errorf("objects after deleting a photo: %d, before %d", after, before)
			}
			if v := s.fetch(t, ph.URLs["large"]); v.status != 200 {
				t.Errorf("the remaining photo lost its objects: %d", v.status)
			}
		})
	}
}

// MinIO going down: an upload answers 503 problem+json and writes nothing,
// product pages keep answering, and uploads work again once it is back,
// without a restart.
func TestPhotoUploadWhileMinIODown(t *testing.T) {
	peer := testenv.MinIO(t)
	proxy := testenv.NewProxy(t, peer.Endpoint)
	s := startCatalogSite(t, testserver.Options{MinIO: true, Configure: func(c *config.Config) { c.MinIO.Endpoint = proxy.Addr() }})
	if a := s.upload(t, s.product.ID, "a.jpg", sideways(t)); a.status != 201 {
		t.Fatalf("upload with MinIO up: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", fmt.Sprintf("%s/api/v1/admin/cooperatives/%d/verify", s.srv.URL, s.coopID), "", bearer(s.admin)); a.status != 200 {
		t.Fatalf("verify cooperative: %d %s", a.status, a.body)
	}
	if a := do(t, "POST", fmt.Sprintf("%s/api/v1/products/%d/publish", s.srv.URL, s.product.ID), "", bearer(s.manager)); a.status != 200 {
		t.Fatalf("publish: %d %s", a.status, a.body)
	}
	rows, objs := s.count(t, "product_photos"), len(objects(t, s.srv.Media, "public/photos/"))

	proxy.Down()
	a := s.upload(t, s.product.ID, "b.jpg", smallJPEG(t, 64, 64, color.RGBA{10, 200, 10, 255}))
	p := problem(t, a)
	if a.status != 503 || p.Code != "unavailable" || a.header.Get("Retry-After") == "" {
		t.Fatalf("upload with MinIO down: %d %+v (Retry-After %q)", a.status, p, a.header.Get("Retry-After"))
	}
	if n := s.count(t, "product_photos"); n != rows {
		t.Errorf("rows of product_photos: %d, want %d", n, rows)
	}
	a = do(t, "GET", s.srv.URL+"/api/v1/products/"+s.product.Slug, "", nil)
	var pj productJSON
	decodeAnswer(t, a, &pj)
	if a.status != 200 || len(pj.Photos) != 1 || pj.Photos[0].URLs["large"] == "" {
		t.Fatalf("product JSON with MinIO down: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", s.srv.URL+"/api/v1/products?q=tajine", "", nil); a.status != 200 || !strings.Contains(string(a.body), s.product.Slug) {
		t.Fatalf("search with MinIO down: %d %s", a.status, a.body)
	}
	if a := do(t, "GET", s.srv.URL+"/fr/products/"+s.product.Slug, "", nil); a.status != 200 && a.status != 404 {
		t.Errorf("product page with MinIO down: %d", a.status)
	}

	proxy.Up()
	if n := len(objects(t, s.srv.Media, "public/photos/")); n != objs {
		t.Errorf("objects after the failed upload: %d, want %d", n, objs)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		a := s.upload(t, s.product.ID, "c.jpg", smallJPEG(t, 64, 64, color.RGBA{10, 200, 10, 255}))
		if a.status == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("upload after MinIO came back: %d %s", a.status, a.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// The publish flow and rule 6 on both dialects: a draft of an unverified
// cooperative cannot be published (409 naming the cooperative); once
// verified it can and is found; certified=true lists it only while its
// certificate is verified and unexpired.
func TestPublishFlow(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		env := startEnv(t, envOptions{Dialect: dialect})
		manager := env.signUp(t, "manager@souk.test", account.RoleCooperative).Token
		if _, err := env.Accounts.CreateAdmin(context.Background(), "admin@souk.test", "Admin", testPassword); err != nil {
			t.Fatal(err)
		}
		r := env.send(t, call{Method: "POST", Path: "/api/v1/auth/login", Body: map[string]string{"email": "admin@souk.test", "password": testPassword}})
		var adm sessionReply
		r.decode(t, &adm)
		admin := adm.Token

		r = env.send(t, call{Method: "POST", Path: "/api/v1/cooperatives", Token: manager,
			Body: map[string]any{"name": "Coopérative Anzi", "commune": "Anzi", "crafts": []string{"pottery"}}})
		var coop struct{ ID int64 }
		r.decode(t, &coop)
		r = env.send(t, call{Method: "POST", Path: fmt.Sprintf("/api/v1/cooperatives/%d/products", coop.ID), Token: manager,
			Body: map[string]any{"title": map[string]string{"fr": "Jarre berbère émaillée"}, "craft": "pottery", "price": 42000, "weight_g": 2500, "stock": 1, "one_of_a_kind": true}})
		if r.Status != 201 {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var p productJSON
		r.decode(t, &p)

		publish := func() reply {
			return env.send(t, call{Method: "POST", Path: fmt.Sprintf("/api/v1/products/%d/publish", p.ID), Token: manager})
		}
		r = publish()
		if pr := r.problem(t); r.Status != 409 || !fieldsOf(pr).has("photos") || !fieldsOf(pr).has("cooperative") {
			t.Fatalf("publish without photo, cooperative pending: %d %+v", r.Status, pr)
		}
		body, ct := multipartBody(t, formPart{Name: "file", FileName: "jarre.jpg", Data: smallJPEG(t, 400, 300, color.RGBA{180, 90, 40, 255})})
		if r := env.send(t, call{Method: "POST", Path: fmt.Sprintf("/api/v1/products/%d/photos", p.ID), Token: manager, Body: body,
			Header: map[string]string{"Content-Type": ct}}); r.Status != 201 {
			t.Fatalf("photo: %d %s", r.Status, r.Body)
		}
		r = publish()
		if pr := r.problem(t); r.Status != 409 || len(pr.Errors) != 1 || pr.Errors[0].Field != "cooperative" {
			t.Fatalf("publish with cooperative pending: %d %+v", r.Status, pr)
		}
		if r := env.send(t, call{Method: "POST", Path: fmt.Sprintf("/api/v1/admin/cooperatives/%d/verify", coop.ID), Token: admin}); r.Status != 200 {
			t.Fatalf("verify cooperative: %d %s", r.Status, r.Body)
		}
		if r = publish(); r.Status != 200 {
			t.Fatalf("publish: %d %s", r.Status, r.Body)
		}

		search := func(q string) []productJSON {
			r := env.send(t, call{Method: "GET", Path: "/api/v1/products?" + q})
			if r.Status != 200 {
				t.Fatalf("search %s: %d %s", q, r.Status, r.Body)
			}
			var l struct {
				Items  []productJSON
				Facets struct{ Certified map[string]int64 }
			}
			r.decode(t, &l)
			return l.Items
		}
		if items := search("q=jarre"); len(items) != 1 || items[0].Slug != p.Slug || items[0].Status != "published" {
			t.Fatalf("q=jarre: %+v", items)
		}
		if items := search("certified=true"); len(items) != 0 {
			t.Fatalf("certified=true lists a product without certificate: %+v", items)
		}

		// A certificate: pending, it cannot even be linked; verified, it
		// gives the badge.
		form, fct := certificateForm(t, "MH-2025-0042", testPDF)
		r = env.send(t, call{Method: "POST", Path: fmt.Sprintf("/api/v1/cooperatives/%d/certificates", coop.ID), Token: manager, Body: form,
			Header: map[string]string{"Content-Type": fct}})
		if r.Status != 201 {
			t.Fatalf("submit certificate: %d %s", r.Status, r.Body)
		}
		var cert struct{ ID int64 }
		r.decode(t, &cert)
		link := func() reply {
			return env.send(t, call{Method: "PATCH", Path: fmt.Sprintf("/api/v1/products/%d", p.ID), Token: manager,
				Body: map[string]any{"certificate_ids": []int64{cert.ID}}})
		}
		if r := link(); r.Status != 422 || !fieldsOf(r.problem(t)).has("certificate_ids[0]") {
			t.Fatalf("link a pending certificate: %d %s", r.Status, r.Body)
		}
		if r := env.send(t, call{Method: "POST", Path: fmt.Sprintf("/api/v1/admin/certificates/%d/verify", cert.ID), Token: admin}); r.Status != 200 {
			t.Fatalf("verify certificate: %d %s", r.Status, r.Body)
		}
		if r := link(); r.Status != 200 {
			t.Fatalf("link certificate: %d %s", r.Status, r.Body)
		}
		items := search("certified=true")
		if len(items) != 1 || !items[0].Certified || len(items[0].Certificates) != 1 || items[0].Certificates[0].Number != "MH-2025-0042" {
			t.Fatalf("certified=true after verification: %+v", items)
		}
		// Past valid_until the badge goes, with no job to run.
		env.Clock.Advance(800 * 24 * time.Hour)
		if items := search("certified=true"); len(items) != 0 {
			t.Fatalf("certified=true lists a product whose certificate expired: %+v", items)
		}
		if items := search("certified=false&q=jarre"); len(items) != 1 || items[0].Certified {
			t.Fatalf("certified=false after expiry: %+v", items)
		}
	})
}

// Certificate documents are private: the owner and administrators are
// redirected to a signed link that serves the PDF; another cooperative's
// manager and a buyer get 404; anyone can check the number.
func TestCertificateDocument(t *testing.T) {
	for _, store := range []string{"local", "minio"} {
		t.Run(store, func(t *testing.T) {
			s := startCatalogSite(t, testserver.Options{MinIO: store == "minio"})
			other := register(t, s.srv.URL, "other@souk.test", account.RoleCooperative)
			if a := sendJSON(t, "POST", s.srv.URL+"/api/v1/cooperatives", other, map[string]any{"name": "Coopérative B", "commune": "Tiznit", "crafts": []string{"pottery"}}); a.status != 201 {
				t.Fatalf("cooperative B: %d %s", a.status, a.body)
			}
			// The document must be a PDF; a refusal stores nothing.
			certsBefore := s.count(t, "certificates")
			for name, tc := range map[string]struct {
				doc  []byte
				want int
			}{"JPEG": {smallJPEG(t, 8, 8, color.RGBA{}), 415}, "Truncated": {testPDF[:20], 422}} {
				form, ct := certificateForm(t, "MH-X-"+name, tc.doc)
				a := do(t, "POST", fmt.Sprintf("%s/api/v1/cooperatives/%d/certificates", s.srv.URL, s.coopID), string(form), withHeader(bearer(s.manager), "Content-Type", ct))
				if a.status != tc.want {
					t.Fatalf("%s: %d, want %d: %s", name, a.status, tc.want, a.body)
				}
				problem(t, a)
			}
			if n := s.count(t, "certificates"); n != certsBefore || len(objects(t, s.srv.Media, "private/certificates/")) != 0 {
				t.Fatalf("a refused document left %d rows (before %d) or objects", n, certsBefore)
			}

			form, ct := certificateForm(t, "MH 2025/0007", testPDF)
			a := do(t, "POST", fmt.Sprintf("%s/api/v1/cooperatives/%d/certificates", s.srv.URL, s.coopID), string(form), withHeader(bearer(s.manager), "Content-Type", ct))
			if a.status != 201 {
				t.Fatalf("submit: %d %s", a.status, a.body)
			}
			var cert struct{ ID int64 }
			decodeAnswer(t, a, &cert)
			if keys := objects(t, s.srv.Media, "private/certificates/"); len(keys) != 1 {
				t.Fatalf("stored documents: %v", keys)
			}
			doc := fmt.Sprintf("%s/api/v1/certificates/%d/document", s.srv.URL, cert.ID)
			for who, token := range map[string]string{"other manager": other, "buyer": s.buyer} {
				if a := do(t, "GET", doc, "", bearer(token)); a.status != 404 {
					t.Errorf("%s: %d, want 404", who, a.status)
				}
			}
			if a := do(t, "GET", doc, "", nil); a.status != 401 {
				t.Errorf("anonymous: %d, want 401", a.status)
			}
			var signed string
			for who, token := range map[string]string{"owner": s.manager, "admin": s.admin} {
				a := do(t, "GET", doc, "", bearer(token))
				loc := a.header.Get("Location")
				signed = loc
				if a.status != 302 || loc == "" {
					t.Fatalf("%s: %d %s", who, a.status, a.body)
				}
				if u, _ := url.Parse(loc); u.RawQuery == "" {
					t.Errorf("%s: the link %s is not signed", who, loc)
				}
				f := s.fetch(t, loc)
				if f.status != 200 || !bytes.Equal(f.body, testPDF) {
					t.Errorf("%s: the signed link answered %d with %d bytes", who, f.status, len(f.body))
				}
			}
			// The bare object is not public.
			if u, _ := url.Parse(signed); u != nil {
				if f := s.fetch(t, (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()); f.status == 200 {
					t.Error("the document is served without a signature")
				}
			}

			// The public check, by number with blanks and case ignored.
			for _, n := range []string{"MH 2025/0007", "mh2025/0007"} {
				a := do(t, "GET", s.srv.URL+"/api/v1/certificates/"+url.PathEscape(n), "", nil)
				if s.srv.Config.MinIO.Enabled() { // once is enough
					break
				}
				// The cooperative is still pending: its certificates are not public.
				if a.status != 404 {
					t.Errorf("check %q of a pending cooperative: %d", n, a.status)
				}
			}
			if a := do(t, "POST", fmt.Sprintf("%s/api/v1/admin/cooperatives/%d/verify", s.srv.URL, s.coopID), "", bearer(s.admin)); a.status != 200 {
				t.Fatalf("verify cooperative: %d", a.status)
			}
			a = do(t, "GET", s.srv.URL+"/api/v1/certificates/"+url.PathEscape("mh2025/0007"), "", nil)
			var check struct {
				Items []struct {
					Number, Scheme, Level, Status string
					Valid                         bool
					ValidUntil                    string `json:"valid_until"`
				}
			}
			decodeAnswer(t, a, &check)
			if a.status != 200 || len(check.Items) != 1 || check.Items[0].Number != "MH 2025/0007" || check.Items[0].Status != "pending" ||
				check.Items[0].Valid || check.Items[0].Level != "2" || check.Items[0].ValidUntil == "" {
				t.Fatalf("public check: %d %s", a.status, a.body)
			}
		})
	}
}

// The catalog CSV: a file with one bad row is refused whole, naming the
// line and the column; a clean file creates every row; the export reads
// back as an update of the same products.
func TestCatalogCSV(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		env := startEnv(t, envOptions{Dialect: dialect})
		manager := env.signUp(t, "manager@souk.test", account.RoleCooperative).Token
		r := env.send(t, call{Method: "POST", Path: "/api/v1/cooperatives", Token: manager,
			Body: map[string]any{"name": "Coopérative Aït Ahmed", "commune": "Aït Ahmed", "crafts": []string{"pottery"}}})
		var coop struct{ ID int64 }
		r.decode(t, &coop)
		path := fmt.Sprintf("/api/v1/cooperatives/%d/products/import", coop.ID)
		csvHeader := map[string]string{"Content-Type": "text/csv; charset=utf-8"}

		bad := "title_fr,title_ar,craft,price_mad,weight_g,stock,materials\n" +
			"Tajine,طاجين,pottery,120.50,1500,2,argile; engobe\n" +
			"Jarre,,pottery,douze,900,1,argile\n" +
			"Plat,,pottery,80,700,4,argile\n"
		before := env.countRows(t, "products")
		r = env.send(t, call{Method: "POST", Path: path, Token: manager, Body: bad, Header: csvHeader})
		pr := r.problem(t)
		if r.Status != 422 || !fieldsOf(pr).has("line 3: price_mad") {
			t.Fatalf("bad row: %d %+v", r.Status, pr)
		}
		if after := env.countRows(t, "products"); after["products"] != before["products"] {
			t.Fatalf("a refused import wrote products: %v → %v", before, after)
		}
		if r := env.send(t, call{Method: "POST", Path: path, Token: manager, Body: bad}); r.Status != 415 {
			t.Errorf("import sent as JSON: %d, want 415", r.Status)
		}

		good := strings.Replace(bad, "douze", "12.00", 1)
		r = env.send(t, call{Method: "POST", Path: path, Token: manager, Body: good, Header: csvHeader})
		var res struct {
			Created, Updated int
			Slugs            []string
		}
		r.decode(t, &res)
		if r.Status != 200 || res.Created != 3 || res.Updated != 0 || len(res.Slugs) != 3 {
			t.Fatalf("clean import: %d %s", r.Status, r.Body)
		}

		export := func() string {
			r := env.send(t, call{Method: "GET", Path: fmt.Sprintf("/api/v1/cooperatives/%d/products/export", coop.ID), Token: manager})
			if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("export: %d %s", r.Status, r.Body)
			}
			return string(r.Body)
		}
		first := export()
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(first, "\uFEFF"))).ReadAll()
		if err != nil || len(recs) != 4 {
			t.Fatalf("export holds %d records (%v):\n%s", len(recs), err, first)
		}
		r = env.send(t, call{Method: "POST", Path: path, Token: manager, Body: first, Header: csvHeader})
		r.decode(t, &res)
		if r.Status != 200 || res.Created != 0 || res.Updated != 3 {
			t.Fatalf("re-import of the export: %d %s", r.Status, r.Body)
		}
		if second := export(); second != first {
			t.Errorf("the export changed after a round trip:\n%s\nthen\n%s", first, second)
		}
		if !strings.Contains(first, "120.50") || !strings.Contains(first, "طاجين") || !strings.Contains(first, "argile; engobe") {
			t.Errorf("export lost data:\n%s", first)
		}
	})
}

// Deleting a draft removes its photo objects at once; an object another
// product's photo shares stays.
func TestDeleteDraftRemovesItsPhotoObjects(t *testing.T) {
	s := startCatalogSite(t, testserver.Options{})
	other := s.newDraft(t, "Jarre de Tighmi")
	pic := sideways(t)
	if a := s.upload(t, s.product.ID, "tajine.jpg", pic); a.status != 201 {
		t.Fatalf("upload: %d %s", a.status, a.body)
	}
	before := len(objects(t, s.srv.Media, "public/photos/"))
	if before == 0 {
		t.Fatal("the upload stored no object")
	}
	// The same picture on another draft shares the content-addressed objects.
	if a := s.upload(t, other.ID, "same.jpg", pic); a.status != 201 {
		t.Fatalf("upload to the other draft: %d %s", a.status, a.body)
	}
	if a := do(t, "DELETE", fmt.Sprintf("%s/api/v1/products/%d", s.srv.URL, s.product.ID), "", bearer(s.manager)); a.status != 204 {
		t.Fatalf("delete draft: %d %s", a.status, a.body)
	}
	if n := len(objects(t, s.srv.Media, "public/photos/")); n != before {
		t.Fatalf("%d objects after deleting a draft whose picture another draft shares, want %d kept", n, before)
	}
	if a := do(t, "DELETE", fmt.Sprintf("%s/api/v1/products/%d", s.srv.URL, other.ID), "", bearer(s.manager)); a.status != 204 {
		t.Fatalf("delete the other draft: %d %s", a.status, a.body)
	}
	if left := objects(t, s.srv.Media, "public/photos/"); len(left) != 0 {
		t.Fatalf("objects left after deleting every draft: %v", left)
	}
}
