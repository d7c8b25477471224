package database

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/errs"
)

//go:embed migrations/mysql/*.sql migrations/sqlite/*.sql
var migrationFiles embed.FS

// Migration is one numbered step of the schema.
type Migration struct {
	Version   int
	Name      string
	SQL       string
	Checksum  string
	AppliedAt *time.Time // nil when pending
}

// Migrations returns the embedded migrations of a dialect, in order.
func Migrations(dialect string) ([]Migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, rest, ok := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s/%s: name must be NNNN_words.sql", dir, name)
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, name, v)
		}
		seen[v] = name
		body, err := fs.ReadFile(migrationFiles, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		out = append(out, Migration{Version: v, Name: rest, SQL: string(body), Checksum: hex.EncodeToString(sum[:])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

const lockTTL = 10 * time.Minute

func (db *DB) ensureBookkeeping(ctx context.Context) error {
	var stmts []string
	if db.Dialect == MySQL {
		stmts = []string{
			"CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, checksum CHAR(64) NOT NULL, applied_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
			"CREATE TABLE IF NOT EXISTS schema_lock (id INT NOT NULL PRIMARY KEY, owner VARCHAR(64) NOT NULL, expires_at DATETIME(6) NOT NULL) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
		}
	} else {
		stmts = []string{
			"CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at DATETIME NOT NULL)",
			"CREATE TABLE IF NOT EXISTS schema_lock (id INTEGER NOT NULL PRIMARY KEY, owner TEXT NOT NULL, expires_at DATETIME NOT NULL)",
		}
	}
	for _, s := range stmts {
		if err := db.WithContext(ctx).Exec(s).Error; err != nil {
			return fmt.Errorf("create migration bookkeeping: %w", Translate(err))
		}
	}
	return nil
}

// Lock ids: each names one job that must run in a single instance at a time.
const (
	LockMigrations = 1
	LockDemoSeed   = 2
)

// Exclusively runs fn while holding the cluster-wide lock id, waiting for
// another instance that holds it. See lock.
func (db *DB) Exclusively(ctx context.Context, id int, log *slog.Logger, fn func() error) error {
	if log == nil {
		log = slog.Default()
	}
	if err := db.ensureBookkeeping(ctx); err != nil {
		return err
	}
	release, err := db.lock(ctx, id, log)
	if err != nil {
		return err
	}
	defer release()
	return fn()
}

// lock takes a lock: one row in schema_lock, inserted under its primary
// key. Unlike GET_LOCK this holds on a Galera cluster (the insert is
// certified on every node) and survives nothing but its own expiry: a
// crashed holder's lock is taken over once expired.
func (db *DB) lock(ctx context.Context, id int, log *slog.Logger) (release func(), err error) {
	owner := randomOwner()
	waitLogged := false
	for {
		now := time.Now().UTC()
		err := db.WithContext(ctx).Exec("INSERT INTO schema_lock (id, owner, expires_at) VALUES (?, ?, ?)", id, owner, now.Add(lockTTL)).Error
		if err == nil {
			return func() {
				ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := db.WithContext(ctx).Exec("DELETE FROM schema_lock WHERE id = ? AND owner = ?", id, owner).Error; err != nil {
					log.Warn("release lock", "lock", id, "err", err)
				}
			}, nil
		}
		if !IsDuplicate(err) && !IsRetryable(err) {
			return nil, fmt.Errorf("take lock %d: %w", id, Translate(err))
		}
		// Held: take over an expired lock, else wait for it.
		if err := db.WithContext(ctx).Exec("DELETE FROM schema_lock WHERE id = ? AND expires_at < ?", id, now).Error; err != nil && !IsRetryable(err) {
			return nil, fmt.Errorf("clear expired lock %d: %w", id, Translate(err))
		}
		if !waitLogged {
			log.Info("waiting for another instance holding a lock", "lock", id)
			waitLogged = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for lock %d: %w", id, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func randomOwner() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Status lists every migration with the time it was applied, if it was.
func (db *DB) Status(ctx context.Context) ([]Migration, error) {
	if err := db.ensureBookkeeping(ctx); err != nil {
		return nil, err
	}
	all, err := Migrations(db.Dialect)
	if err != nil {
		return nil, err
	}
	applied, err := db.applied(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if a, ok := applied[all[i].Version]; ok {
			t := a.AppliedAt
			all[i].AppliedAt = t
			if a.Checksum != all[i].Checksum {
				return all, fmt.Errorf("migration %04d_%s was changed after it was applied (checksum %s, applied %s): add a new migration instead",
					all[i].Version, all[i].Name, all[i].Checksum[:12], a.Checksum[:min(12, len(a.Checksum))])
			}
		}
	}
	return all, nil
}

func (db *DB) applied(ctx context.Context) (map[int]Migration, error) {
	var rows []struct {
		Version   int
		Name      string
		Checksum  string
		AppliedAt time.Time
	}
	if err := db.WithContext(ctx).Raw("SELECT version, name, checksum, applied_at FROM schema_migrations").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", Translate(err))
	}
	out := make(map[int]Migration, len(rows))
	for _, r := range rows {
		t := r.AppliedAt
		out[r.Version] = Migration{Version: r.Version, Name: r.Name, Checksum: r.Checksum, AppliedAt: &t}
	}
	return out, nil
}

// Migrate applies the pending migrations in order, under the migration
// lock, so that instances starting together apply each step once. It
// returns how many it applied.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) (int, error) {
	if log == nil {
		log = slog.Default()
	}
	n := 0
	err := db.Exclusively(ctx, LockMigrations, log, func() error {
		all, err := db.Status(ctx)
		if err != nil {
			return err
		}
		for _, m := range all {
			if m.AppliedAt != nil {
				continue
			}
			start := time.Now()
			if err := db.apply(ctx, m); err != nil {
				return err
			}
			n++
			log.Info("migration applied", "version", m.Version, "name", m.Name, "ms", time.Since(start).Milliseconds())
		}
		return nil
	})
	return n, err
}

func (db *DB) apply(ctx context.Context, m Migration) error {
	stmts := SplitStatements(m.SQL)
	record := func(exec func(string, ...any) error) error {
		return exec("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)",
			m.Version, m.Name, m.Checksum, time.Now().UTC())
	}
	if db.Dialect == SQLite {
		// SQLite DDL is transactional: a step applies whole or not at all.
		tx := db.WithContext(ctx).Begin()
		if tx.Error != nil {
			return fmt.Errorf("migration %04d: begin: %w", m.Version, tx.Error)
		}
		exec := func(q string, args ...any) error { return tx.Exec(q, args...).Error }
		for i, s := range stmts {
			if err := exec(s); err != nil {
				tx.Rollback()
				return fmt.Errorf("migration %04d_%s, statement %d: %w", m.Version, m.Name, i+1, err)
			}
		}
		if err := record(exec); err != nil {
			tx.Rollback()
			return fmt.Errorf("record migration %04d: %w", m.Version, err)
		}
		return tx.Commit().Error
	}
	// MySQL commits each DDL statement by itself; statements run in order
	// and the step is recorded last, so a failure names the statement.
	exec := func(q string, args ...any) error { return db.WithContext(ctx).Exec(q, args...).Error }
	for i, s := range stmts {
		if err := exec(s); err != nil {
			return errs.Wrap(errs.Internal, err, "migration %04d_%s, statement %d failed", m.Version, m.Name, i+1)
		}
	}
	if err := record(exec); err != nil {
		return fmt.Errorf("record migration %04d: %w", m.Version, err)
	}
	return nil
}

// SplitStatements cuts a SQL script into statements at semicolons that are
// outside quotes, comments and BEGIN … END / CASE … END blocks (trigger
// bodies), dropping empty statements and comment-only ones.
func SplitStatements(script string) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	flush := func() {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if stripComments(s) != "" {
			out = append(out, s)
		}
	}
	isWord := func(b byte) bool {
		return b == '_' || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
	}
	for i := 0; i < len(script); i++ {
		c := script[i]
		switch {
		case c == '-' && i+1 < len(script) && script[i+1] == '-':
			j := strings.IndexByte(script[i:], '\n')
			if j < 0 {
				j = len(script) - i
			}
			cur.WriteString(script[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(script) && script[i+1] == '*':
			j := strings.Index(script[i+2:], "*/")
			end := len(script)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			cur.WriteString(script[i:end])
			i = end - 1
		case c == '\'' || c == '"' || c == '`':
			j := i + 1
			for j < len(script) {
				if script[j] == '\\' && c != '`' {
					j += 2
					continue
				}
				if script[j] == c {
					if j+1 < len(script) && script[j+1] == c { // doubled quote
						j += 2
						continue
					}
					break
				}
				j++
			}
			end := min(j+1, len(script))
			cur.WriteString(script[i:end])
			i = end - 1
		case isWord(c) && (i == 0 || !isWord(script[i-1])):
			j := i
			for j < len(script) && isWord(script[j]) {
				j++
			}
			switch strings.ToUpper(script[i:j]) {
			case "BEGIN", "CASE":
				depth++
			case "END":
				if depth > 0 {
					depth--
				}
			}
			cur.WriteString(script[i:j])
			i = j - 1
		case c == ';' && depth == 0:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "--") {
			b.WriteString(t)
		}
	}
	return b.String()
}
