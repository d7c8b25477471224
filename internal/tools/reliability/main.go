// Command reliability runs the tests that prove Souk's rules under load,
// faults and hostile input, and prints one table: check, attempts,
// violations. It writes the table to docs/reliability.md. Run it through
// `make reliability`, which starts the test peers (MariaDB must be
// reachable; MinIO and stripe-mock are built and started by testrun).
//
// Each proof reports itself with testenv.Report; a test that fails, or a
// violation count above zero, makes the command fail.
package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// proofs are the tests that report, by package.
var proofs = map[string][]string{
	"./booking/":    {"TestPlaceHoldNoDoubleBooking"},
	"./storefront/": {"TestReserveStockOneOfAKindSoldOnce"},
	"./database/":   {"TestTransactWholeUnderGaleraAborts"},
	"./web/":        {"TestPageFormsNeedCSRF"},
	"./api/": {"TestNoDoubleBookingAcrossProcesses", "TestOneOfAKindSoldOnceAcrossProcesses", "TestWebhookReplayShuffleLedger",
		"TestPeerFaultsUnderLoad", "TestKilledServerDuringCheckouts", "TestContractFuzz", "TestSoak",
		"TestSessionRevocationAcrossProcesses", "TestWebhookStormAcrossProcesses",
		"TestSQLInjectionEveryTextParameter", "TestCSRFEveryCookieRoute",
		"TestGaleraNoDoubleBooking", "TestGaleraOneOfAKindSoldOnce", "TestGaleraIdempotencyKeyAcrossNodes",
		"TestGaleraSessionRevocation", "TestGaleraWebhookStorm"},
}

var reportLine = regexp.MustCompile(`reliability-report: check="((?:[^"\\]|\\.)*)" attempts=(\d+) violations=(\d+)`)

type row struct {
	check               string
	attempts, violation int64
}

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reliability:", err)
		os.Exit(1)
	}
}

