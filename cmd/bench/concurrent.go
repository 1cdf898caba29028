package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"sync"
	"syscall"
	"time"

	js "github.com/nats-io/nats.go/jetstream"

	"cihui/internal/app"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// profileFlags name the files the 16-client command phase writes its CPU
// and allocation profiles to (empty: none). The API runs in this process,
// so the profiles show the server and the bench's own clients.
var cpuProfile, allocProfile string

// Each figure measures at least concurrentMin commands: at -n 2000 an
// HTTP round lasted about a tenth of a second and the ratio moved by
// ±0.15 from run to run on a shared machine. Each client cycles over
// casesPerClient cases of its own, so that a case's history (folded by
// every command) stays as long as at -n 2000 with one case a client.
const (
	concurrentMin  = 8000
	casesPerClient = 4
)

// benchConcurrent measures commands from k clients at once, each on
// cases of its own, against k raw writers publishing with an expected
// subject sequence to their own subjects on the same SyncAlways server,
// in the same run.
func benchConcurrent(ctx context.Context, e *env, n int) error {
	tok, _, err := postgres.NewTokens(e.db).Create(ctx, postgres.TokenInfo{Role: domain.RoleOriginSchool, School: "034501"})
	if err != nil {
		return err
	}
	n = max(n, concurrentMin)
	for _, k := range []int{16, 64} {
		ids, err := openCases(ctx, e, k*casesPerClient)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("commands_%d_clients", k)
		err = versusRaw(ctx, e, k, n, name, k == 16, func(c, j int) error {
			return httpPut(e.http.URL+"/v1/referrals/"+ids[c*casesPerClient+j%casesPerClient]+"/documents/"+strconv.Itoa(1+j/casesPerClient%4), tok, `{"pages":1}`)
		}, fmt.Sprintf("%d HTTP clients, each PUTting documents of %d cases of its own in turn (auth, load, rules, append)", k, casesPerClient))
		if err != nil {
			return err
		}
	}
	// The same commands without HTTP: where the rest of the gap lies.
	const k = 16
	ids, err := openCases(ctx, e, k*casesPerClient)
	if err != nil {
		return err
	}
	m := app.Meta{Actor: events.Actor{Role: domain.RoleOriginSchool, School: "034501"}}
	return versusRaw(ctx, e, k, n, "commands_16_callers_no_http", false, func(c, j int) error {
		_, err := e.svc.SubmitDocument(ctx, m, ids[c*casesPerClient+j%casesPerClient], 1+j/casesPerClient%4, 1, nil, false)
		return err
	}, fmt.Sprintf("%d goroutines calling the service's SubmitDocument directly, each on %d cases of its own in turn (load, rules, append; no HTTP, no token check)", k, casesPerClient))
}

