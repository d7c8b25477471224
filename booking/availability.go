package booking

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
)

// MaxAvailabilityDays bounds the period one availability request covers.
const MaxAvailabilityDays = 366

// DayState is what a unit's day looks like to someone about to book it.
type DayState string

// The day states.
const (
	DayFree    DayState = "free"
	DayHeld    DayState = "held"    // held for someone waiting to pay; may come free again
	DayBooked  DayState = "booked"  // confirmed
	DayBlocked DayState = "blocked" // out of service
)

// Availability is the state of every active unit of a venue on every day
// of a period. Its JSON is {"from", "to", "units": [{"id", "code", "days":
// {"YYYY-MM-DD": state}}]} with the days in date order (AppendJSON).
type Availability struct {
	From  Day
	To    Day
	Units []UnitAvailability
}

// UnitAvailability is one unit's days: Days[i] is the state of the day
// First.AddDays(i), First being the period's first day.
type UnitAvailability struct {
	ID    int64
	Code  string
	First Day
	Days  []DayState
}

// On returns the unit's state on day d, or "" when d is outside the period.
func (u UnitAvailability) On(d Day) DayState {
	i := u.First.DaysUntil(d)
	if u.First.IsZero() || d.IsZero() || i < 0 || i >= len(u.Days) {
		return ""
	}
	return u.Days[i]
}

// Availability returns the state of each active unit of a venue on each
// day from from to to (inclusive) as seen at instant now: a hold that has
// expired is free. It reads the venue with its active units, then the
// claims and the blocks of the period — two queries whatever the period.
// It returns errs.Invalid for a period that is empty, reversed or longer
// than MaxAvailabilityDays, and errs.NotFound for an unknown venue.
func (s *Store) Availability(ctx context.Context, venueSlug string, from, to Day, now time.Time) (Availability, error) {
	var f errs.Fields
	if from.IsZero() {
		f.Add("from", "is required (YYYY-MM-DD)")
	}
	if to.IsZero() {
		f.Add("to", "is required (YYYY-MM-DD)")
	}
	if len(f) == 0 {
		r := DayRange{First: from, Last: to}
		switch {
		case to.Before(from):
			f.Add("to", "must not be before from")
		case r.Days() > MaxAvailabilityDays:
			f.Add("to", "the period covers at most %d days", MaxAvailabilityDays)
		}
	}
	if err := f.Err(); err != nil {
		return Availability{}, err
	}
	now = s.now(now)
	db := s.db.WithContext(ctx)
	n := from.DaysUntil(to) + 1

	// The venue and its active units in one query: no row is an unknown
	// (or inactive) venue, one row with a NULL unit a venue without units.
	rows, err := db.Raw(`SELECT v.id, u.id, u.code FROM venues v
		LEFT JOIN units u ON u.venue_id = v.id AND u.active = ?
		WHERE v.slug = ? AND v.active = ? ORDER BY u.code`, true, venueSlug, true).Rows()
	if err != nil {
		return Availability{}, fmt.Errorf("units of %q: %w", venueSlug, database.Translate(err))
	}
	var (
		venueID int64
		found   bool
		units   = make([]UnitAvailability, 0, 32) // never nil: a venue without units has "units": []
	)
	for rows.Next() {
		var uid sql.NullInt64
		var code sql.NullString
		if err := rows.Scan(&venueID, &uid, &code); err != nil {
			rows.Close()
			return Availability{}, fmt.Errorf("units of %q: %w", venueSlug, database.Translate(err))
		}
		found = true
		if uid.Valid {
			units = append(units, UnitAvailability{ID: uid.Int64, Code: code.String, First: from})
		}
	}
	if err := closeRows(rows); err != nil {
		return Availability{}, fmt.Errorf("units of %q: %w", venueSlug, err)
	}
	if !found {
		return Availability{}, errs.E(errs.NotFound, "no such venue")
	}
	// One backing array for every unit's days, all free to begin with.
	states := make([]DayState, len(units)*n)
	for i := range states {
		states[i] = DayFree
	}
	index := make(map[int64]int, len(units))
	for i := range units {
		units[i].Days = states[i*n : (i+1)*n : (i+1)*n]
		index[units[i].ID] = i
	}
	out := Availability{From: from, To: to, Units: units}
	if len(units) == 0 {
		return out, nil
	}

	// Claims and blocks of the period in one query. A claim counts while it
	// is Live: confirmed, or held and not expired — decided in SQL as the
	// hold itself decides it (claims.go), so no instant is read back. A
	// block wins over a claim of the same day, as it did when they were
	// read one after the other.
	const (
		rowHeld    = 1
		rowBooked  = 2
		rowBlocked = 3
	)
	// 2 and 1 are rowBooked and rowHeld, 3 rowBlocked.
	rows, err = db.Raw(`SELECT c.unit_id, c.day, CASE WHEN c.state = ? THEN 2 ELSE 1 END FROM day_claims c
		JOIN units u ON u.id = c.unit_id
		WHERE u.venue_id = ? AND c.day BETWEEN ? AND ? AND NOT (c.state = ? AND c.expires_at < ?)
		UNION ALL
		SELECT b.unit_id, b.day, 3 FROM unit_blocks b
		JOIN units u ON u.id = b.unit_id WHERE u.venue_id = ? AND b.day BETWEEN ? AND ?`,
		ClaimConfirmed, venueID, from, to, ClaimHeld, now, venueID, from, to).Rows()
	if err != nil {
		return Availability{}, fmt.Errorf("claims and blocks of %q: %w", venueSlug, database.Translate(err))
	}
	for rows.Next() {
		var (
			unitID int64
			kind   int
		)
		d := dayOffset{from: from}
		if err := rows.Scan(&unitID, &d, &kind); err != nil {
			rows.Close()
			return Availability{}, fmt.Errorf("claims and blocks of %q: %w", venueSlug, database.Translate(err))
		}
		i, ok := index[unitID]
		k := d.n
		if !ok || k < 0 || k >= n {
			continue
		}
		switch day := &units[i].Days[k]; {
		case kind == rowBlocked:
			*day = DayBlocked
		case *day == DayBlocked:
		case kind == rowBooked:
			*day = DayBooked
		case kind == rowHeld:
			*day = DayHeld
		}
	}
	if err := closeRows(rows); err != nil {
		return Availability{}, fmt.Errorf("claims and blocks of %q: %w", venueSlug, err)
	}
	return out, nil
}

