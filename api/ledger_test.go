package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/config"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testenv"
	"github.com/souk-tiznit/souk/internal/testserver"
	"github.com/souk-tiznit/souk/payment"
	"github.com/souk-tiznit/souk/payment/paymenttest"
	"github.com/souk-tiznit/souk/storefront"
)

// loginToken signs in over HTTP and returns the session token.
func loginToken(t *testing.T, s *testserver.Server, email string) string {
	t.Helper()
	st, b := httpCall(t, "POST", s.URL+"/api/v1/auth/login", "", map[string]string{"email": email, "password": testPassword}, nil)
	if st != 200 {
		t.Fatalf("login %s: %d %v", email, st, b)
	}
	return b["token"].(string)
}

// callHdr is httpCall that also answers the response headers.
func callHdr(t *testing.T, method, url, token string, body any, hdr map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out, resp.Header
}

// ledgerLine is a ledger row as the tests compare it.
type ledgerLine struct {
	Kind   string
	Amount int64
}

func ledgerOf(t *testing.T, s *testserver.Server, orderID int64) []ledgerLine {
	t.Helper()
	var out []ledgerLine
	if err := s.DB.Raw("SELECT kind, amount FROM ledger_entries WHERE order_id = ? ORDER BY id", orderID).Scan(&out).Error; err != nil {
		t.Fatal(err)
	}
	return out
}

func balanceOf(t *testing.T, s *testserver.Server, coopID int64) int64 {
	t.Helper()
	var n int64
	if err := s.DB.Raw("SELECT COALESCE(SUM(amount), 0) FROM ledger_entries WHERE cooperative_id = ?", coopID).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// outbox returns the decoded subjects and bodies of the e-mails a server
// wrote.
func outbox(t *testing.T, s *testserver.Server) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.Config.OutboxDir, "*.eml"))
	var b strings.Builder
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
		fmt.Fprintf(&b, "To: %s\nSubject: %s\n%s\n", msg.Header.Get("To"), subject, body)
	}
	return b.String()
}

