package media

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/minio/minio-go/v7"

	"github.com/souk-tiznit/souk/errs"
	"github.com/souk-tiznit/souk/internal/testenv"
)

// TestLocalStore runs the Store contract against a folder, served over
// HTTP the way the api package is expected to serve /media/*.
func TestLocalStore(t *testing.T) {
	testStore(t, func(t *testing.T) Store { return newTestLocal(t) })
}

// TestMinIOStore runs the Store contract against a real MinIO server, in a
// fresh bucket per test.
func TestMinIOStore(t *testing.T) {
	testenv.MinIO(t) // skip (or fail under CI) once, not in every subtest
	testStore(t, func(t *testing.T) Store { return newTestMinIO(t) })
}

// testStore is the contract every Store implementation keeps.
func testStore(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("PutGetRoundTrip", func(t *testing.T) {
		s := newStore(t)
		body := []byte("%PDF-1.7 certificate Madmoun ...%%EOF")
		opts := PutOptions{ContentType: "application/pdf", CacheControl: "private, max-age=60"}
		mustPut(t, s, "private/certificates/7/doc.pdf", body, opts)

		rc, obj, err := s.Get(ctx, "private/certificates/7/doc.pdf")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if !bytes.Equal(got, body) {
			t.Errorf("Get returned %q, want %q", got, body)
		}
		want := Object{Key: "private/certificates/7/doc.pdf", Size: int64(len(body)), ContentType: opts.ContentType, CacheControl: opts.CacheControl}
		if diff := cmp.Diff(want, obj, ignoreVolatile); diff != "" {
			t.Errorf("Get object (-want +got):\n%s", diff)
		}
		if obj.ETag == "" || obj.ModTime.IsZero() || time.Since(obj.ModTime) > time.Hour {
			t.Errorf("Get object has ETag %q and ModTime %v; want both set and recent", obj.ETag, obj.ModTime)
		}

		st, err := s.Stat(ctx, "private/certificates/7/doc.pdf")
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if diff := cmp.Diff(obj, st); diff != "" {
			t.Errorf("Stat differs from Get (-get +stat):\n%s", diff)
		}
	})

	t.Run("EmptyObject", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "public/empty.txt", nil, PutOptions{ContentType: "text/plain"})
		if got := mustGet(t, s, "public/empty.txt"); len(got) != 0 {
			t.Errorf("got %d bytes, want 0", len(got))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Stat(ctx, "public/photos/none.jpg")
		wantCode(t, err, errs.NotFound)
		rc, _, err := s.Get(ctx, "private/none.pdf")
		if rc != nil {
			rc.Close()
		}
		wantCode(t, err, errs.NotFound)
	})

	t.Run("DeleteIsIdempotent", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "public/a/b.jpg", []byte("x"), PutOptions{})
		for i := 0; i < 2; i++ {
			if err := s.Delete(ctx, "public/a/b.jpg"); err != nil {
				t.Fatalf("Delete #%d: %v", i+1, err)
			}
		}
		_, err := s.Stat(ctx, "public/a/b.jpg")
		wantCode(t, err, errs.NotFound)
		if err := s.Delete(ctx, "public/never/was.jpg"); err != nil {
			t.Errorf("Delete of a key never written: %v", err)
		}
	})

	t.Run("ListByPrefix", func(t *testing.T) {
		s := newStore(t)
		all := []string{
			"private/certificates/1.pdf",
			"public/other.jpg",
			"public/photos/aa/1.jpg",
			"public/photos/aa/2.jpg",
			"public/photos/ab/3.jpg",
			"public/photosx/4.jpg",
		}
		for _, k := range all {
			mustPut(t, s, k, []byte(k), PutOptions{ContentType: "image/jpeg"})
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"public/photos/", all[2:5]},
			{"public/photos/aa/", all[2:4]},
			{"public/photos/a", all[2:5]},
			{"public/photos/aa/1", all[2:3]},
			{"public/photos", all[2:6]},
			{"private/", all[:1]},
			{"nothing/", nil},
			{"", all},
		} {
			var got []string
			err := s.List(ctx, tc.prefix, func(o Object) error {
				got = append(got, o.Key)
				if o.Size != int64(len(o.Key)) || o.ModTime.IsZero() {
					t.Errorf("List(%q) gave %+v; want size %d and a ModTime", tc.prefix, o, len(o.Key))
				}
				return nil
			})
			if err != nil {
				t.Fatalf("List(%q): %v", tc.prefix, err)
			}
			sort.Strings(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("List(%q) (-want +got):\n%s", tc.prefix, diff)
			}
		}

		stop := errors.New("stop")
		n := 0
		err := s.List(ctx, "public/", func(Object) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Errorf("List with a failing callback: err %v after %d calls; want the callback's error after 1", err, n)
		}
		wantCode(t, s.List(ctx, "../", func(Object) error { return nil }), errs.Invalid)
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		mustPut(t, s, "public/logo.png", []byte("first version"), PutOptions{ContentType: "text/plain"})
		before, err := s.Stat(ctx, "public/logo.png")
		if err != nil {
			t.Fatal(err)
		}
		mustPut(t, s, "public/logo.png", []byte("second"), PutOptions{ContentType: "image/png", CacheControl: "no-cache"})
		if got := mustGet(t, s, "public/logo.png"); string(got) != "second" {
			t.Errorf("after overwrite got %q, want %q", got, "second")
		}
		after, err := s.Stat(ctx, "public/logo.png")
		if err != nil {
			t.Fatal(err)
		}
		if after.Size != 6 || after.ContentType != "image/png" || after.CacheControl != "no-cache" || after.ETag == before.ETag {
			t.Errorf("after overwrite Stat = %+v (before: ETag %q); want size 6, image/png, no-cache, a new ETag", after, before.ETag)
		}
	})

	t.Run("ErrInvalidShortBody", func(t *testing.T) {
		s := newStore(t)
		err := s.Put(ctx, "public/short.bin", strings.NewReader("12345"), 10, PutOptions{})
		wantCode(t, err, errs.Invalid)
		_, err = s.Stat(ctx, "public/short.bin")
		wantCode(t, err, errs.NotFound) // nothing half-written
	})

	t.Run("PublicURLIsFetchableAnonymously", func(t *testing.T) {
		s := newStore(t)
		body := []byte("\xff\xd8\xff pretend jpeg")
		mustPut(t, s, "public/photos/ab/abc-320.jpg", body, PutOptions{ContentType: "image/jpeg", CacheControl: PhotoCacheControl})
		u, err := s.URL(ctx, "public/photos/ab/abc-320.jpg", 0)
		if err != nil {
			t.Fatalf("URL: %v", err)
		}
		if strings.Contains(u, "?") {
			t.Errorf("public URL %q carries a query; want a stable address", u)
		}
		status, got, hdr := httpGet(t, u)
		if status != http.StatusOK || !bytes.Equal(got, body) {
			t.Fatalf("GET %s = %d %q; want 200 with the object", u, status, got)
		}
		if ct := hdr.Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("GET %s Content-Type = %q, want image/jpeg", u, ct)
		}
		if cc := hdr.Get("Cache-Control"); cc != PhotoCacheControl {
			t.Errorf("GET %s Cache-Control = %q, want %q", u, cc, PhotoCacheControl)
		}
	})

	t.Run("PrivateURLNeedsSignature", func(t *testing.T) {
		s := newStore(t)
		body := []byte("%PDF-1.4 secret audit report %%EOF")
		mustPut(t, s, "private/certificates/9/audit.pdf", body, PutOptions{ContentType: "application/pdf"})
		u, err := s.URL(ctx, "private/certificates/9/audit.pdf", time.Minute)
		if err != nil {
			t.Fatalf("URL: %v", err)
		}
		if status, got, _ := httpGet(t, u); status != http.StatusOK || !bytes.Equal(got, body) {
			t.Errorf("GET signed URL = %d %q; want 200 with the document", status, got)
		}
		unsigned, _, _ := strings.Cut(u, "?")
		if status, got, _ := httpGet(t, unsigned); status != http.StatusForbidden {
			t.Errorf("GET unsigned %s = %d %q; want 403", unsigned, status, got)
		}
		tampered := strings.Replace(u, "audit.pdf", "audit2.pdf", 1)
		mustPut(t, s, "private/certificates/9/audit2.pdf", body, PutOptions{})
		if status, _, _ := httpGet(t, tampered); status != http.StatusForbidden {
			t.Errorf("GET with a signature for another key = %d; want 403", status)
		}
	})

	t.Run("ErrInvalidKey", func(t *testing.T) {
		s := newStore(t)
		for _, key := range []string{
			"", "/etc/passwd", "public/../private/x.pdf", "..", "public/..", `public\photo.jpg`,
			"public//x.jpg", "public/", "public/./x.jpg", "public/.hidden", "public/caf\u00e9.jpg",
			"public/a b.jpg", "public/x.jpg?y", strings.Repeat("a", MaxKeyLength+1),
		} {
			wantCode(t, s.Put(ctx, key, strings.NewReader("x"), 1, PutOptions{}), errs.Invalid)
			_, _, err := s.Get(ctx, key)
			wantCode(t, err, errs.Invalid)
			_, err = s.Stat(ctx, key)
			wantCode(t, err, errs.Invalid)
			wantCode(t, s.Delete(ctx, key), errs.Invalid)
			_, err = s.URL(ctx, key, time.Minute)
			wantCode(t, err, errs.Invalid)
		}
	})

	t.Run("ConcurrentPuts", func(t *testing.T) {
		s := newStore(t)
		const writers = 12
		var wg sync.WaitGroup
		errc := make(chan error, 4*writers)
		for i := 0; i < writers; i++ {
			wg.Add(2)
			go func() { // each writer its own key
				defer wg.Done()
				k := fmt.Sprintf("public/concurrent/own-%02d.bin", i)
				b := bytes.Repeat([]byte{byte('a' + i)}, 32<<10)
				errc <- s.Put(ctx, k, bytes.NewReader(b), int64(len(b)), PutOptions{ContentType: "application/octet-stream"})
			}()
			go func() { // and all of them on one shared key
				defer wg.Done()
				b := bytes.Repeat([]byte{byte('A' + i)}, 64<<10)
				errc <- s.Put(ctx, "public/concurrent/shared.bin", bytes.NewReader(b), int64(len(b)), PutOptions{ContentType: "application/octet-stream"})
			}()
		}
		// Readers meanwhile see a whole object or none, never a mix.
		done := make(chan struct{})
		var rwg sync.WaitGroup
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				rc, _, err := s.Get(ctx, "public/concurrent/shared.bin")
				if errs.Is(err, errs.NotFound) {
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					errc <- err
					return
				}
				if len(b) != 64<<10 || bytes.Count(b, b[:1]) != len(b) {
					errc <- fmt.Errorf("a reader saw a torn object of %d bytes", len(b))
					return
				}
			}
		}()
		wg.Wait()
		close(done)
		rwg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Error(err)
			}
		}
		for i := 0; i < writers; i++ {
			k := fmt.Sprintf("public/concurrent/own-%02d.bin", i)
			if b := mustGet(t, s, k); len(b) != 32<<10 || b[0] != byte('a'+i) {
				t.Errorf("%s holds %d bytes starting %q; want 32 KiB of %q", k, len(b), b[:min(1, len(b))], string(rune('a'+i)))
			}
		}
		b := mustGet(t, s, "public/concurrent/shared.bin")
		if len(b) != 64<<10 || bytes.Count(b, b[:1]) != len(b) {
			t.Errorf("the shared key holds a mix of writes (%d bytes)", len(b))
		}
	})

	t.Run("Ping", func(t *testing.T) {
		s := newStore(t)
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
	})

	t.Run("SweepOrphans", func(t *testing.T) {
		s := newStore(t)
		for _, k := range []string{"public/photos/aa/orphan.jpg", "public/photos/aa/kept.jpg", "private/elsewhere.pdf"} {
			mustPut(t, s, k, []byte(k), PutOptions{})
		}
		time.Sleep(1100 * time.Millisecond) // S3 times may have one-second resolution
		removed, err := SweepOrphans(ctx, s, "public/photos/", time.Second, func(_ context.Context, key string) (bool, error) {
			return key == "public/photos/aa/kept.jpg", nil
		})
		if err != nil || removed != 1 {
			t.Fatalf("SweepOrphans = %d, %v; want 1, nil", removed, err)
		}
		if got := listKeys(t, s, ""); !cmp.Equal(got, []string{"private/elsewhere.pdf", "public/photos/aa/kept.jpg"}) {
			t.Errorf("after the sweep the store holds %q", got)
		}
	})
}

