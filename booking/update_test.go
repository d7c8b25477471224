package booking_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

func ptr[T any](v T) *T { return &v }

// fieldNames lists the fields an errs.Invalid error names.
func fieldNames(err error) string {
	e := errs.As(err)
	if e == nil {
		return ""
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field)
	}
	return strings.Join(out, ",")
}

func TestUpdateVenueAndUnit(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		e := newEnv(t, openDB(t, dialect), booking.Venue{}, 3)
		s := e.store

		// Venue: a partial update keeps the other fields.
		v, err := s.UpdateVenue(ctx, e.venue.ID, booking.VenuePatch{Name: ptr("Zone d'Aouartas"), Deposit: ptr(int64(30000)),
			Policy: ptr(booking.PolicyApplication), Stay: &booking.StayLimits{MinDays: 2, MaxDays: 30},
			OpeningHours: &booking.OpeningHours{"mon": "09:00-18:00"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.FindVenue(ctx, e.venue.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Zone d'Aouartas" || got.Deposit != 30000 || got.Policy != booking.PolicyApplication || got.Stay.MinDays != 2 ||
			got.OpeningHours["mon"] != "09:00-18:00" || got.Slug != e.venue.Slug || got.Description["fr"] != e.venue.Description["fr"] ||
			got.Cancellation != booking.DefaultCancellation || v.Name != got.Name {
			t.Fatalf("after update: %+v", got)
		}
		// Validation names the fields, and nothing is written.
		_, err = s.UpdateVenue(ctx, e.venue.ID, booking.VenuePatch{Name: ptr(" "), Deposit: ptr(int64(-1)), Policy: ptr(booking.Policy("maybe")),
			Cancellation: &booking.CancellationPolicy{FullRefundDays: 3, NoRefundDays: 5, PartialPercent: 150}})
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad venue patch: got %v, want invalid", err)
		}
		for _, f := range []string{"name", "deposit", "policy", "cancellation.no_refund_days", "cancellation.partial_percent"} {
			if !strings.Contains(fieldNames(err), f) {
				t.Errorf("bad venue patch: fields %q lack %q", fieldNames(err), f)
			}
		}
		if again, _ := s.FindVenue(ctx, e.venue.ID); again.Name != got.Name || again.Deposit != 30000 {
			t.Fatalf("a refused update wrote: %+v", again)
		}
		if _, err := s.UpdateVenue(ctx, 1<<40, booking.VenuePatch{}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("unknown venue: got %v", err)
		}

		// Unit: the shape is validated against the plan, as on create.
		u := e.units[1]
		_, err = s.UpdateUnit(ctx, u.ID, booking.UnitPatch{Shape: &booking.Shape{Kind: "rect", X: 990, Y: 0, W: 50, H: 40}, AreaM2: ptr(0),
			Trades: &booking.StringList{"any", "pottery"}, DayRate: ptr(int64(-5))})
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad unit patch: got %v, want invalid", err)
		}
		for _, f := range []string{"shape", "area_m2", "trades", "day_rate"} {
			if !strings.Contains(fieldNames(err), f) {
				t.Errorf("bad unit patch: fields %q lack %q", fieldNames(err), f)
			}
		}
		nu, err := s.UpdateUnit(ctx, u.ID, booking.UnitPatch{AreaM2: ptr(25), Trades: &booking.StringList{"pottery"}, Amenities: &booking.StringList{"water"},
			DayRate: ptr(int64(12000)), MonthRate: ptr(int64(0)), Shape: &booking.Shape{Kind: "polygon", Points: [][2]int{{0, 0}, {40, 0}, {40, 40}}}})
		if err != nil {
			t.Fatal(err)
		}
		if nu.AreaM2 != 25 || nu.DayRate != 12000 || nu.MonthRate != 0 || nu.Code != u.Code || nu.Shape.Kind != "polygon" || !nu.Active {
			t.Fatalf("after unit update: %+v", nu)
		}

		// A deactivated unit leaves the venue's page and its availability.
		if _, err := s.UpdateVenue(ctx, e.venue.ID, booking.VenuePatch{Policy: ptr(booking.PolicyInstant)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUnit(ctx, u.ID, booking.UnitPatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		page, err := s.FindVenueBySlug(ctx, e.venue.Slug)
		if err != nil {
			t.Fatal(err)
		}
		if page.UnitCount != 2 {
			t.Fatalf("venue shows %d units, want 2", page.UnitCount)
		}
		for _, pu := range page.Units {
			if pu.ID == u.ID {
				t.Fatalf("deactivated unit %d still on the venue's page", u.ID)
			}
		}
		today := booking.DayOf(time.Now())
		a, err := s.Availability(ctx, e.venue.Slug, today, today.AddDays(3), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Units) != 2 {
			t.Fatalf("availability covers %d units, want 2", len(a.Units))
		}
		for _, au := range a.Units {
			if au.ID == u.ID {
				t.Fatalf("deactivated unit %d still in availability", u.ID)
			}
		}
		// … and comes back when reactivated.
		if _, err := s.UpdateUnit(ctx, u.ID, booking.UnitPatch{Active: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if page, _ := s.FindVenueBySlug(ctx, e.venue.Slug); page.UnitCount != 3 {
			t.Fatalf("reactivated: venue shows %d units, want 3", page.UnitCount)
		}
		// A deactivated venue disappears.
		if _, err := s.UpdateVenue(ctx, e.venue.ID, booking.VenuePatch{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindVenueBySlug(ctx, e.venue.Slug); !errs.Is(err, errs.NotFound) {
			t.Fatalf("deactivated venue: got %v, want not found", err)
		}
	})
}
