package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/web"
)

// coopPage is a page of cooperative A's dashboard.
func coopPage(rest string) func(w *pageWorld) string {
	return func(w *pageWorld) string { return fmt.Sprintf("/fr/dashboard/cooperatives/%d%s", w.A, rest) }
}

// coopPageExpect: members of A (its manager) and administrators; nobody
// else, whatever their role.
var coopPageExpect = pageExpect{303, 403, 403, 200, 403, 200}

func init() {
	for _, pc := range []struct{ name, rest string }{
		{"cooperative overview of A", ""},
		{"cooperative products of A", "/products"},
		{"cooperative products of A, filtered", "/products?status=draft&q=tajine"},
		{"cooperative new product of A", "/products/new"},
		{"cooperative certificates of A", "/certificates"},
		{"cooperative members of A", "/members"},
		{"cooperative orders of A", "/orders"},
		{"cooperative money of A", "/money"},
		{"cooperative catalog import/export of A", "/catalog"},
	} {
		pageCases = append(pageCases, pageCase{Name: pc.name, Path: coopPage(pc.rest), Want: coopPageExpect})
	}
	pageCases = append(pageCases,
		pageCase{Name: "cooperative product of A", Want: coopPageExpect, Path: func(w *pageWorld) string {
			return fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/%d", w.A, w.Extra["coop.productA"].(int64))
		}},
		// A's product through B's dashboard is no product of B's.
		pageCase{Name: "cooperative product of A under B", Want: pageExpect{303, 403, 403, 403, 404, 404}, Path: func(w *pageWorld) string {
			return fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/%d", w.B, w.Extra["coop.productA"].(int64))
		}},
		pageCase{Name: "cooperative overview in Arabic", Path: func(w *pageWorld) string {
			return fmt.Sprintf("/ar/dashboard/cooperatives/%d", w.A)
		}, Want: coopPageExpect},
	)
	pageSetups = append(pageSetups, func(t *testing.T, w *pageWorld) {
		w.Extra["coop.productA"] = firstProductOf(t, w.S, w.A)
	})
}

func firstProductOf(t *testing.T, s *testserver.Server, coop int64) int64 {
	t.Helper()
	var id int64
	if err := s.DB.Raw("SELECT id FROM products WHERE cooperative_id = ? ORDER BY id LIMIT 1", coop).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("no product of cooperative %d: %v", coop, err)
	}
	return id
}

// csrfOf reads the form token of a page the visitor may open.
func (v *visitor) csrfOf(path string) string {
	v.t.Helper()
	resp, body := v.get(path)
	m := csrfField.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		v.t.Fatalf("GET %s: %d, no csrf_token", path, resp.StatusCode)
	}
	return m[1]
}

// postMultipart posts a form with files (field name → file names and
// contents, in order).
func (v *visitor) postMultipart(path string, fields map[string]string, field string, files ...[]byte) (*http.Response, string) {
	v.t.Helper()
	return v.do(v.multipartRequest(path, fields, field, files...))
}

