package testenv

import (
	"fmt"
	"testing"
)

// ReportPrefix starts the line Report writes; `make reliability` collects
// these lines from the test output into its table.
const ReportPrefix = "reliability-report:"

// Report writes one line of the reliability table: a check (a rule under
// load, a fault, the contract), how many attempts it made and how many of
// them broke the rule. Call it before failing the test on violations, so
// that the table shows the count either way.
func Report(tb testing.TB, check string, attempts, violations int64) {
	tb.Helper()
	tb.Logf("%s check=%q attempts=%d violations=%d", ReportPrefix, check, attempts, violations)
}

// Violations says how many of a run's counts broke a rule: used by tests
// that count several kinds of violation.
func Violations(counts ...int64) int64 {
	var n int64
	for _, c := range counts {
		n += c
	}
	return n
}

// Describe renders a report line's fields, for the table.
func Describe(check string, attempts, violations int64) string {
	return fmt.Sprintf("%-60s %10d %10d", check, attempts, violations)
}
