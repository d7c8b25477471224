package database_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sync"
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
	dbs := galeraDatabases(t)
	if err := dbs[0].Exec("CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, k VARCHAR(20) NOT NULL, UNIQUE KEY (k))").Error; err != nil {
		t.Fatal(err)
	}
	attempts := 0
	err := dbs[1].Transact(context.Background(), func(tx *gorm.DB) error {
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

// galeraDatabases opens a new database on both nodes of the test cluster
// (read-your-writes across nodes: wsrep_sync_wait=1), dropped at the end.
func galeraDatabases(t *testing.T) [2]*database.DB {
	t.Helper()
	c := testenv.Galera(t)
	name := fmt.Sprintf("souk_bf_%d", time.Now().UnixNano())
	root, err := sql.Open("mysql", c.DSNs[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	if _, err := root.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE IF EXISTS " + name) })
	var dbs [2]*database.DB
	for i, dsn := range c.DSNs {
		mc, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u := url.URL{Scheme: "mysql", User: url.User(mc.User), Host: mc.Addr, Path: "/" + name, RawQuery: "wsrep_sync_wait=1"}
		db, err := database.Open(context.Background(), u.String(), database.Options{MaxOpenConns: 4, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[i] = db
	}
	return dbs
}

// Rule: a transaction on a Galera node is committed whole or not at all,
// and Transact answers for the attempt that committed. A brute-force
// abort that MariaDB does not report (a statement that returns rows runs
// after the rollback and answers without error) must not let the rest of
// the attempt run outside the transaction, be committed piece by piece,
// and be answered as a success or as "not found". Each race: node 1
// changes a row that an attempt on node 2 has just changed, while that
// attempt writes rows and reads them back; each attempt writes under its
// own token.
func TestTransactWholeUnderGaleraAborts(t *testing.T) {
	dbs := galeraDatabases(t)
	ctx := context.Background()
	for _, q := range []string{
		"CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)",
		"INSERT INTO t (id, v) VALUES (1, 0)",
		"CREATE TABLE w (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, token VARCHAR(40) NOT NULL, n INT NOT NULL)",
	} {
		if err := dbs[0].Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	const races, rowsPerAttempt = 150, 4
	var increments, attempts int64
	var violations int64
	won := map[string]bool{} // token of each attempt Transact answered for
	for r := range races {
		var wg sync.WaitGroup
		gate := make(chan struct{})
		var node1Err, txErr error
		var winner string
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-gate
			time.Sleep(time.Duration(r%4) * time.Millisecond) // land at different statements
			node1Err = dbs[0].Exec("UPDATE t SET v = v + 1 WHERE id = 1").Error
		}()
		go func() {
			defer wg.Done()
			<-gate
			attempt := 0
			txErr = dbs[1].Transact(ctx, func(tx *gorm.DB) error {
				attempt++
				token := fmt.Sprintf("race%d-attempt%d", r, attempt)
				if err := tx.Exec("UPDATE t SET v = v + 1 WHERE id = ?", 1).Error; err != nil {
					return err
				}
				for n := range rowsPerAttempt {
					if err := tx.Exec("INSERT INTO w (token, n) VALUES (?, ?)", token, n).Error; err != nil {
						return err
					}
					var seen int64
					if err := tx.Raw("SELECT COUNT(*) FROM w WHERE token = ?", token).Scan(&seen).Error; err != nil {
						return err
					}
					if seen != int64(n+1) {
						return errs.E(errs.NotFound, "%s: %d of its own rows seen, want %d", token, seen, n+1)
					}
				}
				winner = token
				return nil
			})
			attempts += int64(attempt)
		}()
		close(gate)
		wg.Wait()
		if node1Err == nil {
			increments++
		} else if !database.IsRetryable(node1Err) {
			t.Fatalf("race %d: node 1 update: %v", r, node1Err)
		}
		switch {
		case txErr == nil:
			increments++
			won[winner] = true
		case errs.Is(txErr, errs.Conflict):
			// Lost every attempt: a clean, retryable answer.
		default:
			violations++
			t.Errorf("race %d: Transact answered %v, want the committed attempt or a conflict", r, txErr)
		}
	}
	type group struct {
		Token string
		Rows  int64
	}
	var groups []group
	if err := dbs[0].Raw("SELECT token, COUNT(*) AS `rows` FROM w GROUP BY token").Scan(&groups).Error; err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if !won[g.Token] || g.Rows != rowsPerAttempt {
			violations++
			t.Errorf("attempt %s left %d rows committed (answered as committed: %v), want %d from committed attempts only",
				g.Token, g.Rows, won[g.Token], rowsPerAttempt)
		}
	}
	if len(groups) != len(won) {
		violations++
		t.Errorf("%d attempts answered as committed, %d have rows", len(won), len(groups))
	}
	var v int64
	if err := dbs[0].Raw("SELECT v FROM t WHERE id = 1").Scan(&v).Error; err != nil {
		t.Fatal(err)
	}
	if v != increments {
		violations++
		t.Errorf("v = %d after %d increments answered as done", v, increments)
	}
	testenv.Report(t, "galera: transactions whole under brute-force aborts", races, violations)
	t.Logf("%d races, %d attempts on node 2, %d committed there, %d increments, %d violations", races, attempts, len(won), increments, violations)
}