// Cash on delivery is paid when delivered: the sale and the commission
// enter the cooperative's ledger once, the order and its payment become
// paid; then a cash refund, payouts (refused without a RIB and above the
// balance, idempotent), the statement in JSON and CSV and the sales report
// all agree with the ledger.
func TestCODDeliveredLedgerAndPayouts(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := testserver.Start(t, testserver.Options{Dialect: dialect})
		sc := newOrderScene(t, s)
		admin, manager := loginToken(t, s, "admin@orders.test"), loginToken(t, s, "manager@anzi.test")

		st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 2, "MA", "cod"), nil)
		if st != 201 {
			t.Fatalf("cod order: %d %v", st, b)
		}
		id, o := orderOf(t, b)
		fid := int64(o["fulfilments"].([]any)[0].(map[string]any)["id"].(float64))
		if lines := o["lines"].([]any); lines[0].(map[string]any)["commission"] != nil {
			t.Fatalf("the buyer sees the commission: %v", lines[0])
		}
		deliverURL := fmt.Sprintf("%s/api/v1/fulfilments/%d/deliver", s.URL, fid)
		if st, b := httpCall(t, "POST", deliverURL, manager, nil, nil); st != 409 {
			t.Fatalf("deliver before shipping: %d %v", st, b)
		}
		if st, b := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/fulfilments/%d/ship", s.URL, fid), manager,
			map[string]string{"carrier": "Amana", "tracking_number": "RR123456789MA"}, nil); st != 200 {
			t.Fatalf("ship: %d %v", st, b)
		}
		if st, _ := httpCall(t, "POST", deliverURL, sc.otherToken, nil, nil); st != 403 {
			t.Fatalf("a stranger delivers: %d", st)
		}
		st, d := httpCall(t, "POST", deliverURL, manager, nil, nil)
		if st != 200 || d["status"] != "delivered" || d["order_paid"] != true || d["delivered_at"] == nil {
			t.Fatalf("deliver: %d %v", st, d)
		}
		if st, _ := httpCall(t, "POST", deliverURL, manager, nil, nil); st != 409 {
			t.Fatalf("deliver twice: %d", st)
		}
		_, got := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/orders/%d", s.URL, id), sc.buyerToken, nil, nil)
		if got["status"] != "paid" || got["paid_at"] == nil {
			t.Fatalf("a delivered cod order: %v", got)
		}
		if pays := orderPayment(t, s, id); len(pays) != 1 || pays[0].Status != payment.PaymentPaid {
			t.Fatalf("cod payment %+v, want paid", pays)
		}
		// 2 × 450 MAD + 85 MAD shipping; 10 % of the 900 MAD line.
		want := []ledgerLine{{"sale", 98_500}, {"commission", -9_000}}
		if diff := cmp.Diff(want, ledgerOf(t, s, id)); diff != "" {
			t.Fatalf("ledger after delivery (-want +got):\n%s", diff)
		}
		mails := outbox(t, s)
		for _, w := range []string{"RR123456789MA", "est livr"} {
			if !strings.Contains(mails, w) {
				t.Errorf("no e-mail says %q", w)
			}
		}

		// Cash refund of part of the parcel, never above what is left.
		refundURL := fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", s.URL, fid)
		if st, _ := httpCall(t, "POST", refundURL, manager, map[string]any{"amount": 2000, "reason": "chipped"}, nil); st != 403 {
			t.Fatalf("a manager refunds: %d", st)
		}
		if st, b := httpCall(t, "POST", refundURL, admin, map[string]any{"amount": 0, "reason": ""}, nil); st != 422 ||
			!strings.Contains(fmt.Sprint(b), "amount") || !strings.Contains(fmt.Sprint(b), "reason") {
			t.Fatalf("bad refund: %d %v", st, b)
		}
		st, r := httpCall(t, "POST", refundURL, admin, map[string]any{"amount": 2000, "reason": "a chipped lid"}, map[string]string{"Idempotency-Key": "r1"})
		if st != 201 || r["kind"] != "cash" || r["status"] != "succeeded" {
			t.Fatalf("cash refund: %d %v", st, r)
		}
		if st, again := httpCall(t, "POST", refundURL, admin, map[string]any{"amount": 2000, "reason": "a chipped lid"}, map[string]string{"Idempotency-Key": "r1"}); st != 200 || again["id"] != r["id"] {
			t.Fatalf("replayed refund: %d %v", st, again)
		}
		if st, b := httpCall(t, "POST", refundURL, admin, map[string]any{"amount": 3000, "reason": "other"}, map[string]string{"Idempotency-Key": "r1"}); st != 409 {
			t.Fatalf("a key reused for another refund: %d %v", st, b)
		}
		if st, b := httpCall(t, "POST", refundURL, admin, map[string]any{"amount": 98_500 - 2000 + 1, "reason": "all"}, nil); st != 409 || b["refundable"] != 96_500.0 {
			t.Fatalf("refund above what is left: %d %v", st, b)
		}
		// round(9000 × 2000 / 98500) = round(182.7) = 183 of commission comes back.
		want = append(want, ledgerLine{"refund", -2000}, ledgerLine{"commission_reversal", 183})
		if diff := cmp.Diff(want, ledgerOf(t, s, id)); diff != "" {
			t.Fatalf("ledger after the refund (-want +got):\n%s", diff)
		}
		balance := int64(98_500 - 9_000 - 2000 + 183)

		// Payouts: a RIB first, never above the balance, once per key.
		payURL := fmt.Sprintf("%s/api/v1/admin/cooperatives/%d/payouts", s.URL, sc.coop.ID)
		payout := map[string]any{"amount": 50_000, "currency": "MAD", "reference": "VIR-2026-0001", "paid_on": storefront.DateOf(time.Now()).String()}
		if st, b := httpCall(t, "POST", payURL, admin, payout, nil); st != 409 || !strings.Contains(fmt.Sprint(b["detail"]), "RIB") {
			t.Fatalf("payout without a RIB: %d %v", st, b)
		}
		coopURL := fmt.Sprintf("%s/api/v1/cooperatives/%d", s.URL, sc.coop.ID)
		if st, b := httpCall(t, "PATCH", coopURL, manager, map[string]any{"rib": "011519000001205000534922"}, nil); st != 422 || !strings.Contains(fmt.Sprint(b), "rib") {
			t.Fatalf("a RIB with a wrong key: %d %v", st, b)
		}
		rib := testRIB("0000012050005349")
		if st, b := httpCall(t, "PATCH", coopURL, manager, map[string]any{"rib": rib[:3] + " " + rib[3:6] + " " + rib[6:22] + " " + rib[22:]}, nil); st != 200 || b["rib"] != rib {
			t.Fatalf("set the RIB: %d %v", st, b)
		}
		if _, pub := httpCall(t, "GET", s.URL+"/api/v1/cooperatives/"+sc.coop.Slug, sc.otherToken, nil, nil); pub["rib"] != nil {
			t.Fatalf("a stranger sees the RIB: %v", pub)
		}
		over := map[string]any{"amount": balance + 1, "reference": "VIR-TOO-MUCH", "paid_on": payout["paid_on"]}
		if st, b := httpCall(t, "POST", payURL, admin, over, nil); st != 409 || b["balance"] != float64(balance) {
			t.Fatalf("payout above the balance: %d %v", st, b)
		}
		future := map[string]any{"amount": 100, "reference": "VIR-LATER", "paid_on": storefront.DateOf(time.Now()).AddDays(2).String()}
		if st, b := httpCall(t, "POST", payURL, admin, future, nil); st != 422 || !strings.Contains(fmt.Sprint(b), "paid_on") {
			t.Fatalf("payout in the future: %d %v", st, b)
		}
		key := map[string]string{"Idempotency-Key": "payout-1"}
		st, p := httpCall(t, "POST", payURL, admin, payout, key)
		if st != 201 || p["balance"] != float64(balance-50_000) || p["rib"] != rib {
			t.Fatalf("payout: %d %v", st, p)
		}
		if st, again := httpCall(t, "POST", payURL, admin, payout, key); st != 200 || again["id"] != p["id"] {
			t.Fatalf("replayed payout: %d %v", st, again)
		}
		sameRef := map[string]any{"amount": 100, "reference": payout["reference"], "paid_on": payout["paid_on"]}
		if st, b := httpCall(t, "POST", payURL, admin, sameRef, nil); st != 409 || !strings.Contains(fmt.Sprint(b), "reference") {
			t.Fatalf("the same reference again: %d %v", st, b)
		}
		balance -= 50_000
		if got := balanceOf(t, s, sc.coop.ID); got != balance {
			t.Fatalf("balance %d, want %d", got, balance)
		}

		// The ledger, the statement and the report agree.
		st, l := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/cooperatives/%d/ledger?per_page=2", s.URL, sc.coop.ID), manager, nil, nil)
		if st != 200 || l["balance"] != float64(balance) || l["total"] != 5.0 || len(l["items"].([]any)) != 2 ||
			l["items"].([]any)[0].(map[string]any)["kind"] != "payout" {
			t.Fatalf("ledger: %d %v", st, l)
		}
		month := time.Now().In(storefront.Zone).Format("2006-01")
		stURL := fmt.Sprintf("%s/api/v1/cooperatives/%d/statements/%s", s.URL, sc.coop.ID, month)
		st, js := httpCall(t, "GET", stURL, manager, nil, nil)
		if st != 200 || js["opening_balance"] != 0.0 || js["closing_balance"] != float64(balance) || len(js["entries"].([]any)) != 5 {
			t.Fatalf("statement: %d %v", st, js)
		}
		st, ct, body := httpRaw(t, stURL+"?format=csv", manager)
		if st != 200 || !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("statement CSV: %d %s %s", st, ct, body)
		}
		checkStatementCSV(t, body, 0, balance, 5)
		if st, ct, _ := httpRawAccept(t, stURL, manager, "text/csv"); st != 200 || !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("statement with Accept: text/csv: %d %s", st, ct)
		}
		if st, b := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/cooperatives/%d/statements/2026-13", s.URL, sc.coop.ID), manager, nil, nil); st != 422 {
			t.Fatalf("a bad month: %d %v", st, b)
		}
		// Next month opens with this month's closing balance.
		next := time.Now().In(storefront.Zone).AddDate(0, 1, 0)
		next = time.Date(next.Year(), next.Month(), 1, 0, 0, 0, 0, storefront.Zone)
		if _, js := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/cooperatives/%d/statements/%s", s.URL, sc.coop.ID, next.Format("2006-01")), manager, nil, nil); js["opening_balance"] != float64(balance) || len(js["entries"].([]any)) != 0 {
			t.Fatalf("next month's statement: %v", js)
		}
		st, rep := httpCall(t, "GET", s.URL+"/api/v1/admin/reports/sales", admin, nil, nil)
		items, _ := rep["items"].([]any)
		if st != 200 || len(items) != 1 {
			t.Fatalf("sales report: %d %v", st, rep)
		}
		row := items[0].(map[string]any)
		if row["gross_sales"] != 98_500.0 || row["commission"] != 9_000.0-183 || row["refunds"] != 2000.0 || row["payouts"] != 50_000.0 ||
			row["balance"] != float64(balance) || row["net"] != 98_500.0-(9_000-183)-2000 {
			t.Fatalf("sales report row: %v", row)
		}
		st, ct, body = httpRaw(t, s.URL+"/api/v1/admin/reports/sales?format=csv", admin)
		if st != 200 || !strings.HasPrefix(ct, "text/csv") || !strings.Contains(body, "985.00,88.17,20.00,876.83,500.00,"+storefront.FormatMAD(balance)) {
			t.Fatalf("sales report CSV: %d %s\n%s", st, ct, body)
		}
		if st, _ := httpCall(t, "GET", s.URL+"/api/v1/admin/reports/sales?from=2026-05-01&to=2026-04-01", admin, nil, nil); st != 422 {
			t.Fatalf("to before from: %d", st)
		}
	})
}

