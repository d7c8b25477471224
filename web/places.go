package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/payment"
)

// unitView is a unit drawn on its venue's plan, in the state of one day.
type unitView struct {
	Code, State                string
	X, Y, W, H, LabelX, LabelY string
	Points                     string
	Area, DayRate, MonthRate   string
	Trades                     string
}

type venueView struct {
	Name, Commune, Kind, Policy, Description string
	Day, ViewBox                             string
	Units                                    []unitView
}

func (s *site) loadPlacesFromBookings(c *fiber.Ctx, lang string) ([]placeCard, error) {
	vs, err := s.deps.Bookings.ListVenues(c.UserContext())
	if err != nil {
		return nil, err
	}
	out := make([]placeCard, 0, len(vs))
	for _, v := range vs {
		if !v.Active {
			continue
		}
		out = append(out, placeCard{Slug: v.Slug, Name: v.Name, Commune: v.Commune, Kind: v.Kind, Policy: string(v.Policy),
			Description: Localized(v.Description, lang), Units: v.UnitCount})
	}
	return out, nil
}

func (s *site) showVenuesPage(c *fiber.Ctx, lang string) error {
	places, err := s.loadPlacesFromBookings(c, lang)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, venuesPage(s.page(c, lang, T(lang, "venues.title"), "/venues"), places))
}

// showVenuePage draws the venue's floor plan with each unit coloured by its
// state on the chosen day (today by default), and lists the units.
func (s *site) showVenuePage(c *fiber.Ctx, lang string) error {
	ctx := c.UserContext()
	v, err := s.deps.Bookings.FindVenueBySlug(ctx, c.Params("slug"))
	if err != nil {
		return err
	}
	now := time.Now()
	day := booking.DayOf(now)
	if q := c.Query("day"); q != "" {
		if d, err := booking.ParseDay(q); err == nil {
			day = d
		}
	}
	avail, err := s.deps.Bookings.Availability(ctx, v.Slug, day, day, now)
	if err != nil {
		return err
	}
	state := map[int64]string{}
	for _, u := range avail.Units {
		state[u.ID] = string(u.On(day))
	}
	view := venueView{Name: v.Name, Commune: v.Commune, Kind: v.Kind, Policy: string(v.Policy), Description: Localized(v.Description, lang),
		Day: day.String(), ViewBox: fmt.Sprintf("0 0 %d %d", max(v.PlanWidth, 1), max(v.PlanHeight, 1))}
	for _, u := range v.Units {
		st := state[u.ID]
		if st == "" {
			st = "free"
		}
		uv := drawUnit(u)
		uv.State, uv.Area = st, strconv.Itoa(u.AreaM2)
		uv.DayRate, uv.Trades = payment.MAD(u.DayRate).Format(lang), strings.Join(u.Trades, ", ")
		if u.MonthRate > 0 {
			uv.MonthRate = payment.MAD(u.MonthRate).Format(lang)
		}
		view.Units = append(view.Units, uv)
	}
	return render(c, http.StatusOK, venuePage(s.page(c, lang, v.Name, "/venues/"+v.Slug), view))
}

// drawUnit places a unit on its venue's plan: its code, its rectangle or
// polygon, and where its label goes.
func drawUnit(u booking.Unit) unitView {
	uv := unitView{Code: u.Code}
	if u.Shape.Kind == booking.ShapePolygon && len(u.Shape.Points) > 0 {
		var pts []string
		var sx, sy int
		for _, p := range u.Shape.Points {
			pts = append(pts, fmt.Sprintf("%d,%d", p[0], p[1]))
			sx, sy = sx+p[0], sy+p[1]
		}
		uv.Points = strings.Join(pts, " ")
		uv.LabelX, uv.LabelY = strconv.Itoa(sx/len(u.Shape.Points)), strconv.Itoa(sy/len(u.Shape.Points)+8)
	} else {
		sh := u.Shape
		uv.X, uv.Y, uv.W, uv.H = strconv.Itoa(sh.X), strconv.Itoa(sh.Y), strconv.Itoa(sh.W), strconv.Itoa(sh.H)
		uv.LabelX, uv.LabelY = strconv.Itoa(sh.X+sh.W/2), strconv.Itoa(sh.Y+sh.H/2+8)
	}
	return uv
}

// certView is one certificate as the public check shows it.
type certView struct {
	Number, Holder, Scheme, Level, Issuer, From, Until string
	Valid                                              bool
	Products                                           []struct{ Slug, Title string }
}

// showCertificatePage lets anyone check a certificate number: holder,
// scheme, validity and products. A form submission (?number=) is sent to
// the number's own address.
func (s *site) showCertificatePage(c *fiber.Ctx, lang string) error {
	number := strings.TrimSpace(c.Params("number"))
	if number == "" {
		if q := strings.TrimSpace(c.Query("number")); q != "" && len(q) <= 64 {
			return c.Redirect("/"+lang+"/certificates/"+urlPathEscape(q), http.StatusSeeOther)
		}
		return render(c, http.StatusOK, certificatePage(s.page(c, lang, T(lang, "cert.title"), "/certificates"), "", nil, false))
	}
	checks, err := s.deps.Catalog.FindCertificateByNumber(c.UserContext(), number)
	if err != nil && !errs.Is(err, errs.NotFound) {
		return err
	}
	var views []certView
	for _, ch := range checks {
		v := certView{Number: ch.Number, Holder: ch.Cooperative.Name, Scheme: Localized(ch.SchemeName, lang), Level: ch.Level,
			Issuer: ch.Issuer, From: ch.ValidFrom.String(), Until: ch.ValidUntil.String(), Valid: ch.Valid}
		for _, p := range ch.Products {
			v.Products = append(v.Products, struct{ Slug, Title string }{p.Slug, Localized(p.Title, lang)})
		}
		views = append(views, v)
	}
	status := http.StatusOK
	if len(views) == 0 {
		status = http.StatusNotFound
	}
	p := s.page(c, lang, T(lang, "cert.title")+" "+number, "/certificates/"+urlPathEscape(number))
	return render(c, status, certificatePage(p, number, views, true))
}

func boolText(b bool) string { return strconv.FormatBool(b) }
