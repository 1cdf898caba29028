// Package twid validates Taiwan personal identification numbers: the
// national ID number (國民身分證統一編號, a letter then 1 or 2) and the
// new-format resident certificate number (居留證統一證號, a letter then 8 or
// 9), both ten characters ending in a check digit.
//
// The numbers are personal data: no error of this package contains them.
package twid

import (
	"errors"
	"fmt"
	"strings"
)

// Validation errors; Validate wraps one of them.
var (
	ErrFormat   = errors.New("twid: malformed ID number")
	ErrChecksum = errors.New("twid: ID number check digit mismatch")
)

// letterCodes are the two-digit codes of the first letter, A to Z, 3 bytes
// apart. They are not alphabetical: I, O and W to Z, assigned later, have
// codes 30 to 35.
const letterCodes = "10 11 12 13 14 15 16 17 34 18 19 20 21 22 35 23 24 25 26 27 28 29 32 30 31 33"

// Normalize returns s without surrounding white space and with the ASCII
// letters a to z in upper case, the form that [Validate] expects. Only
// ASCII is folded: Unicode case mapping would turn look-alikes such as
// "ı" (dotless i) or "ſ" (long s) into the letters I and S, and so accept
// a number that was never typed.
func Normalize(s string) string {
	s = strings.TrimSpace(s)
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// Validate reports whether s is a well-formed national ID or new-format
// resident certificate number: an upper-case letter, then 1, 2, 8 or 9,
// then 8 digits the last of which is the check digit. It returns an error
// wrapping [ErrFormat] if s is not of that form (lower case included; see
// [Normalize]) and one wrapping [ErrChecksum] if the check digit is wrong.
func Validate(s string) error {
	if len(s) != 10 {
		return fmt.Errorf("%w: want 10 ASCII characters", ErrFormat)
	}
	if s[0] < 'A' || s[0] > 'Z' {
		return fmt.Errorf("%w: first character is not a letter A-Z", ErrFormat)
	}
	switch s[1] {
	case '1', '2', '8', '9':
	default:
		return fmt.Errorf("%w: second character is not 1, 2, 8 or 9", ErrFormat)
	}
	for i := 2; i < 10; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fmt.Errorf("%w: character %d is not a digit", ErrFormat, i+1)
		}
	}
	if checksum(s)%10 != 0 {
		return ErrChecksum
	}
	return nil
}

// checksum returns the weighted sum of a well-formed number: the letter
// code's digits weigh 1 and 9, the nine digits after the letter 8, 7, …,
// 1, and the check digit 1.
func checksum(s string) int {
	i := int(s[0]-'A') * 3
	sum := int(letterCodes[i]-'0') + 9*int(letterCodes[i+1]-'0')
	for j := 1; j < 9; j++ {
		sum += (9 - j) * int(s[j]-'0')
	}
	return sum + int(s[9]-'0')
}
