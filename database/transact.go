package database

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/errs"
)

// MaxAttempts bounds how often Transact runs a transaction that keeps
// meeting deadlocks or a busy database.
const MaxAttempts = 6

// Transact runs fn in a transaction and commits it, retrying the whole
// transaction with jittered back-off when it fails on a deadlock, a lock
// wait timeout or a busy SQLite file (IsRetryable). fn must therefore be
// safe to run again: it must derive everything from the database, not from
// state kept between attempts. The error returned is translated.
func (db *DB) Transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		err = db.WithContext(ctx).Transaction(fn)
		if err == nil || !IsRetryable(err) {
			return Translate(err)
		}
		if ctx.Err() != nil {
			break
		}
		// 5, 10, 20, 40 ms … plus up to as much again at random.
		backoff := time.Duration(5<<(attempt-1)) * time.Millisecond
		backoff += time.Duration(rand.Int64N(int64(backoff)))
		select {
		case <-ctx.Done():
			return Translate(ctx.Err())
		case <-time.After(backoff):
		}
	}
	// Still conflicting: a clean 409 the client may retry, never a 500.
	return errs.Wrap(errs.Conflict, fmt.Errorf("after %d attempts: %w", MaxAttempts, err),
		"the resource is busy with concurrent changes; try again").WithRetryAfter(time.Second)
}
