package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/souk-tiznit/souk/database"
)

// dataset is a generated data set ready for one run.
type dataset struct {
	URL      string // the run's database URL (a copy of the cached one)
	MediaDir string // the photos the rows point to
	Stats    genStats
	Cached   bool
	cleanup  func()
}

// prepareData returns a fresh copy of the cached data set for this run,
// generating it first when the cache does not hold it.
func prepareData(ctx context.Context, o options, runDir, soukBin string, log *slog.Logger) (*dataset, error) {
	key := fmt.Sprintf("%s-%s-seed%d-v%d", o.DB, o.Size.Name, o.Seed, genVersion)
	dir := filepath.Join(o.Cache, key)
	mediaDir := filepath.Join(dir, "media")
	statsFile := filepath.Join(dir, "stats.json")
	ds := &dataset{MediaDir: mediaDir, cleanup: func() {}}
	if b, err := os.ReadFile(statsFile); err == nil && json.Unmarshal(b, &ds.Stats) == nil {
		ds.Cached = true
	}
	if o.DB == "sqlite" {
		cached := filepath.Join(dir, "souk.db")
		if !ds.Cached {
			if err := os.RemoveAll(dir); err != nil {
				return nil, fmt.Errorf("clear cache %s: %w", dir, err)
			}
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create cache %s: %w", dir, err)
			}
			tmp := filepath.Join(dir, "generating.db")
			st, err := generateInto(ctx, o, "sqlite://"+tmp, soukBin, runDir, mediaDir, log)
			if err != nil {
				return nil, err
			}
			if err := os.Rename(tmp, cached); err != nil {
				return nil, fmt.Errorf("keep generated database: %w", err)
			}
			if err := writeStats(statsFile, st); err != nil {
				return nil, err
			}
			ds.Stats = st
		}
		runDB := filepath.Join(runDir, "souk.db")
		if err := copyFile(cached, runDB); err != nil {
			return nil, err
		}
		ds.URL = "sqlite://" + runDB
		// Migrations added since the set was cached apply to the copy.
		if err := migrate(ctx, soukBin, ds.URL, runDir); err != nil {
			return nil, err
		}
		return ds, nil
	}

	// MariaDB: the cache is a database of its own, copied into a database
	// made for this run and dropped after it.
	user, host, _ := strings.Cut(o.MySQL, "@")
	cacheName := fmt.Sprintf("souk_bench_cache_%s_s%d_v%d", o.Size.Name, o.Seed, genVersion)
	runName := fmt.Sprintf("souk_bench_run_%d", os.Getpid())
	cacheURL := fmt.Sprintf("mysql://%s@%s/%s", user, host, cacheName)
	ds.URL = fmt.Sprintf("mysql://%s@%s/%s", user, host, runName)
	admin, err := sql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/?multiStatements=false", user, host))
	if err != nil {
		return nil, fmt.Errorf("connect to MariaDB: %w", err)
	}
	defer admin.Close()
	if ds.Cached {
		var n int
		if err := admin.QueryRowContext(ctx, "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", cacheName).Scan(&n); err != nil {
			return nil, fmt.Errorf("look for the cached database (is MariaDB up at %s?): %w", host, err)
		}
		ds.Cached = n == 1
	}
	if !ds.Cached {
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+cacheName); err != nil {
			return nil, fmt.Errorf("drop stale cache database: %w", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
		st, err := generateInto(ctx, o, cacheURL, soukBin, runDir, mediaDir, log)
		if err != nil {
			return nil, err
		}
		if err := writeStats(statsFile, st); err != nil {
			return nil, err
		}
		ds.Stats = st
	}
	t := time.Now()
	if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+runName); err != nil {
		return nil, err
	}
	if err := migrate(ctx, soukBin, ds.URL, runDir); err != nil {
		return nil, err
	}
	ds.cleanup = func() {
		if _, err := admin2(user, host).ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+runName); err != nil {
			log.Warn("could not drop the run database", "database", runName, "err", err)
		}
	}
	if err := copyMySQL(ctx, admin, cacheName, runName); err != nil {
		ds.cleanup()
		return nil, err
	}
	log.Info("copied the cached MariaDB data set", "from", cacheName, "to", runName, "took", time.Since(t).Round(time.Millisecond))
	return ds, nil
}

func admin2(user, host string) *sql.DB {
	db, _ := sql.Open("mysql", fmt.Sprintf("%s@tcp(%s)/", user, host))
	return db
}

