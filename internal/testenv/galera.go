package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // the "mysql" driver for the readiness checks
)

// Where Debian's mariadb-server and galera-4 packages put their parts.
const (
	GaleraProvider = "/usr/lib/galera/libgalera_smm.so"
	mariadbd       = "/usr/sbin/mariadbd"
)

// GaleraCluster is a running two-node MariaDB Galera cluster on loopback.
type GaleraCluster struct {
	// DSNs are the nodes' go-sql-driver DSNs, without database name, in the
	// form MySQLDSN returns (root, no password, TCP on 127.0.0.1).
	DSNs []string
	// Addrs are the nodes' SQL addresses (127.0.0.1:port).
	Addrs []string
	// Dir holds the nodes' data folders, configuration and logs.
	Dir string
	// StartedIn is how long the cluster took to start.
	StartedIn time.Duration

	nodes []*galeraNode
}

type galeraNode struct {
	name    string
	dir     string // data folder
	cnf     string
	logFile string
	addr    string
	uid     uint32 // mysql
	gid     uint32
	cmd     *exec.Cmd
	exited  chan struct{}
}

var galera struct {
	sync.Once
	c       *GaleraCluster
	err     error
	missing string
}

// Galera returns a two-node MariaDB Galera cluster on loopback ports,
// started on the first call and shared by every test of the test binary.
// Node 1 bootstraps the cluster, node 2 joins it by rsync SST; both accept
// writes. When Galera cannot run here (no galera-4 library, no MariaDB
// server, not root) the test skips loudly, or fails under CI=true.
//
// The cluster lives as long as the test binary, without a TestMain: each
// mariadbd is started from an OS thread that stays locked for the node's
// life, with Pdeathsig set, so the kernel kills the node when the test
// binary exits, however it exits (end of tests, panic, timeout). Data
// folders of binaries that are gone are removed by the next start. The
// nodes' logs are printed when a test that uses the cluster fails.
func Galera(tb testing.TB) GaleraCluster {
	tb.Helper()
	if os.Getenv("SOUK_TEST_GALERA") == "" {
		tb.Skip("the Galera proofs run under `make reliability` (SOUK_TEST_GALERA=1), not in `make test`")
	}
	galera.Do(func() {
		if why := galeraMissing(); why != "" {
			galera.missing = why
			return
		}
		galera.c, galera.err = startGalera()
	})
	if galera.missing != "" {
		Missing(tb, "galera", galera.missing)
	}
	if galera.err != nil {
		tb.Fatalf("start the Galera cluster: %v", galera.err)
	}
	c := *galera.c
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("Galera cluster in %s; node logs:\n%s", c.Dir, c.Logs(60))
		}
	})
	return c
}

// galeraMissing says why Galera cannot start on this machine, or "".
func galeraMissing() string {
	if runtime.GOOS != "linux" {
		return "the Galera test cluster runs on Linux only"
	}
	if os.Geteuid() != 0 {
		return "starting mariadbd --user=mysql needs root"
	}
	for _, p := range []string{GaleraProvider, mariadbd} {
		if _, err := os.Stat(p); err != nil {
			return p + " is missing (apt-get install -y mariadb-server galera-4)"
		}
	}
	for _, bin := range []string{"mariadb-install-db", "rsync"} {
		if _, err := exec.LookPath(bin); err != nil {
			return bin + " is missing (apt-get install -y mariadb-server rsync)"
		}
	}
	if _, err := user.Lookup("mysql"); err != nil {
		return "no mysql user to run mariadbd as"
	}
	return ""
}

const galeraDirPrefix = "souk-galera-"

func startGalera() (*GaleraCluster, error) {
	start := time.Now()
	removeStaleGaleraDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", galeraDirPrefix, os.Getpid()))
	if err != nil {
		return nil, err
	}
	mysqlUser, _ := user.Lookup("mysql")
	uid, _ := strconv.Atoi(mysqlUser.Uid)
	gid, _ := strconv.Atoi(mysqlUser.Gid)
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	// 4 ports per node: SQL, group communication, IST and SST.
	ports, err := freePorts(8)
	if err != nil {
		return nil, err
	}
	c := &GaleraCluster{Dir: dir}
	gcomm := fmt.Sprintf("gcomm://127.0.0.1:%d,127.0.0.1:%d", ports[1], ports[5])
	for i := range 2 {
		p := ports[i*4 : i*4+4]
		n := &galeraNode{
			name:    fmt.Sprintf("node%d", i+1),
			dir:     filepath.Join(dir, fmt.Sprintf("node%d", i+1)),
			cnf:     filepath.Join(dir, fmt.Sprintf("node%d.cnf", i+1)),
			logFile: filepath.Join(dir, fmt.Sprintf("node%d.err", i+1)),
			addr:    fmt.Sprintf("127.0.0.1:%d", p[0]),
			uid:     uint32(uid),
			gid:     uint32(gid),
		}
		cnf := fmt.Sprintf(`[mysqld]
datadir=%[1]s
socket=%[2]s/%[3]s.sock
pid-file=%[2]s/%[3]s.pid
log-error=%[4]s
bind-address=127.0.0.1
port=%[5]d
skip-log-bin
binlog_format=ROW
default_storage_engine=InnoDB
innodb_autoinc_lock_mode=2
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
performance_schema=OFF
max_connections=300
wsrep_on=ON
wsrep_provider=%[6]s
wsrep_cluster_name=souk-test-%[7]d
wsrep_cluster_address=%[8]s
wsrep_node_name=%[3]s
wsrep_node_address=127.0.0.1:%[9]d
wsrep_provider_options="base_host=127.0.0.1;base_port=%[9]d;gmcast.listen_addr=tcp://127.0.0.1:%[9]d;ist.recv_addr=127.0.0.1:%[10]d;gcache.size=32M;gcache.page_size=32M"
wsrep_sst_method=rsync
wsrep_sst_receive_address=127.0.0.1:%[11]d
wsrep_slave_threads=2
`, n.dir, dir, n.name, n.logFile, p[0], GaleraProvider, os.Getpid(), gcomm, p[1], p[2], p[3])
		if err := os.WriteFile(n.cnf, []byte(cnf), 0o644); err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		c.Addrs = append(c.Addrs, n.addr)
		c.DSNs = append(c.DSNs, fmt.Sprintf("root@tcp(%s)/", n.addr))
	}
	fail := func(err error) (*GaleraCluster, error) {
		c.stop()
		return nil, fmt.Errorf("%w\nnode logs (kept in %s):\n%s", err, dir, c.Logs(80))
	}
	// Node 1 gets system tables (root@localhost without password, which
	// also matches TCP from 127.0.0.1); node 2 gets them by SST.
	install := exec.Command("mariadb-install-db", "--no-defaults", "--user=mysql", "--datadir="+c.nodes[0].dir,
		"--auth-root-authentication-method=normal", "--skip-test-db")
	if out, err := install.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("mariadb-install-db: %v\n%s", err, out))
	}
	if err := os.Mkdir(c.nodes[1].dir, 0o750); err != nil {
		return fail(err)
	}
	if err := os.Chown(c.nodes[1].dir, uid, gid); err != nil {
		return fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := c.nodes[0].start("--wsrep-new-cluster"); err != nil {
		return fail(err)
	}
	if err := c.wait(ctx, c.nodes[:1], 1); err != nil {
		return fail(fmt.Errorf("node 1 (bootstrap): %w", err))
	}
	if err := c.nodes[1].start(); err != nil {
		return fail(err)
	}
	if err := c.wait(ctx, c.nodes, 2); err != nil {
		return fail(fmt.Errorf("node 2 joining: %w", err))
	}
	c.StartedIn = time.Since(start)
	return c, nil
}

