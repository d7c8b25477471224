package booking

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	_ "time/tzdata" // Africa/Casablanca must load on machines without a zoneinfo database

	"github.com/souk-tiznit/souk/errs"
)

// Zone is the time zone in which every booking day is a calendar day.
var Zone = mustLoadZone("Africa/Casablanca")

func mustLoadZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("booking: load time zone %s: %v", name, err))
	}
	return loc
}

// MaxBookingDays bounds the length of any booking, whatever a venue allows:
// one claim row is written per day, in one statement.
const MaxBookingDays = 3 * 366

// MaxAdvanceDays bounds how far ahead any booking may start, whatever a
// venue allows.
const MaxAdvanceDays = 3660

// dayLayout is how a Day is written everywhere: JSON, SQL, URLs.
const dayLayout = "2006-01-02"

// Day is a civil date — a calendar day in Africa/Casablanca with no time
// and no zone, so it never drifts when it crosses JSON, SQL or a server in
// another zone. It is stored as DATE on MySQL and as 'YYYY-MM-DD' TEXT on
// SQLite. The zero Day means "no day".
type Day struct {
	t time.Time // midnight UTC of the date; UTC only so arithmetic is exact
}

// NewDay returns the day y-m-d, normalising overflow as time.Date does
// (January 32 is February 1).
func NewDay(y int, m time.Month, d int) Day {
	return Day{t: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
}

// DayOf returns the calendar day in Africa/Casablanca at instant t.
func DayOf(t time.Time) Day {
	y, m, d := t.In(Zone).Date()
	return NewDay(y, m, d)
}

// ParseDay reads a day written YYYY-MM-DD, strictly (two-digit month and
// day, a year from 1000 to 9999, a day that exists).
func ParseDay(s string) (Day, error) {
	if len(s) != len(dayLayout) {
		return Day{}, fmt.Errorf("day %q: want YYYY-MM-DD", s)
	}
	t, err := time.Parse(dayLayout, s)
	if err != nil {
		return Day{}, fmt.Errorf("day %q: want YYYY-MM-DD", s)
	}
	if t.Year() < 1000 {
		return Day{}, fmt.Errorf("day %q: year out of range", s)
	}
	return Day{t: t}, nil
}

// String returns the day as YYYY-MM-DD, or "" for the zero Day.
func (d Day) String() string {
	if d.IsZero() {
		return ""
	}
	return d.t.Format(dayLayout)
}

// IsZero reports whether d is the zero Day.
func (d Day) IsZero() bool { return d.t.IsZero() }

// Date returns the year, month and day of d.
func (d Day) Date() (int, time.Month, int) { return d.t.Date() }

// AddDays returns the day n days after d (before it when n is negative).
func (d Day) AddDays(n int) Day { return Day{t: d.t.AddDate(0, 0, n)} }

// Before reports whether d comes before e.
func (d Day) Before(e Day) bool { return d.t.Before(e.t) }

// After reports whether d comes after e.
func (d Day) After(e Day) bool { return d.t.After(e.t) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Day) Compare(e Day) int { return d.t.Compare(e.t) }

// DaysUntil returns the number of days from d to e: 1 when e is the day
// after d, negative when e is before d.
func (d Day) DaysUntil(e Day) int {
	return int((e.t.Unix() - d.t.Unix()) / 86400) // exact: both are UTC midnights
}

// Start returns the instant the day begins in Africa/Casablanca.
func (d Day) Start() time.Time {
	y, m, dd := d.t.Date()
	return time.Date(y, m, dd, 0, 0, 0, 0, Zone)
}

// FirstOfMonth returns the first day of d's month.
func (d Day) FirstOfMonth() Day {
	y, m, _ := d.t.Date()
	return NewDay(y, m, 1)
}

// LastOfMonth returns the last day of d's month.
func (d Day) LastOfMonth() Day {
	y, m, _ := d.t.Date()
	return NewDay(y, m+1, 0)
}

// MarshalText writes the day as YYYY-MM-DD (it is also how a Day is written
// as a JSON map key).
func (d Day) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a day written YYYY-MM-DD.
func (d *Day) UnmarshalText(b []byte) error {
	v, err := ParseDay(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalJSON writes the day as "YYYY-MM-DD", or null for the zero Day.
func (d Day) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD" or null.
func (d *Day) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Day{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("day: want a string YYYY-MM-DD: %w", err)
	}
	return d.UnmarshalText([]byte(s))
}

// Value writes the day to SQL as 'YYYY-MM-DD' (NULL for the zero Day),
// which MySQL stores in a DATE and SQLite in TEXT that sorts by date.
func (d Day) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	return d.String(), nil
}

// Scan reads a DATE (a time.Time from the MySQL driver, whose date is taken
// as written, whatever its zone) or 'YYYY-MM-DD' text.
func (d *Day) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Day{}
		return nil
	case time.Time:
		*d = NewDay(v.Date())
		return nil
	case string:
		return d.scanText(v)
	case []byte:
		return d.scanText(string(v))
	}
	return fmt.Errorf("scan day from %T", src)
}

