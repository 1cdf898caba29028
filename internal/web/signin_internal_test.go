package web

import "testing"

// The sign-in's return address stays inside the pages: no open redirect.
func TestSignInReturnsOnlyInsideThePages(t *testing.T) {
	for in, want := range map[string]string{
		"/ui/cases/r1":         "/ui/cases/r1",
		"https://evil.example": "/ui/",
		"//evil.example/ui/":   "/ui/",
		"/v1/referrals":        "/ui/",
		"/ui/\\evil":           "/ui/",
		"":                     "/ui/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