// ignoreVolatile leaves out the fields whose values differ by backend.
var ignoreVolatile = cmp.FilterPath(func(p cmp.Path) bool {
	s := p.String()
	return s == "ETag" || s == "ModTime"
}, cmp.Ignore())

func mustPut(t *testing.T, s Store, key string, body []byte, opts PutOptions) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(body), int64(len(body)), opts); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s Store, key string) []byte {
	t.Helper()
	rc, _, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return b
}

func listKeys(t *testing.T, s Store, prefix string) []string {
	t.Helper()
	var keys []string
	if err := s.List(context.Background(), prefix, func(o Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	sort.Strings(keys)
	return keys
}

func wantCode(t *testing.T, err error, code errs.Code) {
	t.Helper()
	if got := errs.CodeOf(err); got != code {
		t.Errorf("error %v has code %q, want %q", err, got, code)
	}
}

func httpGet(t *testing.T, u string) (int, []byte, http.Header) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", u, err)
	}
	return resp.StatusCode, b, resp.Header
}

// newTestLocal returns a Local store in a temporary folder, served at
// /media/* by an HTTP server built only from Open and VerifySignedURL.
func newTestLocal(t *testing.T) *Local {
	t.Helper()
	var l *Local
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.URL.Path, "/media/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		if !IsPublic(key) {
			q := r.URL.Query()
			if err := l.VerifySignedURL(key, q.Get("exp"), q.Get("sig"), time.Now()); err != nil {
				http.Error(w, err.Error(), http.StatusForbidden)
				return
			}
		}
		f, obj, err := l.Open(key)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", obj.ContentType)
		if obj.CacheControl != "" {
			w.Header().Set("Cache-Control", obj.CacheControl)
		}
		w.Header().Set("ETag", `"`+obj.ETag+`"`)
		http.ServeContent(w, r, "", obj.ModTime, f)
	}))
	t.Cleanup(srv.Close)
	var err error
	l, err = NewLocal(t.TempDir(), srv.URL, []byte("test-signing-key-0123456789"))
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return l
}

