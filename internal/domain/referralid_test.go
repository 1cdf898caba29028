package domain

import "testing"

// IsReferralID accepts exactly what ReferralIDPattern matches.
func FuzzIsReferralIDMatchesPattern(f *testing.F) {
	for _, s := range []string{"", "r", "rabcdefghijklmnopqrstuvwx", "rabcdefghijklmnopqrstuvw2", "mabcdefghijklmnopqrstuvw2",
		"rabcdefghijklmnopqrstuvw8", "rABCDEFGHIJKLMNOPQRSTUVWX", "rabcdefghijklmnopqrstuvw22", "rabcdefghijklmnopqrstuvw\n", "r班defghijklmnopqrstuvw"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := IsReferralID(s), referralIDRE.MatchString(s); got != want {
			t.Fatalf("IsReferralID(%q) = %v, the pattern says %v", s, got, want)
		}
	})
}
