package media

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// MinSigningKeyLength is the shortest signing key NewLocal accepts.
const MinSigningKeyLength = 16

// Names starting with a dot never collide with keys (ValidateKey forbids
// them), so the local store keeps its own files under such names.
const (
	localMetaPrefix = "."
	localMetaSuffix = ".meta.json"
	localTempPrefix = ".tmp-"
)

// Local is a Store kept in a folder on the local disk: the embedded default
// for development and single-machine demos. Each object is a file at its
// key; its content type and cache control sit in a hidden JSON sidecar
// (".<name>.meta.json") beside it. Writes go to a temporary file that is
// renamed into place, so a reader sees either the old or the new object,
// never half of one.
//
// Public keys are served at baseURL+"/media/"+key by the HTTP layer (using
// Open); private keys only through URLs signed with the store's key and
// checked by VerifySignedURL.
type Local struct {
	root    string
	baseURL string
	key     []byte
	now     func() time.Time
}

var _ Store = (*Local)(nil)

// localMeta is the sidecar's content.
type localMeta struct {
	ContentType  string `json:"content_type,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
}

// NewLocal opens (creating it if needed) a folder store in dir. baseURL is
// the site's origin such as "https://souk.ma" (or "" for site-relative
// URLs); signingKey signs private URLs and must hold at least
// MinSigningKeyLength bytes.
func NewLocal(dir string, baseURL string, signingKey []byte) (*Local, error) {
	if dir == "" {
		return nil, errors.New("media: local store folder is not set")
	}
	if len(signingKey) < MinSigningKeyLength {
		return nil, fmt.Errorf("media: local store signing key must be at least %d bytes, got %d", MinSigningKeyLength, len(signingKey))
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("media: resolve local store folder %q: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("media: create local store folder %q: %w", abs, err)
	}
	return &Local{
		root:    abs,
		baseURL: strings.TrimRight(baseURL, "/"),
		key:     append([]byte(nil), signingKey...),
		now:     time.Now,
	}, nil
}

// Dir returns the absolute path of the store's folder.
func (l *Local) Dir() string { return l.root }

func (l *Local) path(key string) string { return filepath.Join(l.root, filepath.FromSlash(key)) }

func metaPath(objPath string) string {
	return filepath.Join(filepath.Dir(objPath), localMetaPrefix+filepath.Base(objPath)+localMetaSuffix)
}

// Put writes the object atomically. A size of -1 means unknown; otherwise
// the reader must yield exactly size bytes (errs.Invalid if not). It returns
// errs.Conflict when key would need a folder where an object lies, or the
// other way round ("a/b" beside "a/b/c").
func (l *Local) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) (err error) {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	p := l.path(key)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			return errs.Wrap(errs.Conflict, err, "media key %q lies under an existing object", key)
		}
		return fmt.Errorf("put %s: create folder: %w", key, err)
	}
	if fi, err := os.Lstat(p); err == nil && fi.IsDir() {
		return errs.E(errs.Conflict, "media key %q is a folder of other objects", key)
	}

	tmp, err := os.CreateTemp(dir, localTempPrefix+"*")
	if err != nil {
		return fmt.Errorf("put %s: create temporary file: %w", key, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	src := r
	if size >= 0 {
		src = io.LimitReader(r, size+1) // one byte more tells a too-long reader
	}
	n, err := io.Copy(tmp, ctxReader{ctx, src})
	if err != nil {
		return fmt.Errorf("put %s: write: %w", key, err)
	}
	if size >= 0 && n != size {
		return errs.E(errs.Invalid, "media object %q: expected %d bytes, got %s", key, size, countDesc(n, size))
	}
	if err := tmp.Chmod(0o640); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("put %s: sync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("put %s: close: %w", key, err)
	}

	// The sidecar goes first: an object never exists without its metadata.
	// Two writers racing on one key with different metadata may leave one's
	// bytes with the other's metadata; photo keys are content-addressed, so
	// racing writers of one key write the same thing.
	if err := l.writeMeta(p, localMeta(opts)); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		if errors.Is(err, syscall.EISDIR) || errors.Is(err, syscall.EEXIST) || errors.Is(err, syscall.ENOTEMPTY) {
			return errs.Wrap(errs.Conflict, err, "media key %q is a folder of other objects", key)
		}
		return fmt.Errorf("put %s: rename into place: %w", key, err)
	}
	syncDir(dir)
	return nil
}

func countDesc(n, size int64) string {
	if n > size {
		return "more"
	}
	return strconv.FormatInt(n, 10)
}

func (l *Local) writeMeta(objPath string, m localMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metadata: %w", err)
	}
	dir := filepath.Dir(objPath)
	tmp, err := os.CreateTemp(dir, localTempPrefix+"*")
	if err != nil {
		return fmt.Errorf("create metadata file: %w", err)
	}
	_, werr := tmp.Write(b)
	if werr == nil {
		werr = tmp.Chmod(0o640)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	cerr := tmp.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), metaPath(objPath))
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write metadata: %w", werr)
	}
	return nil
}

func (l *Local) readMeta(objPath string) localMeta {
	var m localMeta
	b, err := os.ReadFile(metaPath(objPath))
	if err == nil {
		_ = json.Unmarshal(b, &m) // a damaged sidecar falls back to defaults
	}
	if m.ContentType == "" {
		m.ContentType = "application/octet-stream"
	}
	return m
}

// syncDir makes a rename durable; failures are harmless (the rename itself
// succeeded) and some filesystems refuse to sync folders.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Open opens the object for reading, for the HTTP layer serving /media/*:
// the file is seekable (ranges, http.ServeContent) and the caller closes
// it. It returns errs.Invalid for a malformed key and errs.NotFound for a
// missing one. It does not check access: serve private keys only after
// VerifySignedURL.
func (l *Local) Open(key string) (*os.File, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	p := l.path(key)
	f, err := os.Open(p)
	if err != nil {
		return nil, Object{}, l.fsError(err, key)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, Object{}, notFound(key)
	}
	return f, l.object(key, p, fi), nil
}

// Get opens the object; see Open.
func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", key, err)
	}
	f, obj, err := l.Open(key)
	if err != nil {
		return nil, Object{}, err
	}
	return f, obj, nil
}

// Stat describes the object; errs.NotFound when it is missing.
func (l *Local) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	if err := ctx.Err(); err != nil {
		return Object{}, fmt.Errorf("stat %s: %w", key, err)
	}
	p := l.path(key)
	fi, err := os.Stat(p)
	if err != nil {
		return Object{}, l.fsError(err, key)
	}
	if !fi.Mode().IsRegular() {
		return Object{}, notFound(key)
	}
	return l.object(key, p, fi), nil
}

func (l *Local) object(key, p string, fi fs.FileInfo) Object {
	m := l.readMeta(p)
	return Object{
		Key:          key,
		Size:         fi.Size(),
		ContentType:  m.ContentType,
		CacheControl: m.CacheControl,
		ETag:         localETag(fi),
		ModTime:      fi.ModTime().UTC(),
	}
}

// localETag is derived from the file itself, so it always matches the
// bytes a reader gets even when a sidecar lags behind.
func localETag(fi fs.FileInfo) string {
	return strconv.FormatInt(fi.Size(), 16) + "-" + strconv.FormatInt(fi.ModTime().UnixNano(), 16)
}

// Delete removes the object and its metadata; a missing key is not an error.
func (l *Local) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	p := l.path(key)
	fi, err := os.Lstat(p)
	if err != nil {
		if isMissing(err) {
			return nil
		}
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if fi.IsDir() {
		return nil // a folder of other objects, not an object
	}
	if err := os.Remove(p); err != nil && !isMissing(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if err := os.Remove(metaPath(p)); err != nil && !isMissing(err) {
		return fmt.Errorf("delete %s: remove metadata: %w", key, err)
	}
	return nil
}

// List calls fn for each object under prefix, folder by folder in name
// order. Objects carry Key, Size, ETag and ModTime (like an S3 listing, no
// content type). An error from fn stops the walk and is returned as is.
func (l *Local) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	// Walk from the deepest folder the prefix names; the last, partial
	// segment is matched by string prefix like S3 does.
	start := l.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = l.path(prefix[:i])
	}
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if isMissing(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == start {
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if isMissing(err) {
				return nil // deleted while we walked
			}
			return err
		}
		return fn(Object{Key: key, Size: fi.Size(), ETag: localETag(fi), ModTime: fi.ModTime().UTC()})
	})
	if err != nil {
		return err
	}
	return nil
}

// URL returns baseURL+"/media/"+key for public keys and, for private ones,
// the same address with "?exp=<unix seconds>&sig=<hex HMAC-SHA256>" valid
// for expiry (DefaultURLExpiry when zero, at most MaxURLExpiry). It does not
// check that the object exists.
func (l *Local) URL(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	u := l.baseURL + "/media/" + key // ValidateKey leaves nothing to escape
	if IsPublic(key) {
		return u, nil
	}
	exp := strconv.FormatInt(l.now().Add(urlExpiry(expiry)).Unix(), 10)
	return u + "?exp=" + exp + "&sig=" + l.sign(key, exp), nil
}

func (l *Local) sign(key, exp string) string {
	m := hmac.New(sha256.New, l.key)
	io.WriteString(m, "souk-media-v1\n")
	io.WriteString(m, key)
	io.WriteString(m, "\n")
	io.WriteString(m, exp)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifySignedURL checks the exp and sig query values of a private URL
// made by URL for key, at time now. It returns errs.Invalid for a malformed
// key and errs.Forbidden when the signature is missing, malformed or wrong,
// or the link has expired.
func (l *Local) VerifySignedURL(key string, exp, sig string, now time.Time) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if exp == "" || sig == "" {
		return errs.E(errs.Forbidden, "this file needs a signed link")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return errs.E(errs.Forbidden, "the link's signature is malformed")
	}
	want, _ := hex.DecodeString(l.sign(key, exp))
	if !hmac.Equal(got, want) {
		return errs.E(errs.Forbidden, "the link's signature is not valid")
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return errs.E(errs.Forbidden, "the link's expiry is malformed")
	}
	if !now.Before(time.Unix(unix, 0)) {
		return errs.E(errs.Forbidden, "the link has expired")
	}
	return nil
}

// Ping checks that the folder is writable; errs.Unavailable if not.
func (l *Local) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping local media store: %w", err)
	}
	f, err := os.CreateTemp(l.root, ".ping-*")
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "the media folder is not writable")
	}
	_, werr := f.Write([]byte{'.'})
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	if err := errors.Join(werr, cerr, rerr); err != nil {
		return errs.Wrap(errs.Unavailable, err, "the media folder is not writable")
	}
	return nil
}

func (l *Local) fsError(err error, key string) error {
	if isMissing(err) {
		return errs.Wrap(errs.NotFound, err, "media object %q not found", key)
	}
	return fmt.Errorf("media object %s: %w", key, err)
}

func notFound(key string) error { return errs.E(errs.NotFound, "media object %q not found", key) }

// isMissing reports a path that does not exist, including one that runs
// through a file ("a/b/c" where "a/b" is an object).
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
