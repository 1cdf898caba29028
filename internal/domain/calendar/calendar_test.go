package calendar

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestDefaultYears(t *testing.T) {
	want := []int{2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027}
	if got := Default().Years(); !slices.Equal(got, want) {
		t.Errorf("Default().Years() = %v, want %v", got, want)
	}
	var zero Calendar
	if got := zero.Years(); len(got) != 0 {
		t.Errorf("zero Calendar years %v", got)
	}
	if _, err := zero.IsWorkday(NewDate(2026, 3, 5)); !errors.Is(err, ErrYearUnknown) {
		t.Errorf("zero Calendar IsWorkday error %v, want ErrYearUnknown", err)
	}
}

func TestIsWorkday(t *testing.T) {
	tests := []struct {
		date string
		want bool
	}{
		{"2026-03-05", true},
		{"2026-03-07", false}, // Saturday
		{"2026-02-16", false}, // 農曆除夕
		{"2026-02-20", false}, // 補假
		{"2025-02-08", true},  // Saturday, 補行上班
		{"2023-01-07", true},  // Saturday, 補行上班
		{"2017-02-18", true},  // Saturday, 調整上班
		{"2026-05-01", false}, // 勞動節, a day off for offices from 2026
		{"2025-05-01", true},
		{"2025-09-29", false}, // 補假, only in the 2025 reissue
		{"2025-12-25", false}, // 行憲紀念日, only in the 2025 reissue
		{"2020-02-29", false},
		{"2024-02-29", true},
	}
	c := Default()
	for _, tt := range tests {
		got, err := c.IsWorkday(mustParse(t, tt.date))
		if err != nil || got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, %v; want %v", tt.date, got, err, tt.want)
		}
	}
}

func TestAddWorkdays(t *testing.T) {
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-02-11", 10, "2026-03-05"}, // 行政程序法 §48 example
		{"2026-02-11", 11, "2026-03-06"},
		{"2026-02-11", 9, "2026-03-04"},
		{"2026-02-11", 1, "2026-02-12"},
		{"2026-02-11", 0, "2026-02-11"},
		{"2026-02-13", 1, "2026-02-23"},  // across the Lunar New Year
		{"2026-02-15", 1, "2026-02-23"},  // from a day off
		{"2025-02-07", 1, "2025-02-08"},  // a make-up working Saturday
		{"2025-12-24", 10, "2026-01-09"}, // across the year end
		{"2025-12-31", 1, "2026-01-02"},
		{"2026-12-30", 1, "2026-12-31"},
		{"2024-12-31", 247, "2025-12-31"},
		{"2025-12-31", 245, "2026-12-31"},
		{"2017-01-01", 249, "2017-12-29"},
	}
	c := Default()
	for _, tt := range tests {
		got, err := c.AddWorkdays(mustParse(t, tt.from), tt.n)
		if err != nil || got.String() != tt.want {
			t.Errorf("AddWorkdays(%s, %d) = %v, %v; want %s", tt.from, tt.n, got, err, tt.want)
		}
	}
	if _, err := c.AddWorkdays(NewDate(2026, 3, 5), -1); err == nil || errors.Is(err, ErrYearUnknown) {
		t.Errorf("AddWorkdays(-1) error %v, want a non-year error", err)
	}
}

func TestWorkdaysBetween(t *testing.T) {
	tests := []struct {
		from, to string
		want     int
	}{
		{"2026-02-11", "2026-03-05", 10},
		{"2026-02-11", "2026-03-06", 11},
		{"2026-02-11", "2026-02-11", 0},
		{"2026-02-11", "2026-02-12", 1},
		{"2026-02-14", "2026-02-22", 0},
		{"2026-03-02", "2026-03-05", 3},  // 3 working days left
		{"2026-03-09", "2026-03-05", -2}, // overdue by 2 working days
		{"2026-03-06", "2026-03-05", -1},
		{"2025-12-31", "2026-12-31", 245},
		{"2024-12-31", "2025-12-31", 247},
		{"2025-12-24", "2026-01-09", 10},
	}
	c := Default()
	for _, tt := range tests {
		got, err := c.WorkdaysBetween(mustParse(t, tt.from), mustParse(t, tt.to))
		if err != nil || got != tt.want {
			t.Errorf("WorkdaysBetween(%s, %s) = %d, %v; want %d", tt.from, tt.to, got, err, tt.want)
		}
	}
}

