package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/internal/testserver"
)

// An order keeps the language it was placed in, and every later e-mail
// (here: shipped) is written in it; an unknown language is French.
func TestOrderMailsInTheOrdersLanguage(t *testing.T) {
	s := testserver.Start(t, testserver.Options{})
	sc := newOrderScene(t, s)
	manager := loginToken(t, s, "manager@anzi.test")
	for _, c := range []struct{ lang, want, tracking string }{
		{"ar", "تم شحن طردك", "RR000000001MA"},
		{"en", "has shipped", "RR000000002MA"},
		{"xx", "est parti", "RR000000003MA"},
	} {
		body := orderBody(sc.pots.ID, 1, "MA", "cod")
		body["lang"] = c.lang
		st, b := httpCall(t, "POST", s.URL+"/api/v1/orders", sc.buyerToken, body, nil)
		if st != 201 {
			t.Fatalf("order in %s: %d %v", c.lang, st, b)
		}
		_, o := orderOf(t, b)
		wantLang := c.lang
		if wantLang == "xx" {
			wantLang = "fr"
		}
		if o["lang"] != wantLang {
			t.Fatalf("order placed in %s keeps lang %v", c.lang, o["lang"])
		}
		fid := int64(o["fulfilments"].([]any)[0].(map[string]any)["id"].(float64))
		if st, b := httpCall(t, "POST", fmt.Sprintf("%s/api/v1/fulfilments/%d/ship", s.URL, fid), manager,
			map[string]string{"carrier": "Amana", "tracking_number": c.tracking}, nil); st != 200 {
			t.Fatalf("ship: %d %v", st, b)
		}
		var found bool
		for _, m := range strings.Split("\n"+outbox(t, s), "\nTo: ") {
			if strings.Contains(m, c.tracking) {
				found = true
				if !strings.Contains(m, c.want) {
					t.Errorf("the shipped e-mail of an order placed in %s does not say %q:\n%s", c.lang, c.want, m)
				}
			}
		}
		if !found {
			t.Errorf("no shipped e-mail names %s", c.tracking)
		}
	}
}
