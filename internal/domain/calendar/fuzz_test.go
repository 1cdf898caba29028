package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"
)

// Options of renderCSV, as bits.
const (
	optBOM       = 1 << iota // UTF-8 with a byte order mark
	optBig5                  // Big5 (wins over optBOM)
	optLF                    // LF line ends instead of CRLF
	optNoWeekday             // no 星期 column
	optReorder               // columns in another order
	optReverse               // rows in reverse date order
	optPadding               // white space around the fields
	optNotes                 // Chinese notes on the days off
)

// renderCSV writes t as an office calendar CSV in the published layout,
// varied by opts.
func renderCSV(t YearTable, opts uint8) []byte {
	cols := []string{colDate, colWeekday, colFlag, "備註"}
	if opts&optReorder != 0 {
		cols = []string{"備註", colFlag, colDate, colWeekday}
	}
	if opts&optNoWeekday != 0 {
		cols = cols[:0:0]
		for _, c := range []string{colDate, colWeekday, colFlag, "備註"} {
			if c != colWeekday {
				cols = append(cols, c)
			}
		}
	}
	pad := func(s string) string {
		if opts&optPadding != 0 {
			return " " + s + "\t"
		}
		return s
	}
	lines := []string{strings.Join(cols, ",")}
	first := NewDate(t.Year(), time.January, 1)
	var rows []string
	for i := range daysIn(t.Year()) {
		d := first.AddDays(i)
		off, _ := t.DayOff(d)
		flag, note := "0", ""
		if off {
			flag = "2"
			if opts&optNotes != 0 {
				note = "放假之紀念日及節日"
			}
		}
		w := d.Weekday()
		var f []string
		for _, c := range cols {
			switch c {
			case colDate:
				f = append(f, pad(fmt.Sprintf("%04d%02d%02d", d.Year(), int(d.Month()), d.Day())))
			case colWeekday:
				f = append(f, pad(weekdayNames[3*w:3*w+3]))
			case colFlag:
				f = append(f, pad(flag))
			default:
				f = append(f, note)
			}
		}
		rows = append(rows, strings.Join(f, ","))
	}
	if opts&optReverse != 0 {
		for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
			rows[i], rows[j] = rows[j], rows[i]
		}
	}
	lines = append(lines, rows...)
	eol := "\r\n"
	if opts&optLF != 0 {
		eol = "\n"
	}
	text := strings.Join(lines, eol) + eol
	switch {
	case opts&optBig5 != 0:
		b, err := traditionalchinese.Big5.NewEncoder().String(text)
		if err != nil {
			panic(err) // every character above is in Big5
		}
		return []byte(b)
	case opts&optBOM != 0:
		return []byte("\uFEFF" + text)
	}
	return []byte(text)
}

// checkTable asserts what every table satisfies: it covers exactly the
// days of its year, its exceptions are real dates of that year in order
// without duplicates, weekdays off and weekend working days respectively,
// and they account for its number of working days.
func checkTable(t *testing.T, yt YearTable) {
	t.Helper()
	y := yt.Year()
	if y < 1 || y > 9999 {
		t.Fatalf("table of year %d", y)
	}
	first, n := NewDate(y, time.January, 1), daysIn(y)
	if _, ok := yt.DayOff(first.AddDays(-1)); ok {
		t.Fatalf("%d: the day before its first is in the table", y)
	}
	if _, ok := yt.DayOff(first.AddDays(n)); ok {
		t.Fatalf("%d: the day after its last is in the table", y)
	}
	weekends := 0
	for i := range n {
		d := first.AddDays(i)
		if _, ok := yt.DayOff(d); !ok || d.Year() != y {
			t.Fatalf("%d: day %s missing", y, d)
		}
		if isWeekend(d) {
			weekends++
		}
	}
	off, work := yt.Exceptions()
	for _, list := range []struct {
		dates   []Date
		weekend bool
		dayOff  bool
	}{{off, false, true}, {work, true, false}} {
		for i, d := range list.dates {
			if _, err := ParseDate(d.String()); err != nil || d.Year() != y {
				t.Fatalf("%d: exception %s is not a date of that year", y, d)
			}
			if i > 0 && !list.dates[i-1].Before(d) {
				t.Fatalf("%d: exceptions %s, %s out of order or repeated", y, list.dates[i-1], d)
			}
			if got, _ := yt.DayOff(d); isWeekend(d) != list.weekend || got != list.dayOff {
				t.Fatalf("%d: exception %s (%s) with day off %v", y, d, d.Weekday(), got)
			}
		}
	}
	if want := n - weekends - len(off) + len(work); yt.Workdays() != want {
		t.Fatalf("%d: %d working days, the exceptions say %d", y, yt.Workdays(), want)
	}
}

// parseBytes parses b, asserting that any failure is a *ParseError
// without the input's personal data (there is none in a calendar, but the
// message must stay bounded: it never copies more than one field).
func parseBytes(t *testing.T, b []byte) (YearTable, error) {
	t.Helper()
	yt, err := ParseOfficeCSV(bytes.NewReader(b))
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not a *ParseError", err, err)
		}
		if yt != (YearTable{}) {
			t.Fatal("a failed parse returned a table")
		}
		if pe.Line < 0 || pe.Line > bytes.Count(b, []byte("\n"))+1 {
			t.Fatalf("error on line %d of an input of %d lines", pe.Line, bytes.Count(b, []byte("\n"))+1)
		}
	}
	return yt, err
}