// checkStatementCSV checks a statement CSV: opening row, entries whose
// running balance adds up, closing row equal to opening + entries.
func checkStatementCSV(t *testing.T, body string, opening, closing int64, entries int) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("statement CSV: %v\n%s", err, body)
	}
	if len(rows) != entries+3 || rows[1][1] != "opening_balance" || rows[len(rows)-1][1] != "closing_balance" {
		t.Fatalf("statement CSV rows:\n%s", body)
	}
	cents := func(s string) int64 {
		v, err := strconv.ParseFloat(s, 64) // test-side reading only; the values are exact to the centime
		if err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		if v < 0 {
			return -int64(-v*100 + 0.5)
		}
		return int64(v*100 + 0.5)
	}
	bal := cents(rows[1][5])
	if bal != opening {
		t.Fatalf("opening %d, want %d", bal, opening)
	}
	for _, r := range rows[2 : len(rows)-1] {
		bal += cents(r[4])
		if cents(r[5]) != bal {
			t.Fatalf("running balance %s, want %d:\n%s", r[5], bal, body)
		}
	}
	if got := cents(rows[len(rows)-1][5]); got != bal || got != closing {
		t.Fatalf("closing %d, entries add to %d, want %d", got, bal, closing)
	}
}

func httpRawAccept(t *testing.T, url, token, accept string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(raw)
}

