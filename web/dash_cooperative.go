package web

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/storefront"
)

// CooperativeActions are what the cooperative dashboard does through the
// API's code rather than the domain's alone (the photo pipeline and its
// limiter, private certificate documents, the e-mails of shipping and
// delivery). internal/server wires them to api.Server's methods.
type CooperativeActions struct {
	// AddPhotos adds the photos of the request's multipart form (file
	// fields named file) to a product (api.Server.AddProductPhotos).
	AddPhotos func(c *fiber.Ctx, productID int64) (int, error)
	// DeletePhoto removes a product's photo and its objects
	// (api.Server.DeleteProductPhoto).
	DeletePhoto func(ctx context.Context, p *account.Principal, productID, photoID int64) error
	// SubmitCertificate records a certificate from the request's multipart
	// form (api.Server.SubmitCertificateForm).
	SubmitCertificate func(c *fiber.Ctx, cooperativeID int64) (storefront.Certificate, error)
	// Ship and Deliver move a parcel on and e-mail the buyer
	// (api.Server.ShipFulfilment, api.Server.DeliverFulfilment).
	Ship    func(ctx context.Context, p *account.Principal, id int64, carrier, tracking string) (storefront.CooperativeFulfilment, error)
	Deliver func(ctx context.Context, p *account.Principal, id int64) (storefront.Delivery, error)
}

// certificateWarnDays is how long before its end a certificate is flagged.
const certificateWarnDays = 60

// mountCooperativeDashboard registers the cooperative managers' pages
// under /{lang}/dashboard/cooperatives/{id}/….
func (s *site) mountCooperativeDashboard(app *fiber.App) {
	const base = "/:lang<len(2)>/dashboard/cooperatives/:id<int>"
	get := func(path string, h coopHandler) {
		app.Get(base+path, s.withLang(s.signedIn(s.inCooperative(h, false))))
	}
	post := func(path string, h coopHandler) {
		app.Post(base+path, s.withLang(s.signedIn(s.inCooperative(h, true))))
	}
	get("", s.showCoopOverview)
	get("/products", s.showCoopProducts)
	get("/products/new", s.showCoopNewProduct)
	post("/products", s.submitCoopNewProduct)
	get("/products/:pid<int>", s.showCoopProduct)
	post("/products/:pid<int>", s.submitCoopProduct)
	post("/products/:pid<int>/publish", s.submitCoopPublish)
	post("/products/:pid<int>/photos", s.submitCoopPhotos)
	post("/products/:pid<int>/photos/:photo<int>/move", s.submitCoopPhotoMove)
	post("/products/:pid<int>/photos/:photo<int>/delete", s.submitCoopPhotoDelete)
	get("/certificates", s.showCoopCertificates)
	post("/certificates", s.submitCoopCertificate)
	get("/members", s.showCoopMembers)
	post("/members", s.submitCoopInvite)
	get("/orders", s.showCoopOrders)
	post("/orders/:fid<int>/ship", s.submitCoopShip)
	post("/orders/:fid<int>/deliver", s.submitCoopDeliver)
	get("/money", s.showCoopMoney)
	get("/catalog", s.showCoopCatalog)
	get("/catalog.csv", s.exportCoopCatalog)
	post("/catalog", s.submitCoopImport)
}

// coopCtx is a request inside one cooperative's dashboard.
type coopCtx struct {
	c      *fiber.Ctx
	Lang   string
	P      *account.Principal
	Coop   account.Cooperative
	Manage bool // the visitor may change things
	CSRF   string
	Links  []dashLink
	Tabs   []dashLink
}

type coopHandler func(x *coopCtx) error

// inCooperative loads the cooperative of the route for its members and
// administrators (403 for anyone else, 404 for no such cooperative);
// change handlers are for its managers and administrators only.
func (s *site) inCooperative(h coopHandler, change bool) func(c *fiber.Ctx, lang string, p *account.Principal) error {
	return func(c *fiber.Ctx, lang string, p *account.Principal) error {
		id, err := strconv.ParseInt(c.Params("id"), 10, 64)
		if err != nil || id <= 0 {
			return errs.E(errs.NotFound, "no such cooperative")
		}
		if !p.CanReadCooperative(id) {
			return errs.E(errs.Forbidden, "only the cooperative's members may open its dashboard")
		}
		if change {
			if err := s.checkCSRF(c); err != nil {
				return err
			}
			if !p.CanManageCooperative(id) {
				return errs.E(errs.Forbidden, "only the cooperative's managers may change it")
			}
		}
		if s.deps.Accounts == nil || s.deps.Catalog == nil {
			return errs.E(errs.Unavailable, "the dashboard is not available on this server")
		}
		coop, err := s.deps.Accounts.FindCooperative(c.UserContext(), id)
		if err != nil {
			return err
		}
		x := &coopCtx{c: c, Lang: lang, P: p, Coop: coop, Manage: p.CanManageCooperative(id), CSRF: s.csrfToken(c),
			Links: s.dashboardLinks(c, lang, p)}
		x.Tabs = coopTabs(c, lang, id)
		return h(x)
	}
}

// base is the dashboard's address for the cooperative.
func (x *coopCtx) base() string {
	return "/" + x.Lang + "/dashboard/cooperatives/" + strconv.FormatInt(x.Coop.ID, 10)
}

