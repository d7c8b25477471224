package booking

import (
	"testing"
	"time"
)

// dayOffset reads every 'YYYY-MM-DD' from 1000 to 9999 as the distance in
// days Day arithmetic gives, and refuses days that do not exist by falling
// back to Day.Scan's error.
func TestDayOffsetMatchesDays(t *testing.T) {
	from := NewDay(2031, 3, 10)
	for d := NewDay(1000, 1, 1); d.Before(NewDay(10000, 1, 1)); d = (Day{t: d.t.Add(24 * time.Hour)}) {
		o := dayOffset{from: from}
		if err := o.Scan(d.String()); err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if want := from.DaysUntil(d); o.n != want {
			t.Fatalf("%s: %d days from %s, want %d", d, o.n, from, want)
		}
	}
	for _, bad := range []string{"2031-02-29", "2032-13-01", "2031-04-31", "2031-4-01", "0999-01-01", "2031-01-00", "abcd-ef-gh"} {
		o := dayOffset{from: from}
		if err := o.Scan(bad); err == nil {
			t.Errorf("%q read as %d days", bad, o.n)
		}
	}
	o := dayOffset{from: from}
	if err := o.Scan(time.Date(2031, 3, 12, 0, 0, 0, 0, time.UTC)); err != nil || o.n != 2 {
		t.Errorf("a DATE from MySQL: %d, %v; want 2", o.n, err)
	}
}