// The commission is fixed per line when the order is placed, at the
// configured rate, rounded half up.
func TestCommissionStoredOnLines(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Configure: func(c *config.Config) { c.CommissionBPS = 1234 }})
	sc := newOrderScene(t, s)
	if err := s.DB.Exec("UPDATE products SET price = 12345 WHERE id = ?", sc.pots.ID).Error; err != nil {
		t.Fatal(err)
	}
	st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 3, "MA", "cod"), nil)
	if st != 201 {
		t.Fatalf("order: %d %v", st, b)
	}
	id, _ := orderOf(t, b)
	var line struct {
		LineTotal, Commission int64
		CommissionBPS         int
	}
	s.DB.Raw("SELECT line_total, commission, commission_bps FROM order_lines WHERE order_id = ?", id).Scan(&line)
	// 3 × 123.45 = 370.35 MAD; 12.34 % of it is 45.70119 → 45.70.
	if line.LineTotal != 37_035 || line.CommissionBPS != 1234 || line.Commission != 4_570 {
		t.Fatalf("line %+v, want 37035 at 1234 bps → 4570", line)
	}
	manager := loginToken(t, s, "manager@anzi.test")
	_, l := httpCall(t, "GET", fmt.Sprintf("%s/api/v1/cooperatives/%d/orders", s.URL, sc.coop.ID), manager, nil, nil)
	ln := l["items"].([]any)[0].(map[string]any)["lines"].([]any)[0].(map[string]any)
	if ln["commission"] != 4570.0 || ln["commission_bps"] != 1234.0 {
		t.Fatalf("the cooperative sees line %v", ln)
	}
}