func (x *coopCtx) ctx() context.Context { return x.c.UserContext() }

func coopTabs(c *fiber.Ctx, lang string, id int64) []dashLink {
	base := "/" + lang + "/dashboard/cooperatives/" + strconv.FormatInt(id, 10)
	tabs := []dashLink{
		{Href: base, Label: T(lang, "coop.tab.overview")},
		{Href: base + "/products", Label: T(lang, "coop.tab.products")},
		{Href: base + "/certificates", Label: T(lang, "coop.tab.certificates")},
		{Href: base + "/members", Label: T(lang, "coop.tab.members")},
		{Href: base + "/orders", Label: T(lang, "coop.tab.orders")},
		{Href: base + "/money", Label: T(lang, "coop.tab.money")},
		{Href: base + "/catalog", Label: T(lang, "coop.tab.catalog")},
	}
	path := string(c.Request().URI().Path())
	for i := range tabs {
		tabs[i].Active = path == tabs[i].Href || (i > 0 && strings.HasPrefix(path, tabs[i].Href+"/"))
	}
	return tabs
}

// page starts a dashboard page of the cooperative.
func (s *site) coopPage(x *coopCtx, titleKey, path string) Page {
	pg := s.page(x.c, x.Lang, T(x.Lang, titleKey)+" · "+x.Coop.Name, strings.TrimPrefix(x.base(), "/"+x.Lang)+path)
	pg.NoIndex = true
	return pg
}

// seeOther answers a form with 303 to a page of the dashboard, with a
// notice key for the page to show.
func (x *coopCtx) seeOther(path, notice string) error {
	to := x.base() + path
	if notice != "" {
		sep := "?"
		if strings.Contains(to, "?") {
			sep = "&"
		}
		to += sep + "done=" + url.QueryEscape(notice)
	}
	return x.c.Redirect(to, http.StatusSeeOther)
}

// notice is the message of ?done=, for known keys only.
func (x *coopCtx) notice() string {
	switch d := x.c.Query("done"); d {
	case "created", "saved", "published", "photos", "moved", "deleted", "certificate", "invited", "shipped", "delivered", "imported":
		return T(x.Lang, "coop.done."+d)
	}
	return ""
}

// formStatus is the status of a form shown again after a refusal.
func formStatus(code errs.Code) int {
	switch code {
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusUnprocessableEntity
}

// ---- overview

type coopOverview struct {
	Drafts, Published, ToShip int
	Balance                   string
	Expiring                  []certRow
}

func (s *site) showCoopOverview(x *coopCtx) error {
	ctx := x.ctx()
	cat := s.deps.Catalog
	var v coopOverview
	for _, st := range []storefront.ProductStatus{storefront.Draft, storefront.Published} {
		l, err := cat.FindCooperativeProducts(ctx, x.P, x.Coop.ID, storefront.ProductFilter{Status: st, PerPage: 1})
		if err != nil {
			return err
		}
		if st == storefront.Draft {
			v.Drafts = int(l.Total)
		} else {
			v.Published = int(l.Total)
		}
	}
	fs, _, err := cat.ListCooperativeFulfilments(ctx, x.Coop.ID, 1, 100)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.Status == storefront.FulfilmentToShip {
			v.ToShip++
		}
	}
	bal, err := cat.Balance(ctx, x.Coop.ID)
	if err != nil {
		return err
	}
	v.Balance = money(x.Lang, bal)
	certs, err := s.coopCertificates(x)
	if err != nil {
		return err
	}
	for _, c := range certs {
		if c.Warn != "" {
			v.Expiring = append(v.Expiring, c)
		}
	}
	return render(x.c, http.StatusOK, coopOverviewPage(s.coopPage(x, "coop.tab.overview", ""), x, v))
}

// ---- products

type coopProductRow struct {
	ID, Title, Status, StatusText, Price, Stock, Thumb string
}

type coopProductsView struct {
	Status, Q, Craft string
	Crafts           []craftOption
	Rows             []coopProductRow
	Total            int64
	Prev, Next       string
}

type craftOption struct{ Slug, Name string }

func (s *site) craftOptions(ctx context.Context, lang string) ([]craftOption, error) {
	names, order, err := s.craftNames(ctx, lang)
	if err != nil {
		return nil, err
	}
	out := make([]craftOption, 0, len(order))
	for _, slug := range order {
		out = append(out, craftOption{Slug: slug, Name: names[slug]})
	}
	return out, nil
}