func (v *visitor) multipartRequest(path string, fields map[string]string, field string, files ...[]byte) *http.Request {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, val := range fields {
		_ = mw.WriteField(k, val)
	}
	for i, f := range files {
		fw, err := mw.CreateFormFile(field, fmt.Sprintf("photo-%d.png", i))
		if err != nil {
			v.t.Fatal(err)
		}
		_, _ = fw.Write(f)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", v.base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return req
}

// testPNG is a small picture of one colour.
func testPNG(t *testing.T, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{c.R, c.G, uint8(x), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func count(t *testing.T, s *testserver.Server, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func wantSeeOther(t *testing.T, resp *http.Response, body, prefix string) string {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, prefix) {
		t.Fatalf("answered %d to %q, want 303 to %s…: %.400s", resp.StatusCode, loc, prefix, body)
	}
	return loc
}

func productForm(csrf string) url.Values {
	return url.Values{"csrf_token": {csrf}, "title_fr": {"Jarre d'Anzi"}, "title_en": {"Anzi jar"}, "title_ar": {"جرة أنزي"},
		"description_fr": {"Jarre tournée à la main."}, "craft": {"pottery"}, "price": {"350.00"}, "weight_g": {"1800"},
		"stock": {"3"}, "materials": {"argile, pigments"}}
}

// The product forms: create, bad input, CSRF, edit in three languages,
// photos (upload, reorder, delete), publish; and the catalog's CSV.
func TestCooperativeDashboardProductForms(t *testing.T) {
	w := newPageWorld(t)
	s := w.S
	mgr := w.Visitor(pgManagerA)
	mgr.t = t
	base := fmt.Sprintf("/fr/dashboard/cooperatives/%d", w.A)
	csrf := mgr.csrfOf(base + "/products/new")
	products := func() int64 { return count(t, s, "SELECT COUNT(*) FROM products WHERE cooperative_id = ?", w.A) }
	before := products()

	t.Run("ErrPriceNotAnAmount", func(t *testing.T) {
		mgr.t = t
		f := productForm(csrf)
		f.Set("price", "350,00")
		resp, body := mgr.post(base+"/products", f)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-price"`) ||
			!strings.Contains(body, "Saisissez le prix en dirhams avec un point") || !strings.Contains(body, `value="350,00"`) {
			t.Fatalf("a bad price: %d, want 422 with the price's message and the typed value: %.600s", resp.StatusCode, body)
		}
		if n := products(); n != before {
			t.Fatalf("a refused form created a product (%d → %d)", before, n)
		}
	})
	t.Run("ErrNoTitle", func(t *testing.T) {
		mgr.t = t
		f := productForm(csrf)
		f.Del("title_fr")
		f.Del("title_en")
		f.Del("title_ar")
		resp, body := mgr.post(base+"/products", f)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-title_fr"`) {
			t.Fatalf("no title: %d, want 422 beside the title: %.600s", resp.StatusCode, body)
		}
		if n := products(); n != before {
			t.Fatal("a refused form created a product")
		}
	})
	t.Run("ErrCSRF", func(t *testing.T) {
		mgr.t = t
		f := productForm("forged")
		resp, _ := mgr.post(base+"/products", f)
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a forged token: %d, want 403", resp.StatusCode)
		}
		f.Del("csrf_token")
		if resp, _ = mgr.post(base+"/products", f); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("no token: %d, want 403", resp.StatusCode)
		}
		if n := products(); n != before {
			t.Fatal("a forged form created a product")
		}
	})
	t.Run("ErrOtherCooperative", func(t *testing.T) {
		b := w.Visitor(pgManagerB)
		b.t = t
		bcsrf := b.csrfOf(fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/new", w.B))
		resp, _ := b.post(base+"/products", productForm(bcsrf))
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("manager of B creating in A: %d, want 403", resp.StatusCode)
		}
		if n := products(); n != before {
			t.Fatal("manager of B created a product in A")
		}
	})

	// Create: the price typed in dirhams is stored exactly in centimes.
	mgr.t = t
	resp, body := mgr.post(base+"/products", productForm(csrf))
	loc := wantSeeOther(t, resp, body, base+"/products/")
	var id int64
	if _, err := fmt.Sscanf(strings.TrimPrefix(loc, base+"/products/"), "%d", &id); err != nil {
		t.Fatalf("created product's address %q: %v", loc, err)
	}
	var row struct {
		Price  int64
		Status string
		Stock  int
		Slug   string
	}
	s.DB.Raw("SELECT price, status, stock, slug FROM products WHERE id = ?", id).Scan(&row)
	if row.Price != 35000 || row.Status != "draft" || row.Stock != 3 {
		t.Fatalf("created product: %+v, want a draft at 35000 centimes with stock 3", row)
	}
	if _, body := mgr.get(loc); !strings.Contains(body, "Produit créé") {
		t.Fatal("the product page does not say it was created")
	}
	product := fmt.Sprintf("%s/products/%d", base, id)

	t.Run("EditThreeLanguages", func(t *testing.T) {
		mgr.t = t
		f := productForm(csrf)
		f.Set("title_ar", "جرة أنزي الكبيرة")
		f.Set("title_fr", "Grande jarre d'Anzi")
		f.Set("title_en", "Large Anzi jar")
		f.Set("description_ar", "جرة مصنوعة يدويًا")
		f.Set("description_en", "A hand-thrown jar.")
		f.Set("price", "1250.5")
		f.Set("one_of_a_kind", "1")
		f.Set("stock", "1")
		resp, body := mgr.post(product, f)
		wantSeeOther(t, resp, body, product)
		var got struct {
			Price      int64
			Title      string
			OneOfAKind bool
		}
		s.DB.Raw("SELECT price, title, one_of_a_kind FROM products WHERE id = ?", id).Scan(&got)
		var titles map[string]string
		_ = json.Unmarshal([]byte(got.Title), &titles)
		if got.Price != 125050 || !got.OneOfAKind || titles["ar"] != "جرة أنزي الكبيرة" || titles["fr"] != "Grande jarre d'Anzi" || titles["en"] != "Large Anzi jar" {
			t.Fatalf("after the edit: %+v %v", got, titles)
		}
		for _, lang := range []string{"ar", "en"} {
			_, body := mgr.get(fmt.Sprintf("/%s/dashboard/cooperatives/%d/products/%d", lang, w.A, id))
			if !strings.Contains(body, "جرة مصنوعة يدويًا") || !strings.Contains(body, "A hand-thrown jar.") || strings.Contains(body, "[coop.") {
				t.Fatalf("the %s form does not show the three languages (or misses a message)", lang)
			}
		}
		// A stock of 2 for a one-of-a-kind piece is refused and changes nothing.
		f.Set("stock", "2")
		f.Set("price", "99")
		resp, body = mgr.post(product, f)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "class=\"notice\"") {
			t.Fatalf("one of a kind with stock 2: %d, want 422: %.500s", resp.StatusCode, body)
		}
		s.DB.Raw("SELECT price FROM products WHERE id = ?", id).Scan(&got.Price)
		if got.Price != 125050 {
			t.Fatalf("a refused edit changed the price to %d", got.Price)
		}
	})

	t.Run("PublishNeedsAPhoto", func(t *testing.T) {
		mgr.t = t
		resp, body := mgr.post(product+"/publish", url.Values{"csrf_token": {csrf}})
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="err-photos"`) {
			i := strings.Index(body, "<main")
			t.Fatalf("publish without a photo: %d, want 422 naming the photos: %s", resp.StatusCode, body[i:])
		}
		if st := count(t, s, "SELECT COUNT(*) FROM products WHERE id = ? AND status = 'draft'", id); st != 1 {
			t.Fatal("a refused publish changed the status")
		}
	})

	var photoIDs []int64
	photos := func() []int64 {
		var ids []int64
		s.DB.Raw("SELECT id FROM product_photos WHERE product_id = ? ORDER BY position", id).Scan(&ids)
		return ids
	}
	t.Run("Photos", func(t *testing.T) {
		mgr.t = t
		// Not a picture: refused beside the field, nothing stored.
		resp, body := mgr.postMultipart(product+"/photos", map[string]string{"csrf_token": csrf}, "file", []byte("%PDF-1.4 not a photo"))
		if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, `id="err-file"`) {
			t.Fatalf("a PDF as a photo: %d, want a 4xx with the field's message: %.500s", resp.StatusCode, body)
		}
		if len(photos()) != 0 {
			t.Fatal("a refused upload left a photo")
		}
		// No token: refused.
		if resp, _ := mgr.postMultipart(product+"/photos", nil, "file", testPNG(t, color.RGBA{R: 200})); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("an upload without the token: %d, want 403", resp.StatusCode)
		}
		// Two photos in one form (the phone's gallery).
		resp, body = mgr.postMultipart(product+"/photos", map[string]string{"csrf_token": csrf}, "file",
			testPNG(t, color.RGBA{R: 200}), testPNG(t, color.RGBA{G: 200}))
		wantSeeOther(t, resp, body, product)
		photoIDs = photos()
		if len(photoIDs) != 2 {
			t.Fatalf("%d photos after uploading two", len(photoIDs))
		}
		// The second moves up and becomes the cover.
		resp, body = mgr.post(fmt.Sprintf("%s/photos/%d/move", product, photoIDs[1]), url.Values{"csrf_token": {csrf}, "dir": {"up"}})
		wantSeeOther(t, resp, body, product)
		if got := photos(); len(got) != 2 || got[0] != photoIDs[1] || got[1] != photoIDs[0] {
			t.Fatalf("order after moving up: %v, want %v", got, []int64{photoIDs[1], photoIDs[0]})
		}
		// The page shows them in that order, with the buttons a phone needs
		// and the upload script.
		_, body = mgr.get(product)
		if js := web.Asset("dashboard.js"); !strings.Contains(js, "dashboard.") || js == "/static/dashboard.js" ||
			!strings.Contains(body, `<script src="`+js+`" defer></script>`) {
			t.Fatalf("the product page does not load the fingerprinted dashboard.js (%s)", js)
		}
		// dashboard.js uploads one photo per request, with the token in
		// the header, and is answered in JSON.
		req := mgr.multipartRequest(product+"/photos", nil, "file", testPNG(t, color.RGBA{R: 90, B: 90}))
		req.Header.Set("Accept", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		if resp, body := mgr.do(req); resp.StatusCode != 200 || strings.TrimSpace(body) != `{"added":1}` {
			t.Fatalf("the script's upload: %d %s", resp.StatusCode, body)
		}
		now := photos()
		if len(now) != 3 {
			t.Fatalf("%d photos after the script's upload, want 3", len(now))
		}
		resp, body = mgr.post(fmt.Sprintf("%s/photos/%d/delete", product, now[2]), url.Values{"csrf_token": {csrf}})
		wantSeeOther(t, resp, body, product)
		_, body = mgr.get(product)
		first, second := strings.Index(body, fmt.Sprintf(`data-photo="%d"`, photoIDs[1])), strings.Index(body, fmt.Sprintf(`data-photo="%d"`, photoIDs[0]))
		if first < 0 || second < first || !strings.Contains(body, `capture="environment"`) || !strings.Contains(body, "multiple") {
			t.Fatal("the product page does not list the photos in order with the camera upload")
		}
		// Without the token, moving is refused.
		if resp, _ := mgr.post(fmt.Sprintf("%s/photos/%d/move", product, photoIDs[0]), url.Values{"dir": {"up"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("a move without the token: %d, want 403", resp.StatusCode)
		}
		// A third, then deleted.
		resp, body = mgr.postMultipart(product+"/photos", map[string]string{"csrf_token": csrf}, "file", testPNG(t, color.RGBA{B: 200}))
		wantSeeOther(t, resp, body, product)
		third := photos()[2]
		resp, body = mgr.post(fmt.Sprintf("%s/photos/%d/delete", product, third), url.Values{"csrf_token": {csrf}})
		wantSeeOther(t, resp, body, product)
		if len(photos()) != 2 {
			t.Fatal("the deleted photo is still there")
		}
	})

	t.Run("Publish", func(t *testing.T) {
		mgr.t = t
		resp, body := mgr.post(product+"/publish", url.Values{"csrf_token": {csrf}})
		wantSeeOther(t, resp, body, product)
		var slug string
		s.DB.Raw("SELECT slug FROM products WHERE id = ? AND status = 'published'", id).Scan(&slug)
		if slug == "" {
			t.Fatal("the product is not published")
		}
		anon := newVisitor(t, s.URL)
		if resp, body := anon.get("/fr/products/" + slug); resp.StatusCode != 200 || !strings.Contains(body, "Grande jarre d&#39;Anzi") {
			t.Fatalf("the public page of the published product: %d", resp.StatusCode)
		}
	})

	t.Run("CatalogCSV", func(t *testing.T) {
		mgr.t = t
		resp, body := mgr.get(base + "/catalog.csv")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
			!strings.Contains(body, row.Slug) || !strings.Contains(body, "price") {
			t.Fatalf("export: %d %q: %.300s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		b := w.Visitor(pgManagerB)
		b.t = t
		if resp, _ := b.get(base + "/catalog.csv"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("manager of B exporting A's catalog: %d, want 403", resp.StatusCode)
		}
		// Importing it back changes nothing and creates nothing.
		n := products()
		resp, body = mgr.postMultipart(base+"/catalog", map[string]string{"csrf_token": csrf}, "csv", []byte(body))
		wantSeeOther(t, resp, body, base+"/catalog")
		if products() != n {
			t.Fatal("re-importing the export created products")
		}
		// A broken file is refused with its rows, and writes nothing.
		resp, body = mgr.postMultipart(base+"/catalog", map[string]string{"csrf_token": csrf}, "csv", []byte("title_fr,price_mad\nX,abc\n"))
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="form-error"`) || products() != n {
			t.Fatalf("a broken CSV: %d: %.400s", resp.StatusCode, body)
		}
	})
}