// paidCardOrder places a card order of qty pots as the buyer and delivers
// its signed completed webhook; it returns the order id, its total, its
// payment and the payment intent.
func paidCardOrder(t *testing.T, s *testserver.Server, sc orderScene, qty int) (int64, int64, payment.Payment, string) {
	t.Helper()
	st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, qty, "FR", "card"), nil)
	if st != 201 {
		t.Fatalf("card order: %d %v", st, b)
	}
	id, o := orderOf(t, b)
	total := int64(o["total"].(float64))
	pay := orderPayment(t, s, id)[0]
	pi := paymenttest.NewID("pi")
	deliver(t, s, paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeOrder,
		Reference: fmt.Sprint(id), SessionID: *pay.ProviderRef, PaymentIntentID: pi, Amount: total})
	return id, total, orderPayment(t, s, id)[0], pi
}

func fulfilmentOf(t *testing.T, s *testserver.Server, orderID int64) int64 {
	t.Helper()
	var id int64
	s.DB.Raw("SELECT id FROM fulfilments WHERE order_id = ?", orderID).Scan(&id)
	return id
}

// Rule 4 for money: the signed webhooks of three card orders — X paid,
// refunded in part by Souk and then in part from Stripe's dashboard; Y
// never paid; Z paid and refunded in full from the dashboard — delivered
// once each in order, and delivered duplicated and shuffled (a delivery
// that fails is delivered again later, as Stripe does), leave every order,
// stock count, payment and ledger line exactly the same.
func TestWebhookReplayShuffleLedger(t *testing.T) {
	run := func(t *testing.T, shuffle bool) string {
		s := testserver.Start(t, testserver.Options{Stripe: true})
		sc := newOrderScene(t, s)
		admin := loginToken(t, s, "admin@orders.test")
		order := func(qty int) (int64, int64, payment.Payment) {
			st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, qty, "FR", "card"), nil)
			if st != 201 {
				t.Fatalf("card order: %d %v", st, b)
			}
			id, o := orderOf(t, b)
			return id, int64(o["total"].(float64)), orderPayment(t, s, id)[0]
		}
		x, xTotal, xPay := order(1)
		y, yTotal, yPay := order(2)
		z, zTotal, zPay := order(3)
		xPI, zPI := paymenttest.NewID("pi"), paymenttest.NewID("pi")
		completed := func(id, total int64, p payment.Payment, pi string) paymenttest.Spec {
			return paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutCompleted, Purpose: payment.PurposeOrder,
				Reference: fmt.Sprint(id), SessionID: *p.ProviderRef, PaymentIntentID: pi, Amount: total}
		}
		refunded := func(total, running int64, pi string) paymenttest.Spec {
			return paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventChargeRefunded, PaymentIntentID: pi,
				ChargeID: paymenttest.NewID("ch"), Amount: total, AmountRefunded: running, NoMetadata: true}
		}
		xPaid := completed(x, xTotal, xPay, xPI)
		deliver(t, s, xPaid)
		// Souk refunds 50 MAD of X's parcel; Stripe's event for it says 5000.
		st, r := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", s.URL, fulfilmentOf(t, s, x)), admin,
			map[string]any{"amount": 5000, "reason": "a chipped lid"}, map[string]string{"Idempotency-Key": "x-1"})
		if st != 201 || r["kind"] != "card" || r["status"] != "succeeded" {
			t.Fatalf("card refund: %d %v", st, r)
		}
		events := []paymenttest.Spec{
			xPaid,
			refunded(xTotal, 5000, xPI),      // the event of Souk's refund: already counted
			refunded(xTotal, 5000+7000, xPI), // 70 MAD more, from the dashboard
			{ID: paymenttest.NewID("evt"), Type: payment.EventCheckoutExpired, Purpose: payment.PurposeOrder,
				Reference: fmt.Sprint(y), SessionID: *yPay.ProviderRef, Amount: yTotal},
			completed(z, zTotal, zPay, zPI),
			refunded(zTotal, zTotal, zPI), // all of Z, from the dashboard
		}
		if !shuffle {
			for _, e := range events {
				deliver(t, s, e)
			}
		} else {
			var queue []paymenttest.Spec
			for i, e := range events {
				for range 2 + i%2 {
					queue = append(queue, e)
				}
			}
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
			rng.Shuffle(len(queue), func(i, j int) { queue[i], queue[j] = queue[j], queue[i] })
			for round := 0; len(queue) > 0; round++ {
				if round > 20 {
					t.Fatalf("%d deliveries still failing after 20 rounds", len(queue))
				}
				var again []paymenttest.Spec
				for _, e := range queue {
					resp, err := http.DefaultClient.Do(paymenttest.NewWebhookRequest(t, s.URL+"/api/v1/payments/stripe/webhook", s.Config.StripeWebhookSecret, e))
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					switch {
					case resp.StatusCode == 200:
					case resp.StatusCode >= 400 && resp.StatusCode != 500:
						again = append(again, e) // Stripe delivers it again later
					default:
						t.Fatalf("webhook %s answered %d", e.Type, resp.StatusCode)
					}
				}
				queue = again
			}
		}
		return webhookState(t, s, sc, []int64{x, y, z})
	}
	clean := run(t, false)
	var differing int64
	var firstDiff string
	for range 3 {
		if diff := cmp.Diff(clean, run(t, true)); diff != "" {
			differing++
			if firstDiff == "" {
				firstDiff = diff
			}
		}
	}
	testenv.Report(t, "webhooks: 3 shuffled, duplicated deliveries vs a clean one (orders, stock, ledger)", 3, differing)
	if differing > 0 {
		t.Fatalf("%d shuffled runs differ from the clean one (-clean +shuffled):\n%s", differing, firstDiff)
	}
	// What the clean run must say, so that a wrong outcome common to both
	// runs fails too.
	for _, want := range []string{
		"order 0: paid", "order 1: expired", "order 2: paid",
		// 450 MAD + 400 MAD to France; 10 % of 450 MAD; round(4500 × 5000 / 85000) = 265,
		// then round(4500 × 12000 / 85000) − 265 = 635 − 265.
		"order 0 ledger: [{sale 85000} {commission -4500} {refund -5000} {commission_reversal 265} {refund -7000} {commission_reversal 370}]",
		"order 1 ledger: []",
		"order 0 payment: partially_refunded 12000",
		"order 2 payment: refunded",
	} {
		if !strings.Contains(clean, want) {
			t.Errorf("the clean run lacks %q:\n%s", want, clean)
		}
	}
}

