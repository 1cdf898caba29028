package main

import (
	"net"
	"strings"
	"testing"
)

// Issue 12: a second projector whose metrics address is taken fails
// clearly, naming the way out, instead of running with a warning.
func TestIssue12SecondProjectorMetricsAddressFailsClearly(t *testing.T) {
	first, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	_, err = listenMetrics(first.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "--metrics-addr ''") {
		t.Fatalf("second listener: %v", err)
	}
	ln, err := listenMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
}

// Issue 12: flags before and after the subcommand; --dry-run only with
// rebuild.
func TestIssue12ProjectorFlagsAfterTheSubcommand(t *testing.T) {
	for _, args := range [][]string{
		{"--database-url", "X", "rebuild", "--dry-run"},
		{"rebuild", "--dry-run", "--database-url", "X"},
	} {
		m := &Main{}
		if err := m.ParseFlags(args); err != nil || !m.Rebuild || !m.DryRun || m.DatabaseURL != "X" {
			t.Errorf("%q: %v %+v", args, err, m)
		}
	}
	if err := (&Main{}).ParseFlags([]string{"--dry-run"}); err == nil {
		t.Error("--dry-run without rebuild accepted")
	}
	if err := (&Main{}).ParseFlags([]string{"rebuld"}); err == nil {
		t.Error("an unknown subcommand accepted")
	}
}
