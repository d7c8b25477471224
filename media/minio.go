package media

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/souk-tiznit/souk/errs"
)

// UnavailableRetryAfter is the Retry-After hint on errs.Unavailable errors
// from the stores.
const UnavailableRetryAfter = 5 * time.Second

// minioBounds bound every call to MinIO. The transport bounds connecting
// and waiting for response headers; each call also runs under a deadline,
// so nothing waits forever on a peer that accepts and then stalls.
type minioBounds struct {
	dial     time.Duration // TCP connect and TLS handshake
	header   time.Duration // from request sent to response headers
	call     time.Duration // a metadata call: stat, delete, bucket setup
	transfer time.Duration // an upload, or a download read to its end
	backoff  time.Duration // after a failed lazy EnsureBucket, fail fast this long
	retries  int           // attempts per request, minio-go's MaxRetries
}

var defaultMinIOBounds = minioBounds{
	dial:     5 * time.Second,
	header:   15 * time.Second,
	call:     30 * time.Second,
	transfer: 5 * time.Minute,
	backoff:  2 * time.Second,
	retries:  3,
}

// MinIOOptions configure a MinIO (or any S3) store.
type MinIOOptions struct {
	Endpoint  string // host:port, without scheme
	AccessKey string
	SecretKey string
	Bucket    string
	UseTLS    bool
	// Region defaults to "us-east-1", MinIO's default. Setting it keeps
	// presigning free of network calls.
	Region string
	// PublicBaseURL, when set, is the origin public objects are served
	// from (a CDN or a proxy in front of the bucket): public URLs become
	// PublicBaseURL+"/"+key. Otherwise they point at the bucket itself.
	PublicBaseURL string
}

// MinIO is a Store kept in a bucket of a MinIO or S3 server. Objects under
// PublicPrefix are readable anonymously through the bucket policy that
// EnsureBucket sets; everything else needs a presigned URL.
//
// Until EnsureBucket has succeeded (the server may be down at start), the
// first call that reaches the server, or Ping, prepares the bucket.
type MinIO struct {
	client     *minio.Client
	bucket     string
	region     string
	publicBase string // without trailing slash
	directBase string // scheme://endpoint/bucket

	ready    atomic.Bool
	ensureMu sync.Mutex
	lastFail time.Time // guarded by ensureMu
	lastErr  error     // guarded by ensureMu
	bounds   minioBounds
}

var _ Store = (*MinIO)(nil)

// NewMinIO makes a MinIO store. It makes no network call, so the server
// starts while MinIO is down; it fails only on invalid options. Call
// EnsureBucket at start (and log its error): if it fails, the store
// prepares the bucket on first use and in Ping.
func NewMinIO(ctx context.Context, opts MinIOOptions) (*MinIO, error) {
	return newMinIO(ctx, opts, defaultMinIOBounds)
}

func newMinIO(_ context.Context, opts MinIOOptions, bounds minioBounds) (*MinIO, error) {
	if opts.Endpoint == "" {
		return nil, errors.New("media: MinIO endpoint is not set")
	}
	if strings.Contains(opts.Endpoint, "://") {
		return nil, fmt.Errorf("media: MinIO endpoint %q must be host:port without a scheme (use UseTLS)", opts.Endpoint)
	}
	if err := s3utils.CheckValidBucketNameStrict(opts.Bucket); err != nil {
		return nil, fmt.Errorf("media: MinIO bucket %q: %w", opts.Bucket, err)
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	tr, err := minio.DefaultTransport(opts.UseTLS)
	if err != nil {
		return nil, fmt.Errorf("media: MinIO transport: %w", err)
	}
	tr.DialContext = (&net.Dialer{Timeout: bounds.dial, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = bounds.dial
	tr.ResponseHeaderTimeout = bounds.header
	tr.ExpectContinueTimeout = time.Second
	tr.MaxIdleConnsPerHost = 64

	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:      credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""),
		Secure:     opts.UseTLS,
		Transport:  tr,
		Region:     opts.Region,
		MaxRetries: bounds.retries,
	})
	if err != nil {
		return nil, fmt.Errorf("media: MinIO client for %s: %w", opts.Endpoint, err)
	}
	scheme := "http"
	if opts.UseTLS {
		scheme = "https"
	}
	m := &MinIO{
		client:     client,
		bucket:     opts.Bucket,
		region:     opts.Region,
		publicBase: strings.TrimRight(opts.PublicBaseURL, "/"),
		directBase: scheme + "://" + opts.Endpoint + "/" + opts.Bucket,
		bounds:     bounds,
	}
	return m, nil
}

// Bucket returns the bucket's name.
func (m *MinIO) Bucket() string { return m.bucket }

