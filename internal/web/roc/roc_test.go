package roc

import "testing"

func TestDateIsWrittenInROCYears(t *testing.T) {
	for in, want := range map[string]string{
		"2026-03-05":           "民國 115 年 3 月 5 日",
		"2026-12-31T10:00:00Z": "民國 115 年 12 月 31 日",
		"1912-01-01":           "民國 1 年 1 月 1 日",
		"":                     "—",
		"not-a-date":           "not-a-date",
	} {
		if got := Date(in); got != want {
			t.Errorf("Date(%q) = %q, want %q", in, got, want)
		}
	}
	if got := AcademicYear(114); got != "114 學年度" {
		t.Errorf("AcademicYear(114) = %q", got)
	}
}
