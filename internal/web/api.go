package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"

	"cihui/internal/events"
	"cihui/internal/httpapi"
)

// Identity is the signed-in person a page acts for.
type Identity struct {
	Actor events.Actor
	// bearer is the credential the pages call the API with (interim
	// sign-in: the person's own API token).
	bearer string
	// csrf is the session's anti-forgery token its forms carry.
	csrf string
}

// TokenAuthenticator validates an API bearer token as the API does.
type TokenAuthenticator interface {
	Authenticate(ctx context.Context, token string) (events.Actor, error)
}

// call runs one request through the API's own handler, in process, as
// the signed-in person: the same routes, scope, rules, access records and
// problem details as a client of /v1 gets. out receives a 2xx JSON body;
// a problem comes back as *httpapi.Problem.
func (h *Handler) call(ctx context.Context, id *Identity, method, path string, body any, idemKey string, out any) *httpapi.Problem {
	var rd io.Reader = http.NoBody // a handler's request always has a body
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &httpapi.Problem{Status: 500, Code: "internal", Title: "internal error"}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return &httpapi.Problem{Status: 500, Code: "internal", Title: "internal error"}
	}
	req.Header.Set("Authorization", "Bearer "+id.bearer)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		p := &httpapi.Problem{}
		if json.Unmarshal(data, p) != nil || p.Status == 0 {
			p.Status, p.Code = res.StatusCode, "internal"
		}
		return p
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return &httpapi.Problem{Status: 500, Code: "internal", Title: "unreadable answer"}
		}
	}
	return nil
}
