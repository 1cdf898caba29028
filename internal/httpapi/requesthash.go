package httpapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
