package api_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"

	"github.com/souk-tiznit/souk/booking"
	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
)

// galeraScene is one Souk database on the two-node Galera cluster, served
// by two `souk serve` processes, one per node, and open from the test on
// both nodes.
type galeraScene struct {
	cluster testenv.GaleraCluster
	urls    [2]string // SOUK_DATABASE_URL of each node
	cfgs    [2]config.Config
	procs   [2]*testserver.Process
	dbs     [2]*database.DB
}

// newGaleraScene creates a database on node 1 (the CREATE replicates),
// then starts both processes at once: each migrates on start through its
// own node, so the migration lock (a row in schema_lock, since Galera
// refuses GET_LOCK) is what keeps them from applying a step twice. It
// checks every step was applied once, seen from both nodes, and that
// every table has a primary key (Galera replicates rows by key).
func newGaleraScene(t *testing.T) *galeraScene {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Galera cluster and two souk processes (short mode)")
	}
	gs := &galeraScene{cluster: testenv.Galera(t)}
	name := "souk_galera_" + randomName()
	root, err := sql.Open("mysql", gs.cluster.DSNs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.Exec("CREATE DATABASE `" + name + "` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		root.Close()
		t.Fatalf("create the database on node 1: %v", err)
	}
	t.Cleanup(func() {
		defer root.Close()
		if _, err := root.Exec("DROP DATABASE IF EXISTS `" + name + "`"); err != nil {
			t.Logf("drop %s: %v", name, err)
		}
	})
	for i, dsn := range gs.cluster.DSNs {
		mc, err := mysqldriver.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		// wsrep_sync_wait=1: a read waits until the node has applied what
		// the cluster committed before it (read-your-writes across nodes).
		u := url.URL{Scheme: "mysql", User: url.User(mc.User), Host: mc.Addr, Path: "/" + name, RawQuery: "wsrep_sync_wait=1"}
		gs.urls[i] = u.String()
	}
	base := testserver.Config(t, testserver.Options{DatabaseURL: gs.urls[0]})
	for i := range gs.cfgs {
		gs.cfgs[i] = base
		gs.cfgs[i].DatabaseURL = gs.urls[i]
		gs.cfgs[i].MigrateOnStart = true
	}
	procs := testserver.StartProcesses(t, gs.cfgs[0], gs.cfgs[1])
	gs.procs = [2]*testserver.Process{procs[0], procs[1]}
	want, err := database.Migrations(database.MySQL)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gs.dbs {
		gs.dbs[i] = dbtest.OpenURL(t, gs.urls[i])
		var applied, distinct, locks int64
		if err := gs.dbs[i].Raw("SELECT COUNT(*), COUNT(DISTINCT version), (SELECT COUNT(*) FROM schema_lock) FROM schema_migrations").
			Row().Scan(&applied, &distinct, &locks); err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		if applied != int64(len(want)) || distinct != applied || locks != 0 {
			t.Fatalf("node %d: %d migrations recorded (%d distinct), %d locks left, want %d, %d and 0",
				i+1, applied, distinct, locks, len(want), len(want))
		}
		var noKey []string
		if err := gs.dbs[i].Raw(`SELECT t.table_name FROM information_schema.tables t
			WHERE t.table_schema = ? AND t.table_type = 'BASE TABLE' AND NOT EXISTS (
			  SELECT 1 FROM information_schema.table_constraints c
			  WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.constraint_type = 'PRIMARY KEY')`, name).
			Scan(&noKey).Error; err != nil {
			t.Fatal(err)
		}
		if len(noKey) > 0 {
			t.Fatalf("tables without a primary key (Galera needs one on every table): %v", noKey)
		}
	}
	return gs
}

