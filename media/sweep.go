package media

import (
	"context"
	"fmt"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

// SweepOrphans deletes the objects under prefix that are older than
// olderThan and that no database row references (isReferenced says), and
// returns how many it deleted.
//
// An upload writes its objects first and its database row second, so a
// failed upload leaves objects no row points at; the grace period
// (olderThan, longer than any upload takes) keeps the sweep off uploads
// still in flight. Deletes are idempotent, so every instance may sweep at
// the same time. Just before deleting, the object's age is checked again:
// a photo uploaded anew with identical content (same content-addressed key)
// has been rewritten and is spared.
//
// It stops at the first error of isReferenced, the store or ctx, returning
// the count so far with the error.
func SweepOrphans(ctx context.Context, store Store, prefix string, olderThan time.Duration, isReferenced func(ctx context.Context, key string) (bool, error)) (removed int, err error) {
	if olderThan <= 0 {
		return 0, errs.E(errs.Invalid, "the sweep grace period must be positive, got %s", olderThan)
	}
	if err := validatePrefix(prefix); err != nil {
		return 0, err
	}
	cutoff := time.Now().Add(-olderThan)
	err = store.List(ctx, prefix, func(o Object) error {
		if !o.ModTime.Before(cutoff) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		ref, err := isReferenced(ctx, o.Key)
		if err != nil {
			return fmt.Errorf("check references to %s: %w", o.Key, err)
		}
		if ref {
			return nil
		}
		now, err := store.Stat(ctx, o.Key)
		if errs.Is(err, errs.NotFound) {
			return nil // another instance got there first
		}
		if err != nil {
			return fmt.Errorf("recheck %s: %w", o.Key, err)
		}
		if !now.ModTime.Before(cutoff) {
			return nil // rewritten since it was listed: an upload in flight
		}
		if err := store.Delete(ctx, o.Key); err != nil {
			return fmt.Errorf("delete orphan %s: %w", o.Key, err)
		}
		removed++
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("sweep orphans under %q: %w", prefix, err)
	}
	return removed, nil
}
