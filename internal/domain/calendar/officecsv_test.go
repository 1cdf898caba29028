package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"
)

// dataDir returns the directory of the published office calendar files,
// ../shared/data/tw-office-calendar from the module root, or skips t.
func dataDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the working directory, so no ../shared/data/tw-office-calendar")
		}
		dir = parent
	}
	data := filepath.Join(dir, "..", "shared", "data", "tw-office-calendar")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("office calendar files not available: %v", err)
	}
	return data
}

// readFile returns the bytes of a published file.
func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// parseFile parses a published file.
func parseFile(t *testing.T, name string) YearTable {
	t.Helper()
	yt, err := ParseOfficeCSV(bytes.NewReader(readFile(t, name)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return yt
}

func TestParsePublishedFiles(t *testing.T) {
	tests := []struct {
		file     string
		year     int
		workdays int
		big5     bool
	}{
		{"106.csv", 2017, 249, false},
		{"107.csv", 2018, 250, false},
		{"108.csv", 2019, 250, false},
		{"109.csv", 2020, 251, false},
		{"110.csv", 2021, 249, false},
		{"111.csv", 2022, 250, false},
		{"112.csv", 2023, 249, false},
		{"113.csv", 2024, 251, false},
		{"114-first-edition.csv", 2025, 250, false},
		{"114.csv", 2025, 247, true},
		{"115.csv", 2026, 245, false},
	}
	names, err := filepath.Glob(filepath.Join(dataDir(t), "*.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(tests) {
		t.Errorf("%d CSV files in the data directory, the test knows %d", len(names), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b := readFile(t, tt.file)
			if utf8.Valid(b) == tt.big5 {
				t.Errorf("valid UTF-8 = %v, want %v", utf8.Valid(b), !tt.big5)
			}
			yt, err := ParseOfficeCSV(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if yt.Year() != tt.year || yt.Workdays() != tt.workdays {
				t.Errorf("year %d with %d working days, want %d with %d", yt.Year(), yt.Workdays(), tt.year, tt.workdays)
			}
		})
	}
}

// synthCSV returns an office CSV of year in which the weekends are the
// days off, one row per line, the header first; edit may change the lines.
func synthCSV(year int, edit func(lines []string) []string) string {
	lines := []string{"西元日期,星期,是否放假,備註"}
	for d := NewDate(year, 1, 1); d.Year() == year; d = d.AddDays(1) {
		flag := "0"
		if isWeekend(d) {
			flag = "2"
		}
		w := d.Weekday()
		lines = append(lines, fmt.Sprintf("%04d%02d%02d,%s,%s,", year, int(d.Month()), d.Day(), weekdayNames[3*w:3*w+3], flag))
	}
	if edit != nil {
		lines = edit(lines)
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

func TestParseEncodings(t *testing.T) {
	plain := synthCSV(2026, func(l []string) []string {
		l[1] = "20260101,四,2,開國紀念日" // a note in Chinese exercises the decoder
		l[7] = "20260107,三,0,補行上班"
		return l
	})
	want, err := ParseOfficeCSV(strings.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	if off, _ := want.DayOff(NewDate(2026, 1, 1)); !off || want.Workdays() != 260 {
		t.Fatalf("2026-01-01 off = %v, %d working days; want true, 260", off, want.Workdays())
	}
	big5, err := traditionalchinese.Big5.NewEncoder().String(plain)
	if err != nil {
		t.Fatal(err)
	}
	if utf8.ValidString(big5) {
		t.Fatal("the Big5 test input is valid UTF-8")
	}
	inputs := map[string]string{
		"UTF-8 with BOM, CRLF": "\uFEFF" + plain,
		"UTF-8, LF":            strings.ReplaceAll(plain, "\r\n", "\n"),
		"Big5, CRLF":           big5,
		"no final newline":     strings.TrimSuffix(plain, "\r\n"),
		"columns reordered": strings.Join(func() []string {
			var out []string
			for _, l := range strings.Split(strings.TrimSuffix(plain, "\r\n"), "\r\n") {
				f := strings.Split(l, ",")
				out = append(out, strings.Join([]string{f[3], f[2], f[0]}, ","))
			}
			return out
		}(), "\n"),
	}
	for name, in := range inputs {
		got, err := ParseOfficeCSV(strings.NewReader(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if got != want {
			t.Errorf("%s: table differs from the plain UTF-8 one", name)
		}
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int    // want ParseError.Line
		msg  string // want in the message
	}{
		{"empty", "", 0, "empty"},
		{"BOM only", "\uFEFF\r\n", 0, "empty"},
		{"header only", "西元日期,星期,是否放假,備註\r\n", 0, "no data rows"},
		{"garbage bytes", "\x00\xff\xfe\x81\x30garbage\xff", 0, "neither UTF-8 nor Big5"},
		{"binary-looking Big5", "\xa4\x40\xa4\x41,\xa4\x42\r\n", 1, "header lacks"},
		{"wrong header", strings.Replace(synthCSV(2026, nil), "是否放假", "放假", 1), 1, "header lacks"},
		{"English header", strings.Replace(synthCSV(2026, nil), "西元日期", "date", 1), 1, "header lacks"},
		{"repeated column", strings.Replace(synthCSV(2026, nil), "備註", "是否放假", 1), 1, "repeats"},
		{"flag 1", edit(2026, 5, "20260105,一,1,"), 6, "neither 0 nor 2"},
		{"flag empty", edit(2026, 5, "20260105,一,,"), 6, "neither 0 nor 2"},
		{"flag from the note", edit(2026, 5, "20260105,一,放假,"), 6, "neither 0 nor 2"},
		{"bad date", edit(2026, 40, "20260230,一,0,"), 41, "no such date"},
		{"ROC date", edit(2026, 40, "1150209,一,0,"), 41, "YYYYMMDD"},
		{"dashed date", edit(2026, 40, "2026-02-09,一,0,"), 41, "YYYYMMDD"},
		{"wrong weekday", edit(2026, 40, "20260209,二,0,"), 41, "星期"},
		{"two years", edit(2026, 365, "20270101,五,2,"), 366, "not in 2026"},
		{"duplicate day", edit(2026, 3, "20260102,五,0,"), 4, "repeats line 3"},
		{"missing day", synthCSV(2026, func(l []string) []string { return append(l[:60], l[61:]...) }), 0, "1 of the 365 days of 2026 are missing, the first is 2026-03-01"},
		{"missing Dec 31", synthCSV(2024, func(l []string) []string { return l[:366] }), 0, "first is 2024-12-31"},
		{"extra field", edit(2026, 5, "20260105,一,0,,"), 6, "wrong number of fields"},
		{"bare quote", edit(2026, 5, `20260105,一,0,"x"y`), 6, `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOfficeCSV(strings.NewReader(tt.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v, want a *ParseError", err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error %q (line %d), want line %d and %q", err, pe.Line, tt.line, tt.msg)
			}
			if tt.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("line %d:", tt.line)) {
				t.Errorf("error %q does not name line %d", err, tt.line)
			}
		})
	}
}

// edit returns the synthetic CSV of year with data row i (1-based, so on
// line i+1) replaced by row.
func edit(year, i int, row string) string {
	return synthCSV(year, func(l []string) []string { l[i] = row; return l })
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseReadError(t *testing.T) {
	_, err := ParseOfficeCSV(failingReader{})
	var pe *ParseError
	if err == nil || errors.As(err, &pe) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("error %v, want the read error and no *ParseError", err)
	}
}

func TestNewYearTable(t *testing.T) {
	full := func(year int) map[Date]bool {
		m := map[Date]bool{}
		for d := NewDate(year, 1, 1); d.Year() == year; d = d.AddDays(1) {
			m[d] = isWeekend(d)
		}
		return m
	}
	yt, err := NewYearTable(2024, full(2024))
	if err != nil {
		t.Fatal(err)
	}
	if yt != weekendTable(2024) || yt.Workdays() != 262 {
		t.Errorf("2024 weekends table: %d working days, want 262", yt.Workdays())
	}
	if _, ok := yt.DayOff(NewDate(2025, 1, 1)); ok {
		t.Error("DayOff of a date in another year reports ok")
	}

	short := full(2025)
	delete(short, NewDate(2025, 6, 1))
	stray := full(2025)
	delete(stray, NewDate(2025, 6, 1))
	stray[NewDate(2026, 1, 1)] = true
	tests := map[string]struct {
		year int
		days map[Date]bool
	}{
		"missing day":   {2025, short},
		"date of 2026":  {2025, stray},
		"leap day lost": {2024, full(2023)},
		"year 0":        {0, map[Date]bool{}},
		"nil":           {2025, nil},
	}
	for name, tt := range tests {
		if _, err := NewYearTable(tt.year, tt.days); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
