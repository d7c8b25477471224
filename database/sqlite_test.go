package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
)

// Write transactions on SQLite start IMMEDIATE: a second one waits for the
// first instead of starting and failing later with SQLITE_BUSY_SNAPSHOT when
// it writes after reading. If the DSN's _txlock were dropped, the second
// Begin would return at once and this test would fail.
func TestSQLiteWritersQueue(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	sqlDB, err := db.DB.DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tx1, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx1.QueryRow("SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	began := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		tx2, err := sqlDB.BeginTx(ctx, nil)
		if err == nil {
			tx2.Rollback()
		}
		began <- time.Since(start)
	}()
	select {
	case d := <-began:
		t.Fatalf("a second transaction began after %s while the first was open: transactions are not IMMEDIATE", d)
	case <-time.After(300 * time.Millisecond):
	}
	tx1.Rollback()
	select {
	case <-began:
	case <-time.After(10 * time.Second):
		t.Fatal("the second transaction never began after the first ended")
	}
}
