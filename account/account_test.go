package account_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/souk-tiznit/souk/account"
	"github.com/souk-tiznit/souk/database"
	"github.com/souk-tiznit/souk/database/dbtest"
	"github.com/souk-tiznit/souk/mail"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// clock is a settable time source shared by services in one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a migrated database with a Service over it.
type fixture struct {
	db     *database.DB
	svc    *account.Service
	clock  *clock
	outbox *mail.Outbox
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	db := dbtest.Open(t, dialect)
	return newFixtureOn(t, db, newClock())
}

func newFixtureOn(t *testing.T, db *database.DB, c *clock) *fixture {
	t.Helper()
	ob, err := mail.NewOutbox(t.TempDir(), "Souk <no-reply@souk.test>")
	if err != nil {
		t.Fatal(err)
	}
	svc := account.New(db, account.Options{Mail: ob, BaseURL: "http://souk.test", Password: account.TestPasswordParams,
		Now: c.Now, Logger: quiet})
	return &fixture{db: db, svc: svc, clock: c, outbox: ob}
}

// user registers a person with a role and returns them with their principal.
func (f *fixture) user(t *testing.T, email string, role account.Role) (account.User, *account.Principal) {
	t.Helper()
	ctx := context.Background()
	var u account.User
	var err error
	if role == account.RoleAdmin {
		u, err = f.svc.CreateAdmin(ctx, email, "Admin "+email, "correct horse battery")
	} else {
		u, _, err = f.svc.Register(ctx, account.Registration{Email: email, Password: "correct horse battery", Name: "User " + email, Role: string(role)})
	}
	if err != nil {
		t.Fatalf("create %s (%s): %v", email, role, err)
	}
	p, err := f.svc.PrincipalOf(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return u, p
}

func (f *fixture) count(t *testing.T, table string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Raw("SELECT COUNT(*) FROM " + table).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// lastMail returns the newest message of the outbox, decoded.
func (f *fixture) lastMail(t *testing.T) string {
	t.Helper()
	msgs, err := f.outbox.Messages()
	if err != nil || len(msgs) == 0 {
		t.Fatalf("no mail in the outbox (%v)", err)
	}
	b, err := os.ReadFile(msgs[len(msgs)-1])
	if err != nil {
		t.Fatal(err)
	}
	return decodeQP(string(b))
}

// decodeQP undoes quoted-printable soft breaks and =XX escapes enough to
// find links in a message.
func decodeQP(s string) string {
	s = strings.ReplaceAll(s, "=\r\n", "")
	s = strings.ReplaceAll(s, "=3D", "=")
	return s
}
