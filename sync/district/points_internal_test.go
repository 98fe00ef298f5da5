package district

import "testing"

// TestPrinterLabel: the monitor reads the heartbeat's printer state in the
// words district staff use, and a failed last print is a problem to look at.
func TestPrinterLabel(t *testing.T) {
	for in, want := range map[string]struct {
		label string
		ok    bool
	}{
		"escpos-usb 58": {"热敏USB 58", true},
		"escpos-tcp 80, last print ok at 11-29 10:00":             {"热敏网络 80", true},
		"escpos-usb 58, last print failed at 11-29 10:00: 找不到打印机": {"热敏USB 58（上次打印失败 11-29 10:00: 找不到打印机）", false},
		"cups A5, nothing printed yet":                            {"系统打印机 A5", true},
		"not set up: 打印机设置已损坏":                                    {"未设置", false},
		"":                                                        {"未报告", false},
	} {
		if label, ok := printerLabel(in); label != want.label || ok != want.ok {
			t.Errorf("%q: got %q %v, want %q %v", in, label, ok, want.label, want.ok)
		}
	}
}