func openCases(ctx context.Context, e *env, n int) ([]string, error) {
	ids := make([]string, n)
	for i := range ids {
		var err error
		if ids[i], _, err = openCase(ctx, e); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// versusRaw measures n operations op from k clients (client c's j-th
// operation of the figure) against k raw writers, in alternating rounds
// so that both meet the same moments of a shared machine, and emits the
// figure name with its latency and CPU figures. profile: the last round
// writes the profiles asked for.
func versusRaw(ctx context.Context, e *env, k, n int, name string, profile bool, op func(c, j int) error, what string) error {
	const rounds = 4
	m := n / rounds / k * k
	var rawD, opD, rawCPU, opCPU time.Duration
	var rawSteal, opSteal int64 // the host's ticks during each side
	var lat []time.Duration
	done := 0
	for r := range rounds {
		c0 := cpuTime()
		_, s0, err := machineTicks()
		if err != nil {
			return err
		}
		d, err := rawWriters(ctx, e, k, m)
		if err != nil {
			return err
		}
		rawD += d
		c1 := cpuTime()
		rawCPU += c1 - c0
		_, s1, err := machineTicks()
		if err != nil {
			return err
		}
		rawSteal += s1 - s0
		stop := func() {}
		if profile && r == rounds-1 {
			if stop, err = startProfiles(); err != nil {
				return err
			}
		}
		l, d, err := parallel(k, m, func(c, i int) error { return op(c, done/k+i) })
		stop()
		if err != nil {
			return err
		}
		opD += d
		opCPU += cpuTime() - c1
		_, s2, err := machineTicks()
		if err != nil {
			return err
		}
		opSteal += s2 - s1
		lat = append(lat, l...)
		done += m
	}
	emit(Result{Figure: name, Unit: "commands/s", Value: perSec(done, opD), Baseline: perSec(done, rawD), N: done,
		Note: fmt.Sprintf("%s, vs %d raw JetStream writers publishing with an expected subject sequence to their own subjects, SyncAlways, same server; %d alternating rounds", what, k, rounds)})
	emit(Result{Figure: name + "_p99", Unit: "µs", Value: float64(pct(lat, 0.99).Microseconds()), Baseline: float64(pct(lat, 0.50).Microseconds()), N: len(lat),
		Note: "p99 command latency; baseline: p50 of the same requests"})
	emit(Result{Figure: name + "_cpu", Unit: "µs", Value: float64(opCPU.Microseconds()) / float64(done), Baseline: float64(rawCPU.Microseconds()) / float64(done), N: done,
		Note: "CPU time of this process (API, clients and the embedded NATS server) per command; baseline: per raw publish. Less sensitive to a shared machine than the rates"})
	emit(Result{Figure: name + "_machine_steal", Unit: "%", Value: round(coreShare(opSteal, opD.Seconds())), Baseline: round(coreShare(rawSteal, rawD.Seconds())), N: done,
		Note: "share of the machine's cores the host gave to others while this one had work (/proc/stat's steal) during these commands; baseline: during the raw writers. A side that lost more to the host is slower for it"})
	return nil
}

// rawWriters is the baseline: k goroutines each publishing to a subject
// of its own with the expected last subject sequence, n messages in all.
func rawWriters(ctx context.Context, e *env, k, n int) (time.Duration, error) {
	j := e.store.JetStream()
	last := make([]uint64, k)
	run := time.Now().UnixNano()
	_, d, err := parallel(k, n, func(c, _ int) error {
		ack, err := j.Publish(ctx, fmt.Sprintf("cihui.bench.raw%d.w%d", run, c), rawEnvelope, js.WithExpectLastSequencePerSubject(last[c]))
		if err != nil {
			return err
		}
		last[c] = ack.Sequence
		return nil
	})
	return d, err
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// parallel runs n operations from k goroutines (client c runs its share
// in order, i counting its own operations) and returns each latency and
// the wall time.
func parallel(k, n int, op func(c, i int) error) ([]time.Duration, time.Duration, error) {
	lats := make([][]time.Duration, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	t0 := time.Now()
	for c := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / k {
				s := time.Now()
				if err := op(c, i); err != nil {
					errs[c] = err
					return
				}
				lats[c] = append(lats[c], time.Since(s))
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	var all []time.Duration
	for c := range k {
		if errs[c] != nil {
			return nil, 0, errs[c]
		}
		all = append(all, lats[c]...)
	}
	return all, d, nil
}

// startProfiles starts the CPU profile and writes the allocation profile
// so far (<file>.base); the function it returns stops the CPU profile and
// writes the allocation profile again: `go tool pprof -base` shows the
// phase's allocations alone.
func startProfiles() (func(), error) {
	if cpuProfile == "" && allocProfile == "" {
		return func() {}, nil
	}
	var cf *os.File
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		cf = f
	}
	if allocProfile != "" {
		writeAllocs(allocProfile + ".base")
	}
	return func() {
		if cf != nil {
			pprof.StopCPUProfile()
			cf.Close()
		}
		if allocProfile != "" {
			writeAllocs(allocProfile)
		}
	}, nil
}

// writeAllocs writes this process's allocation profile to name (best
// effort: a profile is an aid, not a figure).
func writeAllocs(name string) {
	if f, err := os.Create(name); err == nil {
		_ = pprof.Lookup("allocs").WriteTo(f, 0)
		f.Close()
	}
}