func (d *Day) scanText(s string) error {
	if len(s) > len(dayLayout) { // a DATETIME-looking value: keep its date part
		s = s[:len(dayLayout)]
	}
	v, err := ParseDay(s)
	if err != nil {
		return fmt.Errorf("scan day: %w", err)
	}
	*d = v
	return nil
}

// GormDataType tells GORM a Day is a column of its own, not a relation.
func (Day) GormDataType() string { return "date" }

// DayRange is an inclusive run of days: a booking from First to Last
// occupies both.
type DayRange struct {
	First Day `json:"first_day"`
	Last  Day `json:"last_day"`
}

// Days returns how many days the range holds (1 when First == Last).
func (r DayRange) Days() int { return r.First.DaysUntil(r.Last) + 1 }

// Contains reports whether d lies in the range.
func (r DayRange) Contains(d Day) bool { return !d.Before(r.First) && !d.After(r.Last) }

// Overlap returns the days r and o share, and whether they share any.
func (r DayRange) Overlap(o DayRange) (DayRange, bool) {
	first, last := r.First, r.Last
	if o.First.After(first) {
		first = o.First
	}
	if o.Last.Before(last) {
		last = o.Last
	}
	if last.Before(first) {
		return DayRange{}, false
	}
	return DayRange{First: first, Last: last}, true
}

// List returns every day of the range in order.
func (r DayRange) List() []Day {
	n := r.Days()
	if n <= 0 {
		return nil
	}
	out := make([]Day, 0, n)
	for d := r.First; !d.After(r.Last); d = d.AddDays(1) {
		out = append(out, d)
	}
	return out
}

// String returns "first..last".
func (r DayRange) String() string { return r.First.String() + ".." + r.Last.String() }

// StayLimits are a venue's rules on when and how long a unit may be booked.
// Zero means the package's bounds (MaxBookingDays, MaxAdvanceDays) for
// MaxDays and MaxAdvanceDays, and one day for MinDays.
type StayLimits struct {
	MinDays        int `json:"min_days" gorm:"column:min_days"`                 // shortest booking, in days
	MaxDays        int `json:"max_days" gorm:"column:max_days"`                 // longest booking, in days (0: up to MaxBookingDays)
	LeadDays       int `json:"lead_days" gorm:"column:lead_days"`               // days between today and the first day at least
	MaxAdvanceDays int `json:"max_advance_days" gorm:"column:max_advance_days"` // how far ahead the first day may be (0: up to MaxAdvanceDays)
}

