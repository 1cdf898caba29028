package main

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"cihui/internal/auth"
	"cihui/internal/domain"
	"cihui/internal/events"
	"cihui/internal/postgres"
)

// devPerson is how the person behind a dev token signs in to the pages.
type devPerson struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// TOTPSecret is the admin's second factor (base32), for an
	// authenticator app or `oathtool --totp -b SECRET`.
	TOTPSecret string `json:"totp_secret,omitempty"`
	TOTPURL    string `json:"totp_url,omitempty"`
}

var devAdmin = events.Actor{Role: domain.RoleAdmin, UserID: "per_dev"}

// devPeople gives the person behind each dev token an address, a random
// password and, for the admin, a second factor, and writes them to
// <data-dir>/dev-people.json, so that a newcomer can sign in to /ui/
// as each role. Kept across restarts while the file matches the tokens.
func (m *Main) devPeople(ctx context.Context, tokens *postgres.Tokens, people *postgres.People, logins *postgres.Logins) error {
	b, err := os.ReadFile(filepath.Join(m.DataDir, "dev-tokens.json"))
	if err != nil {
		return err
	}
	var toks map[string]string
	if err := json.Unmarshal(b, &toks); err != nil {
		return err
	}
	path := filepath.Join(m.DataDir, "dev-people.json")
	var kept map[string]devPerson
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &kept)
	}
	out := map[string]devPerson{}
	changed := false
	for role, tok := range toks {
		a, err := tokens.Authenticate(ctx, tok)
		if err != nil {
			return err
		}
		st, err := people.Get(ctx, a.UserID)
		if err != nil {
			return err
		}
		email := "dev-" + role + "@example.edu.tw"
		if p, ok := kept[role]; ok && st.Email == email && p.Email == email {
			out[role] = p
			continue
		}
		changed = true
		if st.Email != email {
			if _, err := people.Change(ctx, devAdmin, st.ID, postgres.PersonPatch{Email: &email}); err != nil {
				return err
			}
		}
		p := devPerson{Email: email, Password: randomPassword()}
		if err := logins.SetPassword(ctx, devAdmin, st.ID, p.Password, nil); err != nil {
			return err
		}
		if st.IsAdmin() {
			if p.TOTPSecret, p.TOTPURL, err = devTOTP(ctx, logins, st.ID); err != nil {
				return err
			}
		}
		out[role] = p
	}
	if !changed {
		m.log.Info("dev people", "file", path)
		return nil
	}
	b, _ = json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return err
	}
	m.log.Info("dev people written", "file", path)
	return nil
}

// devTOTP enrols a second factor, confirmed with the code of a minute ago
// so that the current code is still unused for the first sign-in.
func devTOTP(ctx context.Context, logins *postgres.Logins, personID string) (secret, url string, err error) {
	if secret, url, err = logins.BeginTOTP(ctx, personID); err != nil {
		return "", "", err
	}
	then := time.Now().Add(-time.Minute)
	code, err := auth.TOTPCode(secret, then)
	if err != nil {
		return "", "", err
	}
	return secret, url, logins.ConfirmTOTP(ctx, devAdmin, personID, code, then)
}

// randomPassword is 20 random base32 characters.
func randomPassword() string {
	var b [13]byte
	_, _ = rand.Read(b[:])
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])[:20]
}