func run(out io.Writer) error {
	start := time.Now()
	var pkgs []string
	var names []string
	for p, ts := range proofs {
		pkgs = append(pkgs, p)
		names = append(names, ts...)
	}
	sort.Strings(pkgs)
	sort.Strings(names)
	args := append([]string{"test", "-count=1", "-v", "-timeout", "20m", "-run", "^(" + strings.Join(names, "|") + ")$"}, pkgs...)
	cmd := exec.Command("go", args...)
	cmd.Env = os.Environ()
	cmd.Env = append(cmd.Env, "SOUK_TEST_GALERA=1")
	if os.Getenv("SOUK_SOAK_DURATION") == "" {
		cmd.Env = append(cmd.Env, "SOUK_SOAK_DURATION=2m")
	}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("go test: %w", err)
	}
	var rows []row
	var failed []string
	sc := bufio.NewScanner(pipe)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := reportLine.FindStringSubmatch(line); m != nil {
			check, _ := strconv.Unquote(`"` + m[1] + `"`)
			a, _ := strconv.ParseInt(m[2], 10, 64)
			v, _ := strconv.ParseInt(m[3], 10, 64)
			rows = append(rows, row{check, a, v})
			fmt.Fprintln(out, line)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "--- FAIL") {
			failed = append(failed, strings.TrimSpace(line))
		}
		if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "--- ") || strings.Contains(line, "SKIP") {
			fmt.Fprintln(out, line)
		}
	}
	werr := cmd.Wait()

	var b strings.Builder
	fmt.Fprintf(&b, "| check | attempts | violations |\n|---|---:|---:|\n")
	var total int64
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d |\n", r.check, r.attempts, r.violation)
		total += r.violation
	}
	table := b.String()
	fmt.Fprintf(out, "\n%s\n", table)
	host, _ := os.Hostname()
	doc := fmt.Sprintf(`# Reliability

The figures below come from `+"`make reliability`"+` (internal/tools/reliability), which runs the proofs of
DESIGN.md's rules under concurrency, across server processes, under peer faults and against the API
contract, and collects the line each proof reports. Every violation count must be 0; the command fails
otherwise.

Last run: %s on %s (%d CPUs, %s), %s in all.

%s
What each check does:

- **bookings** — concurrent holds on one unit's overlapping days: goroutines over separate connection
  pools (booking/claims_test.go, SQLite and MariaDB) and HTTP requests over two `+"`souk serve`"+`
  processes on one MariaDB (api/bookings_test.go); a violation is a second winner or an overlapping live
  booking found by SQL.
- **stock** — a one-of-a-kind piece bought at once: transactions (storefront/stock_test.go) and card
  checkouts over two processes (api/orders_process_test.go); a violation is a second sale or negative stock.
- **webhooks** — signed Stripe events delivered shuffled, duplicated and retried, three times, compared
  with one clean delivery: orders, stock and every ledger line (api/ledger_test.go).
- **faults** — MariaDB, stripe-mock and MinIO cut and restored during a mixed load (api/faults_test.go); a
  violation is a 5xx other than a 503 with Retry-After, a hang, or an order answered 201 and lost.
- **kill -9** — a `+"`souk serve`"+` process killed with SIGKILL during card and cash checkouts, its
  webhooks lost (api/kill_test.go); a violation is stock not accounted for by live orders, an acknowledged
  order gone, a checkout paid at Stripe not recorded once the survivor reconciles, or an order still
  holding stock after its expiry.
- **soak** — a bounded mixed load (home, search, product pages, cash orders, bookings, availability,
  photo uploads and deletions) on one process for SOUK_SOAK_DURATION (2 min), goroutines and heap read
  from /metrics (api/soak_test.go); a violation is a failed request or growth from the first third of
  the run to the last.
- **contract** — every operation of api/openapi.yaml called with valid and hostile requests as three kinds
  of caller (api/contract_test.go); a violation is a 5xx, a 4xx that is not problem+json, or a status the
  contract does not document.
- **galera** — a two-node MariaDB Galera cluster started on loopback (internal/testenv/galera.go), one
  `+"`souk serve`"+` per node, both migrating at once: concurrent bookings of one unit, buyers of one
  piece, one Idempotency-Key sent to both nodes at once (api/galera_test.go), the session and webhook
  proofs below across the nodes (api/proofs_process_test.go), and transactions raced by the other node's
  writes (database/galera_test.go); a violation is a second winner, an overlap or wrong stock seen from
  either node, a key that placed two orders, a payment without its order, or a transaction half
  committed after an abort MariaDB did not report.
- **sessions** — 36 users with 3 sessions each under a steady load of API and page requests on every
  process; 30 revoked five ways (API logout, page logout, password change, password reset, revoke all)
  (api/proofs_process_test.go); a violation is a revoked session answered as its user by any process after
  the revocation returned, a session revoked that should not be, or a 5xx.
- **webhook storm** — card orders and bookings whose Stripe events are each delivered 8 times at once
  over every process, with out-of-order pairs (decline then pay, expiry racing completion, refund)
  (api/proofs_process_test.go); a violation is a wrong order, payment, ledger, parcel, stock or booking
  state by SQL, an event recorded twice, or a 5xx.
- **csrf** — every state-changing page form and cookie-authenticated API route, with no token, a wrong
  one, and another session's (web/csrf_test.go, api/csrf_matrix_test.go); a violation is a forgery
  accepted or any table changed.
- **sqli** — every string parameter of api/openapi.yaml probed with quote-breaking, stacked, comment,
  UNION, wildcard, boolean-pair and time-based payloads on SQLite and MariaDB (api/sqli_test.go); a
  violation is a 5xx, database error text in an answer, a condition that changes the result, a delay, or
  a schema or row change no legitimate request makes.
`, time.Now().UTC().Format("2006-01-02 15:04 MST"), host, runtime.NumCPU(), runtime.Version(), time.Since(start).Round(time.Second), table)
	if err := os.WriteFile("docs/reliability.md", []byte(doc), 0o644); err != nil {
		return fmt.Errorf("write docs/reliability.md: %w", err)
	}
	fmt.Fprintln(out, "wrote docs/reliability.md")
	switch {
	case werr != nil:
		return fmt.Errorf("the proofs failed (%s): %w", strings.Join(failed, "; "), werr)
	case total > 0:
		return fmt.Errorf("%d violations", total)
	case len(rows) < len(names):
		return fmt.Errorf("%d proofs reported, want at least %d (a proof skipped?)", len(rows), len(names))
	}
	return nil
}
