package auth

import (
	"crypto/rand"
	"strings"
)

// temporaryAlphabet leaves out the characters people misread (0/o, 1/l/i).
const temporaryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// TemporaryPassword returns a random password an admin hands to a person
// whose password was reset: five groups of four characters, about 99 bits,
// within the policy (CheckPassword).
func TemporaryPassword() string {
	var b strings.Builder
	buf := make([]byte, 20)
	for i := 0; i < len(buf); {
		var r [32]byte
		if _, err := rand.Read(r[:]); err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		for _, c := range r {
			// Rejection sampling: no bias towards the first letters.
			if int(c) >= 256/len(temporaryAlphabet)*len(temporaryAlphabet) || i == len(buf) {
				continue
			}
			buf[i] = temporaryAlphabet[int(c)%len(temporaryAlphabet)]
			i++
		}
	}
	for i, c := range buf {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(c)
	}
	return b.String()
}
