package booking_test

import (
	"testing"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
)

// TestStore runs the store's tests on one migrated database per dialect,
// side by side: each works in a venue of its own and checks only that
// venue. (Migrating a MariaDB database takes a second; tests that need a
// database to themselves — several pools, a sweeper over every venue,
// counted queries — open their own.)
func TestStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fn   func(t *testing.T, db *database.DB)
	}{
		{"PlaceHoldDays", testPlaceHoldDays},
		{"PlaceHoldFairStall", testPlaceHoldFairStall},
		{"PlaceHoldIdempotencyKey", testPlaceHoldIdempotencyKey},
		{"PlaceHoldDistinctUnitsDoNotBlock", testPlaceHoldDistinctUnitsDoNotBlock},
		{"ClaimPrimaryKeyIsTheNet", testClaimPrimaryKeyIsTheNet},
		{"OverlapCheckFindsDoubleBooking", testOverlapCheckFindsDoubleBooking},
		{"ConfirmBooking", testConfirmBooking},
		{"ApproveApplication", testApproveApplication},
		{"CancelBooking", testCancelBooking},
		{"OccupancyAndRevenue", testOccupancyAndRevenue},
		{"DaySQLRoundTrip", testDaySQLRoundTrip},
		{"CreateVenueAndUnits", testCreateVenueAndUnits},
	}
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		db := openDB(t, dialect)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				tt.fn(t, db)
			})
		}
	})
}
