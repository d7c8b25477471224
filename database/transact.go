package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/errs"
)

// MaxAttempts bounds how often Transact runs a transaction that keeps
// meeting deadlocks or a busy database.
const MaxAttempts = 6

// ErrTransactionLost is the error of an attempt whose transaction the
// server rolled back without saying so (a Galera brute-force abort it did
// not report); Transact retries it like a deadlock.
var ErrTransactionLost = errors.New("the transaction was rolled back under it (Galera brute-force abort)")

// savepoint marks the transaction Transact began, on Galera.
const savepoint = "souk_transact"

// Transact runs fn in a transaction and commits it, retrying the whole
// transaction with jittered back-off when it fails on a deadlock, a lock
// wait timeout or a busy SQLite file (IsRetryable). fn must therefore be
// safe to run again: it must derive everything from the database, not from
// state kept between attempts. The error returned is translated.
//
// On a multi-writer Galera cluster a transaction can be aborted while it
// runs by a conflicting write set certified on another node (a
// brute-force abort). MariaDB should answer the transaction's next
// statement with a deadlock, but sometimes does not (measured on 10.11:
// in about one race in ten between two nodes, a statement that returns
// rows runs after the rollback and answers without error). The rest of
// fn then runs outside the transaction: with autocommit each statement
// would be committed on its own, and COMMIT would answer OK for a
// transaction that is gone. So on Galera, Transact runs each attempt on
// one connection with autocommit off, so that nothing fn does after such
// a rollback is committed by itself, and marks the transaction with a
// savepoint when it begins: before committing, and when fn fails, it
// releases the savepoint, which exists only in the transaction it began.
// A savepoint gone, or a deadlock there, means the transaction was lost:
// the attempt is rolled back (whatever ran after the loss with it) and
// retried (ErrTransactionLost).
func (db *DB) Transact(ctx context.Context, fn func(tx *gorm.DB) error) error {
	galera := db.Dialect == MySQL && db.galera.is(ctx, db)
	var err error
	for attempt := 1; attempt <= MaxAttempts; attempt++ {
		if galera {
			err = db.galeraAttempt(ctx, fn)
		} else {
			err = db.WithContext(ctx).Transaction(fn)
		}
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

// galeraAttempt runs fn once in a transaction on a Galera node, on a
// connection of its own with autocommit off, and commits it only if it is
// still the transaction it began (see Transact).
func (db *DB) galeraAttempt(ctx context.Context, fn func(tx *gorm.DB) error) error {
	pool, err := db.DB.DB()
	if err != nil {
		return fmt.Errorf("database pool: %w", err)
	}
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("take a connection: %w", err)
	}
	committed := false
	defer func() {
		// The connection goes back to the pool in autocommit mode, or not
		// at all. Turning autocommit on commits an open transaction, so
		// unless COMMIT went through, roll back first whatever is open.
		bg := context.WithoutCancel(ctx)
		var err error
		if !committed {
			_, err = conn.ExecContext(bg, "ROLLBACK")
		}
		if err == nil {
			_, err = conn.ExecContext(bg, "SET autocommit = 1")
		}
		if err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		_ = conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "SET autocommit = 0"); err != nil {
		return fmt.Errorf("autocommit off: %w", err)
	}
	g := db.WithContext(ctx).Session(&gorm.Session{})
	g.Statement.ConnPool = conn
	err = g.Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("SAVEPOINT " + savepoint).Error; err != nil {
			return fmt.Errorf("mark the transaction: %w", err)
		}
		ferr := fn(tx)
		if IsRetryable(ferr) {
			return ferr
		}
		if err := tx.Exec("RELEASE SAVEPOINT " + savepoint).Error; err != nil {
			if IsRetryable(err) || isNoSuchSavepoint(err) {
				if ferr != nil {
					return fmt.Errorf("%w: %v (answered after it: %v)", ErrTransactionLost, err, ferr)
				}
				return fmt.Errorf("%w: %v", ErrTransactionLost, err)
			}
			if ferr != nil {
				return ferr
			}
			return fmt.Errorf("release the transaction mark: %w", err)
		}
		return ferr
	})
	committed = err == nil
	return err
}

// isNoSuchSavepoint reports MySQL's "SAVEPOINT … does not exist" (1305).
func isNoSuchSavepoint(err error) bool {
	var me *mysqldriver.MySQLError
	return errors.As(err, &me) && me.Number == 1305
}

// galeraProbe remembers whether a MySQL server is a Galera node
// (wsrep_on), asked once it answers.
type galeraProbe struct {
	mu    sync.Mutex
	known bool
	on    bool
}

func (p *galeraProbe) is(ctx context.Context, db *DB) bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known {
		return p.on
	}
	var on int
	err := db.WithContext(ctx).Raw("SELECT @@wsrep_on").Row().Scan(&on)
	var me *mysqldriver.MySQLError
	switch {
	case err == nil:
		p.known, p.on = true, on == 1
	case errors.As(err, &me) && me.Number == 1193:
		p.known = true // unknown system variable: MySQL, or MariaDB without wsrep
	}
	// Another error (server down): ask again next time; this transaction
	// will meet the same error.
	return p.on
}