// validate reports limits that cannot be met or make no sense.
func (l StayLimits) validate(f *errs.Fields, prefix string) {
	if l.MinDays < 0 || l.MinDays > MaxBookingDays {
		f.Add(prefix+"min_days", "must be between 0 and %d", MaxBookingDays)
	}
	if l.MaxDays < 0 || l.MaxDays > MaxBookingDays {
		f.Add(prefix+"max_days", "must be between 0 (no limit) and %d", MaxBookingDays)
	}
	if l.MaxDays > 0 && l.MinDays > l.MaxDays {
		f.Add(prefix+"min_days", "must not exceed max_days")
	}
	if l.LeadDays < 0 || l.LeadDays > MaxAdvanceDays {
		f.Add(prefix+"lead_days", "must be between 0 and %d", MaxAdvanceDays)
	}
	if l.MaxAdvanceDays < 0 || l.MaxAdvanceDays > MaxAdvanceDays {
		f.Add(prefix+"max_advance_days", "must be between 0 (no limit of the venue's own) and %d", MaxAdvanceDays)
	}
	if l.MaxAdvanceDays > 0 && l.LeadDays > l.MaxAdvanceDays {
		f.Add(prefix+"lead_days", "must not exceed max_advance_days")
	}
}

func (l StayLimits) maxAdvance() int {
	if l.MaxAdvanceDays <= 0 || l.MaxAdvanceDays > MaxAdvanceDays {
		return MaxAdvanceDays
	}
	return l.MaxAdvanceDays
}

func (l StayLimits) maxDays() int {
	if l.MaxDays <= 0 || l.MaxDays > MaxBookingDays {
		return MaxBookingDays
	}
	return l.MaxDays
}

// ParseDayRange reads an inclusive range of days as a client sends it and
// checks it against a venue's limits, given today's date in
// Africa/Casablanca. Every problem is reported as an errs.Invalid field
// error on "first_day" or "last_day": a bad format, a last day before the
// first, a first day in the past or inside the lead time or too far ahead,
// a stay longer or shorter than the venue allows.
func ParseDayRange(first, last string, today Day, lim StayLimits) (DayRange, error) {
	var f errs.Fields
	fd, err := ParseDay(first)
	if err != nil {
		f.Add("first_day", "must be a date written YYYY-MM-DD")
	}
	ld, err := ParseDay(last)
	if err != nil {
		f.Add("last_day", "must be a date written YYYY-MM-DD")
	}
	if len(f) > 0 {
		return DayRange{}, f.Err()
	}
	r := DayRange{First: fd, Last: ld}
	if ld.Before(fd) {
		f.Add("last_day", "must not be before first_day")
	}
	switch {
	case fd.Before(today):
		f.Add("first_day", "is in the past")
	case lim.LeadDays > 0 && fd.Before(today.AddDays(lim.LeadDays)):
		f.Add("first_day", "must be at least %d days from today (%s at the earliest)", lim.LeadDays, today.AddDays(lim.LeadDays))
	case fd.After(today.AddDays(lim.maxAdvance())):
		f.Add("first_day", "may be at most %d days ahead (%s at the latest)", lim.maxAdvance(), today.AddDays(lim.maxAdvance()))
	}
	if !ld.Before(fd) {
		switch n := r.Days(); {
		case n > lim.maxDays():
			f.Add("last_day", "a booking here lasts at most %d days", lim.maxDays())
		case lim.MinDays > 1 && n < lim.MinDays:
			f.Add("last_day", "a booking here lasts at least %d days", lim.MinDays)
		}
	}
	if err := f.Err(); err != nil {
		return DayRange{}, err
	}
	return r, nil
}

// Month is a calendar month, the period of the occupancy report.
type Month struct {
	Year  int
	Month time.Month
}

// ParseMonth reads a month written YYYY-MM.
func ParseMonth(s string) (Month, error) {
	if len(s) != len("2006-01") {
		return Month{}, errors.New("month: want YYYY-MM")
	}
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 1000 {
		return Month{}, errors.New("month: want YYYY-MM")
	}
	return Month{Year: t.Year(), Month: t.Month()}, nil
}

// MonthOf returns the month day d falls in.
func MonthOf(d Day) Month {
	y, m, _ := d.Date()
	return Month{Year: y, Month: m}
}

// String returns the month as YYYY-MM.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// Range returns the days of the month.
func (m Month) Range() DayRange {
	first := NewDay(m.Year, m.Month, 1)
	return DayRange{First: first, Last: first.LastOfMonth()}
}

// MarshalText writes the month as YYYY-MM.
func (m Month) MarshalText() ([]byte, error) { return []byte(m.String()), nil }
