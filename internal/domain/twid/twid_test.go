package twid

import (
	"errors"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		in   string
		want error // nil, ErrFormat or ErrChecksum
	}{
		{"A123456789", nil},
		{"A800000014", nil},
		// Computed independently: national IDs (1, 2) and resident
		// certificates (8, 9), including the letters whose codes are out of
		// alphabetical order.
		{"B298765438", nil},
		{"Z900000008", nil},
		{"I180000007", nil},
		{"O200000015", nil},
		{"W812345671", nil},
		{"X911111117", nil},
		{"Y122222224", nil},
		{"F888888886", nil},
		{"K900000015", nil},

		{"A123456788", ErrChecksum},
		{"A800000015", ErrChecksum},
		{"I180000001", ErrChecksum}, // valid only if I were coded 18 (alphabetical)
		{"Z900000001", ErrChecksum},
		{"B289765438", ErrChecksum}, // B298765438 with two digits swapped
		// The last two digits weigh the same, so swapping them goes
		// unnoticed: a property of the official scheme.
		{"B298765483", nil},

		{"a123456789", ErrFormat},
		{"", ErrFormat},
		{"A12345678", ErrFormat},
		{"A1234567890", ErrFormat},
		{"A323456789", ErrFormat},
		{"A023456789", ErrFormat},
		{"A723456789", ErrFormat},
		{"AA23456789", ErrFormat}, // old-format resident certificate
		{"A12345678X", ErrFormat},
		{"A1234B6789", ErrFormat},
		{"1123456789", ErrFormat},
		{" A123456789", ErrFormat},
		{"Ａ123456789", ErrFormat}, // full-width letter
		{"A12345678９", ErrFormat},
	}
	for _, tt := range tests {
		err := Validate(tt.in)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("Validate(%q) = %v, want %v", tt.in, err, tt.want)
		}
		if errors.Is(err, ErrFormat) && errors.Is(err, ErrChecksum) {
			t.Errorf("Validate(%q) = %v, matches both sentinels", tt.in, err)
		}
		if err != nil && len(tt.in) >= 4 && strings.Contains(err.Error(), tt.in[1:]) {
			t.Errorf("Validate(%q) = %q, reveals the number", tt.in, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a123456789", "A123456789"},
		{"  a800000014\t\n", "A800000014"},
		{"A123456789", "A123456789"},
		{"", ""},
		{"\u3000a123456789\u00a0", "A123456789"}, // full-width and no-break spaces
		// Fuzzing found these: Unicode upper-casing made valid numbers of
		// look-alikes (dotless i, long s); only ASCII is folded now.
		{"\u0131180000007", "\u0131180000007"},
		{"\u017f123456789", "\u017f123456789"},
	}
	for _, tt := range tests {
		got := Normalize(tt.in)
		if got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if tt.want != "" && tt.want[0] < 0x80 {
			if err := Validate(got); err != nil {
				t.Errorf("Validate(Normalize(%q)) = %v", tt.in, err)
			}
		}
	}
}

// TestEveryLetter checks that exactly one check digit is valid for each
// first letter and second digit.
func TestEveryLetter(t *testing.T) {
	for c := 'A'; c <= 'Z'; c++ {
		for _, second := range "1289" {
			valid := 0
			for check := '0'; check <= '9'; check++ {
				if Validate(string(c)+string(second)+"2345678"+string(check)) == nil {
					valid++
				}
			}
			if valid != 1 {
				t.Errorf("%c%c2345678?: %d valid check digits, want 1", c, second, valid)
			}
		}
	}
}
