package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// GET /venues/{slug}/availability answers application/json in exactly the
// bytes encoding/json writes for the documented shape, days as an object
// keyed by date (the handler writes them by hand).
func TestAvailabilityAnswerIsEncodingJSON(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	sc := newBookingScene(t, s.DB, booking.PolicyInstant, 1)
	store := booking.NewStore(s.DB, nil, nil)
	if _, err := store.CreateUnit(context.Background(), booking.Unit{VenueID: sc.venue.ID, Code: "A.1", AreaM2: 9,
		Trades: booking.StringList{"any"}, DayRate: 3000, Shape: booking.Shape{Kind: booking.ShapeRect, X: 220, Y: 20, W: 60, H: 60}}); err != nil {
		t.Fatal(err)
	}
	first := booking.DayOf(time.Now()).AddDays(3)
	if st, b := httpCall(t, "POST", s.URL+"/api/v1/bookings", sc.tokens[0],
		map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": first.AddDays(1).String(), "payment_method": "office"}, nil); st != 201 {
		t.Fatalf("book: %d %v", st, b)
	}
	for _, q := range []string{"", fmt.Sprintf("?from=%s&to=%s", first.AddDays(-2), first.AddDays(40))} {
		resp, err := http.Get(s.URL + "/api/v1/venues/" + sc.venue.Slug + "/availability" + q)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("availability%s: %d %q %s", q, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var a struct {
			From  string `json:"from"`
			To    string `json:"to"`
			Units []struct {
				ID   int64             `json:"id"`
				Code string            `json:"code"`
				Days map[string]string `json:"days"`
			} `json:"units"`
		}
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("availability%s: %v in %s", q, err, body)
		}
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(body, want) {
			t.Fatalf("availability%s is not what encoding/json writes:\n got %s\nwant %s", q, body, want)
		}
		if len(a.Units) != 2 || a.Units[0].Code != "A.1" || a.Units[1].Days[first.String()] != "held" {
			t.Fatalf("availability%s: %s", q, body)
		}
	}
}
