package testenv

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/coreos/go-oidc/v3/oidc/oidctest"
)

// OIDCProvider is an in-process OpenID Connect provider for tests: go-oidc's
// oidctest serves discovery and keys; this adds the authorization
// endpoint (which signs in whoever Subject and Email name, at once, as if
// they had entered their password at the provider) and the token
// endpoint (authorization code with PKCE S256, client secret checked).
type OIDCProvider struct {
	URL          string
	ClientID     string
	ClientSecret string

	mu            sync.Mutex
	Subject       string
	Email         string
	EmailVerified bool
	codes         map[string]grant

	key  *rsa.PrivateKey
	disc *oidctest.Server
}

type grant struct {
	nonce, challenge, redirect string
	claims                     map[string]any
}

// NewOIDCProvider starts a provider for the client id and secret.
func NewOIDCProvider(t testing.TB, clientID, secret string) *OIDCProvider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &OIDCProvider{ClientID: clientID, ClientSecret: secret, key: key, codes: map[string]grant{},
		disc: &oidctest.Server{PublicKeys: []oidctest.PublicKey{{PublicKey: key.Public(), KeyID: "k1", Algorithm: oidc.RS256}}}}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	p.disc.SetIssuer(srv.URL)
	return p
}

// SignInAs sets who the provider signs in next.
func (p *OIDCProvider) SignInAs(subject, email string, verified bool) {
	p.mu.Lock()
	p.Subject, p.Email, p.EmailVerified = subject, email, verified
	p.mu.Unlock()
}

func (p *OIDCProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/auth":
		p.authorize(w, r)
	case "/token":
		p.token(w, r)
	default:
		p.disc.ServeHTTP(w, r)
	}
}

func (p *OIDCProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" || q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") == "" {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	code := hex.EncodeToString(b)
	p.mu.Lock()
	claims := map[string]any{"sub": p.Subject}
	if p.Email != "" {
		claims["email"], claims["email_verified"] = p.Email, p.EmailVerified
	}
	p.codes[code] = grant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri"), claims: claims}
	p.mu.Unlock()
	u, _ := url.Parse(q.Get("redirect_uri"))
	v := u.Query()
	v.Set("code", code)
	v.Set("state", q.Get("state"))
	u.RawQuery = v.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func (p *OIDCProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.ClientID || secret != p.ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	p.mu.Lock()
	g, found := p.codes[r.PostForm.Get("code")]
	delete(p.codes, r.PostForm.Get("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
	if !found || g.redirect != r.PostForm.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
		return
	}
	now := time.Now()
	claims := map[string]any{"iss": p.URL, "aud": p.ClientID, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "nonce": g.nonce}
	for k, v := range g.claims {
		claims[k] = v
	}
	raw, _ := json.Marshal(claims)
	idt := oidctest.SignIDToken(p.key, "k1", oidc.RS256, string(raw))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-" + hex.EncodeToString(sum[:8]), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}
