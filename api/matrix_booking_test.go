package api_test

import (
	"context"
	"fmt"
	"image/color"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/booking"
)

// bookingFixtures are the venues, units and bookings the booking rows of
// the matrix run against.
type bookingFixtures struct {
	market, zone   booking.Venue
	unit, zoneUnit booking.Unit
	leaseUnit      booking.Unit    // a unit of the market let by the month
	owned          booking.Booking // the artisan's held booking
	day            int             // days from now of the next free day to book
	leases         int             // leases made on leaseUnit so far
	openInvoice    int64           // the second month of the artisan's lease
}

func (f *bookingFixtures) nextDays() (string, string) {
	f.day++
	d := booking.DayOf(time.Now()).AddDays(2 + f.day)
	return d.String(), d.String()
}

func bookingWorld(w *matrixWorld) *bookingFixtures { return w.Extra["booking"].(*bookingFixtures) }

// newLeaseInvoice lets the lease unit to the artisan for the next two free
// calendar months, confirms the lease as paid and returns its second,
// open, invoice.
func newLeaseInvoice(t *testing.T, w *matrixWorld) booking.Invoice {
	t.Helper()
	ctx := context.Background()
	f := bookingWorld(w)
	first := booking.DayOf(time.Now()).LastOfMonth().AddDays(1)
	for range 2 * f.leases {
		first = first.LastOfMonth().AddDays(1)
	}
	f.leases++
	last := first.LastOfMonth().AddDays(1).LastOfMonth()
	bk, err := w.env.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: f.leaseUnit.ID, ArtisanID: w.callers[asArtisan].User.ID,
		FirstDay: first.String(), LastDay: last.String(), PaymentMethod: booking.PaymentOffice})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.Bookings.ConfirmBooking(ctx, bk.ID, "office:"+w.unique("R")); err != nil {
		t.Fatal(err)
	}
	invs, err := w.env.Bookings.ListBookingInvoices(ctx, bk.ID)
	if err != nil || len(invs) != 2 {
		t.Fatalf("lease invoices: %v %v", invs, err)
	}
	return invs[1]
}