// sameResult asserts that two parses agree: the same table, or the same
// error.
func sameResult(t *testing.T, what string, yt1 YearTable, err1 error, yt2 YearTable, err2 error) {
	t.Helper()
	if yt1 != yt2 || (err1 == nil) != (err2 == nil) || err1 != nil && err1.Error() != err2.Error() {
		t.Fatalf("%s changed the result: (%d, %v) then (%d, %v)", what, yt1.Year(), err1, yt2.Year(), err2)
	}
}

// FuzzParseOfficeCSV: parsing arbitrary bytes never panics and fails only
// with a *ParseError naming a line of the input; what parses is a valid
// table (checkTable) that, written back in the published layout as UTF-8
// with a BOM, as Big5 and in the other variants, parses to the same
// table; a byte order mark, CRLF line ends and Big5 instead of UTF-8 do
// not change the result.
func FuzzParseOfficeCSV(f *testing.F) {
	weekends := synthCSV(2024, nil)
	holidays := synthCSV(2026, func(l []string) []string {
		l[1] = "20260101,四,2,開國紀念日"
		l[3] = "20260103,六,0,補行上班"
		return l
	})
	big5, err := traditionalchinese.Big5.NewEncoder().String(holidays)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		weekends, "\uFEFF" + holidays, big5, strings.ReplaceAll(holidays, "\r\n", "\n"),
		"西元日期,星期,是否放假,備註\r\n20260101,四,2,開國紀念日\r\n",
		"西元日期,是否放假\n20260102,0\n",
		"是否放假,西元日期\n2,20240229\n",
		"西元日期,星期,是否放假,備註\r\n20260230,一,0,\r\n",
		"西元日期,星期,是否放假,備註\r\n\"20260101\",\"四\",\"2\",\"a \"\"quoted\"\" note\"\r\n",
		"西元日期,星期,是否放假\r\n99991231,五,2\r\n",
		"西元日期,星期,是否放假\r\n00010101,一,2\r\n",
		"\uFEFF", "", "\xa6\xe8\xa4\xb8", "\x00\xff,\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		yt, err := parseBytes(t, b)
		if err == nil {
			checkTable(t, yt)
			for _, opts := range []uint8{optBOM, optBig5 | optNotes, optLF | optNoWeekday | optReverse, optReorder | optPadding | optNotes} {
				again, err := parseBytes(t, renderCSV(yt, opts))
				if err != nil || again != yt {
					t.Fatalf("written back with options %08b, the table parses to %d (%v)", opts, again.Year(), err)
				}
			}
		}
		if !utf8.Valid(b) || bytes.HasPrefix(b, []byte("\uFEFF")) {
			return
		}
		yt2, err2 := parseBytes(t, append([]byte("\uFEFF"), b...))
		sameResult(t, "a byte order mark", yt, err, yt2, err2)
		// CRLF for LF: encoding/csv drops the CR of a CRLF everywhere.
		crlf := bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		if !bytes.Contains(b, []byte("\r")) || bytes.Count(b, []byte("\r")) == bytes.Count(b, []byte("\r\n")) {
			yt2, err2 = parseBytes(t, crlf)
			sameResult(t, "CRLF line ends", yt, err, yt2, err2)
		}
		// Big5: a table needs its header, whose Big5 form is not UTF-8,
		// so the decoder recognises it.
		if err == nil {
			if s, encErr := traditionalchinese.Big5.NewEncoder().Bytes(b); encErr == nil {
				yt2, err2 = parseBytes(t, s)
				sameResult(t, "Big5", yt, err, yt2, err2)
			}
		}
	})
}

// FuzzOfficeCSVRoundTrip: every table of any year 1-9999, written in the
// published layout with any combination of encoding, line ends, column
// order, row order, padding and notes, parses back to exactly that table.
func FuzzOfficeCSVRoundTrip(f *testing.F) {
	f.Add(uint16(2026), []byte{0b1100_0001, 0, 0, 0, 0x80}, uint8(0))
	f.Add(uint16(2024), []byte{0xff, 0x00, 0xff}, uint8(optBig5|optNotes))
	f.Add(uint16(2025), []byte{}, uint8(optBOM|optLF|optReverse))
	f.Add(uint16(1), []byte{0x55}, uint8(optNoWeekday|optReorder|optPadding))
	f.Add(uint16(9999), bytes.Repeat([]byte{0xaa}, 46), uint8(0xff))
	f.Add(uint16(1900), []byte{1, 2, 3}, uint8(optBig5|optPadding))
	f.Fuzz(func(t *testing.T, year uint16, bits []byte, opts uint8) {
		y := 1 + int(year)%9999
		days := map[Date]bool{}
		first := NewDate(y, time.January, 1)
		for i := range daysIn(y) {
			d := first.AddDays(i)
			days[d] = isWeekend(d) // past the bits, the weekends are off
			if i/8 < len(bits) {
				days[d] = bits[i/8]&(1<<(i%8)) != 0
			}
		}
		want, err := NewYearTable(y, days)
		if err != nil {
			t.Fatal(err)
		}
		checkTable(t, want)
		b := renderCSV(want, opts)
		got, err := parseBytes(t, b)
		if err != nil {
			t.Fatalf("year %d, options %08b: %v", y, opts, err)
		}
		if got != want {
			t.Fatalf("year %d, options %08b: a different table came back", y, opts)
		}
		if opts&optBig5 != 0 && utf8.Valid(b) {
			t.Fatal("the Big5 rendering is valid UTF-8, so it was not read as Big5")
		}
	})
}
