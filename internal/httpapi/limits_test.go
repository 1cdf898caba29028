package httpapi_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"cihui/internal/httpapi"
)

// serveLimited serves an API with only the given limits (no dependencies:
// the tests use /healthz alone) on a loopback port and returns its address.
func serveLimited(t *testing.T, l httpapi.Limits) string {
	t.Helper()
	srv := httpapi.New(httpapi.Config{Limits: l})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Shutdown(t.Context())
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// closedWithin reads from conn until the server closes it and returns how
// long that took; it fails the test if the connection is still open after
// limit.
func closedWithin(t *testing.T, conn net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection was still open after %s", limit)
	}
	return time.Since(start)
}

// Issue 7, finding 3: a connection that never finishes its headers was
// held open for minutes. With ReadHeaderTimeout the server closes it, even
// while the client keeps trickling bytes.
func TestSlowHeaderConnectionClosedByServer(t *testing.T) {
	const timeout = 400 * time.Millisecond
	addr := serveLimited(t, httpapi.Limits{ReadHeaderTimeout: timeout, ReadTimeout: time.Second, WriteTimeout: 2 * time.Second, IdleTimeout: time.Second, RequestTimeout: time.Second})

	// The server answers a whole request.
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz = %d", resp.StatusCode)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() { // one more header byte every 50 ms, never the end of the headers
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}
	}()
	took := closedWithin(t, conn, 10*timeout)
	if took < timeout*3/4 {
		t.Fatalf("closed after %s, before the header timeout of %s: something else closed it", took, timeout)
	}
	t.Logf("slow-header connection closed by the server after %s (ReadHeaderTimeout %s)", took, timeout)
}

// An idle kept-alive connection is closed after IdleTimeout.
func TestIdleConnectionClosedByServer(t *testing.T) {
	const idle = 300 * time.Millisecond
	addr := serveLimited(t, httpapi.Limits{IdleTimeout: idle})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("/healthz = %d, close %v: want 200 kept alive", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(10 * idle))
	_, err = io.Copy(io.Discard, br)
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		t.Fatalf("the idle connection was still open after %s", 10*idle)
	}
	if took := time.Since(start); took < idle*3/4 {
		t.Fatalf("closed after %s, before the idle timeout of %s", took, idle)
	}
}

// Request line and headers beyond MaxHeaderBytes are refused with 431.
func TestOversizedHeadersRefused(t *testing.T) {
	addr := serveLimited(t, httpapi.Limits{MaxHeaderBytes: 8 << 10})
	req, _ := http.NewRequest("GET", "http://"+addr+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 200<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("200 KB of headers = %d, want 431", resp.StatusCode)
	}
}

// The documented defaults hold together: the request deadline ends before
// the write timeout, and the read-your-writes wait (2 s) fits in it.
func TestDefaultLimits(t *testing.T) {
	l := httpapi.DefaultLimits()
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout < l.ReadHeaderTimeout || l.IdleTimeout <= 0 || l.MaxHeaderBytes <= 0 {
		t.Fatalf("limits %+v", l)
	}
	if l.RequestTimeout >= l.WriteTimeout || l.RequestTimeout < 5*time.Second {
		t.Fatalf("request timeout %s, write timeout %s: want 2 s of read-your-writes wait and more inside the request timeout, and that inside the write timeout", l.RequestTimeout, l.WriteTimeout)
	}
}
