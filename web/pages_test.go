package web_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// The venue page draws every unit of the floor plan in its state for the
// chosen day: the Aouartas zone shows its 25 units, and a unit held on the
// Tafraout market turns "held" on that day only.
func TestVenuePageFloorPlan(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	ctx := context.Background()
	if _, err := demo.Seed(ctx, s.DB, demo.Options{Password: account.TestPasswordParams}); err != nil {
		t.Fatal(err)
	}
	resp, body := get(t, s.URL+"/fr/venues/aouartas-artisan-zone", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%d", resp.StatusCode)
	}
	if n := len(regexp.MustCompile(`<g class="unit free"`).FindAllString(body, -1)); n != 25 {
		t.Fatalf("Aouartas plan shows %d free units, want 25", n)
	}
	v, err := s.Bookings.FindVenueBySlug(ctx, "tafraout-artisan-market")
	if err != nil {
		t.Fatal(err)
	}
	day := booking.DayOf(time.Now()).AddDays(3)
	var artisan int64
	s.DB.Raw("SELECT id FROM users ORDER BY id LIMIT 1").Scan(&artisan)
	if _, err := s.Bookings.PlaceHold(ctx, booking.PlaceHoldInput{UnitID: v.Units[0].ID, ArtisanID: artisan,
		FirstDay: day.String(), LastDay: day.String(), PaymentMethod: booking.PaymentOffice}); err != nil {
		t.Fatal(err)
	}
	_, body = get(t, s.URL+"/ar/venues/tafraout-artisan-market?day="+day.String(), nil)
	if !strings.Contains(body, `data-unit="`+v.Units[0].Code+`" data-state="held"`) || !strings.Contains(body, `dir="rtl"`) {
		t.Fatalf("the held unit is not drawn held on %s", day)
	}
	_, body = get(t, s.URL+"/en/venues/tafraout-artisan-market?day="+day.AddDays(1).String(), nil)
	if strings.Contains(body, `data-state="held"`) {
		t.Fatal("the unit is drawn held on a day it is free")
	}
	if resp, _ := get(t, s.URL+"/en/venues/nowhere", nil); resp.StatusCode != 404 {
		t.Fatalf("unknown venue: %d", resp.StatusCode)
	}
}

// Anyone can check a certificate number: holder, scheme, validity and the
// certified products; an unknown number says so.
func TestCertificateCheckPage(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	if _, err := demo.Seed(context.Background(), s.DB, demo.Options{Media: s.Media, Password: account.TestPasswordParams}); err != nil {
		t.Fatal(err)
	}
	resp, _ := get(t, s.URL+"/fr/certificates?number=MFM-2025-0412", nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/fr/certificates/MFM-2025-0412" {
		t.Fatalf("form: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, lang := range []string{"fr", "ar", "en"} {
		resp, body := get(t, s.URL+"/"+lang+"/certificates/MFM-2025-0412", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `data-valid="true"`) || !strings.Contains(body, "Coopérative des potières d&#39;Anzi") {
			t.Fatalf("%s: %d %.400s", lang, resp.StatusCode, body)
		}
		if !strings.Contains(body, "/"+lang+"/products/") {
			t.Errorf("%s: the certified products are not listed", lang)
		}
	}
	resp, body := get(t, s.URL+"/en/certificates/NO-SUCH-1", nil)
	if resp.StatusCode != 404 || !strings.Contains(body, "No certificate of a verified cooperative") {
		t.Fatalf("unknown number: %d", resp.StatusCode)
	}
}
