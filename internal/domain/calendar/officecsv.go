package calendar

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"
)

// Column names of the office calendar CSV published by 行政院人事行政總處.
const (
	colDate    = "西元日期" // YYYYMMDD
	colWeekday = "星期"   // 一 … 日; checked against the date when present
	colFlag    = "是否放假" // "0" working day, "2" day off
)

// maxCSVSize bounds the input of [ParseOfficeCSV]; a real file is ~6 KB.
const maxCSVSize = 1 << 20

// weekdayNames are the 星期 values in [time.Weekday] order, 3 bytes each.
const weekdayNames = "日一二三四五六"

// A ParseError reports a malformed office calendar CSV.
type ParseError struct {
	Line int // 1-based line of the input; 0 if the problem is the whole file
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "calendar: office CSV: " + e.Msg
	}
	return fmt.Sprintf("calendar: office CSV line %d: %s", e.Line, e.Msg)
}

// ParseOfficeCSV reads one year of the government office calendar
// (data.gov.tw dataset 14718). The input may be UTF-8, with or without a
// byte order mark, or Big5; line ends may be CRLF or LF. Columns are found
// by their header names; only 西元日期 (YYYYMMDD) and 是否放假 (0 = working
// day, 2 = day off) are used, and 星期, if present, must match the date.
// The note column (備註) is ignored. The rows must cover every day of one
// year exactly once, in any order. A malformed input yields a *ParseError.
func ParseOfficeCSV(r io.Reader) (YearTable, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCSVSize+1))
	if err != nil {
		return YearTable{}, fmt.Errorf("calendar: reading office CSV: %w", err)
	}
	if len(b) > maxCSVSize {
		return YearTable{}, &ParseError{Msg: fmt.Sprintf("larger than %d bytes", maxCSVSize)}
	}
	text, err := decodeText(b)
	if err != nil {
		return YearTable{}, err
	}

	cr := csv.NewReader(strings.NewReader(text))
	header, err := cr.Read()
	if err != nil {
		return YearTable{}, csvError(err, "missing header")
	}
	cols := map[string]int{}
	for i, name := range header {
		name = strings.TrimSpace(name)
		if _, dup := cols[name]; dup && name != "" {
			return YearTable{}, &ParseError{Line: 1, Msg: fmt.Sprintf("header repeats column %q", name)}
		}
		cols[name] = i
	}
	iDate, ok1 := cols[colDate]
	iFlag, ok2 := cols[colFlag]
	iWeekday, hasWeekday := cols[colWeekday]
	if !ok1 || !ok2 {
		return YearTable{}, &ParseError{Line: 1, Msg: fmt.Sprintf("header lacks column %s or %s", colDate, colFlag)}
	}

	var (
		year  int
		days  = map[Date]bool{}
		lines = map[Date]int{}
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return YearTable{}, csvError(err, "")
		}
		line, _ := cr.FieldPos(0)
		d, err := parseCompactDate(strings.TrimSpace(rec[iDate]))
		if err != nil {
			return YearTable{}, &ParseError{Line: line, Msg: fmt.Sprintf("%s %q: %v", colDate, rec[iDate], err)}
		}
		if year == 0 {
			year = d.Year()
		} else if d.Year() != year {
			return YearTable{}, &ParseError{Line: line, Msg: fmt.Sprintf("date %s is not in %d, the year of the first row", d, year)}
		}
		if prev, dup := lines[d]; dup {
			return YearTable{}, &ParseError{Line: line, Msg: fmt.Sprintf("date %s repeats line %d", d, prev)}
		}
		if hasWeekday {
			if w := strings.TrimSpace(rec[iWeekday]); w != weekdayNames[3*d.Weekday():3*d.Weekday()+3] {
				return YearTable{}, &ParseError{Line: line, Msg: fmt.Sprintf("%s %q, but %s is a %s", colWeekday, w, d, d.Weekday())}
			}
		}
		switch f := strings.TrimSpace(rec[iFlag]); f {
		case "0":
			days[d] = false
		case "2":
			days[d] = true
		default:
			return YearTable{}, &ParseError{Line: line, Msg: fmt.Sprintf("%s %q is neither 0 nor 2", colFlag, f)}
		}
		lines[d] = line
	}
	if year == 0 {
		return YearTable{}, &ParseError{Msg: "no data rows"}
	}
	if n := daysIn(year); len(days) != n {
		first := NewDate(year, time.January, 1)
		for d := first; ; d = d.AddDays(1) {
			if _, ok := days[d]; !ok {
				return YearTable{}, &ParseError{Msg: fmt.Sprintf("%d of the %d days of %d are missing, the first is %s", n-len(days), n, year, d)}
			}
		}
	}
	return NewYearTable(year, days)
}

// decodeText returns b as a string, decoding Big5 if b is not UTF-8.
func decodeText(b []byte) (string, error) {
	b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	if len(bytes.TrimSpace(b)) == 0 {
		return "", &ParseError{Msg: "empty input"}
	}
	if utf8.Valid(b) {
		return string(b), nil
	}
	s, err := traditionalchinese.Big5.NewDecoder().Bytes(b)
	if err != nil || bytes.ContainsRune(s, utf8.RuneError) {
		return "", &ParseError{Msg: "text is neither UTF-8 nor Big5"}
	}
	return string(s), nil
}

// csvError converts an error of encoding/csv to a *ParseError; eofMsg
// describes a premature end of input.
func csvError(err error, eofMsg string) error {
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		return &ParseError{Msg: eofMsg}
	case errors.As(err, &pe):
		return &ParseError{Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &ParseError{Msg: err.Error()}
}

// parseCompactDate parses a date in the form YYYYMMDD.
func parseCompactDate(s string) (Date, error) {
	if len(s) != 8 {
		return Date{}, errors.New("want YYYYMMDD")
	}
	y, ok1 := atoi(s[0:4])
	m, ok2 := atoi(s[4:6])
	d, ok3 := atoi(s[6:8])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, errors.New("want YYYYMMDD")
	}
	t, ok := validDate(y, m, d)
	if !ok {
		return Date{}, errors.New("no such date")
	}
	return t, nil
}