func randomName() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Rule 1 on a multi-writer cluster: 100 concurrent requests for
// overlapping days of one unit, half through a process on node 1, half
// through a process on node 2. The nodes' row locks do not see each other;
// the claim rows' primary key does, at certification, as a deadlock at
// commit that Transact retries. Exactly one hold; every other answer a
// 409 with the conflicting days; no overlap on either node.
func TestGaleraNoDoubleBooking(t *testing.T) {
	gs := newGaleraScene(t)
	sc := newBookingScene(t, gs.dbs[0], booking.PolicyInstant, 10)

	start := booking.DayOf(time.Now()).AddDays(10)
	const requests = 100
	statuses := make([]int, requests)
	bodies := make([]map[string]any, requests)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			first := start.AddDays(i % 5)
			statuses[i], bodies[i] = httpCall(t, "POST", gs.procs[i%2].URL+"/api/v1/bookings", sc.tokens[i%len(sc.tokens)],
				map[string]any{"unit_id": sc.unit.ID, "first_day": first.String(), "last_day": first.AddDays(6).String(), "payment_method": "office"}, nil)
		}()
	}
	close(gate)
	wg.Wait()
	var wins, bad int64
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			wins++
		case http.StatusConflict:
			if days, _ := bodies[i]["conflicting_days"].([]any); len(days) == 0 {
				bad++
				t.Errorf("request %d (node %d): 409 without conflicting_days: %v", i, i%2+1, bodies[i])
			}
		default:
			bad++
			t.Errorf("request %d (node %d): status %d: %v", i, i%2+1, st, bodies[i])
		}
	}
	var overlaps [2]int64
	for i, db := range gs.dbs {
		overlaps[i] = overlapping(t, db)
	}
	testenv.Report(t, "galera: bookings, one unit, 100 requests over 2 nodes", requests,
		testenv.Violations(max(wins-1, 0), overlaps[0], overlaps[1], bad))
	if wins != 1 {
		t.Fatalf("%d holds won across two Galera nodes, want exactly 1", wins)
	}
	if overlaps != [2]int64{} {
		t.Fatalf("RULE 1 BROKEN on Galera: overlapping live bookings seen by node 1, node 2: %v", overlaps)
	}
	if bad > 0 {
		t.Fatalf("%d answers were neither the hold nor a 409 with the days", bad)
	}
	t.Logf("rule 1 on Galera: %d requests over 2 nodes, 1 hold, %d refused with their days, 0 overlaps", requests, requests-1)
}

// Rule 2 on a multi-writer cluster: 50 buyers of one one-of-a-kind piece
// at once, half through each node (cash on delivery). Exactly one order,
// 409 naming the piece for the others, stock 0 on both nodes.
func TestGaleraOneOfAKindSoldOnce(t *testing.T) {
	gs := newGaleraScene(t)
	// A server in this process, on node 1, builds the scene.
	s := testserver.StartConfig(t, gs.cfgs[0], nil)
	sc := newOrderScene(t, s)

	const buyers = 50
	statuses := make([]int, buyers)
	bodies := make([]map[string]any, buyers)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			statuses[i], bodies[i] = httpCall(t, "POST", gs.procs[i%2].URL+"/api/v1/orders", "", orderBody(sc.jar.ID, 1, "MA", "cod"),
				map[string]string{"Idempotency-Key": fmt.Sprintf("galera-buyer-%d", i)})
		}()
	}
	close(gate)
	wg.Wait()
	var won, bad int64
	for i, st := range statuses {
		switch st {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
			if d, _ := bodies[i]["detail"].(string); !strings.Contains(d, "Jarre à huile d'Anzi") {
				bad++
				t.Errorf("buyer %d (node %d): 409 does not name the piece: %v", i, i%2+1, bodies[i])
			}
		default:
			bad++
			t.Errorf("buyer %d (node %d): %d %v", i, i%2+1, st, bodies[i])
		}
	}
	var stock, orders [2]int64
	for i, db := range gs.dbs {
		if err := db.Raw("SELECT stock, (SELECT COUNT(*) FROM order_lines WHERE product_id = ?) FROM products WHERE id = ?", sc.jar.ID, sc.jar.ID).
			Row().Scan(&stock[i], &orders[i]); err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
	}
	var wrong int64
	for i := range stock {
		if stock[i] != 0 || orders[i] != 1 {
			wrong++
		}
	}
	testenv.Report(t, "galera: stock, one piece, 50 buyers over 2 nodes", buyers, testenv.Violations(max(won-1, 0), wrong, bad))
	if won != 1 {
		t.Fatalf("%d buyers got the piece across two Galera nodes, want exactly 1", won)
	}
	if wrong > 0 {
		t.Fatalf("RULE 2 BROKEN on Galera: stock %v and order lines %v on nodes 1 and 2, want 0 and 1 on each", stock, orders)
	}
	if bad > 0 {
		t.Fatalf("%d answers were neither the order nor a 409 naming the piece", bad)
	}
}