// start runs mariadbd (as the mysql user, with --user=mysql) from a
// goroutine locked to its OS thread for the node's life: Pdeathsig fires
// when the thread that started the child ends, and a locked goroutine that
// does not return keeps that thread until the node or the test binary ends.
func (n *galeraNode) start(extra ...string) error {
	args := append([]string{"--defaults-file=" + n.cnf, "--user=mysql"}, extra...)
	started := make(chan error, 1)
	n.exited = make(chan struct{})
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the node
		cmd := exec.Command(mariadbd, args...)
		// The child runs as mysql from the start: a mariadbd that switched
		// user itself (--user as root) would lose Pdeathsig, which the
		// kernel clears on a change of credentials.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL,
			Credential: &syscall.Credential{Uid: n.uid, Gid: n.gid}}
		out, err := os.OpenFile(n.logFile+".out", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			started <- err
			close(n.exited)
			return
		}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			out.Close()
			started <- fmt.Errorf("start %s: %w", n.name, err)
			close(n.exited)
			return
		}
		n.cmd = cmd
		started <- nil
		_ = cmd.Wait()
		out.Close()
		close(n.exited)
	}()
	return <-started
}

// wait polls the nodes until each is ready and sees size members.
func (c *GaleraCluster) wait(ctx context.Context, nodes []*galeraNode, size int) error {
	for _, n := range nodes {
		var last error
		for {
			select {
			case <-n.exited:
				return fmt.Errorf("%s exited", n.name)
			default:
			}
			last = n.ready(ctx, size)
			if last == nil {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s not ready in time: %v", n.name, last)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return nil
}

func (n *galeraNode) ready(ctx context.Context, size int) error {
	db, err := sql.Open("mysql", fmt.Sprintf("root@tcp(%s)/?timeout=1s", n.addr))
	if err != nil {
		return err
	}
	defer db.Close()
	status := map[string]string{}
	rows, err := db.QueryContext(ctx, "SHOW GLOBAL STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_cluster_size', 'wsrep_local_state_comment', 'wsrep_cluster_status')")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		status[k] = v
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if status["wsrep_ready"] != "ON" || status["wsrep_cluster_size"] != strconv.Itoa(size) ||
		status["wsrep_local_state_comment"] != "Synced" || status["wsrep_cluster_status"] != "Primary" {
		return fmt.Errorf("wsrep status %v", status)
	}
	return nil
}

// Logs returns the last lines of each node's error log.
func (c *GaleraCluster) Logs(lines int) string {
	var b strings.Builder
	for _, n := range c.nodes {
		for _, f := range []string{n.logFile, n.logFile + ".out"} {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			all := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
			fmt.Fprintf(&b, "--- %s (last %d lines)\n%s\n", f, min(lines, len(all)), strings.Join(all[max(0, len(all)-lines):], "\n"))
		}
	}
	return b.String()
}

// stop kills the nodes' process groups (the SST scripts with them): used
// when the cluster fails to start; a started cluster ends with the binary.
func (c *GaleraCluster) stop() {
	for _, n := range c.nodes {
		if n.cmd == nil || n.cmd.Process == nil {
			continue
		}
		_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		select {
		case <-n.exited:
		case <-time.After(10 * time.Second):
		}
	}
}

// removeStaleGaleraDirs removes the data folders of earlier test binaries
// that have exited (their nodes died with them).
func removeStaleGaleraDirs() {
	matches, _ := filepath.Glob(filepath.Join(os.TempDir(), galeraDirPrefix+"*"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), galeraDirPrefix)
		pidText, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(m)
		}
	}
}

// freePorts returns n distinct free loopback ports, held open together so
// that none is handed out twice.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, l := range lns {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
