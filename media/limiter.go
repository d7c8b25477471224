package media

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/souk-tiznit/souk/errs"
)

// Defaults for the process-wide photo limiter.
const (
	// DefaultPhotoMemoryBudget bounds the memory that concurrent photo
	// decodes and resizes may hold at once: a 12 MP photo costs about
	// 260 MiB on its way through ProcessPhoto, so 1 GiB lets about four
	// run together and queues the rest.
	DefaultPhotoMemoryBudget = 1 << 30
	// DefaultLimiterWait is how long a photo waits for room before the
	// request is turned away with errs.Unavailable.
	DefaultLimiterWait = 3 * time.Second
	// LimiterRetryAfter is the Retry-After hint of a saturated limiter.
	LimiterRetryAfter = 10 * time.Second
)

// Limiter bounds the CPU and memory that photo processing takes: a slot per
// CPU and a budget of bytes, each job reserving an estimate of its peak
// memory. A job that cannot get both within the limiter's wait is refused
// with errs.Unavailable and a retry hint, which the HTTP layer turns into
// 503 with Retry-After — better than queueing without end or running out of
// memory under a burst of uploads. Share one per process.
type Limiter struct {
	slots  *semaphore.Weighted
	memory *semaphore.Weighted
	budget int64
	wait   time.Duration
}

// NewLimiter returns a limiter that runs at most workers jobs at once
// (runtime.NumCPU() when workers < 1) within memoryBudget bytes
// (DefaultPhotoMemoryBudget when < 1), each job waiting at most wait
// (DefaultLimiterWait when < 0; 0 means do not wait at all).
func NewLimiter(workers int, memoryBudget int64, wait time.Duration) *Limiter {
	if workers < 1 {
		workers = runtime.NumCPU()
	}
	if memoryBudget < 1 {
		memoryBudget = DefaultPhotoMemoryBudget
	}
	if wait < 0 {
		wait = DefaultLimiterWait
	}
	return &Limiter{
		slots:  semaphore.NewWeighted(int64(workers)),
		memory: semaphore.NewWeighted(memoryBudget),
		budget: memoryBudget,
		wait:   wait,
	}
}

var (
	defaultLimiterOnce sync.Once
	defaultLimiter     *Limiter
)

// DefaultLimiter returns the process-wide limiter: one slot per CPU,
// DefaultPhotoMemoryBudget bytes, DefaultLimiterWait.
func DefaultLimiter() *Limiter {
	defaultLimiterOnce.Do(func() { defaultLimiter = NewLimiter(0, 0, -1) })
	return defaultLimiter
}

// Acquire reserves a slot and memBytes of the budget (a job larger than the
// whole budget reserves all of it and so runs alone). It waits at most the
// limiter's wait, and returns errs.Unavailable with RetryAfter when the
// limiter stays saturated, or ctx's error when ctx ends first. Call release
// exactly once when done.
func (l *Limiter) Acquire(ctx context.Context, memBytes int64) (release func(), err error) {
	if memBytes < 1 {
		memBytes = 1
	}
	if memBytes > l.budget {
		memBytes = l.budget
	}
	if l.wait == 0 {
		if !l.slots.TryAcquire(1) {
			return nil, l.saturated(nil)
		}
		if !l.memory.TryAcquire(memBytes) {
			l.slots.Release(1)
			return nil, l.saturated(nil)
		}
		return l.releaser(memBytes), nil
	}
	wctx, cancel := context.WithTimeout(ctx, l.wait)
	defer cancel()
	if err := l.slots.Acquire(wctx, 1); err != nil {
		return nil, l.waitError(ctx, err)
	}
	if err := l.memory.Acquire(wctx, memBytes); err != nil {
		l.slots.Release(1)
		return nil, l.waitError(ctx, err)
	}
	return l.releaser(memBytes), nil
}

func (l *Limiter) releaser(memBytes int64) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			l.memory.Release(memBytes)
			l.slots.Release(1)
		})
	}
}

func (l *Limiter) waitError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("wait for photo processing: %w", ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return l.saturated(err)
	}
	return fmt.Errorf("wait for photo processing: %w", err)
}

func (l *Limiter) saturated(cause error) error {
	return errs.Wrap(errs.Unavailable, cause, "the server is busy processing other photos; try again shortly").
		WithRetryAfter(LimiterRetryAfter)
}
