package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/demo"
	"github.com/souk-tiznit/souk/internal/testserver"
)

// Rule 5 on the dashboards: every dashboard page is fetched as each of six
// callers and the status compared with its row. A signed-out visitor is
// always sent to the sign-in page (303); a page of someone else's room is
// a 403 or a 404, never a 200.
//
// Add rows from the file of your pages:
//
//	func init() {
//		pageCases = append(pageCases, pageCase{Name: "products of A",
//			Path: func(w *pageWorld) string { return fmt.Sprintf("/fr/dashboard/cooperatives/%d/products", w.A) },
//			Want: pageExpect{303, 403, 403, 200, 403, 200}})
//	}
//
// and fixtures of your own through pageSetups (stored in w.Extra).

// The callers, in the order of pageExpect.
const (
	pgAnon = iota
	pgBuyer
	pgArtisan
	pgManagerA // manager of the demo's first cooperative
	pgManagerB // manager of the demo's second cooperative
	pgAdmin
	nPageCallers
)

var pageCallerNames = [nPageCallers]string{"anonymous", "buyer", "artisan", "manager of A", "manager of B", "admin"}

// pageExpect is the status each caller must get.
type pageExpect [nPageCallers]int

// signedInPage is a page every signed-in person may open.
var signedInPage = pageExpect{303, 200, 200, 200, 200, 200}

// adminPage is a page only administrators may open.
var adminPage = pageExpect{303, 403, 403, 403, 403, 200}

// pageCase is one row.
type pageCase struct {
	Name string
	Path func(w *pageWorld) string
	Want pageExpect
}

// pageWorld is the demo, with its callers signed in.
type pageWorld struct {
	S        *testserver.Server
	A, B     int64 // the cooperatives of manager A and manager B
	Password string
	Emails   [nPageCallers]string
	visitors [nPageCallers]*visitor
	// csrf are the signed-in callers' session CSRF tokens.
	csrf [nPageCallers]string
	// member is a regular (not managing) member of A, for the rows of
	// pages_matrix_test.go; memberEmail signs them in again.
	member      *visitor
	memberCSRF  string
	memberEmail string
	Extra       map[string]any
}

var (
	pageCases  = []pageCase{{Name: "dashboard home", Path: func(*pageWorld) string { return "/fr/dashboard" }, Want: signedInPage}}
	pageSetups []func(t *testing.T, w *pageWorld)
)