// webhookState renders what the webhooks decide, without ids or times.
func webhookState(t *testing.T, s *testserver.Server, sc orderScene, orders []int64) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "stock: %d\n", stockOf(t, s, sc.pots.ID))
	for i, id := range orders {
		var st string
		s.DB.Raw("SELECT status FROM orders WHERE id = ?", id).Scan(&st)
		fmt.Fprintf(&b, "order %d: %s\n", i, st)
		var fst []string
		s.DB.Raw("SELECT status FROM fulfilments WHERE order_id = ? ORDER BY id", id).Scan(&fst)
		fmt.Fprintf(&b, "order %d parcels: %v\n", i, fst)
		fmt.Fprintf(&b, "order %d ledger: %v\n", i, ledgerOf(t, s, id))
		var refunds []struct {
			Kind   string
			Status string
			Amount int64
		}
		s.DB.Raw("SELECT kind, status, amount FROM order_refunds WHERE order_id = ? ORDER BY id", id).Scan(&refunds)
		fmt.Fprintf(&b, "order %d refunds: %v\n", i, refunds)
		for _, p := range orderPayment(t, s, id) {
			fmt.Fprintf(&b, "order %d payment: %s %d\n", i, p.Status, p.AmountRefunded)
		}
	}
	fmt.Fprintf(&b, "balance: %d\n", balanceOf(t, s, sc.coop.ID))
	var events int64
	s.DB.Raw("SELECT COUNT(*) FROM payment_events").Scan(&events)
	fmt.Fprintf(&b, "events: %d\n", events)
	return b.String()
}

