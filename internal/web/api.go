package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"

	"cihui/internal/csrf"
	"cihui/internal/events"
	"cihui/internal/httpapi"
	"cihui/internal/session"
)

// Identity is the signed-in person a page acts for: their people session
// (internal/session), acting in one of their roles.
type Identity struct {
	Actor events.Actor
	// cookie is the session cookie's value: the pages call the API with
	// it, as the browser would, so the API resolves the same session.
	cookie string
	// csrf is the session's anti-forgery token: its forms carry it, and
	// the pages' calls to the API carry it as X-CSRF-Token.
	csrf string
}

// authorize makes req the signed-in person's, for the API's handler: it
// carries their session cookie and the session's CSRF token, as their
// browser's own call to /v1 would.
func (id *Identity) authorize(req *http.Request) {
	req.AddCookie(&http.Cookie{Name: session.CookieName, Value: id.cookie})
	req.Header.Set(csrf.HeaderName, id.csrf)
}

// call runs one request through the API's own handler, in process, as
// the signed-in person: the same routes, scope, rules, access records and
// problem details as a client of /v1 gets. out receives a 2xx JSON body;
// a problem comes back as *httpapi.Problem.
func (h *Handler) call(ctx context.Context, id *Identity, method, path string, body any, idemKey string, out any) *httpapi.Problem {
	var raw []byte
	ctype := ""
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return &httpapi.Problem{Status: 500, Code: "internal", Title: "internal error"}
		}
		raw, ctype = b, "application/json"
	}
	return h.callRaw(ctx, id, method, path, ctype, raw, idemKey, out)
}

// callRaw is call with a body sent as it is (a calendar file).
func (h *Handler) callRaw(ctx context.Context, id *Identity, method, path, ctype string, body []byte, idemKey string, out any) *httpapi.Problem {
	var rd io.Reader = http.NoBody // a handler's request always has a body
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return &httpapi.Problem{Status: 500, Code: "internal", Title: "internal error"}
	}
	id.authorize(req)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	res := h.serveAPI(req)
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return problemOf(res.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return &httpapi.Problem{Status: 500, Code: "internal", Title: "unreadable answer"}
		}
	}
	return nil
}

// getForForm reads path from the API for a page whose own form typed its
// query: a refusal of the query (400) comes back to be shown beside the
// form, with its status; any other problem is answered on its own page
// (ok false).
func (h *Handler) getForForm(w http.ResponseWriter, r *http.Request, id *Identity, path string, out any) (status int, p *httpapi.Problem, ok bool) {
	p = h.call(r.Context(), id, http.MethodGet, path, nil, "", out)
	if p == nil {
		return http.StatusOK, nil, true
	}
	if p.Status != http.StatusBadRequest {
		h.problemPage(w, id, p)
		return 0, nil, false
	}
	return p.Status, p, true
}

// serveAPI runs a request through the API's handler and returns its
// response.
func (h *Handler) serveAPI(req *http.Request) *http.Response {
	rec := httptest.NewRecorder()
	h.api.ServeHTTP(rec, req)
	return rec.Result()
}

// problemOf reads an API problem answer.
func problemOf(status int, data []byte) *httpapi.Problem {
	p := &httpapi.Problem{}
	if json.Unmarshal(data, p) != nil || p.Status == 0 {
		p.Status, p.Code = status, "internal"
	}
	return p
}