func (s *site) showCoopProducts(x *coopCtx) error {
	ctx := x.ctx()
	v := coopProductsView{Status: x.c.Query("status"), Q: strings.TrimSpace(x.c.Query("q")), Craft: x.c.Query("craft")}
	switch storefront.ProductStatus(v.Status) {
	case storefront.Draft, storefront.Published, storefront.Archived:
	default:
		v.Status = ""
	}
	page, _ := strconv.Atoi(x.c.Query("page"))
	page = max(page, 1)
	var err error
	if v.Crafts, err = s.craftOptions(ctx, x.Lang); err != nil {
		return err
	}
	known := v.Craft == ""
	for _, c := range v.Crafts {
		known = known || c.Slug == v.Craft
	}
	if !known {
		v.Craft = ""
	}
	flt := storefront.ProductFilter{Q: v.Q, Craft: v.Craft, Status: storefront.ProductStatus(v.Status), Sort: "newest", Page: page, PerPage: 20}
	l, err := s.deps.Catalog.FindCooperativeProducts(ctx, x.P, x.Coop.ID, flt)
	if errs.Is(err, errs.Invalid) { // an odd query: show the whole list rather than an error
		flt = storefront.ProductFilter{Page: 1, PerPage: 20}
		l, err = s.deps.Catalog.FindCooperativeProducts(ctx, x.P, x.Coop.ID, flt)
	}
	if err != nil {
		return err
	}
	v.Total = l.Total
	for _, pr := range l.Items {
		row := coopProductRow{ID: strconv.FormatInt(pr.ID, 10), Title: Localized(pr.Title, x.Lang), Status: string(pr.Status),
			StatusText: T(x.Lang, "coop.status."+string(pr.Status)), Stock: strconv.Itoa(pr.Stock)}
		if row.Title == "" {
			row.Title = pr.Slug
		}
		if pr.Price != nil {
			row.Price = money(x.Lang, *pr.Price)
		}
		if len(pr.Photos) > 0 {
			if img, err := s.picture(ctx, pr.Photos[0], x.Lang, row.Title, 96, "48px", true); err == nil && img != nil {
				row.Thumb = img.Src
			}
		}
		v.Rows = append(v.Rows, row)
	}
	q := url.Values{}
	for k, val := range map[string]string{"status": v.Status, "q": v.Q, "craft": v.Craft} {
		if val != "" {
			q.Set(k, val)
		}
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page-1))
		v.Prev = x.base() + "/products?" + q.Encode()
	}
	if int64(page*20) < l.Total {
		q.Set("page", strconv.Itoa(page+1))
		v.Next = x.base() + "/products?" + q.Encode()
	}
	return render(x.c, http.StatusOK, coopProductsPage(s.coopPage(x, "coop.tab.products", "/products"), x, v))
}

// productForm is the product form as typed.
type productForm struct {
	ID                    int64
	Status                string
	Slug                  string
	Title, Description    map[string]string
	Craft, Price, Weight  string
	Stock, MadeToOrder    string
	Materials             string
	OneOfAKind            bool
	Photos                []coopPhoto
	Errors                map[string]string
	General               string
	Crafts                []craftOption
	CanPublish, PublicURL string
	Unpublished           string
}

type coopPhoto struct {
	ID, Src, Alt string
	First, Last  bool
}

func formFromProduct(lang string, pr storefront.Product) productForm {
	f := productForm{ID: pr.ID, Status: string(pr.Status), Slug: pr.Slug, Title: map[string]string{}, Description: map[string]string{},
		Craft: pr.Craft, Stock: strconv.Itoa(pr.Stock), OneOfAKind: pr.OneOfAKind, Materials: strings.Join(pr.Materials, ", "),
		Unpublished: pr.UnpublishedReason}
	for _, l := range Languages {
		f.Title[l], f.Description[l] = pr.Title[l], pr.Description[l]
	}
	if pr.Price != nil {
		f.Price = storefront.FormatMAD(*pr.Price)
	}
	if pr.WeightG != nil {
		f.Weight = strconv.Itoa(*pr.WeightG)
	}
	if pr.MadeToOrderDays != nil {
		f.MadeToOrder = strconv.Itoa(*pr.MadeToOrderDays)
	}
	if pr.Status == storefront.Published {
		f.PublicURL = "/" + lang + "/products/" + pr.Slug
	}
	return f
}

// readProductForm reads the typed form; errors of format (a price that is
// not an amount, a weight that is not a number) are set on the form.
func readProductForm(c *fiber.Ctx, lang string) (productForm, storefront.ProductPatch) {
	f := productForm{Title: map[string]string{}, Description: map[string]string{}, Errors: map[string]string{},
		Craft: strings.TrimSpace(c.FormValue("craft")), Price: strings.TrimSpace(c.FormValue("price")),
		Weight: strings.TrimSpace(c.FormValue("weight_g")), Stock: strings.TrimSpace(c.FormValue("stock")),
		MadeToOrder: strings.TrimSpace(c.FormValue("made_to_order_days")), Materials: strings.TrimSpace(c.FormValue("materials")),
		OneOfAKind: c.FormValue("one_of_a_kind") != ""}
	var patch storefront.ProductPatch
	patch.Title, patch.Description = map[string]string{}, map[string]string{}
	for _, l := range Languages {
		f.Title[l] = strings.TrimSpace(c.FormValue("title_" + l))
		f.Description[l] = strings.TrimSpace(c.FormValue("description_" + l))
		patch.Title[l], patch.Description[l] = f.Title[l], f.Description[l]
	}
	patch.Craft = &f.Craft
	patch.OneOfAKind = &f.OneOfAKind
	patch.Materials = []string{}
	for _, m := range strings.Split(f.Materials, ",") {
		if m = strings.TrimSpace(m); m != "" {
			patch.Materials = append(patch.Materials, m)
		}
	}
	if f.Price != "" {
		cents, err := storefront.ParseMAD(f.Price)
		if err != nil {
			f.Errors["price"] = T(lang, "coop.err.price")
		} else {
			patch.Price = &cents
		}
	}
	whole := func(name, v string, dst **int, min int) {
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < min {
			f.Errors[name] = T(lang, "coop.err."+name)
			return
		}
		*dst = &n
	}
	whole("weight_g", f.Weight, &patch.WeightG, 1)
	var stock *int
	whole("stock", f.Stock, &stock, 0)
	if stock == nil && f.Stock == "" {
		zero := 0
		stock = &zero
	}
	patch.Stock = stock
	whole("made_to_order_days", f.MadeToOrder, &patch.MadeToOrderDays, 1)
	if f.MadeToOrder == "" {
		zero := 0 // clears made to order
		patch.MadeToOrderDays = &zero
	}
	return f, patch
}

