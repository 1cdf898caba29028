package pgcluster

import (
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// An ephemeral cluster is cleaned up by two watchdog shells chained by
// pipes, each in its own session so that a Ctrl-C meant for this process
// does not kill them first:
//
//	this process ──pipe──▶ stopper (server's user) ──pipe──▶ remover (this user)
//
// Only this process holds the write end of the first pipe, so the stopper
// reads end of file when this process exits, however it exits; it stops
// the server and exits, and the remover, reading end of file in turn,
// removes the cluster directory. Two processes since, when this process
// is root, pg_ctl must run as the server's user but removing Dir may need
// root (its parent need not be writable by the server's user).
const (
	// Arguments: pg_ctl, data directory.
	stopperScript = `read -r _
"$1" stop -D "$2" -m immediate -w -t 30 >/dev/null 2>&1
exit 0`
	// Arguments: cluster directory.
	removerScript = `read -r _
rm -rf -- "$1"`
)

// watchdogPipes holds the write end of each stopper's pipe for the life
// of the process: were one garbage collected, its finalizer would close
// it and fire the watchdog early.
var watchdogPipes struct {
	sync.Mutex
	files []*os.File
}

// removeOnExit starts the watchdogs that stop the server and remove the
// cluster directory when this process exits.
func (c *Cluster) removeOnExit() error {
	// os.Pipe sets close-on-exec: no other child inherits the ends.
	stopR, stopW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer stopR.Close()
	rmR, rmW, err := os.Pipe()
	if err != nil {
		stopW.Close()
		return fmt.Errorf("pgcluster: %w", err)
	}
	defer rmR.Close()
	defer rmW.Close()

	remover := c.watchdog(nil, removerScript, c.dir)
	remover.Stdin = rmR
	stopper := c.watchdog(c.cred, stopperScript, c.tool("pg_ctl"), c.dataDir())
	stopper.Stdin = stopR
	stopper.Stdout = rmW // its exit closes the remover's pipe
	for _, cmd := range []*exec.Cmd{stopper, remover} {
		if err := cmd.Start(); err != nil {
			stopW.Close() // fires what has started
			return fmt.Errorf("pgcluster: starting the cleanup watchdog: %w", err)
		}
		go cmd.Wait() // reap it should it exit early
	}
	watchdogPipes.Lock()
	watchdogPipes.files = append(watchdogPipes.files, stopW)
	watchdogPipes.Unlock()
	return nil
}

// watchdog returns a command running a shell script as cred (nil: this
// process's user). Its output goes to /dev/null: `go test` waits for the
// test binary's output pipes to close, which a watchdog must not delay.
func (c *Cluster) watchdog(cred *syscall.Credential, script string, args ...string) *exec.Cmd {
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "pgcluster-watchdog"}, args...)...)
	cmd.Dir = "/"
	cmd.Env = c.env()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Credential: cred}
	return cmd
}