// Rule 4 on a multi-writer cluster: the same Idempotency-Key sent to both
// nodes at the same moment places one order, and both answers are that
// order, never a 404 of an attempt Galera rolled back (nor half of that
// attempt committed). Twenty keys, each raced by one request per node.
func TestGaleraIdempotencyKeyAcrossNodes(t *testing.T) {
	gs := newGaleraScene(t)
	s := testserver.StartConfig(t, gs.cfgs[0], nil)
	sc := newOrderScene(t, s)

	const keys = 20
	// One tajine per key in stock, whatever number of keys.
	if err := gs.dbs[0].Exec("UPDATE products SET stock = ? WHERE id = ?", keys, sc.pots.ID).Error; err != nil {
		t.Fatal(err)
	}
	var violations, bad int64
	for k := range keys {
		key := fmt.Sprintf("galera-same-key-%d", k)
		var statuses [2]int
		var bodies [2]map[string]any
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for n := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				statuses[n], bodies[n] = httpCall(t, "POST", gs.procs[n].URL+"/api/v1/orders", sc.buyerToken,
					orderBody(sc.pots.ID, 1, "MA", "cod"), map[string]string{"Idempotency-Key": key})
			}()
		}
		close(gate)
		wg.Wait()
		var ids []int64
		for n, st := range statuses {
			if st != http.StatusCreated && st != http.StatusOK {
				bad++
				t.Errorf("key %s through node %d: %d %v", key, n+1, st, bodies[n])
				continue
			}
			id, _ := orderOf(t, bodies[n])
			ids = append(ids, id)
		}
		var placed int64
		for i, db := range gs.dbs {
			var n int64
			if err := db.Raw("SELECT COUNT(*) FROM orders WHERE idempotency_key LIKE ?", "%:"+key).Scan(&n).Error; err != nil {
				t.Fatalf("node %d: %v", i+1, err)
			}
			if i == 0 {
				placed = n
			} else if n != placed {
				violations++
				t.Errorf("key %s: node 1 has %d orders, node 2 has %d", key, placed, n)
			}
		}
		if placed != 1 || (len(ids) == 2 && ids[0] != ids[1]) {
			violations++
			t.Errorf("key %s sent to both nodes: %d orders stored, answers %v, want one order answered twice", key, placed, ids)
		}
	}
	// Nothing of an attempt Galera rolled back may stay committed: every
	// payment of an order belongs to an order that exists.
	for i, db := range gs.dbs {
		var orphans int64
		if err := db.Raw(`SELECT COUNT(*) FROM payments p WHERE p.purpose = ?
			AND NOT EXISTS (SELECT 1 FROM orders o WHERE CAST(o.id AS CHAR) = p.reference)`, string(payment.PurposeOrder)).
			Scan(&orphans).Error; err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		if orphans > 0 {
			violations++
			t.Errorf("node %d: %d payments of orders that do not exist (half of a rolled-back order committed)", i+1, orphans)
		}
	}
	var stock [2]int64
	for i, db := range gs.dbs {
		if err := db.Raw("SELECT stock FROM products WHERE id = ?", sc.pots.ID).Scan(&stock[i]).Error; err != nil {
			t.Fatal(err)
		}
		if stock[i] != 0 {
			violations++
			t.Errorf("node %d: stock %d after %d keys, want 0 (one unit per key)", i+1, stock[i], keys)
		}
	}
	testenv.Report(t, fmt.Sprintf("galera: idempotency, one key to both nodes at once, %d keys", keys), 2*keys, violations+bad)
	if violations > 0 || bad > 0 {
		t.Fatalf("%d idempotency violations, %d failed answers", violations, bad)
	}
}