// copyMySQL copies every table's rows from one database to another whose
// schema `souk migrate` made; tables the migrations fill (crafts, rates…)
// are left as they are.
func copyMySQL(ctx context.Context, db *sql.DB, from, to string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET FOREIGN_KEY_CHECKS = 0, UNIQUE_CHECKS = 0"); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	rows, err := conn.QueryContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'", from)
	if err != nil {
		return fmt.Errorf("list cached tables: %w", err)
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, t := range tables {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT COUNT(*) FROM `%s`.`%s`", to, t)).Scan(&n); err != nil {
			return fmt.Errorf("count %s: %w", t, err)
		}
		if n > 0 {
			continue
		}
		// By name: migrations added since the set was cached may have
		// added columns (with their defaults) to the run's tables.
		var cols []string
		crows, err := conn.QueryContext(ctx, `SELECT a.column_name FROM information_schema.columns a
			JOIN information_schema.columns b ON b.table_schema = ? AND b.table_name = a.table_name AND b.column_name = a.column_name
			WHERE a.table_schema = ? AND a.table_name = ? ORDER BY a.ordinal_position`, to, from, t)
		if err != nil {
			return fmt.Errorf("columns of %s: %w", t, err)
		}
		for crows.Next() {
			var c string
			if err := crows.Scan(&c); err != nil {
				crows.Close()
				return err
			}
			cols = append(cols, "`"+c+"`")
		}
		if err := crows.Close(); err != nil {
			return err
		}
		if len(cols) == 0 {
			continue // a table the migrations dropped
		}
		list := strings.Join(cols, ", ")
		if _, err := conn.ExecContext(ctx, fmt.Sprintf("INSERT INTO `%s`.`%s` (%s) SELECT %s FROM `%s`.`%s`", to, t, list, list, from, t)); err != nil {
			return fmt.Errorf("copy table %s: %w", t, err)
		}
	}
	return nil
}

// generateInto migrates the database at url with `souk migrate` and fills
// it.
func generateInto(ctx context.Context, o options, url, soukBin, runDir, mediaDir string, log *slog.Logger) (genStats, error) {
	log.Info("generating the data set (cached for the next runs)", "size", o.Size.Name, "seed", o.Seed, "database", o.DB)
	if err := migrate(ctx, soukBin, url, runDir); err != nil {
		return genStats{}, err
	}
	gdb, err := database.Open(ctx, url, database.Options{MaxOpenConns: 4, MaxIdleConns: 4, Logger: log})
	if err != nil {
		return genStats{}, err
	}
	sqlDB, err := gdb.DB.DB()
	if err != nil {
		return genStats{}, err
	}
	defer sqlDB.Close()
	st, err := generate(ctx, sqlDB, gdb.Dialect, o.Size, o.Seed, mediaDir, log)
	if err != nil {
		return st, err
	}
	if err := checkCertifiedColumns(ctx, sqlDB); err != nil {
		return st, err
	}
	if gdb.Dialect == database.SQLite {
		for _, q := range []string{"INSERT INTO products_fts (products_fts) VALUES ('optimize')", "ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"} {
			if _, err := sqlDB.ExecContext(ctx, q); err != nil {
				return st, fmt.Errorf("%s: %w", q, err)
			}
		}
	} else {
		for _, t := range []string{"products", "product_photos", "bookings", "day_claims", "orders", "cooperatives", "units"} {
			if _, err := sqlDB.ExecContext(ctx, "ANALYZE TABLE "+t); err != nil {
				return st, fmt.Errorf("analyze %s: %w", t, err)
			}
		}
	}
	log.Info("data set generated", "products", st.Products, "photos", st.Photos, "bookings", st.Bookings, "claims", st.Claims,
		"orders", st.Orders, "took", st.Elapsed.Round(time.Millisecond))
	return st, nil
}

func migrate(ctx context.Context, soukBin, url, runDir string) error {
	cmd := exec.CommandContext(ctx, soukBin, "migrate")
	cmd.Env = append(os.Environ(), "SOUK_DATABASE_URL="+url, "SOUK_DATA_DIR="+filepath.Join(runDir, "migrate"), "SOUK_LOG_LEVEL=warn")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("souk migrate: %w: %s", err, out)
	}
	return nil
}

func writeStats(path string, st genStats) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o640)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("copy %s: %w", from, err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", to, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy to %s: %w", to, err)
	}
	return out.Close()
}

// checkCertifiedColumns checks that the generator filled products'
// certified_until and certified_from as storefront keeps them (migration
// 0013): of the verified certificates of the product's own cooperative
// linked to it, the latest valid_until and the earliest valid_from of
// those ending then.
func checkCertifiedColumns(ctx context.Context, db *sql.DB) error {
	var wrong int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM products p WHERE NOT (
		COALESCE(p.certified_until, '') = COALESCE((SELECT MAX(c.valid_until) FROM product_certificates pc
			JOIN certificates c ON c.id = pc.certificate_id
			WHERE pc.product_id = p.id AND c.cooperative_id = p.cooperative_id AND c.status = 'verified'), '')
		AND (p.certified_until IS NULL OR COALESCE(p.certified_from, '') = COALESCE((SELECT MIN(COALESCE(c.valid_from, ''))
			FROM product_certificates pc JOIN certificates c ON c.id = pc.certificate_id
			WHERE pc.product_id = p.id AND c.cooperative_id = p.cooperative_id AND c.status = 'verified'
			AND c.valid_until = p.certified_until), '')))`).Scan(&wrong)
	if err != nil {
		return fmt.Errorf("check the certified columns: %w", err)
	}
	if wrong > 0 {
		return fmt.Errorf("%d generated products hold certified columns storefront would not: the generator is out of step with migration 0013", wrong)
	}
	return nil
}