// productFieldErrors puts the domain's refusal beside the form's fields,
// in the page's language: bad fields (invalid), or what a product lacks to
// be (or stay) published (a conflict naming fields). False for an error
// that is not the form's.
func productFieldErrors(lang string, f *productForm, err error) bool {
	e := errs.As(err)
	if e == nil || !(e.Code == errs.Invalid || (e.Code == errs.Conflict && len(e.Fields) > 0)) {
		return false
	}
	if f.Errors == nil {
		f.Errors = map[string]string{}
	}
	for _, fe := range e.Fields {
		field, sub, _ := strings.Cut(fe.Field, ".")
		name := field
		switch field {
		case "title", "description":
			if sub == "" {
				sub = "fr"
			}
			name = field + "_" + sub
			if _, ok := f.Errors[name]; !ok {
				f.Errors[name] = T(lang, "coop.err."+field)
			}
			continue
		case "price", "weight_g", "stock", "craft", "materials", "made_to_order_days", "one_of_a_kind", "photos", "cooperative":
		default:
			f.General = T(lang, "coop.err.generic")
			continue
		}
		if _, ok := f.Errors[name]; !ok {
			f.Errors[name] = T(lang, "coop.err."+name)
		}
	}
	if f.General == "" {
		f.General = T(lang, "coop.err.fields")
	}
	return true
}

func (s *site) renderProductForm(x *coopCtx, status int, f productForm) error {
	var err error
	if f.Crafts, err = s.craftOptions(x.ctx(), x.Lang); err != nil {
		return err
	}
	path, key := "/products/new", "coop.product.new"
	if f.ID != 0 {
		path, key = "/products/"+strconv.FormatInt(f.ID, 10), "coop.product.edit"
	}
	return render(x.c, status, coopProductPage(s.coopPage(x, key, path), x, f))
}

func (s *site) showCoopNewProduct(x *coopCtx) error {
	f := productForm{Title: map[string]string{}, Description: map[string]string{}, Stock: "1"}
	return s.renderProductForm(x, http.StatusOK, f)
}

func (s *site) submitCoopNewProduct(x *coopCtx) error {
	f, patch := readProductForm(x.c, x.Lang)
	if len(f.Errors) > 0 {
		f.General = T(x.Lang, "coop.err.fields")
		return s.renderProductForm(x, http.StatusUnprocessableEntity, f)
	}
	in := storefront.ProductInput{Title: patch.Title, Description: patch.Description, Craft: f.Craft, Materials: patch.Materials,
		WeightG: patch.WeightG, Price: patch.Price, Stock: *patch.Stock, OneOfAKind: f.OneOfAKind}
	if patch.MadeToOrderDays != nil && *patch.MadeToOrderDays > 0 {
		in.MadeToOrderDays = patch.MadeToOrderDays
	}
	pr, err := s.deps.Catalog.CreateProduct(x.ctx(), x.P, x.Coop.ID, in)
	if err != nil {
		if productFieldErrors(x.Lang, &f, err) {
			return s.renderProductForm(x, http.StatusUnprocessableEntity, f)
		}
		return err
	}
	return x.seeOther("/products/"+strconv.FormatInt(pr.ID, 10), "created")
}

// coopProduct loads a product of this cooperative (404 for another's).
func (s *site) coopProduct(x *coopCtx) (storefront.Product, error) {
	id, err := strconv.ParseInt(x.c.Params("pid"), 10, 64)
	if err != nil {
		return storefront.Product{}, errs.E(errs.NotFound, "no such product")
	}
	pr, err := s.deps.Catalog.FindProduct(x.ctx(), x.P, id)
	if err != nil {
		return storefront.Product{}, err
	}
	if pr.Cooperative.ID != x.Coop.ID {
		return storefront.Product{}, errs.E(errs.NotFound, "no such product in this cooperative")
	}
	return pr, nil
}

func (s *site) withPhotos(x *coopCtx, f *productForm, pr storefront.Product) {
	f.ID, f.Status, f.Slug = pr.ID, string(pr.Status), pr.Slug
	if pr.Status == storefront.Published {
		f.PublicURL = "/" + x.Lang + "/products/" + pr.Slug
	}
	for i, ph := range pr.Photos {
		cp := coopPhoto{ID: strconv.FormatInt(ph.ID, 10), First: i == 0, Last: i == len(pr.Photos)-1}
		if img, err := s.picture(x.ctx(), ph, x.Lang, Localized(pr.Title, x.Lang), 200, "100px", true); err == nil && img != nil {
			cp.Src, cp.Alt = img.Src, img.Alt
		}
		f.Photos = append(f.Photos, cp)
	}
}