// dayOffset scans a day column as its distance in days from from: the
// claims of a year are thousands of rows, and time.Parse per row showed in
// the profile. 'YYYY-MM-DD' text (SQLite) is read digit by digit; anything
// else goes through Day.Scan.
type dayOffset struct {
	from Day
	n    int
}

func (o *dayOffset) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	}
	if y, m, d, ok := civilDate(s); ok {
		fy, fm, fd := o.from.Date()
		o.n = daysFromCivil(y, m, d) - daysFromCivil(fy, int(fm), fd)
		return nil
	}
	var d Day
	if err := d.Scan(src); err != nil {
		return err
	}
	o.n = o.from.DaysUntil(d)
	return nil
}

// civilDate reads exactly 'YYYY-MM-DD' (a day that exists).
func civilDate(s string) (y, m, d int, ok bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, false
	}
	num := func(t string) (int, bool) {
		v := 0
		for i := 0; i < len(t); i++ {
			c := t[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	var oy, om, od bool
	y, oy = num(s[:4])
	m, om = num(s[5:7])
	d, od = num(s[8:])
	if !oy || !om || !od || y < 1000 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, 0, 0, false
	}
	return y, m, d, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (H. Hinnant's days_from_civil).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400 // y ≥ 999 here: no negative division
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// closeRows reports the error that ended an iteration, or closing's.
func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return database.Translate(err)
	}
	return nil
}

// MarshalJSON writes the availability as AppendJSON does.
func (a Availability) MarshalJSON() ([]byte, error) {
	return a.AppendJSON(nil), nil
}

// AppendJSON appends the availability's JSON to b: the bytes encoding/json
// wrote when each unit's days were a map keyed by day (keys sorted, HTML
// characters escaped), without the map or reflection.
func (a Availability) AppendJSON(b []byte) []byte {
	n := 0
	for _, u := range a.Units {
		n = max(n, len(u.Days))
	}
	keys := dayKeys(a.From, n)
	b = slices.Grow(b, 40+len(a.Units)*(48+n*(len(`"2006-01-02":"blocked",`))))
	b = append(b, `{"from":`...)
	b = appendDayJSON(b, a.From)
	b = append(b, `,"to":`...)
	b = appendDayJSON(b, a.To)
	b = append(b, `,"units":`...)
	if a.Units == nil {
		return append(b, `null}`...)
	}
	b = append(b, '[')
	for i, u := range a.Units {
		if i > 0 {
			b = append(b, ',')
		}
		if u.First == a.From {
			b = u.appendJSON(b, keys)
		} else {
			b = u.appendJSON(b, dayKeys(u.First, len(u.Days)))
		}
	}
	return append(b, "]}"...)
}

// MarshalJSON writes the unit as {"id", "code", "days": {"YYYY-MM-DD":
// state}}.
func (u UnitAvailability) MarshalJSON() ([]byte, error) {
	return u.appendJSON(nil, dayKeys(u.First, len(u.Days))), nil
}

func (u UnitAvailability) appendJSON(b []byte, keys periodKeys) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, u.Code)
	b = append(b, `,"days":`...)
	if u.Days == nil {
		return append(b, "null}"...)
	}
	b = append(b, '{')
	for j := range u.Days {
		i := j
		if keys.order != nil {
			i = keys.order[j]
		}
		if j > 0 {
			b = append(b, ',')
		}
		b = append(b, keys.key(i)...)
		b = append(b, ':')
		b = appendJSONString(b, string(u.Days[i]))
	}
	return append(b, "}}"...)
}

