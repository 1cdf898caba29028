// Package auth holds the credentials of people (issue 14): password
// hashing with argon2id and the password policy, and TOTP second factors.
// It imports no storage; internal/signin keeps the state.
package auth

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"cihui/internal/domain"
)

// Password policy.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 128 // characters: bounds the work of hashing
)

// Argon2id parameters (OWASP's second recommended set: 19 MiB, 2 passes,
// one lane). They are written into every hash, so they can be raised
// later without invalidating stored hashes.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

//go:embed common.txt
var commonRaw []byte

// common is the set of passwords any guesser tries first, generated from
// patterns by scripts/gen-common-passwords.py (no leaked or real data).
var common = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(commonRaw))
	for sc.Scan() {
		if w := strings.TrimSpace(sc.Text()); w != "" {
			m[w] = true
		}
	}
	return m
}()

// CheckPassword applies the policy: at least MinPasswordLen characters,
// at most MaxPasswordLen, valid UTF-8 without control characters, and not
// on the list of common passwords (also after lower-casing and dropping
// trailing digits and symbols, so "Password2026!" is refused). The error
// never repeats the password.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw) || strings.IndexFunc(pw, unicode.IsControl) >= 0:
		return domain.Invalid(map[string]string{"password": "must be text without control characters"})
	case n < MinPasswordLen:
		return domain.Invalid(map[string]string{"password": fmt.Sprintf("must be at least %d characters", MinPasswordLen)})
	case n > MaxPasswordLen:
		return domain.Invalid(map[string]string{"password": fmt.Sprintf("must be at most %d characters", MaxPasswordLen)})
	case IsCommon(pw):
		return domain.Invalid(map[string]string{"password": "is too common or too easy to guess; choose another"})
	}
	return nil
}

// IsCommon reports whether pw, or its stem, is on the common list.
func IsCommon(pw string) bool {
	lower := strings.ToLower(pw)
	if common[lower] {
		return true
	}
	stem := strings.TrimRightFunc(lower, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) })
	if common[stem] {
		return true
	}
	// One character repeated, whatever its length.
	first, _ := utf8.DecodeRuneInString(lower)
	return strings.Trim(lower, string(first)) == ""
}

// HashPassword returns the argon2id hash of pw as a PHC string:
// $argon2id$v=19$m=…,t=…,p=…$salt$hash (unpadded base64).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// dummyHash is verified against when there is no person or no password,
// so that a wrong e-mail address takes as long as a wrong password.
var dummyHash, _ = HashPassword("not a password of anyone")

// VerifyPassword reports whether pw matches the PHC hash. An empty hash
// (no password set) never matches, after the same work as one that does.
func VerifyPassword(hash, pw string) bool {
	ok := verify(hash, pw)
	if hash == "" {
		verify(dummyHash, pw)
		return false
	}
	return ok
}

func verify(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 10 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