// Concurrent refund requests for one parcel never refund more than it was
// paid: ten with the same Idempotency-Key make one refund; ten with
// different keys, each for more than half, let exactly one through.
func TestConcurrentRefundsNeverExceedPaid(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := testserver.Start(t, testserver.Options{Dialect: dialect, Stripe: true})
		sc := newOrderScene(t, s)
		admin := loginToken(t, s, "admin@orders.test")
		fire := func(url string, n int, key func(i int) string) []int {
			statuses := make([]int, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					statuses[i], _ = httpCall(t, "POST", url, admin, map[string]any{"amount": 50_000, "reason": "broken in transit"},
						map[string]string{"Idempotency-Key": key(i)})
				}()
			}
			close(start)
			wg.Wait()
			return statuses
		}
		count := func(statuses []int, code int) int {
			n := 0
			for _, s := range statuses {
				if s == code {
					n++
				}
			}
			return n
		}
		refunded := func(orderID int64) int64 {
			var n int64
			s.DB.Raw("SELECT COALESCE(SUM(amount), 0) FROM order_refunds WHERE order_id = ?", orderID).Scan(&n)
			return n
		}

		same, _, _, _ := paidCardOrder(t, s, sc, 1) // 450 MAD + 400 MAD to France: two refunds of 500 MAD do not fit
		url := fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", s.URL, fulfilmentOf(t, s, same))
		statuses := fire(url, 10, func(int) string { return "same-key" })
		if count(statuses, 201) != 1 || count(statuses, 201)+count(statuses, 200)+count(statuses, 409) != 10 {
			t.Fatalf("same key: %v, want one 201 and replays", statuses)
		}
		if got := refunded(same); got != 50_000 {
			t.Fatalf("same key refunded %d, want 50000 once", got)
		}
		// A replay after it is done answers the refund.
		if st, _ := httpCall(t, "POST", url, admin, map[string]any{"amount": 50_000, "reason": "broken in transit"},
			map[string]string{"Idempotency-Key": "same-key"}); st != 200 {
			t.Fatalf("replay: %d", st)
		}

		diff, total, _, _ := paidCardOrder(t, s, sc, 1)
		url = fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", s.URL, fulfilmentOf(t, s, diff))
		statuses = fire(url, 10, func(i int) string { return fmt.Sprintf("key-%d", i) })
		if count(statuses, 201) != 1 || count(statuses, 409) != 9 {
			t.Fatalf("different keys: %v, want one 201 and nine 409", statuses)
		}
		if got := refunded(diff); got != 50_000 || got > total {
			t.Fatalf("different keys refunded %d of %d", got, total)
		}
		var pending int64
		s.DB.Raw("SELECT COUNT(*) FROM order_refunds WHERE status = 'pending'").Scan(&pending)
		if pending != 0 {
			t.Fatalf("%d refunds left pending", pending)
		}
		for _, id := range []int64{same, diff} {
			l := ledgerOf(t, s, id)
			var refundLines int
			for _, e := range l {
				if e.Kind == "refund" {
					refundLines++
				}
			}
			if refundLines != 1 {
				t.Fatalf("order %d ledger %v, want one refund line", id, l)
			}
		}
	})
}