// TestAddWorkdaysInverse checks WorkdaysBetween(from, AddWorkdays(from, n))
// = n, and antisymmetry, over a span with holidays and a year end.
func TestAddWorkdaysInverse(t *testing.T) {
	c := Default().WithClosure(NewDate(2026, 1, 14))
	for from := NewDate(2025, 12, 1); from.Before(NewDate(2026, 3, 1)); from = from.AddDays(1) {
		for n := 0; n <= 25; n++ {
			to, err := c.AddWorkdays(from, n)
			if err != nil {
				t.Fatal(err)
			}
			if w, _ := c.IsWorkday(to); n > 0 && !w {
				t.Errorf("AddWorkdays(%s, %d) = %s, a day off", from, n, to)
			}
			fwd, err1 := c.WorkdaysBetween(from, to)
			back, err2 := c.WorkdaysBetween(to, from)
			if err1 != nil || err2 != nil || fwd != n || back != -n {
				t.Errorf("from %s, n %d, to %s: WorkdaysBetween %d and %d (%v, %v)", from, n, to, fwd, back, err1, err2)
			}
		}
	}
}

func TestWithClosure(t *testing.T) {
	from := NewDate(2026, 2, 11)
	base := Default()
	before, _ := base.AddWorkdays(from, 10) // 2026-03-05
	tests := []struct {
		closure string
		want    string
	}{
		{"2026-02-12", "2026-03-06"}, // first day of the period
		{"2026-03-03", "2026-03-06"}, // typhoon day inside the period
		{"2026-03-05", "2026-03-06"}, // the last day itself
		{"2026-02-16", "2026-03-05"}, // already a day off
		{"2026-02-11", "2026-03-05"}, // the day of receipt never counts
		{"2026-03-06", "2026-03-05"}, // after the period
	}
	for _, tt := range tests {
		c := base.WithClosure(mustParse(t, tt.closure))
		got, err := c.AddWorkdays(from, 10)
		if err != nil || got.String() != tt.want {
			t.Errorf("closure %s: AddWorkdays = %v, %v; want %s", tt.closure, got, err, tt.want)
		}
		// Moved by exactly one working day of the calendar without the
		// closure, or not at all.
		moved, _ := base.WorkdaysBetween(before, got)
		want := 0
		if tt.want != before.String() {
			want = 1
		}
		if moved != want {
			t.Errorf("closure %s moved the result by %d working days, want %d", tt.closure, moved, want)
		}
		if w, _ := c.IsWorkday(mustParse(t, tt.closure)); w {
			t.Errorf("closure %s is a working day", tt.closure)
		}
	}
	if got, _ := base.AddWorkdays(from, 10); got != before {
		t.Errorf("WithClosure changed the original calendar: %s", got)
	}
	two := base.WithClosure(NewDate(2026, 3, 3), NewDate(2026, 3, 4))
	if got, _ := two.AddWorkdays(from, 10); got != NewDate(2026, 3, 9) {
		t.Errorf("two closures: AddWorkdays = %s, want 2026-03-09", got)
	}
	// A closure survives the re-import of its year.
	re := two.WithYear(mustBuiltin(t, 2026))
	if w, _ := re.IsWorkday(NewDate(2026, 3, 3)); w {
		t.Error("closure lost by WithYear")
	}
}