func (s *site) showCoopProduct(x *coopCtx) error {
	pr, err := s.coopProduct(x)
	if err != nil {
		return err
	}
	f := formFromProduct(x.Lang, pr)
	s.withPhotos(x, &f, pr)
	return s.renderProductForm(x, http.StatusOK, f)
}

func (s *site) submitCoopProduct(x *coopCtx) error {
	pr, err := s.coopProduct(x)
	if err != nil {
		return err
	}
	f, patch := readProductForm(x.c, x.Lang)
	s.withPhotos(x, &f, pr)
	if len(f.Errors) > 0 {
		f.General = T(x.Lang, "coop.err.fields")
		return s.renderProductForm(x, http.StatusUnprocessableEntity, f)
	}
	if _, err := s.deps.Catalog.UpdateProduct(x.ctx(), x.P, pr.ID, patch); err != nil {
		if productFieldErrors(x.Lang, &f, err) {
			return s.renderProductForm(x, http.StatusUnprocessableEntity, f)
		}
		if errs.Is(err, errs.Conflict) {
			f.General = T(x.Lang, "coop.err.conflict")
			return s.renderProductForm(x, http.StatusConflict, f)
		}
		return err
	}
	return x.seeOther("/products/"+strconv.FormatInt(pr.ID, 10), "saved")
}

func (s *site) submitCoopPublish(x *coopCtx) error {
	pr, err := s.coopProduct(x)
	if err != nil {
		return err
	}
	if _, err := s.deps.Catalog.PublishProduct(x.ctx(), x.P, pr.ID); err != nil {
		f := formFromProduct(x.Lang, pr)
		f.Errors = map[string]string{}
		s.withPhotos(x, &f, pr)
		switch {
		case productFieldErrors(x.Lang, &f, err):
			f.General = T(x.Lang, "coop.err.publish")
		case errs.Is(err, errs.Conflict) || errs.Is(err, errs.Forbidden):
			f.General = T(x.Lang, "coop.err.publish_state")
		default:
			return err
		}
		return s.renderProductForm(x, http.StatusUnprocessableEntity, f)
	}
	return x.seeOther("/products/"+strconv.FormatInt(pr.ID, 10), "published")
}

func (s *site) submitCoopPhotos(x *coopCtx) error {
	pr, err := s.coopProduct(x)
	if err != nil {
		return err
	}
	if s.deps.Cooperatives.AddPhotos == nil {
		return errs.E(errs.Unavailable, "photo uploads are not available on this server")
	}
	n, err := s.deps.Cooperatives.AddPhotos(x.c, pr.ID)
	if err != nil {
		e := errs.As(err)
		if e == nil || e.Code == errs.Internal {
			return err
		}
		// Show the product again (with what was added) and the reason.
		if pr, err = s.coopProduct(x); err != nil {
			return err
		}
		f := formFromProduct(x.Lang, pr)
		f.Errors = map[string]string{}
		s.withPhotos(x, &f, pr)
		key := "coop.err.photo"
		switch e.Code {
		case errs.TooLarge:
			key = "coop.err.photo_large"
		case errs.Conflict:
			key = "coop.err.photo_full"
		case errs.Unavailable:
			key = "coop.err.unavailable"
		}
		f.Errors["file"] = T(x.Lang, key)
		if n > 0 {
			f.General = N(x.Lang, "coop.photos.added", n)
		}
		return s.renderProductForm(x, formStatus(e.Code), f)
	}
	if strings.Contains(x.c.Get(fiber.HeaderAccept), "application/json") { // dashboard.js
		return x.c.JSON(fiber.Map{"added": n})
	}
	return x.seeOther("/products/"+strconv.FormatInt(pr.ID, 10)+"#photos", "photos")
}

func (s *site) submitCoopPhotoMove(x *coopCtx) error {
	pr, err := s.coopProduct(x)
	if err != nil {
		return err
	}
	photoID, _ := strconv.ParseInt(x.c.Params("photo"), 10, 64)
	ids := make([]int64, len(pr.Photos))
	at := -1
	for i, ph := range pr.Photos {
		ids[i] = ph.ID
		if ph.ID == photoID {
			at = i
		}
	}
	if at < 0 {
		return errs.E(errs.NotFound, "no such photo on this product")
	}
	to := at + 1
	if x.c.FormValue("dir") == "up" {
		to = at - 1
	}
	if to >= 0 && to < len(ids) {
		ids[at], ids[to] = ids[to], ids[at]
		if _, err := s.deps.Catalog.ReorderPhotos(x.ctx(), x.P, pr.ID, ids); err != nil {
			return err
		}
	}
	return x.seeOther("/products/"+strconv.FormatInt(pr.ID, 10)+"#photos", "moved")
}

