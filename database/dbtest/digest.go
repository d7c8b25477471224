package dbtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/souk-tiznit/souk/database"
)

// Digest is a hash of every row of every table of db, by table, to tell
// that a refused request changed nothing. The sessions' sliding expiry is
// left out: authenticating a request may extend it.
func Digest(tb testing.TB, db *database.DB) map[string]string {
	tb.Helper()
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Dialect != database.SQLite {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()`
	}
	if err := db.Raw(q).Scan(&tables).Error; err != nil {
		tb.Fatalf("list tables: %v", err)
	}
	out := map[string]string{}
	for _, table := range tables {
		rows, err := db.Raw("SELECT * FROM " + table).Rows()
		if err != nil {
			tb.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		var lines []string
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				tb.Fatalf("read %s: %v", table, err)
			}
			var b strings.Builder
			for i, col := range cols {
				if table == "sessions" && (col == "last_seen_at" || col == "expires_at") {
					continue
				}
				if raw, ok := vals[i].([]byte); ok {
					vals[i] = string(raw)
				}
				fmt.Fprintf(&b, "%s=%v;", col, vals[i])
			}
			lines = append(lines, b.String())
		}
		rows.Close()
		sort.Strings(lines)
		h := sha256.New()
		for _, l := range lines {
			h.Write([]byte(l + "\n"))
		}
		out[table] = fmt.Sprintf("%d rows, %s", len(lines), hex.EncodeToString(h.Sum(nil))[:12])
	}
	return out
}

// DigestDiff names the tables whose digests differ, or "".
func DigestDiff(before, after map[string]string) string {
	var diff []string
	for table, d := range after {
		if before[table] != d {
			diff = append(diff, fmt.Sprintf("%s (%s → %s)", table, before[table], d))
		}
	}
	for table := range before {
		if _, ok := after[table]; !ok {
			diff = append(diff, table+" (dropped)")
		}
	}
	sort.Strings(diff)
	return strings.Join(diff, ", ")
}
