// Package session keeps the web pages' sign-in on the server: the browser
// holds only a random id in an HttpOnly cookie. This is the interim store
// (in memory, lost on restart) until sessions move to PostgreSQL.
package session

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// CookieName is the session cookie.
const CookieName = "cihui_session"

// Data is what a session holds: the credential the pages call the API
// with. It never holds personal data.
type Data struct {
	Token   string
	Expires time.Time
}

// Store is the server-side session store.
type Store struct {
	mu     sync.Mutex
	data   map[string]Data
	ttl    time.Duration
	secure bool
}

// New returns a store whose sessions last ttl; secure marks the cookie
// Secure (HTTPS only).
func New(ttl time.Duration, secure bool) *Store {
	return &Store{data: map[string]Data{}, ttl: ttl, secure: secure}
}

// Start creates a session for token and sets its cookie.
func (s *Store) Start(w http.ResponseWriter, token string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	s.mu.Lock()
	now := time.Now()
	for k, d := range s.data { // drop expired sessions
		if now.After(d.Expires) {
			delete(s.data, k)
		}
	}
	s.data[id] = Data{Token: token, Expires: now.Add(s.ttl)}
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: id, Path: "/ui/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}

// Get returns the request's session, if any and not expired.
func (s *Store) Get(r *http.Request) (Data, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return Data{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.data[c.Value]
	if !ok || time.Now().After(d.Expires) {
		return Data{}, false
	}
	return d, true
}

// End removes the request's session and clears its cookie.
func (s *Store) End(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil {
		s.mu.Lock()
		delete(s.data, c.Value)
		s.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/ui/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
}
