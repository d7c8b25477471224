package account_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/errs"
)

// Sessions are stored hashed, expire, slide while used, and are revoked by
// logout and by a password change (except the session that changed it).
func TestSessions(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		f := newFixture(t, dialect)
		u, _ := f.user(t, "amina@souk.test", account.RoleBuyer)
		login := func() account.NewSession {
			t.Helper()
			_, s, err := f.svc.Login(ctx, account.Credentials{Email: "AMINA@souk.test ", Password: "correct horse battery", IP: "10.0.0.1"})
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			return s
		}
		s1, s2 := login(), login()
		var stored int64
		f.db.Raw("SELECT COUNT(*) FROM sessions WHERE token_hash = ?", s1.Token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the raw token is stored")
		}
		p, err := f.svc.Authenticate(ctx, s1.Token)
		if err != nil || p.UserID != u.ID || p.Session.ID != s1.ID || p.Session.CSRFToken != account.CSRFToken(s1.Token) {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
		for _, bad := range []string{"", "short", s1.Token[:42] + "!", s1.Token[1:] + "A"} {
			if _, err := f.svc.Authenticate(ctx, bad); !errs.Is(err, errs.Unauthorized) {
				t.Errorf("token %q: got %v, want unauthorized", bad, err)
			}
		}

		// Sliding: used after 20 days, the session lives 30 days from then.
		f.clock.Advance(20 * 24 * time.Hour)
		p, err = f.svc.Authenticate(ctx, s1.Token)
		if err != nil {
			t.Fatal(err)
		}
		if want := f.clock.Now().Add(account.DefaultSessionTTL); p.Session.ExpiresAt.Sub(want).Abs() > time.Second {
			t.Fatalf("session not extended: expires %v, want %v", p.Session.ExpiresAt, want)
		}
		// s2 was not used for 31 days: expired.
		f.clock.Advance(11 * 24 * time.Hour)
		if _, err := f.svc.Authenticate(ctx, s2.Token); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("expired session: got %v, want unauthorized", err)
		}
		if _, err := f.svc.Authenticate(ctx, s1.Token); err != nil {
			t.Fatalf("extended session refused: %v", err)
		}

		// A password change keeps the changing session and revokes the others.
		s3 := login()
		p1, _ := f.svc.Authenticate(ctx, s1.Token)
		if err := f.svc.ChangePassword(ctx, p1, "correct horse battery", "new saffron password"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, s1.Token); err != nil {
			t.Fatalf("the session that changed the password was revoked: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, s3.Token); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("other session survived a password change: %v", err)
		}
		if err := f.svc.Logout(ctx, p1.Session.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, s1.Token); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("logged-out session still works: %v", err)
		}

		// Expired rows are swept.
		if _, _, err := f.svc.Login(ctx, account.Credentials{Email: "amina@souk.test", Password: "new saffron password"}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(account.MaxSessionAge)
		if n, err := f.svc.Sweep(ctx); err != nil || n == 0 {
			t.Fatalf("sweep: deleted %d, err %v", n, err)
		}
		if n := f.count(t, "sessions"); n != 0 {
			t.Fatalf("%d sessions left after the sweep", n)
		}
	})
}

func TestCSRFToken(t *testing.T) {
	a, b := "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "baaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	first, again := account.CSRFToken(a), account.CSRFToken(a)
	if first == account.CSRFToken(b) || first != again {
		t.Fatal("CSRF tokens must be stable per session and differ between sessions")
	}
	if !account.CheckCSRF(a, account.CSRFToken(a)) || account.CheckCSRF(a, account.CSRFToken(b)) || account.CheckCSRF(a, "") {
		t.Fatal("CheckCSRF accepts the wrong token")
	}
}

// The login limit is counted in the database before the password is
// checked: however many guesses arrive at once, from however many
// processes, exactly LoginPerAccount are checked and the rest are refused.
func TestLoginLimitHoldsUnderConcurrency(t *testing.T) {
	dbtest.ForEachDialect(t, func(t *testing.T, dialect string) {
		ctx := context.Background()
		url := dbtest.URL(t, dialect)
		db1 := dbtest.OpenURL(t, url)
		if _, err := db1.Migrate(ctx, quiet); err != nil {
			t.Fatal(err)
		}
		c := newClock()
		f1 := newFixtureOn(t, db1, c)
		f2 := newFixtureOn(t, dbtest.OpenURL(t, url), c) // a second process
		f1.user(t, "idriss@souk.test", account.RoleArtisan)

		const guesses = 30
		var mu sync.Mutex
		got := map[errs.Code]int{}
		var wg sync.WaitGroup
		for i := range guesses {
			svc := f1.svc
			if i%2 == 1 {
				svc = f2.svc
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := svc.Login(ctx, account.Credentials{Email: "idriss@souk.test", Password: "wrong password " + string(rune('a'+i))})
				mu.Lock()
				got[errs.CodeOf(err)]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		limit := account.DefaultLimits.LoginPerAccount.Max
		if got[errs.Unauthorized] != limit || got[errs.RateLimited] != guesses-limit {
			t.Fatalf("outcomes %v, want %d unauthorized and %d rate limited", got, limit, guesses-limit)
		}
		// Locked even for the right password, until the window closes.
		_, _, err := f1.svc.Login(ctx, account.Credentials{Email: "idriss@souk.test", Password: "correct horse battery"})
		e := errs.As(err)
		if e == nil || e.Code != errs.RateLimited || e.RetryAfter <= 0 || e.RetryAfter > 15*time.Minute {
			t.Fatalf("right password while locked: %v, want rate limited with a retry hint", err)
		}
		c.Advance(15*time.Minute + time.Second)
		if _, _, err := f2.svc.Login(ctx, account.Credentials{Email: "idriss@souk.test", Password: "correct horse battery"}); err != nil {
			t.Fatalf("login after the window: %v", err)
		}
		if n, err := f1.svc.Sweep(ctx); err != nil {
			t.Fatalf("sweep: %d %v", n, err)
		}
	})
}

// An unknown address and a wrong password get the same answer.
func TestLoginDoesNotTellWhoExists(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	f.user(t, "known@souk.test", account.RoleBuyer)
	_, _, errKnown := f.svc.Login(ctx, account.Credentials{Email: "known@souk.test", Password: "not the password"})
	_, _, errUnknown := f.svc.Login(ctx, account.Credentials{Email: "nobody@souk.test", Password: "not the password"})
	if errKnown == nil || errKnown.Error() != errUnknown.Error() {
		t.Fatalf("known: %v; unknown: %v — want the same error", errKnown, errUnknown)
	}
}

// Hashes made with older parameters are upgraded at the next login.
func TestLoginUpgradesOldHashes(t *testing.T) {
	f := newFixture(t, "sqlite")
	ctx := context.Background()
	u, _ := f.user(t, "old@souk.test", account.RoleBuyer)
	old := account.TestPasswordParams
	old.Memory = 32
	h, _ := account.HashPassword("correct horse battery", old)
	f.db.Exec("UPDATE users SET password_hash = ? WHERE id = ?", h, u.ID)
	if _, _, err := f.svc.Login(ctx, account.Credentials{Email: "old@souk.test", Password: "correct horse battery"}); err != nil {
		t.Fatal(err)
	}
	var now string
	f.db.Raw("SELECT password_hash FROM users WHERE id = ?", u.ID).Scan(&now)
	if got, _, _, err := account.ParsePasswordHash(now); err != nil || got != account.TestPasswordParams {
		t.Fatalf("hash not upgraded: %s (%v)", now, err)
	}
}