// publicReadPolicy lets anyone read objects under PublicPrefix and nothing
// else: no listing, no private documents.
func (m *MinIO) publicReadPolicy() string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"SoukPublicRead","Effect":"Allow",` +
		`"Principal":{"AWS":["*"]},"Action":["s3:GetObject"],` +
		`"Resource":["arn:aws:s3:::` + m.bucket + `/` + PublicPrefix + `*"]}]}`
}

// EnsureBucket creates the bucket when it is missing and (re)sets its
// policy: anonymous s3:GetObject on public/* only. It is idempotent and safe
// to run from every instance at once. It returns errs.Unavailable when the
// server cannot be reached.
//
// When the server refuses the policy (credentials without
// s3:PutBucketPolicy, or S3's Block Public Access with a CDN in front
// serving PublicBaseURL), the store is still usable and EnsureBucket
// returns the refusal for the caller to log: public URLs then work only if
// the bucket's owner grants public reads some other way.
func (m *MinIO) EnsureBucket(ctx context.Context) error {
	m.ensureMu.Lock()
	defer m.ensureMu.Unlock()
	err := m.ensureLocked(ctx)
	if err != nil {
		m.noteEnsureFailureLocked(err)
	}
	return err
}

func (m *MinIO) ensureLocked(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.bounds.call)
	defer cancel()
	exists, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return m.translate(err, "check bucket %s", m.bucket)
	}
	if !exists {
		err := m.client.MakeBucket(ctx, m.bucket, minio.MakeBucketOptions{Region: m.region})
		if code := errCode(err); err != nil && code != minio.BucketAlreadyOwnedByYou && code != minio.BucketAlreadyExists {
			return m.translate(err, "create bucket %s", m.bucket)
		}
	}
	perr := m.client.SetBucketPolicy(ctx, m.bucket, m.publicReadPolicy())
	if perr != nil {
		perr = m.translate(perr, "set public-read policy of bucket %s", m.bucket)
		if errs.Is(perr, errs.Unavailable) {
			return perr
		}
	}
	m.ready.Store(true) // the bucket exists: objects can be stored
	m.lastFail, m.lastErr = time.Time{}, nil
	return perr
}

// noteEnsureFailureLocked remembers a failure to reach the server, so that
// calls in the next moments fail fast; a failure of the caller's own (a
// cancelled context) says nothing about the server and is not remembered.
func (m *MinIO) noteEnsureFailureLocked(err error) {
	if errs.Is(err, errs.Unavailable) {
		m.lastFail, m.lastErr = time.Now(), err
	}
}

// prepare runs EnsureBucket once the store is in use, unless the bucket is
// known to be ready. After a failure it fails fast for a short while, so
// that a down server does not make every request queue for its own attempt.
func (m *MinIO) prepare(ctx context.Context) error {
	if m.ready.Load() {
		return nil
	}
	m.ensureMu.Lock()
	defer m.ensureMu.Unlock()
	if m.ready.Load() {
		return nil
	}
	if m.lastErr != nil && time.Since(m.lastFail) < m.bounds.backoff {
		return m.lastErr
	}
	if err := m.ensureLocked(ctx); err != nil && !m.ready.Load() {
		m.noteEnsureFailureLocked(err)
		return err
	}
	return nil
}

// Put uploads the object. A size of -1 means unknown (the client then
// buffers in parts); otherwise the reader must yield exactly size bytes.
func (m *MinIO) Put(ctx context.Context, key string, r io.Reader, size int64, opts PutOptions) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := m.prepare(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.bounds.transfer)
	defer cancel()
	cr := &countingReader{r: r}
	_, err := m.client.PutObject(ctx, m.bucket, key, cr, size, minio.PutObjectOptions{
		ContentType:  opts.ContentType,
		CacheControl: opts.CacheControl,
	})
	if err != nil {
		if size >= 0 && cr.eof && cr.n < size {
			return errs.Wrap(errs.Invalid, err, "media object %q: expected %d bytes, got %d", key, size, cr.n)
		}
		return m.translate(err, "put %s", key)
	}
	return nil
}

// Get opens the object for reading; the caller closes it. Reading the body
// is bounded by ctx and by a transfer deadline (five minutes).
func (m *MinIO) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	if err := ValidateKey(key); err != nil {
		return nil, Object{}, err
	}
	if err := m.prepare(ctx); err != nil {
		return nil, Object{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, m.bounds.transfer)
	// Core.GetObject sends one request and hands back its body. The
	// higher-level Client.GetObject sends a HEAD and then a GET with
	// If-Match, which fails when the key is overwritten in between.
	body, info, _, err := minio.Core{Client: m.client}.GetObject(ctx, m.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		cancel()
		return nil, Object{}, m.translate(err, "get %s", key)
	}
	return &minioBody{ReadCloser: body, cancel: cancel}, objectFromInfo(key, info), nil
}

// minioBody releases the call's deadline when the reader is closed.
type minioBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *minioBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// Stat describes the object; errs.NotFound when it is missing.
func (m *MinIO) Stat(ctx context.Context, key string) (Object, error) {
	if err := ValidateKey(key); err != nil {
		return Object{}, err
	}
	if err := m.prepare(ctx); err != nil {
		return Object{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, m.bounds.call)
	defer cancel()
	info, err := m.client.StatObject(ctx, m.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Object{}, m.translate(err, "stat %s", key)
	}
	return objectFromInfo(key, info), nil
}

func objectFromInfo(key string, info minio.ObjectInfo) Object {
	return Object{
		Key:          key,
		Size:         info.Size,
		ContentType:  info.ContentType,
		CacheControl: info.Metadata.Get("Cache-Control"),
		ETag:         info.ETag,
		ModTime:      info.LastModified.UTC(),
	}
}

// Delete removes the object; a missing key is not an error.
func (m *MinIO) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := m.prepare(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.bounds.call)
	defer cancel()
	err := m.client.RemoveObject(ctx, m.bucket, key, minio.RemoveObjectOptions{})
	if err != nil && errCode(err) != minio.NoSuchKey {
		return m.translate(err, "delete %s", key)
	}
	return nil
}

// List calls fn for each object under prefix, in key order, with Key,
// Size, ETag and ModTime set. Each page request is bounded by the
// transport's timeouts; the whole walk by ctx. An error from fn stops the
// walk and is returned as is.
func (m *MinIO) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if err := validatePrefix(prefix); err != nil {
		return err
	}
	if err := m.prepare(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops the listing goroutine when fn bails out
	for info := range m.client.ListObjects(ctx, m.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if info.Err != nil {
			return m.translate(info.Err, "list %s", prefix)
		}
		if err := fn(Object{Key: info.Key, Size: info.Size, ETag: info.ETag, ModTime: info.LastModified.UTC()}); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("list %s: %w", prefix, err)
	}
	return nil
}

// URL returns PublicBaseURL+"/"+key (or the bucket's own address) for a
// public key and a presigned GET URL valid for expiry (DefaultURLExpiry
// when zero, at most MaxURLExpiry) for a private one. It makes no network
// call and does not check that the object exists.
func (m *MinIO) URL(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if err := ValidateKey(key); err != nil {
		return "", err
	}
	if IsPublic(key) {
		if m.publicBase != "" {
			return m.publicBase + "/" + key, nil
		}
		return m.directBase + "/" + key, nil
	}
	u, err := m.client.PresignedGetObject(ctx, m.bucket, key, urlExpiry(expiry), nil)
	if err != nil {
		return "", m.translate(err, "presign %s", key)
	}
	return u.String(), nil
}

// Ping prepares the bucket if that is still to do and checks that it
// exists; errs.Unavailable when the server cannot be reached.
func (m *MinIO) Ping(ctx context.Context) error {
	if err := m.prepare(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.bounds.dial+m.bounds.header)
	defer cancel()
	ok, err := m.client.BucketExists(ctx, m.bucket)
	if err != nil {
		return m.translate(err, "ping bucket %s", m.bucket)
	}
	if !ok {
		m.ready.Store(false)
		return errs.E(errs.Unavailable, "the media bucket is missing").WithRetryAfter(UnavailableRetryAfter)
	}
	return nil
}

func errCode(err error) string {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		return resp.Code
	}
	return ""
}

// translate turns a minio-go error into a project error: a missing object
// is errs.NotFound; an unreachable, slow or overloaded server is
// errs.Unavailable with a retry hint; anything else (bad credentials, a
// refused policy) stays an internal error that keeps its cause for logs.
func (m *MinIO) translate(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	var resp minio.ErrorResponse
	if errors.As(err, &resp) {
		switch {
		case resp.Code == minio.NoSuchKey || resp.Code == "NoSuchObject":
			return errs.Wrap(errs.NotFound, fmt.Errorf("%s: %w", what, err), "the file was not found")
		case resp.Code == minio.NoSuchBucket:
			m.ready.Store(false) // deleted under us: prepare it again next time
			return unavailable(fmt.Errorf("%s: %w", what, err))
		case resp.StatusCode == http.StatusNotFound && resp.Code == "":
			return errs.Wrap(errs.NotFound, fmt.Errorf("%s: %w", what, err), "the file was not found")
		case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests,
			resp.Code == "SlowDown", resp.Code == "RequestTimeout", resp.Code == "XMinioServerNotInitialized":
			return unavailable(fmt.Errorf("%s: %w", what, err))
		}
		return fmt.Errorf("%s: %w", what, err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", what, err) // the caller went away
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, io.ErrUnexpectedEOF):
		return unavailable(fmt.Errorf("%s: %w", what, err))
	}
	return fmt.Errorf("%s: %w", what, err)
}

func unavailable(cause error) error {
	return errs.Wrap(errs.Unavailable, cause, "media storage is unavailable; try again shortly").WithRetryAfter(UnavailableRetryAfter)
}

// countingReader notes how much an upload read and whether it hit EOF, to
// tell a short body (the caller's fault) from a failed transfer.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err == io.EOF {
		c.eof = true
	}
	return n, err
}
