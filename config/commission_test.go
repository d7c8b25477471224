package config

import (
	"strings"
	"testing"
)

func TestCommissionBPS(t *testing.T) {
	t.Run("OK_Default", func(t *testing.T) {
		c, err := Load(env(nil))
		if err != nil || c.CommissionBPS != DefaultCommissionBPS || DefaultCommissionBPS != 1000 {
			t.Fatalf("default commission %d (%v), want 1000", c.CommissionBPS, err)
		}
	})
	t.Run("OK_Zero", func(t *testing.T) {
		c, err := Load(env(map[string]string{"SOUK_COMMISSION_BPS": "0"}))
		if err != nil || c.CommissionBPS != 0 {
			t.Fatalf("got %d %v", c.CommissionBPS, err)
		}
	})
	for _, bad := range []string{"-1", "5001", "10%", "0.1"} {
		t.Run("Err_"+bad, func(t *testing.T) {
			_, err := Load(env(map[string]string{"SOUK_COMMISSION_BPS": bad}))
			if err == nil || !strings.Contains(err.Error(), "SOUK_COMMISSION_BPS") {
				t.Fatalf("SOUK_COMMISSION_BPS=%s accepted: %v", bad, err)
			}
		})
	}
}
