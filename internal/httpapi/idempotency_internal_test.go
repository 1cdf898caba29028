package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// metaFor runs commandMeta on a command carrying the Idempotency-Key key
// under the server secret secret.
func metaFor(t *testing.T, secret []byte, key string) string {
	t.Helper()
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/v1/referrals", strings.NewReader("{}"))
	req.Header.Set("Idempotency-Key", key)
	c := e.NewContext(req, httptest.NewRecorder())
	var got string
	h := requestHashKey(secret)(func(c echo.Context) error {
		m, err := commandMeta(c, []byte("{}"))
		got = m.IdempotencyKey
		return err
	})
	if err := h(c); err != nil {
		t.Fatal(err)
	}
	return got
}

// A client may key its retries by a student's national ID. What the
// application keeps of the key, and hashes into the immutable log and into
// the id of a case it creates, is an HMAC of it under the server secret:
// an unkeyed hash of a ten-digit ID is reversed by trying them all.
func TestIdempotencyKeyKeptOnlyAsAKeyedDigest(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	const id = "A123456789"
	got := metaFor(t, secret, id)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(got) {
		t.Fatalf("the kept key is %q, want 64 hex digits", got)
	}
	if strings.Contains(strings.ToUpper(got), id) {
		t.Fatalf("the kept key %q holds the client's key", got)
	}
	if again := metaFor(t, secret, id); again != got {
		t.Fatalf("the same key under the same secret gave %q, then %q: retries would not match", got, again)
	}
	if otherSecret := metaFor(t, other, id); otherSecret == got {
		t.Fatal("the digest does not depend on the server secret: it is an unkeyed hash")
	}
	if otherKey := metaFor(t, secret, "A123456780"); otherKey == got {
		t.Fatal("two keys gave the same digest")
	}
	if none := metaFor(t, secret, ""); none != "" {
		t.Fatalf("no Idempotency-Key gave %q, want none", none)
	}
}