func (s *site) submitCoopPhotoDelete(x *coopCtx) error {
	pr, err := s.coopProduct(x)
	if err != nil {
		return err
	}
	photoID, _ := strconv.ParseInt(x.c.Params("photo"), 10, 64)
	if s.deps.Cooperatives.DeletePhoto == nil {
		return errs.E(errs.Unavailable, "photos cannot be deleted on this server")
	}
	if err := s.deps.Cooperatives.DeletePhoto(x.ctx(), x.P, pr.ID, photoID); err != nil {
		return err
	}
	return x.seeOther("/products/"+strconv.FormatInt(pr.ID, 10)+"#photos", "deleted")
}

// ---- certificates

type certRow struct {
	ID, Scheme, Level, Number, Issuer, Until, Status, StatusText, Warn, Reason string
}

func (s *site) coopCertificates(x *coopCtx) ([]certRow, error) {
	certs, err := s.deps.Catalog.ListCooperativeCertificates(x.ctx(), x.P, x.Coop.ID)
	if err != nil {
		return nil, err
	}
	schemes, err := s.schemeNames(x.ctx(), x.Lang)
	if err != nil {
		return nil, err
	}
	today := storefront.DateOf(time.Now())
	soon := today.AddDays(certificateWarnDays)
	out := make([]certRow, 0, len(certs))
	for _, c := range certs {
		r := certRow{ID: strconv.FormatInt(c.ID, 10), Scheme: schemes[c.Scheme], Level: c.Level, Number: c.Number, Issuer: c.Issuer,
			Until: c.ValidUntil.String(), Status: string(c.Status), StatusText: T(x.Lang, "coop.cert."+string(c.Status)), Reason: c.RejectionReason}
		if r.Scheme == "" {
			r.Scheme = c.Scheme
		}
		switch {
		case c.Status == storefront.CertificateExpired:
			r.Warn = T(x.Lang, "coop.cert.warn_expired")
		case c.Status != storefront.CertificateRejected && !c.ValidUntil.IsZero() && !c.ValidUntil.After(soon):
			r.Warn = T(x.Lang, "coop.cert.warn_soon")
		}
		out = append(out, r)
	}
	return out, nil
}

type certForm struct {
	Scheme, Level, Number, Issuer, ValidFrom, ValidUntil string
	Errors                                               map[string]string
	General                                              string
	Schemes                                              []craftOption
}

func (s *site) renderCoopCertificates(x *coopCtx, status int, f certForm) error {
	rows, err := s.coopCertificates(x)
	if err != nil {
		return err
	}
	schemes, err := s.deps.Catalog.ListCertificateSchemes(x.ctx())
	if err != nil {
		return err
	}
	for _, sc := range schemes {
		f.Schemes = append(f.Schemes, craftOption{Slug: sc.Slug, Name: Localized(sc.Name, x.Lang)})
	}
	return render(x.c, status, coopCertificatesPage(s.coopPage(x, "coop.tab.certificates", "/certificates"), x, rows, f))
}

func (s *site) showCoopCertificates(x *coopCtx) error {
	return s.renderCoopCertificates(x, http.StatusOK, certForm{})
}

func (s *site) submitCoopCertificate(x *coopCtx) error {
	if s.deps.Cooperatives.SubmitCertificate == nil {
		return errs.E(errs.Unavailable, "certificates cannot be submitted on this server")
	}
	_, err := s.deps.Cooperatives.SubmitCertificate(x.c, x.Coop.ID)
	if err == nil {
		return x.seeOther("/certificates", "certificate")
	}
	e := errs.As(err)
	if e == nil || e.Code == errs.Internal || e.Code == errs.Forbidden || e.Code == errs.NotFound {
		return err
	}
	f := certForm{Errors: map[string]string{}}
	if form, ferr := x.c.MultipartForm(); ferr == nil {
		get := func(k string) string {
			if v := form.Value[k]; len(v) > 0 {
				return v[0]
			}
			return ""
		}
		f.Scheme, f.Level, f.Number, f.Issuer, f.ValidFrom, f.ValidUntil = get("scheme"), get("level"), get("number"), get("issuer"), get("valid_from"), get("valid_until")
	}
	for _, fe := range e.Fields {
		switch fe.Field {
		case "scheme", "level", "number", "issuer", "valid_from", "valid_until", "document":
			f.Errors[fe.Field] = T(x.Lang, "coop.err.cert_"+fe.Field)
		}
	}
	switch e.Code {
	case errs.UnsupportedMedia:
		f.Errors["document"] = T(x.Lang, "coop.err.cert_document")
	case errs.TooLarge:
		f.Errors["document"] = T(x.Lang, "coop.err.cert_large")
	case errs.Conflict:
		f.General = T(x.Lang, "coop.err.cert_duplicate")
	case errs.Unavailable:
		f.General = T(x.Lang, "coop.err.unavailable")
	}
	if f.General == "" {
		f.General = T(x.Lang, "coop.err.fields")
	}
	return s.renderCoopCertificates(x, formStatus(e.Code), f)
}

// ---- members

type memberRow struct{ Name, Email, Role string }

type inviteForm struct {
	Email, Role, Error string
	Pending            []memberRow
}

