// Command bench is `make bench`: it measures how fast Souk is against the
// limit measured in the same run.
//
// It builds `souk` and the reference server (bench/reference), generates
// (or takes from the cache) a seeded data set, starts both servers on one
// core with the load generator on the other, alternates Souk and reference
// runs, and writes bench/results/<date>-<db>.md. docs/performance.md says
// what every column means.
//
// Settings (environment):
//
//	BENCH_DB        sqlite (default) or mysql (MariaDB at BENCH_MYSQL)
//	BENCH_MYSQL     user@host:port of the MariaDB server (root@127.0.0.1:3306)
//	BENCH_SIZE      full (100,000 products, default) or quick (1,000)
//	BENCH_DURATION  length of each measured run (4s)
//	BENCH_ROUNDS    closed-loop rounds per path; the median is reported (3)
//	BENCH_CONNS     connections of the closed-loop generator (32)
//	BENCH_SEED      seed of the data generator (1)
//	BENCH_CACHE     cache of generated data sets (~/.cache/souk/bench)
//	BENCH_OUT       folder of the results (bench/results)
//	BENCH_PROFILE   1 (default) to profile the three slowest paths, 0 not to
//	BENCH_NOTE      a line printed at the top of the results
//	GO              the go command (go)
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts, err := loadOptions(os.Getenv)
	if err == nil {
		err = run(ctx, opts, log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the settings of a run.
type options struct {
	DB       string // sqlite | mysql
	MySQL    string // user@host:port
	Size     dataSize
	Duration time.Duration
	Rounds   int
	Conns    int
	Seed     uint64
	Cache    string
	Out      string
	Profile  bool
	Go       string
	Note     string // BENCH_NOTE: a line printed at the top of the results (e.g. "taken on a loaded machine")
}

func loadOptions(getenv func(string) string) (options, error) {
	o := options{DB: "sqlite", MySQL: "root@127.0.0.1:3306", Duration: 4 * time.Second, Rounds: 3, Conns: 32, Seed: 1,
		Out: "bench/results", Profile: true, Go: "go"}
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	o.DB = get("BENCH_DB", o.DB)
	if o.DB != "sqlite" && o.DB != "mysql" {
		return o, fmt.Errorf("BENCH_DB must be sqlite or mysql, not %q", o.DB)
	}
	o.MySQL = get("BENCH_MYSQL", o.MySQL)
	sz, ok := sizes[get("BENCH_SIZE", "full")]
	if !ok {
		return o, fmt.Errorf("BENCH_SIZE must be full or quick, not %q", getenv("BENCH_SIZE"))
	}
	o.Size = sz
	var err error
	if o.Duration, err = time.ParseDuration(get("BENCH_DURATION", "4s")); err != nil || o.Duration < 200*time.Millisecond {
		return o, fmt.Errorf("BENCH_DURATION must be a duration of at least 200ms, such as 4s, not %q", getenv("BENCH_DURATION"))
	}
	if o.Rounds, err = strconv.Atoi(get("BENCH_ROUNDS", "3")); err != nil || o.Rounds < 1 {
		return o, fmt.Errorf("BENCH_ROUNDS must be 1 or more")
	}
	if o.Conns, err = strconv.Atoi(get("BENCH_CONNS", "32")); err != nil || o.Conns < 1 {
		return o, fmt.Errorf("BENCH_CONNS must be 1 or more")
	}
	if o.Seed, err = strconv.ParseUint(get("BENCH_SEED", "1"), 10, 64); err != nil {
		return o, fmt.Errorf("BENCH_SEED must be a whole number")
	}
	home, _ := os.UserHomeDir()
	cache := getenv("XDG_CACHE_HOME")
	if cache == "" {
		cache = home + "/.cache"
	}
	o.Cache = get("BENCH_CACHE", cache+"/souk/bench")
	o.Out = get("BENCH_OUT", o.Out)
	o.Profile = get("BENCH_PROFILE", "1") != "0"
	o.Go = get("GO", "go")
	o.Note = get("BENCH_NOTE", "")
	return o, nil
}
