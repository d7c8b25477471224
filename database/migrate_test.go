package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Both dialects must hold the same numbered steps with the same names.
func TestMigrationsSameStepsInBothDialects(t *testing.T) {
	steps := func(d string) []string {
		ms, err := database.Migrations(d)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for i, m := range ms {
			if m.Version != i+1 {
				t.Errorf("%s: migration %d is numbered %d: versions must run 1, 2, 3 … without gaps", d, i+1, m.Version)
			}
			out = append(out, fmt.Sprintf("%04d_%s", m.Version, m.Name))
		}
		return out
	}
	if diff := cmp.Diff(steps(database.MySQL), steps(database.SQLite)); diff != "" {
		t.Fatalf("mysql and sqlite migrations differ (-mysql +sqlite):\n%s", diff)
	}
}

// Galera refuses GET_LOCK and needs a primary key on every table.
func TestMigrationsGaleraSafe(t *testing.T) {
	ms, err := database.Migrations(database.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	getLock := regexp.MustCompile(`(?i)GET_LOCK|LOCK TABLES|ENGINE\s*=\s*MyISAM`)
	for _, m := range ms {
		if getLock.MatchString(m.SQL) {
			t.Errorf("%04d_%s uses a construct Galera refuses", m.Version, m.Name)
		}
	}
}

func TestMigrate(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		db := dbtest.OpenEmpty(t, dialect)
		n, err := db.Migrate(ctx, quiet)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := database.Migrations(dialect)
		if n != len(all) {
			t.Fatalf("applied %d, want %d", n, len(all))
		}
		again, err := db.Migrate(ctx, quiet)
		if err != nil || again != 0 {
			t.Fatalf("second run applied %d (err %v), want 0", again, err)
		}
		st, err := db.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range st {
			if m.AppliedAt == nil {
				t.Errorf("%04d_%s not applied", m.Version, m.Name)
			}
		}
		// Every table of the schema has a primary key (Galera needs it).
		var missing []string
		if dialect == database.MySQL {
			db.Raw(`SELECT t.table_name FROM information_schema.tables t
				LEFT JOIN information_schema.table_constraints c
				  ON c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY'
				WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE' AND c.constraint_name IS NULL`).Scan(&missing)
		}
		if len(missing) > 0 {
			t.Fatalf("tables without a primary key: %v", missing)
		}
	})
}

// Instances starting together apply each migration once and all come up.
func TestMigrateConcurrentInstances(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		url := dbtest.URL(t, dialect)
		const instances = 4
		var wg sync.WaitGroup
		results := make([]int, instances)
		errsOut := make([]error, instances)
		for i := range instances {
			db := dbtest.OpenURL(t, url)
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				results[i], errsOut[i] = db.Migrate(ctx, quiet)
			}()
		}
		wg.Wait()
		total := 0
		for i := range instances {
			if errsOut[i] != nil {
				t.Fatalf("instance %d: %v", i, errsOut[i])
			}
			total += results[i]
		}
		all, _ := database.Migrations(dialect)
		if total != len(all) {
			t.Fatalf("instances applied %d migrations in total (%v), want each of %d once", total, results, len(all))
		}
		var rows int64
		dbtest.OpenURL(t, url).Raw("SELECT COUNT(*) FROM schema_migrations").Scan(&rows)
		if rows != int64(len(all)) {
			t.Fatalf("history holds %d rows, want %d", rows, len(all))
		}
	})
}

// A lock left by a crashed migrator is taken over once it expires.
func TestMigrateTakesOverExpiredLock(t *testing.T) {
	db := dbtest.OpenEmpty(t, database.SQLite)
	ctx := context.Background()
	if _, err := db.Status(ctx); err != nil { // creates the bookkeeping tables
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO schema_lock (id, owner, expires_at) VALUES (1, 'crashed', ?)", time.Now().UTC().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := db.Migrate(ctx, quiet); err != nil {
		t.Fatalf("expired lock not taken over: %v", err)
	}
	// A live lock makes the migrator wait (here: until its context ends).
	db.Exec("INSERT INTO schema_lock (id, owner, expires_at) VALUES (1, 'alive', ?)", time.Now().UTC().Add(time.Hour))
	short, cancel2 := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel2()
	if _, err := db.Migrate(short, quiet); err == nil {
		t.Fatal("migrated while another instance held a live lock")
	}
}

func TestSplitStatements(t *testing.T) {
	script := `-- heading; with a semicolon
CREATE TABLE a (x TEXT DEFAULT 'a;b', y TEXT DEFAULT "c;d");
/* block ; comment */
CREATE TRIGGER t AFTER INSERT ON a BEGIN
  INSERT INTO b VALUES (CASE WHEN new.x = 'it''s' THEN 1 ELSE 2 END);
  DELETE FROM c;
END;
INSERT INTO a VALUES ('x');
-- trailing comment only`
	got := database.SplitStatements(script)
	if len(got) != 3 {
		t.Fatalf("got %d statements: %q", len(got), got)
	}
	if !regexp.MustCompile(`(?s)CREATE TRIGGER.*DELETE FROM c;\s*END$`).MatchString(got[1]) {
		t.Fatalf("trigger cut wrongly: %q", got[1])
	}
}

func TestTranslate(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		db := dbtest.Open(t, dialect)
		ctx := context.Background()
		now := time.Now().UTC()
		ins := func() error {
			return database.Translate(db.WithContext(ctx).Exec(
				"INSERT INTO users (email, email_norm, name, password_hash, created_at, updated_at) VALUES ('a@x.ma', 'a@x.ma', 'A', 'h', ?, ?)", now, now).Error)
		}
		if err := ins(); err != nil {
			t.Fatal(err)
		}
		if err := ins(); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate: got %v, want conflict", err)
		}
		var u struct{ ID int64 }
		err := database.Translate(db.WithContext(ctx).Table("users").Where("id = ?", 999).First(&u).Error)
		if !errs.Is(err, errs.NotFound) {
			t.Fatalf("missing row: got %v, want not_found", err)
		}
	})
}

// Transact retries a transaction that meets a retryable error and gives up
// with a clean conflict, never an internal error.
func TestTransactRetries(t *testing.T) {
	db := dbtest.Open(t, database.SQLite)
	calls := 0
	err := db.Transact(context.Background(), func(tx *gorm.DB) error {
		calls++
		if calls < 3 {
			return errors.New("database is locked (5) (SQLITE_BUSY)")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("calls %d err %v, want success on the third", calls, err)
	}
	calls = 0
	err = db.Transact(context.Background(), func(tx *gorm.DB) error {
		calls++
		return errors.New("Error 1213 (40001): Deadlock found when trying to get lock")
	})
	if !errs.Is(err, errs.Conflict) || calls != database.MaxAttempts {
		t.Fatalf("calls %d err %v, want conflict after %d", calls, err, database.MaxAttempts)
	}
}
