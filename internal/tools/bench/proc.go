package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat
// (100 on every Linux architecture Go supports).
const clockTicks = 100

// cpuTime returns the user+system CPU time a process has used so far.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	// The command name may hold spaces: fields start after its ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat of %d: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("stat of %d: too few fields", pid)
	}
	// After ')': state is field 3, utime 14, stime 15 (1-based in proc(5)).
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat of %d: bad times", pid)
	}
	return time.Duration(ut+st) * time.Second / clockTicks, nil
}

// findProcess returns the pid of the first process whose command name is
// one of names (to watch the database server's CPU), or 0.
func findProcess(names ...string) int {
	dirs, _ := filepath.Glob("/proc/[0-9]*/comm")
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		comm := strings.TrimSpace(string(b))
		for _, n := range names {
			if comm == n {
				pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(d)))
				return pid
			}
		}
	}
	return 0
}

// pinning places the servers on one core and the load generator on
// another.
type pinning struct {
	OK       bool
	Server   int // core of the servers
	Load     int // core of the load generator
	Note     string
	original unix.CPUSet
}

// pinSelf moves every thread of this process to the load generator's
// core, when the machine has two cores or more we may use.
func pinSelf() *pinning {
	p := &pinning{}
	if err := unix.SchedGetaffinity(0, &p.original); err != nil {
		p.Note = "sched_getaffinity failed (" + err.Error() + "): nothing pinned"
		return p
	}
	var cores []int
	for c := range 1024 {
		if p.original.IsSet(c) {
			cores = append(cores, c)
		}
	}
	if len(cores) < 2 {
		p.Note = fmt.Sprintf("only %d usable core: server and load generator share it, nothing pinned", len(cores))
		return p
	}
	p.Server, p.Load = cores[0], cores[1]
	var set unix.CPUSet
	set.Set(p.Load)
	tasks, _ := filepath.Glob("/proc/self/task/*")
	for _, t := range tasks {
		tid, _ := strconv.Atoi(filepath.Base(t))
		if err := unix.SchedSetaffinity(tid, &set); err != nil {
			p.Note = "sched_setaffinity failed (" + err.Error() + "): nothing pinned"
			return p
		}
	}
	runtime.GOMAXPROCS(1)
	p.OK = true
	p.Note = fmt.Sprintf("servers on core %d, load generator on core %d (sched_setaffinity; GOMAXPROCS follows: 1 each)", p.Server, p.Load)
	if len(cores) > 2 {
		p.Note += fmt.Sprintf("; %d other cores left to the database and the system", len(cores)-2)
	}
	return p
}

// start starts cmd with its threads on the server core: the child
// inherits the affinity of the thread that forks it, so the fork happens
// on a locked thread briefly moved to that core.
func (p *pinning) start(cmd *exec.Cmd) error {
	if !p.OK {
		return cmd.Start()
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var set, back unix.CPUSet
		set.Set(p.Server)
		back.Set(p.Load)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			done <- cmd.Start()
			return
		}
		err := cmd.Start()
		_ = unix.SchedSetaffinity(0, &back)
		done <- err
	}()
	return <-done
}

// machine describes where the numbers were taken.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				if _, v, ok := strings.Cut(l, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(b), "\n", 2)[0]); len(f) >= 2 {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/(1<<20))
			}
		}
	}
	load := ""
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = fmt.Sprintf("; load average at start %s %s %s", f[0], f[1], f[2])
		}
	}
	var u unix.Utsname
	kernel := ""
	if unix.Uname(&u) == nil {
		kernel = ", Linux " + unix.ByteSliceToString(u.Release[:])
	}
	return fmt.Sprintf("%s, %d cores%s%s, %s%s", model, runtime.NumCPU(), mem, kernel, runtime.Version(), load)
}
