package main

import (
	"flag"
	"fmt"
	"time"

	"cihui/internal/config"
	"cihui/internal/postgres"
	"cihui/internal/session"
)

// signInFlags defines the flags of sessions and password sign-in.
func (m *Main) signInFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.SessionIdle, "session-idle", "CIHUI_SESSION_IDLE", "30m", "a sign-in session not used for this long ends")
	config.StringFlag(fs, &m.SessionLifetime, "session-lifetime", "CIHUI_SESSION_LIFETIME", "12h", "a sign-in session ends this long after sign-in, however much it is used")
	config.StringFlag(fs, &m.LockFor, "login-lockout", "CIHUI_LOGIN_LOCKOUT", "15m", "how long a person is locked out after 5 failed password attempts in a row")
}

// signIn returns the session store and the credential store.
func (m *Main) signIn() (*session.Store, *postgres.Logins, error) {
	var d [3]time.Duration
	for i, f := range []struct{ name, v string }{{"session-idle", m.SessionIdle}, {"session-lifetime", m.SessionLifetime}, {"login-lockout", m.LockFor}} {
		v, err := time.ParseDuration(f.v)
		if err != nil || v <= 0 {
			return nil, nil, fmt.Errorf("--%s %q: want a positive duration such as 30m", f.name, f.v)
		}
		d[i] = v
	}
	if d[0] > d[1] {
		return nil, nil, fmt.Errorf("--session-idle must not exceed --session-lifetime")
	}
	return session.New(m.db, session.Config{IdleTimeout: d[0], Lifetime: d[1]}),
		postgres.NewLogins(m.db, postgres.LoginPolicy{LockFor: d[2]}), nil
}
