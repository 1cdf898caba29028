package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The committed builtin_table.go is what the generator makes from the
// published files and the transcriptions (issue 12: 2027 provisional), so
// the table and its per-year status cannot drift from the data.
func TestGeneratedTableIsCurrent(t *testing.T) {
	shared := filepath.Join("..", "..", "..", "..", "..", "..", "shared", "data")
	official := filepath.Join(shared, "tw-office-calendar")
	provisional := filepath.Join(shared, "tw-office-calendar-provisional")
	for _, dir := range []string{official, provisional} {
		if _, err := os.Stat(dir); err != nil {
			t.Skipf("calendar data not available (%v): skipping", err)
		}
	}
	got, err := generate(official, provisional)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "builtin_table.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("builtin_table.go is stale: run go generate ./internal/domain/calendar")
	}
	if !bytes.Contains(got, []byte("case 2027: // 116-transcribed.csv")) || !bytes.Contains(got, []byte("StatusProvisional, true")) {
		t.Error("2027 is not built in as provisional")
	}
	// Without the transcriptions 2027 is not built in.
	only, err := generate(official, "")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(only, []byte("case 2027")) || bytes.Contains(only, []byte("StatusProvisional, true")) {
		t.Error("2027 built in without the provisional directory")
	}
	// A year with a published file takes it, not a transcription.
	tmp := t.TempDir()
	b, err := os.ReadFile(filepath.Join(official, "115.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "115-transcribed.csv"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	both, err := generate(official, tmp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(both, only) {
		t.Error("a transcription replaced the published file of 2026")
	}
}
