package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// stopOnSignal makes an interrupted run stop what it started: on SIGINT
// or SIGTERM it cancels ctx (which kills the bin/api it runs, started
// with that context), runs cleanup (the NATS server and the PostgreSQL
// cluster under dir) and removes dir, then exits. Without it, a run
// stopped by Ctrl-C left its PostgreSQL running. The returned function
// runs cleanup once, for the normal end, and stops the watch.
func stopOnSignal(cancel context.CancelFunc, cleanup func(), dir string) (done func()) {
	var once sync.Once
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-sig
		if !ok {
			return
		}
		fmt.Fprintf(os.Stderr, "bench: %v: stopping the servers it started\n", s)
		cancel()
		time.Sleep(200 * time.Millisecond) // os/exec kills the commands of a done context from goroutines
		once.Do(cleanup)
		os.RemoveAll(dir)
		os.Exit(1)
	}()
	return func() {
		signal.Stop(sig)
		close(sig)
		once.Do(cleanup)
	}
}
