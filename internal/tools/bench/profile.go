package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// profile is what pprof says of one path under load.
type profile struct {
	CPUTop, AllocTop string
	Files            []string
}

// profileSlowest takes a CPU profile and the allocations of the three
// Souk paths that cost the most CPU per request, and of the paths with a
// budget, each under closed-loop load, through souk's opt-in pprof
// listener (SOUK_PPROF_ADDR).
func profileSlowest(ctx context.Context, o options, rep *report, hc *fasthttp.HostClient, pprofAddr string, log *slog.Logger) {
	var ps []*path
	for _, p := range rep.Paths {
		if p.Skipped == "" && len(p.Runs) > 0 {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b *path) int {
		switch {
		case a.medCPU() > b.medCPU():
			return -1
		case a.medCPU() < b.medCPU():
			return 1
		}
		return 0
	})
	if len(ps) > 3 {
		ps = ps[:3]
	}
	// And the paths with a budget, whatever their rank.
	for _, name := range []string{"product page HTML", "availability 25×31", "hold, distinct units"} {
		if p := findPath(rep, name); p != nil && !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	dir := mkdir(filepath.Join(o.Out, fmt.Sprintf("%s-%s-pprof", rep.Started.Format("2006-01-02"), o.DB)))
	secs := max(2, int(o.Duration.Seconds()))
	for _, p := range ps {
		name := slug(p.Name)
		before := filepath.Join(dir, name+".allocs-before.pb.gz")
		after := filepath.Join(dir, name+".allocs.pb.gz")
		cpu := filepath.Join(dir, name+".cpu.pb.gz")
		if err := fetch(fmt.Sprintf("http://%s/debug/pprof/allocs?gc=1", pprofAddr), before); err != nil {
			log.Warn("profile", "path", p.Name, "err", err)
			continue
		}
		done := make(chan error, 1)
		go func() { done <- fetch(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, secs), cpu) }()
		closedLoop(ctx, hc, p.Conns, time.Duration(secs)*time.Second+500*time.Millisecond, &p.next, p.Souk, p.OK)
		if err := <-done; err != nil {
			log.Warn("profile", "path", p.Name, "err", err)
			continue
		}
		if err := fetch(fmt.Sprintf("http://%s/debug/pprof/allocs?gc=1", pprofAddr), after); err != nil {
			log.Warn("profile", "path", p.Name, "err", err)
			continue
		}
		pr := &profile{Files: []string{cpu, after}}
		pr.CPUTop = pprofTop(o.Go, "-top", "-nodecount=18", cpu)
		pr.AllocTop = pprofTop(o.Go, "-top", "-nodecount=14", "-sample_index=alloc_space", "-diff_base="+before, after)
		p.Profiled = pr
		log.Info("profiled", "path", p.Name, "files", dir)
	}
}

func fetch(url, to string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("fetch %s: %s", url, resp.Status)
	}
	f, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("fetch %s: %w", url, err)
	}
	return f.Close()
}

// pprofTop runs `go tool pprof` and keeps the table.
func pprofTop(goCmd string, args ...string) string {
	out, err := exec.Command(goCmd, append([]string{"tool", "pprof"}, args...)...).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("(go tool pprof failed: %v)\n%s", err, out)
	}
	var keep []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "File:") || strings.HasPrefix(l, "Build ID:") || strings.HasPrefix(l, "Type:") || strings.HasPrefix(l, "Time:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.TrimSpace(strings.Join(keep, "\n"))
}
