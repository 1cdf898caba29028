package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// pagePassword is the bench people's password: long enough for the
// policy, in no common list.
const pagePassword = "bench pages 慈輝 long enough"

// pagePerson is a person the pages group signs in as.
type pagePerson struct {
	email  string
	secret string // TOTP secret, admins only
}

var pagePeopleN atomic.Int64

// newPagePerson invites a person holding scope with the bench's password
// and, for an admin, a second factor, as an admin does.
func newPagePerson(ctx context.Context, people *postgres.People, logins *postgres.Logins, scope domain.Scope) (pagePerson, error) {
	admin := events.Actor{Role: domain.RoleAdmin, UserID: "per_bench"}
	n := pagePeopleN.Add(1)
	st, err := people.Invite(ctx, admin, domain.Staff{Name: "Bench person " + strconv.FormatInt(n, 10),
		Email: "bench-" + strconv.FormatInt(n, 10) + "@example.edu.tw", Roles: []domain.Scope{scope}})
	if err != nil {
		return pagePerson{}, err
	}
	if err := logins.SetPassword(ctx, admin, st.ID, pagePassword, nil); err != nil {
		return pagePerson{}, err
	}
	p := pagePerson{email: st.Email}
	if st.IsAdmin() {
		secret, _, err := logins.BeginTOTP(ctx, st.ID)
		if err != nil {
			return pagePerson{}, err
		}
		// Confirmed with a code a minute old, so that the current code is
		// still unused at sign-in.
		then := time.Now().Add(-time.Minute)
		code, err := auth.TOTPCode(secret, then)
		if err != nil {
			return pagePerson{}, err
		}
		if err := logins.ConfirmTOTP(ctx, admin, st.ID, code, then); err != nil {
			return pagePerson{}, err
		}
		p.secret = secret
	}
	return p, nil
}

// plainJar keeps a client's cookies for the bench's plain-HTTP loopback
// server. net/http/cookiejar sends Secure cookies (the session's
// __Host- cookie) over HTTPS only; a browser treats loopback as secure.
type plainJar struct {
	mu sync.Mutex
	m  map[string]*http.Cookie
}

func (j *plainJar) SetCookies(_ *url.URL, cookies []*http.Cookie) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.m == nil {
		j.m = map[string]*http.Cookie{}
	}
	for _, c := range cookies {
		if c.MaxAge < 0 || c.Value == "" {
			delete(j.m, c.Name)
			continue
		}
		j.m[c.Name] = c
	}
}

func (j *plainJar) Cookies(*url.URL) []*http.Cookie {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]*http.Cookie, 0, len(j.m))
	for _, c := range j.m {
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	return out
}
