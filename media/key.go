package media

import (
	"strings"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// MaxKeyLength is the longest key a Store accepts, in bytes (the S3 limit).
const MaxKeyLength = 1024

// DefaultURLExpiry is how long a signed URL stays valid when the caller
// passes a zero or negative expiry; MaxURLExpiry is the longest allowed
// (the S3 presigning limit), longer requests are capped to it.
const (
	DefaultURLExpiry = 15 * time.Minute
	MaxURLExpiry     = 7 * 24 * time.Hour
)

// ValidateKey checks that key is a well-formed object key and returns an
// errs.Invalid error saying what is wrong otherwise.
//
// A key is 1 to MaxKeyLength bytes of [A-Za-z0-9._/-], made of non-empty
// slash-separated segments, none of which starts with a dot: this rules out
// absolute paths, "." and ".." (path traversal), backslashes and empty
// segments on every backend, and leaves dot-names free for the local
// store's metadata and temporary files.
func ValidateKey(key string) error {
	if key == "" {
		return errs.E(errs.Invalid, "the media key is empty")
	}
	if len(key) > MaxKeyLength {
		return errs.E(errs.Invalid, "the media key is longer than %d bytes", MaxKeyLength)
	}
	if msg := checkPath(key, false); msg != "" {
		return errs.E(errs.Invalid, "invalid media key %q: %s", clip(key), msg)
	}
	return nil
}

// validatePrefix checks a List prefix: empty, or a key prefix that may end
// with a slash.
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if len(prefix) > MaxKeyLength {
		return errs.E(errs.Invalid, "the media prefix is longer than %d bytes", MaxKeyLength)
	}
	if msg := checkPath(prefix, true); msg != "" {
		return errs.E(errs.Invalid, "invalid media prefix %q: %s", clip(prefix), msg)
	}
	return nil
}

// checkPath returns why p is not an acceptable key (or prefix, when
// trailingSlash allows one final slash), or "" when it is.
func checkPath(p string, trailingSlash bool) string {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-', c == '/':
		case c == '\\':
			return "backslashes are not allowed"
		default:
			return "only letters, digits, '.', '_', '-' and '/' are allowed"
		}
	}
	if p[0] == '/' {
		return "it must not start with '/'"
	}
	if strings.Contains(p, "..") {
		return "'..' is not allowed"
	}
	if trailingSlash {
		p = strings.TrimSuffix(p, "/")
		if p == "" {
			return "it must not be only '/'"
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" {
			return "empty path segments are not allowed"
		}
		if seg[0] == '.' {
			return "path segments must not start with '.'"
		}
	}
	return ""
}

// clip shortens a hostile key before it goes into an error message.
func clip(s string) string {
	const max = 80
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}

// urlExpiry applies the default and the cap to a requested URL lifetime.
func urlExpiry(d time.Duration) time.Duration {
	switch {
	case d <= 0:
		return DefaultURLExpiry
	case d > MaxURLExpiry:
		return MaxURLExpiry
	}
	return d
}
