package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"cihui/internal/config"
	"cihui/internal/oidcauth"
	"cihui/internal/postgres"
	"cihui/internal/session"
)

// signInFlags defines the flags of sessions and password sign-in.
func (m *Main) signInFlags(fs *flag.FlagSet) {
	config.StringFlag(fs, &m.SessionIdle, "session-idle", "CIHUI_SESSION_IDLE", "30m", "a sign-in session not used for this long ends")
	config.StringFlag(fs, &m.SessionLifetime, "session-lifetime", "CIHUI_SESSION_LIFETIME", "12h", "a sign-in session ends this long after sign-in, however much it is used")
	config.StringFlag(fs, &m.OIDC.Issuer, "oidc-issuer", "CIHUI_OIDC_ISSUER", "", "OpenID Connect provider (issuer URL); empty: password sign-in")
	config.StringFlag(fs, &m.OIDC.ClientID, "oidc-client-id", "CIHUI_OIDC_CLIENT_ID", "", "OpenID Connect client id")
	config.StringFlag(fs, &m.OIDCSecretFile, "oidc-client-secret-file", "CIHUI_OIDC_CLIENT_SECRET_FILE", "", "file holding the OpenID Connect client secret; CIHUI_OIDC_CLIENT_SECRET takes precedence")
	config.StringFlag(fs, &m.OIDC.RedirectURL, "oidc-redirect-url", "CIHUI_OIDC_REDIRECT_URL", "", "this API's callback as registered with the provider: https://HOST/auth/oidc/callback")
	config.StringFlag(fs, &m.OIDC.Claim, "oidc-claim", "CIHUI_OIDC_CLAIM", "sub", "the ID token claim that names the invited person: sub (or another, matched against the person's oidc_subject) or email (a verified address)")
	config.StringFlag(fs, &m.LockFor, "login-lockout", "CIHUI_LOGIN_LOCKOUT", "15m", "how long a person is locked out after 5 failed password attempts in a row")
}

// oidcClient returns the OpenID Connect client, nil when no provider is
// configured. The secret comes from the environment or a file, never a
// flag (it would show in the process list).
func (m *Main) oidcClient() (*oidcauth.Client, error) {
	if !m.OIDC.Enabled() {
		return nil, nil
	}
	m.OIDC.ClientSecret = os.Getenv("CIHUI_OIDC_CLIENT_SECRET")
	if m.OIDC.ClientSecret == "" && m.OIDCSecretFile != "" {
		b, err := os.ReadFile(m.OIDCSecretFile)
		if err != nil {
			return nil, fmt.Errorf("--oidc-client-secret-file: %w", err)
		}
		m.OIDC.ClientSecret = strings.TrimSpace(string(b))
	}
	return oidcauth.New(m.OIDC)
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
