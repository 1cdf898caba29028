package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"cihui/internal/config"
	"cihui/internal/domain"
	"cihui/internal/jetstream"
	"cihui/internal/postgres"
)

// warmUp is how long the read load runs before it is measured.
const warmUp = time.Second

// scale holds the flags of the scale figures (issue 13).
var scale struct {
	only     bool
	cases    int
	profile  string
	rate     int
	duration time.Duration
	slow     bool
	// rebuildOnly stops the scale figures after the rebuild's.
	rebuildOnly bool
}

func init() {
	flag.BoolVar(&scale.rebuildOnly, "rebuild-only", false, "scale figures: only the generation and the rebuild (with -scale or -only scale)")
}

// benchScale generates scale.cases cases into the stream and measures at
// that size: the rebuild, the store's size on disk, the API's resident
// memory at rest and under a fixed-rate read load, and the reads' latency.
func benchScale(ctx context.Context, e *env, dir string) error {
	st, err := benchRebuild(ctx, e, scale.cases, scale.profile)
	if err != nil {
		return err
	}
	if err := storeSize(ctx, e, dir, st.Cases); err != nil {
		return err
	}
	if scale.rebuildOnly {
		return nil
	}
	// The floor beside the reads, as -only readload measures it.
	if err := readSizesSettled(ctx, e); err != nil {
		return err
	}
	if err := readFloor(ctx); err != nil {
		return err
	}
	return apiUnderLoad(ctx, e, dir, st.Cases, nil)
}

// storeSize reports the event store's and the read models' size on disk.
func storeSize(ctx context.Context, e *env, dir string, cases int) error {
	var natsBytes int64
	_ = filepath.WalkDir(filepath.Join(dir, "nats"), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				natsBytes += fi.Size()
			}
		}
		return nil
	})
	var pgBytes int64
	if err := e.db.GetContext(ctx, &pgBytes, `SELECT pg_database_size(current_database())`); err != nil {
		return err
	}
	last, err := e.store.LastPosition(ctx)
	if err != nil {
		return err
	}
	emit(Result{Figure: "store_size_event_log", Unit: "MB", Value: float64(natsBytes) / 1e6, N: int(last),
		Note: fmt.Sprintf("JetStream file store of the whole run (%d events, %d generated cases): %.0f bytes an event", last, cases, float64(natsBytes)/float64(max(last, 1)))})
	emit(Result{Figure: "store_size_read_models", Unit: "MB", Value: float64(pgBytes) / 1e6, N: cases,
		Note: "the PostgreSQL database (read models, indexes, tokens, access log)"})
	return nil
}

