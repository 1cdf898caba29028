package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"cihui/internal/config"
)

// defaultMemoryLimit is the Go runtime's soft memory limit by default: the
// API's resident memory goal is under 150 MB (issue 13), and the limit
// makes the collector work harder as the heap nears it instead of letting
// a burst of reads double the heap.
const defaultMemoryLimit = "100MiB"

// syncQueueLen is the channel length of the API's sync NATS
// subscriptions: above the largest batch it fetches (jetstream loads and
// key-ring scans of 256 messages), far below the client's default 65,536.
const syncQueueLen = 4096

// runtimeFlags defines the flags of the Go runtime's memory settings and
// of the profiling listener.
func (m *Main) runtimeFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.MemoryLimit, "memory-limit", "CIHUI_MEMORY_LIMIT", defaultMemoryLimit,
		"the Go runtime's soft memory limit (GOMEMLIMIT), such as 100MiB or 1GiB; 0: none. The GOMEMLIMIT environment variable, if set, wins")
	config.StringFlag(fs, &m.GCPercent, "gc-percent", "CIHUI_GC_PERCENT", "100",
		"the Go collector's GOGC: heap growth over the live heap before a collection; off: only the memory limit. The GOGC environment variable, if set, wins")
	config.StringFlag(fs, &m.PprofAddr, "pprof-addr", "CIHUI_PPROF_ADDR", "",
		"serve /debug/pprof on this loopback address (such as 127.0.0.1:6060) for profiling; empty: off")
}

// applyRuntime sets the memory limit and GOGC, unless the Go environment
// variables set them.
func (m *Main) applyRuntime(getenv func(string) string) error {
	if getenv("GOMEMLIMIT") == "" {
		limit, err := parseBytes(m.MemoryLimit)
		if err != nil {
			return fmt.Errorf("--memory-limit %q: %w", m.MemoryLimit, err)
		}
		if limit > 0 {
			debug.SetMemoryLimit(limit)
		}
	}
	if getenv("GOGC") == "" {
		switch v := strings.TrimSpace(m.GCPercent); v {
		case "off":
			debug.SetGCPercent(-1)
		default:
			n, err := strconv.Atoi(v)
			if err != nil || n <= 0 {
				return fmt.Errorf("--gc-percent %q: want a positive number or off", m.GCPercent)
			}
			debug.SetGCPercent(n)
		}
	}
	return nil
}

// servePprof starts the profiling listener, if asked for, with the API's
// metrics beside the profiles (a profiler can tell when a load begins).
func (m *Main) servePprof(metrics http.Handler) error {
	if m.PprofAddr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(m.PprofAddr)
	if err != nil {
		return fmt.Errorf("--pprof-addr %q: %w", m.PprofAddr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--pprof-addr %q: profiles are served on a loopback address only", m.PprofAddr)
	}
	ln, err := net.Listen("tcp", m.PprofAddr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.Handle("/metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	m.closers = append(m.closers, func() { _ = srv.Close() })
	m.pprofURL = "http://" + ln.Addr().String()
	m.log.Info("profiles served", "addr", m.pprofURL+"/debug/pprof/")
	return nil
}

// parseBytes parses a size such as 100MiB, 1GiB, 64MB or a plain number of
// bytes; 0 means none.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(v), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errors.New("want a size such as 100MiB, or 0")
	}
	return n * mult, nil
}
