package auth

import (
	"strings"
	"testing"
	"time"
)

// Issue 14: argon2id hashes verify the right password only, carry their
// parameters, and differ for the same password (salted).
func TestPasswordHash_Argon2idVerifiesOnlyTheRightPassword(t *testing.T) {
	h1, err := HashPassword("a long enough passphrase")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("a long enough passphrase")
	if !strings.HasPrefix(h1, "$argon2id$v=19$m=19456,t=2,p=1$") || h1 == h2 {
		t.Fatalf("hashes %q %q", h1, h2)
	}
	if !VerifyPassword(h1, "a long enough passphrase") || VerifyPassword(h1, "a long enough passphrasE") ||
		VerifyPassword("", "") || VerifyPassword("$argon2id$v=19$m=0,t=2,p=1$AA$AA", "x") {
		t.Fatal("verification is wrong")
	}
}

// Issue 14: the policy's minimum length and common list.
func TestCheckPassword_MinimumLengthAndCommonList(t *testing.T) {
	for pw, ok := range map[string]bool{
		"short":                    false,
		"Password2026!":            false,
		"QWERTYUIOP!!":             false,
		"zzzzzzzzzzzzzzzz":         false,
		"1qaz2wsx3edc":             false,
		"a long enough passphrase": true,
		"慈輝班的轉介審查很重要喔":             true,
		"tab\tinside the password": false,
	} {
		if err := CheckPassword(pw); (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
}

// Issue 14: a TOTP code is valid one step either side, never twice, and
// never for another secret.
func TestCheckTOTP_WindowAndReplay(t *testing.T) {
	secret, _, err := NewTOTP("per_0123")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 2, 11, 1, 0, 0, 0, time.UTC)
	code, _ := TOTPCode(secret, now)
	step, ok := CheckTOTP(secret, code, now.Add(25*time.Second), 0)
	if !ok {
		t.Fatal("the current code is refused")
	}
	if _, ok := CheckTOTP(secret, code, now, step); ok {
		t.Fatal("a replayed code is accepted")
	}
	if _, ok := CheckTOTP(secret, code, now.Add(2*time.Minute), 0); ok {
		t.Fatal("a code four steps old is accepted")
	}
	other, _, _ := NewTOTP("per_0123")
	if _, ok := CheckTOTP(other, code, now, 0); ok {
		t.Fatal("a code of another secret is accepted")
	}
}
