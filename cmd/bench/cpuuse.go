package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// Where the machine's CPU goes during the read load (issue 13): the
// reads' tail is queueing for two cores shared by the client, the API,
// PostgreSQL and the NATS server, so each party's CPU per request, and
// the machine's busy share, are printed beside the latencies.

// userHZ is the unit of the CPU times in /proc (USER_HZ, 100 on Linux
// whatever the kernel's own tick).
const userHZ = 100

// cpuParties are the processes whose CPU a read load counts.
type cpuParties struct {
	api    int    // bin/api's pid; 0 for none (the floor)
	pgData string // the PostgreSQL cluster's data directory; "" for none
}

// cpuSample is the CPU time used so far by each party and the machine.
type cpuSample struct {
	bench, api  int64         // ticks
	postgres    map[int]int64 // ticks by process of the cluster
	machineBusy int64         // ticks of every core not idle
	// machineSteal: ticks the host ran something else while this machine
	// had work (steal): on a shared host, what moves the figures most.
	machineSteal int64
}

// postgresSince is the cluster's CPU ticks from before to s: each
// process's own difference, a process started since counting whole. A
// backend that ended in between loses what it used in between.
func (s cpuSample) postgresSince(before cpuSample) int64 {
	var sum int64
	for pid, t := range s.postgres {
		sum += t - before.postgres[pid]
	}
	return sum
}

// sample reads the parties' CPU times. A process that ended between the
// listing and the read is counted as far as it was read.
func (p cpuParties) sample() (cpuSample, error) {
	var s cpuSample
	var err error
	if s.bench, _, err = procTicks("self"); err != nil {
		return s, err
	}
	if p.api != 0 {
		if s.api, _, err = procTicks(strconv.Itoa(p.api)); err != nil {
			return s, err
		}
	}
	if p.pgData != "" {
		if s.postgres, err = clusterTicks(p.pgData); err != nil {
			return s, err
		}
	}
	s.machineBusy, s.machineSteal, err = machineTicks()
	return s, err
}

// cpuFigures emits, for the n requests of the parties' load between
// before and after, each party's CPU per request (µs) and the machine's
// busy share of its cores (%), named prefix_cpu_per_request_<party> and
// prefix_machine_busy, and returns the machine's CPU per request. The
// baseline of each per-request figure is floor (the bare server's CPU
// per request, client included; 0: none).
func cpuFigures(prefix string, parties cpuParties, before, after cpuSample, n int, secs float64, floor float64, note string) float64 {
	per := func(ticks int64) float64 { return float64(ticks) * 1e6 / userHZ / float64(max(n, 1)) }
	counted := []struct {
		name     string
		ticks    int64
		what     string
		measured bool
	}{
		{"bench", after.bench - before.bench, "the bench process (the client and its NATS server; in the floor, the client and the bare server)", true},
		{"api", after.api - before.api, "bin/api", parties.api != 0},
		{"postgres", after.postgresSince(before), "the PostgreSQL cluster's processes", parties.pgData != ""},
		{"machine", after.machineBusy - before.machineBusy, "every process of the machine (/proc/stat's per-core counters, sampled at each tick and without the time the host took: they may read below a process's own time, which the scheduler counts exactly)", true},
	}
	var machine float64
	for _, p := range counted {
		if !p.measured {
			continue
		}
		v := per(p.ticks)
		if p.name == "machine" {
			machine = v
		}
		emit(Result{Figure: prefix + "_cpu_per_request_" + p.name, Unit: "µs", Value: round(v), Baseline: floor, N: n,
			Note: fmt.Sprintf("CPU time of %s per request, %s; baseline: the bare echo server's, client included (the floor)", p.what, note)})
	}
	emit(Result{Figure: prefix + "_machine_busy", Unit: "%", Value: round(busyShare(before, after, secs)), Baseline: 100, N: n,
		Note: fmt.Sprintf("share of the machine's %d cores busy (not idle or waiting for I/O), %s", runtime.NumCPU(), note)})
	emitSteal(prefix, before, after, secs, n, note)
	return machine
}

