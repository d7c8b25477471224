package storefront

import (
	"math"
	"testing"
)

// Rule 3: money is exact. Prices are read digit by digit, never as floats.
func TestParseMAD(t *testing.T) {
	ok := []struct {
		in   string
		want int64
	}{
		{"120", 12_000}, {"120.5", 12_050}, {"120.50", 12_050}, {"0.01", 1}, {"0.1", 10}, {" 7.05 ", 705},
		{"0019.99", 1_999}, {"1000000", MaxPrice}, {"999999.99", MaxPrice - 1},
		// 0.29 and 4.35 are the classic float traps: 0.29*100 = 28.999…
		{"0.29", 29}, {"4.35", 435}, {"1.15", 115},
	}
	for _, tt := range ok {
		got, err := ParseMAD(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseMAD(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
	bad := []string{"", "0", "0.00", "-5", "12.345", "1,200", "12,50", "1e3", "12.", ".5", "abc", "12 000", "+5", "1000000.01",
		"99999999999999999999999", "NaN", "0x10", "١٢٠"}
	for _, in := range bad {
		if got, err := ParseMAD(in); err == nil {
			t.Errorf("ParseMAD(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatMAD(t *testing.T) {
	for c, want := range map[int64]string{0: "0.00", 1: "0.01", 29: "0.29", 12_050: "120.50", MaxPrice: "1000000.00", -705: "-7.05",
		math.MinInt64: "-92233720368547758.08"} {
		if got := FormatMAD(c); got != want {
			t.Errorf("FormatMAD(%d) = %q, want %q", c, got, want)
		}
	}
	for _, c := range []int64{1, 9, 10, 99, 100, 101, 12_345, MaxPrice} {
		back, err := ParseMAD(FormatMAD(c))
		if err != nil || back != c {
			t.Errorf("ParseMAD(FormatMAD(%d)) = %d, %v", c, back, err)
		}
	}
}
