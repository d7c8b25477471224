package testenv_test

import (
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/internal/testenv"
)

// The test cluster is one cluster: a row written on either node is read
// on the other, and a write conflict between the nodes fails at commit
// with the deadlock error (1213) that database.Transact retries.
func TestGaleraReplicatesBothWays(t *testing.T) {
	c := testenv.Galera(t)
	t.Logf("cluster started in %s: %v", c.StartedIn.Round(time.Millisecond), c.Addrs)
	var dbs []*sql.DB
	for i, dsn := range c.DSNs {
		db, err := sql.Open("mysql", dsn+"?wsrep_sync_wait=1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		db.SetMaxOpenConns(4)
		if err := db.Ping(); err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		dbs = append(dbs, db)
	}
	name := fmt.Sprintf("galera_smoke_%d", time.Now().UnixNano())
	mustExec(t, dbs[0], "CREATE DATABASE "+name)
	t.Cleanup(func() { _, _ = dbs[0].Exec("DROP DATABASE IF EXISTS " + name) })
	mustExec(t, dbs[1], "CREATE TABLE "+name+".t (id INT PRIMARY KEY, v INT NOT NULL)")
	mustExec(t, dbs[0], "INSERT INTO "+name+".t VALUES (1, 10)")
	mustExec(t, dbs[1], "INSERT INTO "+name+".t VALUES (2, 20)")
	for i, db := range dbs {
		var n, sum int
		if err := db.QueryRow("SELECT COUNT(*), SUM(v) FROM "+name+".t").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		if n != 2 || sum != 30 {
			t.Fatalf("node %d sees %d rows summing to %d, want 2 and 30", i+1, n, sum)
		}
	}
	// The same row changed in two open transactions, one per node: the
	// second to commit loses certification.
	tx1, err := dbs[0].Begin()
	if err != nil {
		t.Fatal(err)
	}
	tx2, err := dbs[1].Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx1.Exec("UPDATE " + name + ".t SET v = v + 1 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx2.Exec("UPDATE " + name + ".t SET v = v + 100 WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if err := tx1.Commit(); err != nil {
		t.Fatalf("first commit: %v", err)
	}
	err = tx2.Commit()
	if err == nil {
		t.Fatal("both nodes committed a change to one row: the nodes are not one cluster")
	}
	t.Logf("second commit: %v", err)
	var v int
	if err := dbs[1].QueryRow("SELECT v FROM " + name + ".t WHERE id = 1").Scan(&v); err != nil || v != 11 {
		t.Fatalf("v = %d (%v), want 11", v, err)
	}
}

func mustExec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
