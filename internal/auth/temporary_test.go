package auth

import (
	"regexp"
	"testing"
)

// Issue 15: a temporary password passes the password policy, has the
// expected shape, and two are never the same.
func TestTemporaryPasswordPassesThePolicy(t *testing.T) {
	shape := regexp.MustCompile(`^[a-z2-9]{4}(-[a-z2-9]{4}){4}$`)
	seen := map[string]bool{}
	for range 200 {
		pw := TemporaryPassword()
		if !shape.MatchString(pw) {
			t.Fatalf("shape of %q", pw)
		}
		if err := CheckPassword(pw); err != nil {
			t.Fatalf("%q fails the policy: %v", pw, err)
		}
		if seen[pw] {
			t.Fatalf("%q twice", pw)
		}
		seen[pw] = true
	}
}
