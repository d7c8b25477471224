package booking_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

func TestShapeValidate(t *testing.T) {
	tests := []struct {
		name  string
		shape booking.Shape
		ok    bool
	}{
		{"OK rect", booking.Shape{Kind: "rect", X: 10, Y: 10, W: 50, H: 40}, true},
		{"OK rect to the edge", booking.Shape{Kind: "rect", X: 950, Y: 560, W: 50, H: 40}, true},
		{"OK polygon", booking.Shape{Kind: "polygon", Points: [][2]int{{0, 0}, {100, 0}, {100, 50}, {20, 80}}}, true},
		{"ErrRectOutside", booking.Shape{Kind: "rect", X: 960, Y: 10, W: 50, H: 40}, false},
		{"ErrRectEmpty", booking.Shape{Kind: "rect", X: 10, Y: 10, W: 0, H: 40}, false},
		{"ErrPolygonTwoPoints", booking.Shape{Kind: "polygon", Points: [][2]int{{0, 0}, {100, 0}}}, false},
		{"ErrPolygonFlat", booking.Shape{Kind: "polygon", Points: [][2]int{{0, 0}, {50, 50}, {100, 100}}}, false},
		{"ErrPolygonOutside", booking.Shape{Kind: "polygon", Points: [][2]int{{0, 0}, {1001, 0}, {0, 50}}}, false},
		{"ErrKind", booking.Shape{Kind: "circle"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.shape.Validate(1000, 600)
			if tt.ok != (err == nil) {
				t.Fatalf("Validate = %v, want ok %v", err, tt.ok)
			}
			if err != nil && !errs.Is(err, errs.Invalid) {
				t.Fatalf("got %v, want invalid", err)
			}
		})
	}
}