// placeCODOrder places a cash-on-delivery order of a product as a guest
// through the API and returns its parcel.
func placeCODOrder(t *testing.T, s *testserver.Server, product int64) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"items": []map[string]any{{"product_id": product, "quantity": 1}},
		"email": "buyer@example.com", "payment_method": "cod", "lang": "fr",
		"shipping_address": map[string]string{"name": "Fatima Zahra", "line1": "12 rue Hassan II", "city": "Tiznit",
			"postal_code": "85000", "country": "MA", "phone": "0612345678"}})
	resp, err := http.Post(s.URL+"/api/v1/orders", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Order struct {
			Fulfilments []struct {
				ID int64 `json:"id"`
			} `json:"fulfilments"`
		} `json:"order"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 201 || len(out.Order.Fulfilments) != 1 {
		t.Fatalf("place a COD order: %d %+v", resp.StatusCode, out)
	}
	return out.Order.Fulfilments[0].ID
}

// Ship and deliver a parcel from the orders page; the buyer is e-mailed.
func TestCooperativeDashboardShipAndDeliver(t *testing.T) {
	w := newPageWorld(t)
	s := w.S
	var product int64
	s.DB.Raw(`SELECT id FROM products WHERE cooperative_id = ? AND status = 'published' AND stock >= 1 ORDER BY id LIMIT 1`, w.A).Scan(&product)
	if product == 0 {
		t.Fatal("no published product of A")
	}
	parcel := placeCODOrder(t, s, product)
	mgr := w.Visitor(pgManagerA)
	mgr.t = t
	base := fmt.Sprintf("/fr/dashboard/cooperatives/%d", w.A)
	resp, page := mgr.get(base + "/orders")
	if resp.StatusCode != 200 || !strings.Contains(page, fmt.Sprintf(`data-parcel="%d" data-status="to_ship"`, parcel)) {
		t.Fatalf("the orders page does not list the parcel to ship: %d", resp.StatusCode)
	}
	if _, over := mgr.get(base); !strings.Contains(over, `data-count="to_ship">1<`) {
		t.Fatal("the overview does not count one parcel to ship")
	}
	csrf := csrfField.FindStringSubmatch(page)[1]
	status := func() string {
		var st string
		s.DB.Raw("SELECT status FROM fulfilments WHERE id = ?", parcel).Scan(&st)
		return st
	}
	ship := fmt.Sprintf("%s/orders/%d/ship", base, parcel)

	// No tracking number: the form again with its message; nothing moves.
	resp, body := mgr.post(ship, url.Values{"csrf_token": {csrf}, "carrier": {"Amana"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Indiquez le transporteur et le numéro de suivi") || status() != "to_ship" {
		t.Fatalf("ship without tracking: %d, status %s: %.400s", resp.StatusCode, status(), body)
	}
	// No token, or someone else's cooperative: refused.
	if resp, _ := mgr.post(ship, url.Values{"carrier": {"Amana"}, "tracking_number": {"RR1"}}); resp.StatusCode != http.StatusForbidden || status() != "to_ship" {
		t.Fatalf("ship without the token: %d", resp.StatusCode)
	}
	b := w.Visitor(pgManagerB)
	b.t = t
	bcsrf := b.csrfOf(fmt.Sprintf("/fr/dashboard/cooperatives/%d/orders", w.B))
	if resp, _ := b.post(fmt.Sprintf("/fr/dashboard/cooperatives/%d/orders/%d/ship", w.B, parcel),
		url.Values{"csrf_token": {bcsrf}, "carrier": {"Amana"}, "tracking_number": {"RR1"}}); resp.StatusCode != http.StatusForbidden || status() != "to_ship" {
		t.Fatalf("manager of B shipping A's parcel: %d, status %s", resp.StatusCode, status())
	}
	// Delivering before shipping is refused.
	resp, _ = mgr.post(fmt.Sprintf("%s/orders/%d/deliver", base, parcel), url.Values{"csrf_token": {csrf}})
	if resp.StatusCode != http.StatusConflict || status() != "to_ship" {
		t.Fatalf("deliver before shipping: %d, status %s", resp.StatusCode, status())
	}

	mails := func() int {
		files, _ := filepath.Glob(filepath.Join(s.Config.OutboxDir, "*.eml"))
		return len(files)
	}
	before := mails()
	resp, body = mgr.post(ship, url.Values{"csrf_token": {csrf}, "carrier": {"Amana"}, "tracking_number": {"RR123456789MA"}})
	wantSeeOther(t, resp, body, base+"/orders")
	if status() != "shipped" {
		t.Fatalf("status after shipping: %s", status())
	}
	deadline := time.Now().Add(5 * time.Second)
	for mails() == before && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if mails() == before {
		t.Fatal("no e-mail to the buyer when the parcel shipped")
	}
	resp, body = mgr.post(fmt.Sprintf("%s/orders/%d/deliver", base, parcel), url.Values{"csrf_token": {csrf}})
	wantSeeOther(t, resp, body, base+"/orders")
	if status() != "delivered" {
		t.Fatalf("status after delivery: %s", status())
	}
	// Cash on delivery: the sale is in the ledger now.
	if _, money := mgr.get(base + "/money"); !strings.Contains(money, "Vente") || !strings.Contains(money, "statements/") {
		t.Fatal("the money page shows no sale or no statement link")
	}
}

// Certificates and invitations: managers only, bad input re-rendered.
func TestCooperativeDashboardCertificatesAndMembers(t *testing.T) {
	w := newPageWorld(t)
	s := w.S
	mgr := w.Visitor(pgManagerA)
	mgr.t = t
	base := fmt.Sprintf("/fr/dashboard/cooperatives/%d", w.A)
	csrf := mgr.csrfOf(base + "/certificates")
	certs := func() int64 { return count(t, s, "SELECT COUNT(*) FROM certificates WHERE cooperative_id = ?", w.A) }
	before := certs()
	fields := map[string]string{"csrf_token": csrf, "scheme": "maroc-fait-main", "number": "MFM-2026-0042", "issuer": "Ministère",
		"valid_from": "2026-01-01", "valid_until": time.Now().AddDate(0, 0, 20).Format("2006-01-02")}
	// Not a PDF: refused beside the document, nothing stored.
	resp, body := mgr.postMultipart(base+"/certificates", fields, "document", []byte("not a pdf"))
	if resp.StatusCode < 400 || resp.StatusCode >= 500 || !strings.Contains(body, `id="err-document"`) || certs() != before {
		t.Fatalf("a certificate without a PDF: %d: %.400s", resp.StatusCode, body)
	}
	var scheme string
	s.DB.Raw("SELECT slug FROM certificate_schemes WHERE has_levels = ? ORDER BY position LIMIT 1", false).Scan(&scheme)
	fields["scheme"] = scheme
	pdf := []byte("%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
	resp, body = mgr.postMultipart(base+"/certificates", fields, "document", pdf)
	wantSeeOther(t, resp, body, base+"/certificates")
	if certs() != before+1 {
		t.Fatal("the certificate was not recorded")
	}
	if _, over := mgr.get(base); !strings.Contains(over, "data-expiring") || !strings.Contains(over, "MFM-2026-0042") {
		t.Fatal("the overview does not warn of a certificate ending in 20 days")
	}
	if _, page := mgr.get(base + "/certificates"); !strings.Contains(page, "Expire bientôt") || !strings.Contains(page, `data-status="pending"`) {
		t.Fatal("the certificates page shows no status or expiry warning")
	}

	csrf = mgr.csrfOf(base + "/members")
	resp, body = mgr.post(base+"/members", url.Values{"csrf_token": {csrf}, "email": {"not-an-address"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Saisissez une adresse e-mail valide") {
		t.Fatalf("invite a bad address: %d", resp.StatusCode)
	}
	resp, body = mgr.post(base+"/members", url.Values{"csrf_token": {csrf}, "email": {"new.potter@example.com"}, "role": {"member"}})
	wantSeeOther(t, resp, body, base+"/members")
	if _, body := mgr.get(base + "/members"); !strings.Contains(body, "new.potter@example.com") {
		t.Fatal("the pending invitation is not listed")
	}
	b := w.Visitor(pgManagerB)
	b.t = t
	bcsrf := b.csrfOf(fmt.Sprintf("/fr/dashboard/cooperatives/%d/members", w.B))
	if resp, _ := b.post(base+"/members", url.Values{"csrf_token": {bcsrf}, "email": {"intruder@example.com"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("manager of B inviting into A: %d, want 403", resp.StatusCode)
	}
}

// A manager on a phone signs in, creates a product, adds two photos from
// the gallery (dashboard.js uploads them with progress), publishes it and
// finds it on the public page; every page of the dashboard is captured at
// phone width.
func TestBrowserCooperativeManager(t *testing.T) {
	testenv.Chromium(t)
	w := newPageWorld(t)
	s := w.S
	b := startBrowser(t, s.URL)
	base := fmt.Sprintf("%s/fr/dashboard/cooperatives/%d", s.URL, w.A)
	dir := t.TempDir()
	var files []string
	for i, c := range []color.RGBA{{R: 180, G: 90}, {G: 120, B: 160}} {
		p := filepath.Join(dir, fmt.Sprintf("photo-%d.png", i))
		if err := os.WriteFile(p, testPNG(t, c), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	b.run("phone", chromedp.EmulateViewport(390, 844))
	b.run("sign in", chromedp.Navigate(s.URL+"/fr/login?next="+url.QueryEscape(fmt.Sprintf("/fr/dashboard/cooperatives/%d/products/new", w.A))),
		chromedp.WaitVisible(`#email`, chromedp.ByQuery),
		chromedp.SetValue(`#email`, w.Emails[pgManagerA], chromedp.ByQuery),
		chromedp.SetValue(`#password`, w.Password, chromedp.ByQuery),
		chromedp.Submit(`#password`, chromedp.ByQuery),
		chromedp.WaitVisible(`#title_fr`, chromedp.ByQuery))
	b.screenshot("coop-product-new")
	b.run("create", chromedp.SetValue(`#title_fr`, "Plat à couscous de Tighmi", chromedp.ByQuery),
		chromedp.SetValue(`#title_ar`, "طبق كسكس من تيغمي", chromedp.ByQuery),
		chromedp.SetValue(`#title_en`, "Tighmi couscous dish", chromedp.ByQuery),
		chromedp.SetValue(`#craft`, "pottery", chromedp.ByQuery),
		chromedp.SetValue(`#price`, "420.00", chromedp.ByQuery),
		chromedp.SetValue(`#weight_g`, "2200", chromedp.ByQuery),
		chromedp.SetValue(`#stock`, "2", chromedp.ByQuery),
		chromedp.Click(`[data-action="save-product"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[data-upload]`, chromedp.ByQuery))
	// dashboard.js took the form over (loaded under the CSP, fingerprinted).
	b.run("two photos", chromedp.WaitReady(`form[data-upload][data-enhanced]`, chromedp.ByQuery),
		chromedp.SetUploadFiles(`#file`, files, chromedp.ByQuery),
		chromedp.Click(`[data-action="upload"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.photo-list li:nth-child(2) img`, chromedp.ByQuery))
	var loc string
	b.run("after the upload", chromedp.Location(&loc))
	if !strings.Contains(loc, "done=photos") {
		t.Fatalf("after the upload the browser is at %s, not back on the product", loc)
	}
	b.screenshot("coop-product-photos")
	b.run("publish", chromedp.Click(`[data-action="publish"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`[data-public-link]`, chromedp.ByQuery))
	var href string
	b.run("public link", chromedp.AttributeValue(`[data-public-link]`, "href", &href, nil, chromedp.ByQuery))
	b.run("public page", chromedp.Navigate(s.URL+href), chromedp.WaitVisible(`main`, chromedp.ByQuery))
	var h1 string
	var imgs int
	b.run("read the public page", chromedp.Text(`h1`, &h1, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll("main img").length`, &imgs))
	if !strings.Contains(h1, "Plat à couscous de Tighmi") || imgs < 2 {
		t.Fatalf("the public page shows %q with %d pictures", h1, imgs)
	}
	b.screenshot("coop-public-product")
	for _, pg := range []string{"", "/products", "/certificates", "/members", "/orders", "/money", "/catalog"} {
		b.run("open "+pg, chromedp.Navigate(base+pg), chromedp.WaitVisible(`.coop`, chromedp.ByQuery))
		name := "coop" + strings.ReplaceAll(pg, "/", "-")
		b.screenshot(name)
	}
	b.run("arabic", chromedp.Navigate(fmt.Sprintf("%s/ar/dashboard/cooperatives/%d/products", s.URL, w.A)), chromedp.WaitVisible(`.coop`, chromedp.ByQuery))
	b.screenshot("coop-products-ar")
	if bl := b.blockedRequests(); len(bl) > 0 {
		t.Fatalf("the pages asked other hosts: %v", bl)
	}
}
