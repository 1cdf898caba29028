// Package oidcauth signs people in with the deployment's OpenID Connect
// provider (issue 14): the authorization-code flow with PKCE, state and
// nonce, through github.com/coreos/go-oidc/v3 and golang.org/x/oauth2. It
// is generic: an issuer, a client id and secret, and the claim of the ID
// token that names the invited person (matched against the person's
// oidc_subject, or with claim "email" against a verified e-mail address).
package oidcauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"cihui/internal/domain"
)

// Config configures the provider.
type Config struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this API's callback, …/auth/oidc/callback, as
	// registered with the provider.
	RedirectURL string
	// Claim names the person: "sub" (default) or another claim matched
	// against people's oidc_subject; "email" matches their e-mail address
	// when the provider says it is verified.
	Claim string
}

// Enabled reports whether a provider is configured.
func (c Config) Enabled() bool { return c.Issuer != "" }

// Client runs the flow. The provider's discovery document is fetched on
// first use, so the API starts while the provider is away.
type Client struct {
	cfg Config

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// New returns a client for cfg; cfg.Issuer, ClientID and RedirectURL are
// required.
func New(cfg Config) (*Client, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("oidc: issuer, client id and redirect URL are required")
	}
	if cfg.Claim == "" {
		cfg.Claim = "sub"
	}
	return &Client{cfg: cfg}, nil
}

// Claim returns the configured claim.
func (c *Client) Claim() string { return c.cfg.Claim }

func (c *Client) setup(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.oauth != nil {
		return c.oauth, c.verifier, nil
	}
	p, err := oidc.NewProvider(ctx, c.cfg.Issuer)
	if err != nil {
		return nil, nil, domain.Errorf(domain.EUnavailable, "the sign-in provider cannot be reached; retry shortly")
	}
	scopes := []string{oidc.ScopeOpenID}
	if c.cfg.Claim == "email" {
		scopes = append(scopes, "email")
	}
	c.oauth = &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret, RedirectURL: c.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: scopes}
	c.verifier = p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID})
	return c.oauth, c.verifier, nil
}

// Flow is what the browser carries between the redirect to the provider
// and the callback (in a short-lived cookie): random values only.
type Flow struct {
	State    string
	Nonce    string
	Verifier string
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Begin returns the provider's authorization URL and the flow to keep.
func (c *Client) Begin(ctx context.Context) (string, Flow, error) {
	oc, _, err := c.setup(ctx)
	if err != nil {
		return "", Flow{}, err
	}
	f := Flow{State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier()}
	return oc.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), f, nil
}

// errRefused is the answer to a callback that fails: the message says
// nothing of the token or its claims.
var errRefused = domain.Errorf(domain.EUnauthorized, "the sign-in with the provider did not succeed; try again")

// Finish exchanges the code of a callback and verifies the ID token
// (signature, issuer, audience, expiry, nonce); it returns the value of
// the configured claim.
func (c *Client) Finish(ctx context.Context, f Flow, state, code string) (string, error) {
	if f.State == "" || state != f.State || code == "" {
		return "", errRefused
	}
	oc, verifier, err := c.setup(ctx)
	if err != nil {
		return "", err
	}
	tok, err := oc.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return "", errRefused
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return "", errRefused
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil || idt.Nonce != f.Nonce {
		return "", errRefused
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", errRefused
	}
	v, _ := claims[c.cfg.Claim].(string)
	if v == "" {
		return "", errRefused
	}
	if c.cfg.Claim == "email" {
		if verified, ok := claims["email_verified"].(bool); !ok || !verified {
			return "", errRefused
		}
	}
	return v, nil
}

// String describes the configuration without the secret.
func (c *Client) String() string {
	return fmt.Sprintf("oidc issuer %s client %s claim %s", c.cfg.Issuer, c.cfg.ClientID, c.cfg.Claim)
}