func testCreateVenueAndUnits(t *testing.T, db *database.DB) {
	s := booking.NewStore(db, nil, quiet)
	ctx := context.Background()
	lat, lng := 29.72, -8.97
	in := booking.Venue{Slug: "tafraout-market", Name: "Marché artisanal de Tafraout", Commune: "Tafraout", Kind: "market",
		Description: booking.Text{"ar": "سوق", "fr": "Marché réhabilité"}, Latitude: &lat, Longitude: &lng,
		Stay: booking.StayLimits{MinDays: 1, MaxDays: 90, LeadDays: 2}, Deposit: 50000,
		OpeningHours: booking.OpeningHours{"sat": "09:00-19:00"}, Rules: booking.Text{"fr": "Pas de sous-location"}}
	v, err := s.CreateVenue(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if v.Policy != booking.PolicyInstant || v.Cancellation != booking.DefaultCancellation || v.PlanWidth != 1000 {
		t.Fatalf("defaults: %+v", v)
	}
	if _, err := s.CreateVenue(ctx, in); !errs.Is(err, errs.Conflict) {
		t.Fatalf("same slug twice: got %v, want conflict", err)
	}
	bad := in
	bad.Slug, bad.Policy, bad.Cancellation = "Bad Slug", "first-come", booking.CancellationPolicy{FullRefundDays: 2, NoRefundDays: 5, PartialPercent: 120}
	_, err = s.CreateVenue(ctx, bad)
	if diff := cmp.Diff([]string{"slug", "policy", "cancellation.no_refund_days", "cancellation.partial_percent"}, fieldsOf(err)); diff != "" {
		t.Fatalf("invalid venue fields (-want +got):\n%s", diff)
	}

	// The kinds the communes use (and the demo seeds) have underscores; a
	// venue of such a kind can be created and then edited.
	zone := in
	zone.Slug, zone.Kind = "aouartas-artisan-zone", "artisan_zone"
	zv, err := s.CreateVenue(ctx, zone)
	if err != nil {
		t.Fatalf("venue of kind artisan_zone: %v", err)
	}
	newName := "Zone artisanale d'Aouartas"
	if got, err := s.UpdateVenue(ctx, zv.ID, booking.VenuePatch{Name: &newName}); err != nil || got.Name != newName || got.Kind != "artisan_zone" {
		t.Fatalf("update a venue of kind artisan_zone: %+v, %v", got, err)
	}
	for _, kind := range []string{"", "Artisan_Zone", "zone__x", "_zone", "zone-", "zone with space", strings.Repeat("k", 31)} {
		bad := in
		bad.Slug, bad.Kind = "kind-probe", kind
		if _, err := s.CreateVenue(ctx, bad); !slices.Equal(fieldsOf(err), []string{"kind"}) {
			t.Errorf("kind %q: %v, want kind refused", kind, err)
		}
	}

	rect := booking.Unit{VenueID: v.ID, Code: "T01", AreaM2: 12, Trades: booking.StringList{"pottery", "weaving"}, Amenities: booking.StringList{"water", "power"},
		DayRate: 5000, MonthRate: 90000, Shape: booking.Shape{Kind: "rect", X: 0, Y: 0, W: 60, H: 40}}
	poly := booking.Unit{VenueID: v.ID, Code: "T02", AreaM2: 15, DayRate: 5000,
		Shape: booking.Shape{Kind: "polygon", Points: [][2]int{{60, 0}, {140, 0}, {140, 40}, {60, 40}}}}
	for _, u := range []booking.Unit{poly, rect} {
		if _, err := s.CreateUnit(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateUnit(ctx, rect); !errs.Is(err, errs.Conflict) {
		t.Fatalf("same code twice: got %v, want conflict", err)
	}
	badUnit := rect
	badUnit.Code, badUnit.Trades, badUnit.Currency, badUnit.Shape = "T03", booking.StringList{"any", "pottery"}, "EUR", booking.Shape{Kind: "rect", X: 990, W: 20, H: 10}
	_, err = s.CreateUnit(ctx, badUnit)
	if diff := cmp.Diff([]string{"trades", "currency", "shape"}, fieldsOf(err)); diff != "" {
		t.Fatalf("invalid unit fields (-want +got):\n%s", diff)
	}
	if _, err := s.CreateUnit(ctx, booking.Unit{VenueID: 999999, Code: "X"}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unit of no venue: got %v, want not found", err)
	}

	got, err := s.FindVenueBySlug(ctx, "tafraout-market")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Units) != 2 || got.Units[0].Code != "T01" || got.Units[1].Code != "T02" {
		t.Fatalf("units %+v, want T01 and T02 in code order", got.Units)
	}
	if diff := cmp.Diff(rect.Shape, got.Units[0].Shape); diff != "" {
		t.Fatalf("rect shape (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(poly.Shape, got.Units[1].Shape); diff != "" {
		t.Fatalf("polygon shape (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(booking.StringList{"any"}, got.Units[1].Trades); diff != "" {
		t.Fatalf("default trades (-want +got):\n%s", diff)
	}
	if got.Stay != in.Stay || got.Deposit != 50000 || got.OpeningHours["sat"] != "09:00-19:00" || got.Rules["fr"] != "Pas de sous-location" ||
		got.Description["ar"] != "سوق" || *got.Latitude != lat {
		t.Fatalf("venue read back: %+v", got)
	}

	// The JSON the API serves: the names DESIGN.md fixes.
	b, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Policy string `json:"policy"`
		Units  []struct {
			ID        int64           `json:"id"`
			Code      string          `json:"code"`
			AreaM2    int             `json:"area_m2"`
			Trades    []string        `json:"trades"`
			DayRate   int64           `json:"day_rate"`
			MonthRate int64           `json:"month_rate"`
			Currency  string          `json:"currency"`
			Shape     json.RawMessage `json:"shape"`
		} `json:"units"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Policy != "instant" || doc.Units[0].AreaM2 != 12 || doc.Units[0].MonthRate != 90000 || doc.Units[0].Currency != "MAD" {
		t.Fatalf("venue JSON: %s", b)
	}
	if got, want := string(doc.Units[0].Shape), `{"kind":"rect","x":0,"y":0,"w":60,"h":40}`; got != want {
		t.Fatalf("rect JSON %s, want %s", got, want)
	}
	if got, want := string(doc.Units[1].Shape), `{"kind":"polygon","points":[[60,0],[140,0],[140,40],[60,40]]}`; got != want {
		t.Fatalf("polygon JSON %s, want %s", got, want)
	}

	list, err := s.ListVenues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := false
	for _, l := range list {
		if l.ID == v.ID {
			listed = l.UnitCount == 2 && len(l.Units) == 0
		}
	}
	if !listed {
		t.Fatalf("venue %d not listed with its 2 units in %+v", v.ID, list)
	}
	if _, err := s.FindVenueBySlug(ctx, "nowhere"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown slug: got %v, want not found", err)
	}
}
