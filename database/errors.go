package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"strings"
	"syscall"
	"time"

	mysqldriver "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/souk-tiznit/souk/errs"
)

// RetryAfterUnavailable is the retry hint given when the database is down.
const RetryAfterUnavailable = 5 * time.Second

// Translate turns driver and GORM errors into errs codes: no row →
// NotFound, duplicate key → Conflict, an unreachable server → Unavailable.
// Other errors are returned unchanged (they become Internal). Stores call it
// on every error they return.
func Translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errs.As(err) != nil:
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return errs.Wrap(errs.NotFound, err, "not found")
	case IsDuplicate(err):
		return errs.Wrap(errs.Conflict, err, "already exists")
	case IsUnavailable(err):
		return errs.Wrap(errs.Unavailable, err, "the database is unavailable").WithRetryAfter(RetryAfterUnavailable)
	}
	return err
}

// IsDuplicate reports a unique or primary key violation on either dialect.
func IsDuplicate(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "PRIMARY KEY constraint failed") ||
		strings.Contains(s, "constraint failed: UNIQUE")
}

// IsRetryable reports a transient conflict that a retried transaction may
// win: a deadlock (MySQL 1213, also how Galera reports a certification
// failure), a lock wait timeout (1205), a transaction Galera rolled back
// without saying so (ErrTransactionLost), or a busy SQLite database.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrTransactionLost) {
		return true
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205 || me.Number == 1047 || me.Number == 1180
	}
	s := err.Error()
	return strings.Contains(s, "database is locked") || strings.Contains(s, "SQLITE_BUSY") ||
		strings.Contains(s, "Deadlock found") || strings.Contains(s, "(5) (SQLITE_BUSY)")
}

// IsUnavailable reports that the database server could not be reached or
// dropped the connection.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysqldriver.ErrInvalidConn) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var me *mysqldriver.MySQLError
	if errors.As(err, &me) {
		// 1040 too many connections, 1053 shutdown in progress, 2002/2003/2006/2013 lost server.
		switch me.Number {
		case 1040, 1053, 2002, 2003, 2006, 2013:
			return true
		}
	}
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "invalid connection") ||
		strings.Contains(s, "bad connection") || strings.Contains(s, "server has gone away")
}
