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
//
// On a multi-writer Galera cluster a transaction can be aborted while it
// runs by a conflicting write set certified on another node (a
// brute-force abort). A statement caught in the abort can answer as if
// the transaction's own rows were gone (not found, sold out) before the
// deadlock is reported; so when fn fails on MySQL, Transact asks the
// transaction whether it is still alive, and retries when it was aborted.
func (db *DB) Transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	var err error
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			ferr := fn(tx)
			if ferr != nil && db.Dialect == MySQL && !IsRetryable(ferr) {
				if perr := abortedUnder(tx); perr != nil {
					return fmt.Errorf("%w (aborted under an error: %v)", perr, ferr)
				}
			}
			return ferr
		})
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

// abortedUnder returns the deadlock error (1213) of a transaction that
// was aborted under its caller (Galera's brute-force abort), or nil.
func abortedUnder(tx *gorm.DB) error {
	var one int
	if err := tx.Raw("SELECT 1").Scan(&one).Error; IsRetryable(err) {
		return err
	}
	return nil
}