// newTestMinIO returns a MinIO store on a fresh bucket of the test peer,
// emptied and removed when the test ends.
func newTestMinIO(t *testing.T) *MinIO {
	t.Helper()
	peer := testenv.MinIO(t)
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	bucket := "souk-test-" + hex.EncodeToString(rnd[:])
	ctx := context.Background()
	m, err := NewMinIO(ctx, MinIOOptions{
		Endpoint:  peer.Endpoint,
		AccessKey: peer.AccessKey,
		SecretKey: peer.SecretKey,
		Bucket:    bucket,
	})
	if err != nil {
		t.Fatalf("NewMinIO: %v", err)
	}
	t.Cleanup(func() { removeBucket(t, m.client, bucket) })
	if err := m.EnsureBucket(ctx); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return m
}

func removeBucket(t *testing.T, c *minio.Client, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ok, err := c.BucketExists(ctx, bucket)
	if err != nil {
		t.Errorf("cleanup: bucket %s: %v", bucket, err)
		return
	}
	if !ok {
		return
	}
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Errorf("cleanup: list %s: %v", bucket, o.Err)
			return
		}
		if err := c.RemoveObject(ctx, bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			t.Errorf("cleanup: remove %s/%s: %v", bucket, o.Key, err)
		}
	}
	if err := c.RemoveBucket(ctx, bucket); err != nil {
		t.Errorf("cleanup: remove bucket %s: %v", bucket, err)
	}
}
