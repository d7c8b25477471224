// Package media owns stored files: product photos and their variants,
// certificate documents, logos. It offers one Store interface with two
// implementations (a MinIO/S3 bucket and a local folder) and the image and
// document pipeline that makes uploads safe before anything is public.
package media

import (
	"context"
	"io"
	"strings"
	"time"
)

// Keys are slash-separated paths. Objects under PublicPrefix may be served
// to anyone (photo variants, logos); everything else is private and only
// reachable through a short-lived signed URL or an authorised proxy.
const (
	PublicPrefix  = "public/"
	PrivatePrefix = "private/"
)

// IsPublic reports whether key lies in the public area.
func IsPublic(key string) bool { return strings.HasPrefix(key, PublicPrefix) }

// Object describes one stored object.
type Object struct {
	Key          string
	Size         int64
	ContentType  string
	CacheControl string
	ETag         string
	ModTime      time.Time
}

// PutOptions are the metadata stored with an object.
type PutOptions struct {
	ContentType  string
	CacheControl string
}

// Store keeps objects by key. Implementations return errs.NotFound for a
// missing key, errs.Invalid for a malformed key (path traversal, empty) and
// errs.Unavailable when the backing service cannot be reached.
type Store interface {
	// Put writes size bytes from r under key, replacing any object there.
	Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error
	// Get opens the object; the caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, Object, error)
	// Stat describes the object without reading it.
	Stat(ctx context.Context, key string) (Object, error)
	// Delete removes the object; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List calls fn for every object whose key starts with prefix.
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// URL returns an address a browser can fetch: a stable public URL for
	// public keys, a signed URL valid for expiry for private ones.
	URL(ctx context.Context, key string, expiry time.Duration) (string, error)
	// Ping checks that the store is reachable (for /readyz).
	Ping(ctx context.Context) error
}
