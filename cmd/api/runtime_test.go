package main

import (
	"runtime/debug"
	"testing"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"100MiB": 100 << 20, "1GiB": 1 << 30, "64MB": 64e6, "0": 0, "4096": 4096, " 2 KiB ": 2048} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1MiB", "lots", "1.5GiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q): no error", in)
		}
	}
}

// The memory limit and GOGC the flags set, unless the Go environment
// variables set them; a bad value is a start-up error.
func TestApplyRuntime(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	noEnv := func(string) string { return "" }
	m := &Main{MemoryLimit: "123MiB", GCPercent: "150"}
	if err := m.applyRuntime(noEnv); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("memory limit %d, want %d", got, 123<<20)
	}
	if got := debug.SetGCPercent(150); got != 150 {
		t.Errorf("GOGC %d, want 150", got)
	}
	debug.SetMemoryLimit(1 << 40)
	env := func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB", "GOGC": "50"}[k] }
	if err := (&Main{MemoryLimit: "10MiB", GCPercent: "10"}).applyRuntime(env); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("GOMEMLIMIT set: the flag changed the limit to %d", got)
	}
	for _, m := range []*Main{{MemoryLimit: "lots", GCPercent: "100"}, {MemoryLimit: "0", GCPercent: "-5"}} {
		if err := m.applyRuntime(noEnv); err == nil {
			t.Errorf("%+v: no error", m)
		}
	}
}