// apiUnderLoad runs bin/api (built beside bin/bench) on the run's NATS and
// PostgreSQL and measures its resident memory at rest and under a
// fixed-rate, open-loop read load (each request's latency counted from the
// moment it was due, so a stall is not hidden), and the reads' latency.
func apiUnderLoad(ctx context.Context, e *env, dir string, cases int, profile func(pprofURL string)) error {
	// The generation and the rebuild just wrote gigabytes (4 GB at
	// 100,000 cases): the kernel's writeback of them held the access
	// log's fsyncs for up to 100 ms at a time, in every route that writes
	// a record (and a bare echo server's max rose to 23 ms). The figures
	// are of the reads at this size, so the writeback ends first.
	//
	// Likewise PostgreSQL's own: at 100,000 cases the rebuild's WAL
	// starts checkpoints, and one still spreading its writes (4.5
	// minutes by default) ends with an fsync of every file it wrote. A
	// CHECKPOINT here finishes it first (settle, rebuild.go).
	if err := settle(ctx, e); err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	bin := filepath.Join(filepath.Dir(exe), "api")
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the API binary beside the bench (run `make build`): %w", err)
	}
	// bin/api takes a free port itself and names it in --addr-file: a
	// port picked here and freed could be taken before bin/api binds it.
	addrFile := filepath.Join(dir, "api-addr.json")
	_ = os.Remove(addrFile)
	args := []string{"--addr", "127.0.0.1:0", "--addr-file", addrFile, "--data-dir", filepath.Join(dir, "api"),
		"--lapse-interval", "0", "--retention-interval", "0", "--rollover-interval", "0"}
	if profile != nil {
		args = append(args, "--pprof-addr", "127.0.0.1:0")
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+e.dsn, "NATS_URL="+e.srv.ClientURL(),
		"NATS_NKEY_SEED_FILE="+jetstream.SeedFile(e.authDir, jetstream.UserAPI),
		"CIHUI_MASTER_KEY="+base64.StdEncoding.EncodeToString(e.master), "CIHUI_LOG_LEVEL=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	urls, err := waitAddrFile(ctx, addrFile, exited)
	if err != nil {
		return err
	}
	base := urls.APIURL
	if err := waitHealthy(ctx, base+"/healthz"); err != nil {
		return err
	}
	if profile != nil {
		profile(urls.PprofURL)
	}
	tokens := postgres.NewTokens(e.db)
	tok, _, err := tokens.Create(ctx, postgres.TokenInfo{Role: domain.RoleSocialWorker})
	if err != nil {
		return err
	}
	var ids []string
	if err := e.db.SelectContext(ctx, &ids, `SELECT id FROM cases ORDER BY id`); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}, Timeout: 30 * time.Second}
	get := func(path string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	routes := []struct{ name, note string }{
		{"case_detail", "GET /v1/referrals/{id} of a random case"},
		{"list_50", "GET /v1/referrals?limit=50"},
		{"visit_queue", "GET /v1/home-visits/queue"},
	}
	path := func(r int) string {
		switch r {
		case 0:
			return "/v1/referrals/" + ids[rand.IntN(len(ids))]
		case 1:
			return "/v1/referrals?limit=50"
		}
		return "/v1/home-visits/queue"
	}
	for r := range routes { // warm up: every route answers
		for range 20 {
			if code, err := get(path(r)); err != nil || code != http.StatusOK {
				return fmt.Errorf("warm-up %s: %d %v", routes[r].name, code, err)
			}
		}
	}
	time.Sleep(time.Second)
	rest, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	emit(Result{Figure: "api_rss_at_rest", Unit: "MB", Value: float64(rest) / 1e6, Baseline: 150, N: cases,
		Note: fmt.Sprintf("resident memory of bin/api after warm-up, %d cases in the read models; baseline: the goal (150 MB)", len(ids))})

	var mu sync.Mutex
	var peak int64
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if v, err := rss(cmd.Process.Pid); err == nil {
					mu.Lock()
					peak = max(peak, v)
					mu.Unlock()
				}
			}
		}
	}()
	// Open loop: request i is due at start + i/rate, whatever came before.
	load := func(d time.Duration) ([][]time.Duration, []int, int, time.Duration) {
		return openLoopRoutes(scale.rate, d, len(routes), func(r int) error {
			code, err := get(path(r))
			if err == nil && code != http.StatusOK {
				err = fmt.Errorf("status %d", code)
			}
			return err
		})
	}
	// A second at the rate first, not counted: the client's connections
	// open, and the first 250 ms (p99 70-115 ms, the rest 3-16 ms) are
	// not taken for the steady state.
	load(warmUp)
	parties := cpuParties{api: cmd.Process.Pid, pgData: e.pgData}
	before, err := parties.sample()
	if err != nil {
		return err
	}
	lat, failed, total, elapsed := load(scale.duration)
	after, err := parties.sample()
	if err != nil {
		return err
	}
	close(stop)
	cpuFigures("read_at_scale", parties, before, after, total, elapsed.Seconds(), floorCPU,
		fmt.Sprintf("%d reads at %d/s, %d cases", total, scale.rate, len(ids)))
	emit(Result{Figure: "api_rss_under_read_load", Unit: "MB", Value: float64(peak) / 1e6, Baseline: 150, N: total,
		Note: fmt.Sprintf("peak resident memory of bin/api during %d reads at %d/s (open loop, achieved %.0f/s); baseline: the goal (150 MB)", total, scale.rate, float64(total)/elapsed.Seconds())})
	for r, rt := range routes {
		if len(lat[r]) == 0 {
			return fmt.Errorf("reads %s: every request failed", rt.name)
		}
		for _, q := range []struct {
			name string
			p    float64
		}{{"p50", 0.50}, {"p99", 0.99}, {"max", 1}} {
			emit(Result{Figure: "read_at_scale_" + rt.name + "_" + q.name, Unit: "µs", Value: float64(pct(lat[r], q.p).Microseconds()), Baseline: 5000, N: len(lat[r]),
				Note: fmt.Sprintf("%s, %d cases, 3 routes interleaved at %d requests/s in all, open loop after %v at that rate not counted, latency from each request's due time; %d failed; baseline: the p99 goal (5 ms)", rt.note, len(ids), scale.rate, warmUp, failed[r])})
		}
	}
	return nil
}

// rss returns a process's resident set size in bytes.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for process %d", pid)
}

// waitAddrFile waits for bin/api to write its --addr-file, or to exit
// (exited closed).
func waitAddrFile(ctx context.Context, path string, exited <-chan struct{}) (config.AddrFile, error) {
	deadline := time.After(time.Minute)
	for {
		a, err := config.ReadAddrFile(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return a, err
		}
		select {
		case <-exited:
			return a, errors.New("bin/api exited before it listened (its log is above)")
		case <-deadline:
			return a, fmt.Errorf("bin/api wrote no %s within a minute", path)
		case <-ctx.Done():
			return a, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("the API did not answer %s", url)
}