func TestWithYearReimport(t *testing.T) {
	first := parseFile(t, "114-first-edition.csv")
	reissue := parseFile(t, "114.csv")

	// The reissue adds three days off, all weekdays.
	var changed []Date
	for d := NewDate(2025, 1, 1); d.Year() == 2025; d = d.AddDays(1) {
		a, _ := first.DayOff(d)
		b, _ := reissue.DayOff(d)
		if a != b {
			if a {
				t.Errorf("%s: off in the first edition, working day in the reissue", d)
			}
			changed = append(changed, d)
		}
	}
	if got := join(changed); got != "2025-09-29 2025-10-24 2025-12-25" {
		t.Fatalf("changed days %s", got)
	}

	old := Default().WithYear(first)
	updated := old.WithYear(reissue)
	tests := []struct {
		from         string
		n            int
		was, becomes string
	}{
		{"2025-09-22", 10, "2025-10-07", "2025-10-08"}, // spans 09-29
		{"2025-10-20", 10, "2025-11-03", "2025-11-04"}, // spans 10-24
		{"2025-12-24", 10, "2026-01-08", "2026-01-09"}, // spans 12-25 and the year end
		{"2025-09-26", 1, "2025-09-29", "2025-09-30"},
		{"2025-11-03", 10, "2025-11-17", "2025-11-17"}, // no changed day inside
	}
	for _, tt := range tests {
		from := mustParse(t, tt.from)
		got1, err1 := old.AddWorkdays(from, tt.n)
		got2, err2 := updated.AddWorkdays(from, tt.n)
		if err1 != nil || err2 != nil || got1.String() != tt.was || got2.String() != tt.becomes {
			t.Errorf("AddWorkdays(%s, %d): first edition %v, reissue %v (%v, %v); want %s, %s",
				tt.from, tt.n, got1, got2, err1, err2, tt.was, tt.becomes)
		}
		if got3, _ := Default().AddWorkdays(from, tt.n); got3 != got2 {
			t.Errorf("Default() disagrees with the reissue from %s: %s", tt.from, got3)
		}
	}
	if got := updated.Years(); !slices.Equal(got, Default().Years()) {
		t.Errorf("years after re-import %v", got)
	}

	// In New, a later table of the same year wins.
	if w, _ := New(first, reissue).IsWorkday(changed[0]); w {
		t.Error("New(first, reissue): the first edition won")
	}
	if w, _ := New(reissue, first).IsWorkday(changed[0]); !w {
		t.Error("New(reissue, first): the reissue won")
	}
}

func TestYearUnknown(t *testing.T) {
	c := Default()
	gap := New(mustBuiltin(t, 2024), mustBuiltin(t, 2026))
	d := func(y int, m time.Month, day int) Date { return NewDate(y, m, day) }
	tests := []struct {
		name string
		call func() error
		year int
	}{
		{"IsWorkday before", func() error { _, err := c.IsWorkday(d(2016, 12, 30)); return err }, 2016},
		{"IsWorkday after", func() error { _, err := c.IsWorkday(d(2028, 1, 4)); return err }, 2028},
		{"AddWorkdays from unknown", func() error { _, err := c.AddWorkdays(d(2016, 12, 30), 1); return err }, 2016},
		{"AddWorkdays from unknown, n 0", func() error { _, err := c.AddWorkdays(d(2028, 1, 4), 0); return err }, 2028},
		{"AddWorkdays into unknown", func() error { _, err := c.AddWorkdays(d(2027, 12, 24), 10); return err }, 2028},
		{"AddWorkdays across a gap", func() error { _, err := gap.AddWorkdays(d(2024, 12, 30), 5); return err }, 2025},
		{"WorkdaysBetween into unknown", func() error { _, err := c.WorkdaysBetween(d(2027, 12, 1), d(2028, 1, 5)); return err }, 2028},
		{"WorkdaysBetween backwards", func() error { _, err := c.WorkdaysBetween(d(2028, 1, 5), d(2027, 12, 1)); return err }, 2028},
		{"WorkdaysBetween from unknown", func() error { _, err := c.WorkdaysBetween(d(2016, 12, 31), d(2017, 1, 5)); return err }, 2016},
	}
	for _, tt := range tests {
		err := tt.call()
		var ye *YearUnknownError
		if !errors.Is(err, ErrYearUnknown) || !errors.As(err, &ye) || ye.Year != tt.year {
			t.Errorf("%s: error %v, want ErrYearUnknown for %d", tt.name, err, tt.year)
		}
	}
}

func TestNewPanicsOnZeroTable(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(YearTable{}) did not panic")
		}
	}()
	New(YearTable{})
}

func mustBuiltin(t *testing.T, year int) YearTable {
	t.Helper()
	yt, ok := Builtin(year)
	if !ok {
		t.Fatalf("no built-in %d", year)
	}
	return yt
}