func (s *site) renderCoopMembers(x *coopCtx, status int, f inviteForm) error {
	ms, total, err := s.deps.Accounts.ListMembers(x.ctx(), x.P, x.Coop.ID, account.Page{Page: 1, PerPage: account.MaxPerPage})
	if err != nil {
		return err
	}
	rows := make([]memberRow, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, memberRow{Name: m.Name, Email: m.Email, Role: T(x.Lang, "coop.role."+string(m.Role))})
	}
	if x.Manage {
		inv, err := s.deps.Accounts.PendingInvitations(x.ctx(), x.P, x.Coop.ID)
		if err != nil {
			return err
		}
		for _, i := range inv {
			f.Pending = append(f.Pending, memberRow{Email: i.Email, Role: T(x.Lang, "coop.role."+string(i.Role))})
		}
	}
	return render(x.c, status, coopMembersPage(s.coopPage(x, "coop.tab.members", "/members"), x, rows, int(total), f))
}

func (s *site) showCoopMembers(x *coopCtx) error {
	return s.renderCoopMembers(x, http.StatusOK, inviteForm{})
}

func (s *site) submitCoopInvite(x *coopCtx) error {
	f := inviteForm{Email: strings.TrimSpace(x.c.FormValue("email")), Role: x.c.FormValue("role")}
	role := account.MemberRole(f.Role)
	if role != account.MemberRole("manager") {
		role = account.MemberRole("member")
	}
	_, err := s.deps.Accounts.InviteMember(x.ctx(), x.P, x.Coop.ID, f.Email, role)
	switch {
	case err == nil:
		return x.seeOther("/members", "invited")
	case errs.Is(err, errs.Invalid):
		f.Error = T(x.Lang, "coop.err.email")
	case errs.Is(err, errs.Conflict):
		f.Error = T(x.Lang, "coop.err.already_member")
	case errs.Is(err, errs.Unavailable):
		f.Error = T(x.Lang, "coop.err.unavailable")
	default:
		return err
	}
	return s.renderCoopMembers(x, http.StatusUnprocessableEntity, f)
}

// ---- orders

type coopParcel struct {
	ID, Number, Status, StatusText, Placed, Total, Carrier, Tracking string
	Address                                                          []string
	Lines                                                            []string
	CanShip, CanDeliver                                              bool
}

type shipForm struct {
	ID, Carrier, Tracking, Error string
}

func (s *site) renderCoopOrders(x *coopCtx, status int, sf shipForm) error {
	fs, _, err := s.deps.Catalog.ListCooperativeFulfilments(x.ctx(), x.Coop.ID, 1, 100)
	if err != nil {
		return err
	}
	var open, done []coopParcel
	for _, f := range fs {
		a := f.ShippingAddress
		v := coopParcel{ID: strconv.FormatInt(f.ID, 10), Number: f.OrderNumber, Status: string(f.Status),
			StatusText: T(x.Lang, "coop.parcel."+string(f.Status)), Placed: f.CreatedAt.In(storefront.Zone).Format("2006-01-02 15:04"),
			Total: money(x.Lang, f.Subtotal+f.Shipping), Carrier: f.Carrier, Tracking: f.TrackingNumber,
			CanShip: f.Status == storefront.FulfilmentToShip, CanDeliver: f.Status == storefront.FulfilmentShipped}
		for _, line := range []string{a.Name, a.Line1, a.Line2, strings.TrimSpace(a.PostalCode + " " + a.City), countryName(x.Lang, a.Country), a.Phone} {
			if strings.TrimSpace(line) != "" {
				v.Address = append(v.Address, line)
			}
		}
		for _, l := range f.Lines {
			v.Lines = append(v.Lines, fmt.Sprintf("%d × %s", l.Quantity, l.Title))
		}
		if v.CanShip || v.CanDeliver || f.Status == storefront.FulfilmentWaiting {
			open = append(open, v)
		} else {
			done = append(done, v)
		}
	}
	return render(x.c, status, coopOrdersPage(s.coopPage(x, "coop.tab.orders", "/orders"), x, open, done, sf))
}

func (s *site) showCoopOrders(x *coopCtx) error {
	return s.renderCoopOrders(x, http.StatusOK, shipForm{})
}

// coopParcelID reads the parcel of the route; one of another cooperative
// is refused by the domain (the manager of both may move it).
func coopParcelID(x *coopCtx) int64 {
	id, _ := strconv.ParseInt(x.c.Params("fid"), 10, 64)
	return id
}

func (s *site) submitCoopShip(x *coopCtx) error {
	sf := shipForm{ID: x.c.Params("fid"), Carrier: strings.TrimSpace(x.c.FormValue("carrier")), Tracking: strings.TrimSpace(x.c.FormValue("tracking_number"))}
	if s.deps.Cooperatives.Ship == nil {
		return errs.E(errs.Unavailable, "shipping is not available on this server")
	}
	_, err := s.deps.Cooperatives.Ship(x.ctx(), x.P, coopParcelID(x), sf.Carrier, sf.Tracking)
	switch {
	case err == nil:
		return x.seeOther("/orders", "shipped")
	case errs.Is(err, errs.Invalid):
		sf.Error = T(x.Lang, "coop.err.ship")
	case errs.Is(err, errs.Conflict):
		sf.Error = T(x.Lang, "coop.err.parcel_state")
	default:
		return err
	}
	return s.renderCoopOrders(x, http.StatusUnprocessableEntity, sf)
}

