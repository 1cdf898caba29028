package calendar

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2026-03-05", NewDate(2026, time.March, 5), true},
		{"2024-02-29", NewDate(2024, time.February, 29), true},
		{"0001-01-01", Date{}, true},
		{"9999-12-31", NewDate(9999, time.December, 31), true},
		{"2025-02-29", Date{}, false},
		{"2026-13-01", Date{}, false},
		{"2026-00-10", Date{}, false},
		{"2026-04-31", Date{}, false},
		{"0000-01-01", Date{}, false},
		{"2026-3-5", Date{}, false},
		{"2026/03/05", Date{}, false},
		{"20260305", Date{}, false},
		{" 2026-03-05", Date{}, false},
		{"2026-03-05T00:00:00Z", Date{}, false},
		{"+026-03-05", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		got, err := ParseDate(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDate(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("ParseDate(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestDateFields(t *testing.T) {
	d := NewDate(2026, time.March, 5)
	if d.Year() != 2026 || d.Month() != time.March || d.Day() != 5 || d.Weekday() != time.Thursday {
		t.Errorf("2026-03-05: got %d %v %d %v", d.Year(), d.Month(), d.Day(), d.Weekday())
	}
	if got, want := d.Time(), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC); !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Time() = %v, want %v", got, want)
	}
	if got := NewDate(2025, time.February, 29); got != NewDate(2025, time.March, 1) {
		t.Errorf("NewDate(2025, 2, 29) = %v, want 2025-03-01", got)
	}
	if z := (Date{}); !z.IsZero() || z.String() != "0001-01-01" || z.Weekday() != time.Monday {
		t.Errorf("zero Date = %v (%v), IsZero %v", z, z.Weekday(), z.IsZero())
	}
	m := map[Date]int{NewDate(2026, 3, 5): 1}
	if m[NewDate(2026, 2, 33)] != 1 {
		t.Error("equal dates are different map keys")
	}
}

func TestAddDays(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-03-05", 0, "2026-03-05"},
		{"2026-02-28", 1, "2026-03-01"},
		{"2024-02-28", 1, "2024-02-29"},
		{"2025-12-31", 1, "2026-01-01"},
		{"2026-01-01", -1, "2025-12-31"},
		{"2024-01-01", 366, "2025-01-01"},
		{"2026-03-05", -3650, "2016-03-07"},
	}
	for _, tt := range tests {
		got := mustParse(t, tt.from).AddDays(tt.n)
		if got.String() != tt.want {
			t.Errorf("%s.AddDays(%d) = %v, want %s", tt.from, tt.n, got, tt.want)
		}
	}
	a, b := NewDate(2026, 3, 5), NewDate(2026, 3, 6)
	if !a.Before(b) || a.After(b) || !b.After(a) || b.Before(a) || a.Before(a) || a.After(a) {
		t.Error("Before/After disagree with the order of 2026-03-05 and 2026-03-06")
	}
}

func TestDateOf(t *testing.T) {
	taipei := time.FixedZone("Asia/Taipei", 8*3600)
	tests := []struct {
		t    time.Time
		loc  *time.Location
		want string
	}{
		{time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC), taipei, "2026-03-05"},
		{time.Date(2026, 3, 4, 15, 59, 59, 0, time.UTC), taipei, "2026-03-04"},
		{time.Date(2026, 3, 4, 16, 0, 0, 0, time.UTC), time.UTC, "2026-03-04"},
		{time.Date(2026, 1, 1, 0, 30, 0, 0, taipei), time.UTC, "2025-12-31"},
	}
	for _, tt := range tests {
		if got := DateOf(tt.t, tt.loc); got.String() != tt.want {
			t.Errorf("DateOf(%v, %v) = %v, want %s", tt.t, tt.loc, got, tt.want)
		}
	}
}

func TestROC(t *testing.T) {
	tests := []struct {
		d    Date
		want string
	}{
		{NewDate(2026, 3, 5), "民國115年3月5日"},
		{NewDate(2025, 12, 31), "民國114年12月31日"},
		{NewDate(1912, 1, 1), "民國1年1月1日"},
		{NewDate(1911, 10, 10), "民國前1年10月10日"},
	}
	for _, tt := range tests {
		if got := tt.d.ROC(); got != tt.want {
			t.Errorf("%v.ROC() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		On    Date         `json:"on"`
		Maybe *Date        `json:"maybe,omitempty"`
		ByDay map[Date]int `json:"by_day"`
	}
	d := NewDate(2026, 3, 5)
	in := doc{On: d, Maybe: &d, ByDay: map[Date]int{d: 1}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"on":"2026-03-05","maybe":"2026-03-05","by_day":{"2026-03-05":1}}`
	if string(b) != want {
		t.Errorf("Marshal = %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.On != d || out.Maybe == nil || *out.Maybe != d || out.ByDay[d] != 1 {
		t.Errorf("Unmarshal(%s) = %+v", b, out)
	}
	for _, bad := range []string{`{"on":"2026-02-30"}`, `{"on":"2026-03-05 "}`, `{"on":20260305}`} {
		if err := json.Unmarshal([]byte(bad), &out); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
	if _, err := NewDate(10000, 1, 1).MarshalText(); err == nil {
		t.Error("MarshalText of year 10000 succeeded")
	}
}

func mustParse(t *testing.T, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// R-DOC-1 item 5, R-ENR-1: the same day of an earlier month, or that
// month's last day.
func TestR_DOC_1_MonthsEarlier(t *testing.T) {
	for _, tc := range []struct {
		d    Date
		n    int
		want Date
	}{
		{NewDate(2026, 3, 31), 1, NewDate(2026, 2, 28)},
		{NewDate(2024, 3, 31), 1, NewDate(2024, 2, 29)},
		{NewDate(2026, 4, 30), 2, NewDate(2026, 2, 28)},
		{NewDate(2026, 1, 31), 2, NewDate(2025, 11, 30)},
		{NewDate(2026, 3, 2), 1, NewDate(2026, 2, 2)},
		{NewDate(2026, 12, 31), 1, NewDate(2026, 11, 30)},
	} {
		if got := tc.d.MonthsEarlier(tc.n); got != tc.want {
			t.Errorf("%s.MonthsEarlier(%d) = %s, want %s", tc.d, tc.n, got, tc.want)
		}
	}
}

// String is written by hand; it must match the fmt form for every date,
// including years outside 0–9999, which keep the fmt form.
func TestDateStringMatchesFmt(t *testing.T) {
	check := func(d Date) {
		t.Helper()
		y, m, day := d.Time().Date()
		if want := fmt.Sprintf("%04d-%02d-%02d", y, int(m), day); d.String() != want {
			t.Fatalf("String() = %q, want %q", d.String(), want)
		}
	}
	for d := NewDate(1999, 12, 1); d.Before(NewDate(2031, 1, 31)); d = d.AddDays(1) {
		check(d)
	}
	for _, d := range []Date{{}, NewDate(9, 9, 9), NewDate(999, 1, 1), NewDate(9999, 12, 31), NewDate(10000, 1, 1), NewDate(-1, 6, 1), NewDate(0, 1, 1)} {
		check(d)
	}
}