// procTicks returns a process's user and system CPU ticks, and its
// parent's pid.
func procTicks(pid string) (ticks int64, ppid int, err error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold spaces: the fields
	// are counted from the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%s/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is the state (field 3); ppid is field 4, utime 14, stime 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, fmt.Errorf("/proc/%s/stat: malformed", pid)
	}
	return ut + st, ppid, nil
}

// clusterTicks returns the CPU ticks of a PostgreSQL cluster's postmaster
// (its pid the first line of postmaster.pid) and of each of its
// children, the backends and background workers, by pid.
func clusterTicks(dataDir string) (map[int]int64, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return nil, fmt.Errorf("postmaster.pid: %w", err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	ticks := map[int]int64{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		t, ppid, err := procTicks(e.Name())
		if err != nil {
			continue // ended since the listing
		}
		if pid == pm || ppid == pm {
			ticks[pid] = t
		}
	}
	return ticks, nil
}

// busyShare is the share (%) of the machine's cores busy from before to
// after, secs apart.
func busyShare(before, after cpuSample, secs float64) float64 {
	return coreShare(after.machineBusy-before.machineBusy, secs)
}

// stealShare is the share (%) of the machine's cores the host took from
// before to after, secs apart.
func stealShare(before, after cpuSample, secs float64) float64 {
	return coreShare(after.machineSteal-before.machineSteal, secs)
}

// coreShare is the share (%) of the machine's cores that ticks of CPU
// time make over secs.
func coreShare(ticks int64, secs float64) float64 {
	return float64(ticks) / userHZ / secs / float64(runtime.NumCPU()) * 100
}

// emitSteal emits figure_machine_steal: the host's share of the cores
// over the measurement described by what.
func emitSteal(figure string, before, after cpuSample, secs float64, n int, what string) {
	emit(Result{Figure: figure + "_machine_steal", Unit: "%", Value: round(stealShare(before, after, secs)), Baseline: 100, N: n,
		Note: fmt.Sprintf("share of the machine's %d cores the host gave to others while this one had work (/proc/stat's steal), %s: where it is high, every figure of this run is worse for it", runtime.NumCPU(), what)})
}

// machineTicks returns the ticks all cores spent neither idle nor waiting
// for I/O, and those the host took (steal), from /proc/stat's first line.
func machineTicks() (busy, steal int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, fmt.Errorf("/proc/stat: unexpected first line")
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/stat: %w", err)
		}
		// user nice system idle iowait irq softirq steal guest guest_nice:
		// steal is another machine's, guest time is already in user.
		switch {
		case i == 3 || i == 4: // idle, iowait
		case i == 7:
			steal += n
		case i > 7:
		default:
			busy += n
		}
	}
	return busy, steal, nil
}

// rebuildCPU emits the median rebuild's CPU per event: the bench process
// (the rebuild's reading, decoding, folding and COPY encoding, and the
// NATS server delivering) and PostgreSQL, with each one's share of a core
// (100 %: that side alone was the bottleneck) and the machine's busy share.
func rebuildCPU(figure string, before, after cpuSample, events int, secs float64) {
	for _, p := range []struct {
		name, what string
		ticks      int64
	}{
		{"bench", "the bench process (the rebuild's reading, decoding, folding and writing; the NATS server delivering)", after.bench - before.bench},
		{"postgres", "the PostgreSQL cluster's processes", after.postgresSince(before)},
	} {
		cpu := float64(p.ticks) / userHZ
		emit(Result{Figure: figure + "_cpu_per_event_" + p.name, Unit: "µs", Value: round(cpu * 1e6 / float64(max(events, 1))), N: events,
			Note: fmt.Sprintf("CPU time of %s per event in the median rebuild: %.1f s of CPU in %.1f s, %.0f %% of one core", p.what, cpu, secs, cpu/secs*100)})
	}
	emit(Result{Figure: figure + "_machine_busy", Unit: "%", Value: round(busyShare(before, after, secs)), Baseline: 100, N: events,
		Note: fmt.Sprintf("share of the machine's %d cores busy during the median rebuild", runtime.NumCPU())})
	emitSteal(figure, before, after, secs, events, "during the median rebuild")
}