// Rule 8 for refunds: the card provider unreachable answers 503 with
// Retry-After and writes nothing; a parcel not paid has nothing to refund.
func TestRefundProviderUnreachable(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newOrderScene(t, s)
	id, _, _, _ := paidCardOrder(t, s, sc, 1)
	fid := fulfilmentOf(t, s, id)
	// A second instance on the same database whose Stripe is down.
	down := testserver.Start(t, testserver.Options{DatabaseURL: s.Config.DatabaseURL, Stripe: true, Configure: func(c *config.Config) {
		c.StripeAPIURL = "http://127.0.0.1:1"
	}})
	admin := loginToken(t, down, "admin@orders.test")
	before := ledgerOf(t, s, id)
	st, b, h := callHdr(t, "POST", fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", down.URL, fid), admin,
		map[string]any{"amount": 1000, "reason": "late"}, map[string]string{"Idempotency-Key": "down-1"})
	if st != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("stripe down: %d %v (Retry-After %q)", st, b, h.Get("Retry-After"))
	}
	var n int64
	s.DB.Raw("SELECT COUNT(*) FROM order_refunds").Scan(&n)
	if n != 0 || !cmp.Equal(before, ledgerOf(t, s, id)) {
		t.Fatalf("half-written: %d refunds, ledger %v", n, ledgerOf(t, s, id))
	}
	// The same request once Stripe is back refunds once.
	if st, b := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", s.URL, fid), admin,
		map[string]any{"amount": 1000, "reason": "late"}, map[string]string{"Idempotency-Key": "down-1"}); st != 201 {
		t.Fatalf("retry: %d %v", st, b)
	}
	// An unpaid card order has nothing to refund.
	st, b = httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, orderBody(sc.pots.ID, 1, "FR", "card"), nil)
	unpaid, _ := orderOf(t, b)
	if st, b := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/admin/fulfilments/%d/refunds", s.URL, fulfilmentOf(t, s, unpaid)), admin,
		map[string]any{"amount": 1000, "reason": "late"}, nil); st != 409 {
		t.Fatalf("refund of an unpaid parcel: %d %v", st, b)
	}
}

// A paid card order cancelled before shipment: its sale, commission,
// refund and commission reversal net to zero in the ledger, and Stripe's
// charge.refunded for that refund, delivered twice, adds nothing.
func TestCancelPaidCardOrderLedger(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newOrderScene(t, s)
	id, total, _, pi := paidCardOrder(t, s, sc, 1)
	if st, c := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/orders/%d/cancel", s.URL, id), sc.buyerToken, nil, nil); st != 200 || c["refund"] != float64(total) {
		t.Fatalf("cancel: %d %v", st, c)
	}
	want := []ledgerLine{{"sale", total}, {"commission", -4500}, {"refund", -total}, {"commission_reversal", 4500}}
	if diff := cmp.Diff(want, ledgerOf(t, s, id)); diff != "" {
		t.Fatalf("ledger (-want +got):\n%s", diff)
	}
	ev := paymenttest.Spec{ID: paymenttest.NewID("evt"), Type: payment.EventChargeRefunded, PaymentIntentID: pi,
		ChargeID: paymenttest.NewID("ch"), Amount: total, AmountRefunded: total, NoMetadata: true}
	deliver(t, s, ev)
	deliver(t, s, ev)
	if diff := cmp.Diff(want, ledgerOf(t, s, id)); diff != "" {
		t.Fatalf("ledger after Stripe's event (-want +got):\n%s", diff)
	}
	if got := balanceOf(t, s, sc.coop.ID); got != 0 {
		t.Fatalf("balance %d after a cancelled order", got)
	}
	if p := orderPayment(t, s, id)[0]; p.Status != payment.PaymentRefunded || p.AmountRefunded != total {
		t.Fatalf("payment %+v", p)
	}
	if m := outbox(t, s); !strings.Contains(m, "annul") {
		t.Errorf("no cancellation e-mail")
	}
}

// The ledger is kept by unique entry keys: writing a sale twice through
// the domain changes nothing (the unique index, not memory, decides).
func TestLedgerEntryKeysUnique(t *testing.T) {
	s := testserver.Start(t, testserver.Options{Stripe: true})
	sc := newOrderScene(t, s)
	id, _, _, _ := paidCardOrder(t, s, sc, 1)
	err := s.DB.Exec(`INSERT INTO ledger_entries (cooperative_id, kind, amount, currency, order_id, entry_key, occurred_at, created_at)
		SELECT cooperative_id, kind, amount, currency, order_id, entry_key, occurred_at, created_at FROM ledger_entries WHERE order_id = ?`, id).Error
	if err == nil {
		t.Fatal("the same entry key was written twice")
	}
}
