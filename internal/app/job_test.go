package app

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cihui/internal/syncbuf"
)

// A scheduled job whose run panics with a value built from personal data
// goes on to its next run, and the log names the panic's type only.
func TestRunEveryRecoversAPanicWithoutItsValue(t *testing.T) {
	const marker = "A123456789-MARKER"
	var mu syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&mu, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var runs atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		runEvery(ctx, time.Millisecond, time.Hour, log, "test", func(context.Context) (int, error) {
			if runs.Add(1) == 1 {
				panic(errors.New("student " + marker))
			}
			cancel()
			return 0, nil
		})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the job did not run again after a panic")
	}
	if runs.Load() < 2 {
		t.Fatalf("runs = %d, want the job to run again after the panic", runs.Load())
	}
	out := mu.String()
	if strings.Contains(out, marker) {
		t.Fatalf("the log holds the panic's value: %s", out)
	}
	if !strings.Contains(out, "panic(") {
		t.Fatalf("the log does not say the run panicked: %s", out)
	}
}
