package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000) }

func num(f float64) string {
	switch {
	case f < 0:
		return "n/m"
	case f >= 100:
		return fmt.Sprintf("%.0f", f)
	case f >= 10:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.2f", f)
}

func writeReport(rep *report, log *slog.Logger) error {
	o := rep.Opts
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Souk benchmark — %s, %s, %s data set\n\n", rep.Started.Format("2006-01-02 15:04"), o.DB, o.Size.Name)
	if o.Note != "" {
		w("> **%s**\n\n", o.Note)
	}
	w("- Machine: %s\n", rep.Machine)
	w("- Database: %s\n", rep.DBVersion)
	w("- Pinning: %s\n", rep.Pinning)
	if o.DB == "mysql" {
		w("- MariaDB runs unpinned (its CPU per request is the *DB CPU* column, read from /proc of mariadbd); it competes with both cores.\n")
	}
	st := rep.Data.Stats
	cached := "generated in this run"
	if rep.Data.Cached {
		cached = "taken from the cache (" + o.Cache + ")"
	}
	w("- Data (seed %d, %s; generation took %s): %d products (%d photo rows) of %d cooperatives (%d with a verified certificate), %d venues × %d units = %d units, %d bookings holding %d day claims (a year at ~50%%), %d orders\n",
		o.Seed, cached, st.Elapsed.Round(time.Second), st.Products, st.Photos, st.Cooperatives, st.Certified, st.Venues, o.Size.UnitsPer, st.Units, st.Bookings, st.Claims, st.Orders)
	w("- Runs: %s each, %d closed-loop rounds per path (median reported; Souk and reference alternate), %d connections; open loop at 25/50/80%% of the median capacity for %s each\n",
		o.Duration, o.Rounds, o.Conns, o.Duration)
	w("- Souk: `souk serve` built from this tree, SOUK_ENV=production (request log at info to a file), no compression asked (no Accept-Encoding), pprof listener on\n")
	w("- Whole run took %s\n\n", rep.Elapsed.Round(time.Second))

	fort := rep.Refs["fortunes"]
	w("## Capacity (closed loop, saturation)\n\n")
	w("| path | Souk req/s | CPU µs/req | busy | DB CPU µs/req | SQL/req | reference | ref req/s | ref CPU µs/req | ref busy | ratio req/s | ratio CPU | vs Fortunes req/s | vs Fortunes CPU |\n")
	w("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, p := range rep.Paths {
		if p.Skipped != "" {
			w("| %s | skipped | | | | | | | | | | | | |\n", p.Name)
			continue
		}
		dbcpu := "—"
		if o.DB == "mysql" {
			dbcpu = num(p.medDBCPU())
		}
		refName, refRPS, refCPU, refBusy, ratio, ratioCPU := "—", "", "", "", "", ""
		if r := rep.Refs[p.Ref]; r != nil {
			refName, refRPS, refCPU, refBusy = r.Name, num(r.medRPS()), num(r.medCPU()), fmt.Sprintf("%.0f%%", 100*r.medBusy())
			ratio = pct(p.medRPS(), r.medRPS())
			ratioCPU = pct(r.medCPU(), p.medCPU())
		}
		vsF, vsFCPU := "", ""
		if fort != nil && fort.medRPS() > 0 && p.Kind == "read" {
			vsF, vsFCPU = pct(p.medRPS(), fort.medRPS()), pct(fort.medCPU(), p.medCPU())
		}
		w("| %s | %s | %s | %.0f%% | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", p.Name, num(p.medRPS()), num(p.medCPU()), 100*p.medBusy(), dbcpu,
			num(p.medQueries()), refName, refRPS, refCPU, refBusy, ratio, ratioCPU, vsF, vsFCPU)
	}
	if fort != nil {
		w("| *Fortunes reference* | | | | | | %s | %s | %s | %.0f%% | | | 100%% | 100%% |\n", fort.Name, num(fort.medRPS()), num(fort.medCPU()), 100*fort.medBusy())
	}
	if o.DB == "sqlite" {
		w("\nSQL/req is n/m (not measured) on SQLite: the queries run inside the server process and Souk exposes no query counter; the MariaDB run counts them (`Questions`).\n")
	} else {
		w("\nSQL/req is the server's `Questions` delta ÷ requests (background jobs included; a few per second).\n")
	}
	var conns []string
	for _, p := range rep.Paths {
		if p.Skipped == "" && p.Conns != o.Conns {
			conns = append(conns, fmt.Sprintf("%s: %d (one request alone takes %s ms)", p.Name, p.Conns, ms(p.Single)))
		}
	}
	for _, k := range sortedKeys(rep.Refs) {
		if r := rep.Refs[k]; r.Conns != o.Conns && r.Conns > 0 {
			conns = append(conns, fmt.Sprintf("reference %s: %d (%s ms alone)", r.Name, r.Conns, ms(r.Single)))
		}
	}
	if len(conns) > 0 {
		w("\nSlow paths ran with fewer connections, so that queued requests stay under the 30 s request timeout: %s.\n", strings.Join(conns, "; "))
	}
	w("\n*busy* is the server's CPU time over the run's wall time: near 100%% the server's core was the bottleneck; well under it, the load generator or the database was.\n")
	var skipped []string
	for _, p := range rep.Paths {
		if p.Skipped != "" {
			skipped = append(skipped, fmt.Sprintf("- %s (`%s`): %s", p.Name, p.SoukURI, p.Skipped))
		}
	}
	if len(skipped) > 0 {
		w("\nSkipped:\n%s\n", strings.Join(skipped, "\n"))
	}

	w("\n## Latency (open loop, from the intended send time)\n\n")
	w("| path | capacity req/s | @25%%: p50 / p90 / p99 ms | @50%%: p50 / p90 / p99 ms | @80%%: p50 / p90 / p99 ms | errors |\n|---|---:|---|---|---|---:|\n")
	for _, p := range rep.Paths {
		if p.NoOpen != "" && p.Skipped == "" {
			w("| %s | %s | %s | | | |\n", p.Name, num(p.medRPS()), p.NoOpen)
			continue
		}
		if p.Skipped != "" || len(p.Open) == 0 {
			continue
		}
		var cells []string
		var errs int64
		for _, os := range p.Open {
			r := os.Sample.Res
			cells = append(cells, fmt.Sprintf("%s / %s / %s", ms(r.Pct(0.5)), ms(r.Pct(0.9)), ms(r.Pct(0.99))))
			errs += r.Errors
		}
		w("| %s | %s | %s | %d |\n", p.Name, num(p.medRPS()), strings.Join(cells, " | "), errs)
	}

	c := rep.Contested
	w("\n## Holds on one contested unit\n\n")
	w("%d waves of %d concurrent holds on the same unit and day (%.1f waves/s): %d winners, %d losers answered 409, %d wrong (a loser not answered 409, or a wave without exactly one winner). ",
		c.Waves, c.PerWave, c.WavesPerSec, c.Winners, c.Losers, c.Wrong)
	w("Losers: p50 %s ms, p90 %s ms, p99 %s ms; winners: p50 %s ms, p99 %s ms (closed waves, from send). CPU per hold attempt: %s µs.\n\n",
		ms(c.Loser.Pct(0.5)), ms(c.Loser.Pct(0.9)), ms(c.Loser.Pct(0.99)), ms(c.Winner.Pct(0.5)), ms(c.Winner.Pct(0.99)), num(c.CPUPerHold))
	w("Double bookings after the run: %s\n", rep.Double)

	ph := rep.Photos
	w("\n## Photo pipeline (12 MP JPEG → %d variants, one core)\n\n", ph.Variants)
	switch {
	case ph.SoukErr != "":
		w("media.ProcessPhoto failed: %s\n", ph.SoukErr)
	default:
		w("- media.ProcessPhoto (in process, GOMAXPROCS=1): **%.2f photos/s** (runs: %v)\n", ph.Souk, fmtList(ph.SoukRuns))
		if ph.VipsSkipped != "" {
			w("- vipsthumbnail: %s\n", ph.VipsSkipped)
		} else {
			w("- vipsthumbnail (%s, 4 processes per photo — 2048, 1280, 640, 320 — VIPS_CONCURRENCY=1): **%.2f photos/s** (runs: %v) → Souk at %.0f%%\n",
				ph.VipsVersion, ph.Vips, fmtList(ph.VipsRuns), 100*ph.Souk/ph.Vips)
		}
		w("- input: %d bytes\n", ph.InputBytes)
	}

	w("\n## Budgets\n\n| budget | measured | verdict |\n|---|---|---|\n")
	for _, bl := range budgets(rep) {
		w("| %s | %s | %s |\n", bl[0], bl[1], bl[2])
	}

	if len(rep.Notes) > 0 {
		w("\n## Notes\n\n")
		for _, n := range rep.Notes {
			w("- %s\n", n)
		}
	}

	w("\n## Profiles: the three costliest paths (CPU per request) and the paths with a budget\n\n")
	any := false
	for _, p := range rep.Paths {
		if p.Profiled == nil {
			continue
		}
		any = true
		w("<details><summary>%s — CPU</summary>\n\n```\n%s\n```\n</details>\n\n", p.Name, p.Profiled.CPUTop)
		w("<details><summary>%s — allocations during the profile (alloc_space)</summary>\n\n```\n%s\n```\n</details>\n\n", p.Name, p.Profiled.AllocTop)
	}
	if !any {
		w("Not profiled (BENCH_PROFILE=0, or the pprof listener did not answer).\n")
	}

	w("\n## Raw numbers\n\n```\n")
	for _, p := range rep.Paths {
		for i, s := range p.Runs {
			w("souk  %-34s round %d: %8.1f req/s  busy %3.0f%%  %7.1f cpu-µs/req  db-cpu %7.1f µs/req  sql %6s/req  ok %d  errors %d  p50 %s p99 %s ms  status %s\n",
				p.Name, i+1, s.Res.RPS(), 100*s.busy(), s.cpuPerReq(), s.dbCPUPerReq(), num(s.queriesPerReq()), s.Res.Requests, s.Res.Errors,
				ms(s.Res.Pct(0.5)), ms(s.Res.Pct(0.99)), statusList(s.Res.Status))
			if s.Res.Sample != "" {
				w("      first failure: %s\n", strings.ReplaceAll(s.Res.Sample, "\n", " "))
			}
		}
		for _, os := range p.Open {
			s := os.Sample
			w("open  %-34s %3.0f%% = %7.1f req/s: sent %d  ok %d  errors %d  p50 %s p90 %s p99 %s p99.9 %s ms  cpu %.1f µs/req\n",
				p.Name, 100*os.Share, os.Rate, s.Res.Requests+s.Res.Errors, s.Res.Requests, s.Res.Errors,
				ms(s.Res.Pct(0.5)), ms(s.Res.Pct(0.9)), ms(s.Res.Pct(0.99)), ms(s.Res.Pct(0.999)), s.cpuPerReq())
		}
	}
	for _, k := range sortedKeys(rep.Refs) {
		r := rep.Refs[k]
		for i, s := range r.Runs {
			w("ref   %-34s round %d: %8.1f req/s  busy %3.0f%%  %7.1f cpu-µs/req  db-cpu %7.1f µs/req  sql %6s/req  ok %d  errors %d\n",
				r.Name, i+1, s.Res.RPS(), 100*s.busy(), s.cpuPerReq(), s.dbCPUPerReq(), num(s.queriesPerReq()), s.Res.Requests, s.Res.Errors)
		}
	}
	w("```\n")

	out := b.String()
	if err := os.MkdirAll(o.Out, 0o750); err != nil {
		return err
	}
	file := filepath.Join(o.Out, fmt.Sprintf("%s-%s.md", rep.Started.Format("2006-01-02"), o.DB))
	if o.Size.Name != "full" {
		file = filepath.Join(o.Out, fmt.Sprintf("%s-%s-%s.md", rep.Started.Format("2006-01-02"), o.DB, o.Size.Name))
	}
	if err := os.WriteFile(file, []byte(out), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	fmt.Println(out)
	log.Info("results written", "file", file)
	return nil
}

// pct is a/b as a percentage, with precision where it is small.
func pct(a, b float64) string {
	if b <= 0 {
		return ""
	}
	r := 100 * a / b
	if r < 0.01 {
		return "<0.01%"
	}
	if r < 1 {
		return fmt.Sprintf("%.2f%%", r)
	}
	return fmt.Sprintf("%.0f%%", r)
}

func fmtList(xs []float64) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(s, ", ")
}

func statusList(m map[int]int64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var s []string
	for _, k := range keys {
		s = append(s, fmt.Sprintf("%d×%d", k, m[k]))
	}
	return strings.Join(s, ",")
}

func findPath(rep *report, name string) *path {
	for _, p := range rep.Paths {
		if p.Name == name && p.Skipped == "" && len(p.Runs) > 0 {
			return p
		}
	}
	return nil
}

// budgets compares the run with docs/performance.md's budgets: one row
// each with the measured value and the verdict.
func budgets(rep *report) [][3]string {
	var out [][3]string
	verdict := func(ok bool, gap string) string {
		if ok {
			return "met (" + gap + ")"
		}
		return "**missed** (" + gap + ")"
	}
	fort := rep.Refs["fortunes"]
	ratioBudget := func(name, label string, want float64, ref *refPath) {
		p := findPath(rep, name)
		if p == nil || ref == nil || ref.medRPS() == 0 {
			out = append(out, [3]string{label, "not measured", "—"})
			return
		}
		r := p.medRPS() / ref.medRPS()
		rc := ref.medCPU() / p.medCPU()
		out = append(out, [3]string{label, fmt.Sprintf("%s by req/s (%s of %s); %s by CPU per request (%s µs against %s µs)",
			pct(p.medRPS(), ref.medRPS()), num(p.medRPS()), num(ref.medRPS()), pct(ref.medCPU(), p.medCPU()), num(p.medCPU()), num(ref.medCPU())),
			verdict(r >= want, fmt.Sprintf("%+.1f points by req/s, %+.1f by CPU", 100*(r-want), 100*(rc-want)))})
	}
	ratioBudget("product page HTML", "product page HTML ≥ 60% of Fortunes req/s", 0.6, fort)
	ratioBudget("search JSON (q + craft + facets)", "search JSON ≥ 50% of Fortunes req/s", 0.5, fort)
	for _, name := range []string{"listing JSON (24 newest)", "search page HTML"} {
		label := name + ": under 150 µs CPU per request"
		if p := findPath(rep, name); p != nil {
			c := p.medCPU()
			if rep.Opts.DB == "mysql" {
				label += " (server process; MariaDB's own CPU apart)"
			}
			out = append(out, [3]string{label, fmt.Sprintf("%s µs", num(c)), verdict(c < 150, fmt.Sprintf("%+.0f µs", c-150))})
		} else {
			out = append(out, [3]string{label, "not measured", "—"})
		}
	}
	worst, worstName := time.Duration(0), ""
	for _, p := range rep.Paths {
		for _, os := range p.Open {
			if os.Share == 0.5 && os.Sample.Res.Pct(0.99) > worst {
				worst, worstName = os.Sample.Res.Pct(0.99), p.Name
			}
		}
	}
	if worstName != "" {
		out = append(out, [3]string{"p99 under 25 ms at 50% of capacity (every path)", fmt.Sprintf("worst: %s ms (%s)", ms(worst), worstName),
			verdict(worst < 25*time.Millisecond, fmt.Sprintf("%+.1f ms", float64(worst-25*time.Millisecond)/1e6))})
	}
	ratioBudget("availability 25×31", "availability 25×31 ≥ 80% of raw SQL", 0.8, rep.Refs["avail31"])
	want := 2000.0
	if rep.Opts.DB == "mysql" {
		want = 1000
	}
	if p := findPath(rep, "hold, distinct units"); p != nil {
		out = append(out, [3]string{fmt.Sprintf("holds on distinct units ≥ %.0f/s (%s), no double booking", want, rep.Opts.DB),
			fmt.Sprintf("%s/s; %s", num(p.medRPS()), rep.Double), verdict(p.medRPS() >= want && strings.HasPrefix(rep.Double, "OK"),
				fmt.Sprintf("%+.0f/s", p.medRPS()-want))})
	}
	c := rep.Contested
	if c.Waves > 0 {
		p99 := c.Loser.Pct(0.99)
		out = append(out, [3]string{"contested unit: every loser 409, p99 under 50 ms", fmt.Sprintf("%d wrong; loser p99 %s ms", c.Wrong, ms(p99)),
			verdict(c.Wrong == 0 && p99 < 50*time.Millisecond, fmt.Sprintf("%+.1f ms", float64(p99-50*time.Millisecond)/1e6))})
	}
	ph := rep.Photos
	if ph.Vips > 0 {
		r := ph.Souk / ph.Vips
		out = append(out, [3]string{"photos ≥ 50% of vipsthumbnail's photos/s (or off the request path)", fmt.Sprintf("%.0f%% (%.2f vs %.2f photos/s)", 100*r, ph.Souk, ph.Vips),
			verdict(r >= 0.5, fmt.Sprintf("%+.0f points", 100*(r-0.5)))})
	} else {
		out = append(out, [3]string{"photos ≥ 50% of vipsthumbnail's photos/s", fmt.Sprintf("%.2f photos/s; %s", ph.Souk, ph.VipsSkipped), "—"})
	}
	ps := rep.PageSize
	if ps.Gzip > 0 {
		best := ps.Gzip
		if ps.Brotli > 0 && ps.Brotli < best {
			best = ps.Brotli
		}
		out = append(out, [3]string{"product page HTML under 30 KB compressed", fmt.Sprintf("%d B raw, %d B gzip, %d B br", ps.Raw, ps.Gzip, ps.Brotli),
			verdict(ps.Gzip < 30<<10, fmt.Sprintf("%+.1f KB gzip", float64(ps.Gzip-30<<10)/1024))})
	} else {
		out = append(out, [3]string{"product page HTML under 30 KB compressed", "not measured: " + ps.Note, "—"})
	}
	return out
}

func sortedKeys(m map[string]*refPath) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
