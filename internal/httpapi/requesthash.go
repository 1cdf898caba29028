package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"

	"github.com/labstack/echo/v4"
)

const requestHashKeyCtx = "cihui.request-hash-key"

// requestHashKey makes the server secret that keys request_hash available
// to commandMeta. request_hash is kept in the immutable log to recognise a
// retried Idempotency-Key; an unkeyed hash of a body holding a national ID
// could be brute-forced offline (issue 8, finding 3), an HMAC under a
// secret held wrapped in the key ring cannot. Without a configured key a
// random one is used: idempotency then holds for this process only.
func requestHashKey(key []byte) echo.MiddlewareFunc {
	if len(key) == 0 {
		key = make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			panic(err)
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(requestHashKeyCtx, key)
			return next(c)
		}
	}
}

// requestHasher returns the keyed hash for a request's request_hash.
func requestHasher(c echo.Context) hash.Hash {
	key, _ := c.Get(requestHashKeyCtx).([]byte)
	return hmac.New(sha256.New, key)
}

// idempotencyDigest is what the application keeps of a client's
// Idempotency-Key: an HMAC under the same server secret, in hex. The key
// reaches the immutable log only as a hash (the scoped key, the event ids,
// the id of a case it created); a client that keys its retries by a
// student's national ID would otherwise leave an unkeyed hash of it there,
// which a search of the ten-digit ID space reverses (the guide: personal
// data never in hashes or ids). Retries still match: the same key gives
// the same digest wherever the key ring's secret is the same.
func idempotencyDigest(c echo.Context, key string) string {
	h := requestHasher(c)
	h.Write([]byte("Idempotency-Key\x00" + key))
	return hex.EncodeToString(h.Sum(nil))
}