// periodKeys are the JSON keys of n days, "YYYY-MM-DD" quoted, in one
// buffer: key i is buf[off[i]:off[i+1]]. order, when set, is the order
// encoding/json writes them in (sorted as strings), which differs from
// date order only past the year 9999.
type periodKeys struct {
	buf   []byte
	off   []int
	order []int
}

func (k periodKeys) key(i int) []byte { return k.buf[k.off[i]:k.off[i+1]] }

func dayKeys(first Day, n int) periodKeys {
	k := periodKeys{buf: make([]byte, 0, n*len(`"2006-01-02"`)), off: make([]int, n+1)}
	t := first.t
	sorted := true
	for i := range n {
		if y := t.Year(); y >= 1000 && y <= 9999 {
			k.buf = appendDayJSON(k.buf, Day{t: t})
		} else {
			sorted = false
			k.buf = appendJSONString(k.buf, Day{t: t}.String())
		}
		k.off[i+1] = len(k.buf)
		t = t.Add(24 * time.Hour) // UTC midnights: a day is always 24 hours
	}
	if !sorted {
		k.order = make([]int, n)
		for i := range k.order {
			k.order[i] = i
		}
		slices.SortStableFunc(k.order, func(a, b int) int { return bytes.Compare(k.key(a), k.key(b)) })
	}
	return k
}

func appendDigits(b []byte, v, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

func appendDayJSON(b []byte, d Day) []byte {
	if d.IsZero() {
		return append(b, "null"...)
	}
	y, m, dd := d.Date()
	if y < 1000 || y > 9999 {
		return appendJSONString(b, d.String())
	}
	b = append(b, '"')
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(m), 2)
	b = append(b, '-')
	b = appendDigits(b, dd, 2)
	return append(b, '"')
}

// appendJSONString appends s as encoding/json writes a string: as is when
// every byte is printable ASCII that needs no escape (unit codes are), else
// through encoding/json itself so that escapes, HTML-safe characters and
// invalid UTF-8 come out exactly as it writes them.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, err := json.Marshal(s)
			if err != nil { // a string always marshals
				panic(fmt.Sprintf("booking: marshal %q: %v", s, err))
			}
			return append(b, j...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
