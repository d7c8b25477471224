package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// The inclusion report sums the member figures of verified cooperatives by
// commune; a pending cooperative is not reached yet, and one without
// figures counts as reached but not in the sums. JSON and CSV agree.
func TestInclusionReport(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		s := testserver.Start(t, testserver.Options{Dialect: dialect})
		newOrderScene(t, s) // one verified cooperative in Anzi, no figures
		admin := loginToken(t, s, "admin@orders.test")
		set := func(id int64, status string, women, men, disabled any) {
			t.Helper()
			if err := s.DB.Exec("UPDATE cooperatives SET status = ?, women_members = ?, men_members = ?, disabled_members = ? WHERE id = ?",
				status, women, men, disabled, id).Error; err != nil {
				t.Fatal(err)
			}
		}
		ctx := context.Background()
		mk := func(name, commune string) int64 {
			t.Helper()
			u, _, err := s.Accounts.Register(ctx, account.Registration{Email: strings.ToLower(strings.ReplaceAll(name, " ", "")) + "@inclusion.test",
				Password: testPassword, Name: name, Role: "cooperative"})
			if err != nil {
				t.Fatal(err)
			}
			p := &account.Principal{UserID: u.ID, Roles: []account.Role{account.RoleCooperative}, Memberships: map[int64]account.MemberRole{}}
			c, err := s.Accounts.CreateCooperative(ctx, p, account.CooperativeInput{Name: name, Commune: commune, Crafts: []string{"pottery"}})
			if err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		a := mk("Tiznit Argent", "Tiznit")
		b := mk("Tiznit Tapis", "Tiznit")
		pending := mk("Tafraout Babouches", "Tafraout")
		set(a, "verified", 12, 3, 1)
		set(b, "verified", 20, nil, 2)
		set(pending, "pending", 50, 50, 50)

		st, rep := httpCall(t, "GET", s.URL+"/api/v1/admin/reports/inclusion", admin, nil, nil)
		if st != 200 {
			t.Fatalf("report: %d %v", st, rep)
		}
		total := rep["total"].(map[string]any)
		if total["cooperatives"] != float64(3) || total["cooperatives_reporting"] != float64(2) || total["women"] != float64(32) ||
			total["men"] != float64(3) || total["with_disabilities"] != float64(3) {
			t.Fatalf("total %v", total)
		}
		communes := rep["communes"].([]any)
		if len(communes) != 2 || communes[1].(map[string]any)["commune"] != "Tiznit" || communes[1].(map[string]any)["women"] != float64(32) {
			t.Fatalf("communes %v", communes)
		}
		st, ct, body := httpRaw(t, s.URL+"/api/v1/admin/reports/inclusion?format=csv", admin)
		if st != 200 || !strings.HasPrefix(ct, "text/csv") || !strings.Contains(body, "Tiznit,2,2,32,3,3") || !strings.Contains(body, "total,3,2,32,3,3") {
			t.Fatalf("csv: %d %s %q", st, ct, body)
		}
		if st, _ := httpCall(t, "GET", s.URL+"/api/v1/admin/reports/inclusion?format=xml", admin, nil, nil); st != 422 {
			t.Fatalf("bad format: %d", st)
		}
	})
}
