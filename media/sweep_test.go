package media

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/errs"
)

// age backdates an object of a Local store.
func age(t *testing.T, l *Local, key string, d time.Duration) {
	t.Helper()
	when := time.Now().Add(-d)
	if err := os.Chtimes(l.path(key), when, when); err != nil {
		t.Fatal(err)
	}
}

// Rule 7: a failed upload leaves no orphan object for long, and an upload
// in flight is never swept.
func TestSweepOrphans(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) *Local {
		l := newTestLocal(t)
		for key, old := range map[string]bool{
			"public/photos/aa/orphan-320.jpg":     true,
			"public/photos/aa/orphan-640.jpg":     true,
			"public/photos/bb/referenced-320.jpg": true,
			"public/photos/cc/in-flight-320.jpg":  false,
			"private/certificates/1/orphan.pdf":   true, // another prefix: not this sweep's business
		} {
			mustPut(t, l, key, []byte(key), PutOptions{ContentType: "image/jpeg"})
			if old {
				age(t, l, key, 2*time.Hour)
			}
		}
		return l
	}
	referenced := func(_ context.Context, key string) (bool, error) {
		return key == "public/photos/bb/referenced-320.jpg", nil
	}
	survivors := []string{
		"private/certificates/1/orphan.pdf",
		"public/photos/bb/referenced-320.jpg",
		"public/photos/cc/in-flight-320.jpg",
	}

	t.Run("OK", func(t *testing.T) {
		l := setup(t)
		removed, err := SweepOrphans(ctx, l, "public/photos/", time.Hour, referenced)
		if err != nil || removed != 2 {
			t.Fatalf("SweepOrphans = %d, %v; want 2, nil", removed, err)
		}
		if diff := cmp.Diff(survivors, listKeys(t, l, "")); diff != "" {
			t.Errorf("left in the store (-want +got):\n%s", diff)
		}
		// Nothing more to do the second time.
		if removed, err := SweepOrphans(ctx, l, "public/photos/", time.Hour, referenced); err != nil || removed != 0 {
			t.Errorf("second SweepOrphans = %d, %v; want 0, nil", removed, err)
		}
	})

	t.Run("EveryInstanceAtOnce", func(t *testing.T) {
		l := setup(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				n, err := SweepOrphans(ctx, l, "public/photos/", time.Hour, referenced)
				if err != nil {
					t.Errorf("concurrent SweepOrphans: %v", err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			}()
		}
		wg.Wait()
		if total < 2 || total > 8 {
			t.Errorf("the sweepers removed %d objects between them; want at least 2", total)
		}
		if diff := cmp.Diff(survivors, listKeys(t, l, "")); diff != "" {
			t.Errorf("left in the store (-want +got):\n%s", diff)
		}
	})

	t.Run("SparesAnObjectRewrittenMeanwhile", func(t *testing.T) {
		// The same photo is uploaded again (same content-addressed key)
		// between the listing and the delete: its row is about to be
		// written, so the object must stay.
		l := setup(t)
		const key = "public/photos/aa/orphan-320.jpg"
		_, err := SweepOrphans(ctx, l, "public/photos/aa/", time.Hour, func(_ context.Context, k string) (bool, error) {
			if k == key {
				mustPut(t, l, key, []byte(key), PutOptions{ContentType: "image/jpeg"})
			}
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Stat(ctx, key); err != nil {
			t.Errorf("the re-uploaded object was swept: %v", err)
		}
	})

	t.Run("ErrReferenceCheck", func(t *testing.T) {
		l := setup(t)
		dbDown := errors.New("database is down")
		removed, err := SweepOrphans(ctx, l, "public/photos/", time.Hour, func(context.Context, string) (bool, error) { return false, dbDown })
		if !errors.Is(err, dbDown) || removed != 0 {
			t.Errorf("SweepOrphans = %d, %v; want 0 and the database error", removed, err)
		}
		if got := len(listKeys(t, l, "public/photos/")); got != 4 {
			t.Errorf("%d objects left; want all 4 when references cannot be checked", got)
		}
	})

	t.Run("ErrArguments", func(t *testing.T) {
		l := setup(t)
		_, err := SweepOrphans(ctx, l, "public/photos/", 0, referenced)
		wantCode(t, err, errs.Invalid)
		_, err = SweepOrphans(ctx, l, "../", time.Hour, referenced)
		wantCode(t, err, errs.Invalid)
	})
}
