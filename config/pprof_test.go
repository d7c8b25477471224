package config

import (
	"strings"
	"testing"
)

// The profiles reveal the process: SOUK_PPROF_ADDR serves them on a
// loopback address only, and is off unless set.
func TestPprofAddrLoopbackOnly(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil || c.PprofAddr != "" {
		t.Fatalf("default: PprofAddr %q, err %v; want off", c.PprofAddr, err)
	}
	for _, addr := range []string{"127.0.0.1:6060", "localhost:6060", "[::1]:6060"} {
		if c, err := Load(env(map[string]string{"SOUK_PPROF_ADDR": addr})); err != nil || c.PprofAddr != addr {
			t.Errorf("SOUK_PPROF_ADDR=%s: %q, %v; want accepted", addr, c.PprofAddr, err)
		}
	}
	for _, addr := range []string{":6060", "0.0.0.0:6060", "10.0.0.5:6060", "example.com:6060", "127.0.0.1"} {
		if _, err := Load(env(map[string]string{"SOUK_PPROF_ADDR": addr})); err == nil || !strings.Contains(err.Error(), "SOUK_PPROF_ADDR") {
			t.Errorf("SOUK_PPROF_ADDR=%s: %v; want refused", addr, err)
		}
	}
}
