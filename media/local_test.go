package media

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/souk-tiznit/souk/errs"
)

func TestNewLocal_Err(t *testing.T) {
	if _, err := NewLocal("", "", []byte("0123456789abcdef")); err == nil {
		t.Error("NewLocal without a folder succeeded")
	}
	if _, err := NewLocal(t.TempDir(), "", []byte("short")); err == nil {
		t.Error("NewLocal with a 5-byte signing key succeeded")
	}
}

func TestLocal_VerifySignedURL(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 2, 12, 10, 0, 0, 0, time.UTC)
	l, err := NewLocal(t.TempDir(), "https://souk.ma/", []byte("0123456789abcdef-signing"))
	if err != nil {
		t.Fatal(err)
	}
	l.now = func() time.Time { return now }
	const key = "private/certificates/12/madmoun.pdf"
	raw, err := l.URL(ctx, key, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "https" || u.Host != "souk.ma" || u.Path != "/media/"+key {
		t.Errorf("URL = %s; want https://souk.ma/media/%s?...", raw, key)
	}
	exp, sig := u.Query().Get("exp"), u.Query().Get("sig")
	if want := strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10); exp != want {
		t.Errorf("exp = %s, want %s", exp, want)
	}

	t.Run("OK", func(t *testing.T) {
		if err := l.VerifySignedURL(key, exp, sig, now.Add(9*time.Minute)); err != nil {
			t.Errorf("VerifySignedURL of a fresh link: %v", err)
		}
	})
	flipped := []byte(sig)
	flipped[0] ^= 1
	for _, tc := range []struct {
		name          string
		key, exp, sig string
		now           time.Time
		want          errs.Code
	}{
		{"ErrExpired", key, exp, sig, now.Add(10 * time.Minute), errs.Forbidden},
		{"ErrLongExpired", key, exp, sig, now.Add(48 * time.Hour), errs.Forbidden},
		{"ErrTamperedSig", key, exp, string(flipped), now, errs.Forbidden},
		{"ErrOtherKey", "private/certificates/13/madmoun.pdf", exp, sig, now, errs.Forbidden},
		{"ErrExtendedExpiry", key, strconv.FormatInt(now.Add(time.Hour).Unix(), 10), sig, now, errs.Forbidden},
		{"ErrMissingSig", key, exp, "", now, errs.Forbidden},
		{"ErrMissingExp", key, "", sig, now, errs.Forbidden},
		{"ErrSigNotHex", key, exp, "zz" + sig[2:], now, errs.Forbidden},
		{"ErrShortSig", key, exp, sig[:10], now, errs.Forbidden},
		{"ErrBadKey", "private/../etc/passwd", exp, sig, now, errs.Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantCode(t, l.VerifySignedURL(tc.key, tc.exp, tc.sig, tc.now), tc.want)
		})
	}

	t.Run("OtherSigningKey", func(t *testing.T) {
		other, err := NewLocal(t.TempDir(), "https://souk.ma", []byte("another-signing-key-0123"))
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, other.VerifySignedURL(key, exp, sig, now), errs.Forbidden)
	})

	t.Run("PublicURL", func(t *testing.T) {
		got, err := l.URL(ctx, "public/photos/ab/abc-640.jpg", time.Minute)
		if want := "https://souk.ma/media/public/photos/ab/abc-640.jpg"; err != nil || got != want {
			t.Errorf("URL(public) = %q, %v; want %q", got, err, want)
		}
	})
}

func TestLocal_HidesItsOwnFiles(t *testing.T) {
	ctx := context.Background()
	l := newTestLocal(t)
	mustPut(t, l, "public/photos/aa/x.jpg", []byte("x"), PutOptions{ContentType: "image/jpeg"})
	// A crashed writer's leftovers must not surface either.
	if err := os.WriteFile(filepath.Join(l.Dir(), "public", "photos", "aa", ".tmp-123"), []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(l.Dir(), "public", "photos", "aa"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".tmp-123", ".x.jpg.meta.json", "x.jpg"}; !cmp.Equal(names, want) {
		t.Errorf("folder holds %q, want %q", names, want)
	}
	if got := listKeys(t, l, ""); !cmp.Equal(got, []string{"public/photos/aa/x.jpg"}) {
		t.Errorf("List = %q; want only the object", got)
	}
	if err := l.Delete(ctx, "public/photos/aa/x.jpg"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), "public", "photos", "aa", ".x.jpg.meta.json")); !os.IsNotExist(err) {
		t.Errorf("Delete left the metadata file behind (stat: %v)", err)
	}
}

func TestLocal_MissingMetadataDefaults(t *testing.T) {
	l := newTestLocal(t)
	mustPut(t, l, "public/a.bin", []byte("abc"), PutOptions{})
	obj, err := l.Stat(context.Background(), "public/a.bin")
	if err != nil {
		t.Fatal(err)
	}
	if obj.ContentType != "application/octet-stream" {
		t.Errorf("ContentType = %q, want application/octet-stream", obj.ContentType)
	}
}

func TestLocal_ErrConflict(t *testing.T) {
	ctx := context.Background()
	l := newTestLocal(t)
	mustPut(t, l, "public/a/b", []byte("object"), PutOptions{})
	wantCode(t, l.Put(ctx, "public/a/b/c", strings.NewReader("x"), 1, PutOptions{}), errs.Conflict)
	mustPut(t, l, "public/d/e/f", []byte("object"), PutOptions{})
	wantCode(t, l.Put(ctx, "public/d/e", strings.NewReader("x"), 1, PutOptions{}), errs.Conflict)
	// A folder is not an object.
	_, err := l.Stat(ctx, "public/d/e")
	wantCode(t, err, errs.NotFound)
	_, err = l.Stat(ctx, "public/a/b/c")
	wantCode(t, err, errs.NotFound)
	if err := l.Delete(ctx, "public/d/e"); err != nil {
		t.Errorf("Delete of a folder key: %v; want nil (no such object)", err)
	}
	if got := listKeys(t, l, ""); !cmp.Equal(got, []string{"public/a/b", "public/d/e/f"}) {
		t.Errorf("List = %q", got)
	}
}

func TestLocal_PingErrUnavailable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "media")
	l, err := NewLocal(dir, "", []byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	wantCode(t, l.Ping(context.Background()), errs.Unavailable)
}

func TestLocal_PutHonoursContext(t *testing.T) {
	l := newTestLocal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Put(ctx, "public/x", strings.NewReader("x"), 1, PutOptions{}); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	if got := listKeys(t, l, ""); len(got) != 0 {
		t.Errorf("a cancelled Put left %q", got)
	}
}
