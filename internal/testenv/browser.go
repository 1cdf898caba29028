package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Browser is a client that keeps cookies as a browser would on HTTPS
// (the test server is plain HTTP, so Secure cookies are kept by hand)
// and does not follow redirects: tests see each 303 and its cookies.
type Browser struct {
	e       *Env
	Cookies map[string]*http.Cookie
	client  *http.Client
}

// NewBrowser returns a browser without cookies.
func (e *Env) NewBrowser() *Browser {
	return &Browser{e: e, Cookies: map[string]*http.Cookie{}, client: &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Do sends a request with the browser's cookies; a body that is
// url.Values is sent as a form, any other non-nil body as JSON.
func (b *Browser) Do(method, path string, body any, headers ...string) Response {
	b.e.T.Helper()
	var rd io.Reader
	ctype := ""
	switch v := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	case string:
		rd, ctype = strings.NewReader(v), "application/json"
	default:
		j, err := json.Marshal(v)
		if err != nil {
			b.e.T.Fatal(err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = b.e.HTTP.URL + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		b.e.T.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if strings.HasPrefix(u, b.e.HTTP.URL) {
		for _, c := range b.Cookies {
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.T.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.T.Fatal(err)
	}
	if strings.HasPrefix(u, b.e.HTTP.URL) {
		for _, c := range resp.Cookies() {
			if c.MaxAge < 0 || c.Value == "" {
				delete(b.Cookies, c.Name)
			} else {
				b.Cookies[c.Name] = c
			}
		}
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: out}
}

// CSRF returns the token the browser's forms carry (GET /auth/csrf).
func (b *Browser) CSRF() string {
	b.e.T.Helper()
	r := b.Do("GET", "/auth/csrf", nil)
	if r.Status != http.StatusOK {
		b.e.T.Fatalf("GET /auth/csrf: %d %s", r.Status, r.Body)
	}
	return r.JSON(b.e.T)["csrf_token"].(string)
}

// Base is the URL of the API the browser talks to.
func (b *Browser) Base() string { return b.e.HTTP.URL }