func (s *site) submitCoopDeliver(x *coopCtx) error {
	if s.deps.Cooperatives.Deliver == nil {
		return errs.E(errs.Unavailable, "deliveries cannot be recorded on this server")
	}
	_, err := s.deps.Cooperatives.Deliver(x.ctx(), x.P, coopParcelID(x))
	if errs.Is(err, errs.Conflict) {
		return s.renderCoopOrders(x, http.StatusConflict, shipForm{ID: x.c.Params("fid"), Error: T(x.Lang, "coop.err.parcel_state")})
	}
	if err != nil {
		return err
	}
	return x.seeOther("/orders", "delivered")
}

// ---- money

type ledgerRowView struct {
	Date, Kind, Order, Memo, Amount string
	Negative                        bool
}

type moneyView struct {
	Balance  string
	Rows     []ledgerRowView
	Payouts  []ledgerRowView
	Months   []monthLink
	Total    int64
	Prev     string
	Next     string
	ShowsAll bool
}

type monthLink struct{ Label, CSV string }

func (s *site) showCoopMoney(x *coopCtx) error {
	page, _ := strconv.Atoi(x.c.Query("page"))
	page = max(page, 1)
	const per = 50
	l, err := s.deps.Catalog.ListLedger(x.ctx(), x.Coop.ID, page, per)
	if err != nil {
		return err
	}
	v := moneyView{Balance: money(x.Lang, l.Balance), Total: l.Total}
	for _, e := range l.Items {
		r := ledgerRowView{Date: e.OccurredAt.In(storefront.Zone).Format("2006-01-02"), Kind: T(x.Lang, "coop.ledger."+string(e.Kind)),
			Order: e.OrderNumber, Memo: e.Memo, Amount: money(x.Lang, e.Amount), Negative: e.Amount < 0}
		v.Rows = append(v.Rows, r)
		if e.Kind == storefront.LedgerPayout {
			v.Payouts = append(v.Payouts, r)
		}
	}
	if page > 1 {
		v.Prev = x.base() + "/money?page=" + strconv.Itoa(page-1)
	}
	if int64(page*per) < l.Total {
		v.Next = x.base() + "/money?page=" + strconv.Itoa(page+1)
	}
	// The last twelve months, each a statement the API writes as CSV.
	now := time.Now().In(storefront.Zone)
	first := time.Date(now.Year(), now.Month(), 1, 12, 0, 0, 0, storefront.Zone)
	for i := range 12 {
		m := first.AddDate(0, -i, 0).Format("2006-01")
		v.Months = append(v.Months, monthLink{Label: m,
			CSV: fmt.Sprintf("/api/v1/cooperatives/%d/statements/%s?format=csv", x.Coop.ID, m)})
	}
	return render(x.c, http.StatusOK, coopMoneyPage(s.coopPage(x, "coop.tab.money", "/money"), x, v))
}

// ---- catalog CSV

type importView struct {
	Error   string
	Details []string
}

func (s *site) showCoopCatalog(x *coopCtx) error {
	return render(x.c, http.StatusOK, coopCatalogPage(s.coopPage(x, "coop.tab.catalog", "/catalog"), x, importView{}))
}

// exportCoopCatalog writes the catalog as the CSV the import reads back.
func (s *site) exportCoopCatalog(x *coopCtx) error {
	var buf bytes.Buffer
	if err := s.deps.Catalog.ExportCatalogCSV(x.ctx(), x.P, x.Coop.ID, &buf); err != nil {
		return err
	}
	x.c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	x.c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="catalog-%d.csv"`, x.Coop.ID))
	return x.c.Send(buf.Bytes())
}

// maxImportCSV bounds an imported catalog (as the API does).
const maxImportCSV = 10 << 20

func (s *site) submitCoopImport(x *coopCtx) error {
	v := importView{}
	fh, err := x.c.FormFile("csv")
	if err != nil || fh.Size == 0 {
		v.Error = T(x.Lang, "coop.err.csv_missing")
		return render(x.c, http.StatusUnprocessableEntity, coopCatalogPage(s.coopPage(x, "coop.tab.catalog", "/catalog"), x, v))
	}
	if fh.Size > maxImportCSV {
		v.Error = T(x.Lang, "coop.err.csv_large")
		return render(x.c, http.StatusRequestEntityTooLarge, coopCatalogPage(s.coopPage(x, "coop.tab.catalog", "/catalog"), x, v))
	}
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open the uploaded catalog: %w", err)
	}
	defer f.Close()
	res, err := s.deps.Catalog.ImportCatalogCSV(x.ctx(), x.P, x.Coop.ID, f)
	if err != nil {
		e := errs.As(err)
		if e == nil || (e.Code != errs.Invalid && e.Code != errs.BadRequest) {
			return err
		}
		v.Error = T(x.Lang, "coop.err.csv")
		for _, fe := range e.Fields {
			v.Details = append(v.Details, fe.Field+": "+fe.Message)
		}
		return render(x.c, http.StatusUnprocessableEntity, coopCatalogPage(s.coopPage(x, "coop.tab.catalog", "/catalog"), x, v))
	}
	return x.seeOther(fmt.Sprintf("/catalog?created=%d&updated=%d", res.Created, res.Updated), "imported")
}
