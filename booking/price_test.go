package booking_test

import (
	"testing"

	"github.com/souk-tiznit/souk/booking"
)

func TestPriceDays(t *testing.T) {
	const dayRate, monthRate = 10000, 200000 // 100 MAD a day, 2,000 MAD a month
	tests := []struct {
		name        string
		first, last string
		month       int64
		want        int64
	}{
		{"one day", "2031-03-10", "2031-03-10", monthRate, dayRate},
		{"a few days", "2031-03-10", "2031-03-13", monthRate, 4 * dayRate},
		{"a whole month", "2031-03-01", "2031-03-31", monthRate, monthRate},
		{"31 days that are no calendar month", "2031-03-02", "2031-04-01", monthRate, 31 * dayRate},
		{"whole months and the rest", "2031-01-15", "2031-03-31", monthRate, 2*monthRate + 17*dayRate},
		{"rest on both sides", "2031-01-30", "2031-03-02", monthRate, monthRate + 2*dayRate + 2*dayRate},
		{"February of a leap year", "2032-02-01", "2032-02-29", monthRate, monthRate},
		{"February less its leap day", "2032-02-01", "2032-02-28", monthRate, 28 * dayRate},
		{"across a year end", "2031-12-15", "2032-01-31", monthRate, monthRate + 17*dayRate},
		{"a calendar year", "2032-01-01", "2032-12-31", monthRate, 12 * monthRate},
		{"no monthly rate", "2031-03-01", "2031-03-31", 0, 31 * dayRate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := booking.DayRange{First: day(t, tt.first), Last: day(t, tt.last)}
			if got := booking.PriceDays(r, dayRate, tt.month); got != tt.want {
				t.Fatalf("PriceDays(%s) = %d, want %d", r, got, tt.want)
			}
		})
	}
}

func TestCancellationRefund(t *testing.T) {
	p := booking.CancellationPolicy{FullRefundDays: 14, PartialPercent: 50, NoRefundDays: 3}
	first := booking.NewDay(2031, 4, 20)
	tests := []struct {
		daysBefore int
		want       int64
	}{
		{30, 100001}, {14, 100001}, {13, 50000}, {3, 50000}, {2, 0}, {0, 0}, {-1, 0},
	}
	for _, tt := range tests {
		if got := p.Refund(100001, first, first.AddDays(-tt.daysBefore)); got != tt.want {
			t.Errorf("%d days before: refund %d, want %d", tt.daysBefore, got, tt.want)
		}
	}
}