func init() {
	matrixSetups = append(matrixSetups, func(t *testing.T, w *matrixWorld) {
		ctx := context.Background()
		s := w.env.Bookings
		f := &bookingFixtures{}
		var err error
		if f.market, err = s.CreateVenue(ctx, booking.Venue{Slug: "matrix-market", Name: "Matrix market", Commune: "Tafraout", Kind: "market",
			Policy: booking.PolicyInstant, Description: booking.Text{"fr": "Marché"}}); err != nil {
			t.Fatal(err)
		}
		if f.zone, err = s.CreateVenue(ctx, booking.Venue{Slug: "matrix-zone", Name: "Matrix zone", Commune: "Aouartas", Kind: "artisan-zone",
			Policy: booking.PolicyApplication, Description: booking.Text{"fr": "Zone"}}); err != nil {
			t.Fatal(err)
		}
		unit := func(v booking.Venue, code string) booking.Unit {
			u, err := s.CreateUnit(ctx, booking.Unit{VenueID: v.ID, Code: code, AreaM2: 16, Trades: booking.StringList{"any"},
				DayRate: 5000, MonthRate: 90000, Shape: booking.Shape{Kind: booking.ShapeRect, X: 10, Y: 10, W: 100, H: 80}})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		f.unit, f.zoneUnit, f.leaseUnit = unit(f.market, "M-01"), unit(f.zone, "Z-01"), unit(f.market, "M-LEASE")
		first, last := f.nextDays()
		if f.owned, err = s.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: f.unit.ID, ArtisanID: w.callers[asArtisan].User.ID,
			FirstDay: first, LastDay: last, PaymentMethod: booking.PaymentOffice}); err != nil {
			t.Fatal(err)
		}
		// A confirmed two-month lease of the artisan, months ahead: its
		// second month is an open invoice.
		start := booking.DayOf(time.Now())
		for range 4 { // the first day of the fourth month from now
			start = start.LastOfMonth().AddDays(1)
		}
		end := start.LastOfMonth().AddDays(1).LastOfMonth()
		lease, err := s.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: f.unit.ID, ArtisanID: w.callers[asArtisan].User.ID,
			FirstDay: start.String(), LastDay: end.String(), PaymentMethod: booking.PaymentOffice})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConfirmBooking(ctx, lease.ID, "office:matrix-lease"); err != nil {
			t.Fatal(err)
		}
		invs, err := s.ListBookingInvoices(ctx, lease.ID)
		if err != nil || len(invs) != 2 {
			t.Fatalf("lease invoices %v %v", invs, err)
		}
		f.openInvoice = invs[1].ID
		w.Extra["booking"] = f
	})

	renters := expect{401, 403, 201, 201, 201, 201, 403}
	matrixCases = append(matrixCases,
		matrixCase{Route: "GET /api/v1/venues", Want: everyone(200), Request: pathOnly("/api/v1/venues")},
		matrixCase{Route: "GET /api/v1/venues/:slug", Want: everyone(200), Request: pathOnly("/api/v1/venues/matrix-market")},
		matrixCase{Route: "GET /api/v1/venues/:slug", Name: "unknown", Want: everyone(404), Request: pathOnly("/api/v1/venues/nowhere")},
		matrixCase{Route: "GET /api/v1/venues/:slug/availability", Want: everyone(200), Request: pathOnly("/api/v1/venues/matrix-market/availability")},
		matrixCase{Route: "GET /api/v1/venues/:slug/events", Want: everyone(200), Request: pathOnly("/api/v1/venues/matrix-market/events")},
		matrixCase{Route: "POST /api/v1/venues/:slug/waitlist", Want: renters,
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				f := bookingWorld(w)
				first, last := f.nextDays()
				return matrixRequest{Path: "/api/v1/venues/matrix-market/waitlist",
					Body: map[string]any{"unit_id": f.unit.ID, "first_day": first, "last_day": last, "payment_method": "office"}}
			}},
		matrixCase{Route: "POST /api/v1/bookings", Want: renters,
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				f := bookingWorld(w)
				first, last := f.nextDays()
				return matrixRequest{Path: "/api/v1/bookings",
					Body: map[string]any{"unit_id": f.unit.ID, "first_day": first, "last_day": last, "payment_method": "office"}}
			}},
		// Only the artisan who booked, and administrators, see a booking.
		matrixCase{Route: "GET /api/v1/bookings/:id", Want: expect{401, 404, 200, 404, 404, 404, 200},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/bookings/%d", bookingWorld(w).owned.ID)}
			}},
		// Only its artisan may pay an invoice; card payments are off in the
		// matrix's server, so the artisan gets 503 where a card would be taken.
		matrixCase{Route: "POST /api/v1/me/invoices/:id/checkout", Want: expect{401, 404, 503, 404, 404, 404, 404},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/me/invoices/%d/checkout", bookingWorld(w).openInvoice)}
			}},
		matrixCase{Route: "GET /api/v1/me/bookings", Want: signedIn(200), Request: pathOnly("/api/v1/me/bookings")},
		// Nobody but its artisan cancels a booking; the last caller, the
		// administrator, sees it already cancelled by then.
		matrixCase{Route: "POST /api/v1/bookings/:id/cancel", Want: expect{401, 404, 200, 404, 404, 404, 409},
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/bookings/%d/cancel", bookingWorld(w).owned.ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/venues", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/admin/venues", Body: map[string]any{"slug": w.unique("venue"), "name": "Espace", "commune": "Ameln",
					"kind": "exhibition-space", "policy": "instant", "description": map[string]string{"fr": "Espace"}}}
			}},
		matrixCase{Route: "POST /api/v1/admin/units", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: "/api/v1/admin/units", Body: map[string]any{"venue_id": bookingWorld(w).market.ID, "code": w.unique("M"),
					"area_m2": 12, "trades": []string{"any"}, "day_rate": 4000, "month_rate": 0,
					"shape": map[string]any{"kind": "rect", "x": 0, "y": 0, "w": 50, "h": 50}}}
			}},
		matrixCase{Route: "PATCH /api/v1/admin/venues/:id", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/venues/%d", bookingWorld(w).market.ID),
					Body: map[string]any{"name": "Matrix market", "deposit": 20000, "opening_hours": map[string]string{"sat": "09:00-19:00"}}}
			}},
		matrixCase{Route: "PATCH /api/v1/admin/units/:id", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/units/%d", bookingWorld(w).unit.ID),
					Body: map[string]any{"area_m2": 16, "amenities": []string{"water"}, "shape": map[string]any{"kind": "rect", "x": 10, "y": 10, "w": 100, "h": 80}}}
			}},
		matrixCase{Route: "POST /api/v1/admin/venues/:id/photos", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				w.n++
				body, ct := multipartBody(t, formPart{Name: "file", FileName: "market.jpg", Data: smallJPEG(t, 48, 32, color.RGBA{uint8(w.n), 30, 90, 255})},
					formPart{Name: "alt", Data: []byte("Le marché")})
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/venues/%d/photos", bookingWorld(w).market.ID),
					Body: body, Header: map[string]string{"Content-Type": ct}}
			}},
		matrixCase{Route: "DELETE /api/v1/admin/venues/:id/photos/:photo_id", Want: adminOnly(204),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				f := bookingWorld(w)
				rec := fakePhoto(w.unique("venue-photo"))
				ph := booking.VenuePhoto{VenueID: f.market.ID, Width: rec.Width, Height: rec.Height, ContentHash: rec.ContentHash}
				for _, v := range rec.Variants {
					ph.Variants = append(ph.Variants, booking.PhotoVariant{Width: v.Width, Height: v.Height, Key: v.Key})
				}
				ph, err := w.env.Bookings.AddVenuePhoto(context.Background(), ph)
				if err != nil {
					t.Fatal(err)
				}
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/venues/%d/photos/%d", f.market.ID, ph.ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/events", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				d := booking.DayOf(time.Now()).AddDays(60)
				return matrixRequest{Path: "/api/v1/admin/events", Body: map[string]any{"venue_id": bookingWorld(w).market.ID,
					"name": map[string]string{"fr": "Fête des amandiers " + w.unique("")}, "first_day": d.String(), "last_day": d.AddDays(3).String(),
					"stall_price": 50000, "application_deadline": d.AddDays(-10).String()}}
			}},
		matrixCase{Route: "POST /api/v1/admin/units/:id/blocks", Want: adminOnly(204),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				first, last := bookingWorld(w).nextDays()
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/units/%d/blocks", bookingWorld(w).zoneUnit.ID),
					Body: map[string]any{"first_day": first, "last_day": last, "reason": "maintenance"}}
			}},
		matrixCase{Route: "POST /api/v1/admin/bookings/:id/approve", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/bookings/%d/approve", newApplication(t, w).ID)}
			}},
		matrixCase{Route: "POST /api/v1/admin/bookings/:id/reject", Want: adminOnly(200),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/bookings/%d/reject", newApplication(t, w).ID), Body: map[string]string{"reason": "quota reached"}}
			}},
		matrixCase{Route: "POST /api/v1/admin/bookings/:id/payments", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				f := bookingWorld(w)
				first, last := f.nextDays()
				bk, err := w.env.Bookings.PlaceHold(context.Background(), booking.PlaceHoldInput{UnitID: f.unit.ID, ArtisanID: w.callers[asArtisan].User.ID,
					FirstDay: first, LastDay: last, PaymentMethod: booking.PaymentOffice})
				if err != nil {
					t.Fatal(err)
				}
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/bookings/%d/payments", bk.ID),
					Body: map[string]any{"method": "office_cash", "amount": bk.Amount, "receipt_number": w.unique("R")}}
			}},
		matrixCase{Route: "GET /api/v1/admin/reports/occupancy", Want: adminOnly(200), Request: pathOnly("/api/v1/admin/reports/occupancy?venue=matrix-market")},
		matrixCase{Route: "GET /api/v1/admin/reports/revenue", Want: adminOnly(200), Request: pathOnly("/api/v1/admin/reports/revenue?venue=matrix-market")},
		matrixCase{Route: "GET /api/v1/admin/reports/revenue", Name: "csv", Want: adminOnly(200),
			Request: pathOnly("/api/v1/admin/reports/revenue?venue=matrix-market&format=csv")},
		matrixCase{Route: "GET /api/v1/admin/reports/tenants", Want: adminOnly(200), Request: pathOnly("/api/v1/admin/reports/tenants?venue=matrix-market")},
		matrixCase{Route: "GET /api/v1/admin/reports/tenants", Name: "csv", Want: adminOnly(200),
			Request: pathOnly("/api/v1/admin/reports/tenants?venue=matrix-market&format=csv")},
		// Each caller sees only their own invoices (an empty list for most).
		matrixCase{Route: "GET /api/v1/me/invoices", Want: signedIn(200), Request: pathOnly("/api/v1/me/invoices")},
		matrixCase{Route: "POST /api/v1/admin/invoices/:id/payments", Want: adminOnly(201),
			Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
				inv := newLeaseInvoice(t, w)
				return matrixRequest{Path: fmt.Sprintf("/api/v1/admin/invoices/%d/payments", inv.ID),
					Body: map[string]any{"method": "office_cash", "amount": inv.Amount, "receipt_number": w.unique("R")}}
			}},
		// Stripe signs webhooks; nobody else can send one (card payments are
		// off in the matrix's server, so the route answers 404 to all).
		matrixCase{Route: "POST /api/v1/payments/stripe/webhook", Want: everyone(404), Request: func(t *testing.T, w *matrixWorld, c *caller) matrixRequest {
			return matrixRequest{Path: "/api/v1/payments/stripe/webhook", Body: map[string]string{"id": "evt_forged"}}
		}},
	)
}

// newApplication files a pending application of the artisan at the zone.
func newApplication(t *testing.T, w *matrixWorld) booking.Booking {
	t.Helper()
	f := bookingWorld(w)
	first, last := f.nextDays()
	bk, err := w.env.Bookings.PlaceHold(context.Background(), booking.PlaceHoldInput{UnitID: f.zoneUnit.ID, ArtisanID: w.callers[asArtisan].User.ID,
		FirstDay: first, LastDay: last, PaymentMethod: booking.PaymentOffice})
	if err != nil {
		t.Fatal(err)
	}
	return bk
}
