package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cihui/internal/config"
	"cihui/internal/syncbuf"
)

// Issue 12, finding 1: with the system running (bin/api on a data
// directory, as `make run` starts it), the admin subcommands of both
// binaries use it and leave it running: token create/list/revoke, migrate
// status and projector rebuild --dry-run, with flags before and after the
// subcommand. Afterwards the API is still ready, the created token works,
// the revoked one is refused, and PostgreSQL is the same server process.
func TestIssue12AdminCommandsLeaveTheRunningSystemServing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binaries")
	}
	bins := t.TempDir()
	for _, b := range []string{"api", "projector"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bins, b), "cihui/cmd/"+b).CombinedOutput(); err != nil {
			t.Fatalf("building %s: %v\n%s", b, err, out)
		}
	}
	api, projector := filepath.Join(bins, "api"), filepath.Join(bins, "projector")
	dir := atRestDataDir(t)
	env := append(os.Environ(), "DATABASE_URL=", "NATS_URL=", "CIHUI_MASTER_KEY=", "CIHUI_DATA_DIR=")

	// Ports the API picks itself: a port picked here and freed could be
	// taken by another package's server before the API binds it, and
	// then /readyz would be answered by that server.
	// --addr-file names both ports as the API got them, and goes with it.
	addrFile := filepath.Join(t.TempDir(), "addr.json")
	srv := exec.Command(api, "--dev", "--data-dir", dir, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1", "--log-level", "warn",
		"--pprof-addr", "127.0.0.1:0", "--addr-file", addrFile)
	srv.Env = env
	var srvLog syncbuf.Buffer
	srv.Stderr = &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = srv.Wait(); close(exited) }()
	t.Cleanup(func() { // runs after the stop below
		if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
			t.Errorf("--addr-file is still there after the API stopped: %v", err)
		}
	})
	t.Cleanup(func() {
		_ = srv.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(60 * time.Second):
			_ = srv.Process.Kill()
		}
	})
	var base string
	ready := func() int {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if ep, ok, _ := config.RunningEndpoints(dir); ok && ep.PID == srv.Process.Pid && ep.APIURL != "" {
			base = ep.APIURL
			if ready() == http.StatusOK {
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("the API exited: %v\n%s", exitErr, srvLog.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API never got ready\n%s", srvLog.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	postmaster := func() string {
		b, err := os.ReadFile(filepath.Join(dir, "pg", "data", "postmaster.pid"))
		if err != nil {
			t.Fatalf("postmaster.pid: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return line
	}
	pgPID := postmaster()
	var urls config.AddrFile
	if b, err := os.ReadFile(addrFile); err != nil {
		t.Errorf("--addr-file: %v", err)
	} else if err := json.Unmarshal(b, &urls); err != nil {
		t.Errorf("--addr-file %s: %v", b, err)
	}
	if urls.APIURL != base || urls.PID != srv.Process.Pid {
		t.Errorf("--addr-file names %s (pid %d), want %s (pid %d)", urls.APIURL, urls.PID, base, srv.Process.Pid)
	}
	if resp, err := http.Get(urls.PprofURL + "/debug/pprof/"); err != nil {
		t.Errorf("the profiles at the URL --addr-file names (%q): %v", urls.PprofURL, err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("the profiles at the URL --addr-file names (%q): %s", urls.PprofURL, resp.Status)
		}
	}

	runCmd := func(bin string, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			state := "running"
			select {
			case <-exited:
				state = fmt.Sprintf("exited: %v", exitErr)
			default:
			}
			t.Fatalf("%s %q: %v\n%s%s\nthe API (%s) logged:\n%s", filepath.Base(bin), args, err, out, stderr.String(), state, srvLog.String())
		}
		return string(out)
	}
	idRe := regexp.MustCompile(`(?m)^id: (\S+)$`)
	tokRe := regexp.MustCompile(`(?m)^token: (\S+)$`)
	// Flags before the subcommand, then after it.
	out := runCmd(api, "--data-dir", dir, "token", "create", "--role", "origin_school", "--school", "034502", "--label", "kept")
	keptID, kept := idRe.FindStringSubmatch(out), tokRe.FindStringSubmatch(out)
	out = runCmd(api, "token", "create", "--role", "origin_school", "--school", "034503", "--data-dir", dir)
	goneID, gone := idRe.FindStringSubmatch(out), tokRe.FindStringSubmatch(out)
	if keptID == nil || kept == nil || goneID == nil || gone == nil {
		t.Fatalf("token create printed no id and token: %q", out)
	}
	list := runCmd(api, "token", "list", "--data-dir", dir)
	if !strings.Contains(list, keptID[1]) || !strings.Contains(list, goneID[1]) {
		t.Errorf("token list does not show the new tokens:\n%s", list)
	}
	runCmd(api, "token", "revoke", goneID[1], "--data-dir", dir)
	if st := runCmd(api, "migrate", "status", "--data-dir", dir); !strings.Contains(st, "schema version") {
		t.Errorf("migrate status: %q", st)
	}
	dry := runCmd(projector, "rebuild", "--dry-run", "--data-dir", dir, "--metrics-addr", "")
	for _, want := range []string{"dry run", "read_models", "cases", "access_log"} {
		if !strings.Contains(dry, want) {
			t.Errorf("rebuild --dry-run does not say %q:\n%s", want, dry)
		}
	}

	// A rebuild beside a running projector (whose metrics address it
	// finds taken) switches the read models in and exits: it neither
	// fails after its work nor follows beside the other.
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer rcancel()
	rb := exec.CommandContext(rctx, projector, "rebuild", "--data-dir", dir, "--metrics-addr", held.Addr().String())
	rb.Env = env
	if out, err := rb.CombinedOutput(); err != nil || !strings.Contains(string(out), "switched to the rebuilt read models") ||
		!strings.Contains(string(out), "without following") {
		t.Errorf("projector rebuild beside a running projector: %v\n%s", err, out)
	}

	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz after the commands: %d\n%s", got, srvLog.String())
	}
	if got := postmaster(); got != pgPID {
		t.Errorf("PostgreSQL is process %s now, was %s: a command stopped it", got, pgPID)
	}
	status := func(token string) int {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/referrals", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode
	}
	if got := status(kept[1]); got != http.StatusOK {
		t.Errorf("the created token on /v1/referrals: %d, want 200", got)
	}
	if got := status(gone[1]); got != http.StatusUnauthorized {
		t.Errorf("the revoked token on /v1/referrals: %d, want 401", got)
	}

	// keys rotate needs the API stopped, and says so rather than
	// rotating under it.
	cmd := exec.Command(api, "keys", "rotate", "--data-dir", dir, "--dev")
	cmd.Env = append(env, "CIHUI_NEW_MASTER_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "stop the API") {
		t.Errorf("keys rotate while the API runs: %v\n%s", err, out)
	}
	// A second API on the same data directory refuses to start.
	cmd = exec.Command(api, "--dev", "--data-dir", dir, "--addr", "127.0.0.1:0", "--nats-listen", "127.0.0.1:-1")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "already runs") {
		t.Errorf("a second API on the same data directory: %v\n%s", err, out)
	}
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/readyz at the end: %d", got)
	}
	if got := postmaster(); got != pgPID {
		t.Errorf("PostgreSQL is process %s at the end, was %s", got, pgPID)
	}
}
