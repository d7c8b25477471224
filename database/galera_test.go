package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// On a multi-writer Galera cluster a transaction can be aborted by a
// conflicting write set from the other node while it is still running
// (a "brute-force abort"); a statement caught in it may answer "not found"
// before any deadlock is reported. Transact must see the abort, retry,
// and answer from the retried attempt: here a clean conflict (the key is
// taken), not the not-found of the aborted attempt.
func TestTransactRetriesGaleraBruteForceAbort(t *testing.T) {
	c := testenv.Galera(t)
	name := fmt.Sprintf("souk_bf_%d", time.Now().UnixNano())
	root, err := sql.Open("mysql", c.DSNs[0])
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := root.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE IF EXISTS " + name) })
	var dbs []*database.DB
	for _, dsn := range c.DSNs {
		mc, _ := mysqldriver.ParseDSN(dsn)
		u := url.URL{Scheme: "mysql", User: url.User(mc.User), Host: mc.Addr, Path: "/" + name, RawQuery: "wsrep_sync_wait=1"}
		db, err := database.Open(context.Background(), u.String(), database.Options{MaxOpenConns: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	if err := dbs[0].Exec("CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k VARCHAR(20) NOT NULL, UNIQUE KEY (k))").Error; err != nil {
		t.Fatal(err)
	}
	attempts := 0
	err = dbs[1].Transact(context.Background(), func(tx *gorm.DB) error {
		attempts++
		if err := tx.Exec("INSERT INTO t (k) VALUES ('key')").Error; err != nil {
			return err
		}
		var id int64
		if err := tx.Raw("SELECT LAST_INSERT_ID()").Scan(&id).Error; err != nil {
			return err
		}
		if attempts == 1 {
			// Node 1 commits the same key; once node 2 has applied it,
			// its write set has aborted ours. Answer as a read caught in
			// the abort may: our own row looks gone.
			if err := dbs[0].Exec("INSERT INTO t (k) VALUES ('key')").Error; err != nil {
				return fmt.Errorf("node 1 insert: %w", err)
			}
			for deadline := time.Now().Add(10 * time.Second); ; {
				var seen int64
				if err := dbs[1].Raw("SELECT COUNT(*) FROM t WHERE k = 'key'").Scan(&seen).Error; err != nil {
					return fmt.Errorf("node 2 read: %w", err)
				}
				if seen == 1 {
					break
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("node 2 never applied node 1's row")
				}
				time.Sleep(20 * time.Millisecond)
			}
			return errs.E(errs.NotFound, "no such row")
		}
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM t WHERE id = ?", id).Scan(&n).Error; err != nil {
			t.Logf("attempt %d: read after the abort: %v", attempts, err)
			return err
		}
		if n == 0 {
			t.Logf("attempt %d: our own row is gone", attempts)
			return errs.E(errs.NotFound, "no such row")
		}
		return nil
	})
	t.Logf("attempts %d, err %v", attempts, err)
	if attempts < 2 || !errs.Is(err, errs.Conflict) {
		t.Fatalf("Transact after a brute-force abort: %d attempts, error %v; want a retry ending in a conflict (duplicate key)", attempts, err)
	}
}
