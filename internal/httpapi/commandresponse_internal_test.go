package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"testing/iotest"

	"cihui/internal/app"
)

// appendResult writes the bytes encoding/json's Encoder writes for a
// command's result, and declines ids JSON would escape.
func TestAppendResultMatchesEncodingJSON(t *testing.T) {
	for _, res := range []app.Result{
		{},
		{ID: "r-abc234", Version: 1, Position: 7},
		{ID: "m_2026.1", Version: 18446744073709551615, Position: 123456789, Replayed: true},
		{ID: "a<b", Version: 2},
		{ID: `q"`, Version: 2},
		{ID: "班", Version: 2},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(res); err != nil {
			t.Fatal(err)
		}
		got, ok := appendResult(nil, res)
		if !ok {
			if bytes.ContainsAny([]byte(res.ID), "<\\"+"\"") || len(res.ID) != len([]rune(res.ID)) {
				continue // declined: c.JSON answers
			}
			t.Fatalf("%+v declined", res)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Errorf("%+v: %q, encoding/json %q", res, got, want.Bytes())
		}
	}
}

// readAll reads what io.ReadAll reads, whatever length was declared.
func TestReadAllWhateverDeclared(t *testing.T) {
	for _, size := range []int{0, 1, 11, 511, 512, 513, 5000, 70 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		for _, declared := range []int64{-1, 0, int64(size), int64(size) + 7, int64(size / 2)} {
			got, err := readAll(iotest.OneByteReader(bytes.NewReader(body)), declared)
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("size %d declared %d: %d bytes, %v", size, declared, len(got), err)
			}
		}
	}
	if _, err := readAll(iotest.ErrReader(errors.New("boom")), 4); err == nil {
		t.Fatal("a read error was not reported")
	}
}
