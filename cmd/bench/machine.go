package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// emitMachine prints the run's machine facts as the first JSON line;
// every figure repeats the cores and the Go version.
func emitMachine() {
	m := struct {
		Machine    bool   `json:"machine"`
		Cores      int    `json:"cores"`
		GOMAXPROCS int    `json:"gomaxprocs"`
		Go         string `json:"go"`
		OS         string `json:"os"`
		Arch       string `json:"arch"`
		CPU        string `json:"cpu,omitempty"`
		Load       string `json:"loadavg,omitempty"`
	}{true, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version(), runtime.GOOS, runtime.GOARCH, cpuModel(), loadAvg()}
	b, _ := json.Marshal(m)
	fmt.Println(string(b))
}

// cpuModel reads the CPU's model name on Linux ("" elsewhere).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1, 5 and 15-minute load average on Linux: the machine
// is shared, so a figure is read beside it.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
