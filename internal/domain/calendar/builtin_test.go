package calendar

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// builtinSources maps each built-in year to the file it must agree with.
var builtinSources = map[int]string{
	2017: "106.csv", 2018: "107.csv", 2019: "108.csv", 2020: "109.csv",
	2021: "110.csv", 2022: "111.csv", 2023: "112.csv", 2024: "113.csv",
	2025: "114.csv", // the reissue, not 114-first-edition.csv
	2026: "115.csv",
	// Not the published file: a transcription, built in as provisional
	// (issue 12); see its README.
	2027: provisionalDir + "116-transcribed.csv",
}

// provisionalDir is the directory of the transcribed files, relative to
// that of the published ones.
const provisionalDir = "../tw-office-calendar-provisional/"

// builtinProvisional lists the years built in from a transcription.
var builtinProvisional = map[int]bool{2027: true}

func TestBuiltinYears(t *testing.T) {
	want := []int{2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026, 2027}
	if got := BuiltinYears(); !slices.Equal(got, want) {
		t.Errorf("BuiltinYears() = %v, want %v", got, want)
	}
	for _, y := range []int{2016, 2028, 0} {
		if _, ok := Builtin(y); ok {
			t.Errorf("Builtin(%d) ok", y)
		}
		if _, ok := BuiltinStatus(y); ok {
			t.Errorf("BuiltinStatus(%d) ok", y)
		}
	}
	// Issue 12: 2027 is carried, but only as provisional.
	for _, y := range want {
		st, ok := BuiltinStatus(y)
		wantSt := StatusOfficial
		if builtinProvisional[y] {
			wantSt = StatusProvisional
		}
		if !ok || st != wantSt {
			t.Errorf("BuiltinStatus(%d) = %q, %v; want %q", y, st, ok, wantSt)
		}
	}
}

func TestBuiltinAgreesWithFiles(t *testing.T) {
	for _, year := range BuiltinYears() {
		file := builtinSources[year]
		t.Run(file, func(t *testing.T) {
			if builtinProvisional[year] {
				skipIfMissing(t, file)
			}
			want := parseFile(t, file)
			got, ok := Builtin(year)
			if !ok {
				t.Fatalf("Builtin(%d) not ok", year)
			}
			diffs := 0
			for d := NewDate(year, 1, 1); d.Year() == year; d = d.AddDays(1) {
				g, ok1 := got.DayOff(d)
				w, ok2 := want.DayOff(d)
				if !ok1 || !ok2 || g != w {
					diffs++
					t.Errorf("%s: built-in day off %v, %s says %v", d, g, file, w)
				}
			}
			if diffs == 0 && got != want {
				t.Error("tables agree day by day but differ as values")
			}
		})
	}
}

func TestExceptionsRoundTrip(t *testing.T) {
	yt := parseFile(t, "114.csv")
	off, work := yt.Exceptions()
	if got := join(work); got != "2025-02-08" {
		t.Errorf("2025 weekend working days %s, want 2025-02-08", got)
	}
	if len(off) != 15 || off[0] != NewDate(2025, 1, 1) || off[14] != NewDate(2025, 12, 25) {
		t.Errorf("2025 weekdays off %s", join(off))
	}
	var offMMDD, workMMDD []uint16
	for _, d := range off {
		offMMDD = append(offMMDD, uint16(int(d.Month())*100+d.Day()))
	}
	for _, d := range work {
		workMMDD = append(workMMDD, uint16(int(d.Month())*100+d.Day()))
	}
	back, err := fromExceptions(2025, offMMDD, workMMDD)
	if err != nil || back != yt {
		t.Errorf("fromExceptions(Exceptions()) = %v, tables equal %v", err, back == yt)
	}
}

func TestFromExceptionsRejects(t *testing.T) {
	tests := map[string]struct{ off, work []uint16 }{
		"no such date":      {off: []uint16{230}},
		"weekend as off":    {off: []uint16{103}},       // 2026-01-03 is a Saturday
		"weekday as work":   {work: []uint16{105}},      // 2026-01-05 is a Monday
		"repeated off":      {off: []uint16{101, 101}},  // would cancel out
		"repeated work":     {work: []uint16{103, 103}}, // would cancel out
		"month 13":          {off: []uint16{1301}},
		"day 0":             {off: []uint16{100}},
		"off and then work": {off: []uint16{105}, work: []uint16{105}},
	}
	for name, tt := range tests {
		if _, err := fromExceptions(2026, tt.off, tt.work); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func join(ds []Date) string {
	var s []string
	for _, d := range ds {
		s = append(s, d.String())
	}
	return strings.Join(s, " ")
}

// skipIfMissing skips t if the data file name is not at hand.
func skipIfMissing(t *testing.T, name string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir(t), name)); err != nil {
		t.Skipf("transcribed calendar file not available (../shared/data/tw-office-calendar-provisional): %v", err)
	}
}
