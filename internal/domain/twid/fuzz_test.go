package twid

import (
	"errors"
	"strings"
	"testing"
)

// refCodes are the letter codes as the published table lists them,
// written out independently of letterCodes.
var refCodes = map[byte]int{
	'A': 10, 'B': 11, 'C': 12, 'D': 13, 'E': 14, 'F': 15, 'G': 16, 'H': 17, 'I': 34,
	'J': 18, 'K': 19, 'L': 20, 'M': 21, 'N': 22, 'O': 35, 'P': 23, 'Q': 24, 'R': 25,
	'S': 26, 'T': 27, 'U': 28, 'V': 29, 'W': 32, 'X': 30, 'Y': 31, 'Z': 33,
}

// refWellFormed reports whether s has the form of a number: an upper-case
// ASCII letter, 1, 2, 8 or 9, then eight ASCII digits.
func refWellFormed(s string) bool {
	if len(s) != 10 || refCodes[s[0]] == 0 || !strings.ContainsRune("1289", rune(s[1])) {
		return false
	}
	for _, c := range []byte(s[2:]) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// refCheck reports whether the check digit of a well-formed s holds: the
// letter code's tens digit weighs 1, its units 9, the next eight digits 8
// down to 1, the check digit 1, and the sum is a multiple of 10.
func refCheck(s string) bool {
	code := refCodes[s[0]]
	sum := code/10 + code%10*9
	for i, w := 1, 8; i <= 8; i, w = i+1, w-1 {
		sum += int(s[i]-'0') * w
	}
	sum += int(s[9] - '0')
	return sum%10 == 0
}

// FuzzValidate: Validate never panics; it accepts exactly the well-formed
// numbers whose check digit holds (by an independent implementation),
// reports ErrFormat or ErrChecksum (never both) otherwise, and never puts
// the number in its error; of the ten check digits exactly one completes
// a well-formed number; Normalize is idempotent, leaves a valid number as
// it is, and turns into a valid number only what is one up to ASCII case
// and surrounding white space.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{
		"A123456789", "A123456788", "a123456789", " a123456789\n", "\u3000A123456789\u3000",
		"I180000007", "O200000015", "Z900000008", "W812345671", "B298765483",
		"A323456789", "AA23456789", "A12345678", "A1234567890", "Ａ123456789", "A12345678９",
		"\u0131180000007", "\u017f123456789", "\x00A123456789", "A12345678\xff", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Validate(s)
		format, check := errors.Is(err, ErrFormat), errors.Is(err, ErrChecksum)
		switch {
		case format && check:
			t.Fatalf("%q: error matches both sentinels", s)
		case err != nil && !format && !check:
			t.Fatalf("%q: error %v matches neither sentinel", s, err)
		case refWellFormed(s) != !format:
			t.Fatalf("%q: well-formed = %v, but error %v", s, refWellFormed(s), err)
		case !format && refCheck(s) != (err == nil):
			t.Fatalf("%q: check digit holds = %v, but error %v", s, refCheck(s), err)
		}
		// The messages hold no run of six digits, so an input with six
		// digits found in one was copied there.
		if digits := strings.Count(strings.Map(keepDigits, s), "") - 1; err != nil && digits >= 6 && strings.Contains(err.Error(), s) {
			t.Fatalf("the error %q contains the number", err)
		}
		if refWellFormed(s) {
			valid := 0
			b := []byte(s)
			for c := byte('0'); c <= '9'; c++ {
				b[9] = c
				if Validate(string(b)) == nil {
					valid++
				}
			}
			if valid != 1 {
				t.Fatalf("%q: %d check digits complete the number, want 1", s[:9], valid)
			}
		}

		n := Normalize(s)
		if Normalize(n) != n {
			t.Fatalf("Normalize is not idempotent on %q: %q, then %q", s, n, Normalize(n))
		}
		if err == nil && n != s {
			t.Fatalf("Normalize changed the valid %q to %q", s, n)
		}
		if Validate(n) == nil {
			core := strings.TrimSpace(s)
			if len(core) != len(n) || !strings.EqualFold(core, n) {
				t.Fatalf("Normalize made the valid %q of %q, which is not one up to ASCII case and white space", n, s)
			}
		}
	})
}

func keepDigits(r rune) rune {
	if '0' <= r && r <= '9' {
		return r
	}
	return -1
}
