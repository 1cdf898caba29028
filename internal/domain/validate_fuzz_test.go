package domain_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"cihui/internal/domain"
)

// FuzzTextProblem: text is accepted only when every store can hold it —
// valid UTF-8, no NUL, no control character but newline and tab in free
// text, at most max characters — and a refusal is one of the fixed
// messages, never the value.
func FuzzTextProblem(f *testing.F) {
	for _, s := range []string{"王小明", "", "王\x00明", "\xff", "a\nb\tc", "a\rb", "\u2028", "\ufffe", strings.Repeat("名", 101)} {
		f.Add(s, 100, true)
		f.Add(s, 100, false)
	}
	f.Fuzz(func(t *testing.T, s string, max int, multiline bool) {
		max = max%5000 + 1
		if max < 1 {
			max += 5000
		}
		p := domain.TextProblem(s, max, multiline)
		if p != "" {
			switch p {
			case "must be valid UTF-8 text", "must not contain NUL or control characters",
				"must be a single line without tabs or control characters", "at most " + strconv.Itoa(max) + " characters":
			default:
				t.Fatalf("unexpected message %q", p)
			}
			return
		}
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || utf8.RuneCountInString(s) > max {
			t.Fatalf("accepted %q (max %d)", s, max)
		}
		for _, r := range s {
			if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
				t.Fatalf("accepted a control character in %q (multiline %v)", s, multiline)
			}
		}
	})
}
