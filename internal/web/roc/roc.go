// Package roc formats dates the way Taiwan's schools and offices write
// them: the Republic of China (民國) year, and the academic year (學年度).
package roc

import (
	"fmt"
	"time"
)

// Date formats an ISO date (2026-03-05) as 民國 115 年 3 月 5 日; a string
// that is not a date is returned as it is, an empty one as "—".
func Date(iso string) string {
	if iso == "" {
		return "—"
	}
	if len(iso) > 10 {
		iso = iso[:10]
	}
	t, err := time.Parse("2006-01-02", iso)
	if err != nil {
		return iso
	}
	return Time(t)
}

// Time formats the calendar day of t.
func Time(t time.Time) string {
	return fmt.Sprintf("民國 %d 年 %d 月 %d 日", t.Year()-1911, int(t.Month()), t.Day())
}

// AcademicYear formats an academic year given in ROC years (114) as
// 114 學年度.
func AcademicYear(y int) string { return fmt.Sprintf("%d 學年度", y) }
