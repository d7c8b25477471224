package booking

// PriceDays returns the amount, in centimes, of renting a unit for the days
// of r: monthRate for each whole calendar month r covers (the 1st to the
// last day of the month, both inside r), dayRate for every other day. A
// unit without a monthly rate (monthRate 0) is priced by the day
// throughout. Integers only (rule 3); the server always computes amounts,
// never the client.
func PriceDays(r DayRange, dayRate, monthRate int64) int64 {
	days := r.Days()
	if days <= 0 {
		return 0
	}
	if monthRate <= 0 {
		return int64(days) * dayRate
	}
	months, monthDays := wholeMonths(r)
	return int64(months)*monthRate + int64(days-monthDays)*dayRate
}

// wholeMonths counts the calendar months lying entirely inside r and the
// days they hold.
func wholeMonths(r DayRange) (months, days int) {
	for first := r.First.FirstOfMonth(); !first.After(r.Last); first = first.LastOfMonth().AddDays(1) {
		last := first.LastOfMonth()
		if !first.Before(r.First) && !last.After(r.Last) {
			months++
			days += first.DaysUntil(last) + 1
		}
	}
	return months, days
}
