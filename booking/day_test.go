package booking_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// Days are calendar days in Tiznit, whatever the server's zone: shortly
// after midnight in Morocco it is still the previous day in UTC.
func TestDayOfUsesCasablanca(t *testing.T) {
	tests := []struct {
		name    string
		instant time.Time
		want    string
	}{
		{"after midnight local (UTC+1)", time.Date(2031, 6, 14, 23, 30, 0, 0, time.UTC), "2031-06-15"},
		{"before midnight local", time.Date(2031, 6, 14, 22, 30, 0, 0, time.UTC), "2031-06-14"},
		{"new year's eve", time.Date(2028, 12, 31, 23, 15, 0, 0, time.UTC), "2029-01-01"},
		{"during Ramadan (UTC+0)", time.Date(2031, 1, 14, 23, 30, 0, 0, time.UTC), "2031-01-14"},
		{"from another zone", time.Date(2031, 6, 1, 1, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)), "2031-06-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := booking.DayOf(tt.instant).String(); got != tt.want {
				t.Fatalf("DayOf(%v) = %s, want %s", tt.instant, got, tt.want)
			}
		})
	}
}

func TestParseDayRange(t *testing.T) {
	today := day(t, "2031-12-20")
	lim := booking.StayLimits{MinDays: 2, MaxDays: 40, LeadDays: 1, MaxAdvanceDays: 400}
	tests := []struct {
		name        string
		first, last string
		lim         booking.StayLimits
		wantDays    int
		wantFields  []string
	}{
		{"OK one day", "2031-12-22", "2031-12-22", booking.StayLimits{}, 1, nil},
		{"OK today without lead time", "2031-12-20", "2031-12-20", booking.StayLimits{}, 1, nil},
		{"OK across a month end", "2032-01-30", "2032-02-02", lim, 4, nil},
		{"OK across a year end", "2031-12-30", "2032-01-02", lim, 4, nil},
		{"OK leap day", "2032-02-28", "2032-03-01", lim, 3, nil},
		{"OK longest", "2031-12-21", "2032-01-29", lim, 40, nil},
		{"ErrFormat first", "2031-12-2", "2031-12-22", lim, 0, []string{"first_day"}},
		{"ErrFormat both", "22/12/2031", "", lim, 0, []string{"first_day", "last_day"}},
		{"ErrNoSuchDay", "2031-02-29", "2031-03-02", lim, 0, []string{"first_day"}},
		{"ErrLastBeforeFirst", "2031-12-25", "2031-12-24", lim, 0, []string{"last_day"}},
		{"ErrPast", "2031-12-19", "2031-12-21", booking.StayLimits{}, 0, []string{"first_day"}},
		{"ErrLeadTime", "2031-12-20", "2031-12-22", lim, 0, []string{"first_day"}},
		{"ErrTooLong", "2031-12-21", "2032-01-30", lim, 0, []string{"last_day"}},
		{"ErrTooShort", "2031-12-22", "2031-12-22", lim, 0, []string{"last_day"}},
		{"ErrTooFarAhead", "2033-01-25", "2033-01-26", lim, 0, []string{"first_day"}},
		{"ErrLongerThanAnyBooking", "2031-12-21", "2035-12-21", booking.StayLimits{}, 0, []string{"last_day"}},
		{"ErrFurtherThanAnyBooking", "2045-01-01", "2045-01-02", booking.StayLimits{}, 0, []string{"first_day"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := booking.ParseDayRange(tt.first, tt.last, today, tt.lim)
			if tt.wantFields == nil {
				if err != nil {
					t.Fatal(err)
				}
				if r.Days() != tt.wantDays || r.First.String() != tt.first || r.Last.String() != tt.last {
					t.Fatalf("got %s (%d days), want %s..%s (%d days)", r, r.Days(), tt.first, tt.last, tt.wantDays)
				}
				return
			}
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("got %v, want invalid", err)
			}
			if diff := cmp.Diff(tt.wantFields, fieldsOf(err)); diff != "" {
				t.Fatalf("fields (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseDayRange(f *testing.F) {
	for _, seed := range [][2]string{
		{"2031-12-22", "2031-12-22"}, {"2031-12-30", "2032-01-02"}, {"2032-02-28", "2032-03-01"},
		{"2031-12-25", "2031-12-24"}, {"2031-12-19", "2031-12-21"}, {"2031-02-29", "2031-03-01"},
		{"", ""}, {"2031-1-5", "2031-01-05"}, {"9999-12-31", "9999-12-31"}, {"0999-01-01", "1000-01-01"},
		{"2031-12-22T00:00:00Z", "2031-12-23"}, {"２０３１-12-22", "2031-12-23"}, {"+031-12-22", "2031-12-23"},
	} {
		f.Add(seed[0], seed[1], 0, 30, 1)
	}
	today := booking.NewDay(2031, 12, 20)
	f.Fuzz(func(t *testing.T, first, last string, minDays, maxDays, lead int) {
		lim := booking.StayLimits{MinDays: minDays % 400, MaxDays: maxDays % 400, LeadDays: lead % 400}
		r, err := booking.ParseDayRange(first, last, today, lim)
		if err != nil {
			e := errs.As(err)
			if e == nil || e.Code != errs.Invalid || len(e.Fields) == 0 {
				t.Fatalf("error %v is not an invalid-field error", err)
			}
			for _, f := range e.Fields {
				if f.Field != "first_day" && f.Field != "last_day" {
					t.Fatalf("error names field %q", f.Field)
				}
			}
			return
		}
		// Accepted: canonical, in order, in the future, within the limits.
		if r.First.String() != first || r.Last.String() != last {
			t.Fatalf("accepted %q..%q as %s", first, last, r)
		}
		if r.Last.Before(r.First) || r.First.Before(today) {
			t.Fatalf("accepted a reversed or past range %s", r)
		}
		if n := r.Days(); n < 1 || n > booking.MaxBookingDays || (lim.MaxDays > 0 && n > lim.MaxDays) || n < lim.MinDays {
			t.Fatalf("accepted %d days against %+v", n, lim)
		}
		if today.DaysUntil(r.First) > booking.MaxAdvanceDays {
			t.Fatalf("accepted %s, more than %d days ahead", r.First, booking.MaxAdvanceDays)
		}
		if lim.LeadDays > 0 && today.DaysUntil(r.First) < lim.LeadDays {
			t.Fatalf("accepted %s inside a lead time of %d days", r.First, lim.LeadDays)
		}
		if got := len(r.List()); got != r.Days() {
			t.Fatalf("List holds %d days, Days says %d", got, r.Days())
		}
	})
}

func TestDayJSON(t *testing.T) {
	type doc struct {
		Day   booking.Day                      `json:"day"`
		None  booking.Day                      `json:"none"`
		Index map[booking.Day]booking.DayState `json:"index"`
	}
	in := doc{Day: booking.NewDay(2031, 12, 31), Index: map[booking.Day]booking.DayState{booking.NewDay(2032, 1, 1): booking.DayFree}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"day":"2031-12-31","none":null,"index":{"2032-01-01":"free"}}`; string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, out, cmp.Comparer(func(a, b booking.Day) bool { return a == b })); diff != "" {
		t.Fatalf("round trip (-in +out):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"day":"2031-02-30"}`), &out); err == nil {
		t.Fatal("accepted 30 February")
	}
}

// A Day goes into the database and comes back the same day on both
// dialects (DATE on MySQL, TEXT on SQLite), with no zone drift, and days
// compare in SQL as dates.
func testDaySQLRoundTrip(t *testing.T, db *database.DB) {
	e := newEnv(t, db, booking.Venue{Slug: "ameln-fair", Kind: booking.KindFair}, 1)
	ctx := context.Background()
	days := []booking.Day{booking.NewDay(2031, 12, 31), booking.NewDay(2032, 1, 1), booking.NewDay(2032, 2, 29), booking.NewDay(2031, 3, 30)}
	var ids []int64
	for _, d := range days {
		ev, err := e.store.CreateEvent(ctx, booking.Event{VenueID: e.venue.ID, Name: booking.Text{"en": "Almond Festival"},
			FirstDay: d, LastDay: d.AddDays(2), StallPrice: 50000})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID)
	}
	for i, id := range ids {
		ev, err := e.store.FindEvent(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if ev.FirstDay != days[i] || ev.LastDay != days[i].AddDays(2) || ev.ApplicationDeadline != days[i].AddDays(-1) {
			t.Fatalf("event %d: %s..%s deadline %s, want %s..%s deadline %s", id, ev.FirstDay, ev.LastDay, ev.ApplicationDeadline,
				days[i], days[i].AddDays(2), days[i].AddDays(-1))
		}
	}
	var got []struct{ FirstDay booking.Day }
	if err := e.db.Raw("SELECT first_day FROM events WHERE venue_id = ? AND first_day BETWEEN ? AND ? ORDER BY first_day",
		e.venue.ID, booking.NewDay(2031, 12, 31), booking.NewDay(2032, 2, 29)).Scan(&got).Error; err != nil {
		t.Fatal(err)
	}
	var gotDays []string
	for _, g := range got {
		gotDays = append(gotDays, g.FirstDay.String())
	}
	want := []string{"2031-12-31", "2032-01-01", "2032-02-29"}
	if !slices.Equal(gotDays, want) {
		t.Fatalf("days between, in order: got %v, want %v", gotDays, want)
	}
}