func newPageWorld(t *testing.T) *pageWorld {
	t.Helper()
	ctx := context.Background()
	s := testserver.Start(t, testserver.Options{})
	res, err := demo.Seed(ctx, s.DB, demo.Options{Media: s.Media, Password: account.TestPasswordParams})
	if err != nil {
		t.Fatal(err)
	}
	w := &pageWorld{S: s, Password: res.AdminPassword, Extra: map[string]any{}}
	w.Emails = [nPageCallers]string{"", "buyer@pages.test", "artisan@pages.test", "cooperative1@souk.localhost", "cooperative2@souk.localhost", res.AdminEmail}
	for who, role := range map[int]string{pgBuyer: "buyer", pgArtisan: "artisan"} {
		if _, _, err := s.Accounts.Register(ctx, account.Registration{Email: w.Emails[who], Password: w.Password, Name: pageCallerNames[who], Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(s.URL)
	for who := range nPageCallers {
		v := newVisitor(t, s.URL)
		w.visitors[who] = v
		if who == pgAnon {
			continue
		}
		_, sess, err := s.Accounts.Login(ctx, account.Credentials{Email: w.Emails[who], Password: w.Password})
		if err != nil {
			t.Fatalf("sign in %s: %v", w.Emails[who], err)
		}
		v.client.Jar.SetCookies(u, []*http.Cookie{{Name: "souk_session", Value: sess.Token, Path: "/"}})
		w.csrf[who] = sess.CSRFToken
		if who == pgManagerA || who == pgManagerB {
			user, err := s.Accounts.FindUserByEmail(ctx, w.Emails[who])
			if err != nil {
				t.Fatal(err)
			}
			ms, err := s.Accounts.FindMemberships(ctx, user.ID)
			if err != nil || len(ms) == 0 {
				t.Fatalf("%s manages no cooperative: %v", w.Emails[who], err)
			}
			if who == pgManagerA {
				w.A = ms[0].CooperativeID
			} else {
				w.B = ms[0].CooperativeID
			}
		}
	}
	w.addMemberOfA(t)
	return w
}

// addMemberOfA registers an artisan, has manager A invite them as a
// regular member and signs them in.
func (w *pageWorld) addMemberOfA(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	w.memberEmail = "member@pages.test"
	if _, _, err := w.S.Accounts.Register(ctx, account.Registration{Email: w.memberEmail, Password: w.Password, Name: "Member of A", Role: "artisan"}); err != nil {
		t.Fatal(err)
	}
	manager, err := w.S.Accounts.FindUserByEmail(ctx, w.Emails[pgManagerA])
	if err != nil {
		t.Fatal(err)
	}
	mp, err := w.S.Accounts.PrincipalOf(ctx, manager.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.S.Accounts.InviteMember(ctx, mp, w.A, w.memberEmail, account.MemberRegular); err != nil {
		t.Fatalf("invite the member of A: %v", err)
	}
	m := invitationLink.FindStringSubmatch(unfoldMail(mailTo(t, w.S, w.memberEmail)))
	if m == nil {
		t.Fatal("no invitation link in the member's mail")
	}
	u, sess, err := w.S.Accounts.Login(ctx, account.Credentials{Email: w.memberEmail, Password: w.Password})
	if err != nil {
		t.Fatal(err)
	}
	p, err := w.S.Accounts.Authenticate(ctx, sess.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.S.Accounts.AcceptInvitation(ctx, p, m[1]); err != nil {
		t.Fatalf("member %d joins A: %v", u.ID, err)
	}
	w.member, w.memberCSRF = newVisitor(t, w.S.URL), sess.CSRFToken
	base, _ := url.Parse(w.S.URL)
	w.member.client.Jar.SetCookies(base, []*http.Cookie{{Name: "souk_session", Value: sess.Token, Path: "/"}})
}

var invitationLink = regexp.MustCompile(`/invitations/([A-Za-z0-9_-]{43})`)

// Visitor returns the signed-in (or anonymous) browser of a caller.
func (w *pageWorld) Visitor(who int) *visitor { return w.visitors[who] }

func TestDashboardPagesMatrix(t *testing.T) {
	w := newPageWorld(t)
	for _, setup := range pageSetups {
		setup(t, w)
	}
	for _, pc := range pageCases {
		t.Run(pc.Name, func(t *testing.T) {
			path := pc.Path(w)
			for who := range nPageCallers {
				v := w.visitors[who]
				v.t = t
				resp, body := v.get(path)
				want := pc.Want[who]
				if resp.StatusCode != want {
					t.Errorf("as %s: GET %s answered %d, want %d: %.300s", pageCallerNames[who], path, resp.StatusCode, want, body)
					continue
				}
				lang := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 2)[0]
				switch {
				case who == pgAnon && want == 303:
					if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/"+lang+"/login?next=") {
						t.Errorf("a signed-out visitor of %s is sent to %q, not the sign-in page", path, loc)
					}
				case want == 200:
					if !strings.Contains(body, `<html lang="`+lang+`"`) {
						t.Errorf("as %s: %s has no <html lang=%q>", pageCallerNames[who], path, lang)
					}
					if resp.Header.Get("Cache-Control") != "private, no-store" {
						t.Errorf("as %s: %s may be cached (%q)", pageCallerNames[who], path, resp.Header.Get("Cache-Control"))
					}
				}
			}
		})
	}
}
